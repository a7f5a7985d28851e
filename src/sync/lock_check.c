/* The lock-order checker (lock_check.h). Always compiled; only debug
 * builds call it (checked_mutex.h). */
#include "sync/lock_check.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const rank_names[LOCK_RANK_COUNT] = {
#define HVGDB_LOCK_RANK_NAME(id, name) [LOCK_RANK_##id] = name,
	HVGDB_LOCK_RANKS(HVGDB_LOCK_RANK_NAME)
#undef HVGDB_LOCK_RANK_NAME
};

const char *lock_rank_name(enum lock_rank rank)
{
	if ((unsigned)rank >= LOCK_RANK_COUNT)
		return "?";
	return rank_names[rank];
}

/* The checked locks this thread holds, in the order it took them. */
static _Thread_local struct {
	const struct lock_check *lock[LOCK_CHECK_MAX_HELD];
	unsigned n;
} held;

/* Its address tells threads apart (pthread_t has no portable integer). */
static _Thread_local char thread_tag;

static uintptr_t self(void)
{
	return (uintptr_t)&thread_tag;
}

static _Noreturn void violation(const char *what, const struct lock_check *l,
				const struct lock_check *other)
{
	if (other)
		fprintf(stderr, "hvgdb: lock order violation: %s %s (rank %d) "
			"while holding %s (rank %d)\n", what,
			lock_rank_name(l->rank), (int)l->rank,
			lock_rank_name(other->rank), (int)other->rank);
	else
		fprintf(stderr, "hvgdb: lock order violation: %s %s (rank %d)\n",
			what, lock_rank_name(l->rank), (int)l->rank);
	fflush(stderr);
	abort();
}

void lock_check_init(struct lock_check *l, enum lock_rank rank)
{
	l->rank = rank;
	atomic_init(&l->owner, 0);
}

void lock_check_may_acquire(const struct lock_check *l)
{
	for (unsigned i = 0; i < held.n; i++)
		if (held.lock[i]->rank >= l->rank)
			violation("taking", l, held.lock[i]);
	if (held.n == LOCK_CHECK_MAX_HELD)
		violation("too many locks held to take", l, NULL);
}

static void push(struct lock_check *l)
{
	held.lock[held.n++] = l;
	atomic_store_explicit(&l->owner, self(), memory_order_relaxed);
}

void lock_check_acquired(struct lock_check *l)
{
	/* may_acquire made room */
	push(l);
}

static bool holds(const struct lock_check *l)
{
	return atomic_load_explicit(&l->owner, memory_order_relaxed) == self();
}

/* Out of this thread's list, wherever it is (locks may be released in
 * any order). */
static void pop(struct lock_check *l)
{
	for (unsigned i = held.n; i-- > 0;) {
		if (held.lock[i] != l)
			continue;
		for (unsigned j = i; j + 1 < held.n; j++)
			held.lock[j] = held.lock[j + 1];
		held.n--;
		atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
		return;
	}
	violation("releasing a lock this thread does not hold:", l, NULL);
}

void lock_check_released(struct lock_check *l)
{
	if (!holds(l))
		violation("releasing a lock this thread does not hold:", l,
			  NULL);
	pop(l);
}

void lock_check_assert_held(const struct lock_check *l)
{
	if (!holds(l))
		violation("a _locked function called without", l, NULL);
}

void lock_check_wait_begins(struct lock_check *l)
{
	if (!holds(l))
		violation("waiting without holding", l, NULL);
	for (unsigned i = 0; i < held.n; i++)
		if (held.lock[i] != l)
			violation("sleeping on", l, held.lock[i]);
	pop(l);
}

void lock_check_wait_ended(struct lock_check *l)
{
	push(l);
}
