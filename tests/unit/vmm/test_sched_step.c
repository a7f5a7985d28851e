/*
 * Serial execution's lock and single steps (src/vmm/exec_sched.c): a vCPU that
 * waits to execute one instruction gets the lock before vCPUs that ran
 * less recently, and cuts the holder's turn to SCHED_STEP_TURN_NS. Driven
 * through the scheduler's own entry points from plain threads (no guest
 * code runs), so the order is deterministic.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "vmm/vm_internal.h"
#include "vmm_test_guest.h"

struct waiter {
	struct vm *vm;
	int vcpu;
	bool step;
	atomic_int *order; /* next place to take */
	int place;         /* 1 = first to get the lock after the holder */
	pthread_t thread;
};

static void *wait_for_lock(void *arg)
{
	struct waiter *w = arg;
	struct vcpu *v = w->vm->vcpus[w->vcpu];
	sched_acquire(w->vm, v, w->step, false);
	w->place = atomic_fetch_add(w->order, 1) + 1;
	sched_release(w->vm, v);
	sched_vcpu_not_coming(w->vm, v);
	return NULL;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static bool is_waiting(struct vm *vm, int vcpu)
{
	checked_mutex_lock(&vm->sched.mtx);
	bool w = vm->vcpus[vcpu]->sched_waiting;
	checked_mutex_unlock(&vm->sched.mtx);
	return w;
}

static void start_waiter(struct waiter *w)
{
	pthread_create(&w->thread, NULL, wait_for_lock, w);
	for (int i = 0; !is_waiting(w->vm, w->vcpu); i++) {
		assert_true(i < 600000); /* 60 s at least: a busy host */
		sleep_us(100);
	}
}

static uint64_t held_for_ns(struct vm *vm)
{
	checked_mutex_lock(&vm->sched.mtx);
	uint64_t ns = vm_now_ns(vm) - vm->sched.acquired_at;
	checked_mutex_unlock(&vm->sched.mtx);
	return ns;
}

/* vCPU 0 holds the lock; vCPU 1 (least recently run) waits as usual,
 * then vCPU 2 waits to step. */
static void test_step_goes_first_and_cuts_the_turn(void **state)
{
	(void)state;
	struct vm *vm = tg_create(3, VM_CPU_VENDOR_INTEL);
	atomic_int order = 0;
	sched_acquire(vm, vm->vcpus[0], false, false);
	struct waiter plain = { .vm = vm, .vcpu = 1, .order = &order };
	struct waiter stepper = { .vm = vm, .vcpu = 2, .step = true,
				  .order = &order };
	start_waiter(&plain);
	/* A plain waiter with no interrupt due leaves the holder its slice. */
	sleep_us(2 * SCHED_STEP_TURN_NS / 1000);
	if (held_for_ns(vm) < SCHED_SLICE_NS)
		assert_false(sched_should_yield(vm));
	start_waiter(&stepper);
	sleep_us(2 * SCHED_STEP_TURN_NS / 1000);
	assert_true(sched_should_yield(vm));
	sched_release(vm, vm->vcpus[0]);
	sched_vcpu_not_coming(vm, vm->vcpus[0]);
	pthread_join(stepper.thread, NULL);
	pthread_join(plain.thread, NULL);
	assert_int_equal(stepper.place, 1);
	assert_int_equal(plain.place, 2);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step_goes_first_and_cuts_the_turn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
