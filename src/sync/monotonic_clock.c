/* Monotonic deadlines and condition variables (monotonic_clock.h). */
#include "sync/monotonic_clock.h"

#define NS_PER_S 1000000000ULL

uint64_t monotonic_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

int monotonic_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t ca;
	int rc = pthread_condattr_init(&ca);
	if (rc)
		return rc;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

struct timespec monotonic_timespec_at(uint64_t at_ns)
{
	/* time_t is 64 bits here: every uint64_t nanosecond count fits */
	struct timespec ts = {
		.tv_sec = (time_t)(at_ns / NS_PER_S),
		.tv_nsec = (long)(at_ns % NS_PER_S),
	};
	return ts;
}

uint64_t monotonic_deadline_in(uint64_t wait_ns)
{
	uint64_t now = monotonic_now_ns();
	return wait_ns > UINT64_MAX - now ? UINT64_MAX : now + wait_ns;
}

struct timespec monotonic_timespec_in(uint64_t wait_ns)
{
	return monotonic_timespec_at(monotonic_deadline_in(wait_ns));
}
