/* Local APIC model: registers, timer arithmetic, priorities, IPIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/lapic.h"

enum {
	ID = 0x20, VERSION = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0,
	EOI = 0xb0, LDR = 0xd0, DFR = 0xe0, SVR = 0xf0, ISR0 = 0x100,
	TMR0 = 0x180, IRR0 = 0x200, ESR = 0x280, ICR_LO = 0x300,
	ICR_HI = 0x310, LVT_TIMER = 0x320, LVT_THERMAL = 0x330,
	LVT_LINT0 = 0x350, LVT_ERROR = 0x370, TIMER_INIT = 0x380,
	TIMER_CUR = 0x390, TIMER_DIV = 0x3e0,
};
#define MASKED (1u << 16)
#define PERIODIC (1u << 17)

/* A fake owner recording what the APIC asked of it. */
struct recorder {
	int ipis;
	struct lapic_ipi ipi; /* the last one */
	int timer_changes;
	int eois;
	int eoi_from, eoi_vector;
};

static void rec_send_ipi(void *ctx, const struct lapic_ipi *ipi)
{
	struct recorder *r = ctx;

	r->ipis++;
	r->ipi = *ipi;
}

static void rec_timer_changed(void *ctx, int apic_id)
{
	struct recorder *r = ctx;

	(void)apic_id;
	r->timer_changes++;
}

static void rec_eoi_broadcast(void *ctx, int apic_id, int vector)
{
	struct recorder *r = ctx;

	r->eois++;
	r->eoi_from = apic_id;
	r->eoi_vector = vector;
}

struct fixture {
	struct recorder rec;
	struct lapic *l;
};

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ 0 };
	struct lapic_ops ops = { rec_send_ipi, rec_timer_changed, &f.rec,
				 rec_eoi_broadcast };
	f.l = lapic_create(3, &ops);
	if (!f.l)
		return -1;
	lapic_write(f.l, SVR, 0x1ff, 0); /* software-enable, spurious 0xff */
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	lapic_destroy(f->l);
	return 0;
}

/* ---- registers ---------------------------------------------------------- */

static void test_identity_registers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(lapic_read(f->l, ID, 0), 3u << 24);
	assert_int_equal(lapic_read(f->l, VERSION, 0), 0x00050014);
	assert_int_equal(lapic_read(f->l, APR, 0), 0);
	assert_int_equal(lapic_read(f->l, DFR, 0), 0xffffffffu);
	lapic_write(f->l, DFR, 0x0, 0);
	assert_int_equal(lapic_read(f->l, DFR, 0), 0x0fffffffu);
	lapic_write(f->l, LDR, 0x12345678, 0);
	assert_int_equal(lapic_read(f->l, LDR, 0), 0x12000000u);
	/* ID and version are read-only. */
	lapic_write(f->l, ID, 7u << 24, 0);
	lapic_write(f->l, VERSION, 0, 0);
	assert_int_equal(lapic_read(f->l, ID, 0), 3u << 24);
	assert_int_equal(lapic_read(f->l, VERSION, 0), 0x00050014);
}

static void test_odd_offsets_read_zero(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(lapic_read(f->l, ID + 4, 0), 0);
	assert_int_equal(lapic_read(f->l, ID + 1, 0), 0);
	assert_int_equal(lapic_read(f->l, 0x1000, 0), 0);
	assert_int_equal(lapic_read(f->l, 0xffffffffu, 0), 0);
	assert_int_equal(lapic_read(f->l, 0x3f0, 0), 0); /* reserved */
	lapic_write(f->l, TPR + 4, 0xff, 0);
	lapic_write(f->l, 0xfffffff0u, 0xff, 0);
	assert_int_equal(lapic_read(f->l, TPR, 0), 0);
}

static void test_lvts_store_and_mask(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, LVT_LINT0, 0x0001a7ff, 0);
	assert_int_equal(lapic_read(f->l, LVT_LINT0, 0), 0x0001a7ff);
	lapic_write(f->l, LVT_ERROR, 0xffffffff, 0);
	assert_int_equal(lapic_read(f->l, LVT_ERROR, 0), 0x000100ff);
	lapic_write(f->l, LVT_THERMAL, 0x42, 0);
	assert_int_equal(lapic_read(f->l, LVT_THERMAL, 0), 0x42);
	/* Timer modes: periodic (1) and TSC-deadline (2) store; the
	 * reserved mode 3 leaves the mode as it was. */
	lapic_write(f->l, LVT_TIMER, 0x40040, 0);
	assert_int_equal(lapic_read(f->l, LVT_TIMER, 0), 0x40040);
	lapic_write(f->l, LVT_TIMER, 0x60041, 0);
	assert_int_equal(lapic_read(f->l, LVT_TIMER, 0), 0x40041);
	lapic_write(f->l, LVT_TIMER, 0xfff800ff, 0);
	assert_int_equal(lapic_read(f->l, LVT_TIMER, 0), 0x000000ff);
}

static void test_power_up_state_is_disabled(void **state)
{
	(void)state;
	struct lapic *l = lapic_create(0, NULL); /* NULL ops are allowed */

	assert_non_null(l);
	assert_int_equal(lapic_read(l, SVR, 0), 0xff);
	assert_int_equal(lapic_read(l, LVT_TIMER, 0), MASKED);
	/* Disabled: a fixed interrupt is refused, an NMI is not. */
	lapic_set_irr(l, 0x40);
	assert_int_equal(lapic_pending_intr(l), -1);
	assert_int_equal(lapic_read(l, IRR0 + 0x20, 0), 0);
	lapic_set_nmi(l);
	assert_true(lapic_has_wake_event(l, false));
	assert_true(lapic_take_nmi(l));
	assert_false(lapic_take_nmi(l));
	assert_false(lapic_has_wake_event(l, true));
	/* Writes with ops == NULL must not crash. */
	lapic_write(l, SVR, 0x100, 0);
	lapic_write(l, ICR_LO, 0x4030, 0);
	lapic_write(l, TIMER_INIT, 10, 0);
	lapic_destroy(l);
}

static void test_svr_disable_masks_lvts(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, LVT_TIMER, 0x30, 0);
	lapic_write(f->l, LVT_LINT0, 0x31, 0);
	lapic_write(f->l, SVR, 0x0ff, 0);
	assert_int_equal(lapic_read(f->l, LVT_TIMER, 0), MASKED | 0x30);
	assert_int_equal(lapic_read(f->l, LVT_LINT0, 0), MASKED | 0x31);
	/* The mask cannot be cleared while disabled. */
	lapic_write(f->l, LVT_TIMER, 0x30, 0);
	assert_int_equal(lapic_read(f->l, LVT_TIMER, 0), MASKED | 0x30);
	lapic_set_irr(f->l, 0x50);
	assert_int_equal(lapic_pending_intr(f->l), -1);
	/* The timer still counts but delivers nothing. */
	lapic_write(f->l, TIMER_INIT, 100, 0);
	assert_false(lapic_timer_update(f->l, 1000));
	assert_int_equal(lapic_pending_intr(f->l), -1);
	/* Re-enabled: fixed interrupts are accepted again. */
	lapic_write(f->l, SVR, 0x1ff, 0);
	lapic_set_irr(f->l, 0x50);
	assert_int_equal(lapic_pending_intr(f->l), 0x50);
}

/* ---- timer -------------------------------------------------------------- */

/* SDM table 11-10 encodings for divide-by 1, 2, 4, ..., 128. */
static const struct {
	uint32_t conf;
	uint64_t div;
} divides[] = {
	{ 0xb, 1 }, { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 },
	{ 0x3, 16 }, { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 },
};

static void test_timer_arithmetic_every_divide(void **state)
{
	struct fixture *f = *state;
	const uint64_t t0 = 5000;

	lapic_write(f->l, LVT_TIMER, 0x40, 0);
	for (size_t i = 0; i < sizeof(divides) / sizeof(divides[0]); i++) {
		uint64_t div = divides[i].div;

		lapic_write(f->l, TIMER_DIV, divides[i].conf, 0);
		assert_int_equal(lapic_read(f->l, TIMER_DIV, 0),
				 divides[i].conf);
		lapic_write(f->l, TIMER_INIT, 1000, t0);
		assert_int_equal(lapic_next_deadline(f->l), t0 + 1000 * div);
		assert_int_equal(lapic_read(f->l, TIMER_CUR, t0), 1000);
		/* A tick is div ns: the count drops by one per tick. */
		assert_int_equal(lapic_read(f->l, TIMER_CUR, t0 + div), 999);
		assert_int_equal(
			lapic_read(f->l, TIMER_CUR, t0 + 250 * div), 750);
		assert_false(lapic_timer_update(f->l, t0 + 1000 * div - 1));
		assert_true(lapic_timer_update(f->l, t0 + 1000 * div));
		assert_int_equal(lapic_read(f->l, TIMER_CUR, t0 + 1000 * div),
				 0);
		lapic_accept_intr(f->l, 0x40);
		lapic_write(f->l, EOI, 0, 0);
	}
}

static void test_one_shot_fires_once(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, LVT_TIMER, 0x41, 0);
	lapic_write(f->l, TIMER_DIV, 0xb, 0);
	lapic_write(f->l, TIMER_INIT, 100, 1000);
	assert_int_equal(lapic_read(f->l, TIMER_INIT, 0), 100);
	assert_false(lapic_timer_update(f->l, 1099));
	assert_int_equal(lapic_pending_intr(f->l), -1);
	assert_true(lapic_timer_update(f->l, 1100));
	assert_int_equal(lapic_pending_intr(f->l), 0x41);
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	assert_false(lapic_timer_update(f->l, 1000000));
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 1000000), 0);
}

static void test_periodic_rearms_and_reloads(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, LVT_TIMER, PERIODIC | 0x42, 0);
	lapic_write(f->l, TIMER_DIV, 0x0, 0); /* divide by 2 */
	lapic_write(f->l, TIMER_INIT, 50, 0); /* period 100 ns */
	assert_true(lapic_timer_update(f->l, 100));
	assert_int_equal(lapic_next_deadline(f->l), 200);
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 100), 50);
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 150), 25);
	assert_true(lapic_timer_update(f->l, 200));
	assert_int_equal(lapic_next_deadline(f->l), 300);
	/* Expired but not yet updated: the count has already reloaded. */
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 320), 40);
}

static void test_current_count_decreases(void **state)
{
	struct fixture *f = *state;
	uint32_t prev = UINT32_MAX;

	lapic_write(f->l, TIMER_DIV, 0x1, 0); /* divide by 4 */
	lapic_write(f->l, TIMER_INIT, 0xffffffffu, 0);
	for (uint64_t t = 0; t < 4000000000ull; t += 123456789) {
		uint32_t cur = lapic_read(f->l, TIMER_CUR, t);
		assert_true(t == 0 || cur < prev);
		assert_int_equal(cur, 0xffffffffu - t / 4);
		prev = cur;
	}
}

static void test_masked_timer_counts_without_interrupt(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, LVT_TIMER, MASKED | PERIODIC | 0x43, 0);
	lapic_write(f->l, TIMER_DIV, 0xb, 0);
	lapic_write(f->l, TIMER_INIT, 10, 0);
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 3), 7);
	assert_false(lapic_timer_update(f->l, 10));
	assert_int_equal(lapic_pending_intr(f->l), -1);
	assert_int_equal(lapic_read(f->l, IRR0 + 0x20, 0), 0);
	assert_int_equal(lapic_next_deadline(f->l), 20);
	/* Unmasked: the next period delivers. */
	lapic_write(f->l, LVT_TIMER, PERIODIC | 0x43, 0);
	assert_true(lapic_timer_update(f->l, 20));
	assert_int_equal(lapic_pending_intr(f->l), 0x43);
}

static void test_no_storm_after_long_gap(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, LVT_TIMER, PERIODIC | 0x44, 0);
	lapic_write(f->l, TIMER_DIV, 0xb, 0);
	lapic_write(f->l, TIMER_INIT, 1000, 0); /* period 1 us, phase 0 */
	/* A debugger stop of ~1 s: a million periods went by. */
	assert_true(lapic_timer_update(f->l, 1000000500));
	assert_false(lapic_timer_update(f->l, 1000000500));
	assert_false(lapic_timer_update(f->l, 1000000999));
	/* Next deadline is the next period boundary after now: phase kept. */
	assert_int_equal(lapic_next_deadline(f->l), 1000001000);
	assert_true(lapic_timer_update(f->l, 1000001000));
	assert_int_equal(lapic_next_deadline(f->l), 1000002000);
	/* Exactly on a boundary: fire once, next boundary is strictly after. */
	assert_true(lapic_timer_update(f->l, 1000005000));
	assert_int_equal(lapic_next_deadline(f->l), 1000006000);
}

static void test_stop_and_timer_changed(void **state)
{
	struct fixture *f = *state;
	int before = f->rec.timer_changes;

	lapic_write(f->l, LVT_TIMER, 0x45, 0);
	lapic_write(f->l, TIMER_INIT, 100, 0);
	lapic_write(f->l, TIMER_DIV, 0x3, 0);
	assert_int_equal(f->rec.timer_changes, before + 3);
	/* Writing 0 stops it. */
	lapic_write(f->l, TIMER_INIT, 0, 50);
	assert_int_equal(f->rec.timer_changes, before + 4);
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 60), 0);
	assert_false(lapic_timer_update(f->l, UINT64_MAX));
	/* Registers that do not touch the timer do not notify. */
	lapic_write(f->l, TPR, 0x10, 0);
	lapic_write(f->l, LVT_LINT0, 0x10, 0);
	assert_int_equal(f->rec.timer_changes, before + 4);
}

static void test_divide_change_keeps_remaining_count(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, LVT_TIMER, 0x46, 0);
	lapic_write(f->l, TIMER_DIV, 0xb, 0); /* 1 */
	lapic_write(f->l, TIMER_INIT, 100, 0);
	lapic_write(f->l, TIMER_DIV, 0x2, 40); /* 8, 60 ticks left */
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 40), 60);
	assert_int_equal(lapic_next_deadline(f->l), 40 + 60 * 8);
	/* A one-shot that is already due stays due. */
	lapic_write(f->l, TIMER_DIV, 0xb, 1000);
	assert_true(lapic_timer_update(f->l, 1000));
}

static void test_huge_count_does_not_overflow(void **state)
{
	struct fixture *f = *state;
	uint64_t near_end = UINT64_MAX - 1000;

	lapic_write(f->l, LVT_TIMER, PERIODIC | 0x47, 0);
	lapic_write(f->l, TIMER_DIV, 0xa, 0); /* 128 */
	lapic_write(f->l, TIMER_INIT, 0xffffffffu, 0);
	assert_int_equal(lapic_next_deadline(f->l), 0xffffffffull * 128);
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 128), 0xfffffffeu);
	/* A deadline past the end of the clock saturates to "never". */
	lapic_write(f->l, TIMER_INIT, 0xffffffffu, near_end);
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	assert_false(lapic_timer_update(f->l, UINT64_MAX - 1));
}

/* ---- priorities --------------------------------------------------------- */

static void test_irr_isr_eoi_priority(void **state)
{
	struct fixture *f = *state;

	lapic_set_irr(f->l, 0x31);
	lapic_set_irr(f->l, 0x62);
	lapic_set_irr(f->l, 0x65);
	assert_int_equal(lapic_read(f->l, IRR0 + 0x30, 0), (1u << 2) | (1u << 5));
	assert_int_equal(lapic_pending_intr(f->l), 0x65);
	lapic_accept_intr(f->l, 0x65);
	assert_int_equal(lapic_read(f->l, ISR0 + 0x30, 0), 1u << 5);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0x60);
	/* 0x62 is in the same class as the one in service: held. */
	assert_int_equal(lapic_pending_intr(f->l), -1);
	assert_false(lapic_has_wake_event(f->l, true));
	/* A higher class preempts. */
	lapic_set_irr(f->l, 0x70);
	assert_int_equal(lapic_pending_intr(f->l), 0x70);
	lapic_accept_intr(f->l, 0x70);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0x70);
	/* EOI retires the highest in service first. */
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(lapic_read(f->l, ISR0 + 0x30, 0), 1u << 5);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0x60);
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(lapic_read(f->l, ISR0 + 0x30, 0), 0);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0);
	assert_int_equal(lapic_pending_intr(f->l), 0x62);
	lapic_accept_intr(f->l, 0x62);
	assert_int_equal(lapic_pending_intr(f->l), -1);
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(lapic_pending_intr(f->l), 0x31);
	/* EOI with nothing in service is harmless. */
	lapic_accept_intr(f->l, 0x31);
	lapic_write(f->l, EOI, 0, 0);
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(lapic_pending_intr(f->l), -1);
}

static void test_tpr_blocks_lower_classes(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, TPR, 0x5a, 0);
	assert_int_equal(lapic_read(f->l, TPR, 0), 0x5a);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0x5a);
	lapic_set_irr(f->l, 0x5f);
	assert_int_equal(lapic_pending_intr(f->l), -1);
	assert_false(lapic_has_wake_event(f->l, true));
	lapic_set_irr(f->l, 0x60);
	assert_int_equal(lapic_pending_intr(f->l), 0x60);
	assert_true(lapic_has_wake_event(f->l, true));
	assert_false(lapic_has_wake_event(f->l, false));
	lapic_write(f->l, TPR, 0x00, 0);
	lapic_accept_intr(f->l, 0x60);
	assert_int_equal(lapic_pending_intr(f->l), -1);
	/* PPR = max(TPR, ISR class): ISR 0x60 beats TPR 0x30. */
	lapic_write(f->l, TPR, 0x30, 0);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0x60);
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0x30);
	assert_int_equal(lapic_pending_intr(f->l), 0x5f);
	/* Same class in TPR and ISR: PPR is the whole TPR (SDM 11.8.3.1). */
	lapic_accept_intr(f->l, 0x5f);
	lapic_write(f->l, TPR, 0x57, 0);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0x57);
	lapic_write(f->l, TPR, 0x4f, 0);
	assert_int_equal(lapic_read(f->l, PPR, 0), 0x50);
}

static void test_illegal_vectors_refused(void **state)
{
	struct fixture *f = *state;

	lapic_set_irr(f->l, 5);
	lapic_set_irr(f->l, -1);
	lapic_set_irr(f->l, 256);
	assert_int_equal(lapic_pending_intr(f->l), -1);
	assert_int_equal(lapic_read(f->l, IRR0, 0), 0);
	lapic_write(f->l, ESR, 0, 0);
	assert_int_equal(lapic_read(f->l, ESR, 0), 1u << 6);
	lapic_write(f->l, ESR, 0, 0);
	assert_int_equal(lapic_read(f->l, ESR, 0), 0);
	lapic_accept_intr(f->l, 300); /* ignored, no crash */
	assert_int_equal(lapic_read(f->l, TMR0, 0), 0);
}

/* ---- IPIs --------------------------------------------------------------- */

static void send_icr(struct lapic *l, uint32_t hi, uint32_t lo)
{
	lapic_write(l, ICR_HI, hi, 0);
	lapic_write(l, ICR_LO, lo, 0);
}

static void test_fixed_ipi_physical(void **state)
{
	struct fixture *f = *state;

	send_icr(f->l, 2u << 24, 0x4050);
	assert_int_equal(f->rec.ipis, 1);
	assert_int_equal(f->rec.ipi.from, 3);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_DEST);
	assert_int_equal(f->rec.ipi.dest, 2);
	assert_false(f->rec.ipi.logical);
	assert_false(f->rec.ipi.lowest_priority);
	assert_int_equal(f->rec.ipi.vector, 0x50);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_FIXED);
	assert_int_equal(lapic_read(f->l, ICR_HI, 0), 2u << 24);
	/* Delivery status always reads idle. */
	assert_int_equal(lapic_read(f->l, ICR_LO, 0) & (1u << 12), 0);
	/* Physical 0xff (the broadcast) is passed on as written: the owner
	 * matches it with lapic_matches_destination. */
	send_icr(f->l, 0xffu << 24, 0x51);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_DEST);
	assert_int_equal(f->rec.ipi.dest, 0xff);
	/* The sender does not latch anything itself. */
	assert_int_equal(lapic_pending_intr(f->l), -1);
}

static void test_nmi_and_startup_ipis(void **state)
{
	struct fixture *f = *state;

	send_icr(f->l, 1u << 24, 0x400);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_NMI);
	assert_int_equal(f->rec.ipi.dest, 1);
	send_icr(f->l, 1u << 24, 0xc500); /* INIT assert */
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_INIT);
	assert_int_equal(f->rec.ipis, 2);
	send_icr(f->l, 1u << 24, 0x8500); /* INIT level de-assert */
	assert_int_equal(f->rec.ipis, 2);
	send_icr(f->l, 1u << 24, 0x609);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_STARTUP);
	assert_int_equal(f->rec.ipi.vector, 9);
	assert_int_equal(f->rec.ipis, 3);
}

static void test_ipi_shorthands(void **state)
{
	struct fixture *f = *state;

	send_icr(f->l, 7u << 24, (1u << 18) | 0x60);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_SELF);
	assert_int_equal(f->rec.ipi.from, 3);
	send_icr(f->l, 7u << 24, (2u << 18) | 0x61);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_ALL);
	send_icr(f->l, 7u << 24, (3u << 18) | 0x62);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_OTHERS);
	send_icr(f->l, 7u << 24, (3u << 18) | 0x400);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_OTHERS);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_NMI);
	assert_int_equal(f->rec.ipis, 4);
}

static void test_unsendable_ipis(void **state)
{
	struct fixture *f = *state;

	send_icr(f->l, 1u << 24, 0x0f); /* fixed vector 15: illegal */
	assert_int_equal(f->rec.ipis, 0);
	lapic_write(f->l, ESR, 0, 0);
	assert_int_equal(lapic_read(f->l, ESR, 0), 1u << 5);
	send_icr(f->l, 1u << 24, 0x200 | 0x40); /* SMI */
	send_icr(f->l, 1u << 24, 0x700 | 0x40); /* reserved */
	assert_int_equal(f->rec.ipis, 0);
}

/* Linux's flat APIC driver (up to 8 CPUs) sends every IPI that is not a
 * shorthand in logical mode: a bit per CPU in the destination. */
static void test_logical_and_lowest_priority_ipis(void **state)
{
	struct fixture *f = *state;

	send_icr(f->l, 0x06u << 24, 0x800 | 0xfd);
	assert_int_equal(f->rec.ipis, 1);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_DEST);
	assert_true(f->rec.ipi.logical);
	assert_int_equal(f->rec.ipi.dest, 0x06);
	assert_int_equal(f->rec.ipi.vector, 0xfd);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_FIXED);
	assert_false(f->rec.ipi.lowest_priority);
	send_icr(f->l, 1u << 24, 0x100 | 0x40); /* lowest priority */
	assert_int_equal(f->rec.ipis, 2);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_FIXED);
	assert_true(f->rec.ipi.lowest_priority);
	assert_false(f->rec.ipi.logical);
}

/* ---- level-triggered interrupts and destinations ------------------------ */

static void test_level_eoi_is_broadcast(void **state)
{
	struct fixture *f = *state;

	lapic_set_irr_trigger(f->l, 0x41, true);
	assert_int_equal(lapic_read(f->l, TMR0 + 0x20, 0), 1u << 1);
	lapic_accept_intr(f->l, 0x41);
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(f->rec.eois, 1);
	assert_int_equal(f->rec.eoi_from, 3);
	assert_int_equal(f->rec.eoi_vector, 0x41);
	/* The same vector accepted edge-triggered clears TMR: no broadcast. */
	lapic_set_irr(f->l, 0x41);
	assert_int_equal(lapic_read(f->l, TMR0 + 0x20, 0), 0);
	lapic_accept_intr(f->l, 0x41);
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(f->rec.eois, 1);
}

static void test_eoi_broadcasts_only_the_retired_vector(void **state)
{
	struct fixture *f = *state;

	/* A level interrupt in service below an edge one: the first EOI
	 * retires the edge vector and broadcasts nothing. */
	lapic_set_irr_trigger(f->l, 0x51, true);
	lapic_accept_intr(f->l, 0x51);
	lapic_set_irr(f->l, 0x92);
	lapic_accept_intr(f->l, 0x92);
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(f->rec.eois, 0);
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(f->rec.eois, 1);
	assert_int_equal(f->rec.eoi_vector, 0x51);
	/* EOI with nothing in service broadcasts nothing. */
	lapic_write(f->l, EOI, 0, 0);
	assert_int_equal(f->rec.eois, 1);
}

static void test_physical_destination(void **state)
{
	struct fixture *f = *state;

	assert_true(lapic_matches_destination(f->l, 3, false));
	assert_true(lapic_matches_destination(f->l, 0xff, false));
	assert_false(lapic_matches_destination(f->l, 2, false));
	assert_false(lapic_matches_destination(f->l, 0x13, false));
}

static void test_logical_destination_flat_and_cluster(void **state)
{
	struct fixture *f = *state;

	/* Reset LDR 0 matches no logical destination but broadcast. */
	assert_false(lapic_matches_destination(f->l, 0x0f, true));
	assert_true(lapic_matches_destination(f->l, 0xff, true));
	/* Flat model (DFR reset value), LDR bit 3 (as Linux gives CPU 3). */
	lapic_write(f->l, LDR, 0x08000000, 0);
	assert_true(lapic_matches_destination(f->l, 0x08, true));
	assert_true(lapic_matches_destination(f->l, 0x0c, true));
	assert_false(lapic_matches_destination(f->l, 0x07, true));
	/* Cluster model: cluster 2, member bit 1. */
	lapic_write(f->l, DFR, 0x0fffffff, 0);
	lapic_write(f->l, LDR, 0x22000000, 0);
	assert_true(lapic_matches_destination(f->l, 0x23, true));
	assert_false(lapic_matches_destination(f->l, 0x13, true));
	assert_false(lapic_matches_destination(f->l, 0x21, true));
	assert_true(lapic_matches_destination(f->l, 0xff, true));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_identity_registers),
		T(test_odd_offsets_read_zero),
		T(test_lvts_store_and_mask),
		cmocka_unit_test(test_power_up_state_is_disabled),
		T(test_svr_disable_masks_lvts),
		T(test_timer_arithmetic_every_divide),
		T(test_one_shot_fires_once),
		T(test_periodic_rearms_and_reloads),
		T(test_current_count_decreases),
		T(test_masked_timer_counts_without_interrupt),
		T(test_no_storm_after_long_gap),
		T(test_stop_and_timer_changed),
		T(test_divide_change_keeps_remaining_count),
		T(test_huge_count_does_not_overflow),
		T(test_irr_isr_eoi_priority),
		T(test_tpr_blocks_lower_classes),
		T(test_illegal_vectors_refused),
		T(test_fixed_ipi_physical),
		T(test_nmi_and_startup_ipis),
		T(test_ipi_shorthands),
		T(test_unsendable_ipis),
		T(test_level_eoi_is_broadcast),
		T(test_eoi_broadcasts_only_the_retired_vector),
		T(test_logical_and_lowest_priority_ipis),
		T(test_physical_destination),
		T(test_logical_destination_flat_and_cluster),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
