/*
 * A user program for the kernel debugging test: executes `int3` under a
 * SIGTRAP handler, with a getpid() system call next to each, until SIGUSR1
 * (the test's gdb session is over) or at most SECONDS of guest time, and
 * checks that every trap reached its handler. A
 * debugger with breakpoints inserted in the kernel must not swallow or
 * duplicate the guest's own traps (the seed scenario: FreeBSD's
 * ptrace_test under bhyve lost them).
 *
 *   trapper SECONDS TAG
 *
 * Prints "trapper TAG: traps T/N getpid G cpu C" and exits 0 iff T == N.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t traps, stop;

static void on_trap(int sig)
{
	(void)sig;
	traps++;
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5.0;
	const char *tag = argc > 2 ? argv[2] : "?";
	struct sigaction sa = { .sa_handler = on_trap };
	sigemptyset(&sa.sa_mask);
	struct sigaction sa_stop = { .sa_handler = on_stop };
	sigemptyset(&sa_stop.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL) != 0 ||
	    sigaction(SIGUSR1, &sa_stop, NULL) != 0) {
		perror("sigaction");
		return 2;
	}
	long n = 0, pids = 0;
	double end = now_s() + seconds;
	while (!stop && now_s() < end) {
		__asm__ volatile("int3");
		n++;
		if (getpid() > 0)
			pids++;
	}
	printf("trapper %s: traps %ld/%ld getpid %ld cpu %d\n", tag,
	       (long)traps, n, pids, sched_getcpu());
	fflush(stdout);
	return traps == n ? 0 : 1;
}
