/* I/O APIC model: registers, edge and level pins, remote IRR and EOI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/ioapic.h"

#define MASKED (1u << 16)
#define LEVEL (1u << 15)
#define REMOTE_IRR (1u << 14)
#define DELIVERY_STATUS (1u << 12)
#define LOGICAL (1u << 11)
#define DM(m) ((uint32_t)(m) << 8)

#define MAX_MSGS 16

/* A fake APIC bus recording the messages. */
struct bus {
	int count;
	struct ioapic_msg msgs[MAX_MSGS];
};

static void bus_deliver(void *ctx, const struct ioapic_msg *msg)
{
	struct bus *b = ctx;

	if (b->count < MAX_MSGS)
		b->msgs[b->count] = *msg;
	b->count++;
}

struct fixture {
	struct bus bus;
	struct ioapic *io;
};

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ 0 };
	struct ioapic_ops ops = { bus_deliver, &f.bus };
	f.io = ioapic_create(2, &ops);
	if (!f.io)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ioapic_destroy(f->io);
	return 0;
}

static uint32_t reg_read(struct ioapic *io, uint32_t reg)
{
	ioapic_write(io, IOAPIC_REGSEL, reg);
	return ioapic_read(io, IOAPIC_WINDOW);
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t val)
{
	ioapic_write(io, IOAPIC_REGSEL, reg);
	ioapic_write(io, IOAPIC_WINDOW, val);
}

/* As Linux's ioapic_write_entry: high dword (destination) first. */
static void program_pin(struct ioapic *io, unsigned pin, uint8_t dest,
			uint32_t low)
{
	reg_write(io, 0x11 + 2 * pin, (uint32_t)dest << 24);
	reg_write(io, 0x10 + 2 * pin, low);
}

static uint32_t entry_low(struct ioapic *io, unsigned pin)
{
	return reg_read(io, 0x10 + 2 * pin);
}

/* ---- registers ---------------------------------------------------------- */

static void test_identity_registers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(reg_read(f->io, 0x00), 2u << 24);
	/* Version 0x20, 24 entries (highest index 23). */
	assert_int_equal(reg_read(f->io, 0x01), 0x00170020);
	assert_int_equal(reg_read(f->io, 0x02), 2u << 24);
	/* The ID is 4 bits wide and writable; version is read-only. */
	reg_write(f->io, 0x00, 0xff000000);
	assert_int_equal(reg_read(f->io, 0x00), 0x0f000000);
	reg_write(f->io, 0x01, 0);
	assert_int_equal(reg_read(f->io, 0x01), 0x00170020);
	/* IOREGSEL reads back; unknown registers and offsets read 0. */
	ioapic_write(f->io, IOAPIC_REGSEL, 0x3f);
	assert_int_equal(ioapic_read(f->io, IOAPIC_REGSEL), 0x3f);
	assert_int_equal(ioapic_read(f->io, IOAPIC_WINDOW), 0);
	assert_int_equal(reg_read(f->io, 0x40), 0);
	assert_int_equal(ioapic_read(f->io, 0x20), 0);
	assert_int_equal(ioapic_read(f->io, IOAPIC_EOI), 0);
}

static void test_reset_entries_are_masked(void **state)
{
	struct fixture *f = *state;

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		assert_int_equal(entry_low(f->io, pin), MASKED);
		assert_int_equal(reg_read(f->io, 0x11 + 2 * pin), 0);
	}
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		ioapic_set_irq(f->io, pin, true);
	assert_int_equal(f->bus.count, 0);
}

static void test_entry_fields_round_trip(void **state)
{
	struct fixture *f = *state;

	program_pin(f->io, 23, 0xa5, 0xffffffff);
	/* Delivery status and remote IRR cannot be written. */
	assert_int_equal(entry_low(f->io, 23), 0x0001afff);
	assert_int_equal(reg_read(f->io, 0x11 + 2 * 23), 0xa5000000);
	reg_write(f->io, 0x11 + 2 * 23, 0xffffffff);
	assert_int_equal(reg_read(f->io, 0x11 + 2 * 23), 0xff000000);
}

/* ---- edge-triggered pins ------------------------------------------------ */

static void test_edge_pin_sends_on_rising_edge(void **state)
{
	struct fixture *f = *state;

	program_pin(f->io, 4, 1, 0x24); /* fixed, physical, to APIC 1 */
	ioapic_set_irq(f->io, 4, true);
	assert_int_equal(f->bus.count, 1);
	const struct ioapic_msg *m = &f->bus.msgs[0];
	assert_int_equal(m->dest, 1);
	assert_false(m->dest_logical);
	assert_int_equal(m->vector, 0x24);
	assert_int_equal(m->mode, IOAPIC_DM_FIXED);
	assert_false(m->level);
	assert_int_equal(m->pin, 4);
	/* Staying high is not a new edge, and no EOI is needed. */
	ioapic_set_irq(f->io, 4, true);
	assert_int_equal(f->bus.count, 1);
	assert_int_equal(entry_low(f->io, 4) & REMOTE_IRR, 0);
	ioapic_set_irq(f->io, 4, false);
	ioapic_set_irq(f->io, 4, true);
	assert_int_equal(f->bus.count, 2);
}

static void test_masked_edge_is_kept_until_unmask(void **state)
{
	struct fixture *f = *state;

	program_pin(f->io, 2, 0, MASKED | 0x30);
	ioapic_set_irq(f->io, 2, true);
	ioapic_set_irq(f->io, 2, false);
	assert_int_equal(f->bus.count, 0);
	assert_int_equal(entry_low(f->io, 2), MASKED | DELIVERY_STATUS | 0x30);
	reg_write(f->io, 0x10 + 2 * 2, 0x30);
	assert_int_equal(f->bus.count, 1);
	assert_int_equal(f->bus.msgs[0].vector, 0x30);
	assert_int_equal(entry_low(f->io, 2), 0x30);
	/* Sent once only. */
	reg_write(f->io, 0x10 + 2 * 2, MASKED | 0x30);
	reg_write(f->io, 0x10 + 2 * 2, 0x30);
	assert_int_equal(f->bus.count, 1);
}

/* ---- level-triggered pins ----------------------------------------------- */

static void test_level_pin_waits_for_eoi(void **state)
{
	struct fixture *f = *state;

	program_pin(f->io, 9, 0, LEVEL | 0x39);
	ioapic_set_irq(f->io, 9, true);
	assert_int_equal(f->bus.count, 1);
	assert_true(f->bus.msgs[0].level);
	assert_int_equal(f->bus.msgs[0].vector, 0x39);
	assert_int_equal(entry_low(f->io, 9), LEVEL | REMOTE_IRR | 0x39);
	/* Still asserted, in service: nothing more until the EOI. */
	ioapic_set_irq(f->io, 9, true);
	assert_int_equal(f->bus.count, 1);
	ioapic_eoi(f->io, 0x3a);
	assert_int_equal(f->bus.count, 1);
	/* EOI while the line stays asserted: delivered again. */
	ioapic_eoi(f->io, 0x39);
	assert_int_equal(f->bus.count, 2);
	assert_int_equal(entry_low(f->io, 9), LEVEL | REMOTE_IRR | 0x39);
	/* The device is serviced: line low, EOI, quiet. */
	ioapic_set_irq(f->io, 9, false);
	ioapic_eoi(f->io, 0x39);
	assert_int_equal(f->bus.count, 2);
	assert_int_equal(entry_low(f->io, 9), LEVEL | 0x39);
	ioapic_set_irq(f->io, 9, true);
	assert_int_equal(f->bus.count, 3);
}

static void test_masked_level_pin_sends_on_unmask(void **state)
{
	struct fixture *f = *state;

	program_pin(f->io, 11, 0, MASKED | LEVEL | 0x41);
	ioapic_set_irq(f->io, 11, true);
	assert_int_equal(f->bus.count, 0);
	assert_int_equal(entry_low(f->io, 11),
			 MASKED | LEVEL | DELIVERY_STATUS | 0x41);
	/* De-asserted while masked: nothing to send any more. */
	ioapic_set_irq(f->io, 11, false);
	assert_int_equal(entry_low(f->io, 11), MASKED | LEVEL | 0x41);
	ioapic_set_irq(f->io, 11, true);
	reg_write(f->io, 0x10 + 2 * 11, LEVEL | 0x41);
	assert_int_equal(f->bus.count, 1);
	assert_int_equal(entry_low(f->io, 11), LEVEL | REMOTE_IRR | 0x41);
}

static void test_eoi_register_and_shared_vector(void **state)
{
	struct fixture *f = *state;

	/* Two level pins on one vector (a shared handler): one EOI clears
	 * both. */
	program_pin(f->io, 16, 0, LEVEL | 0x50);
	program_pin(f->io, 17, 0, LEVEL | 0x50);
	ioapic_set_irq(f->io, 16, true);
	ioapic_set_irq(f->io, 17, true);
	assert_int_equal(f->bus.count, 2);
	ioapic_set_irq(f->io, 16, false);
	ioapic_set_irq(f->io, 17, false);
	/* The version-0x20 EOI register does what the broadcast does. */
	ioapic_write(f->io, IOAPIC_EOI, 0x50);
	assert_int_equal(entry_low(f->io, 16) & REMOTE_IRR, 0);
	assert_int_equal(entry_low(f->io, 17) & REMOTE_IRR, 0);
	assert_int_equal(f->bus.count, 2);
}

static void test_switch_to_edge_clears_remote_irr(void **state)
{
	struct fixture *f = *state;

	program_pin(f->io, 5, 0, LEVEL | 0x45);
	ioapic_set_irq(f->io, 5, true);
	ioapic_set_irq(f->io, 5, false);
	assert_int_equal(entry_low(f->io, 5) & REMOTE_IRR, REMOTE_IRR);
	/* Linux's clear of a stuck remote IRR: masked edge, then level. */
	reg_write(f->io, 0x10 + 2 * 5, MASKED | 0x45);
	assert_int_equal(entry_low(f->io, 5) & REMOTE_IRR, 0);
	reg_write(f->io, 0x10 + 2 * 5, LEVEL | 0x45);
	assert_int_equal(entry_low(f->io, 5), LEVEL | 0x45);
	assert_int_equal(f->bus.count, 1);
}

/* ---- delivery and destination modes ------------------------------------- */

static void test_destination_and_delivery_modes(void **state)
{
	struct fixture *f = *state;

	/* Lowest priority, logical destination (flat mask 0x0f), level. */
	program_pin(f->io, 10, 0x0f, LEVEL | LOGICAL | DM(IOAPIC_DM_LOWEST) |
					      0x60);
	ioapic_set_irq(f->io, 10, true);
	assert_int_equal(f->bus.count, 1);
	assert_int_equal(f->bus.msgs[0].dest, 0x0f);
	assert_true(f->bus.msgs[0].dest_logical);
	assert_int_equal(f->bus.msgs[0].mode, IOAPIC_DM_LOWEST);
	assert_true(f->bus.msgs[0].level);

	/* NMI and ExtINT are edge messages whatever the trigger bit says:
	 * no remote IRR, a new edge sends again without any EOI. */
	program_pin(f->io, 0, 0, LEVEL | DM(IOAPIC_DM_EXTINT));
	program_pin(f->io, 1, 0xff, LEVEL | DM(IOAPIC_DM_NMI));
	for (int round = 0; round < 2; round++) {
		ioapic_set_irq(f->io, 0, true);
		ioapic_set_irq(f->io, 1, true);
		ioapic_set_irq(f->io, 0, false);
		ioapic_set_irq(f->io, 1, false);
	}
	assert_int_equal(f->bus.count, 5);
	assert_int_equal(f->bus.msgs[1].mode, IOAPIC_DM_EXTINT);
	assert_false(f->bus.msgs[1].level);
	assert_int_equal(f->bus.msgs[2].mode, IOAPIC_DM_NMI);
	assert_int_equal(f->bus.msgs[2].dest, 0xff);
	assert_false(f->bus.msgs[2].level);
	assert_int_equal(entry_low(f->io, 0) & REMOTE_IRR, 0);
	assert_int_equal(entry_low(f->io, 1) & REMOTE_IRR, 0);

	/* SMI is not modelled: nothing is sent. */
	program_pin(f->io, 3, 0, DM(IOAPIC_DM_SMI));
	ioapic_set_irq(f->io, 3, true);
	assert_int_equal(f->bus.count, 5);
}

static void test_bad_input_is_ignored(void **state)
{
	struct fixture *f = *state;

	ioapic_set_irq(f->io, IOAPIC_PINS, true);
	ioapic_set_irq(f->io, 1000000, true);
	ioapic_write(f->io, 0x800, 0xffffffff);
	ioapic_write(f->io, 0xfff, 0xffffffff);
	assert_int_equal(f->bus.count, 0);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(entry_low(f->io, pin), MASKED);

	/* No ops at all: the model still works, nothing is called. */
	struct ioapic *bare = ioapic_create(0x1f, NULL);
	assert_non_null(bare);
	assert_int_equal(reg_read(bare, 0), 0x0f000000);
	program_pin(bare, 0, 0, 0x20);
	ioapic_set_irq(bare, 0, true);
	ioapic_eoi(bare, 0x20);
	ioapic_destroy(bare);
	ioapic_destroy(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_identity_registers),
		T(test_reset_entries_are_masked),
		T(test_entry_fields_round_trip),
		T(test_edge_pin_sends_on_rising_edge),
		T(test_masked_edge_is_kept_until_unmask),
		T(test_level_pin_waits_for_eoi),
		T(test_masked_level_pin_sends_on_unmask),
		T(test_eoi_register_and_shared_vector),
		T(test_switch_to_edge_clears_remote_irr),
		T(test_destination_and_delivery_modes),
		T(test_bad_input_is_ignored),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
