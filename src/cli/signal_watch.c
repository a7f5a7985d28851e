/* SIGINT/SIGTERM handling (see signal_watch.h). */
#include "cli/signal_watch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/host_terminal.h"
#include "cli/report.h"
#include "hvgdb/gdbstub.h"

/* Wakes the watcher when hvgdb ends for another reason. */
#define WAKE_SIGNAL SIGUSR1

int signal_watch_block(struct signal_watch *w)
{
	memset(w, 0, sizeof(*w));
	atomic_init(&w->stopping, false);
	atomic_init(&w->caught, 0);
	sigemptyset(&w->set);
	sigaddset(&w->set, SIGINT);
	sigaddset(&w->set, SIGTERM);
	sigaddset(&w->set, WAKE_SIGNAL);
	return -pthread_sigmask(SIG_BLOCK, &w->set, NULL);
}

static void *signal_watch_main(void *arg)
{
	struct signal_watch *w = arg;

	for (;;) {
		int sig, first = 0;

		if (sigwait(&w->set, &sig))
			continue;
		if (atomic_load(&w->stopping))
			return NULL;
		if (sig == WAKE_SIGNAL)
			continue;
		if (!atomic_compare_exchange_strong(&w->caught, &first, sig)) {
			report_error("second %s: exiting now",
				     sig == SIGINT ? "SIGINT" : "SIGTERM");
			/* _exit runs no atexit handler. */
			host_terminal_restore();
			_exit(128 + sig);
		}
		vm_request_shutdown(w->vm, VM_SHUTDOWN_REQUESTED, 128 + sig);
		/* vCPUs held in the debug server (--wait before any
		 * debugger, or a stopped session) would never run to see
		 * the shutdown: ending the session releases them. */
		gdbstub_vm_ended(w->stub, 0, sig);
	}
}

int signal_watch_start(struct signal_watch *w, struct vm *vm,
		       struct gdbstub *stub)
{
	int rc;

	w->vm = vm;
	w->stub = stub;
	rc = pthread_create(&w->thread, NULL, signal_watch_main, w);
	if (rc)
		return -rc;
	w->running = true;
	return 0;
}

void signal_watch_stop(struct signal_watch *w)
{
	if (!w->running)
		return;
	atomic_store(&w->stopping, true);
	pthread_kill(w->thread, WAKE_SIGNAL);
	pthread_join(w->thread, NULL);
	w->running = false;
}

int signal_watch_caught(struct signal_watch *w)
{
	return atomic_load(&w->caught);
}
