/* MC146818 RTC/CMOS: time registers, UIP, SET, interrupts, CMOS sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/irq_router.h"
#include "devices/mc146818.h"

#define S 1000000000ULL
#define MS 1000000ULL
/* Thursday 2024-02-29 23:59:58 UTC. */
#define LEAP_DAY_EVENING 1709251198
/* Guest time at creation (need not be 0). */
#define T0 (7 * S)

enum { SEC = 0, SEC_ALARM = 1, MIN = 2, MIN_ALARM = 3, HOUR = 4,
       HOUR_ALARM = 5, DOW = 6, DAY = 7, MONTH = 8, YEAR = 9, A = 0x0a,
       B = 0x0b, C = 0x0c, D = 0x0d, CENTURY = 0x32 };

struct fixture {
	struct irq_router *router;
	struct mc146818 *rtc;
	bool irq8;
	int irq8_rises;
};

static void watch_irq8(void *ctx, unsigned pin, bool level)
{
	struct fixture *f = ctx;

	if (pin != 8)
		return;
	if (level && !f->irq8)
		f->irq8_rises++;
	f->irq8 = level;
}

static int setup(void **state)
{
	static struct fixture f;
	struct mc146818_config cfg = { LEAP_DAY_EVENING, 256ULL << 20, 0 };

	f = (struct fixture){ 0 };
	f.router = irq_router_create();
	struct irq_sink_ops ops = { watch_irq8, &f };
	if (!f.router || irq_router_attach(f.router, IRQ_SINK_ISA, &ops))
		return -1;
	f.rtc = mc146818_create(f.router, &cfg, T0);
	if (!f.rtc)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mc146818_destroy(f->rtc);
	irq_router_destroy(f->router);
	return 0;
}

static uint8_t rd(struct mc146818 *rtc, uint8_t reg, uint64_t now)
{
	mc146818_write(rtc, 0, reg, now);
	return mc146818_read(rtc, 1, now);
}

static void wr(struct mc146818 *rtc, uint8_t reg, uint8_t val, uint64_t now)
{
	mc146818_write(rtc, 0, reg, now);
	mc146818_write(rtc, 1, val, now);
}

static void test_bcd_24h_time_at_creation(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f->rtc, SEC, T0), 0x58);
	assert_int_equal(rd(f->rtc, MIN, T0), 0x59);
	assert_int_equal(rd(f->rtc, HOUR, T0), 0x23);
	assert_int_equal(rd(f->rtc, DOW, T0), 5); /* Thursday; Sunday = 1 */
	assert_int_equal(rd(f->rtc, DAY, T0), 0x29);
	assert_int_equal(rd(f->rtc, MONTH, T0), 0x02);
	assert_int_equal(rd(f->rtc, YEAR, T0), 0x24);
	assert_int_equal(rd(f->rtc, CENTURY, T0), 0x20);
	assert_int_equal(rd(f->rtc, A, T0), 0x26);
	assert_int_equal(rd(f->rtc, B, T0), 0x02);
	assert_int_equal(rd(f->rtc, D, T0), 0x80);
}

static void test_time_follows_guest_clock(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f->rtc, SEC, T0 + S - 1), 0x58);
	assert_int_equal(rd(f->rtc, SEC, T0 + 2 * S), 0x00);
	assert_int_equal(rd(f->rtc, HOUR, T0 + 2 * S), 0x00);
	assert_int_equal(rd(f->rtc, DAY, T0 + 2 * S), 0x01);
	assert_int_equal(rd(f->rtc, MONTH, T0 + 2 * S), 0x03);
}

static void test_binary_12h_format(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, B, 0x04, T0); /* binary, 12 h */
	assert_int_equal(rd(f->rtc, SEC, T0), 58);
	assert_int_equal(rd(f->rtc, HOUR, T0), 0x80 | 11); /* 11 PM */
	assert_int_equal(rd(f->rtc, HOUR, T0 + 2 * S), 12); /* 12 AM */
	wr(f->rtc, B, 0x00, T0); /* BCD, 12 h */
	assert_int_equal(rd(f->rtc, HOUR, T0), 0x80 | 0x11);
}

static void test_uip_before_each_update(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f->rtc, A, T0 + 500 * MS) & 0x80, 0);
	assert_int_equal(rd(f->rtc, A, T0 + S - 100000) & 0x80, 0x80);
	assert_int_equal(rd(f->rtc, A, T0 + S + 1000) & 0x80, 0);
	/* Never while SET holds the clock. */
	wr(f->rtc, B, 0x82, T0 + S);
	assert_int_equal(rd(f->rtc, A, T0 + 2 * S - 100000) & 0x80, 0);
}

static void test_set_bit_freezes_and_loads_time(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, B, 0x82, T0);
	wr(f->rtc, HOUR, 0x10, T0);
	wr(f->rtc, MIN, 0x20, T0);
	wr(f->rtc, SEC, 0x30, T0);
	wr(f->rtc, DAY, 0x15, T0);
	wr(f->rtc, MONTH, 0x07, T0);
	wr(f->rtc, YEAR, 0x31, T0);
	assert_int_equal(rd(f->rtc, SEC, T0 + 5 * S), 0x30);
	wr(f->rtc, B, 0x02, T0 + 5 * S);
	assert_int_equal(rd(f->rtc, SEC, T0 + 5 * S + S - 1), 0x30);
	assert_int_equal(rd(f->rtc, SEC, T0 + 7 * S), 0x32);
	assert_int_equal(rd(f->rtc, DOW, T0 + 7 * S), 3); /* 2031-07-15: Tue */
	assert_int_equal(rd(f->rtc, YEAR, T0 + 7 * S), 0x31);
}

static void test_write_while_running_keeps_running(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, MIN, 0x10, T0 + 300 * MS);
	assert_int_equal(rd(f->rtc, MIN, T0 + 400 * MS), 0x10);
	assert_int_equal(rd(f->rtc, SEC, T0 + S), 0x59);
	assert_int_equal(rd(f->rtc, MIN, T0 + S), 0x10);
}

static void test_divider_reset_stops_clock(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, A, 0x76, T0 + 300 * MS); /* divider reset */
	assert_int_equal(rd(f->rtc, SEC, T0 + 10 * S), 0x58);
	wr(f->rtc, A, 0x26, T0 + 10 * S);
	/* First update 500 ms after the release. */
	assert_int_equal(rd(f->rtc, SEC, T0 + 10 * S + 499 * MS), 0x58);
	assert_int_equal(rd(f->rtc, SEC, T0 + 10 * S + 500 * MS), 0x59);
}

static void test_periodic_interrupt_at_register_a_rate(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mc146818_next_deadline(f->rtc), UINT64_MAX);
	wr(f->rtc, B, 0x42, T0); /* PIE */
	/* Rate 6: 1024 Hz, 976562.5 ns. */
	assert_int_equal(mc146818_next_deadline(f->rtc), T0 + 976563);
	mc146818_update(f->rtc, T0 + 976562);
	assert_false(f->irq8);
	mc146818_update(f->rtc, T0 + 976563);
	assert_true(f->irq8);
	assert_int_equal(mc146818_next_deadline(f->rtc), UINT64_MAX);
	assert_int_equal(rd(f->rtc, C, T0 + 976563), 0xc0); /* IRQF | PF */
	assert_false(f->irq8);
	assert_int_equal(rd(f->rtc, C, T0 + 976564), 0x00);
	/* Rate 15: 2 Hz. */
	wr(f->rtc, A, 0x2f, T0 + 976564);
	assert_int_equal(mc146818_next_deadline(f->rtc), T0 + 500 * MS);
	mc146818_update(f->rtc, T0 + 500 * MS);
	assert_int_equal(f->irq8_rises, 2);
}

static void test_rate_1_is_256_hz(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, A, 0x21, T0);
	wr(f->rtc, B, 0x42, T0);
	assert_int_equal(mc146818_next_deadline(f->rtc), T0 + 3906250);
}

static void test_set_clears_update_interrupt_enable(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, B, 0x92, T0);
	assert_int_equal(rd(f->rtc, B, T0), 0x82);
}

static void test_flags_without_enable_raise_no_irq(void **state)
{
	struct fixture *f = *state;

	/* 00:00:01: the alarm registers (0:0:0) do not match. */
	mc146818_update(f->rtc, T0 + 3 * S);
	assert_false(f->irq8);
	assert_int_equal(rd(f->rtc, C, T0 + 3 * S), 0x40 | 0x10); /* PF, UF */
	/* 00:00:00 matches them: AF too, still without IRQ. */
	wr(f->rtc, B, 0x82, T0 + 3 * S);
	wr(f->rtc, SEC, 0x59, T0 + 3 * S);
	wr(f->rtc, MIN, 0x59, T0 + 3 * S);
	wr(f->rtc, HOUR, 0x23, T0 + 3 * S);
	wr(f->rtc, B, 0x02, T0 + 3 * S);
	mc146818_update(f->rtc, T0 + 4 * S);
	assert_int_equal(rd(f->rtc, C, T0 + 4 * S), 0x40 | 0x20 | 0x10);
	assert_int_equal(f->irq8_rises, 0);
}

static void test_update_ended_interrupt(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, A, 0x20, T0); /* no periodic rate */
	wr(f->rtc, B, 0x12, T0 + 200 * MS);
	assert_int_equal(mc146818_next_deadline(f->rtc), T0 + S);
	mc146818_update(f->rtc, T0 + S);
	assert_true(f->irq8);
	assert_int_equal(rd(f->rtc, C, T0 + S), 0x90);
}

static void test_alarm_interrupt_with_dont_care(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, A, 0x20, T0);
	wr(f->rtc, SEC_ALARM, 0x01, T0);
	wr(f->rtc, MIN_ALARM, 0xff, T0); /* any minute */
	wr(f->rtc, HOUR_ALARM, 0xc0, T0); /* any hour */
	wr(f->rtc, B, 0x22, T0);          /* AIE */
	mc146818_update(f->rtc, T0 + 2 * S); /* 00:00:00: no match */
	assert_false(f->irq8);
	mc146818_update(f->rtc, T0 + 3 * S); /* 00:00:01 */
	assert_true(f->irq8);
	assert_int_equal(rd(f->rtc, C, T0 + 3 * S), 0x80 | 0x20 | 0x10);
}

static void test_nmi_disable_bit_in_index(void **state)
{
	struct fixture *f = *state;

	assert_false(mc146818_nmi_disabled(f->rtc));
	mc146818_write(f->rtc, 0, 0x80 | A, T0);
	assert_true(mc146818_nmi_disabled(f->rtc));
	assert_int_equal(mc146818_read(f->rtc, 1, T0), 0x26);
	mc146818_write(f->rtc, 0, A, T0);
	assert_false(mc146818_nmi_disabled(f->rtc));
	assert_int_equal(mc146818_read(f->rtc, 0, T0), 0xff);
}

static void test_cmos_memory_sizes(void **state)
{
	(void)state;
	struct mc146818_config big = { 0, 3ULL << 30, 1ULL << 30 };
	struct mc146818_config small = { 0, 8ULL << 20, 0 };
	struct mc146818 *rtc = mc146818_create(NULL, &big, 0);

	assert_int_equal(rd(rtc, 0x15, 0) | rd(rtc, 0x16, 0) << 8, 640);
	assert_int_equal(rd(rtc, 0x17, 0) | rd(rtc, 0x18, 0) << 8, 0xffff);
	assert_int_equal(rd(rtc, 0x30, 0) | rd(rtc, 0x31, 0) << 8, 0xffff);
	/* (3 GiB - 16 MiB) / 64 KiB */
	assert_int_equal(rd(rtc, 0x34, 0) | rd(rtc, 0x35, 0) << 8, 0xbf00);
	/* 1 GiB / 64 KiB */
	assert_int_equal(rd(rtc, 0x5b, 0) | rd(rtc, 0x5c, 0) << 8 |
				 rd(rtc, 0x5d, 0) << 16, 0x4000);
	mc146818_destroy(rtc);

	rtc = mc146818_create(NULL, &small, 0);
	assert_int_equal(rd(rtc, 0x17, 0) | rd(rtc, 0x18, 0) << 8, 7 * 1024);
	assert_int_equal(rd(rtc, 0x34, 0) | rd(rtc, 0x35, 0) << 8, 0);
	unsigned sum = 0;
	for (uint8_t i = 0x10; i < 0x2e; i++)
		sum += rd(rtc, i, 0);
	assert_int_equal(rd(rtc, 0x2e, 0) << 8 | rd(rtc, 0x2f, 0), sum);
	mc146818_destroy(rtc);
}

static void test_cmos_ram_and_read_only_registers(void **state)
{
	struct fixture *f = *state;

	wr(f->rtc, 0x40, 0xa5, T0);
	assert_int_equal(rd(f->rtc, 0x40, T0), 0xa5);
	wr(f->rtc, D, 0x00, T0);
	assert_int_equal(rd(f->rtc, D, T0), 0x80);
	wr(f->rtc, C, 0xff, T0);
	assert_int_equal(rd(f->rtc, C, T0), 0x00);
	mc146818_write(f->rtc, 5, 0x12, T0); /* no such port: ignored */
	assert_int_equal(mc146818_read(f->rtc, 5, T0), 0xff);
	/* Nonsense in BCD registers never crashes. */
	wr(f->rtc, MONTH, 0xff, T0);
	rd(f->rtc, MONTH, T0 + S);
	assert_null(mc146818_create(NULL, NULL, 0));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bcd_24h_time_at_creation),
		T(test_time_follows_guest_clock),
		T(test_binary_12h_format),
		T(test_uip_before_each_update),
		T(test_set_bit_freezes_and_loads_time),
		T(test_write_while_running_keeps_running),
		T(test_divider_reset_stops_clock),
		T(test_periodic_interrupt_at_register_a_rate),
		T(test_rate_1_is_256_hz),
		T(test_set_clears_update_interrupt_enable),
		T(test_flags_without_enable_raise_no_irq),
		T(test_update_ended_interrupt),
		T(test_alarm_interrupt_with_dont_care),
		T(test_nmi_disable_bit_in_index),
		cmocka_unit_test(test_cmos_memory_sizes),
		T(test_cmos_ram_and_read_only_registers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
