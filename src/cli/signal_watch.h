/*
 * SIGINT/SIGTERM end the VM cleanly: a dedicated thread takes them with
 * sigwait (every other thread has them blocked) and asks the VM to shut
 * down. A second signal while the VM is still ending exits at once, so
 * hvgdb can always be stopped.
 */
#ifndef HVGDB_CLI_SIGNAL_WATCH_H
#define HVGDB_CLI_SIGNAL_WATCH_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "hvgdb/vmm.h"

struct gdbstub;

struct signal_watch {
	sigset_t set;
	pthread_t thread;
	bool running;
	struct vm *vm;
	struct gdbstub *stub;
	atomic_bool stopping;
	atomic_int caught; /* first SIGINT/SIGTERM taken, or 0 */
};

/* Block the signals in the calling thread; call before creating any other
 * thread, so that they all inherit the mask. */
int signal_watch_block(struct signal_watch *w);
/* Start taking signals for vm (stub may be NULL). */
int signal_watch_start(struct signal_watch *w, struct vm *vm,
		       struct gdbstub *stub);
void signal_watch_stop(struct signal_watch *w);
int signal_watch_caught(struct signal_watch *w);

#endif
