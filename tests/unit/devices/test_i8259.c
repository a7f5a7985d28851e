/* 8259A pair: what Linux's i8259 driver and its probe rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/i8259.h"
#include "devices/irq_router.h"

enum { M_CMD = 0x20, M_DATA = 0x21, S_CMD = 0xa0, S_DATA = 0xa1,
       ELCR0 = 0x4d0, ELCR1 = 0x4d1 };
enum { READ_IRR = 0x0a, READ_ISR = 0x0b, POLL = 0x0c, EOI = 0x20,
       SPECIFIC_EOI = 0x60 };
/* Linux's vector bases (ISA_IRQ_VECTOR(0) = 0x30). */
#define MBASE 0x30
#define SBASE 0x38

struct fixture {
	struct i8259 *p;
	int notifications;
};

static void count_intr_changed(void *ctx)
{
	struct fixture *f = ctx;

	f->notifications++;
}

/* The initialisation words of Linux's init_8259A(). */
static void init_words(struct i8259 *p, bool auto_eoi)
{
	i8259_write(p, M_CMD, 0x11);     /* ICW1: edge, cascade, ICW4 */
	i8259_write(p, M_DATA, MBASE);   /* ICW2 */
	i8259_write(p, M_DATA, 1 << 2);  /* ICW3: slave on IR2 */
	i8259_write(p, M_DATA, auto_eoi ? 0x03 : 0x01);
	i8259_write(p, S_CMD, 0x11);
	i8259_write(p, S_DATA, SBASE);
	i8259_write(p, S_DATA, 2);       /* ICW3: slave ID */
	i8259_write(p, S_DATA, 0x01);
}

/* init_8259A(): mask all, initialise, restore the (all-masked) masks. */
static void linux_init(struct i8259 *p, bool auto_eoi)
{
	i8259_write(p, M_DATA, 0xff);
	i8259_write(p, S_DATA, 0xff);
	init_words(p, auto_eoi);
	i8259_write(p, M_DATA, 0xff);
	i8259_write(p, S_DATA, 0xff);
}

static int setup(void **state)
{
	static struct fixture f;
	struct i8259_ops ops = { count_intr_changed, &f };

	f = (struct fixture){ 0 };
	f.p = i8259_create(&ops);
	if (!f.p)
		return -1;
	linux_init(f.p, false);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	i8259_destroy(f->p);
	return 0;
}

static uint8_t read_reg(struct i8259 *p, uint16_t cmd_port, uint8_t ocw3)
{
	i8259_write(p, cmd_port, ocw3);
	return i8259_read(p, cmd_port);
}

static void edge(struct i8259 *p, unsigned irq)
{
	i8259_set_irq(p, irq, true);
	i8259_set_irq(p, irq, false);
}

static void test_power_on_masks_everything(void **state)
{
	(void)state;
	struct i8259 *p = i8259_create(NULL);

	assert_int_equal(i8259_read(p, M_DATA), 0xff);
	assert_int_equal(i8259_read(p, S_DATA), 0xff);
	i8259_set_irq(p, 0, true);
	assert_false(i8259_has_interrupt(p));
	i8259_destroy(p);
}

/* Linux's probe_8259A(): else "Using NULL legacy PIC". */
static void test_mask_reads_back(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, S_DATA, 0xff);
	i8259_write(f->p, M_DATA, 0xfb);
	assert_int_equal(i8259_read(f->p, M_DATA), 0xfb);
	assert_int_equal(i8259_read(f->p, S_DATA), 0xff);
}

static void test_edge_interrupt_until_eoi(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, M_DATA, 0xfe);
	edge(f->p, 0);
	assert_true(i8259_has_interrupt(f->p));
	assert_int_equal(i8259_intack(f->p), MBASE + 0);
	assert_int_equal(read_reg(f->p, M_CMD, READ_ISR), 0x01);
	assert_false(i8259_has_interrupt(f->p));
	/* A second edge while in service waits in IRR. */
	edge(f->p, 0);
	assert_int_equal(read_reg(f->p, M_CMD, READ_IRR), 0x01);
	assert_false(i8259_has_interrupt(f->p));
	i8259_write(f->p, M_CMD, EOI);
	assert_int_equal(read_reg(f->p, M_CMD, READ_ISR), 0);
	assert_int_equal(i8259_intack(f->p), MBASE + 0);
}

static void test_edge_held_high_interrupts_once(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, M_DATA, 0xfe);
	i8259_set_irq(f->p, 0, true);
	assert_int_equal(i8259_intack(f->p), MBASE);
	i8259_write(f->p, M_CMD, EOI);
	assert_false(i8259_has_interrupt(f->p));
}

static void test_masked_request_waits_in_irr(void **state)
{
	struct fixture *f = *state;

	edge(f->p, 4);
	assert_false(i8259_has_interrupt(f->p));
	assert_int_equal(read_reg(f->p, M_CMD, READ_IRR), 1 << 4);
	i8259_write(f->p, M_DATA, (uint8_t)~(1 << 4));
	assert_int_equal(i8259_intack(f->p), MBASE + 4);
}

static void test_elcr_writable_bits(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, ELCR0, 0xff);
	i8259_write(f->p, ELCR1, 0xff);
	assert_int_equal(i8259_read(f->p, ELCR0), 0xf8);
	assert_int_equal(i8259_read(f->p, ELCR1), 0xde);
}

static void test_level_interrupt_repeats_while_high(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, ELCR1, 1 << 3); /* IRQ 11 level-triggered */
	i8259_write(f->p, M_DATA, 0xfb);
	i8259_write(f->p, S_DATA, (uint8_t)~(1 << 3));
	i8259_set_irq(f->p, 11, true);
	assert_int_equal(i8259_intack(f->p), SBASE + 3);
	i8259_write(f->p, S_CMD, SPECIFIC_EOI + 3);
	i8259_write(f->p, M_CMD, SPECIFIC_EOI + 2);
	/* Still high: again. */
	assert_int_equal(i8259_intack(f->p), SBASE + 3);
	i8259_write(f->p, S_CMD, SPECIFIC_EOI + 3);
	i8259_write(f->p, M_CMD, SPECIFIC_EOI + 2);
	i8259_set_irq(f->p, 11, false);
	assert_false(i8259_has_interrupt(f->p));
}

static void test_level_request_dropped_before_ack_is_spurious(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, ELCR0, 1 << 5);
	i8259_write(f->p, M_DATA, (uint8_t)~(1 << 5));
	i8259_set_irq(f->p, 5, true);
	assert_true(i8259_has_interrupt(f->p));
	i8259_set_irq(f->p, 5, false);
	/* The CPU already saw INT: it gets IR7 with nothing in service. */
	assert_int_equal(i8259_intack(f->p), MBASE + 7);
	assert_int_equal(read_reg(f->p, M_CMD, READ_ISR), 0);
}

static void test_cascade_through_ir2(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, M_DATA, 0xfb);
	i8259_write(f->p, S_DATA, (uint8_t)~(1 << 4));
	edge(f->p, 12);
	assert_true(i8259_has_interrupt(f->p));
	assert_int_equal(i8259_intack(f->p), SBASE + 4);
	assert_int_equal(read_reg(f->p, M_CMD, READ_ISR), 1 << 2);
	assert_int_equal(read_reg(f->p, S_CMD, READ_ISR), 1 << 4);
	/* Linux's EOI for a slave IRQ: specific EOI on both. */
	i8259_write(f->p, S_CMD, SPECIFIC_EOI + 4);
	i8259_write(f->p, M_CMD, SPECIFIC_EOI + 2);
	assert_int_equal(read_reg(f->p, M_CMD, READ_ISR), 0);
	assert_int_equal(read_reg(f->p, S_CMD, READ_ISR), 0);
	/* A masked cascade holds slave interrupts back. */
	i8259_write(f->p, M_DATA, 0xff);
	edge(f->p, 12);
	assert_false(i8259_has_interrupt(f->p));
}

static void test_fully_nested_priorities(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, M_DATA, 0x00);
	edge(f->p, 3);
	assert_int_equal(i8259_intack(f->p), MBASE + 3);
	edge(f->p, 5); /* lower priority than the one in service */
	assert_false(i8259_has_interrupt(f->p));
	edge(f->p, 1); /* higher: nests */
	assert_int_equal(i8259_intack(f->p), MBASE + 1);
	/* Non-specific EOI ends the highest-priority one, IR1. */
	i8259_write(f->p, M_CMD, EOI);
	assert_int_equal(read_reg(f->p, M_CMD, READ_ISR), 1 << 3);
	assert_false(i8259_has_interrupt(f->p));
	i8259_write(f->p, M_CMD, EOI);
	assert_int_equal(i8259_intack(f->p), MBASE + 5);
}

static void test_auto_eoi_leaves_nothing_in_service(void **state)
{
	struct fixture *f = *state;

	linux_init(f->p, true);
	i8259_write(f->p, M_DATA, 0x00);
	edge(f->p, 3);
	assert_int_equal(i8259_intack(f->p), MBASE + 3);
	assert_int_equal(read_reg(f->p, M_CMD, READ_ISR), 0);
	edge(f->p, 6); /* lower priority, yet nothing blocks it */
	assert_int_equal(i8259_intack(f->p), MBASE + 6);
}

static void test_set_priority_rotates(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, M_DATA, 0x00);
	i8259_write(f->p, M_CMD, 0xc3); /* IR3 lowest: IR4 highest */
	edge(f->p, 1);
	edge(f->p, 5);
	assert_int_equal(i8259_intack(f->p), MBASE + 5);
	/* Rotate on specific EOI of IR5: IR6 becomes the highest. */
	i8259_write(f->p, M_CMD, 0xe5);
	edge(f->p, 7);
	assert_int_equal(i8259_intack(f->p), MBASE + 7);
}

static void test_special_mask_mode(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, M_DATA, 0x00);
	edge(f->p, 3);
	assert_int_equal(i8259_intack(f->p), MBASE + 3);
	edge(f->p, 5);
	assert_false(i8259_has_interrupt(f->p));
	i8259_write(f->p, M_DATA, 1 << 3);
	i8259_write(f->p, M_CMD, 0x68); /* set special mask mode */
	assert_int_equal(i8259_intack(f->p), MBASE + 5);
	i8259_write(f->p, M_CMD, 0x48); /* reset it */
	edge(f->p, 6);
	assert_false(i8259_has_interrupt(f->p));
}

static void test_poll_mode(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, M_DATA, 0x00);
	i8259_write(f->p, M_CMD, POLL);
	assert_int_equal(i8259_read(f->p, M_CMD), 0x00);
	edge(f->p, 6);
	i8259_write(f->p, M_CMD, POLL);
	assert_int_equal(i8259_read(f->p, M_CMD), 0x80 | 6);
	assert_int_equal(read_reg(f->p, M_CMD, READ_ISR), 1 << 6);
	/* Poll is one read only. */
	assert_int_equal(i8259_read(f->p, M_DATA), 0x00);
}

static void test_icw1_needs_a_new_edge(void **state)
{
	struct fixture *f = *state;

	i8259_set_irq(f->p, 1, true);
	init_words(f->p, false);
	assert_int_equal(i8259_read(f->p, M_DATA), 0x00); /* ICW1 unmasks */
	assert_false(i8259_has_interrupt(f->p));
	i8259_set_irq(f->p, 1, false);
	i8259_set_irq(f->p, 1, true);
	assert_int_equal(i8259_intack(f->p), MBASE + 1);
}

static void test_output_changes_are_notified(void **state)
{
	struct fixture *f = *state;

	i8259_write(f->p, M_DATA, 0xfe);
	f->notifications = 0;
	edge(f->p, 0);
	assert_int_equal(f->notifications, 1);
	i8259_intack(f->p);
	assert_int_equal(f->notifications, 2);
	i8259_write(f->p, M_CMD, EOI); /* nothing pending: no change */
	assert_int_equal(f->notifications, 2);
}

static void test_router_lines_reach_the_pair(void **state)
{
	struct fixture *f = *state;
	struct irq_router *r = irq_router_create();

	assert_int_equal(i8259_attach(f->p, r), 0);
	i8259_write(f->p, M_DATA, 0x00);
	i8259_write(f->p, S_DATA, 0x00);
	irq_router_set_isa_irq(r, 2, true); /* the cascade is not a bus line */
	assert_false(i8259_has_interrupt(f->p));
	irq_router_set_isa_override(r, 0, 2); /* only GSI sinks care */
	irq_router_pulse_isa_irq(r, 0);
	assert_int_equal(i8259_intack(f->p), MBASE + 0);
	irq_router_set_isa_irq(r, 8, true);
	i8259_write(f->p, M_CMD, EOI);
	assert_int_equal(i8259_intack(f->p), SBASE + 0);
	irq_router_destroy(r);
}

static void test_other_ports_are_inert(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(i8259_read(f->p, 0x22), 0xff);
	i8259_write(f->p, 0x22, 0x00);
	i8259_set_irq(f->p, 16, true);
	i8259_set_irq(f->p, 99, true);
	assert_int_equal(i8259_read(f->p, M_DATA), 0xff);
	assert_false(i8259_has_interrupt(f->p));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_on_masks_everything),
		T(test_mask_reads_back),
		T(test_edge_interrupt_until_eoi),
		T(test_edge_held_high_interrupts_once),
		T(test_masked_request_waits_in_irr),
		T(test_elcr_writable_bits),
		T(test_level_interrupt_repeats_while_high),
		T(test_level_request_dropped_before_ack_is_spurious),
		T(test_cascade_through_ir2),
		T(test_fully_nested_priorities),
		T(test_auto_eoi_leaves_nothing_in_service),
		T(test_set_priority_rotates),
		T(test_special_mask_mode),
		T(test_poll_mode),
		T(test_icw1_needs_a_new_edge),
		T(test_output_changes_are_notified),
		T(test_router_lines_reach_the_pair),
		T(test_other_ports_are_inert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
