/* Flushing a partial line of serial output (see serial_flush_timer.h). */
#include "cli/serial_flush_timer.h"

#include <string.h>

#include "sync/monotonic_clock.h"

#define FLUSH_DELAY_NS (SERIAL_FLUSH_DELAY_MS * 1000000ULL)

/* The thread's job: flush once the armed delay is over. */
static uint64_t flush_when_due(void *arg)
{
	struct serial_flush_timer *t = arg;
	uint64_t due = atomic_load(&t->due_ns);

	if (due == 0)
		return TIMER_THREAD_NO_DEADLINE;
	if (monotonic_now_ns() < due)
		return due;
	/* Disarmed first: a byte written during the flush arms us again
	 * (the UART's listener fires on an empty buffer). */
	atomic_store(&t->due_ns, 0);
	t->flush(t->ctx);
	return TIMER_THREAD_NO_DEADLINE;
}

int serial_flush_timer_start(struct serial_flush_timer *t,
			     void (*flush)(void *ctx), void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->flush = flush;
	t->ctx = ctx;
	atomic_init(&t->due_ns, 0);
	return timer_thread_start(&t->thread, LOCK_RANK_SERIAL_FLUSH_TIMER,
				  flush_when_due, t);
}

void serial_flush_timer_arm(struct serial_flush_timer *t)
{
	uint64_t disarmed = 0;

	if (!t->thread.running || atomic_load(&t->due_ns) != 0)
		return;
	if (atomic_compare_exchange_strong(&t->due_ns, &disarmed,
					   monotonic_now_ns() + FLUSH_DELAY_NS))
		timer_thread_wake(&t->thread);
}

void serial_flush_timer_stop(struct serial_flush_timer *t)
{
	timer_thread_stop(&t->thread);
}
