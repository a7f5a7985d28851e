#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "vmm/exec_sched.h"

#include <errno.h>
#include <sched.h>
#include <time.h>

#include "devices/lapic.h"
#include "sync/monotonic_clock.h"
#include "vmm/exec_sched_internal.h"

void sched_wait_until_locked(struct vm *vm, pthread_cond_t *cond,
			     uint64_t guest_ns)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;

	if (guest_ns == UINT64_MAX) {
		checked_cond_wait(cond, &s->mtx);
		return;
	}
	struct timespec ts = monotonic_timespec_at(vm_host_ns_of(vm, guest_ns));
	checked_cond_timedwait(cond, &s->mtx, &ts);
}

void sched_waiter_served_locked(struct exec_sched *s, struct vcpu *v)
{
	lock_assert_held(&s->mtx);
	s->waiters--;
	v->sched_waiting = false;
	v->sched_urgent = false;
	v->sched_step = false;
}

/* When the holder must hand the lock over (UINT64_MAX: nobody waits). */
static uint64_t yield_at(struct vm *vm)
{
	struct exec_sched *s = &vm->sched;
	if (s->waiters == 0)
		return UINT64_MAX;
	uint64_t due = UINT64_MAX;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *w = vm->vcpus[i];
		if (!w->sched_waiting)
			continue;
		if (w->sched_step) {
			uint64_t turn = s->acquired_at + SCHED_STEP_TURN_NS;
			return turn < s->slice_end ? turn : s->slice_end;
		}
		uint64_t t = w->sched_urgent ? 0
			   : w->lapic ? lapic_next_deadline(w->lapic)
				      : UINT64_MAX;
		if (t < due)
			due = t;
	}
	if (due >= s->slice_end)
		return s->slice_end;
	uint64_t floor = s->acquired_at + SCHED_MIN_SLICE_NS;
	return due > floor ? due : floor;
}

/* When must the running vCPU leave the engine? UINT64_MAX: never. */
static uint64_t running_deadline(struct exec_sched *s)
{
	struct vcpu *v = s->running;
	if (s->kick_requested)
		return 0;
	/* The engine ends the entry within SCHED_MAX_ENTRY_NS itself. */
	uint64_t d = yield_at(v->vm);
	if (v->lapic) {
		uint64_t t = lapic_next_deadline(v->lapic);
		if (s->deadline_polled &&
		    t < UINT64_MAX - SCHED_POLLED_DEADLINE_SLACK_NS)
			t += SCHED_POLLED_DEADLINE_SLACK_NS;
		if (t < d)
			d = t;
	}
	return d;
}

/* HVGDB_STRESS_KICK_US: stops every executing vCPU when the period is
 * over (a flag at its next block boundary; it goes on after). Returns
 * when to look again (UINT64_MAX: off). */
uint64_t stress_kick_due_locked(struct vm *vm, uint64_t now)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	if (!s->stress_kick_ns)
		return UINT64_MAX;
	if (now - s->stress_kicked_at >= s->stress_kick_ns) {
		for (unsigned i = 0; i < vm->ncpus; i++) {
			struct vcpu *v = vm->vcpus[i];
			bool executing = v && (s->parallel ? v->sched_in_engine
							   : s->running == v);
			if (executing)
				vm->ops->kick(v);
		}
		s->stress_kicked_at = now;
	}
	return s->stress_kicked_at + s->stress_kick_ns;
}

static void *preempt_thread(void *arg)
{
	struct vm *vm = arg;
	struct exec_sched *s = &vm->sched;
	uint64_t kicked_epoch = UINT64_MAX, kicked_at = 0;

	checked_mutex_lock(&s->mtx);
	while (!s->quit) {
		if (s->parallel) {
			sched_wait_until_locked(vm, &s->wakeup,
						par_preempt_locked(vm, vm_now_ns(vm)));
			continue;
		}
		if (!s->running) {
			checked_cond_wait(&s->wakeup, &s->mtx);
			continue;
		}
		uint64_t now = vm_now_ns(vm);
		uint64_t deadline = running_deadline(s);
		if (now < deadline) {
			uint64_t storm = stress_kick_due_locked(vm, now);
			sched_wait_until_locked(vm, &s->wakeup,
						storm < deadline ? storm
								 : deadline);
			continue;
		}
		/* Due. The kick is a flag checked at the next block boundary;
		 * repeat it in case the flag was consumed by an earlier stop
		 * of the same entry. */
		if (kicked_epoch != s->epoch ||
		    now - kicked_at >= SCHED_KICK_RETRY_NS) {
			vm->ops->kick(s->running);
			s->kicked = true;
			kicked_epoch = s->epoch;
			kicked_at = now;
		}
		sched_wait_until_locked(vm, &s->wakeup,
					now + SCHED_KICK_RETRY_NS);
	}
	checked_mutex_unlock(&s->mtx);
	return NULL;
}

static unsigned usable_host_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

int sched_init(struct vm *vm, bool parallel)
{
	struct exec_sched *s = &vm->sched;
	s->parallel = parallel;
	s->host_cpus = usable_host_cpus();
	atomic_init(&s->exclusive_wanted, 0);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	checked_mutex_init(&s->mtx, LOCK_RANK_SCHED);
	pthread_cond_init(&s->turn, &ca); /* timed waits: the resume gate */
	pthread_cond_init(&s->wakeup, &ca);
	pthread_cond_init(&s->arrival, &ca);
	pthread_condattr_destroy(&ca);
	s->gate_ns = SCHED_RESUME_GATE_NS;
	s->head_start_cpu_ns = SCHED_HEAD_START_CPU_NS;
	s->head_bound_ns = SCHED_HEAD_START_BOUND_NS;
	int rc = pthread_create(&s->thread, NULL, preempt_thread, vm);
	if (rc != 0)
		return -rc;
	s->thread_started = true;
	s->last_cpu = -1;
	return 0;
}

void sched_fini(struct vm *vm)
{
	struct exec_sched *s = &vm->sched;
	if (s->thread_started) {
		checked_mutex_lock(&s->mtx);
		s->quit = true;
		pthread_cond_signal(&s->wakeup);
		checked_mutex_unlock(&s->mtx);
		pthread_join(s->thread, NULL);
		s->thread_started = false;
	}
	pthread_cond_destroy(&s->turn);
	pthread_cond_destroy(&s->wakeup);
	pthread_cond_destroy(&s->arrival);
	checked_mutex_destroy(&s->mtx);
}

/*
 * Who gets the free lock: a vCPU waiting to single-step (the debugger
 * waits for it, and all others stop once it is done); else the waiting
 * vCPU that ran least recently (an interrupt due only shortens the
 * holder's slice: preferring such vCPUs starved ones spinning with no
 * timer of their own); unless the resume gate is open and a resumed vCPU
 * that ran even less recently has not asked yet (then nobody, until it
 * asks or the gate closes).
 */
static struct vcpu *next_holder(struct vm *vm, uint64_t now)
{
	struct vcpu *best = NULL;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (v->sched_waiting && v->sched_step)
			return v;
		if (v->sched_waiting &&
		    (!best || v->sched_last_run < best->sched_last_run))
			best = v;
	}
	if (!best || now >= vm->sched.gate_end)
		return best;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (v->sched_expected &&
		    v->sched_last_run < best->sched_last_run)
			return NULL;
	}
	return best;
}

/* v is back at the lock, or will not come: the resume gate may have been
 * holding the lock for it. */
void sched_no_longer_expected_locked(struct exec_sched *s, struct vcpu *v)
{
	lock_assert_held(&s->mtx);
	if (v->sched_returning) {
		v->sched_returning = false;
		s->returning--;
	}
	if (v->sched_expected) {
		v->sched_expected = false;
		if (s->waiters > 0)
			pthread_cond_broadcast(&s->turn);
	}
}

/*
 * Move the calling thread to host CPU `cpu` now, then allow its usual CPUs
 * again (the kernel leaves a running thread where it is unless it has a
 * reason to move it). Failures (a cpuset without that CPU, no permission)
 * only leave the thread where it was.
 */
static void move_to_cpu(int cpu)
{
	if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getcpu() == cpu)
		return;
	cpu_set_t home, one;
	pthread_t self = pthread_self();
	if (pthread_getaffinity_np(self, sizeof(home), &home) != 0 ||
	    !CPU_ISSET(cpu, &home))
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (pthread_setaffinity_np(self, sizeof(one), &one) == 0)
		pthread_setaffinity_np(self, sizeof(home), &home);
}

void sched_acquire(struct vm *vm, struct vcpu *v, bool step,
		   bool interrupt_due)
{
	struct exec_sched *s = &vm->sched;
	if (s->parallel) {
		par_acquire(vm, v, step);
		return;
	}
	lock_token_may_take(&v->exec_token);
	checked_mutex_lock(&s->mtx);
	sched_no_longer_expected_locked(s, v);
	v->sched_waiting = true;
	v->sched_step = step;
	if (interrupt_due)
		v->sched_urgent = true;
	s->waiters++;
	if (s->yielders > 0)
		pthread_cond_broadcast(&s->arrival);
	bool told = false;
	for (;;) {
		uint64_t now = vm_now_ns(vm);
		if (!s->held && next_holder(vm, now) == v)
			break;
		/* The holder's slice now matters: let the thread enforce it
		 * (once: waking it again on every turn is only churn). */
		if (!told) {
			pthread_cond_signal(&s->wakeup);
			told = true;
		}
		sched_wait_until_locked(vm, &s->turn,
					!s->held && now < s->gate_end
						? s->gate_end
						: UINT64_MAX);
	}
	sched_waiter_served_locked(s, v);
	s->held = true;
	lock_token_taken(&v->exec_token);
	s->acquired_at = vm_now_ns(vm);
	s->slice_end = s->acquired_at + SCHED_SLICE_NS;
	int last_cpu = s->last_cpu;
	checked_mutex_unlock(&s->mtx);
	move_to_cpu(last_cpu);
}

bool sched_others_due(struct vm *vm)
{
	struct exec_sched *s = &vm->sched;
	if (s->parallel)
		return par_others_due(vm);
	return atomic_load_explicit(&s->waiters, memory_order_relaxed) > 0 ||
	       atomic_load_explicit(&s->returning, memory_order_relaxed) > 0;
}

bool sched_should_yield(struct vm *vm)
{
	struct exec_sched *s = &vm->sched;
	if (s->parallel)
		return par_should_yield(vm);
	checked_mutex_lock(&s->mtx);
	bool yield = vm_now_ns(vm) >= yield_at(vm);
	checked_mutex_unlock(&s->mtx);
	return yield;
}

void sched_release(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	if (s->parallel) {
		par_release(vm, v);
		return;
	}
	int cpu = sched_getcpu();
	lock_token_released(&v->exec_token);
	checked_mutex_lock(&s->mtx);
	s->held = false;
	s->last_cpu = cpu;
	if (!v->sched_returning) {
		v->sched_returning = true;
		s->returning++;
	}
	if (s->waiters > 0)
		pthread_cond_broadcast(&s->turn);
	checked_mutex_unlock(&s->mtx);
}

void sched_let_others_run(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	if (s->parallel) {
		/* The spinner waits for a vCPU whose host thread may not be
		 * running (more vCPUs than host CPUs): let it. */
		sched_yield();
		return;
	}
	checked_mutex_lock(&s->mtx);
	struct timespec ts = monotonic_timespec_at(
		vm_host_ns_of(vm, vm_now_ns(vm) + SCHED_YIELD_WAIT_NS));
	s->yielders++;
	while (s->waiters == 0 && s->returning > (v->sched_returning ? 1 : 0))
		if (checked_cond_timedwait(&s->arrival, &s->mtx, &ts) ==
		    ETIMEDOUT)
			break;
	s->yielders--;
	checked_mutex_unlock(&s->mtx);
}

void sched_vcpu_resumed(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	checked_mutex_lock(&s->mtx);
	v->sched_expected = true;
	s->gate_end = vm_now_ns(vm) + s->gate_ns;
	if (s->parallel)
		head_start_resumed_locked(vm, v);
	checked_mutex_unlock(&s->mtx);
}

void sched_vcpu_not_coming(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	checked_mutex_lock(&s->mtx);
	sched_no_longer_expected_locked(s, v);
	if (s->parallel)
		head_start_not_coming_locked(vm, v);
	checked_mutex_unlock(&s->mtx);
}

void sched_enter_engine(struct vm *vm, struct vcpu *v, bool deadline_polled)
{
	struct exec_sched *s = &vm->sched;
	/* only a vCPU past the gate (or holding the lock) runs an engine */
	lock_token_assert_held(&v->exec_token);
	if (s->parallel) {
		par_enter_engine(vm, v, deadline_polled);
		return;
	}
	checked_mutex_lock(&s->mtx);
	s->running = v;
	s->deadline_polled = deadline_polled;
	s->epoch++;
	/* Recency counts guest execution, not lock grants: a vCPU that
	 * was waiting for the lock when the debugger stopped the VM gets
	 * it only to see the stop. Counted as a turn, that left it never
	 * the least recently run, and one vCPU waited in a spin loop across
	 * 12 continues while the others took turns at the breakpoint. */
	v->sched_last_run = s->epoch;
	s->kicked = false;
	/* Pairs with sched_kick: either it sees running == v, or we see
	 * the request here. */
	s->kick_requested = atomic_load(&v->stop_req);
	/* The engine bounds its own entry (SCHED_MAX_ENTRY_NS) and LAPIC
	 * deadline; this thread is needed now only to end a slice someone
	 * waits for, or for a kick. Waking it on every entry cost each
	 * debugger resume a context switch on the core gdb runs on. */
	if (s->kick_requested || s->waiters > 0)
		pthread_cond_signal(&s->wakeup);
	checked_mutex_unlock(&s->mtx);
}

bool sched_leave_engine(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	if (s->parallel)
		return par_leave_engine(vm, v);
	checked_mutex_lock(&s->mtx);
	bool kicked = s->kicked;
	s->running = NULL;
	s->kick_requested = false;
	checked_mutex_unlock(&s->mtx);
	return kicked;
}

void sched_kick(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	checked_mutex_lock(&s->mtx);
	if (s->parallel) {
		par_kick_locked(vm, v);
	} else if (s->running == v) {
		s->kick_requested = true;
		pthread_cond_signal(&s->wakeup);
	} else if (v->sched_waiting && !v->sched_urgent) {
		/* It waits for the lock with an interrupt to take: the
		 * holder's slice may now end early. */
		v->sched_urgent = true;
		pthread_cond_signal(&s->wakeup);
	}
	checked_mutex_unlock(&s->mtx);
}

void sched_deadline_changed(struct vm *vm)
{
	struct exec_sched *s = &vm->sched;
	checked_mutex_lock(&s->mtx);
	pthread_cond_signal(&s->wakeup);
	checked_mutex_unlock(&s->mtx);
}
