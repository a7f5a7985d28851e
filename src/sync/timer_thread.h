/*
 * The thread behind each of hvgdb's timers (the platform timer, the serial
 * flush, the halt watch): it runs its owner's job, sleeps until the
 * deadline the job returned (CLOCK_MONOTONIC, monotonic_clock.h) or until
 * woken, and runs the job again. Each owner keeps only its job; starting,
 * stopping, sleeping and waking live here once.
 *
 * No wake is lost: a wake counter is read under the thread's mutex before
 * the job runs and checked again before every sleep, so a wake that lands
 * while the job runs makes the job run again at once.
 *
 * Lock order: the mutex takes the owner's rank (a leaf in lock_order.h).
 * The job runs without it, so it may take any lock; timer_thread_wake
 * takes only it, so any thread may call it holding device locks or not.
 */
#ifndef HVGDB_SYNC_TIMER_THREAD_H
#define HVGDB_SYNC_TIMER_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sync/checked_mutex.h"

/* A job's answer: sleep until woken, with no deadline. */
#define TIMER_THREAD_NO_DEADLINE UINT64_MAX

/* Does what is due and returns the CLOCK_MONOTONIC instant (ns,
 * monotonic_now_ns) to run again at: one already past runs it again at
 * once; TIMER_THREAD_NO_DEADLINE waits for a wake. Runs on the thread,
 * without the mutex. */
typedef uint64_t timer_thread_job(void *ctx);

struct timer_thread {
	timer_thread_job *job;
	void *ctx;
	pthread_t thread;
	struct checked_mutex mtx;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	uint64_t wakes;      /* guarded by mtx */
	bool stop;           /* guarded by mtx */
	bool running;        /* between a successful start and stop */
};

/* Starts the thread, which runs job(ctx) at once. 0 or -errno. */
int timer_thread_start(struct timer_thread *t, enum lock_rank rank,
		       timer_thread_job *job, void *ctx);
/* Runs the job again now (as soon as it is not running). Any thread;
 * a no-op when not running. */
void timer_thread_wake(struct timer_thread *t);
/* Ends and joins the thread, waiting for a job that is running (no-op if
 * not running). Not from the job itself. */
void timer_thread_stop(struct timer_thread *t);

#endif
