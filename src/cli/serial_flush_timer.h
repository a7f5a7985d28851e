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
 * runs without it.
 */
#ifndef HVGDB_CLI_SERIAL_FLUSH_TIMER_H
#define HVGDB_CLI_SERIAL_FLUSH_TIMER_H

#include <pthread.h>
#include <stdbool.h>

#include "sync/checked_mutex.h"

#define SERIAL_FLUSH_DELAY_MS 5

struct serial_flush_timer {
	void (*flush)(void *ctx);
	void *ctx;
	pthread_t thread;
	struct checked_mutex mtx;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool armed;          /* guarded by mtx */
	bool stop;           /* guarded by mtx */
	bool running;
};

/* 0 or -errno. */
int serial_flush_timer_start(struct serial_flush_timer *t,
			     void (*flush)(void *ctx), void *ctx);
/* Flush in SERIAL_FLUSH_DELAY_MS unless already armed. Any thread. */
void serial_flush_timer_arm(struct serial_flush_timer *t);
/* Ends and joins the thread (no-op if not running). */
void serial_flush_timer_stop(struct serial_flush_timer *t);

#endif
