/*
 * The parallel execution gate (src/vmm/exec_parallel.c) over a fake engine:
 * no Unicorn, only the scheduler's calls as tcg_run.c makes them, on real
 * threads (this test runs under ThreadSanitizer too). A fake "engine" spins
 * until it is kicked; the test checks what the gate promises:
 * - vCPUs are inside their engines at the same time (parallel): every
 *   vCPU enters and waits inside until all are in. A serial gate never
 *   lets the second one in, and the wait ends at its (generous) limit.
 *   Overlap is not left to chance: on a busy two-core host the short
 *   entries of the second part may never meet;
 * - while one runs alone (sched_exclusive_begin..end), no other is inside
 *   its engine, and every engine that was is kicked out;
 * - everyone gets through: no deadlock, and every exclusive request is
 *   served while the others keep asking for the gate.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "vmm/vm_internal.h"

#define GATE_VCPUS 4
#define ROUNDS 200
#define EXCLUSIVE_EVERY 16
/* A fake entry ends by itself after this long, as a real one does at its
 * slice end (SCHED_MAX_ENTRY_NS). */
#define ENTRY_SPINS 20000

static atomic_bool kicked[GATE_VCPUS];
static atomic_int in_engine;      /* fake engines running now */
static atomic_int most_in_engine; /* the most at once */
static atomic_int alone;          /* inside an exclusive section */
static atomic_int overlaps;       /* an engine ran while one was alone */
static atomic_int exclusive_done;

static void fake_kick(struct vcpu *v)
{
	atomic_store(&kicked[v->id], true);
}

static const struct vm_backend_ops fake_ops = { .name = "fake",
						.kick = fake_kick };

static struct vm *fake_vm(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	assert_non_null(vm);
	vm->ncpus = GATE_VCPUS;
	vm->ops = &fake_ops;
	atomic_init(&vm->clock_offset_ns, 0);
	atomic_init(&vm->frozen_at_ns, UINT64_MAX);
	for (unsigned i = 0; i < GATE_VCPUS; i++) {
		struct vcpu *v = calloc(1, sizeof(*v));
		assert_non_null(v);
		v->vm = vm;
		v->id = (int)i;
		checked_mutex_init(&v->mtx, LOCK_RANK_VCPU);
		lock_token_init(&v->exec_token, LOCK_RANK_EXEC);
		atomic_init(&v->stop_req, false);
		vm->vcpus[i] = v;
	}
	assert_int_equal(sched_init(vm, true), 0);
	return vm;
}

static void fake_vm_free(struct vm *vm)
{
	sched_fini(vm);
	for (unsigned i = 0; i < GATE_VCPUS; i++) {
		checked_mutex_destroy(&vm->vcpus[i]->mtx);
		free(vm->vcpus[i]);
	}
	free(vm);
}

/* One engine entry: runs until kicked or its time is up. */
static void fake_entry(struct vm *vm, struct vcpu *v)
{
	atomic_store(&kicked[v->id], false);
	sched_enter_engine(vm, v, true);
	int now = atomic_fetch_add(&in_engine, 1) + 1;
	int most = atomic_load(&most_in_engine);
	while (now > most &&
	       !atomic_compare_exchange_weak(&most_in_engine, &most, now))
		;
	for (long i = 0; i < ENTRY_SPINS && !atomic_load(&kicked[v->id]); i++)
		if (atomic_load(&alone) && atomic_load(&in_engine) > 1)
			atomic_fetch_add(&overlaps, 1);
	atomic_fetch_sub(&in_engine, 1);
	sched_leave_engine(vm, v);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Ample for a loaded host; only a gate that keeps vCPUs out reaches it. */
#define RENDEZVOUS_LIMIT_NS (30ull * 1000000000u)

/* Enters the engine and stays until every vCPU is inside its own. */
static void rendezvous_entry(struct vm *vm, struct vcpu *v)
{
	sched_acquire(vm, v, false, false);
	sched_enter_engine(vm, v, true);
	int now = atomic_fetch_add(&in_engine, 1) + 1;
	int most = atomic_load(&most_in_engine);
	while (now > most &&
	       !atomic_compare_exchange_weak(&most_in_engine, &most, now))
		;
	uint64_t give_up = now_ns() + RENDEZVOUS_LIMIT_NS;
	while (atomic_load(&most_in_engine) < GATE_VCPUS && now_ns() < give_up)
		sched_yield();
	atomic_fetch_sub(&in_engine, 1);
	sched_leave_engine(vm, v);
	sched_release(vm, v);
}

struct fake_vcpu {
	struct vm *vm;
	struct vcpu *v;
};

static void *fake_vcpu_main(void *arg)
{
	struct fake_vcpu *f = arg;
	struct vm *vm = f->vm;
	struct vcpu *v = f->v;
	rendezvous_entry(vm, v);
	for (int round = 0; round < ROUNDS; round++) {
		sched_acquire(vm, v, false, false);
		if (round % EXCLUSIVE_EVERY == v->id) {
			sched_exclusive_begin(vm, v);
			atomic_store(&alone, 1);
			if (atomic_load(&in_engine) != 0)
				atomic_fetch_add(&overlaps, 1);
			fake_entry(vm, v);
			atomic_store(&alone, 0);
			atomic_fetch_add(&exclusive_done, 1);
			sched_exclusive_end(vm, v);
		} else {
			/* Up to three entries per turn, as a run loop that
			 * stays until someone wants to run alone. */
			int entries = 0;
			do
				fake_entry(vm, v);
			while (++entries < 3 && !sched_should_yield(vm));
		}
		sched_release(vm, v);
	}
	return NULL;
}

static void test_gate_runs_in_parallel_and_alone(void **state)
{
	(void)state;
	struct vm *vm = fake_vm();
	struct fake_vcpu f[GATE_VCPUS];
	pthread_t th[GATE_VCPUS];
	for (unsigned i = 0; i < GATE_VCPUS; i++) {
		f[i] = (struct fake_vcpu){ vm, vm->vcpus[i] };
		pthread_create(&th[i], NULL, fake_vcpu_main, &f[i]);
	}
	for (unsigned i = 0; i < GATE_VCPUS; i++)
		pthread_join(th[i], NULL);
	print_message("most engines at once: %d; exclusive sections: %d\n",
		      atomic_load(&most_in_engine),
		      atomic_load(&exclusive_done));
	assert_int_equal(atomic_load(&overlaps), 0);
	assert_int_equal(atomic_load(&most_in_engine), GATE_VCPUS);
	assert_int_equal(atomic_load(&exclusive_done),
			 GATE_VCPUS * ((ROUNDS + EXCLUSIVE_EVERY - 1) /
				       EXCLUSIVE_EVERY));
	fake_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_runs_in_parallel_and_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
