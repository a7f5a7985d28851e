/*
 * The 16550 as Linux's 8250 driver sees it: the chip-type probe of
 * drivers/tty/serial/8250/8250_port.c (autoconfig, autoconfig_16550a,
 * size_fifo) and the THRE test of serial8250_do_startup, replayed here as
 * the register accesses the driver makes (written from the driver's
 * sequence, for Linux 6.1), with the driver's decisions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/uart16550.h"

enum { RX = 0, TX = 0, DLL = 0, DLM = 1, IER = 1, IIR = 2, FCR = 2, EFR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define LCR_CONF_MODE_A 0x80 /* DLAB */
#define LCR_CONF_MODE_B 0xbf /* enhanced-register access on ST/TI parts */
#define FCR_ENABLE_FIFO 0x01
#define FCR_CLEAR_RCVR 0x02
#define FCR_CLEAR_XMIT 0x04
#define FCR7_64BYTE 0x20
#define MCR_LOOP 0x10
#define IER_UUE 0x40
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define LSR_DR 0x01

enum chip { UNKNOWN, NOT_FOUND, C8250, C16450, C16550, C16550A, C16650,
	    C16650V2, C16750, NS16550A, XSCALE, U6_16550A, DUART_OR_FSL64 };

static uint8_t in(struct uart16550 *u, unsigned reg)
{
	return uart_read(u, reg);
}

static void out(struct uart16550 *u, unsigned reg, uint8_t val)
{
	uart_write(u, reg, val);
}

static unsigned dl_read(struct uart16550 *u)
{
	return in(u, DLL) | (unsigned)in(u, DLM) << 8;
}

static void dl_write(struct uart16550 *u, unsigned dl)
{
	out(u, DLL, (uint8_t)dl);
	out(u, DLM, (uint8_t)(dl >> 8));
}

/* size_fifo: bytes sent in loopback that the receiver holds. */
static int fifo_size(struct uart16550 *u)
{
	uint8_t old_lcr = in(u, LCR);

	out(u, LCR, 0);
	uint8_t old_fcr = in(u, FCR); /* reads IIR, as the driver does */
	uint8_t old_mcr = in(u, MCR);
	out(u, FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
	out(u, MCR, MCR_LOOP);
	out(u, LCR, LCR_CONF_MODE_A);
	unsigned old_dl = dl_read(u);
	dl_write(u, 1);
	out(u, LCR, 0x03);
	for (int i = 0; i < 256; i++)
		out(u, TX, (uint8_t)i);
	int count = 0;
	while ((in(u, LSR) & LSR_DR) && count < 256) {
		in(u, RX);
		count++;
	}
	out(u, FCR, old_fcr);
	out(u, MCR, old_mcr);
	out(u, LCR, LCR_CONF_MODE_A);
	dl_write(u, old_dl);
	out(u, LCR, old_lcr);
	return count;
}

static enum chip probe_16550a_variants(struct uart16550 *u)
{
	/* EFR visible with DLAB set: ST16C650V1 (or a Motorola DUART). */
	out(u, LCR, LCR_CONF_MODE_A);
	if (in(u, EFR) == 0) {
		out(u, EFR, 0xa8);
		enum chip c = in(u, EFR) != 0 ? C16650 : DUART_OR_FSL64;
		out(u, EFR, 0);
		return c;
	}
	/* EFR behind LCR=0xbf: ST16C650V2, TI16C752 and the like. */
	out(u, LCR, LCR_CONF_MODE_B);
	if (in(u, EFR) == 0)
		return C16650V2;
	/* National SuperIO: bank 2's EXCR1 mirrors MCR.LOOP. */
	out(u, LCR, 0);
	uint8_t mcr = in(u, MCR);
	out(u, LCR, 0xe0);
	uint8_t excr1 = in(u, 2);
	if (!((excr1 ^ mcr) & MCR_LOOP)) {
		out(u, LCR, 0);
		out(u, MCR, mcr ^ MCR_LOOP);
		out(u, LCR, 0xe0);
		excr1 = in(u, 2);
		out(u, LCR, 0);
		out(u, MCR, mcr);
		if ((excr1 ^ mcr) & MCR_LOOP)
			return NS16550A;
	}
	/* TI16750: IIR bit 5 follows FCR bit 5 only with DLAB set. */
	out(u, LCR, 0);
	out(u, FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
	uint8_t iir1 = in(u, IIR) >> 5;
	out(u, FCR, FCR_ENABLE_FIFO);
	out(u, LCR, LCR_CONF_MODE_A);
	out(u, FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
	uint8_t iir2 = in(u, IIR) >> 5;
	out(u, FCR, FCR_ENABLE_FIFO);
	out(u, LCR, 0);
	if (iir1 == 6 && iir2 == 7)
		return C16750;
	/* XScale: IER bit 6 (UUE) is writable. */
	uint8_t ier = in(u, IER);
	out(u, IER, ier & ~IER_UUE);
	if (!(in(u, IER) & IER_UUE)) {
		out(u, IER, ier | IER_UUE);
		if (in(u, IER) & IER_UUE)
			return XSCALE;
	}
	out(u, IER, ier);
	return fifo_size(u) == 64 ? U6_16550A : C16550A;
}

/* autoconfig(), without UPF_SKIP_TEST (the loopback test runs too). */
static enum chip linux_autoconfig(struct uart16550 *u)
{
	uint8_t ier = in(u, IER);

	out(u, IER, 0);
	uint8_t ier_cleared = in(u, IER) & 0x0f;
	out(u, IER, 0x0f);
	uint8_t ier_set = in(u, IER) & 0x0f;
	out(u, IER, ier);
	if (ier_cleared != 0 || ier_set != 0x0f)
		return NOT_FOUND;

	uint8_t save_mcr = in(u, MCR);
	uint8_t save_lcr = in(u, LCR);
	out(u, MCR, MCR_LOOP | 0x0a); /* RTS, OUT2 */
	uint8_t lines = in(u, MSR) & 0xf0;
	out(u, MCR, save_mcr);
	if (lines != 0x90) /* CTS, DCD */
		return NOT_FOUND;

	out(u, LCR, LCR_CONF_MODE_B);
	out(u, EFR, 0);
	out(u, LCR, 0);
	out(u, FCR, FCR_ENABLE_FIFO);
	enum chip c;
	switch (in(u, IIR) >> 6) {
	case 0: {
		uint8_t scr = in(u, SCR);
		out(u, SCR, 0xa5);
		uint8_t s1 = in(u, SCR);
		out(u, SCR, 0x5a);
		uint8_t s2 = in(u, SCR);
		out(u, SCR, scr);
		c = s1 == 0xa5 && s2 == 0x5a ? C16450 : C8250;
		break;
	}
	case 1:
		c = UNKNOWN;
		break;
	case 2:
		c = C16550;
		break;
	default:
		c = probe_16550a_variants(u);
		break;
	}
	out(u, LCR, save_lcr);
	/* Reset as the driver leaves it. */
	out(u, MCR, save_mcr);
	out(u, FCR, FCR_ENABLE_FIFO);
	out(u, FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
	out(u, FCR, 0);
	in(u, RX);
	out(u, IER, 0);
	return c;
}

static void test_linux_identifies_a_16550a(void **state)
{
	(void)state;
	struct uart16550 *u = uart_create(-1);

	assert_non_null(u);
	assert_int_equal(linux_autoconfig(u), C16550A);
	/* The FIFO-size probe on its own: 16 bytes, not a 64-byte U6. */
	assert_int_equal(fifo_size(u), UART_FIFO_SIZE);
	/* Loopback bytes never reached the output. */
	assert_int_equal(uart_tx_count(u), 0);
	/* The probe leaves the chip as it found it. */
	assert_int_equal(in(u, LCR), 0);
	assert_int_equal(in(u, MCR), 0);
	assert_int_equal(in(u, IER), 0);
	assert_int_equal(in(u, LSR), 0x60);
	/* A second probe (module reload) gives the same answer. */
	assert_int_equal(linux_autoconfig(u), C16550A);
	uart_destroy(u);
}

/*
 * serial8250_do_startup's THRE test: a UART that does not raise THRE again
 * when THRI is re-enabled gets UART_BUG_THRE (and a polling timer).
 */
static void test_linux_thre_test_passes(void **state)
{
	(void)state;
	struct uart16550 *u = uart_create(-1);

	assert_non_null(u);
	out(u, FCR, 0xc7);
	out(u, IER, IER_THRI);
	uint8_t iir1 = in(u, IIR);
	out(u, IER, 0);
	out(u, IER, IER_THRI);
	uint8_t iir2 = in(u, IIR);
	out(u, IER, 0);
	assert_false(iir1 & IIR_NO_INT);
	assert_false(iir2 & IIR_NO_INT);
	assert_int_equal(iir1, 0xc2);
	/* LSR safety check: a present UART never reads 0xff. */
	assert_int_not_equal(in(u, LSR), 0xff);
	uart_destroy(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_identifies_a_16550a),
		cmocka_unit_test(test_linux_thre_test_passes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
