/*
 * When the debug server and a stopping vCPU may spin instead of sleeping
 * (gdb_spin_pays, src/gdbstub/vcpu_events.c): never on one usable CPU, and
 * never while every CPU already has a runnable thread (a host busy with
 * other work: spinning there made hvgdb several times slower than QEMU).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "gdbstub/vcpu_events.h"

static atomic_bool stop_spinning;

static void *spin(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop_spinning, memory_order_relaxed))
		;
	return NULL;
}

static void *ask(void *arg)
{
	*(bool *)arg = gdb_spin_pays();
	return NULL;
}

/* A fresh thread: the verdict is cached per thread. */
static bool verdict_of_new_thread(void)
{
	bool pays = true;
	pthread_t t;
	pthread_create(&t, NULL, ask, &pays);
	pthread_join(t, NULL);
	return pays;
}

static void test_no_spin_when_every_cpu_is_busy(void **state)
{
	(void)state;
	cpu_set_t usable;
	assert_int_equal(sched_getaffinity(0, sizeof(usable), &usable), 0);
	int cpus = CPU_COUNT(&usable);
	pthread_t busy[CPU_SETSIZE];
	atomic_store(&stop_spinning, false);
	for (int i = 0; i < cpus; i++)
		pthread_create(&busy[i], NULL, spin, NULL);
	bool pays = verdict_of_new_thread();
	atomic_store(&stop_spinning, true);
	for (int i = 0; i < cpus; i++)
		pthread_join(busy[i], NULL);
	assert_false(pays);
}

static void *spin_as_ours(void *arg)
{
	(void)arg;
	gdb_spin_begin();
	while (!atomic_load_explicit(&stop_spinning, memory_order_relaxed))
		gdb_cpu_relax();
	gdb_spin_end();
	return NULL;
}

/* A verdict of "spin" from a fresh thread within `tries` asks, 10 ms
 * apart (the verdict follows the host's load, which other tests running
 * beside this one move). */
static bool pays_within(int tries)
{
	for (int i = 0; i < tries; i++) {
		if (verdict_of_new_thread())
			return true;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

/* The stub's own spinners (the server after a resume, the stopped vCPU)
 * are not the host's load: they wait for the thread that asks, or for gdb.
 * With one of ours spinning on every CPU a new thread may still spin
 * whenever it may without them. Counted as load, they made the verdict
 * always "no", as with the foreign busy threads above. Skipped when the
 * host is too busy for spinning even without them. */
static void test_own_spinners_are_not_load(void **state)
{
	(void)state;
	cpu_set_t usable;
	assert_int_equal(sched_getaffinity(0, sizeof(usable), &usable), 0);
	int cpus = CPU_COUNT(&usable);
	if (cpus < 2 || !pays_within(200))
		skip();
	pthread_t busy[CPU_SETSIZE];
	atomic_store(&stop_spinning, false);
	for (int i = 0; i < cpus; i++)
		pthread_create(&busy[i], NULL, spin_as_ours, NULL);
	bool pays = pays_within(200);
	atomic_store(&stop_spinning, true);
	for (int i = 0; i < cpus; i++)
		pthread_join(busy[i], NULL);
	/* A "no" says something only if the host, without our spinners,
	 * still allows spinning now: other work may have filled it for the
	 * whole 2 s meanwhile (seen at load 6-9). */
	if (!pays && !pays_within(200))
		skip();
	assert_true(pays);
}

static void test_no_spin_on_one_cpu(void **state)
{
	(void)state;
	cpu_set_t old, one;
	assert_int_equal(sched_getaffinity(0, sizeof(old), &old), 0);
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &old)) {
			CPU_SET(c, &one);
			break;
		}
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	bool pays = verdict_of_new_thread();
	assert_int_equal(sched_setaffinity(0, sizeof(old), &old), 0);
	assert_false(pays);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_spin_when_every_cpu_is_busy),
		cmocka_unit_test(test_no_spin_on_one_cpu),
		cmocka_unit_test(test_own_spinners_are_not_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
