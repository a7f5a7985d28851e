/*
 * HVGDB_TRACE_STARTUP=1: report how long start-up took, up to the first
 * vm_run of vCPU 0 (for the start-up benchmark, not a test).
 */
#ifndef HVGDB_CLI_STARTUP_TRACE_H
#define HVGDB_CLI_STARTUP_TRACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

struct startup_trace {
	bool enabled;
	struct timespec main_entry; /* CLOCK_MONOTONIC */
	atomic_bool reported;
};

/* Call first thing in main(). */
void startup_trace_init(struct startup_trace *t);
/* Called by vCPU 0 just before its first vm_run; prints once. */
void startup_trace_first_run(struct startup_trace *t);

#endif
