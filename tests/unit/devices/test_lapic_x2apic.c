/* Local APIC model: IA32_APIC_BASE modes, the x2APIC MSR interface and
 * the TSC-deadline timer (Intel SDM vol. 3, 11.5.4.1 and 11.12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/lapic.h"

/* MMIO offsets and the x2APIC MSRs that are the same registers. */
enum { ID = 0x20, TPR = 0x80, SVR = 0xf0, LVT_TIMER = 0x320,
       TIMER_INIT = 0x380, TIMER_CUR = 0x390 };
enum {
	MSR_ID = 0x802, MSR_VERSION = 0x803, MSR_TPR = 0x808, MSR_APR = 0x809,
	MSR_PPR = 0x80a, MSR_EOI = 0x80b, MSR_RRD = 0x80c, MSR_LDR = 0x80d,
	MSR_DFR = 0x80e, MSR_SVR = 0x80f, MSR_ISR0 = 0x810, MSR_TMR0 = 0x818,
	MSR_IRR0 = 0x820, MSR_ESR = 0x828, MSR_CMCI = 0x82f, MSR_ICR = 0x830,
	MSR_ICR_HI = 0x831, MSR_LVT_TIMER = 0x832, MSR_LVT_LINT0 = 0x835,
	MSR_LVT_ERROR = 0x837, MSR_TIMER_INIT = 0x838, MSR_TIMER_CUR = 0x839,
	MSR_TIMER_DIV = 0x83e, MSR_SELF_IPI = 0x83f,
};
#define BASE_XAPIC 0xfee00800ULL   /* EN */
#define BASE_X2APIC 0xfee00c00ULL  /* EN | EXTD */
#define BASE_DISABLED 0xfee00000ULL
#define TSC_DEADLINE_MODE (2u << 17)

struct recorder {
	int ipis;
	struct lapic_ipi ipi;
	int timer_changes;
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

struct fixture {
	struct recorder rec;
	struct lapic *l;
};

/* APIC ID 0x45: cluster 4, member bit 5 in x2APIC logical terms. */
#define APIC_ID 0x45u

static struct lapic *make(struct fixture *f, unsigned id)
{
	struct lapic_ops ops = { rec_send_ipi, rec_timer_changed, &f->rec,
				 NULL };
	return lapic_create(id, &ops);
}

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ 0 };
	f.l = make(&f, APIC_ID);
	if (!f.l)
		return -1;
	lapic_write(f.l, SVR, 0x1ff, 0);
	*state = &f;
	return 0;
}

/* The same, switched to x2APIC mode. */
static int setup_x2apic(void **state)
{
	if (setup(state) != 0)
		return -1;
	struct fixture *f = *state;
	return lapic_set_base(f->l, BASE_X2APIC) ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	lapic_destroy(f->l);
	return 0;
}

static uint64_t rd(struct lapic *l, uint32_t msr)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;

	if (!lapic_msr_read(l, msr, &v, 0))
		fail_msg("RDMSR %#x: #GP", msr);
	return v;
}

static void wr(struct lapic *l, uint32_t msr, uint64_t v)
{
	if (!lapic_msr_write(l, msr, v, 0))
		fail_msg("WRMSR %#x <- %#llx: #GP", msr, (unsigned long long)v);
}

static void assert_read_gp(struct lapic *l, uint32_t msr)
{
	uint64_t v = 0x1234;

	if (lapic_msr_read(l, msr, &v, 0))
		fail_msg("RDMSR %#x: no #GP", msr);
	assert_int_equal(v, 0x1234); /* nothing written on #GP */
}

static void assert_write_gp(struct lapic *l, uint32_t msr, uint64_t v)
{
	if (lapic_msr_write(l, msr, v, 0))
		fail_msg("WRMSR %#x <- %#llx: no #GP", msr,
			 (unsigned long long)v);
}

/* ---- IA32_APIC_BASE ------------------------------------------------------ */

static void test_reset_base_bsp_and_ap(void **state)
{
	(void)state;
	struct lapic *bsp = lapic_create(0, NULL), *ap = lapic_create(1, NULL);

	assert_int_equal(lapic_get_base(bsp), 0xfee00900);
	assert_int_equal(lapic_get_base(ap), 0xfee00800);
	assert_int_equal(lapic_get_mode(ap), LAPIC_MODE_XAPIC);
	/* The BSP flag is read-only either way. */
	assert_true(lapic_set_base(ap, 0xfee00900));
	assert_int_equal(lapic_get_base(ap), 0xfee00800);
	assert_true(lapic_set_base(bsp, BASE_X2APIC));
	assert_int_equal(lapic_get_base(bsp), 0xfee00d00);
	lapic_destroy(bsp);
	lapic_destroy(ap);
}

/* SDM figure 11-27: the legal transitions and the ones that #GP. */
static void test_mode_transitions(void **state)
{
	struct fixture *f = *state;

	/* Invalid state: EXTD without EN, from any mode. */
	assert_false(lapic_set_base(f->l, 0xfee00400));
	assert_true(lapic_set_base(f->l, BASE_X2APIC));
	assert_int_equal(lapic_get_mode(f->l), LAPIC_MODE_X2APIC);
	assert_false(lapic_set_base(f->l, 0xfee00400));
	/* x2APIC -> xAPIC is refused; the mode stays. */
	assert_false(lapic_set_base(f->l, BASE_XAPIC));
	assert_int_equal(lapic_get_base(f->l), BASE_X2APIC);
	/* x2APIC -> disabled -> (not x2APIC) -> xAPIC -> x2APIC. */
	assert_true(lapic_set_base(f->l, BASE_DISABLED));
	assert_int_equal(lapic_get_mode(f->l), LAPIC_MODE_DISABLED);
	assert_false(lapic_set_base(f->l, BASE_X2APIC));
	assert_int_equal(lapic_get_mode(f->l), LAPIC_MODE_DISABLED);
	assert_true(lapic_set_base(f->l, BASE_XAPIC));
	assert_true(lapic_set_base(f->l, BASE_X2APIC));
	/* Staying in a mode is no transition. */
	assert_true(lapic_set_base(f->l, BASE_X2APIC));
	assert_true(lapic_set_base(f->l, BASE_DISABLED));
	assert_true(lapic_set_base(f->l, BASE_DISABLED));
}

static void test_base_reserved_bits_and_moves(void **state)
{
	struct fixture *f = *state;

	assert_false(lapic_set_base(f->l, BASE_XAPIC | 1));      /* bit 0 */
	assert_false(lapic_set_base(f->l, BASE_XAPIC | 0x200));  /* bit 9 */
	assert_false(lapic_set_base(f->l, BASE_XAPIC | (1ULL << 40)));
	assert_false(lapic_set_base(f->l, 0xfec00800)); /* a new base */
	assert_int_equal(lapic_get_base(f->l), BASE_XAPIC);
}

/* Disabling loses the APIC's state; while disabled the page is not the
 * APIC's and no fixed interrupt is accepted. */
static void test_disable_resets_registers(void **state)
{
	struct fixture *f = *state;

	lapic_write(f->l, TPR, 0x20, 0);
	lapic_write(f->l, LVT_TIMER, 0x40, 0);
	lapic_write(f->l, TIMER_INIT, 1000, 0);
	assert_int_equal(lapic_next_deadline(f->l), 2000); /* divide by 2 */
	int changes = f->rec.timer_changes;
	assert_true(lapic_set_base(f->l, BASE_DISABLED));
	assert_int_equal(f->rec.timer_changes, changes + 1);
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	assert_int_equal(lapic_read(f->l, TPR, 0), 0xffffffffu);
	lapic_set_irr(f->l, 0x50);
	assert_int_equal(lapic_pending_intr(f->l), -1);
	assert_true(lapic_set_base(f->l, BASE_XAPIC));
	assert_int_equal(lapic_read(f->l, ID, 0), APIC_ID << 24);
	assert_int_equal(lapic_read(f->l, TPR, 0), 0);
	assert_int_equal(lapic_read(f->l, SVR, 0), 0xff);
	assert_int_equal(lapic_read(f->l, LVT_TIMER, 0), 1u << 16);
	assert_int_equal(lapic_read(f->l, TIMER_INIT, 0), 0);
}

/* INIT (lapic_init_reset): registers and timer as after power-up, pending
 * interrupts and NMI gone; the ID and the mode (here x2APIC) stay. */
static void test_init_resets_all_but_id_and_mode(void **state)
{
	struct fixture *f = *state;

	wr(f->l, MSR_TPR, 0x20);
	wr(f->l, MSR_LVT_TIMER, 0x40);
	wr(f->l, MSR_TIMER_INIT, 1000);
	assert_int_not_equal(lapic_next_deadline(f->l), UINT64_MAX);
	lapic_set_irr(f->l, 0x50);
	lapic_set_nmi(f->l);
	int changes = f->rec.timer_changes;
	lapic_init_reset(f->l);
	assert_int_equal(f->rec.timer_changes, changes + 1);
	assert_int_equal(lapic_get_base(f->l), BASE_X2APIC);
	assert_int_equal(rd(f->l, MSR_ID), APIC_ID);
	assert_int_equal(rd(f->l, MSR_TPR), 0);
	assert_int_equal(rd(f->l, MSR_SVR), 0xff);
	assert_int_equal(rd(f->l, MSR_LVT_TIMER), 1u << 16);
	assert_int_equal(rd(f->l, MSR_TIMER_INIT), 0);
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	assert_int_equal(rd(f->l, MSR_IRR0 + 0x50 / 32), 0);
	assert_false(lapic_take_nmi(f->l));
	/* Software-enabled again, it takes interrupts as after power-up. */
	wr(f->l, MSR_SVR, 0x1ff);
	lapic_set_irr(f->l, 0x50);
	assert_int_equal(lapic_pending_intr(f->l), 0x50);
}

/* ---- the x2APIC MSR interface -------------------------------------------- */

static void test_msrs_only_in_x2apic_mode(void **state)
{
	struct fixture *f = *state;

	assert_read_gp(f->l, MSR_ID);
	assert_write_gp(f->l, MSR_TPR, 0x10);
	assert_read_gp(f->l, MSR_TPR);
	assert_int_equal(lapic_read(f->l, TPR, 0), 0); /* not written */
	/* Not an x2APIC MSR at all. */
	assert_read_gp(f->l, 0x7ff);
	assert_read_gp(f->l, 0x900);
}

static void test_x2apic_identity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f->l, MSR_ID), APIC_ID); /* 32 bits, not << 24 */
	assert_int_equal(rd(f->l, MSR_VERSION), 0x00050014);
	/* Logical x2APIC ID: cluster 0x45 >> 4 = 4, bit 0x45 & 15 = 5. */
	assert_int_equal(rd(f->l, MSR_LDR), 0x00040020);
	/* IDs wider than 8 bits, as x2APIC allows. */
	struct lapic *wide = lapic_create(0x1234, NULL);
	assert_true(lapic_set_base(wide, BASE_X2APIC));
	assert_int_equal(rd(wide, MSR_ID), 0x1234);
	assert_int_equal(rd(wide, MSR_LDR), 0x01230010);
	lapic_destroy(wide);
}

/* The MMIO page is out of use in x2APIC mode: reads all-ones, writes go
 * nowhere. */
static void test_mmio_page_disabled(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(lapic_read(f->l, ID, 0), 0xffffffffu);
	assert_int_equal(lapic_read(f->l, SVR, 0), 0xffffffffu);
	lapic_write(f->l, TPR, 0x30, 0);
	assert_int_equal(rd(f->l, MSR_TPR), 0);
	assert_int_equal(rd(f->l, MSR_SVR), 0x1ff); /* kept from xAPIC mode */
}

static void test_read_write_registers(void **state)
{
	struct fixture *f = *state;

	wr(f->l, MSR_TPR, 0x40);
	assert_int_equal(rd(f->l, MSR_TPR), 0x40);
	assert_int_equal(lapic_tpr(f->l), 0x40);
	assert_int_equal(rd(f->l, MSR_PPR), 0x40);
	wr(f->l, MSR_TPR, 0);
	wr(f->l, MSR_LVT_LINT0, 0x0001a7ff);
	assert_int_equal(rd(f->l, MSR_LVT_LINT0), 0x0001a7ff);
	wr(f->l, MSR_LVT_ERROR, 0xffffffff);
	assert_int_equal(rd(f->l, MSR_LVT_ERROR), 0x000100ff);
	wr(f->l, MSR_TIMER_DIV, 0xb);
	assert_int_equal(rd(f->l, MSR_TIMER_DIV), 0xb);
	wr(f->l, MSR_LVT_TIMER, 0x40);
	wr(f->l, MSR_TIMER_INIT, 500);
	assert_int_equal(rd(f->l, MSR_TIMER_INIT), 500);
	assert_int_equal(rd(f->l, MSR_TIMER_CUR), 500);
	assert_int_equal(lapic_next_deadline(f->l), 500); /* divide by 1 */
	/* IRR, ISR, EOI through the MSRs. */
	lapic_set_irr(f->l, 0x61);
	assert_int_equal(rd(f->l, MSR_IRR0 + 3), 1u << 1);
	lapic_accept_intr(f->l, 0x61);
	assert_int_equal(rd(f->l, MSR_ISR0 + 3), 1u << 1);
	assert_int_equal(rd(f->l, MSR_TMR0 + 3), 0);
	wr(f->l, MSR_EOI, 0);
	assert_int_equal(rd(f->l, MSR_ISR0 + 3), 0);
	/* ESR: a write of 0 latches the errors. */
	wr(f->l, MSR_SELF_IPI, 3); /* illegal vector */
	wr(f->l, MSR_ESR, 0);
	assert_int_equal(rd(f->l, MSR_ESR), 1u << 5);
}

/* Table 11-6: what is not there, what is read-only or write-only. */
static void test_gp_cases(void **state)
{
	struct fixture *f = *state;

	/* Not in x2APIC mode: APR, RRD, DFR, the ICR's high half, CMCI
	 * (no such LVT here), unassigned addresses. */
	static const uint32_t absent[] = { MSR_APR, MSR_RRD, MSR_DFR,
					   MSR_ICR_HI, MSR_CMCI, 0x800, 0x804,
					   0x83a, 0x840, 0x8ff };
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		assert_read_gp(f->l, absent[i]);
		assert_write_gp(f->l, absent[i], 0);
	}
	/* Write-only: EOI and SELF IPI. */
	assert_read_gp(f->l, MSR_EOI);
	assert_read_gp(f->l, MSR_SELF_IPI);
	/* Read-only. */
	static const uint32_t ro[] = { MSR_ID, MSR_VERSION, MSR_PPR, MSR_LDR,
				       MSR_ISR0, MSR_TMR0 + 7, MSR_IRR0 + 4,
				       MSR_TIMER_CUR };
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		assert_write_gp(f->l, ro[i], 0);
	assert_int_equal(rd(f->l, MSR_ID), APIC_ID);
	/* Reserved bits 63:32 outside the ICR; EOI and ESR take only 0. */
	assert_write_gp(f->l, MSR_TPR, 1ULL << 32);
	assert_write_gp(f->l, MSR_LVT_TIMER, 0x40ULL | 1ULL << 63);
	assert_write_gp(f->l, MSR_EOI, 1);
	assert_write_gp(f->l, MSR_ESR, 0x20);
	assert_int_equal(rd(f->l, MSR_TPR), 0);
	assert_int_equal(f->rec.ipis, 0);
}

/* The ICR is one 64-bit MSR: one write names the 32-bit destination and
 * sends. */
static void test_icr_single_write(void **state)
{
	struct fixture *f = *state;

	wr(f->l, MSR_ICR, 0x00000123ULL << 32 | 0x4051);
	assert_int_equal(f->rec.ipis, 1);
	assert_int_equal(f->rec.ipi.from, APIC_ID);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_DEST);
	assert_true(f->rec.ipi.x2apic_format);
	assert_int_equal(f->rec.ipi.dest, 0x123);
	assert_false(f->rec.ipi.logical);
	assert_int_equal(f->rec.ipi.vector, 0x51);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_FIXED);
	assert_int_equal(rd(f->l, MSR_ICR), 0x00000123ULL << 32 | 0x4051);
	/* Logical, cluster 2 members 0 and 1. */
	wr(f->l, MSR_ICR, 0x00020003ULL << 32 | 0x800 | 0x52);
	assert_true(f->rec.ipi.logical);
	assert_int_equal(f->rec.ipi.dest, 0x00020003);
	/* INIT and STARTUP, as Linux's x2APIC wake-up sends them. */
	wr(f->l, MSR_ICR, 1ULL << 32 | 0xc500);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_INIT);
	wr(f->l, MSR_ICR, 1ULL << 32 | 0x609);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_STARTUP);
	assert_int_equal(f->rec.ipi.dest, 1);
	/* Broadcast, and a shorthand (the destination is ignored). */
	wr(f->l, MSR_ICR, 0xffffffffULL << 32 | 0x53);
	assert_int_equal(f->rec.ipi.dest, 0xffffffffu);
	wr(f->l, MSR_ICR, 3u << 18 | 0x54);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_OTHERS);
	assert_int_equal(f->rec.ipis, 6);
}

static void test_self_ipi(void **state)
{
	struct fixture *f = *state;

	wr(f->l, MSR_SELF_IPI, 0x55);
	assert_int_equal(f->rec.ipis, 1);
	assert_int_equal(f->rec.ipi.to, LAPIC_TO_SELF);
	assert_int_equal(f->rec.ipi.from, APIC_ID);
	assert_int_equal(f->rec.ipi.vector, 0x55);
	assert_int_equal(f->rec.ipi.mode, LAPIC_DM_FIXED);
	assert_false(f->rec.ipi.lowest_priority);
	/* Only bits 7:0 name the vector; vectors below 16 are refused. */
	wr(f->l, MSR_SELF_IPI, 0x1f56);
	assert_int_equal(f->rec.ipi.vector, 0x56);
	wr(f->l, MSR_SELF_IPI, 0x0f);
	assert_int_equal(f->rec.ipis, 2);
}

/* ---- destinations --------------------------------------------------------- */

static void test_x2apic_destinations(void **state)
{
	struct fixture *f = *state;

	/* 32-bit physical: the ID or the broadcast. */
	assert_true(lapic_matches_x2apic_destination(f->l, APIC_ID, false));
	assert_false(lapic_matches_x2apic_destination(f->l, 0x46, false));
	assert_false(lapic_matches_x2apic_destination(f->l, 0x145, false));
	assert_true(lapic_matches_x2apic_destination(f->l, 0xffffffff,
						     false));
	/* Logical (cluster): same cluster and a common member bit. */
	assert_true(lapic_matches_x2apic_destination(f->l, 0x00040020, true));
	assert_true(lapic_matches_x2apic_destination(f->l, 0x000400ff, true));
	assert_false(lapic_matches_x2apic_destination(f->l, 0x00040010,
						      true));
	assert_false(lapic_matches_x2apic_destination(f->l, 0x00050020,
						      true));
	assert_true(lapic_matches_x2apic_destination(f->l, 0xffffffff, true));
	/* 8-bit messages (IO-APIC, MSI): physical ID and 0xff; a logical
	 * one names cluster 0, which 0x45 is not in. */
	assert_true(lapic_matches_destination(f->l, APIC_ID, false));
	assert_true(lapic_matches_destination(f->l, 0xff, false));
	assert_false(lapic_matches_destination(f->l, 0x20, true));
	assert_true(lapic_matches_destination(f->l, 0xff, true));
	struct lapic *c0 = lapic_create(3, NULL);
	assert_true(lapic_set_base(c0, BASE_X2APIC));
	assert_true(lapic_matches_destination(c0, 0x08, true));
	assert_false(lapic_matches_destination(c0, 0x04, true));
	lapic_destroy(c0);
}

/* A sender in x2APIC mode reaches APICs still in xAPIC mode (Linux's BSP
 * wakes its APs so): by physical ID and broadcast; they have no logical
 * x2APIC ID. */
static void test_x2apic_message_to_xapic_mode(void **state)
{
	(void)state;
	struct lapic *ap = lapic_create(2, NULL);

	lapic_write(ap, 0xd0, 0xff000000, 0); /* LDR: every flat bit */
	assert_true(lapic_matches_x2apic_destination(ap, 2, false));
	assert_false(lapic_matches_x2apic_destination(ap, 0x102, false));
	assert_true(lapic_matches_x2apic_destination(ap, 0xffffffff, false));
	assert_false(lapic_matches_x2apic_destination(ap, 0x0000ffff, true));
	assert_true(lapic_matches_x2apic_destination(ap, 0xffffffff, true));
	lapic_destroy(ap);
}

/* ---- TSC-deadline timer ---------------------------------------------------- */

static void test_tsc_deadline_fires_once_and_clears(void **state)
{
	struct fixture *f = *state;
	uint64_t d = 0;

	wr(f->l, MSR_LVT_TIMER, TSC_DEADLINE_MODE | 0x40);
	assert_int_equal(rd(f->l, MSR_LVT_TIMER), TSC_DEADLINE_MODE | 0x40);
	assert_false(lapic_tsc_deadline(f->l, &d)); /* disarmed: reads 0 */
	int changes = f->rec.timer_changes;
	lapic_set_tsc_deadline(f->l, true, 1000);
	assert_int_equal(f->rec.timer_changes, changes + 1);
	assert_true(lapic_tsc_deadline(f->l, &d));
	assert_int_equal(d, 1000);
	/* The scheduler's deadline is the TSC deadline. */
	assert_int_equal(lapic_next_deadline(f->l), 1000);
	/* The count registers are out of use: writes ignored, reads 0. */
	wr(f->l, MSR_TIMER_INIT, 50);
	assert_int_equal(rd(f->l, MSR_TIMER_INIT), 0);
	assert_int_equal(rd(f->l, MSR_TIMER_CUR), 0);
	assert_int_equal(lapic_next_deadline(f->l), 1000);
	assert_false(lapic_timer_update(f->l, 999));
	assert_true(lapic_timer_update(f->l, 1000));
	assert_int_equal(lapic_pending_intr(f->l), 0x40);
	/* Fired: disarmed, the MSR reads 0, nothing more fires. */
	assert_false(lapic_tsc_deadline(f->l, &d));
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	assert_false(lapic_timer_update(f->l, 1000000));
}

static void test_tsc_deadline_disarm_and_past(void **state)
{
	struct fixture *f = *state;
	uint64_t d;

	wr(f->l, MSR_LVT_TIMER, TSC_DEADLINE_MODE | 0x41);
	lapic_set_tsc_deadline(f->l, true, 5000);
	lapic_set_tsc_deadline(f->l, false, 0);
	assert_false(lapic_tsc_deadline(f->l, &d));
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	assert_false(lapic_timer_update(f->l, 6000));
	/* A deadline already past fires at the next update. */
	lapic_set_tsc_deadline(f->l, true, 10);
	assert_true(lapic_timer_update(f->l, 7000));
	assert_int_equal(lapic_pending_intr(f->l), 0x41);
	/* A re-arm before expiry moves the deadline. */
	lapic_set_tsc_deadline(f->l, true, 9000);
	lapic_set_tsc_deadline(f->l, true, 8000);
	assert_int_equal(lapic_next_deadline(f->l), 8000);
	/* Masked: expires and disarms, delivers nothing. */
	wr(f->l, MSR_LVT_TIMER, TSC_DEADLINE_MODE | 1u << 16 | 0x42);
	assert_false(lapic_timer_update(f->l, 8000));
	assert_false(lapic_tsc_deadline(f->l, &d));
}

/* Out of TSC-deadline mode the MSR is inert; a change into or out of the
 * mode disarms the timer. */
static void test_tsc_deadline_mode_changes(void **state)
{
	struct fixture *f = *state;
	uint64_t d;

	wr(f->l, MSR_LVT_TIMER, 0x40); /* one-shot */
	wr(f->l, MSR_TIMER_DIV, 0xb);
	wr(f->l, MSR_TIMER_INIT, 300);
	lapic_set_tsc_deadline(f->l, true, 100);
	assert_false(lapic_tsc_deadline(f->l, &d));
	assert_int_equal(lapic_next_deadline(f->l), 300);
	/* One-shot -> TSC-deadline: the count stops. */
	wr(f->l, MSR_LVT_TIMER, TSC_DEADLINE_MODE | 0x40);
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	lapic_set_tsc_deadline(f->l, true, 700);
	/* The reserved mode 3 changes nothing. */
	wr(f->l, MSR_LVT_TIMER, 3u << 17 | 0x40);
	assert_int_equal(rd(f->l, MSR_LVT_TIMER), TSC_DEADLINE_MODE | 0x40);
	assert_int_equal(lapic_next_deadline(f->l), 700);
	/* TSC-deadline -> periodic: disarmed until a count is written. */
	wr(f->l, MSR_LVT_TIMER, 1u << 17 | 0x40);
	assert_int_equal(lapic_next_deadline(f->l), UINT64_MAX);
	assert_false(lapic_tsc_deadline(f->l, &d));
	wr(f->l, MSR_TIMER_INIT, 100);
	assert_int_equal(lapic_next_deadline(f->l), 100);
	/* One-shot <-> periodic keeps counting (as KVM). */
	wr(f->l, MSR_LVT_TIMER, 0x40);
	assert_int_equal(lapic_next_deadline(f->l), 100);
}

/* TSC-deadline is not tied to x2APIC: in xAPIC mode the LVT is MMIO. */
static void test_tsc_deadline_in_xapic_mode(void **state)
{
	struct fixture *f = *state;
	uint64_t d;

	lapic_write(f->l, LVT_TIMER, TSC_DEADLINE_MODE | 0x43, 0);
	lapic_set_tsc_deadline(f->l, true, 2000);
	assert_true(lapic_tsc_deadline(f->l, &d));
	lapic_write(f->l, TIMER_INIT, 10, 0);
	assert_int_equal(lapic_read(f->l, TIMER_CUR, 0), 0);
	assert_int_equal(lapic_next_deadline(f->l), 2000);
	assert_true(lapic_timer_update(f->l, 2500));
	assert_int_equal(lapic_pending_intr(f->l), 0x43);
}

static void test_tpr_accessors(void **state)
{
	struct fixture *f = *state;

	lapic_set_tpr(f->l, 0x50);
	assert_int_equal(lapic_read(f->l, TPR, 0), 0x50);
	assert_int_equal(lapic_tpr(f->l), 0x50);
	lapic_set_irr(f->l, 0x52); /* class 5: blocked */
	assert_int_equal(lapic_pending_intr(f->l), -1);
	lapic_set_tpr(f->l, 0);
	assert_int_equal(lapic_pending_intr(f->l), 0x52);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define X(fn) cmocka_unit_test_setup_teardown(fn, setup_x2apic, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_base_bsp_and_ap),
		T(test_mode_transitions),
		T(test_base_reserved_bits_and_moves),
		T(test_disable_resets_registers),
		X(test_init_resets_all_but_id_and_mode),
		T(test_msrs_only_in_x2apic_mode),
		X(test_x2apic_identity),
		X(test_mmio_page_disabled),
		X(test_read_write_registers),
		X(test_gp_cases),
		X(test_icr_single_write),
		X(test_self_ipi),
		X(test_x2apic_destinations),
		cmocka_unit_test(test_x2apic_message_to_xapic_mode),
		X(test_tsc_deadline_fires_once_and_clears),
		X(test_tsc_deadline_disarm_and_past),
		X(test_tsc_deadline_mode_changes),
		T(test_tsc_deadline_in_xapic_mode),
		T(test_tpr_accessors),
	};
#undef T
#undef X
	return cmocka_run_group_tests(tests, NULL, NULL);
}
