/*
 * 16550A UART (register semantics from the PC16550D datasheet).
 *
 * Transmission is instant: a byte written to THR goes straight out (or, in
 * loopback, into the receive FIFO), so THR and the transmitter are always
 * empty (LSR.THRE|TEMT) and the THR-empty interrupt comes back after every
 * write. Transmitted bytes are line-buffered so that several vCPUs printing
 * at once produce whole lines rather than interleaved bytes, and so that a
 * guest printing a byte at a time does not cost one write(2) per byte.
 *
 * Reception: the host feeds bytes with uart_receive(), which takes only
 * what the FIFO has room for. There is no clock in the model: the end of
 * each uart_receive() call counts as the line going idle, so bytes left
 * below the trigger level raise the character-timeout interrupt right away
 * (a chip would after four character times without input or reads).
 *
 * Interrupts (IIR, highest priority first): receiver line status (overrun),
 * received data at the trigger level / character timeout, THR empty, modem
 * status (MSR delta bits).
 */
#include "devices/uart16550.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "sync/checked_mutex.h"

enum uart_reg {
	UART_RBR_THR = 0, /* DLAB=1: DLL */
	UART_IER = 1,     /* DLAB=1: DLM */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define LCR_DLAB 0x80

#define IER_RX_DATA 0x01
#define IER_THR_EMPTY 0x02
#define IER_LINE_STATUS 0x04
#define IER_MODEM_STATUS 0x08
#define IER_WRITABLE 0x0f

/* IIR interrupt identification, bits 3-0. */
#define IIR_NO_INT 0x01
#define IIR_MODEM_STATUS 0x00
#define IIR_THR_EMPTY 0x02
#define IIR_RX_DATA 0x04
#define IIR_LINE_STATUS 0x06
#define IIR_RX_TIMEOUT 0x0c
#define IIR_FIFO_ENABLED 0xc0

#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_TRIGGER_SHIFT 6

#define LSR_DATA_READY 0x01
#define LSR_OVERRUN 0x02
#define LSR_PARITY 0x04
#define LSR_FRAMING 0x08
#define LSR_BREAK 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS (LSR_OVERRUN | LSR_PARITY | LSR_FRAMING | LSR_BREAK)

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOPBACK 0x10
#define MCR_WRITABLE 0x1f

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0f
/* Modem inputs without loopback: carrier, data set ready, clear to send. */
#define MSR_LINES_UP (MSR_DCD | MSR_DSR | MSR_CTS)

#define UART_TX_BUF 256

/* Receive trigger levels selected by FCR bits 7-6. */
static const uint8_t rx_trigger_levels[4] = { 1, 4, 8, 14 };

struct uart16550 {
	struct checked_mutex lock;
	int out_fd;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo_enabled;
	uint8_t rx_trigger;
	uint8_t lsr_errors; /* sticky until LSR is read */
	uint8_t msr_deltas; /* sticky until MSR is read */
	bool thr_empty_pending;
	/* Receive FIFO (one entry used with FIFOs disabled: the RBR). */
	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	uint8_t rbr_last;
	/* Interrupt output. */
	void (*irq_fn)(void *ctx, bool level);
	void *irq_ctx;
	bool irq_level;
	/* Told when the receive FIFO gains room (uart_set_rx_room_listener). */
	void (*rx_room_fn)(void *ctx);
	void *rx_room_ctx;
	/* Transmit line buffer. */
	void (*tx_fn)(void *ctx); /* told when a partial line starts */
	void *tx_ctx;
	void (*tap_fn)(void *ctx, const uint8_t *bytes, size_t len);
	void *tap_ctx;
	size_t len;
	uint8_t buf[UART_TX_BUF];
	/* Atomic so uart_tx_count() can read it through a const pointer. */
	_Atomic uint64_t tx_count;
};

struct uart16550 *uart_create(int out_fd)
{
	struct uart16550 *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	if (checked_mutex_init(&u->lock, LOCK_RANK_UART) != 0) {
		free(u);
		return NULL;
	}
	u->out_fd = out_fd;
	/* Divisor latch reset value as firmware leaves it: 115200 baud. */
	u->dll = 1;
	u->rx_trigger = 1;
	atomic_init(&u->tx_count, 0);
	return u;
}

/* Caller holds u->lock. Output errors drop the data: a closed or broken
 * output must never stop or hang the guest. */
static void flush_locked(struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	size_t done = 0;

	if (u->tap_fn && u->len)
		u->tap_fn(u->tap_ctx, u->buf, u->len);
	while (done < u->len && u->out_fd >= 0) {
		ssize_t n = write(u->out_fd, u->buf + done, u->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	u->len = 0;
}

void uart_destroy(struct uart16550 *u)
{
	if (!u)
		return;
	uart_flush(u);
	checked_mutex_destroy(&u->lock);
	free(u);
}

void uart_flush(struct uart16550 *u)
{
	checked_mutex_lock(&u->lock);
	flush_locked(u);
	checked_mutex_unlock(&u->lock);
}

void uart_set_tx_listener(struct uart16550 *u, void (*fn)(void *ctx),
			  void *ctx)
{
	checked_mutex_lock(&u->lock);
	u->tx_fn = fn;
	u->tx_ctx = ctx;
	checked_mutex_unlock(&u->lock);
}

void uart_set_output_tap(struct uart16550 *u,
			 void (*fn)(void *ctx, const uint8_t *bytes,
				    size_t len),
			 void *ctx)
{
	checked_mutex_lock(&u->lock);
	u->tap_fn = fn;
	u->tap_ctx = ctx;
	checked_mutex_unlock(&u->lock);
}

uint64_t uart_tx_count(const struct uart16550 *u)
{
	return atomic_load(&u->tx_count);
}

/* ---- interrupts --------------------------------------------------------- */

static unsigned rx_capacity(const struct uart16550 *u)
{
	return u->fifo_enabled ? UART_FIFO_SIZE : 1;
}

/* The pending interrupt of highest priority, as IIR bits 3-0. */
static uint8_t interrupt_id_locked(const struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	if ((u->ier & IER_LINE_STATUS) && (u->lsr_errors & LSR_ERRORS))
		return IIR_LINE_STATUS;
	if ((u->ier & IER_RX_DATA) && u->rx_count) {
		if (u->rx_count >= u->rx_trigger)
			return IIR_RX_DATA;
		return IIR_RX_TIMEOUT; /* FIFO mode only: the trigger is 1 */
	}
	if ((u->ier & IER_THR_EMPTY) && u->thr_empty_pending)
		return IIR_THR_EMPTY;
	if ((u->ier & IER_MODEM_STATUS) && u->msr_deltas)
		return IIR_MODEM_STATUS;
	return IIR_NO_INT;
}

/* Every state change ends here: the line follows the chip's interrupt
 * output through the OUT2 gate. */
static void update_irq_locked(struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	bool level = interrupt_id_locked(u) != IIR_NO_INT &&
		     (u->mcr & (MCR_OUT2 | MCR_LOOPBACK)) == MCR_OUT2;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq_fn)
		u->irq_fn(u->irq_ctx, level);
}

void uart_set_irq(struct uart16550 *u, void (*fn)(void *ctx, bool level),
		  void *ctx)
{
	checked_mutex_lock(&u->lock);
	u->irq_fn = fn;
	u->irq_ctx = ctx;
	if (fn)
		fn(ctx, u->irq_level);
	checked_mutex_unlock(&u->lock);
}

/* ---- receive ------------------------------------------------------------ */

static void rx_clear_locked(struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	u->rx_head = 0;
	u->rx_count = 0;
}

/* A byte arrives from the line (or from the transmitter in loopback). A
 * full FIFO is an overrun: the byte is lost, except without FIFOs, where
 * it replaces the unread RBR, as on a 16450. */
static void rx_push_locked(struct uart16550 *u, uint8_t byte)
{
	lock_assert_held(&u->lock);
	unsigned cap = rx_capacity(u);

	if (u->rx_count == cap) {
		u->lsr_errors |= LSR_OVERRUN;
		if (!u->fifo_enabled)
			u->rx[u->rx_head] = byte;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
}

static uint8_t rx_pop_locked(struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	if (u->rx_count == 0)
		return u->rbr_last;
	u->rbr_last = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return u->rbr_last;
}

/* Room for bytes from the line. hvgdb's end of the line honours hardware
 * flow control: nothing is sent while the guest holds RTS low (a driver
 * that has not opened the port yet, and would empty the FIFO when it
 * does). In loopback the receiver hears the transmitter, not the line. */
static size_t rx_room_locked(const struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	if ((u->mcr & (MCR_LOOPBACK | MCR_RTS)) != MCR_RTS)
		return 0;
	return rx_capacity(u) - u->rx_count;
}

size_t uart_receive(struct uart16550 *u, const uint8_t *bytes, size_t len)
{
	size_t taken = 0;

	checked_mutex_lock(&u->lock);
	size_t room = rx_room_locked(u);
	while (taken < len && taken < room)
		rx_push_locked(u, bytes[taken++]);
	update_irq_locked(u);
	checked_mutex_unlock(&u->lock);
	return taken;
}

size_t uart_rx_room(struct uart16550 *u)
{
	checked_mutex_lock(&u->lock);
	size_t room = rx_room_locked(u);
	checked_mutex_unlock(&u->lock);
	return room;
}

void uart_set_rx_room_listener(struct uart16550 *u, void (*fn)(void *ctx),
			       void *ctx)
{
	checked_mutex_lock(&u->lock);
	u->rx_room_fn = fn;
	u->rx_room_ctx = ctx;
	checked_mutex_unlock(&u->lock);
}

/* After a guest access: tell the host feeder if the FIFO gained room. */
static void notify_rx_room_locked(struct uart16550 *u, size_t room_before)
{
	lock_assert_held(&u->lock);
	if (u->rx_room_fn && rx_room_locked(u) > room_before)
		u->rx_room_fn(u->rx_room_ctx);
}

/* ---- transmit and modem lines ------------------------------------------- */

static void transmit_locked(struct uart16550 *u, uint8_t byte)
{
	lock_assert_held(&u->lock);
	/* The THR empties at once; its interrupt is due again. */
	u->thr_empty_pending = true;
	if (u->mcr & MCR_LOOPBACK) {
		rx_push_locked(u, byte);
		return;
	}
	u->buf[u->len++] = byte;
	atomic_fetch_add(&u->tx_count, 1);
	if (byte == '\n' || u->len == sizeof(u->buf))
		flush_locked(u);
	else if (u->len == 1 && u->tx_fn)
		u->tx_fn(u->tx_ctx);
}

/* The modem inputs: in loopback they follow the MCR outputs (DTR->DSR,
 * RTS->CTS, OUT1->RI, OUT2->DCD), which is how drivers probe the chip. */
static uint8_t modem_lines(uint8_t mcr)
{
	if (!(mcr & MCR_LOOPBACK))
		return MSR_LINES_UP;
	return (uint8_t)(((mcr & MCR_DTR) ? MSR_DSR : 0) |
			 ((mcr & MCR_RTS) ? MSR_CTS : 0) |
			 ((mcr & MCR_OUT1) ? MSR_RI : 0) |
			 ((mcr & MCR_OUT2) ? MSR_DCD : 0));
}

/* Delta bits for a change of the modem inputs; RI reports only its
 * trailing edge (TERI). */
static uint8_t modem_deltas(uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after;
	uint8_t d = 0;

	if (changed & MSR_CTS)
		d |= MSR_DCTS;
	if (changed & MSR_DSR)
		d |= MSR_DDSR;
	if ((before & MSR_RI) && !(after & MSR_RI))
		d |= MSR_TERI;
	if (changed & MSR_DCD)
		d |= MSR_DDCD;
	return d;
}

static void write_mcr_locked(struct uart16550 *u, uint8_t val)
{
	lock_assert_held(&u->lock);
	uint8_t before = modem_lines(u->mcr);

	u->mcr = val & MCR_WRITABLE;
	u->msr_deltas |= modem_deltas(before, modem_lines(u->mcr));
}

static void write_ier_locked(struct uart16550 *u, uint8_t val)
{
	lock_assert_held(&u->lock);
	uint8_t old = u->ier;

	u->ier = val & IER_WRITABLE;
	/* Enabling the THR-empty interrupt while THR is empty (always, here)
	 * raises it: Linux starts transmitting this way and tests for it at
	 * start-up (UART_BUG_THRE). */
	if ((u->ier & IER_THR_EMPTY) && !(old & IER_THR_EMPTY))
		u->thr_empty_pending = true;
	else if (!(u->ier & IER_THR_EMPTY))
		u->thr_empty_pending = false;
}

/* FCR bit 0 must be set for the other bits to take effect; changing it
 * empties both FIFOs. */
static void write_fcr_locked(struct uart16550 *u, uint8_t val)
{
	lock_assert_held(&u->lock);
	bool enable = val & FCR_FIFO_ENABLE;

	if (enable != u->fifo_enabled) {
		rx_clear_locked(u);
		u->fifo_enabled = enable;
	}
	if (!enable) {
		u->rx_trigger = 1;
		return;
	}
	if (val & FCR_CLEAR_RX)
		rx_clear_locked(u);
	/* FCR_CLEAR_TX: the transmit FIFO is always empty. */
	u->rx_trigger = rx_trigger_levels[val >> FCR_TRIGGER_SHIFT];
}

/* ---- register access ---------------------------------------------------- */

static uint8_t read_iir_locked(struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	uint8_t id = interrupt_id_locked(u);

	/* Reading IIR acknowledges a THR-empty interrupt it reports. */
	if (id == IIR_THR_EMPTY)
		u->thr_empty_pending = false;
	return (uint8_t)(id | (u->fifo_enabled ? IIR_FIFO_ENABLED : 0));
}

static uint8_t read_lsr_locked(struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	uint8_t val = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_errors |
				(u->rx_count ? LSR_DATA_READY : 0));

	u->lsr_errors = 0;
	return val;
}

static uint8_t read_msr_locked(struct uart16550 *u)
{
	lock_assert_held(&u->lock);
	uint8_t val = (uint8_t)(modem_lines(u->mcr) | u->msr_deltas);

	u->msr_deltas = 0;
	return val;
}

uint8_t uart_read(struct uart16550 *u, unsigned offset)
{
	uint8_t val = 0xff;

	checked_mutex_lock(&u->lock);
	size_t room_before = rx_room_locked(u);
	bool dlab = u->lcr & LCR_DLAB;
	switch (offset) {
	case UART_RBR_THR:
		val = dlab ? u->dll : rx_pop_locked(u);
		break;
	case UART_IER:
		val = dlab ? u->dlm : u->ier;
		break;
	case UART_IIR_FCR:
		val = read_iir_locked(u);
		break;
	case UART_LCR:
		val = u->lcr;
		break;
	case UART_MCR:
		val = u->mcr;
		break;
	case UART_LSR:
		val = read_lsr_locked(u);
		break;
	case UART_MSR:
		val = read_msr_locked(u);
		break;
	case UART_SCR:
		val = u->scr;
		break;
	default:
		break;
	}
	update_irq_locked(u);
	notify_rx_room_locked(u, room_before);
	checked_mutex_unlock(&u->lock);
	return val;
}

void uart_write(struct uart16550 *u, unsigned offset, uint8_t val)
{
	checked_mutex_lock(&u->lock);
	size_t room_before = rx_room_locked(u);
	bool dlab = u->lcr & LCR_DLAB;
	switch (offset) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = val;
		else
			transmit_locked(u, val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier_locked(u, val);
		break;
	case UART_IIR_FCR:
		write_fcr_locked(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		write_mcr_locked(u, val);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default: /* LSR and MSR are read-only; out-of-range offsets ignored */
		break;
	}
	update_irq_locked(u);
	notify_rx_room_locked(u, room_before);
	checked_mutex_unlock(&u->lock);
}
