/* A job's thread that sleeps until a deadline or a wake (timer_thread.h). */
#include "sync/timer_thread.h"

#include <string.h>

#include "sync/monotonic_clock.h"

/* Sleeps until due_ns, a wake after the one counted as `seen`, or stop. */
static void sleep_locked(struct timer_thread *t, uint64_t seen, uint64_t due_ns)
{
	lock_assert_held(&t->mtx);
	struct timespec due = monotonic_timespec_at(due_ns);

	while (!t->stop && t->wakes == seen) {
		if (due_ns == TIMER_THREAD_NO_DEADLINE)
			checked_cond_wait(&t->cond, &t->mtx);
		else if (checked_cond_timedwait(&t->cond, &t->mtx, &due) != 0)
			break; /* ETIMEDOUT: due (the only error it can give) */
	}
}

static void *timer_thread_main(void *arg)
{
	struct timer_thread *t = arg;

	checked_mutex_lock(&t->mtx);
	while (!t->stop) {
		uint64_t seen = t->wakes;

		/* The job takes its own locks: never under ours. */
		checked_mutex_unlock(&t->mtx);
		uint64_t due = t->job(t->ctx);
		checked_mutex_lock(&t->mtx);
		sleep_locked(t, seen, due);
	}
	checked_mutex_unlock(&t->mtx);
	return NULL;
}

int timer_thread_start(struct timer_thread *t, enum lock_rank rank,
		       timer_thread_job *job, void *ctx)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->job = job;
	t->ctx = ctx;
	rc = checked_mutex_init(&t->mtx, rank);
	if (rc)
		return -rc;
	rc = monotonic_cond_init(&t->cond);
	if (rc) {
		checked_mutex_destroy(&t->mtx);
		return -rc;
	}
	rc = pthread_create(&t->thread, NULL, timer_thread_main, t);
	if (rc) {
		pthread_cond_destroy(&t->cond);
		checked_mutex_destroy(&t->mtx);
		return -rc;
	}
	t->running = true;
	return 0;
}

void timer_thread_wake(struct timer_thread *t)
{
	if (!t->running)
		return;
	checked_mutex_lock(&t->mtx);
	t->wakes++;
	pthread_cond_broadcast(&t->cond);
	checked_mutex_unlock(&t->mtx);
}

void timer_thread_stop(struct timer_thread *t)
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
