/* ACPI PM1 block: S5 power-off, status/enable, the PM timer and its SCI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/acpi_pm.h"

#define STS ACPI_PM1_EVT_OFFSET
#define EN (ACPI_PM1_EVT_OFFSET + 2)
#define CNT ACPI_PM1_CNT_OFFSET
#define TMR ACPI_PM_TMR_OFFSET
#define SEC 1000000000ull

struct owner {
	int power_offs;
	int sci_changes;
	bool sci;
};

static void on_power_off(void *ctx)
{
	((struct owner *)ctx)->power_offs++;
}

static void on_sci(void *ctx, bool level)
{
	struct owner *o = ctx;

	o->sci = level;
	o->sci_changes++;
}

struct fixture {
	struct owner owner;
	struct acpi_pm *pm;
};

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ 0 };
	struct acpi_pm_ops ops = { on_power_off, on_sci, &f.owner };
	f.pm = acpi_pm_create(&ops);
	if (!f.pm)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	acpi_pm_destroy(f->pm);
	return 0;
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(acpi_pm_read(f->pm, STS, 2, 0), 0);
	assert_int_equal(acpi_pm_read(f->pm, EN, 2, 0), 0);
	/* Always in ACPI mode (no SMI_CMD): SCI_EN is set. */
	assert_int_equal(acpi_pm_read(f->pm, CNT, 2, 0), ACPI_PM1_SCI_EN);
	assert_int_equal(acpi_pm_read(f->pm, TMR, 4, 0), 0);
}

/* What ACPICA's acpi_hw_legacy_sleep does for S5: SLP_TYP first, then
 * SLP_TYP | SLP_EN, each a read-modify-write of PM1a_CNT. */
static void test_s5_powers_off(void **state)
{
	struct fixture *f = *state;
	uint32_t typ = ACPI_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT;

	acpi_pm_write(f->pm, STS, 2, ACPI_PM1_WAK_STS, 0);
	uint32_t cnt = acpi_pm_read(f->pm, CNT, 2, 0);
	cnt &= ~(7u << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
	acpi_pm_write(f->pm, CNT, 2, cnt | typ, 0);
	assert_int_equal(f->owner.power_offs, 0);
	assert_int_equal(acpi_pm_read(f->pm, CNT, 2, 0),
			 typ | ACPI_PM1_SCI_EN);
	acpi_pm_write(f->pm, CNT, 2, cnt | typ | ACPI_PM1_SLP_EN, 0);
	assert_int_equal(f->owner.power_offs, 1);
	/* SLP_EN is write-only. */
	assert_int_equal(acpi_pm_read(f->pm, CNT, 2, 0) & ACPI_PM1_SLP_EN, 0);
}

static void test_other_sleep_states_wake_at_once(void **state)
{
	struct fixture *f = *state;

	/* S1 (type 1) is not offered; asking for it must not hang a guest
	 * polling WAK_STS, and must not power off. */
	acpi_pm_write(f->pm, CNT, 2,
		      1u << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN, 0);
	assert_int_equal(f->owner.power_offs, 0);
	assert_int_equal(acpi_pm_read(f->pm, STS, 2, 0), ACPI_PM1_WAK_STS);
	acpi_pm_write(f->pm, STS, 2, ACPI_PM1_WAK_STS, 0);
	assert_int_equal(acpi_pm_read(f->pm, STS, 2, 0), 0);
	/* SLP_EN alone with type 0 is not S5 either. */
	acpi_pm_write(f->pm, CNT, 2, ACPI_PM1_SLP_EN, 0);
	assert_int_equal(f->owner.power_offs, 0);
	/* SCI_EN cannot be cleared. */
	acpi_pm_write(f->pm, CNT, 2, 0, 0);
	assert_int_equal(acpi_pm_read(f->pm, CNT, 2, 0), ACPI_PM1_SCI_EN);
}

static void test_timer_counts_at_3_579545_mhz(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(acpi_pm_read(f->pm, TMR, 4, SEC), 3579545);
	assert_int_equal(acpi_pm_read(f->pm, TMR, 4, SEC / 1000), 3579);
	/* 2^32 ticks + 5: the 32-bit counter wrapped. */
	uint64_t wrap_ns = 1199864031882ull; /* first ns of tick 2^32 */
	assert_int_equal(acpi_pm_timer(wrap_ns - 1), 0xffffffffu);
	assert_int_equal(acpi_pm_timer(wrap_ns), 0);
	/* Exact after a century of guest time (now_ns * F would overflow
	 * 64 bits after 86 minutes); expected values from Python. */
	uint64_t century = 100ull * 365 * 24 * 3600 * SEC;
	assert_int_equal(acpi_pm_timer(century), 3452825088u);
	assert_int_equal(acpi_pm_timer(century + 123456789), 3453267007u);
	/* Byte and word reads see the same counter. */
	uint64_t t = 12345678901ull;
	uint32_t whole = acpi_pm_read(f->pm, TMR, 4, t);
	assert_int_equal(acpi_pm_read(f->pm, TMR, 2, t), whole & 0xffff);
	assert_int_equal(acpi_pm_read(f->pm, TMR + 3, 1, t), whole >> 24);
	/* Writes do not move it. */
	acpi_pm_write(f->pm, TMR, 4, 0, t);
	assert_int_equal(acpi_pm_read(f->pm, TMR, 4, t), whole);
}

static void test_timer_overflow_raises_sci(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(acpi_pm_next_deadline(f->pm), UINT64_MAX);
	acpi_pm_write(f->pm, EN, 2, ACPI_PM1_TMR, 0);
	uint64_t due = acpi_pm_next_deadline(f->pm);
	/* Bit 31 first flips after 2^31 ticks, about 600 s. */
	assert_true(acpi_pm_timer(due) == 0x80000000u);
	assert_true(acpi_pm_timer(due - 1) == 0x7fffffffu);
	acpi_pm_update(f->pm, due - 1);
	assert_false(f->owner.sci);
	acpi_pm_update(f->pm, due);
	assert_true(f->owner.sci);
	assert_int_equal(acpi_pm_read(f->pm, STS, 2, due), ACPI_PM1_TMR);
	/* Write-1-to-clear drops the line; the next overflow is at the
	 * wrap of the 32-bit counter. */
	acpi_pm_write(f->pm, STS, 2, ACPI_PM1_TMR, due);
	assert_false(f->owner.sci);
	assert_int_equal(acpi_pm_timer(acpi_pm_next_deadline(f->pm)), 0);
	/* A status bit with its enable clear raises no SCI. */
	acpi_pm_write(f->pm, EN, 2, 0, due);
	acpi_pm_update(f->pm, 3 * due);
	assert_false(f->owner.sci);
	assert_int_equal(acpi_pm_read(f->pm, STS, 2, 3 * due), ACPI_PM1_TMR);
	assert_int_equal(f->owner.sci_changes, 2);
}

static void test_wide_and_bad_accesses(void **state)
{
	struct fixture *f = *state;

	/* One dword at offset 0 is status (low) and enable (high). */
	acpi_pm_write(f->pm, STS, 4, (uint32_t)ACPI_PM1_PWRBTN << 16, 0);
	assert_int_equal(acpi_pm_read(f->pm, STS, 4, 0),
			 (uint32_t)ACPI_PM1_PWRBTN << 16);
	assert_int_equal(acpi_pm_read(f->pm, EN + 1, 1, 0),
			 ACPI_PM1_PWRBTN >> 8);
	/* Reserved enable bits stay clear. */
	acpi_pm_write(f->pm, EN, 2, 0xffff, 0);
	assert_int_equal(acpi_pm_read(f->pm, EN, 2, 0), 0x0721);
	/* Outside the block or odd sizes: all-ones, writes ignored. */
	assert_int_equal(acpi_pm_read(f->pm, ACPI_PM_PORT_COUNT, 1, 0),
			 0xffffffffu);
	assert_int_equal(acpi_pm_read(f->pm, 0, 3, 0), 0xffffffffu);
	assert_int_equal(acpi_pm_read(f->pm, 10, 4, SEC) >> 16, 0xffff);
	acpi_pm_write(f->pm, 100, 2, 0xffff, 0);
	acpi_pm_write(f->pm, CNT, 8,
		      ACPI_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT |
			      ACPI_PM1_SLP_EN, 0);
	assert_int_equal(f->owner.power_offs, 0);

	/* No callbacks at all: S5 is simply not reported. */
	struct acpi_pm *bare = acpi_pm_create(NULL);
	assert_non_null(bare);
	acpi_pm_write(bare, EN, 2, ACPI_PM1_TMR, 0);
	acpi_pm_update(bare, 1000 * SEC);
	acpi_pm_write(bare, CNT, 2,
		      ACPI_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT |
			      ACPI_PM1_SLP_EN, 0);
	acpi_pm_destroy(bare);
	acpi_pm_destroy(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_state),
		T(test_s5_powers_off),
		T(test_other_sleep_states_wake_at_once),
		T(test_timer_counts_at_3_579545_mhz),
		T(test_timer_overflow_raises_sci),
		T(test_wide_and_bad_accesses),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
