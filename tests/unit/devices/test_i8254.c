/* 8254 PIT: counts, latches, read-back, outputs and IRQ 0 on guest time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/i8254.h"
#include "devices/irq_router.h"

enum { CH0 = 0, CH2 = 2, CTRL = 3 };
/* PIT clocks are a grid on guest time; the tests start at clock T0_TICK
 * (guest time need not start at 0). */
#define T0_TICK 5965910ULL

/* Guest time of PIT clock T0_TICK + ticks. */
static uint64_t at(uint64_t ticks)
{
	return ((T0_TICK + ticks) * 1000000000ULL + I8254_HZ - 1) / I8254_HZ;
}

struct fixture {
	struct irq_router *router;
	struct i8254 *pit;
	int irq0_edges;
	bool irq0_level;
};

static void count_edges(void *ctx, unsigned pin, bool level)
{
	struct fixture *f = ctx;

	if (pin == 0 && level && !f->irq0_level)
		f->irq0_edges++;
	if (pin == 0)
		f->irq0_level = level;
}

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ 0 };
	f.router = irq_router_create();
	struct irq_sink_ops ops = { count_edges, &f };
	if (!f.router || irq_router_attach(f.router, IRQ_SINK_ISA, &ops))
		return -1;
	f.pit = i8254_create(f.router, at(0));
	if (!f.pit)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	i8254_destroy(f->pit);
	irq_router_destroy(f->router);
	return 0;
}

static void program(struct i8254 *pit, unsigned ch, uint8_t cw, unsigned count,
		    uint64_t now)
{
	i8254_write(pit, CTRL, cw, now);
	i8254_write(pit, ch, (uint8_t)count, now);
	i8254_write(pit, ch, (uint8_t)(count >> 8), now);
}

static unsigned read16(struct i8254 *pit, unsigned ch, uint64_t now)
{
	unsigned lo = i8254_read(pit, ch, now);

	return lo | (unsigned)i8254_read(pit, ch, now) << 8;
}

/* Linux's KASLR i8254(): read-back of channel 0, status then count, until
 * the null-count bit is clear. */
static void test_power_on_readback_like_kaslr(void **state)
{
	struct fixture *f = *state;

	i8254_write(f->pit, CTRL, 0xc2, at(10));
	uint8_t status = i8254_read(f->pit, CH0, at(11));
	assert_int_equal(status & 0x40, 0);         /* no null count */
	assert_int_equal(status & 0x3f, 0x36);      /* lohi, mode 3, binary */
	unsigned first = read16(f->pit, CH0, at(12));
	assert_int_equal(first, (65536 - 2 * 10) & 0xffff);
	i8254_write(f->pit, CTRL, 0xc2, at(1000));
	i8254_read(f->pit, CH0, at(1000));
	assert_int_not_equal(read16(f->pit, CH0, at(1000)), first);
}

static void test_lohi_count_reads_down(void **state)
{
	struct fixture *f = *state;

	program(f->pit, CH0, 0x34, 1193, at(0));
	assert_int_equal(read16(f->pit, CH0, at(100)), 1193 - 100);
	assert_int_equal(read16(f->pit, CH0, at(1193 + 5)), 1193 - 5);
}

static void test_latch_freezes_until_read(void **state)
{
	struct fixture *f = *state;

	program(f->pit, CH0, 0x34, 50000, at(0));
	i8254_write(f->pit, CTRL, 0x00, at(300)); /* latch channel 0 */
	i8254_write(f->pit, CTRL, 0x00, at(400)); /* ignored: still latched */
	assert_int_equal(read16(f->pit, CH0, at(900)), 50000 - 300);
	assert_int_equal(read16(f->pit, CH0, at(900)), 50000 - 900);
}

static void test_lobyte_and_hibyte_access(void **state)
{
	struct fixture *f = *state;

	i8254_write(f->pit, CTRL, 0x14, at(0)); /* lobyte only, mode 2 */
	i8254_write(f->pit, CH0, 200, at(0));
	assert_int_equal(i8254_read(f->pit, CH0, at(50)), 150);
	assert_int_equal(i8254_read(f->pit, CH0, at(60)), 140);
	i8254_write(f->pit, CTRL, 0x24, at(100)); /* hibyte only */
	i8254_write(f->pit, CH0, 0x10, at(100));  /* count 0x1000 */
	assert_int_equal(i8254_read(f->pit, CH0, at(100 + 0x100)), 0x0f);
}

static void test_null_count_and_output_in_status(void **state)
{
	struct fixture *f = *state;

	i8254_write(f->pit, CTRL, 0x30, at(0)); /* mode 0 */
	i8254_write(f->pit, CTRL, 0xe2, at(1)); /* status only, channel 0 */
	assert_int_equal(i8254_read(f->pit, CH0, at(1)), 0x40 | 0x30);
	i8254_write(f->pit, CH0, 100, at(2));
	i8254_write(f->pit, CH0, 0, at(2));
	i8254_write(f->pit, CTRL, 0xe2, at(3));
	uint8_t status = i8254_read(f->pit, CH0, at(3));
	assert_int_equal(status & 0xc0, 0); /* loaded, output low */
	i8254_write(f->pit, CTRL, 0xe2, at(102));
	assert_int_equal(i8254_read(f->pit, CH0, at(102)) & 0xc0, 0x80);
}

static void test_mode2_rate_generator_irq0(void **state)
{
	struct fixture *f = *state;

	program(f->pit, CH0, 0x34, 1000, at(0));
	assert_int_equal(i8254_next_deadline(f->pit), at(1000));
	assert_false(i8254_update(f->pit, at(999)));
	assert_false(i8254_output(f->pit, CH0, at(999))); /* low one clock */
	assert_true(i8254_output(f->pit, CH0, at(1000)));
	assert_true(i8254_update(f->pit, at(1000)));
	assert_int_equal(f->irq0_edges, 1);
	assert_int_equal(i8254_next_deadline(f->pit), at(2000));
	/* Several periods missed: one interrupt, then back in phase. */
	assert_true(i8254_update(f->pit, at(5500)));
	assert_int_equal(f->irq0_edges, 2);
	assert_int_equal(i8254_next_deadline(f->pit), at(6000));
}

static void test_mode0_one_shot_irq0(void **state)
{
	struct fixture *f = *state;

	program(f->pit, CH0, 0x30, 500, at(0));
	assert_false(i8254_output(f->pit, CH0, at(499)));
	assert_int_equal(i8254_next_deadline(f->pit), at(500));
	assert_true(i8254_update(f->pit, at(600)));
	assert_true(i8254_output(f->pit, CH0, at(600)));
	assert_int_equal(i8254_next_deadline(f->pit), UINT64_MAX);
	assert_false(i8254_update(f->pit, at(100000)));
	assert_int_equal(f->irq0_edges, 1);
}

static void test_mode3_square_wave(void **state)
{
	struct fixture *f = *state;

	program(f->pit, CH0, 0x36, 1000, at(0));
	assert_true(i8254_output(f->pit, CH0, at(499)));
	assert_false(i8254_output(f->pit, CH0, at(500)));
	assert_false(i8254_output(f->pit, CH0, at(999)));
	assert_true(i8254_output(f->pit, CH0, at(1000)));
	assert_int_equal(read16(f->pit, CH0, at(10)), 1000 - 20);
	assert_true(i8254_update(f->pit, at(1000)));
	assert_int_equal(i8254_next_deadline(f->pit), at(2000));
}

static void test_mode4_strobe(void **state)
{
	struct fixture *f = *state;

	program(f->pit, CH0, 0x38, 300, at(0));
	assert_true(i8254_output(f->pit, CH0, at(299)));
	assert_false(i8254_output(f->pit, CH0, at(300)));
	assert_true(i8254_output(f->pit, CH0, at(301)));
	assert_int_equal(i8254_next_deadline(f->pit), at(301));
	assert_true(i8254_update(f->pit, at(400)));
	assert_int_equal(i8254_next_deadline(f->pit), UINT64_MAX);
}

static void test_gate_holds_mode0_count(void **state)
{
	struct fixture *f = *state;

	/* Channel 2's gate is low at power-on: loaded but not counting. */
	program(f->pit, CH2, 0xb0, 1000, at(0));
	assert_int_equal(read16(f->pit, CH2, at(500)), 1000);
	i8254_set_gate(f->pit, CH2, true, at(500));
	assert_int_equal(read16(f->pit, CH2, at(700)), 800);
	i8254_set_gate(f->pit, CH2, false, at(700));
	assert_int_equal(read16(f->pit, CH2, at(5000)), 800);
	i8254_set_gate(f->pit, CH2, true, at(5000));
	assert_false(i8254_output(f->pit, CH2, at(5799)));
	assert_true(i8254_output(f->pit, CH2, at(5800)));
	/* Channel 2 never raises IRQ 0. */
	assert_int_equal(f->irq0_edges, 0);
}

static void test_mode1_triggered_by_gate(void **state)
{
	struct fixture *f = *state;

	program(f->pit, CH2, 0xb2, 100, at(0));
	assert_true(i8254_output(f->pit, CH2, at(50)));
	i8254_set_gate(f->pit, CH2, true, at(50));
	assert_false(i8254_output(f->pit, CH2, at(149)));
	assert_true(i8254_output(f->pit, CH2, at(150)));
	i8254_set_gate(f->pit, CH2, false, at(200));
	i8254_set_gate(f->pit, CH2, true, at(210)); /* retrigger */
	assert_false(i8254_output(f->pit, CH2, at(300)));
}

static void test_mode2_gate_low_stops_with_output_high(void **state)
{
	struct fixture *f = *state;

	i8254_set_gate(f->pit, CH2, true, at(0));
	program(f->pit, CH2, 0xb4, 100, at(0));
	i8254_set_gate(f->pit, CH2, false, at(99)); /* output was low */
	assert_true(i8254_output(f->pit, CH2, at(99)));
	i8254_set_gate(f->pit, CH2, true, at(1000)); /* reloads */
	assert_int_equal(read16(f->pit, CH2, at(1010)), 90);
}

static void test_bad_offsets_are_inert(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(i8254_read(f->pit, CTRL, at(0)), 0xff);
	assert_int_equal(i8254_read(f->pit, 9, at(0)), 0xff);
	i8254_write(f->pit, 9, 0x30, at(0));
	i8254_set_gate(f->pit, 7, true, at(0));
	assert_false(i8254_output(f->pit, 5, at(0)));
	/* Count 0 means 65536. */
	program(f->pit, CH0, 0x34, 0, at(0));
	assert_int_equal(i8254_next_deadline(f->pit), at(65536));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_power_on_readback_like_kaslr),
		T(test_lohi_count_reads_down),
		T(test_latch_freezes_until_read),
		T(test_lobyte_and_hibyte_access),
		T(test_null_count_and_output_in_status),
		T(test_mode2_rate_generator_irq0),
		T(test_mode0_one_shot_irq0),
		T(test_mode3_square_wave),
		T(test_mode4_strobe),
		T(test_gate_holds_mode0_count),
		T(test_mode1_triggered_by_gate),
		T(test_mode2_gate_low_stops_with_output_high),
		T(test_bad_offsets_are_inert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
