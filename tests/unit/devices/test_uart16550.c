/* 16550 UART: register behaviour and what reaches the output fd. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/uart16550.h"

enum { THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5,
       MSR = 6, SCR = 7 };

struct fixture {
	int rd, wr;
	struct uart16550 *u;
};

static int setup(void **state)
{
	static struct fixture f;
	int fds[2];

	if (pipe(fds) != 0)
		return -1;
	/* Non-blocking reads: "nothing written yet" must not hang a test. */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	f.rd = fds[0];
	f.wr = fds[1];
	f.u = uart_create(f.wr);
	if (!f.u)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uart_destroy(f->u);
	close(f->rd);
	close(f->wr);
	return 0;
}

/* Everything currently readable from the pipe (NUL-terminated). */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static void put_string(struct uart16550 *u, const char *s)
{
	while (*s)
		uart_write(u, THR, (uint8_t)*s++);
}

static void test_line_status_always_ready(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(uart_read(f->u, LSR), 0x60);
	put_string(f->u, "x");
	assert_int_equal(uart_read(f->u, LSR), 0x60);
	/* Nothing received: no data ready, RBR reads 0. */
	assert_int_equal(uart_read(f->u, THR), 0);
}

static void test_iir_reports_fifo_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(uart_read(f->u, IIR), 0x01);
	uart_write(f->u, FCR, 0x07); /* enable + reset both FIFOs */
	assert_int_equal(uart_read(f->u, IIR), 0xc1);
	uart_write(f->u, FCR, 0x00);
	assert_int_equal(uart_read(f->u, IIR), 0x01);
}

static void test_divisor_latch_is_not_transmitted(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	uart_write(f->u, IER, 0x05);
	uart_write(f->u, LCR, 0x83); /* DLAB, 8N1 */
	assert_int_equal(uart_read(f->u, LCR), 0x83);
	uart_write(f->u, THR, 0x0c); /* DLL: 9600 baud */
	uart_write(f->u, IER, 0x00); /* DLM */
	assert_int_equal(uart_read(f->u, THR), 0x0c);
	assert_int_equal(uart_read(f->u, IER), 0x00);
	uart_write(f->u, LCR, 0x03);
	/* IER kept its own value under the latch. */
	assert_int_equal(uart_read(f->u, IER), 0x05);
	uart_flush(f->u);
	assert_int_equal(drain(f->rd, buf, sizeof(buf)), 0);
	assert_int_equal(uart_tx_count(f->u), 0);
}

static void test_scratch_ier_mcr_registers(void **state)
{
	struct fixture *f = *state;

	uart_write(f->u, SCR, 0xa5);
	assert_int_equal(uart_read(f->u, SCR), 0xa5);
	uart_write(f->u, IER, 0xff);
	assert_int_equal(uart_read(f->u, IER), 0x0f);
	uart_write(f->u, MCR, 0xff);
	assert_int_equal(uart_read(f->u, MCR), 0x1f);
	/* LSR/MSR are read-only. */
	uart_write(f->u, LSR, 0x00);
	assert_int_equal(uart_read(f->u, LSR), 0x60);
	/* Outside the 8 ports: all-ones, writes ignored. */
	assert_int_equal(uart_read(f->u, 8), 0xff);
	uart_write(f->u, 8, 'z');
	assert_int_equal(uart_tx_count(f->u), 0);
}

static void test_modem_status_loopback(void **state)
{
	struct fixture *f = *state;
	char buf[16];

	assert_int_equal(uart_read(f->u, MSR), 0xb0);
	uart_write(f->u, MCR, 0x10); /* loopback, all outputs off */
	/* CTS, DSR and DCD dropped: their delta bits, once. */
	assert_int_equal(uart_read(f->u, MSR), 0x0b);
	assert_int_equal(uart_read(f->u, MSR), 0x00);
	uart_write(f->u, MCR, 0x1f); /* DTR RTS OUT1 OUT2 */
	assert_int_equal(uart_read(f->u, MSR), 0xfb);
	uart_write(f->u, MCR, 0x11); /* DTR -> DSR */
	/* CTS and DCD changed, RI fell (trailing edge). */
	assert_int_equal(uart_read(f->u, MSR), 0x2d);
	assert_int_equal(uart_read(f->u, MSR), 0x20);
	/* Loopback bytes never reach the line. */
	put_string(f->u, "lb\n");
	uart_flush(f->u);
	assert_int_equal(drain(f->rd, buf, sizeof(buf)), 0);
}

static void test_output_is_line_buffered(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	put_string(f->u, "hello");
	assert_int_equal(drain(f->rd, buf, sizeof(buf)), 0);
	put_string(f->u, " world\nrest");
	drain(f->rd, buf, sizeof(buf));
	assert_string_equal(buf, "hello world\n");
	uart_flush(f->u);
	drain(f->rd, buf, sizeof(buf));
	assert_string_equal(buf, "rest");
	assert_int_equal(uart_tx_count(f->u), 16);
}

static void count_call(void *ctx)
{
	(*(int *)ctx)++;
}

/* One call per partial line, when its first byte is written: the host's
 * cue to flush a prompt that has no newline. */
static void test_tx_listener_marks_partial_lines(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	int calls = 0;

	uart_set_tx_listener(f->u, count_call, &calls);
	put_string(f->u, "~ # ");
	assert_int_equal(calls, 1);
	uart_flush(f->u);
	drain(f->rd, buf, sizeof(buf));
	assert_string_equal(buf, "~ # ");
	put_string(f->u, "ls\n");
	assert_int_equal(calls, 2);
	/* A whole line goes out at its newline: no partial line left. */
	put_string(f->u, "\n");
	assert_int_equal(calls, 2);
	uart_set_tx_listener(f->u, NULL, NULL);
	put_string(f->u, "x");
	assert_int_equal(calls, 2);
}

struct tapped {
	char text[64];
	size_t len;
	int chunks;
};

static void tap(void *ctx, const uint8_t *bytes, size_t len)
{
	struct tapped *t = ctx;

	memcpy(t->text + t->len, bytes, len);
	t->len += len;
	t->text[t->len] = '\0';
	t->chunks++;
}

/* The tap sees what goes out, in the chunks that go out, even when the
 * output is gone (the console is read, not only written). */
static void test_output_tap_sees_what_leaves(void **state)
{
	struct fixture *f = *state;
	struct tapped t = { .len = 0 };
	char buf[64];

	uart_set_output_tap(f->u, tap, &t);
	put_string(f->u, "one\ntw");
	assert_string_equal(t.text, "one\n");
	uart_flush(f->u);
	assert_string_equal(t.text, "one\ntw");
	assert_int_equal(t.chunks, 2);
	/* Nothing buffered: a flush taps nothing. */
	uart_flush(f->u);
	assert_int_equal(t.chunks, 2);
	drain(f->rd, buf, sizeof(buf));
	assert_string_equal(buf, "one\ntw");
	uart_set_output_tap(f->u, NULL, NULL);
	put_string(f->u, "x\n");
	assert_string_equal(t.text, "one\ntw");
}

static void test_full_buffer_is_written(void **state)
{
	struct fixture *f = *state;
	char buf[1024];

	for (int i = 0; i < 300; i++)
		uart_write(f->u, THR, 'a');
	/* No newline: at least one buffer's worth must have gone out. */
	size_t got = drain(f->rd, buf, sizeof(buf));
	assert_true(got >= 128 && got < 300);
	uart_flush(f->u);
	got += drain(f->rd, buf, sizeof(buf));
	assert_int_equal(got, 300);
	assert_int_equal(uart_tx_count(f->u), 300);
}

static void test_destroy_flushes(void **state)
{
	struct fixture *f = *state;
	char buf[16];

	put_string(f->u, "bye");
	uart_destroy(f->u);
	f->u = uart_create(f->wr); /* teardown destroys this one */
	drain(f->rd, buf, sizeof(buf));
	assert_string_equal(buf, "bye");
}

static void test_broken_output_does_not_stop_guest(void **state)
{
	(void)state;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	struct uart16550 *u = uart_create(fds[1]);
	assert_non_null(u);
	/* SIGPIPE would kill the test; the model must survive EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	put_string(u, "nobody listens\n");
	assert_int_equal(uart_tx_count(u), 15);
	uart_destroy(u);
	close(fds[1]);

	u = uart_create(-1);
	put_string(u, "no fd\n");
	uart_destroy(u);
}

#define WRITERS 4
#define BYTES_EACH 2000

struct writer_arg {
	struct uart16550 *u;
	uint8_t byte;
};

static void *writer(void *p)
{
	const struct writer_arg *a = p;

	for (int i = 0; i < BYTES_EACH; i++)
		uart_write(a->u, THR, a->byte);
	return NULL;
}

/* Several vCPUs transmitting at once: every byte arrives exactly once. */
static void test_concurrent_writers_lose_nothing(void **state)
{
	struct fixture *f = *state;
	pthread_t t[WRITERS];
	struct writer_arg args[WRITERS];
	static char buf[WRITERS * BYTES_EACH + 1];
	int counts[WRITERS] = { 0 };

	for (int i = 0; i < WRITERS; i++) {
		args[i] = (struct writer_arg){ f->u, (uint8_t)('A' + i) };
		assert_int_equal(pthread_create(&t[i], NULL, writer, &args[i]),
				 0);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	uart_flush(f->u);
	size_t got = drain(f->rd, buf, sizeof(buf));
	assert_int_equal(got, WRITERS * BYTES_EACH);
	for (size_t i = 0; i < got; i++) {
		assert_in_range(buf[i], 'A', 'A' + WRITERS - 1);
		counts[buf[i] - 'A']++;
	}
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(counts[i], BYTES_EACH);
	assert_int_equal(uart_tx_count(f->u), WRITERS * BYTES_EACH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_status_always_ready,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_iir_reports_fifo_state,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_divisor_latch_is_not_transmitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_ier_mcr_registers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_modem_status_loopback,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_is_line_buffered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_tx_listener_marks_partial_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_output_tap_sees_what_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_buffer_is_written,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_flushes, setup,
						teardown),
		cmocka_unit_test(test_broken_output_does_not_stop_guest),
		cmocka_unit_test_setup_teardown(
			test_concurrent_writers_lose_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
