/*
 * HPET model (see hpet.h). Register layout and bits from the IA-PC HPET
 * specification 1.0a, section 2.3.
 *
 * Time: while enabled, the main counter is count_base + (now - base_ns) /
 * 10 ns; halted, it is count_base. Each comparator keeps the counter value
 * of its next match (fire_at, unwrapped to 64 bits even in 32-bit mode),
 * so a deadline is one multiplication away and matches are caught up on
 * every access and update.
 */
#include "devices/hpet.h"
#include "sync/checked_mutex.h"

#include <pthread.h>
#include <stdlib.h>

enum {
	REG_CAP_ID = 0x000,
	REG_CONFIG = 0x010,
	REG_INT_STATUS = 0x020,
	REG_COUNTER = 0x0f0,
	REG_TIMER0 = 0x100,
	TIMER_STRIDE = 0x20,
	TIMER_CONFIG = 0x00,
	TIMER_CMP = 0x08,
	TIMER_FSB = 0x10,
	REG_END = REG_TIMER0 + HPET_TIMERS * TIMER_STRIDE,
};

#define CONFIG_ENABLE 1u

/* Tn_CONF_CAP bits. */
#define TN_LEVEL (1u << 1)
#define TN_INT_ENABLE (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_PERIODIC_CAP (1u << 4)
#define TN_64BIT_CAP (1u << 5)
#define TN_SETVAL (1u << 6)
#define TN_32BIT (1u << 8)
#define TN_ROUTE_SHIFT 9
#define TN_ROUTE_MASK (0x1fu << TN_ROUTE_SHIFT)
#define TN_WRITABLE (TN_LEVEL | TN_INT_ENABLE | TN_PERIODIC | TN_SETVAL | \
		     TN_32BIT | TN_ROUTE_MASK)

#define NEVER UINT64_MAX
#define LOW32 0xffffffffULL
#define WRAP32 (1ULL << 32)
#define GSI_LINES 32

struct comparator {
	uint64_t config; /* the writable bits of Tn_CONF_CAP */
	uint64_t cmp;
	uint64_t period; /* periodic mode: added at each match */
	uint64_t fire_at; /* counter value of the next match, or NEVER */
};

struct hpet {
	struct checked_mutex lock;
	struct hpet_ops ops;
	bool enabled;
	uint64_t count_base, base_ns;
	uint64_t int_status;
	struct comparator t[HPET_TIMERS];
	bool line[GSI_LINES]; /* the levels last sent to ops.set_gsi */
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t counter_at(const struct hpet *h, uint64_t now_ns)
{
	if (!h->enabled || now_ns < h->base_ns)
		return h->count_base;
	return h->count_base + (now_ns - h->base_ns) / HPET_NS_PER_TICK;
}

static bool periodic_capable(unsigned i)
{
	return i == 0;
}

static bool wide(const struct comparator *c)
{
	return !(c->config & TN_32BIT);
}

/* The next match at or after counter value `count`. */
static void arm(struct comparator *c, uint64_t count)
{
	if (wide(c)) {
		c->fire_at = c->cmp >= count ? c->cmp : NEVER;
		return;
	}
	/* 32 bits: the low half of the counter meets the comparator once
	 * every 2^32 ticks. */
	c->fire_at = count + (uint32_t)((uint32_t)c->cmp - (uint32_t)count);
}

/* A match at fire_at <= count happened: where is the next one? Matches
 * missed meanwhile (count far past fire_at) raise nothing more. */
static void advance(struct comparator *c, uint64_t count)
{
	uint64_t step;

	if ((c->config & TN_PERIODIC) && c->period)
		step = c->period;
	else if (!wide(c))
		step = WRAP32; /* one-shot, 32 bits: again after the wrap */
	else {
		c->fire_at = NEVER; /* one-shot, 64 bits: in 5800 years */
		return;
	}
	uint64_t steps = (count - c->fire_at) / step + 1;
	c->fire_at = sat_add(c->fire_at,
			     steps > UINT64_MAX / step ? UINT64_MAX
						       : steps * step);
	if (c->config & TN_PERIODIC)
		c->cmp = wide(c) ? c->fire_at : (c->fire_at & LOW32);
}

static unsigned route_of(const struct comparator *c)
{
	return (unsigned)((c->config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT);
}

static bool routable(const struct comparator *c)
{
	return (HPET_ROUTE_CAP >> route_of(c)) & 1u;
}

/* Levels of the IO-APIC inputs: a level-triggered comparator holds its
 * line while its status bit is set (and interrupts are on). */
static void drive_lines(struct hpet *h)
{
	bool level[GSI_LINES] = { false };

	for (unsigned i = 0; i < HPET_TIMERS; i++) {
		const struct comparator *c = &h->t[i];
		if (h->enabled && (c->config & TN_LEVEL) &&
		    (c->config & TN_INT_ENABLE) && routable(c) &&
		    (h->int_status & (1u << i)))
			level[route_of(c)] = true;
	}
	for (unsigned g = 0; g < GSI_LINES; g++) {
		if (level[g] != h->line[g] && h->ops.set_gsi) {
			h->line[g] = level[g];
			h->ops.set_gsi(h->ops.ctx, g, level[g]);
		}
	}
}

static void signal_match(struct hpet *h, unsigned i)
{
	struct comparator *c = &h->t[i];

	if (c->config & TN_LEVEL) {
		/* The status bit is set even with the interrupt off. */
		h->int_status |= 1u << i;
	} else if ((c->config & TN_INT_ENABLE) && routable(c) &&
		   h->ops.set_gsi && !h->line[route_of(c)]) {
		/* An edge: a pulse on a line no level holds high. */
		h->ops.set_gsi(h->ops.ctx, route_of(c), true);
		h->ops.set_gsi(h->ops.ctx, route_of(c), false);
	}
}

static void catch_up(struct hpet *h, uint64_t now_ns)
{
	if (!h->enabled)
		return;
	uint64_t count = counter_at(h, now_ns);
	for (unsigned i = 0; i < HPET_TIMERS; i++) {
		struct comparator *c = &h->t[i];
		if (c->fire_at > count)
			continue;
		signal_match(h, i);
		advance(c, count);
	}
	drive_lines(h);
}

static void rearm_all(struct hpet *h, uint64_t now_ns)
{
	uint64_t count = counter_at(h, now_ns);
	for (unsigned i = 0; i < HPET_TIMERS; i++)
		arm(&h->t[i], count);
}

struct hpet *hpet_create(const struct hpet_ops *ops)
{
	struct hpet *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (checked_mutex_init(&h->lock, LOCK_RANK_HPET) != 0) {
		free(h);
		return NULL;
	}
	if (ops)
		h->ops = *ops;
	/* Reset: halted at 0, comparators all ones, interrupts off. */
	for (unsigned i = 0; i < HPET_TIMERS; i++) {
		h->t[i].cmp = UINT64_MAX;
		h->t[i].fire_at = NEVER;
	}
	return h;
}

void hpet_destroy(struct hpet *h)
{
	if (!h)
		return;
	checked_mutex_destroy(&h->lock);
	free(h);
}

/* ---- registers ----------------------------------------------------------- */

static uint64_t read_reg(struct hpet *h, uint32_t reg, uint64_t now_ns)
{
	switch (reg) {
	case REG_CAP_ID:
		return (uint64_t)HPET_PERIOD_FS << 32 | HPET_ID_LOW;
	case REG_CONFIG:
		return h->enabled ? CONFIG_ENABLE : 0;
	case REG_INT_STATUS:
		return h->int_status;
	case REG_COUNTER:
		return counter_at(h, now_ns);
	}
	if (reg < REG_TIMER0 || reg >= REG_END)
		return 0;
	unsigned i = (reg - REG_TIMER0) / TIMER_STRIDE;
	const struct comparator *c = &h->t[i];
	switch ((reg - REG_TIMER0) % TIMER_STRIDE) {
	case TIMER_CONFIG:
		return (uint64_t)HPET_ROUTE_CAP << 32 | TN_64BIT_CAP |
		       (periodic_capable(i) ? TN_PERIODIC_CAP : 0) | c->config;
	case TIMER_CMP:
		return wide(c) ? c->cmp : (c->cmp & LOW32);
	default: /* TIMER_FSB: no FSB delivery */
		return 0;
	}
}

static uint64_t merge(uint64_t old, uint64_t val, uint64_t mask)
{
	return (old & ~mask) | (val & mask);
}

static void write_config(struct hpet *h, uint64_t val, uint64_t now_ns)
{
	bool on = val & CONFIG_ENABLE;

	if (on == h->enabled)
		return;
	h->count_base = counter_at(h, now_ns);
	h->base_ns = now_ns;
	h->enabled = on;
	rearm_all(h, now_ns);
}

static void write_timer_config(struct hpet *h, unsigned i, uint64_t val,
			       uint64_t now_ns)
{
	struct comparator *c = &h->t[i];
	uint64_t cfg = val & TN_WRITABLE;

	if (!periodic_capable(i))
		cfg &= ~(uint64_t)(TN_PERIODIC | TN_SETVAL);
	/* The status bit means nothing for an edge-triggered comparator. */
	if (!(cfg & TN_LEVEL))
		h->int_status &= ~(1ULL << i);
	c->config = cfg;
	if (!wide(c)) {
		c->cmp &= LOW32;
		c->period &= LOW32;
	}
	arm(c, counter_at(h, now_ns));
}

/* In periodic mode a comparator write sets the period, and with Tn_VAL_SET
 * the comparator too (which is how a periodic timer is started); VAL_SET
 * then clears. */
static void write_timer_cmp(struct hpet *h, unsigned i, uint64_t val,
			    uint64_t mask, uint64_t now_ns)
{
	struct comparator *c = &h->t[i];

	if (!wide(c))
		mask &= LOW32;
	if (!(c->config & TN_PERIODIC) || (c->config & TN_SETVAL))
		c->cmp = merge(c->cmp, val, mask);
	if (c->config & TN_PERIODIC)
		c->period = merge(c->period, val, mask);
	c->config &= ~(uint64_t)TN_SETVAL;
	arm(c, counter_at(h, now_ns));
}

static void write_reg(struct hpet *h, uint32_t reg, uint64_t val,
		      uint64_t mask, uint64_t now_ns)
{
	switch (reg) {
	case REG_CONFIG:
		write_config(h, merge(h->enabled, val, mask), now_ns);
		return;
	case REG_INT_STATUS:
		h->int_status &= ~(val & mask); /* write 1 to clear */
		return;
	case REG_COUNTER:
		/* The spec asks software to halt the counter first; a write
		 * while it runs takes effect from now on. */
		h->count_base = merge(counter_at(h, now_ns), val, mask);
		h->base_ns = now_ns;
		rearm_all(h, now_ns);
		return;
	}
	if (reg < REG_TIMER0 || reg >= REG_END)
		return; /* capabilities and reserved: read-only */
	unsigned i = (reg - REG_TIMER0) / TIMER_STRIDE;
	switch ((reg - REG_TIMER0) % TIMER_STRIDE) {
	case TIMER_CONFIG:
		write_timer_config(h, i, merge(h->t[i].config, val, mask),
				   now_ns);
		return;
	case TIMER_CMP:
		write_timer_cmp(h, i, val, mask, now_ns);
		return;
	}
}

/* A 4-byte access is the low or high half of its 64-bit register. */
static bool decode(uint32_t offset, unsigned size, uint32_t *reg,
		   unsigned *shift)
{
	if ((size != 4 && size != 8) || (offset & (size - 1)) ||
	    offset >= HPET_MMIO_SIZE)
		return false;
	*reg = offset & ~7u;
	*shift = (offset & 4u) * 8;
	return true;
}

uint64_t hpet_read(struct hpet *h, uint32_t offset, unsigned size,
		   uint64_t now_ns)
{
	uint32_t reg;
	unsigned shift;

	if (!decode(offset, size, &reg, &shift))
		return 0;
	checked_mutex_lock(&h->lock);
	catch_up(h, now_ns);
	uint64_t val = read_reg(h, reg, now_ns) >> shift;
	checked_mutex_unlock(&h->lock);
	return size == 4 ? (val & LOW32) : val;
}

void hpet_write(struct hpet *h, uint32_t offset, unsigned size, uint64_t val,
		uint64_t now_ns)
{
	uint32_t reg;
	unsigned shift;

	if (!decode(offset, size, &reg, &shift))
		return;
	uint64_t mask = size == 8 ? UINT64_MAX : LOW32 << shift;
	checked_mutex_lock(&h->lock);
	catch_up(h, now_ns);
	write_reg(h, reg, val << shift, mask, now_ns);
	/* A write may have made a match due at once, or changed a line. */
	catch_up(h, now_ns);
	drive_lines(h);
	checked_mutex_unlock(&h->lock);
}

void hpet_update(struct hpet *h, uint64_t now_ns)
{
	checked_mutex_lock(&h->lock);
	catch_up(h, now_ns);
	checked_mutex_unlock(&h->lock);
}

uint64_t hpet_next_deadline(struct hpet *h)
{
	uint64_t next = NEVER;

	checked_mutex_lock(&h->lock);
	for (unsigned i = 0; h->enabled && i < HPET_TIMERS; i++) {
		const struct comparator *c = &h->t[i];
		/* Only a match that raises something needs a wake-up; the
		 * others are caught up at the next access. */
		if (!(c->config & (TN_INT_ENABLE | TN_LEVEL)) ||
		    c->fire_at == NEVER)
			continue;
		uint64_t ticks = c->fire_at > h->count_base
					 ? c->fire_at - h->count_base
					 : 0;
		uint64_t at = ticks > (NEVER - h->base_ns) / HPET_NS_PER_TICK
				      ? NEVER
				      : h->base_ns + ticks * HPET_NS_PER_TICK;
		if (at < next)
			next = at;
	}
	checked_mutex_unlock(&h->lock);
	return next;
}
