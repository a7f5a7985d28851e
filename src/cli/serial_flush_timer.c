/* Flushing a partial line of serial output (see serial_flush_timer.h). */
#include "cli/serial_flush_timer.h"

#include <string.h>
#include <time.h>

#include "sync/monotonic_clock.h"

static void *flush_main(void *arg)
{
	struct serial_flush_timer *t = arg;

	checked_mutex_lock(&t->mtx);
	while (!t->stop) {
		if (!t->armed) {
			checked_cond_wait(&t->cond, &t->mtx);
			continue;
		}
		struct timespec due = monotonic_timespec_in(
			SERIAL_FLUSH_DELAY_MS * 1000000ULL);
		while (!t->stop &&
		       checked_cond_timedwait(&t->cond, &t->mtx, &due) == 0)
			;
		/* Disarmed first: a byte written during the flush arms us
		 * again (the UART's listener fires on an empty buffer). */
		t->armed = false;
		checked_mutex_unlock(&t->mtx);
		t->flush(t->ctx);
		checked_mutex_lock(&t->mtx);
	}
	checked_mutex_unlock(&t->mtx);
	return NULL;
}

int serial_flush_timer_start(struct serial_flush_timer *t,
			     void (*flush)(void *ctx), void *ctx)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->flush = flush;
	t->ctx = ctx;
	checked_mutex_init(&t->mtx, LOCK_RANK_SERIAL_FLUSH_TIMER);
	rc = monotonic_cond_init(&t->cond);
	if (rc) {
		checked_mutex_destroy(&t->mtx);
		return -rc;
	}
	rc = pthread_create(&t->thread, NULL, flush_main, t);
	if (rc) {
		pthread_cond_destroy(&t->cond);
		checked_mutex_destroy(&t->mtx);
		return -rc;
	}
	t->running = true;
	return 0;
}

void serial_flush_timer_arm(struct serial_flush_timer *t)
{
	if (!t->running)
		return;
	checked_mutex_lock(&t->mtx);
	if (!t->armed) {
		t->armed = true;
		pthread_cond_broadcast(&t->cond);
	}
	checked_mutex_unlock(&t->mtx);
}

void serial_flush_timer_stop(struct serial_flush_timer *t)
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
