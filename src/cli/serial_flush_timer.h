/*
 * Shows a partial line of serial output soon after it starts: the UART
 * writes whole lines (uart16550.h), but a shell prompt or the echo of a
 * typed key has no newline and would otherwise wait for the next one.
 * Armed by the UART's tx listener; SERIAL_FLUSH_DELAY_MS later a thread
 * flushes whatever is still buffered. The delay lets a burst of bytes (a
 * prompt written a byte at a time, a FIFO's worth) leave in one write.
 *
 * Lock order: the timer's mutex is a leaf. serial_flush_timer_arm takes
 * only it (it is called with the UART's lock held); the flush callback
 * runs without it (sync/timer_thread.h).
 */
#ifndef HVGDB_CLI_SERIAL_FLUSH_TIMER_H
#define HVGDB_CLI_SERIAL_FLUSH_TIMER_H

#include <stdatomic.h>
#include <stdint.h>

#include "sync/timer_thread.h"

#define SERIAL_FLUSH_DELAY_MS 5

struct serial_flush_timer {
	void (*flush)(void *ctx);
	void *ctx;
	/* When to flush (monotonic ns), 0 while disarmed: set by the arm
	 * that finds it 0, cleared by the thread just before it flushes. */
	_Atomic uint64_t due_ns;
	struct timer_thread thread;
};

/* 0 or -errno. */
int serial_flush_timer_start(struct serial_flush_timer *t,
			     void (*flush)(void *ctx), void *ctx);
/* Flush in SERIAL_FLUSH_DELAY_MS unless already armed. Any thread. */
void serial_flush_timer_arm(struct serial_flush_timer *t);
/* Ends and joins the thread (no-op if not running). */
void serial_flush_timer_stop(struct serial_flush_timer *t);

#endif
