/*
 * Interrupt routing: keeps the level of every ISA line and every directly
 * driven GSI, derives each GSI's level from them, and tells the sinks about
 * the pins whose level changed. See irq_router.h for the model.
 */
#include "devices/irq_router.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "sync/checked_mutex.h"

struct sink {
	enum irq_sink_kind kind;
	struct irq_sink_ops ops;
};

struct irq_router {
	struct checked_mutex lock;
	uint32_t isa_levels; /* bit n: ISA IRQ n high */
	uint32_t gsi_direct; /* bit g: GSI g held high by irq_router_set_gsi */
	unsigned isa_to_gsi[IRQ_ROUTER_ISA_LINES];
	unsigned nsinks;
	struct sink sinks[IRQ_ROUTER_MAX_SINKS];
};

struct irq_router *irq_router_create(void)
{
	struct irq_router *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (checked_mutex_init(&r->lock, LOCK_RANK_IRQ_ROUTER) != 0) {
		free(r);
		return NULL;
	}
	for (unsigned i = 0; i < IRQ_ROUTER_ISA_LINES; i++)
		r->isa_to_gsi[i] = i;
	return r;
}

void irq_router_destroy(struct irq_router *r)
{
	if (!r)
		return;
	checked_mutex_destroy(&r->lock);
	free(r);
}

/* Caller holds r->lock. */
static uint32_t gsi_levels_locked(const struct irq_router *r)
{
	lock_assert_held(&r->lock);
	uint32_t levels = r->gsi_direct;

	for (unsigned i = 0; i < IRQ_ROUTER_ISA_LINES; i++)
		if (r->isa_levels & (1u << i))
			levels |= 1u << r->isa_to_gsi[i];
	return levels;
}

/* Caller holds r->lock: tell the sinks of `kind` about every pin whose
 * level differs between `before` and `after`. */
static void notify_locked(struct irq_router *r, enum irq_sink_kind kind,
			  uint32_t before, uint32_t after)
{
	lock_assert_held(&r->lock);
	uint32_t changed = before ^ after;

	if (!changed)
		return;
	for (unsigned s = 0; s < r->nsinks; s++) {
		const struct sink *k = &r->sinks[s];

		if (k->kind != kind)
			continue;
		for (unsigned pin = 0; pin < 32; pin++)
			if (changed & (1u << pin))
				k->ops.set_line(k->ops.ctx, pin,
						after & (1u << pin));
	}
}

/* Caller holds r->lock: apply new ISA / direct-GSI levels and notify. */
static void change_locked(struct irq_router *r, uint32_t isa_levels,
			  uint32_t gsi_direct)
{
	lock_assert_held(&r->lock);
	uint32_t isa_before = r->isa_levels;
	uint32_t gsi_before = gsi_levels_locked(r);

	r->isa_levels = isa_levels;
	r->gsi_direct = gsi_direct;
	notify_locked(r, IRQ_SINK_ISA, isa_before, r->isa_levels);
	notify_locked(r, IRQ_SINK_GSI, gsi_before, gsi_levels_locked(r));
}

int irq_router_attach(struct irq_router *r, enum irq_sink_kind kind,
		      const struct irq_sink_ops *ops)
{
	if (!r || !ops || !ops->set_line ||
	    (kind != IRQ_SINK_ISA && kind != IRQ_SINK_GSI))
		return -EINVAL;
	checked_mutex_lock(&r->lock);
	if (r->nsinks == IRQ_ROUTER_MAX_SINKS) {
		checked_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	struct sink *k = &r->sinks[r->nsinks++];
	k->kind = kind;
	k->ops = *ops;
	uint32_t high = kind == IRQ_SINK_ISA ? r->isa_levels
					     : gsi_levels_locked(r);
	for (unsigned pin = 0; pin < 32; pin++)
		if (high & (1u << pin))
			k->ops.set_line(k->ops.ctx, pin, true);
	checked_mutex_unlock(&r->lock);
	return 0;
}

int irq_router_set_isa_override(struct irq_router *r, unsigned isa_irq,
				unsigned gsi)
{
	if (!r || isa_irq >= IRQ_ROUTER_ISA_LINES || gsi >= IRQ_ROUTER_GSI_COUNT)
		return -EINVAL;
	checked_mutex_lock(&r->lock);
	uint32_t before = gsi_levels_locked(r);
	r->isa_to_gsi[isa_irq] = gsi;
	notify_locked(r, IRQ_SINK_GSI, before, gsi_levels_locked(r));
	checked_mutex_unlock(&r->lock);
	return 0;
}

int irq_router_isa_to_gsi(struct irq_router *r, unsigned isa_irq)
{
	if (!r || isa_irq >= IRQ_ROUTER_ISA_LINES)
		return -1;
	checked_mutex_lock(&r->lock);
	int gsi = (int)r->isa_to_gsi[isa_irq];
	checked_mutex_unlock(&r->lock);
	return gsi;
}

int irq_router_set_isa_irq(struct irq_router *r, unsigned irq, bool level)
{
	if (!r || irq >= IRQ_ROUTER_ISA_LINES)
		return -EINVAL;
	checked_mutex_lock(&r->lock);
	uint32_t bit = 1u << irq;
	change_locked(r, level ? r->isa_levels | bit : r->isa_levels & ~bit,
		      r->gsi_direct);
	checked_mutex_unlock(&r->lock);
	return 0;
}

int irq_router_pulse_isa_irq(struct irq_router *r, unsigned irq)
{
	if (!r || irq >= IRQ_ROUTER_ISA_LINES)
		return -EINVAL;
	checked_mutex_lock(&r->lock);
	uint32_t bit = 1u << irq;
	/* From low, so that a line left high still makes an edge. */
	change_locked(r, r->isa_levels & ~bit, r->gsi_direct);
	change_locked(r, r->isa_levels | bit, r->gsi_direct);
	change_locked(r, r->isa_levels & ~bit, r->gsi_direct);
	checked_mutex_unlock(&r->lock);
	return 0;
}

int irq_router_set_gsi(struct irq_router *r, unsigned gsi, bool level)
{
	if (!r || gsi >= IRQ_ROUTER_GSI_COUNT)
		return -EINVAL;
	checked_mutex_lock(&r->lock);
	uint32_t bit = 1u << gsi;
	change_locked(r, r->isa_levels,
		      level ? r->gsi_direct | bit : r->gsi_direct & ~bit);
	checked_mutex_unlock(&r->lock);
	return 0;
}

unsigned irq_router_isa_levels(struct irq_router *r)
{
	checked_mutex_lock(&r->lock);
	unsigned v = r->isa_levels;
	checked_mutex_unlock(&r->lock);
	return v;
}

unsigned irq_router_gsi_levels(struct irq_router *r)
{
	checked_mutex_lock(&r->lock);
	unsigned v = gsi_levels_locked(r);
	checked_mutex_unlock(&r->lock);
	return v;
}
