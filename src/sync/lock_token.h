/*
 * A lock that is not a mutex, for the lock-order checker: a token taken
 * and given back under some other lock (a vCPU's right to execute guest
 * code, granted under the scheduler's mutex). The owner brackets its ownership with
 * these calls; debug builds then check the token's rank like a mutex's,
 * and that its owner never sleeps on a condition while holding it. Without
 * checks the struct is empty and the calls are nothing.
 */
#ifndef HVGDB_SYNC_LOCK_TOKEN_H
#define HVGDB_SYNC_LOCK_TOKEN_H

#include "sync/lock_check.h"

struct lock_token {
#if HVGDB_LOCK_CHECKS
	struct lock_check check;
#else
	char unused; /* C has no empty structs */
#endif
};

static inline void lock_token_init(struct lock_token *t, enum lock_rank rank)
{
#if HVGDB_LOCK_CHECKS
	lock_check_init(&t->check, rank);
#else
	(void)t;
	(void)rank;
#endif
}

/* Before the caller starts waiting for the token. */
static inline void lock_token_may_take(const struct lock_token *t)
{
#if HVGDB_LOCK_CHECKS
	lock_check_may_acquire(&t->check);
#else
	(void)t;
#endif
}

/* The caller now owns the token. */
static inline void lock_token_taken(struct lock_token *t)
{
#if HVGDB_LOCK_CHECKS
	lock_check_acquired(&t->check);
#else
	(void)t;
#endif
}

/* The caller owns the token and hands it back. */
static inline void lock_token_released(struct lock_token *t)
{
#if HVGDB_LOCK_CHECKS
	lock_check_released(&t->check);
#else
	(void)t;
#endif
}

static inline void lock_token_assert_held(const struct lock_token *t)
{
#if HVGDB_LOCK_CHECKS
	lock_check_assert_held(&t->check);
#else
	(void)t;
#endif
}

#endif
