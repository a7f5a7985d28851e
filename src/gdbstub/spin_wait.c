/* Spin helpers (spin_wait.h). */
#include "gdbstub/spin_wait.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "sync/monotonic_clock.h"

long long gdb_monotonic_ns(void)
{
	return (long long)monotonic_now_ns();
}

/* Threads the kernel has runnable right now, the caller included (the
 * fourth field of /proc/loadavg, "running/total"), or -1. */
static int runnable_threads(void)
{
	char buf[128];
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	int running = -1;
	if (sscanf(buf, "%*s %*s %*s %d/", &running) != 1)
		return -1;
	return running;
}

/*
 * A spinner takes a CPU from whoever it waits for when no CPU is idle.
 * With one CPU the scheduler let both spin out their turns: measured, a
 * resume then took ~3 ms instead of ~50 us. With two CPUs and one busy
 * with other work (a build beside the debugger), spinning made hvgdb 3-6x
 * slower than QEMU's blocking threads. So spin only while no more threads
 * are runnable than there are usable CPUs (the spinner and the thread it
 * waits for fit). Asked at most every 50 ms per thread: a read of
 * /proc/loadavg costs a few microseconds, and affinity can change.
 */
#define SPIN_VERDICT_NS 50000000LL

/* Our own threads spinning right now: they are runnable in /proc/loadavg
 * but wait for the very thread that asks, or for gdb, and leave their CPU
 * at once when it comes. Counting them made the verdict refuse spinning on
 * an idle host whenever two of ours spun at the sample (measured: breakpoint
 * hits on the mock server 2060/s -> 1670/s). */
static atomic_int spinners;

void gdb_spin_begin(void)
{
	atomic_fetch_add_explicit(&spinners, 1, memory_order_relaxed);
}

void gdb_spin_end(void)
{
	atomic_fetch_sub_explicit(&spinners, 1, memory_order_relaxed);
}

bool gdb_spin_pays(void)
{
	static _Thread_local long long verdict_until;
	static _Thread_local bool verdict;
	long long now = gdb_monotonic_ns();
	if (now < verdict_until)
		return verdict;
	cpu_set_t usable;
	int cpus = sched_getaffinity(0, sizeof(usable), &usable) == 0
			   ? CPU_COUNT(&usable)
			   : 1;
	int running = runnable_threads();
	if (running > 0)
		running -= atomic_load_explicit(&spinners, memory_order_relaxed);
	verdict = cpus >= 2 && running >= 0 && running <= cpus;
	verdict_until = now + SPIN_VERDICT_NS;
	return verdict;
}

void gdb_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void gdb_lock_spinning(struct checked_mutex *lock, long long until)
{
	if (checked_mutex_trylock(lock))
		return;
	gdb_spin_begin();
	for (unsigned i = 1; !checked_mutex_trylock(lock); i++) {
		gdb_cpu_relax();
		if (i % 64 == 0 && gdb_monotonic_ns() >= until) {
			gdb_spin_end();
			checked_mutex_lock(lock);
			return;
		}
	}
	gdb_spin_end();
}
