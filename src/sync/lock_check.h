/*
 * The lock-order checker behind checked_mutex.h, for locks that are not
 * mutexes too (a vCPU's right to execute guest code is a token granted
 * under the scheduler's mutex). Each thread keeps the list of checked locks it
 * holds; a lock records the thread that holds it.
 *
 * HVGDB_LOCK_CHECKS defaults to on unless NDEBUG; every file of one build
 * must agree (it changes struct checked_mutex).
 */
#ifndef HVGDB_SYNC_LOCK_CHECK_H
#define HVGDB_SYNC_LOCK_CHECK_H

#include <stdatomic.h>
#include <stdint.h>

#include "sync/lock_order.h"

#ifndef HVGDB_LOCK_CHECKS
#ifdef NDEBUG
#define HVGDB_LOCK_CHECKS 0
#else
#define HVGDB_LOCK_CHECKS 1
#endif
#endif

/* How many checked locks one thread may hold at once (deeper is a
 * violation: no path in hvgdb nests more than a few). */
#define LOCK_CHECK_MAX_HELD 8

struct lock_check {
	enum lock_rank rank;
	/* The holding thread's tag (0: free). Written by the holder, read
	 * by threads that assert they hold it: atomic. */
	_Atomic uintptr_t owner;
};

void lock_check_init(struct lock_check *l, enum lock_rank rank);
/* Before taking l: the caller holds no lock of l's rank or later. */
void lock_check_may_acquire(const struct lock_check *l);
/* l was taken by the caller: record it. */
void lock_check_acquired(struct lock_check *l);
/* The caller holds l and lets it go. */
void lock_check_released(struct lock_check *l);
/* The caller holds l. */
void lock_check_assert_held(const struct lock_check *l);
/* A condition wait on l starts (the caller holds l and no other lock) and
 * ends (l is held again). */
void lock_check_wait_begins(struct lock_check *l);
void lock_check_wait_ended(struct lock_check *l);

#endif
