/* Interrupt routing: levels reach the right sinks on the right pins. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/irq_router.h"

/* A sink that records every call and the level of each pin. */
struct recorder {
	int calls;
	unsigned last_pin;
	bool last_level;
	uint32_t levels;
	int rising[32];
};

static void rec_set_line(void *ctx, unsigned pin, bool level)
{
	struct recorder *r = ctx;

	r->calls++;
	r->last_pin = pin;
	r->last_level = level;
	if (level && !(r->levels & (1u << pin)))
		r->rising[pin]++;
	if (level)
		r->levels |= 1u << pin;
	else
		r->levels &= ~(1u << pin);
}

struct fixture {
	struct irq_router *r;
	struct recorder pic, ioapic;
};

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ 0 };
	f.r = irq_router_create();
	if (!f.r)
		return -1;
	struct irq_sink_ops pic = { rec_set_line, &f.pic };
	struct irq_sink_ops ioapic = { rec_set_line, &f.ioapic };
	if (irq_router_attach(f.r, IRQ_SINK_ISA, &pic) ||
	    irq_router_attach(f.r, IRQ_SINK_GSI, &ioapic))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	irq_router_destroy(f->r);
	return 0;
}

static void test_isa_line_reaches_both_sinks(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(irq_router_set_isa_irq(f->r, 4, true), 0);
	assert_int_equal(f->pic.levels, 1u << 4);
	assert_int_equal(f->ioapic.levels, 1u << 4);
	assert_int_equal(irq_router_isa_levels(f->r), 1u << 4);
	irq_router_set_isa_irq(f->r, 4, false);
	assert_int_equal(f->pic.levels, 0);
	assert_int_equal(f->ioapic.levels, 0);
}

static void test_unchanged_level_is_not_repeated(void **state)
{
	struct fixture *f = *state;

	irq_router_set_isa_irq(f->r, 8, true);
	irq_router_set_isa_irq(f->r, 8, true);
	assert_int_equal(f->pic.calls, 1);
	assert_int_equal(f->ioapic.calls, 1);
}

static void test_override_moves_isa_irq_on_gsi_sinks_only(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(irq_router_set_isa_override(f->r, 0, 2), 0);
	assert_int_equal(irq_router_isa_to_gsi(f->r, 0), 2);
	irq_router_set_isa_irq(f->r, 0, true);
	assert_int_equal(f->pic.levels, 1u << 0);
	assert_int_equal(f->ioapic.levels, 1u << 2);
	assert_int_equal(irq_router_gsi_levels(f->r), 1u << 2);
}

static void test_override_of_a_high_line_moves_the_level(void **state)
{
	struct fixture *f = *state;

	irq_router_set_isa_irq(f->r, 0, true);
	irq_router_set_isa_override(f->r, 0, 2);
	assert_int_equal(f->ioapic.levels, 1u << 2);
	assert_int_equal(f->pic.levels, 1u << 0);
}

static void test_pulse_makes_one_rising_edge_and_ends_low(void **state)
{
	struct fixture *f = *state;

	irq_router_pulse_isa_irq(f->r, 0);
	assert_int_equal(f->pic.rising[0], 1);
	assert_int_equal(f->ioapic.rising[0], 1);
	assert_int_equal(f->pic.levels, 0);
	/* A line left high still gets its edge. */
	irq_router_set_isa_irq(f->r, 3, true);
	irq_router_pulse_isa_irq(f->r, 3);
	assert_int_equal(f->pic.rising[3], 2);
}

static void test_direct_gsi_only_reaches_gsi_sinks(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(irq_router_set_gsi(f->r, 19, true), 0);
	assert_int_equal(f->ioapic.levels, 1u << 19);
	assert_int_equal(f->pic.calls, 0);
	irq_router_set_gsi(f->r, 19, false);
	assert_int_equal(f->ioapic.levels, 0);
}

static void test_shared_gsi_is_the_or_of_its_drivers(void **state)
{
	struct fixture *f = *state;

	irq_router_set_isa_irq(f->r, 9, true);
	irq_router_set_gsi(f->r, 9, true);
	irq_router_set_isa_irq(f->r, 9, false);
	assert_true(f->ioapic.levels & (1u << 9));
	irq_router_set_gsi(f->r, 9, false);
	assert_false(f->ioapic.levels & (1u << 9));
}

static void test_late_sink_sees_lines_already_high(void **state)
{
	struct fixture *f = *state;
	struct recorder late = { 0 };
	struct irq_sink_ops ops = { rec_set_line, &late };

	irq_router_set_isa_irq(f->r, 1, true);
	irq_router_set_gsi(f->r, 20, true);
	assert_int_equal(irq_router_attach(f->r, IRQ_SINK_GSI, &ops), 0);
	assert_int_equal(late.levels, (1u << 1) | (1u << 20));
}

static void test_bad_arguments_are_refused(void **state)
{
	struct fixture *f = *state;
	struct irq_sink_ops ops = { rec_set_line, NULL };
	struct irq_sink_ops no_fn = { NULL, NULL };

	assert_int_equal(irq_router_set_isa_irq(f->r, 16, true), -EINVAL);
	assert_int_equal(irq_router_pulse_isa_irq(f->r, 99), -EINVAL);
	assert_int_equal(irq_router_set_gsi(f->r, IRQ_ROUTER_GSI_COUNT, true),
			 -EINVAL);
	assert_int_equal(irq_router_set_isa_override(f->r, 16, 2), -EINVAL);
	assert_int_equal(irq_router_set_isa_override(f->r, 0, 24), -EINVAL);
	assert_int_equal(irq_router_isa_to_gsi(f->r, 16), -1);
	assert_int_equal(irq_router_attach(f->r, IRQ_SINK_ISA, &no_fn),
			 -EINVAL);
	assert_int_equal(irq_router_attach(f->r, 7, &ops), -EINVAL);
	/* Two attached; two more fit, the fifth does not. */
	assert_int_equal(irq_router_attach(f->r, IRQ_SINK_ISA, &ops), 0);
	assert_int_equal(irq_router_attach(f->r, IRQ_SINK_ISA, &ops), 0);
	assert_int_equal(irq_router_attach(f->r, IRQ_SINK_ISA, &ops), -ENOSPC);
	assert_int_equal(f->pic.calls + f->ioapic.calls, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_isa_line_reaches_both_sinks),
		T(test_unchanged_level_is_not_repeated),
		T(test_override_moves_isa_irq_on_gsi_sinks_only),
		T(test_override_of_a_high_line_moves_the_level),
		T(test_pulse_makes_one_rising_edge_and_ends_low),
		T(test_direct_gsi_only_reaches_gsi_sinks),
		T(test_shared_gsi_is_the_or_of_its_drivers),
		T(test_late_sink_sees_lines_already_high),
		T(test_bad_arguments_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
