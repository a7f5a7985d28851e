/*
 * CLOCK_MONOTONIC for timed waits: every timer and sleeping thread in
 * hvgdb waits on a condition variable bound to the monotonic clock, so a
 * change of the wall clock (NTP, the user) never stretches or skips a
 * guest timer, and deadlines are monotonic nanoseconds throughout.
 */
#ifndef HVGDB_SYNC_MONOTONIC_CLOCK_H
#define HVGDB_SYNC_MONOTONIC_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Now, in nanoseconds of CLOCK_MONOTONIC. */
uint64_t monotonic_now_ns(void);

/* 0 or the pthread error: a condition variable whose timed waits take
 * CLOCK_MONOTONIC deadlines. */
int monotonic_cond_init(pthread_cond_t *cond);

/* The timespec of a CLOCK_MONOTONIC instant, in nanoseconds. */
struct timespec monotonic_timespec_at(uint64_t at_ns);

/* The instant wait_ns from now (saturating at UINT64_MAX). */
uint64_t monotonic_deadline_in(uint64_t wait_ns);

/* The timespec of wait_ns from now (saturating far in the future). */
struct timespec monotonic_timespec_in(uint64_t wait_ns);

#endif
