/*
 * 16550 UART, transmit only. The guest sees an always-ready transmitter
 * (LSR.THRE|TEMT) and an empty receiver (LSR.DR never set); no interrupt is
 * ever raised, so IIR always reads "no interrupt pending".
 *
 * Transmitted bytes are line-buffered so that several vCPUs printing at once
 * produce whole lines rather than interleaved bytes, and so that a guest
 * printing a byte at a time does not cost one write(2) per byte.
 */
#include "devices/uart16550.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

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
#define FCR_FIFO_ENABLE 0x01
#define IIR_NO_INT 0x01
#define IIR_FIFO_ENABLED 0xc0
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOPBACK 0x10
#define MCR_WRITABLE 0x1f
#define IER_WRITABLE 0x0f
/* Modem status without loopback: carrier, data set ready, clear to send. */
#define MSR_LINES_UP 0xb0

#define UART_TX_BUF 256

struct uart16550 {
	pthread_mutex_t lock;
	int out_fd;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
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
	if (pthread_mutex_init(&u->lock, NULL) != 0) {
		free(u);
		return NULL;
	}
	u->out_fd = out_fd;
	/* Divisor latch reset value as firmware leaves it: 115200 baud. */
	u->dll = 1;
	atomic_init(&u->tx_count, 0);
	return u;
}

/* Caller holds u->lock. Output errors drop the data: a closed or broken
 * output must never stop or hang the guest. */
static void flush_locked(struct uart16550 *u)
{
	size_t done = 0;

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
	pthread_mutex_destroy(&u->lock);
	free(u);
}

void uart_flush(struct uart16550 *u)
{
	pthread_mutex_lock(&u->lock);
	flush_locked(u);
	pthread_mutex_unlock(&u->lock);
}

uint64_t uart_tx_count(const struct uart16550 *u)
{
	return atomic_load(&u->tx_count);
}

static void transmit_locked(struct uart16550 *u, uint8_t byte)
{
	/* In loopback mode the byte goes back to the receiver, not the line;
	 * the receiver is not modelled, so it is dropped. */
	if (u->mcr & MCR_LOOPBACK)
		return;
	u->buf[u->len++] = byte;
	atomic_fetch_add(&u->tx_count, 1);
	if (byte == '\n' || u->len == sizeof(u->buf))
		flush_locked(u);
}

/* In loopback the modem inputs follow MCR outputs: DTR->DSR, RTS->CTS,
 * OUT1->RI, OUT2->DCD. Serial drivers probe for the chip this way. */
static uint8_t modem_status(uint8_t mcr)
{
	if (!(mcr & MCR_LOOPBACK))
		return MSR_LINES_UP;
	return (uint8_t)(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) |
			 ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4));
}

uint8_t uart_read(struct uart16550 *u, unsigned offset)
{
	uint8_t val = 0xff;

	pthread_mutex_lock(&u->lock);
	bool dlab = u->lcr & LCR_DLAB;
	switch (offset) {
	case UART_RBR_THR:
		val = dlab ? u->dll : 0;
		break;
	case UART_IER:
		val = dlab ? u->dlm : u->ier;
		break;
	case UART_IIR_FCR:
		val = IIR_NO_INT;
		if (u->fcr & FCR_FIFO_ENABLE)
			val |= IIR_FIFO_ENABLED;
		break;
	case UART_LCR:
		val = u->lcr;
		break;
	case UART_MCR:
		val = u->mcr;
		break;
	case UART_LSR:
		val = LSR_THRE | LSR_TEMT;
		break;
	case UART_MSR:
		val = modem_status(u->mcr);
		break;
	case UART_SCR:
		val = u->scr;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&u->lock);
	return val;
}

void uart_write(struct uart16550 *u, unsigned offset, uint8_t val)
{
	pthread_mutex_lock(&u->lock);
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
			u->ier = val & IER_WRITABLE;
		break;
	case UART_IIR_FCR:
		/* Only the enable bit is remembered; the reset bits act on
		 * FIFOs that are always empty. */
		u->fcr = val & FCR_FIFO_ENABLE;
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & MCR_WRITABLE;
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default: /* LSR and MSR are read-only; out-of-range offsets ignored */
		break;
	}
	pthread_mutex_unlock(&u->lock);
}
