/*
 * A pthread mutex with a rank from lock_order.h. With HVGDB_LOCK_CHECKS
 * (on unless NDEBUG: debug and sanitizer builds) every acquire checks the
 * lock order, every release and condition wait checks that the caller
 * holds the lock, and lock_assert_held() lets a `_locked` function check
 * its caller. A violation prints one line naming both locks and aborts:
 * the order is broken on some path even if this run did not deadlock.
 * Without checks every call is the bare pthread call (release builds pay
 * nothing).
 */
#ifndef HVGDB_SYNC_CHECKED_MUTEX_H
#define HVGDB_SYNC_CHECKED_MUTEX_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "sync/lock_check.h"

struct checked_mutex {
	pthread_mutex_t mtx;
#if HVGDB_LOCK_CHECKS
	struct lock_check check;
#endif
};

/* 0 or the pthread error. */
static inline int checked_mutex_init(struct checked_mutex *m,
				     enum lock_rank rank)
{
#if HVGDB_LOCK_CHECKS
	lock_check_init(&m->check, rank);
#else
	(void)rank;
#endif
	return pthread_mutex_init(&m->mtx, NULL);
}

static inline void checked_mutex_destroy(struct checked_mutex *m)
{
	pthread_mutex_destroy(&m->mtx);
}

static inline void checked_mutex_lock(struct checked_mutex *m)
{
#if HVGDB_LOCK_CHECKS
	/* before blocking: a wrong order is reported, not deadlocked on */
	lock_check_may_acquire(&m->check);
	pthread_mutex_lock(&m->mtx);
	lock_check_acquired(&m->check);
#else
	pthread_mutex_lock(&m->mtx);
#endif
}

/* true when taken. Checked like a lock: a trylock out of order is the
 * same mistake, it only happens not to block this time. */
static inline bool checked_mutex_trylock(struct checked_mutex *m)
{
#if HVGDB_LOCK_CHECKS
	lock_check_may_acquire(&m->check);
	if (pthread_mutex_trylock(&m->mtx) != 0)
		return false;
	lock_check_acquired(&m->check);
	return true;
#else
	return pthread_mutex_trylock(&m->mtx) == 0;
#endif
}

static inline void checked_mutex_unlock(struct checked_mutex *m)
{
#if HVGDB_LOCK_CHECKS
	lock_check_released(&m->check);
#endif
	pthread_mutex_unlock(&m->mtx);
}

/* Waits on cond, releasing m meanwhile. The caller must hold m and
 * nothing else: sleeping with a second lock held stalls its other users
 * for as long as the sleep lasts. */
static inline void checked_cond_wait(pthread_cond_t *cond,
				     struct checked_mutex *m)
{
#if HVGDB_LOCK_CHECKS
	lock_check_wait_begins(&m->check);
	pthread_cond_wait(cond, &m->mtx);
	lock_check_wait_ended(&m->check);
#else
	pthread_cond_wait(cond, &m->mtx);
#endif
}

/* As checked_cond_wait, until abstime; returns pthread_cond_timedwait's
 * result (ETIMEDOUT). */
static inline int checked_cond_timedwait(pthread_cond_t *cond,
					 struct checked_mutex *m,
					 const struct timespec *abstime)
{
#if HVGDB_LOCK_CHECKS
	lock_check_wait_begins(&m->check);
	int rc = pthread_cond_timedwait(cond, &m->mtx, abstime);
	lock_check_wait_ended(&m->check);
	return rc;
#else
	return pthread_cond_timedwait(cond, &m->mtx, abstime);
#endif
}

/* In a `_locked` function: the calling thread holds m. */
#if HVGDB_LOCK_CHECKS
#define lock_assert_held(m) lock_check_assert_held(&(m)->check)
#else
#define lock_assert_held(m) ((void)(m))
#endif

#endif
