/* The platform timer thread (see platform_timer.h). */
#include "cli/platform_timer.h"

#include <string.h>

#include "sync/monotonic_clock.h"

/* The thread's job: raise what is due, sleep until the next deadline. */
static uint64_t update_devices(void *arg)
{
	struct platform_timer *t = arg;
	uint64_t now = t->ops.now_ns(t->ops.ctx);
	uint64_t next = t->ops.update(t->ops.ctx, now);

	if (next == UINT64_MAX)
		return TIMER_THREAD_NO_DEADLINE;
	/* Guest and host time run at the same rate here: the guest clock is
	 * the host clock minus a base. */
	uint64_t after = t->ops.now_ns(t->ops.ctx);
	if (next <= after)
		return 0; /* due already: update again at once */
	return monotonic_deadline_in(next - after);
}

int platform_timer_start(struct platform_timer *t,
			 const struct platform_timer_ops *ops)
{
	memset(t, 0, sizeof(*t));
	t->ops = *ops;
	return timer_thread_start(&t->thread, LOCK_RANK_PLATFORM_TIMER,
				  update_devices, t);
}

void platform_timer_kick(struct platform_timer *t)
{
	timer_thread_wake(&t->thread);
}

void platform_timer_stop(struct platform_timer *t)
{
	timer_thread_stop(&t->thread);
}
