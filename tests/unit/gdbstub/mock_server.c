/*
 * Serves the debug server over the mock target: toy vCPU threads, no VM.
 * Used by the raw-socket bad-input test, the real-gdb smoke test and, later,
 * by benchmarks as the "ceiling" (gdb against a target answering from
 * memory).
 *
 *   mock_server [--listen SPEC] [--vcpus N] [--cpu intel|amd] [--wait]
 *
 * Prints "port N" (or "listening SPEC") on stdout once ready. Exits on
 * SIGINT/SIGTERM, or after the debugger's 'k' (reporting W00 first).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvgdb/gdbstub.h"
#include "mock_target.h"

static int usage(void)
{
	fprintf(stderr, "usage: mock_server [--listen SPEC] [--vcpus N] "
			"[--cpu intel|amd] [--wait]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:0";
	unsigned nvcpus = 2;
	enum mock_personality p = MOCK_INTEL;
	bool wait = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen = argv[++i];
		else if (!strcmp(argv[i], "--vcpus") && i + 1 < argc)
			nvcpus = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			p = !strcmp(argv[++i], "amd") ? MOCK_AMD : MOCK_INTEL;
		else if (!strcmp(argv[i], "--wait"))
			wait = true;
		else
			return usage();
	}
	if (nvcpus < 1 || nvcpus > MOCK_MAX_VCPUS)
		return usage();

	static struct mock_target mt;
	mock_target_init(&mt, p, nvcpus);
	mt.instr_delay_us = 1000;

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	struct gdbstub_config cfg = { .listen = listen, .wait = wait,
				      .ops = &mock_target_ops, .ctx = &mt };
	struct gdbstub *stub;
	char err[256];
	int rc = gdbstub_create(&cfg, &stub, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mock_server: %s\n", err);
		return 1;
	}
	if (gdbstub_port(stub))
		printf("port %d\n", gdbstub_port(stub));
	else
		printf("listening %s\n", listen);
	fflush(stdout);
	mt.stub = stub;
	mock_start_vcpus(&mt);

	int status = 0;
	for (;;) {
		struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		pthread_mutex_lock(&mt.lock);
		bool killed = mt.killed;
		pthread_mutex_unlock(&mt.lock);
		if (killed)
			break;
	}
	/* like the VM's end: the debugger hears W, parked vCPUs leave */
	gdbstub_vm_ended(stub, status, 0);
	pthread_mutex_lock(&mt.lock);
	mt.stop_threads = true;
	pthread_mutex_unlock(&mt.lock);
	mock_stop_vcpus(&mt);
	gdbstub_destroy(stub);
	return 0;
}
