#include "gdbstub/breakpoints.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum slot_state { SLOT_EMPTY, SLOT_USED, SLOT_DELETED };

struct bp_slot {
	enum slot_state state;
	struct breakpoint bp;
};

void bp_table_init(struct bp_table *t)
{
	memset(t, 0, sizeof(*t));
}

void bp_table_free(struct bp_table *t)
{
	free(t->slots);
	bp_table_init(t);
}

size_t bp_table_count(const struct bp_table *t)
{
	return t->count;
}

/* Guest code addresses share low bits patterns; mix before masking. */
static size_t hash_gpa(uint64_t gpa)
{
	gpa ^= gpa >> 33;
	gpa *= 0xff51afd7ed558ccdULL;
	gpa ^= gpa >> 33;
	return (size_t)gpa;
}

struct breakpoint *bp_table_find(const struct bp_table *t, uint64_t gpa)
{
	if (t->nslots == 0)
		return NULL;
	size_t mask = t->nslots - 1;
	for (size_t i = hash_gpa(gpa) & mask, n = 0; n < t->nslots;
	     i = (i + 1) & mask, n++) {
		struct bp_slot *s = &t->slots[i];
		if (s->state == SLOT_EMPTY)
			return NULL;
		if (s->state == SLOT_USED && s->bp.gpa == gpa)
			return &s->bp;
	}
	return NULL;
}

static void place(struct bp_slot *slots, size_t nslots,
		  const struct breakpoint *bp)
{
	size_t mask = nslots - 1;
	size_t i = hash_gpa(bp->gpa) & mask;
	while (slots[i].state == SLOT_USED)
		i = (i + 1) & mask;
	slots[i].state = SLOT_USED;
	slots[i].bp = *bp;
}

static int rehash(struct bp_table *t, size_t nslots)
{
	struct bp_slot *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].state == SLOT_USED)
			place(slots, nslots, &t->slots[i].bp);
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	t->tombstones = 0;
	return 0;
}

int bp_table_insert(struct bp_table *t, const struct breakpoint *bp)
{
	/* keep the load (tombstones included) under one half */
	if ((t->count + t->tombstones + 1) * 2 > t->nslots) {
		/* rebuild at a quarter load; drops tombstones too */
		size_t n = 16;
		while ((t->count + 1) * 4 > n)
			n *= 2;
		int rc = rehash(t, n);
		if (rc)
			return rc;
	}
	place(t->slots, t->nslots, bp);
	t->count++;
	return 0;
}

bool bp_table_remove(struct bp_table *t, uint64_t gpa)
{
	struct breakpoint *bp = bp_table_find(t, gpa);
	if (!bp)
		return false;
	struct bp_slot *s = (struct bp_slot *)((char *)bp -
					       offsetof(struct bp_slot, bp));
	s->state = SLOT_DELETED;
	t->count--;
	t->tombstones++;
	return true;
}

void bp_table_foreach(const struct bp_table *t,
		      void (*fn)(const struct breakpoint *bp, void *arg),
		      void *arg)
{
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].state == SLOT_USED)
			fn(&t->slots[i].bp, arg);
}

void bp_table_clear(struct bp_table *t)
{
	if (t->slots)
		memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	t->count = 0;
	t->tombstones = 0;
}
