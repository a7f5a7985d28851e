/*
 * Local APIC model, xAPIC and x2APIC. Register semantics follow the Intel
 * SDM vol. 3, chapter 11 (11.12 for x2APIC).
 *
 * Modes (IA32_APIC_BASE bits EN and EXTD, SDM 11.12.5): disabled, xAPIC
 * (the MMIO page) and x2APIC (MSRs 0x800-0x8ff; the MMIO page reads
 * all-ones and ignores writes, as a globally disabled xAPIC's). Both
 * interfaces share one register file, addressed by MMIO offset: the MSR
 * for offset o is 0x800 + (o >> 4).
 *
 * Timer model: instead of a counter that ticks, the timer keeps the absolute
 * guest-clock deadline of its next expiry and the period (initial count *
 * divide, in ns). The current count is derived from (deadline - now), so it
 * is exact whenever it is read and costs nothing while nobody looks.
 *
 * Locking: every entry point takes l->lock. The ops callbacks (send_ipi,
 * timer_changed, eoi_broadcast) are always called after the lock has been released, so an
 * owner may call back into this or another lapic from them.
 */
#include "devices/lapic.h"

#include <pthread.h>
#include <stdlib.h>

#include "sync/checked_mutex.h"

/* Register offsets within the MMIO page. */
enum {
	REG_ID = 0x20,
	REG_VERSION = 0x30,
	REG_TPR = 0x80,
	REG_APR = 0x90,
	REG_PPR = 0xa0,
	REG_EOI = 0xb0,
	REG_LDR = 0xd0,
	REG_DFR = 0xe0,
	REG_SVR = 0xf0,
	REG_ISR = 0x100,
	REG_TMR = 0x180,
	REG_IRR = 0x200,
	REG_ESR = 0x280,
	REG_ICR_LO = 0x300,
	REG_ICR_HI = 0x310,
	REG_LVT_TIMER = 0x320,
	REG_LVT_ERROR = 0x370,
	REG_TIMER_INIT = 0x380,
	REG_TIMER_CUR = 0x390,
	REG_TIMER_DIV = 0x3e0,
	REG_SELF_IPI = 0x3f0, /* x2APIC only */
};

/* Version 0x14 (integrated APIC), max LVT entry 5 => six LVT registers. */
#define LAPIC_VERSION 0x00050014u
#define LVT_COUNT 6
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

#define LVT_MASKED (1u << 16)
/* The timer's mode, LVT bits 18:17 (SDM table 11-2). */
#define LVT_TIMER_MODE_SHIFT 17
#define LVT_TIMER_MODE_MASK (3u << LVT_TIMER_MODE_SHIFT)
enum { TIMER_ONE_SHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE, TIMER_RESERVED };
/* Writable bits per LVT; delivery status and remote IRR are read-only and
 * always idle. */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x000700ff,
	[LVT_THERMAL] = 0x000107ff,
	[LVT_PERF] = 0x000107ff,
	[LVT_LINT0] = 0x0001a7ff,
	[LVT_LINT1] = 0x0001a7ff,
	[LVT_ERROR] = 0x000100ff,
};

#define SVR_ENABLE (1u << 8)
/* Vector, enable, focus-check disable; EOI-broadcast suppression is not
 * offered (version bit 24 clear). */
#define SVR_WRITABLE 0x3ffu
#define DFR_RESERVED_ONES 0x0fffffffu
#define LDR_WRITABLE 0xff000000u
#define DIV_WRITABLE 0xbu

/* ESR bits (SDM 11.5.3). */
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)

/* ICR low fields. */
#define ICR_VECTOR(v) ((v)&0xffu)
#define ICR_DELIVERY(v) (((v) >> 8) & 7u)
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3u)
#define ICR_LO_WRITABLE 0x000ccfffu /* delivery status (bit 12) reads idle */
enum { ICR_DM_FIXED = 0, ICR_DM_LOWEST = 1, ICR_DM_NMI = 4, ICR_DM_INIT = 5,
       ICR_DM_STARTUP = 6 };
enum { SH_NONE, SH_SELF, SH_ALL, SH_OTHERS };
#define PHYS_BROADCAST 0xff
#define X2APIC_BROADCAST 0xffffffffu

/* IA32_APIC_BASE: BSP (read-only), EXTD, EN and the base address (40
 * physical address bits, CPUID 0x80000008). */
#define BASE_WRITABLE (LAPIC_BASE_EXTD | LAPIC_BASE_ENABLE | 0xfffffff000ULL)
#define BASE_ADDRESS_MASK 0xfffffff000ULL

#define NO_DEADLINE UINT64_MAX
/* Vectors 0-15 are reserved for exceptions; the APIC refuses them. */
#define FIRST_LEGAL_VECTOR 16

struct lapic {
	struct checked_mutex lock;
	struct lapic_ops ops;
	uint32_t id;   /* the initial APIC ID, also the x2APIC ID */
	uint64_t base; /* IA32_APIC_BASE */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	uint32_t isr[8], tmr[8], irr[8];
	bool nmi_pending;
	/* Timer: see the file comment. */
	uint32_t initial_count;
	uint32_t divide_conf;
	uint64_t deadline; /* NO_DEADLINE when stopped */
	uint64_t period_ns;
};

/* ---- small helpers ------------------------------------------------------ */

static enum lapic_mode mode_of(uint64_t base)
{
	if (!(base & LAPIC_BASE_ENABLE))
		return (base & LAPIC_BASE_EXTD) ? LAPIC_MODE_INVALID
						: LAPIC_MODE_DISABLED;
	return (base & LAPIC_BASE_EXTD) ? LAPIC_MODE_X2APIC : LAPIC_MODE_XAPIC;
}

static bool x2apic(const struct lapic *l)
{
	return mode_of(l->base) == LAPIC_MODE_X2APIC;
}

/* Globally enabled (IA32_APIC_BASE) and software-enabled (SVR). */
static bool apic_enabled(const struct lapic *l)
{
	return mode_of(l->base) != LAPIC_MODE_DISABLED && (l->svr & SVR_ENABLE);
}

static unsigned timer_mode(const struct lapic *l)
{
	return (l->lvt[LVT_TIMER] & LVT_TIMER_MODE_MASK) >>
	       LVT_TIMER_MODE_SHIFT;
}

/* The logical x2APIC ID (SDM 11.12.10.2): cluster in bits 31:16, one bit
 * of 16 in bits 15:0. */
static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xfu));
}

static void set_bit256(uint32_t *bits, int v)
{
	bits[v >> 5] |= 1u << (v & 31);
}

static void clear_bit256(uint32_t *bits, int v)
{
	bits[v >> 5] &= ~(1u << (v & 31));
}

static bool test_bit256(const uint32_t *bits, int v)
{
	return bits[v >> 5] & (1u << (v & 31));
}

/* Highest set bit of a 256-bit register, or -1. */
static int highest_bit256(const uint32_t *bits)
{
	for (int w = 7; w >= 0; w--) {
		if (bits[w])
			return w * 32 + 31 - __builtin_clz(bits[w]);
	}
	return -1;
}

/* SDM table 11-10: bits 3,1,0 encode divide by 2,4,...,128 and 0b111 = 1. */
static uint64_t divisor(uint32_t conf)
{
	unsigned code = (conf & 3u) | ((conf & 8u) >> 1);

	return 1ull << ((code + 1) & 7u);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	if (a && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static uint32_t ppr_locked(const struct lapic *l)
{
	lock_assert_held(&l->lock);
	int isrv = highest_bit256(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0u;

	return (l->tpr & 0xf0u) >= isr_class ? l->tpr & 0xffu : isr_class;
}

static int pending_locked(const struct lapic *l)
{
	lock_assert_held(&l->lock);
	int v = highest_bit256(l->irr);

	if (v < 0 || ((uint32_t)v >> 4) <= (ppr_locked(l) >> 4))
		return -1;
	return v;
}

static void latch_irr_locked(struct lapic *l, int vector, bool level)
{
	lock_assert_held(&l->lock);
	if (vector < FIRST_LEGAL_VECTOR || vector > 255) {
		l->esr_pending |= ESR_RECV_ILLEGAL_VECTOR;
		return;
	}
	/* A software-disabled APIC accepts no fixed interrupt (SDM 11.4.7.2). */
	if (!apic_enabled(l))
		return;
	set_bit256(l->irr, vector);
	/* TMR follows the trigger mode of the latest accepted interrupt
	 * (SDM 11.8.4). */
	if (level)
		set_bit256(l->tmr, vector);
	else
		clear_bit256(l->tmr, vector);
}

/* ---- timer -------------------------------------------------------------- */

static uint32_t current_count_locked(const struct lapic *l, uint64_t now)
{
	lock_assert_held(&l->lock);
	uint64_t div = divisor(l->divide_conf);
	uint64_t remaining_ns;

	/* TSC-deadline mode: the current count always reads 0. */
	if (l->deadline == NO_DEADLINE || l->period_ns == 0 ||
	    timer_mode(l) == TIMER_TSC_DEADLINE)
		return 0;
	if (now < l->deadline) {
		remaining_ns = l->deadline - now;
	} else if (timer_mode(l) == TIMER_PERIODIC) {
		/* Expired but not yet re-armed by lapic_timer_update: the
		 * count has already reloaded and keeps the phase. */
		remaining_ns = l->period_ns - (now - l->deadline) % l->period_ns;
	} else {
		return 0;
	}
	/* Rounded up: the count drops by one only after a whole tick. */
	uint64_t count = remaining_ns / div + (remaining_ns % div != 0);
	return count > l->initial_count ? l->initial_count : (uint32_t)count;
}

static void arm_timer_locked(struct lapic *l, uint64_t now, uint64_t ticks)
{
	lock_assert_held(&l->lock);
	uint64_t div = divisor(l->divide_conf);

	l->period_ns = sat_mul(l->initial_count, div);
	l->deadline = ticks ? sat_add(now, sat_mul(ticks, div)) : NO_DEADLINE;
}

static void write_divide_locked(struct lapic *l, uint32_t val, uint64_t now)
{
	lock_assert_held(&l->lock);
	/* The count left keeps counting at the new rate. An expiry that is
	 * already due stays due, so the interrupt is not lost. */
	uint32_t remaining = current_count_locked(l, now);
	bool counting = l->deadline != NO_DEADLINE && now < l->deadline &&
			timer_mode(l) != TIMER_TSC_DEADLINE;

	l->divide_conf = val & DIV_WRITABLE;
	if (counting)
		arm_timer_locked(l, now, remaining);
	else
		l->period_ns = sat_mul(l->initial_count,
				       divisor(l->divide_conf));
}

/* Power-up state (SDM 11.4.7.1): software-disabled, LVTs masked, the
 * timer stopped. The ID and IA32_APIC_BASE are the caller's. */
static void reset_registers_locked(struct lapic *l)
{
	lock_assert_held(&l->lock);
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xffu;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (int i = 0; i < LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	for (int i = 0; i < 8; i++)
		l->isr[i] = l->tmr[i] = l->irr[i] = 0;
	l->initial_count = 0;
	l->divide_conf = 0;
	l->deadline = NO_DEADLINE;
	l->period_ns = 0;
}

/* ---- public API --------------------------------------------------------- */

struct lapic *lapic_create(unsigned apic_id, const struct lapic_ops *ops)
{
	struct lapic *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (checked_mutex_init(&l->lock, LOCK_RANK_LAPIC) != 0) {
		free(l);
		return NULL;
	}
	if (ops)
		l->ops = *ops;
	l->id = apic_id;
	/* xAPIC mode at reset; APIC ID 0 is the bootstrap processor. */
	l->base = LAPIC_BASE | LAPIC_BASE_ENABLE |
		  (apic_id == 0 ? LAPIC_BASE_BSP : 0);
	checked_mutex_lock(&l->lock);
	reset_registers_locked(l);
	checked_mutex_unlock(&l->lock);
	return l;
}

void lapic_destroy(struct lapic *l)
{
	if (!l)
		return;
	checked_mutex_destroy(&l->lock);
	free(l);
}

/* A register by its MMIO offset, in the current mode's format. Offsets
 * that name no register read 0. */
static uint32_t read_reg_locked(struct lapic *l, uint32_t offset,
				uint64_t now_ns)
{
	lock_assert_held(&l->lock);
	switch (offset) {
	case REG_ID:
		return x2apic(l) ? l->id : (l->id & 0xffu) << 24;
	case REG_VERSION:
		return LAPIC_VERSION;
	case REG_TPR:
		return l->tpr;
	case REG_APR:
		return 0;
	case REG_PPR:
		return ppr_locked(l);
	case REG_LDR:
		return x2apic(l) ? x2apic_ldr(l->id) : l->ldr;
	case REG_DFR:
		return l->dfr;
	case REG_SVR:
		return l->svr;
	case REG_ESR:
		return l->esr;
	case REG_ICR_LO:
		return l->icr_lo;
	case REG_ICR_HI:
		return l->icr_hi;
	case REG_TIMER_INIT:
		return l->initial_count;
	case REG_TIMER_CUR:
		return current_count_locked(l, now_ns);
	case REG_TIMER_DIV:
		return l->divide_conf;
	default:
		break;
	}
	if (offset >= REG_ISR && offset < REG_ISR + 0x80)
		return l->isr[(offset - REG_ISR) >> 4];
	if (offset >= REG_TMR && offset < REG_TMR + 0x80)
		return l->tmr[(offset - REG_TMR) >> 4];
	if (offset >= REG_IRR && offset < REG_IRR + 0x80)
		return l->irr[(offset - REG_IRR) >> 4];
	if (offset >= REG_LVT_TIMER && offset <= REG_LVT_ERROR)
		return l->lvt[(offset - REG_LVT_TIMER) >> 4];
	return 0;
}

uint32_t lapic_read(struct lapic *l, uint32_t offset, uint64_t now_ns)
{
	uint32_t val;

	/* Registers sit on 16-byte boundaries; the rest of the page reads 0. */
	if (offset >= LAPIC_SIZE || (offset & 0xfu))
		return 0;
	checked_mutex_lock(&l->lock);
	/* Out of xAPIC mode the page is not the APIC's (SDM 11.12.2). */
	if (mode_of(l->base) != LAPIC_MODE_XAPIC)
		val = 0xffffffffu;
	else
		val = read_reg_locked(l, offset, now_ns);
	checked_mutex_unlock(&l->lock);
	return val;
}

/* An IPI decided under the lock, sent after it is released. */
struct ipi_request {
	bool send;
	struct lapic_ipi ipi;
};

/* The ICR's destination field: bits 63:56 in xAPIC mode, 63:32 in
 * x2APIC mode. */
static void set_destination_locked(struct lapic *l, struct lapic_ipi *ipi)
{
	lock_assert_held(&l->lock);
	ipi->x2apic_format = x2apic(l);
	ipi->dest = ipi->x2apic_format ? l->icr_hi : l->icr_hi >> 24;
}

static struct ipi_request decode_icr_locked(struct lapic *l)
{
	lock_assert_held(&l->lock);
	struct ipi_request req = { .send = false };
	uint32_t lo = l->icr_lo;
	int vector = (int)ICR_VECTOR(lo);

	switch (ICR_DELIVERY(lo)) {
	case ICR_DM_LOWEST: /* the chosen APIC takes it as a fixed one */
	case ICR_DM_FIXED:
		req.ipi.lowest_priority = ICR_DELIVERY(lo) == ICR_DM_LOWEST;
		if (vector < FIRST_LEGAL_VECTOR) {
			l->esr_pending |= ESR_SEND_ILLEGAL_VECTOR;
			return req;
		}
		req.ipi.mode = LAPIC_DM_FIXED;
		break;
	case ICR_DM_NMI:
		req.ipi.mode = LAPIC_DM_NMI;
		break;
	case ICR_DM_INIT:
		/* The level de-assert form is a bus-synchronisation message,
		 * not an INIT. */
		if ((lo & ICR_TRIGGER_LEVEL) && !(lo & ICR_LEVEL_ASSERT))
			return req;
		req.ipi.mode = LAPIC_DM_INIT;
		break;
	case ICR_DM_STARTUP:
		req.ipi.mode = LAPIC_DM_STARTUP;
		break;
	default: /* SMI and reserved modes are not modelled */
		return req;
	}
	req.ipi.from = (int)l->id;
	req.ipi.vector = vector;
	switch (ICR_SHORTHAND(lo)) {
	case SH_SELF:
		req.ipi.to = LAPIC_TO_SELF;
		break;
	case SH_ALL:
		req.ipi.to = LAPIC_TO_ALL;
		break;
	case SH_OTHERS:
		req.ipi.to = LAPIC_TO_OTHERS;
		break;
	default:
		req.ipi.to = LAPIC_TO_DEST;
		set_destination_locked(l, &req.ipi);
		req.ipi.logical = (lo & ICR_DEST_LOGICAL) != 0;
		break;
	}
	req.send = true;
	return req;
}

/* x2APIC SELF IPI register: a fixed, edge-triggered IPI to this APIC. */
static struct ipi_request self_ipi_locked(struct lapic *l, uint32_t val)
{
	lock_assert_held(&l->lock);
	struct ipi_request req = { .send = false };
	int vector = (int)(val & 0xffu);

	if (vector < FIRST_LEGAL_VECTOR) {
		l->esr_pending |= ESR_SEND_ILLEGAL_VECTOR;
		return req;
	}
	req.ipi = (struct lapic_ipi){ .from = (int)l->id, .to = LAPIC_TO_SELF,
				      .vector = vector,
				      .mode = LAPIC_DM_FIXED };
	req.send = true;
	return req;
}

/*
 * The timer's mode field: a change into or out of TSC-deadline mode
 * disarms the timer (SDM 11.5.4.1), as KVM does; between one-shot and
 * periodic the count goes on. The reserved mode 3 leaves the mode as it
 * was (*val is corrected).
 */
static void write_timer_mode_locked(struct lapic *l, uint32_t *val)
{
	lock_assert_held(&l->lock);
	unsigned old = timer_mode(l);
	unsigned mode = (*val & LVT_TIMER_MODE_MASK) >> LVT_TIMER_MODE_SHIFT;

	if (mode == TIMER_RESERVED) {
		mode = old;
		*val = (*val & ~LVT_TIMER_MODE_MASK) |
		       (old << LVT_TIMER_MODE_SHIFT);
	}
	if ((mode == TIMER_TSC_DEADLINE) != (old == TIMER_TSC_DEADLINE)) {
		l->deadline = NO_DEADLINE;
		l->period_ns = 0;
	}
}

static void write_lvt_locked(struct lapic *l, int idx, uint32_t val)
{
	lock_assert_held(&l->lock);
	val &= lvt_writable[idx];
	if (idx == LVT_TIMER)
		write_timer_mode_locked(l, &val);
	if (!apic_enabled(l))
		val |= LVT_MASKED;
	l->lvt[idx] = val;
}

static void write_svr_locked(struct lapic *l, uint32_t val)
{
	lock_assert_held(&l->lock);
	l->svr = val & SVR_WRITABLE;
	if (!apic_enabled(l)) {
		for (int i = 0; i < LVT_COUNT; i++)
			l->lvt[i] |= LVT_MASKED;
	}
}

/* Retires the highest vector in service. Returns it if it was accepted
 * level-triggered, so the caller broadcasts the EOI to the IO-APICs (SVR
 * bit 12, EOI-broadcast suppression, is not offered), else -1. */
static int eoi_locked(struct lapic *l)
{
	lock_assert_held(&l->lock);
	int v = highest_bit256(l->isr);

	if (v < 0)
		return -1;
	clear_bit256(l->isr, v);
	return test_bit256(l->tmr, v) ? v : -1;
}

/* What a register write asks of the owner, done after the unlock. */
struct write_effects {
	struct ipi_request ipi;
	bool timer_changed;
	int eoi_vector;
};

/* A register write by MMIO offset. The ICR is written by the caller
 * (its format differs between the interfaces). */
static void write_reg_locked(struct lapic *l, uint32_t offset, uint32_t val,
			     uint64_t now_ns, struct write_effects *fx)
{
	lock_assert_held(&l->lock);
	switch (offset) {
	case REG_TPR:
		l->tpr = val & 0xffu;
		break;
	case REG_EOI:
		fx->eoi_vector = eoi_locked(l);
		break;
	case REG_LDR:
		l->ldr = val & LDR_WRITABLE;
		break;
	case REG_DFR:
		l->dfr = val | DFR_RESERVED_ONES;
		break;
	case REG_SVR:
		write_svr_locked(l, val);
		fx->timer_changed = true; /* the timer may have become masked */
		break;
	case REG_ESR:
		/* A write latches the errors seen since the last write. */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case REG_TIMER_INIT:
		/* Ignored in TSC-deadline mode (SDM 11.5.4.1). */
		if (timer_mode(l) == TIMER_TSC_DEADLINE)
			break;
		l->initial_count = val;
		arm_timer_locked(l, now_ns, val);
		fx->timer_changed = true;
		break;
	case REG_TIMER_DIV:
		write_divide_locked(l, val, now_ns);
		fx->timer_changed = true;
		break;
	case REG_SELF_IPI:
		fx->ipi = self_ipi_locked(l, val);
		break;
	default:
		if (offset >= REG_LVT_TIMER && offset <= REG_LVT_ERROR) {
			int idx = (int)(offset - REG_LVT_TIMER) >> 4;
			write_lvt_locked(l, idx, val);
			fx->timer_changed = idx == LVT_TIMER;
		}
		/* ID, version, APR, PPR, ISR, TMR, IRR and the current count
		 * are read-only here. */
		break;
	}
}

/* Called with the lock released: the owner may call back into APICs. */
static void apply_effects(const struct lapic_ops *ops, int id,
			  const struct write_effects *fx)
{
	if (fx->ipi.send && ops->send_ipi)
		ops->send_ipi(ops->ctx, &fx->ipi.ipi);
	if (fx->timer_changed && ops->timer_changed)
		ops->timer_changed(ops->ctx, id);
	if (fx->eoi_vector >= 0 && ops->eoi_broadcast)
		ops->eoi_broadcast(ops->ctx, id, fx->eoi_vector);
}

void lapic_write(struct lapic *l, uint32_t offset, uint32_t val,
		 uint64_t now_ns)
{
	struct write_effects fx = { .eoi_vector = -1 };

	if (offset >= LAPIC_SIZE || (offset & 0xfu))
		return;
	checked_mutex_lock(&l->lock);
	if (mode_of(l->base) != LAPIC_MODE_XAPIC) {
		checked_mutex_unlock(&l->lock);
		return; /* not the APIC's page out of xAPIC mode */
	}
	if (offset == REG_ICR_LO) {
		l->icr_lo = val & ICR_LO_WRITABLE;
		fx.ipi = decode_icr_locked(l);
	} else if (offset == REG_ICR_HI) {
		l->icr_hi = val & 0xff000000u;
	} else if (offset != REG_SELF_IPI) { /* x2APIC only */
		write_reg_locked(l, offset, val, now_ns, &fx);
	}
	struct lapic_ops ops = l->ops;
	int id = (int)l->id;
	checked_mutex_unlock(&l->lock);
	apply_effects(&ops, id, &fx);
}

/* ---- x2APIC MSRs (SDM 11.12.1.2, table 11-6) ----------------------------- */

static bool x2apic_readable(uint32_t offset)
{
	switch (offset) {
	case REG_ID: case REG_VERSION: case REG_TPR: case REG_PPR:
	case REG_LDR: case REG_SVR: case REG_ESR: case REG_ICR_LO:
	case REG_TIMER_INIT: case REG_TIMER_CUR: case REG_TIMER_DIV:
		return true;
	default:
		return (offset >= REG_ISR && offset < REG_IRR + 0x80) ||
		       (offset >= REG_LVT_TIMER && offset <= REG_LVT_ERROR);
	}
}

static bool x2apic_writable(uint32_t offset)
{
	switch (offset) {
	case REG_TPR: case REG_EOI: case REG_SVR: case REG_ESR:
	case REG_ICR_LO: case REG_TIMER_INIT: case REG_TIMER_DIV:
	case REG_SELF_IPI:
		return true;
	default:
		return offset >= REG_LVT_TIMER && offset <= REG_LVT_ERROR;
	}
}

static bool x2apic_msr_offset(uint32_t msr, uint32_t *offset)
{
	if (msr < LAPIC_X2APIC_MSR_FIRST || msr > LAPIC_X2APIC_MSR_LAST)
		return false;
	*offset = (msr - LAPIC_X2APIC_MSR_FIRST) << 4;
	return true;
}

bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val,
		    uint64_t now_ns)
{
	uint32_t offset;

	if (!x2apic_msr_offset(msr, &offset))
		return false;
	checked_mutex_lock(&l->lock);
	bool ok = x2apic(l) && x2apic_readable(offset);
	if (ok && offset == REG_ICR_LO)
		*val = (uint64_t)l->icr_hi << 32 | l->icr_lo;
	else if (ok)
		*val = read_reg_locked(l, offset, now_ns);
	checked_mutex_unlock(&l->lock);
	return ok;
}

bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val,
		     uint64_t now_ns)
{
	struct write_effects fx = { .eoi_vector = -1 };
	uint32_t offset;

	if (!x2apic_msr_offset(msr, &offset))
		return false;
	checked_mutex_lock(&l->lock);
	bool ok = x2apic(l) && x2apic_writable(offset) &&
		  /* bits 63:32 are reserved but in the ICR; EOI and ESR
		   * take only 0 */
		  (offset == REG_ICR_LO || (val >> 32) == 0) &&
		  ((offset != REG_EOI && offset != REG_ESR) || val == 0);
	if (ok && offset == REG_ICR_LO) {
		/* One write sends: destination and command together. */
		l->icr_hi = (uint32_t)(val >> 32);
		l->icr_lo = (uint32_t)val & ICR_LO_WRITABLE;
		fx.ipi = decode_icr_locked(l);
	} else if (ok) {
		write_reg_locked(l, offset, (uint32_t)val, now_ns, &fx);
	}
	struct lapic_ops ops = l->ops;
	int id = (int)l->id;
	checked_mutex_unlock(&l->lock);
	if (ok)
		apply_effects(&ops, id, &fx);
	return ok;
}

/* ---- IA32_APIC_BASE (SDM 11.4.4, 11.12.5) -------------------------------- */

uint64_t lapic_get_base(struct lapic *l)
{
	checked_mutex_lock(&l->lock);
	uint64_t base = l->base;
	checked_mutex_unlock(&l->lock);
	return base;
}

enum lapic_mode lapic_get_mode(struct lapic *l)
{
	return mode_of(lapic_get_base(l));
}

bool lapic_set_base(struct lapic *l, uint64_t val)
{
	/* The BSP flag is read-only; the APIC cannot move. */
	if ((val & ~(BASE_WRITABLE | LAPIC_BASE_BSP)) ||
	    (val & BASE_ADDRESS_MASK) != LAPIC_BASE)
		return false;
	enum lapic_mode to = mode_of(val);
	checked_mutex_lock(&l->lock);
	enum lapic_mode from = mode_of(l->base);
	/* The transitions of SDM figure 11-27 that raise #GP: into the
	 * invalid state, x2APIC back to xAPIC, disabled straight to x2APIC. */
	bool ok = to != LAPIC_MODE_INVALID &&
		  !(from == LAPIC_MODE_X2APIC && to == LAPIC_MODE_XAPIC) &&
		  !(from == LAPIC_MODE_DISABLED && to == LAPIC_MODE_X2APIC);
	bool stopped = false;
	if (ok) {
		/* Disabling loses the APIC's state: it comes back as after
		 * power-up (the ID stays). */
		if (to == LAPIC_MODE_DISABLED && from != LAPIC_MODE_DISABLED) {
			reset_registers_locked(l);
			stopped = true;
		}
		l->base = (l->base & LAPIC_BASE_BSP) | (val & BASE_WRITABLE);
	}
	struct lapic_ops ops = l->ops;
	int id = (int)l->id;
	checked_mutex_unlock(&l->lock);
	if (stopped && ops.timer_changed)
		ops.timer_changed(ops.ctx, id);
	return ok;
}

void lapic_init_reset(struct lapic *l)
{
	checked_mutex_lock(&l->lock);
	reset_registers_locked(l);
	l->nmi_pending = false;
	struct lapic_ops ops = l->ops;
	int id = (int)l->id;
	checked_mutex_unlock(&l->lock);
	if (ops.timer_changed)
		ops.timer_changed(ops.ctx, id);
}

/* ---- TSC-deadline and TPR ------------------------------------------------ */

bool lapic_tsc_deadline(struct lapic *l, uint64_t *deadline_ns)
{
	checked_mutex_lock(&l->lock);
	bool armed = timer_mode(l) == TIMER_TSC_DEADLINE &&
		     l->deadline != NO_DEADLINE;
	if (armed)
		*deadline_ns = l->deadline;
	checked_mutex_unlock(&l->lock);
	return armed;
}

void lapic_set_tsc_deadline(struct lapic *l, bool arm, uint64_t deadline_ns)
{
	checked_mutex_lock(&l->lock);
	/* Out of TSC-deadline mode the write is ignored (SDM 11.5.4.1). */
	bool changed = timer_mode(l) == TIMER_TSC_DEADLINE;
	if (changed) {
		l->period_ns = 0;
		l->deadline = !arm ? NO_DEADLINE
			      : deadline_ns == NO_DEADLINE ? NO_DEADLINE - 1
							   : deadline_ns;
	}
	struct lapic_ops ops = l->ops;
	int id = (int)l->id;
	checked_mutex_unlock(&l->lock);
	if (changed && ops.timer_changed)
		ops.timer_changed(ops.ctx, id);
}

uint8_t lapic_tpr(struct lapic *l)
{
	checked_mutex_lock(&l->lock);
	uint8_t tpr = (uint8_t)l->tpr;
	checked_mutex_unlock(&l->lock);
	return tpr;
}

void lapic_set_tpr(struct lapic *l, uint8_t tpr)
{
	checked_mutex_lock(&l->lock);
	l->tpr = tpr;
	checked_mutex_unlock(&l->lock);
}

/* ---- interrupts ---------------------------------------------------------- */

void lapic_set_irr(struct lapic *l, int vector)
{
	lapic_set_irr_trigger(l, vector, false);
}

void lapic_set_irr_trigger(struct lapic *l, int vector, bool level_triggered)
{
	checked_mutex_lock(&l->lock);
	latch_irr_locked(l, vector, level_triggered);
	checked_mutex_unlock(&l->lock);
}

#define DFR_MODEL_FLAT 0xfu
#define LOGICAL_BROADCAST 0xffu

/* x2APIC logical destinations are always clustered: the same cluster
 * (bits 31:16) and a common bit in 15:0. */
static bool x2apic_logical_match(uint32_t ldr, uint32_t dest)
{
	return (ldr >> 16) == (dest >> 16) && (ldr & dest & 0xffffu) != 0;
}

bool lapic_matches_destination(struct lapic *l, uint8_t dest, bool logical)
{
	bool match;

	checked_mutex_lock(&l->lock);
	if (dest == (logical ? LOGICAL_BROADCAST : PHYS_BROADCAST)) {
		match = true;
	} else if (!logical) {
		match = dest == l->id;
	} else if (x2apic(l)) {
		/* An 8-bit logical destination names cluster 0. */
		match = x2apic_logical_match(x2apic_ldr(l->id), dest);
	} else {
		uint8_t ldr = (uint8_t)(l->ldr >> 24);

		if ((l->dfr >> 28) == DFR_MODEL_FLAT)
			match = (ldr & dest) != 0;
		else /* cluster model */
			match = (ldr >> 4) == (dest >> 4) &&
				(ldr & dest & 0xfu) != 0;
	}
	checked_mutex_unlock(&l->lock);
	return match;
}

bool lapic_matches_x2apic_destination(struct lapic *l, uint32_t dest,
				      bool logical)
{
	bool match;

	checked_mutex_lock(&l->lock);
	if (dest == X2APIC_BROADCAST)
		match = true;
	else if (!logical)
		match = dest == l->id;
	else /* an xAPIC-mode APIC has no 32-bit logical ID */
		match = x2apic(l) &&
			x2apic_logical_match(x2apic_ldr(l->id), dest);
	checked_mutex_unlock(&l->lock);
	return match;
}

void lapic_set_nmi(struct lapic *l)
{
	checked_mutex_lock(&l->lock);
	l->nmi_pending = true;
	checked_mutex_unlock(&l->lock);
}

/*
 * Fires at most once per call however many periods went by: after a long
 * debugger stop the guest sees one tick, not a burst. A periodic deadline is
 * moved to the first period boundary after now_ns, so the phase set by the
 * guest is kept; one-shot and TSC-deadline timers disarm (the deadline MSR
 * reads 0 again). Returns true only when an interrupt was latched (a masked
 * expiry re-arms but returns false: there is nothing to deliver).
 */
bool lapic_timer_update(struct lapic *l, uint64_t now_ns)
{
	bool latched = false;

	checked_mutex_lock(&l->lock);
	if (l->deadline != NO_DEADLINE && l->deadline <= now_ns) {
		uint32_t lvt = l->lvt[LVT_TIMER];

		if (timer_mode(l) == TIMER_PERIODIC && l->period_ns) {
			uint64_t periods =
				(now_ns - l->deadline) / l->period_ns + 1;
			l->deadline = sat_add(l->deadline,
					      sat_mul(periods, l->period_ns));
		} else {
			l->deadline = NO_DEADLINE;
		}
		if (!(lvt & LVT_MASKED)) {
			int vector = (int)(lvt & 0xffu);
			latch_irr_locked(l, vector, false);
			latched = vector >= FIRST_LEGAL_VECTOR &&
				  apic_enabled(l);
		}
	}
	checked_mutex_unlock(&l->lock);
	return latched;
}

uint64_t lapic_next_deadline(struct lapic *l)
{
	checked_mutex_lock(&l->lock);
	uint64_t d = l->deadline;
	checked_mutex_unlock(&l->lock);
	return d;
}

int lapic_pending_intr(struct lapic *l)
{
	checked_mutex_lock(&l->lock);
	int v = pending_locked(l);
	checked_mutex_unlock(&l->lock);
	return v;
}

void lapic_accept_intr(struct lapic *l, int vector)
{
	if (vector < 0 || vector > 255)
		return;
	checked_mutex_lock(&l->lock);
	clear_bit256(l->irr, vector);
	set_bit256(l->isr, vector);
	checked_mutex_unlock(&l->lock);
}

bool lapic_take_nmi(struct lapic *l)
{
	checked_mutex_lock(&l->lock);
	bool nmi = l->nmi_pending;
	l->nmi_pending = false;
	checked_mutex_unlock(&l->lock);
	return nmi;
}

bool lapic_has_wake_event(struct lapic *l, bool interrupts_enabled)
{
	checked_mutex_lock(&l->lock);
	bool wake = l->nmi_pending ||
		    (interrupts_enabled && pending_locked(l) >= 0);
	checked_mutex_unlock(&l->lock);
	return wake;
}
