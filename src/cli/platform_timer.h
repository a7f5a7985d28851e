/*
 * The thread that makes the platform's timer interrupts happen on time:
 * it sleeps until the earliest device deadline (PIT, RTC, ACPI PM timer,
 * in guest time), then has the owner's update function raise whatever is
 * due. Devices are passive models that only compute their state when asked,
 * so without this nobody would look at the PIT while every vCPU sleeps in
 * hlt waiting for its tick.
 *
 * The owner tells the thread when a guest access may have moved a deadline
 * earlier (platform_timer_kick); no kick is lost (sync/timer_thread.h).
 *
 * Lock order (rank platform_timer, a leaf: src/sync/lock_order.h): the
 * thread never holds its mutex while calling the owner's functions (which
 * take device locks); platform_timer_kick takes only that mutex, so it may
 * be called with device locks held or not.
 */
#ifndef HVGDB_CLI_PLATFORM_TIMER_H
#define HVGDB_CLI_PLATFORM_TIMER_H

#include <stdint.h>

#include "sync/timer_thread.h"

struct platform_timer_ops {
	uint64_t (*now_ns)(void *ctx);           /* the guest clock */
	/* Raise what is due by now_ns; return the next deadline (guest ns)
	 * or UINT64_MAX. */
	uint64_t (*update)(void *ctx, uint64_t now_ns);
	void *ctx;
};

struct platform_timer {
	struct platform_timer_ops ops;
	struct timer_thread thread;
};

/* 0 or -errno. */
int platform_timer_start(struct platform_timer *t,
			 const struct platform_timer_ops *ops);
/* A deadline may have changed: recompute the sleep. Any thread. */
void platform_timer_kick(struct platform_timer *t);
/* Ends and joins the thread (no-op if not running). */
void platform_timer_stop(struct platform_timer *t);

#endif
