/*
 * 8254 PIT. Register semantics from the Intel 8254 data sheet (order no.
 * 231164).
 *
 * Like the LAPIC timer, a channel does not tick: it remembers the input
 * clock its count started at (`start_tick`, with `start_ticks_done`
 * already counted then, non-zero after a gate pause) and derives the
 * elapsed clocks, hence the count and the output, whenever asked. Input
 * clocks are a fixed grid on the guest clock (clock k at k / 1.193182 MHz),
 * as the crystal runs whatever the guest writes.
 */
#include "devices/i8254.h"

#include <pthread.h>
#include <stdlib.h>

#include "sync/checked_mutex.h"

#define NS_PER_S 1000000000ULL
#define CHANNELS 3

/* Control word fields. */
#define CW_CHANNEL(v) (((v) >> 6) & 3u)
#define CW_ACCESS(v) (((v) >> 4) & 3u)
#define CW_MODE(v) (((v) >> 1) & 7u)
#define CW_BCD 0x01
#define CW_READBACK 3u
#define ACCESS_LATCH 0
#define ACCESS_LO 1
#define ACCESS_HI 2
#define ACCESS_LOHI 3
/* Read-back command: bits are active-low. */
#define RB_NO_COUNT 0x20
#define RB_NO_STATUS 0x10
#define STATUS_OUTPUT 0x80
#define STATUS_NULL_COUNT 0x40

struct channel {
	uint8_t mode_bits; /* as written (0-7), for the status byte */
	uint8_t mode;      /* effective mode 0-5 */
	uint8_t access;
	bool bcd;
	uint32_t reload; /* 1-65536 */
	bool loaded;     /* a whole count has been written */
	bool counting;   /* the count runs (modes 1/5: since a trigger) */
	bool paused;     /* gate low holds the count */
	bool gate;
	uint64_t start_tick, start_ticks_done, paused_ticks;
	uint64_t load_tick; /* null count lasts until the next clock */
	bool count_written_pending; /* control word written, no count yet */
	bool write_hi_next, read_hi_next;
	uint8_t write_lo;
	bool count_latched, latch_hi_next, status_latched;
	uint16_t latched_count;
	uint8_t latched_status;
	uint64_t edges_seen; /* channel 0: edges up to this tick raised */
};

struct i8254 {
	struct checked_mutex lock;
	struct irq_router *router;
	struct channel ch[CHANNELS];
};

/* floor(ns * HZ / 1e9) without overflow. */
static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / NS_PER_S * I8254_HZ + ns % NS_PER_S * I8254_HZ / NS_PER_S;
}

/* ceil(ticks * 1e9 / HZ) without overflow. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ticks / I8254_HZ * NS_PER_S +
	       (ticks % I8254_HZ * NS_PER_S + I8254_HZ - 1) / I8254_HZ;
}

static uint64_t elapsed(const struct channel *c, uint64_t now)
{
	if (!c->counting)
		return 0;
	if (c->paused)
		return c->paused_ticks;
	uint64_t tick = ns_to_ticks(now);
	return c->start_ticks_done +
	       (tick > c->start_tick ? tick - c->start_tick : 0);
}

static void start(struct channel *c, uint64_t now, uint64_t ticks_done)
{
	c->counting = true;
	c->start_tick = ns_to_ticks(now);
	c->start_ticks_done = ticks_done;
	c->paused = false;
}

static uint16_t count_at(const struct channel *c, uint64_t d)
{
	uint64_t n = c->reload, p, half;

	if (!c->counting)
		return (uint16_t)n;
	switch (c->mode) {
	case 2:
		return (uint16_t)(n - d % n);
	case 3: /* counts down by two, once per half period */
		p = d % n;
		half = (n + 1) / 2;
		return (uint16_t)(p < half ? n - 2 * p : n - 2 * (p - half));
	default: /* 0, 1, 4, 5: one pass, then wraps around */
		return (uint16_t)(n - d);
	}
}

static bool output_at(const struct channel *c, uint64_t d)
{
	uint64_t n = c->reload;

	/* Waiting for a count or a trigger: low in mode 0, high otherwise. */
	if (!c->counting)
		return c->mode != 0;
	switch (c->mode) {
	case 0:
	case 1:
		return d >= n;
	case 2: /* low for the one clock before the reload */
		return c->paused || d % n != n - 1;
	case 3:
		return c->paused || d % n < (n + 1) / 2;
	default: /* 4, 5: low for one clock at the terminal count */
		return d != n;
	}
}

/* Tick of the first rising edge of the output after tick `after`, or
 * UINT64_MAX. */
static uint64_t next_rising_edge(const struct channel *c, uint64_t after)
{
	uint64_t n = c->reload;

	if (!c->counting || c->paused)
		return UINT64_MAX;
	switch (c->mode) {
	case 0:
	case 1:
		return after < n ? n : UINT64_MAX;
	case 2:
	case 3: /* rising at every reload */
		return (after / n + 1) * n;
	default:
		return after < n + 1 ? n + 1 : UINT64_MAX;
	}
}

struct i8254 *i8254_create(struct irq_router *router, uint64_t now_ns)
{
	struct i8254 *pit = calloc(1, sizeof(*pit));

	if (!pit)
		return NULL;
	if (checked_mutex_init(&pit->lock, LOCK_RANK_PIT) != 0) {
		free(pit);
		return NULL;
	}
	pit->router = router;
	for (unsigned i = 0; i < CHANNELS; i++) {
		struct channel *c = &pit->ch[i];

		c->mode = c->mode_bits = 3;
		c->access = ACCESS_LOHI;
		c->reload = 65536;
		c->loaded = true;
		c->gate = i != 2;
		c->load_tick = ns_to_ticks(now_ns);
		if (c->gate)
			start(c, now_ns, 0);
	}
	return pit;
}

void i8254_destroy(struct i8254 *pit)
{
	if (!pit)
		return;
	checked_mutex_destroy(&pit->lock);
	free(pit);
}

static uint8_t status_byte(const struct channel *c, uint64_t now)
{
	/* Set from the control word until one clock after the whole count
	 * was written (when it moves into the counting element). */
	bool null_count = c->count_written_pending ||
			  ns_to_ticks(now) <= c->load_tick;

	return (uint8_t)((output_at(c, elapsed(c, now)) ? STATUS_OUTPUT : 0) |
			 (null_count ? STATUS_NULL_COUNT : 0) |
			 c->access << 4 | c->mode_bits << 1 | c->bcd);
}

static void latch_count(struct channel *c, uint64_t now)
{
	if (c->count_latched) /* the first latch holds until read */
		return;
	c->count_latched = true;
	c->latch_hi_next = false;
	c->latched_count = count_at(c, elapsed(c, now));
}

static void latch_status(struct channel *c, uint64_t now)
{
	if (c->status_latched)
		return;
	c->status_latched = true;
	c->latched_status = status_byte(c, now);
}

static uint8_t pick_byte(uint16_t v, unsigned access, bool *hi_next)
{
	switch (access) {
	case ACCESS_LO:
		return (uint8_t)v;
	case ACCESS_HI:
		return (uint8_t)(v >> 8);
	default: {
		bool hi = *hi_next;

		*hi_next = !hi;
		return hi ? (uint8_t)(v >> 8) : (uint8_t)v;
	}
	}
}

static uint8_t read_channel(struct channel *c, uint64_t now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->latched_status;
	}
	if (c->count_latched) {
		uint8_t v = pick_byte(c->latched_count, c->access,
				      &c->latch_hi_next);
		/* Released once every byte of the access mode was read. */
		if (c->access != ACCESS_LOHI || !c->latch_hi_next)
			c->count_latched = false;
		return v;
	}
	return pick_byte(count_at(c, elapsed(c, now)), c->access,
			 &c->read_hi_next);
}

static void control_word(struct i8254 *pit, uint8_t val, uint64_t now)
{
	unsigned sel = CW_CHANNEL(val);

	if (sel == CW_READBACK) {
		for (unsigned i = 0; i < CHANNELS; i++) {
			if (!(val & (2u << i)))
				continue;
			if (!(val & RB_NO_COUNT))
				latch_count(&pit->ch[i], now);
			if (!(val & RB_NO_STATUS))
				latch_status(&pit->ch[i], now);
		}
		return;
	}
	struct channel *c = &pit->ch[sel];
	if (CW_ACCESS(val) == ACCESS_LATCH) {
		latch_count(c, now);
		return;
	}
	/* A new mode resets the channel: it waits for a count, output in
	 * the mode's initial state (low in mode 0, high otherwise). */
	c->mode_bits = (uint8_t)CW_MODE(val);
	c->mode = c->mode_bits >= 6 ? c->mode_bits - 4 : c->mode_bits;
	c->access = (uint8_t)CW_ACCESS(val);
	c->bcd = val & CW_BCD;
	c->loaded = false;
	c->counting = false;
	c->paused = false;
	c->count_written_pending = true;
	c->write_hi_next = c->read_hi_next = false;
	c->count_latched = c->status_latched = false;
}

static void load_count(struct channel *c, uint32_t count, uint64_t now)
{
	c->reload = count ? count : 65536;
	c->loaded = true;
	c->count_written_pending = false;
	c->load_tick = ns_to_ticks(now);
	c->edges_seen = 0;
	/* Modes 1 and 5 wait for a trigger on the gate. */
	if (c->mode == 1 || c->mode == 5)
		return;
	start(c, now, 0);
	if (!c->gate) {
		c->paused = true;
		c->paused_ticks = 0;
	}
}

static void write_channel(struct channel *c, uint8_t val, uint64_t now)
{
	switch (c->access) {
	case ACCESS_LO:
		load_count(c, val, now);
		break;
	case ACCESS_HI:
		load_count(c, (uint32_t)val << 8, now);
		break;
	default:
		if (!c->write_hi_next) {
			c->write_lo = val;
			c->write_hi_next = true;
			/* Mode 0 stops counting at the first byte. */
			if (c->mode == 0) {
				c->counting = false;
				c->loaded = false;
			}
			c->count_written_pending = true;
			return;
		}
		c->write_hi_next = false;
		load_count(c, (uint32_t)val << 8 | c->write_lo, now);
		break;
	}
}

uint8_t i8254_read(struct i8254 *pit, unsigned offset, uint64_t now_ns)
{
	uint8_t val = 0xff;

	if (offset >= CHANNELS)
		return val;
	checked_mutex_lock(&pit->lock);
	val = read_channel(&pit->ch[offset], now_ns);
	checked_mutex_unlock(&pit->lock);
	return val;
}

/* Raises IRQ 0 for the edges due by now. */
static bool raise_due_edges_locked(struct i8254 *pit, uint64_t now)
{
	lock_assert_held(&pit->lock);
	struct channel *c = &pit->ch[0];
	uint64_t d = elapsed(c, now);

	if (next_rising_edge(c, c->edges_seen) > d)
		return false;
	c->edges_seen = d;
	if (pit->router)
		irq_router_pulse_isa_irq(pit->router, I8254_IRQ);
	return true;
}

void i8254_write(struct i8254 *pit, unsigned offset, uint8_t val,
		 uint64_t now_ns)
{
	if (offset > CHANNELS)
		return;
	checked_mutex_lock(&pit->lock);
	/* Edges due under the old programming are not lost by a rewrite. */
	raise_due_edges_locked(pit, now_ns);
	if (offset == CHANNELS)
		control_word(pit, val, now_ns);
	else
		write_channel(&pit->ch[offset], val, now_ns);
	checked_mutex_unlock(&pit->lock);
}

void i8254_set_gate(struct i8254 *pit, unsigned channel, bool level,
		    uint64_t now_ns)
{
	if (channel >= CHANNELS)
		return;
	checked_mutex_lock(&pit->lock);
	struct channel *c = &pit->ch[channel];
	if (level == c->gate) {
		checked_mutex_unlock(&pit->lock);
		return;
	}
	c->gate = level;
	if (!c->loaded) {
		checked_mutex_unlock(&pit->lock);
		return;
	}
	switch (c->mode) {
	case 0:
	case 4: /* the gate holds and releases the count */
		if (!c->counting)
			break;
		if (level) {
			start(c, now_ns, c->paused_ticks);
		} else {
			c->paused_ticks = elapsed(c, now_ns);
			c->paused = true;
		}
		break;
	case 2:
	case 3: /* low: stop, output high; rising: reload and restart */
		if (level) {
			start(c, now_ns, 0);
			c->edges_seen = 0;
		} else if (c->counting) {
			c->paused_ticks = elapsed(c, now_ns);
			c->paused = true;
		}
		break;
	default: /* 1, 5: a rising edge (re)triggers */
		if (level) {
			start(c, now_ns, 0);
			c->edges_seen = 0;
		}
		break;
	}
	checked_mutex_unlock(&pit->lock);
}

bool i8254_output(struct i8254 *pit, unsigned channel, uint64_t now_ns)
{
	if (channel >= CHANNELS)
		return false;
	checked_mutex_lock(&pit->lock);
	const struct channel *c = &pit->ch[channel];
	bool out = output_at(c, elapsed(c, now_ns));
	checked_mutex_unlock(&pit->lock);
	return out;
}

bool i8254_update(struct i8254 *pit, uint64_t now_ns)
{
	checked_mutex_lock(&pit->lock);
	bool raised = raise_due_edges_locked(pit, now_ns);
	checked_mutex_unlock(&pit->lock);
	return raised;
}

uint64_t i8254_next_deadline(struct i8254 *pit)
{
	checked_mutex_lock(&pit->lock);
	const struct channel *c = &pit->ch[0];
	uint64_t edge = next_rising_edge(c, c->edges_seen);
	uint64_t when = UINT64_MAX;
	if (edge != UINT64_MAX && edge >= c->start_ticks_done)
		when = ticks_to_ns(c->start_tick + edge - c->start_ticks_done);
	checked_mutex_unlock(&pit->lock);
	return when;
}
