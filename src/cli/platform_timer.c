/* The platform timer thread (see platform_timer.h). */
#include "cli/platform_timer.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "sync/monotonic_clock.h"

static void *timer_main(void *arg)
{
	struct platform_timer *t = arg;

	checked_mutex_lock(&t->mtx);
	while (!t->stop) {
		uint64_t seen = t->kicks;

		/* Devices are called without our mutex: see the lock order. */
		checked_mutex_unlock(&t->mtx);
		uint64_t now = t->ops.now_ns(t->ops.ctx);
		uint64_t next = t->ops.update(t->ops.ctx, now);
		checked_mutex_lock(&t->mtx);
		if (t->stop || t->kicks != seen)
			continue;
		if (next == UINT64_MAX) {
			checked_cond_wait(&t->cond, &t->mtx);
		} else {
			/* Guest and host time run at the same rate here:
			 * the guest clock is the host clock minus a base. */
			uint64_t after = t->ops.now_ns(t->ops.ctx);
			if (next <= after)
				continue;
			struct timespec ts = monotonic_timespec_in(next - after);
			checked_cond_timedwait(&t->cond, &t->mtx, &ts);
		}
	}
	checked_mutex_unlock(&t->mtx);
	return NULL;
}

int platform_timer_start(struct platform_timer *t,
			 const struct platform_timer_ops *ops)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->ops = *ops;
	checked_mutex_init(&t->mtx, LOCK_RANK_PLATFORM_TIMER);
	rc = monotonic_cond_init(&t->cond);
	if (rc) {
		checked_mutex_destroy(&t->mtx);
		return -rc;
	}
	rc = pthread_create(&t->thread, NULL, timer_main, t);
	if (rc) {
		pthread_cond_destroy(&t->cond);
		checked_mutex_destroy(&t->mtx);
		return -rc;
	}
	t->running = true;
	return 0;
}

void platform_timer_kick(struct platform_timer *t)
{
	if (!t->running)
		return;
	checked_mutex_lock(&t->mtx);
	t->kicks++;
	pthread_cond_broadcast(&t->cond);
	checked_mutex_unlock(&t->mtx);
}

void platform_timer_stop(struct platform_timer *t)
{
	if (!t->running)
		return;
	checked_mutex_lock(&t->mtx);
	t->stop = true;
	pthread_cond_broadcast(&t->cond);
	checked_mutex_unlock(&t->mtx);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	checked_mutex_destroy(&t->mtx);
	t->running = false;
}
