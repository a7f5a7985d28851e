/* 16550 UART: receive path, FIFOs, interrupt priorities and the IRQ line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/uart16550.h"

enum { RBR = 0, THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

/* IIR values with FIFOs enabled. */
#define IIR_NONE 0xc1
#define IIR_MS 0xc0
#define IIR_THRE 0xc2
#define IIR_RDA 0xc4
#define IIR_RLS 0xc6
#define IIR_TIMEOUT 0xcc

/* The IRQ4 line as an interrupt controller would see it. */
struct line {
	bool level;
	int changes;
};

static void line_set(void *ctx, bool level)
{
	struct line *l = ctx;

	l->level = level;
	l->changes++;
}

struct fixture {
	struct line irq;
	struct uart16550 *u;
};

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ 0 };
	f.u = uart_create(-1);
	if (!f.u)
		return -1;
	uart_set_irq(f.u, line_set, &f.irq);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uart_destroy(f->u);
	return 0;
}

static size_t feed(struct uart16550 *u, const char *s)
{
	return uart_receive(u, (const uint8_t *)s, strlen(s));
}

/* As Linux sets the port up for a 16550A: FIFOs on, trigger 8, OUT2. */
static void linux_setup(struct uart16550 *u, uint8_t ier)
{
	uart_write(u, LCR, 0x03);
	uart_write(u, FCR, 0x81 | 0x06);
	uart_write(u, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	uart_write(u, IER, ier);
}

static void test_connect_reports_current_level(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->irq.changes, 1);
	assert_false(f->irq.level);
	linux_setup(f->u, IER_THRI);
	assert_true(f->irq.level);
	struct line other = { 0 };
	uart_set_irq(f->u, line_set, &other);
	assert_true(other.level);
	assert_int_equal(other.changes, 1);
	/* Disconnected: changes go nowhere. */
	uart_set_irq(f->u, NULL, NULL);
	uart_write(f->u, IER, 0);
	assert_true(other.level);
}

static void test_receive_below_trigger_is_a_timeout(void **state)
{
	struct fixture *f = *state;

	linux_setup(f->u, IER_RDI | IER_RLSI);
	assert_false(f->irq.level);
	assert_int_equal(feed(f->u, "ls\r"), 3);
	assert_true(f->irq.level);
	assert_int_equal(uart_read(f->u, IIR), IIR_TIMEOUT);
	assert_int_equal(uart_read(f->u, LSR), 0x61);
	assert_int_equal(uart_read(f->u, RBR), 'l');
	assert_int_equal(uart_read(f->u, RBR), 's');
	assert_int_equal(uart_read(f->u, RBR), '\r');
	assert_int_equal(uart_read(f->u, LSR), 0x60);
	assert_int_equal(uart_read(f->u, IIR), IIR_NONE);
	assert_false(f->irq.level);
	/* An empty receiver reads the last byte again. */
	assert_int_equal(uart_read(f->u, RBR), '\r');
}

static void test_receive_at_trigger_is_data_available(void **state)
{
	struct fixture *f = *state;

	linux_setup(f->u, IER_RDI);
	assert_int_equal(feed(f->u, "0123456789"), 10);
	assert_int_equal(uart_read(f->u, IIR), IIR_RDA);
	for (int i = 0; i < 3; i++)
		assert_int_equal(uart_read(f->u, RBR), '0' + i);
	/* 7 left, below the trigger of 8. */
	assert_int_equal(uart_read(f->u, IIR), IIR_TIMEOUT);
	assert_true(f->irq.level);
	for (int i = 3; i < 10; i++)
		assert_int_equal(uart_read(f->u, RBR), '0' + i);
	assert_false(f->irq.level);
}

static void test_trigger_levels(void **state)
{
	struct fixture *f = *state;
	static const uint8_t levels[4] = { 1, 4, 8, 14 };
	char bytes[UART_FIFO_SIZE + 1];

	memset(bytes, 'x', sizeof(bytes) - 1);
	bytes[UART_FIFO_SIZE] = '\0';
	uart_write(f->u, MCR, MCR_RTS);
	uart_write(f->u, IER, IER_RDI);
	for (unsigned t = 0; t < 4; t++) {
		uart_write(f->u, FCR, (uint8_t)(t << 6 | 0x03));
		uart_receive(f->u, (const uint8_t *)bytes, levels[t] - 1u);
		if (levels[t] > 1)
			assert_int_equal(uart_read(f->u, IIR), IIR_TIMEOUT);
		uart_receive(f->u, (const uint8_t *)bytes, 1);
		assert_int_equal(uart_read(f->u, IIR), IIR_RDA);
	}
}

static void test_receive_takes_only_what_fits(void **state)
{
	struct fixture *f = *state;

	linux_setup(f->u, IER_RDI | IER_RLSI);
	assert_int_equal(uart_rx_room(f->u), UART_FIFO_SIZE);
	assert_int_equal(feed(f->u, "abcdefghijklmnopqrstuvwxyz"),
			 UART_FIFO_SIZE);
	assert_int_equal(uart_rx_room(f->u), 0);
	assert_int_equal(feed(f->u, "q"), 0);
	/* Nothing was lost: no overrun. */
	assert_int_equal(uart_read(f->u, LSR), 0x61);
	assert_int_equal(uart_read(f->u, RBR), 'a');
	assert_int_equal(uart_rx_room(f->u), 1);
	assert_int_equal(feed(f->u, "qrs"), 1);
	for (int i = 1; i < UART_FIFO_SIZE; i++)
		assert_int_equal(uart_read(f->u, RBR), 'a' + i);
	assert_int_equal(uart_read(f->u, RBR), 'q');
	assert_int_equal(uart_read(f->u, LSR), 0x60);

	/* FIFOs off: one holding register. */
	uart_write(f->u, FCR, 0);
	assert_int_equal(uart_read(f->u, IIR), 0x01);
	assert_int_equal(uart_rx_room(f->u), 1);
	assert_int_equal(feed(f->u, "xy"), 1);
	assert_int_equal(uart_read(f->u, IIR), 0x04);
	assert_int_equal(uart_read(f->u, RBR), 'x');
}

static void test_fifo_reset_and_disable_empty_the_receiver(void **state)
{
	struct fixture *f = *state;

	linux_setup(f->u, IER_RDI);
	feed(f->u, "abc");
	uart_write(f->u, FCR, 0x83); /* enable + clear RX */
	assert_int_equal(uart_read(f->u, LSR), 0x60);
	assert_false(f->irq.level);
	feed(f->u, "abc");
	uart_write(f->u, FCR, 0x00); /* FIFOs off: emptied */
	assert_int_equal(uart_read(f->u, LSR), 0x60);
	feed(f->u, "a");
	/* FCR bits other than enable are ignored while it is clear. */
	uart_write(f->u, FCR, 0x02);
	assert_int_equal(uart_read(f->u, LSR), 0x61);
}

static void test_loopback_overrun_and_priorities(void **state)
{
	struct fixture *f = *state;

	uart_write(f->u, FCR, 0xc1); /* trigger 14 */
	uart_write(f->u, MCR, MCR_LOOP | MCR_OUT2);
	for (int i = 0; i < UART_FIFO_SIZE + 1; i++)
		uart_write(f->u, THR, (uint8_t)('A' + i));
	assert_int_equal(uart_tx_count(f->u), 0);
	uart_write(f->u, IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
	/* Loopback holds the IRQ line low whatever is pending. */
	assert_false(f->irq.level);
	/* Highest first: line status (overrun). Reading LSR clears it. */
	assert_int_equal(uart_read(f->u, IIR), IIR_RLS);
	assert_int_equal(uart_read(f->u, LSR), 0x63);
	assert_int_equal(uart_read(f->u, LSR), 0x61);
	/* Then data: 16 bytes kept, the 17th lost. */
	assert_int_equal(uart_read(f->u, IIR), IIR_RDA);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(uart_read(f->u, RBR), 'A' + i);
	/* Then THR empty, acknowledged by the IIR read that reports it. */
	assert_int_equal(uart_read(f->u, IIR), IIR_THRE);
	/* Then modem status: entering loopback dropped CTS and DSR (DCD
	 * stays up, now from OUT2). */
	assert_int_equal(uart_read(f->u, IIR), IIR_MS);
	assert_int_equal(uart_read(f->u, MSR), 0x83);
	assert_int_equal(uart_read(f->u, IIR), IIR_NONE);
	/* Host input is refused in loopback. */
	assert_int_equal(uart_rx_room(f->u), 0);
	assert_int_equal(feed(f->u, "z"), 0);
}

static void test_overrun_without_fifo_replaces_rbr(void **state)
{
	struct fixture *f = *state;

	uart_write(f->u, MCR, MCR_LOOP);
	uart_write(f->u, THR, '1');
	uart_write(f->u, THR, '2');
	assert_int_equal(uart_read(f->u, LSR), 0x63);
	assert_int_equal(uart_read(f->u, RBR), '2');
	assert_int_equal(uart_read(f->u, LSR), 0x60);
}

static void test_thr_empty_interrupt(void **state)
{
	struct fixture *f = *state;

	linux_setup(f->u, 0);
	assert_false(f->irq.level);
	/* Enabling THRI with THR empty raises it (Linux's start_tx). */
	uart_write(f->u, IER, IER_THRI);
	assert_true(f->irq.level);
	assert_int_equal(uart_read(f->u, IIR), IIR_THRE);
	assert_false(f->irq.level);
	/* Re-writing IER with THRI still set raises nothing new. */
	uart_write(f->u, IER, IER_THRI | IER_RDI);
	assert_false(f->irq.level);
	/* Every byte written empties THR again: the next THRE. */
	uart_write(f->u, THR, 'a');
	assert_true(f->irq.level);
	uart_write(f->u, IER, IER_RDI);
	assert_false(f->irq.level);
}

static void test_out2_gates_the_line(void **state)
{
	struct fixture *f = *state;

	uart_write(f->u, FCR, 0x01);
	uart_write(f->u, IER, IER_RDI);
	uart_write(f->u, MCR, MCR_RTS);
	feed(f->u, "k");
	assert_int_equal(uart_read(f->u, IIR), IIR_RDA); /* trigger 1 */
	assert_false(f->irq.level);
	uart_write(f->u, MCR, MCR_RTS | MCR_OUT2);
	assert_true(f->irq.level);
	uart_write(f->u, MCR, MCR_RTS | MCR_OUT2 | MCR_LOOP);
	assert_false(f->irq.level);
	uart_write(f->u, MCR, MCR_RTS | MCR_OUT2);
	assert_true(f->irq.level);
	uart_write(f->u, IER, 0);
	assert_false(f->irq.level);
	/* The line changed only when its level did. */
	assert_int_equal(f->irq.changes, 5);
}

static void test_modem_status_interrupt(void **state)
{
	struct fixture *f = *state;

	uart_write(f->u, MCR, MCR_LOOP | MCR_OUT1);
	assert_int_equal(uart_read(f->u, MSR), 0x4b); /* RI up: no delta */
	uart_write(f->u, IER, IER_MSI);
	assert_int_equal(uart_read(f->u, IIR), 0x01);
	uart_write(f->u, MCR, MCR_LOOP);
	/* RI fell: trailing-edge delta, a modem-status interrupt. */
	assert_int_equal(uart_read(f->u, IIR), 0x00);
	assert_int_equal(uart_read(f->u, MSR), 0x04);
	assert_int_equal(uart_read(f->u, IIR), 0x01);
	uart_write(f->u, MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(uart_read(f->u, MSR), 0x22);
}

static void test_scratch_and_divisor_survive_traffic(void **state)
{
	struct fixture *f = *state;

	uart_write(f->u, FCR, 0x01);
	uart_write(f->u, LCR, 0x83);
	uart_write(f->u, 0, 0x0c);
	uart_write(f->u, 1, 0x00);
	uart_write(f->u, LCR, 0x03);
	uart_write(f->u, SCR, 0x5a);
	uart_write(f->u, MCR, MCR_RTS);
	assert_int_equal(feed(f->u, "hello"), 5);
	assert_int_equal(uart_read(f->u, RBR), 'h');
	uart_write(f->u, LCR, 0x83);
	/* With DLAB the divisor latch, not the FIFO, is read. */
	assert_int_equal(uart_read(f->u, 0), 0x0c);
	assert_int_equal(uart_read(f->u, 1), 0x00);
	uart_write(f->u, LCR, 0x03);
	assert_int_equal(uart_read(f->u, RBR), 'e');
	assert_int_equal(uart_read(f->u, SCR), 0x5a);
}

static void count_room(void *ctx)
{
	(*(int *)ctx)++;
}

/* The host feeder's wake-up: only when the guest's access made room. */
static void test_rx_room_listener_fires_when_room_grows(void **state)
{
	struct fixture *f = *state;
	char full[UART_FIFO_SIZE + 1];
	int calls = 0;

	memset(full, 'z', UART_FIFO_SIZE);
	full[UART_FIFO_SIZE] = '\0';
	linux_setup(f->u, IER_RDI);
	uart_set_rx_room_listener(f->u, count_room, &calls);
	assert_int_equal(feed(f->u, full), UART_FIFO_SIZE);
	/* Host-side input and register reads that take nothing: silent. */
	assert_int_equal(calls, 0);
	uart_read(f->u, LSR);
	uart_read(f->u, IIR);
	uart_write(f->u, SCR, 1);
	assert_int_equal(calls, 0);
	assert_int_equal(uart_read(f->u, RBR), 'z');
	assert_int_equal(calls, 1);
	assert_int_equal(uart_rx_room(f->u), 1);
	/* Reading an empty FIFO makes no room. */
	uart_write(f->u, FCR, 0x83);
	assert_int_equal(calls, 2);
	uart_read(f->u, RBR);
	assert_int_equal(calls, 2);
	/* Loopback shuts the line out (room 0); leaving it gives room. */
	uart_write(f->u, MCR, MCR_RTS | MCR_LOOP);
	assert_int_equal(uart_rx_room(f->u), 0);
	uart_write(f->u, MCR, MCR_RTS | MCR_OUT2);
	assert_int_equal(calls, 3);
	/* So does raising RTS (below). */
	uart_write(f->u, MCR, MCR_OUT2);
	assert_int_equal(uart_rx_room(f->u), 0);
	uart_write(f->u, MCR, MCR_RTS | MCR_OUT2);
	assert_int_equal(calls, 4);
	uart_set_rx_room_listener(f->u, NULL, NULL);
	feed(f->u, "a");
	uart_read(f->u, RBR);
	assert_int_equal(calls, 4);
}

/* hvgdb's end of the line honours hardware flow control: nothing arrives
 * while RTS is low (Linux raises it when the tty is opened, after the
 * probe and start-up have emptied the FIFO), and held input then flows. */
static void test_input_waits_for_rts(void **state)
{
	struct fixture *f = *state;

	uart_write(f->u, FCR, 0x81);
	uart_write(f->u, MCR, MCR_DTR | MCR_OUT2);
	uart_write(f->u, IER, IER_RDI);
	assert_int_equal(uart_rx_room(f->u), 0);
	assert_int_equal(feed(f->u, "ls\r"), 0);
	assert_int_equal(uart_read(f->u, LSR) & 0x03, 0); /* no data, no overrun */
	assert_false(f->irq.level);
	uart_write(f->u, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_int_equal(uart_rx_room(f->u), UART_FIFO_SIZE);
	assert_int_equal(feed(f->u, "ls\r"), 3);
	assert_true(f->irq.level);
	assert_int_equal(uart_read(f->u, RBR), 'l');
	/* RTS dropped again: what is in the FIFO stays readable. */
	uart_write(f->u, MCR, MCR_DTR | MCR_OUT2);
	assert_int_equal(feed(f->u, "x"), 0);
	assert_int_equal(uart_read(f->u, RBR), 's');
	assert_int_equal(uart_read(f->u, RBR), '\r');
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_connect_reports_current_level),
		T(test_receive_below_trigger_is_a_timeout),
		T(test_receive_at_trigger_is_data_available),
		T(test_trigger_levels),
		T(test_receive_takes_only_what_fits),
		T(test_fifo_reset_and_disable_empty_the_receiver),
		T(test_loopback_overrun_and_priorities),
		T(test_overrun_without_fifo_replaces_rbr),
		T(test_thr_empty_interrupt),
		T(test_out2_gates_the_line),
		T(test_modem_status_interrupt),
		T(test_scratch_and_divisor_survive_traffic),
		T(test_rx_room_listener_fires_when_room_grows),
		T(test_input_waits_for_rts),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
