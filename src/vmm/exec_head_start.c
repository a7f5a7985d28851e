/*
 * The head start of parallel execution (see exec_sched.h): who runs first
 * after a debugger resume.
 *
 * In parallel mode the host scheduler decides which vCPU threads run
 * between a `continue` and the next breakpoint hit, and a vCPU that is
 * microseconds from a breakpoint hits it as soon as its thread gets a
 * host CPU. On a loaded host the same threads won again and again: one
 * vCPU of four never reached a breakpoint in 12 continues
 * (e2e.break_all_vcpus, e2e.watchpoints; load 15 on 2 cores). Serial
 * execution avoids it by handing the lock to the least recently run vCPU.
 *
 * Here the rule is the same, counted in debug events: the resumed vCPUs
 * whose last debug event (breakpoint, watchpoint, step: sched_vcpu_reported)
 * is the oldest form the head-start group; the other vCPUs wait at the gate
 * until every member has either used SCHED_HEAD_START_CPU_NS of its own
 * thread's CPU time since it passed the gate, or will not come (it
 * reported an event, halted, was suspended again, steps). Thread CPU time,
 * not wall time: on a loaded host a member may sit descheduled for
 * milliseconds. A wall-clock bound (head_end) covers a thread that never
 * runs. A single step never waits, and a stepping vCPU is never a member
 * (the others run during a step, as the resume gate already lets them).
 * With every resumed vCPU in the group (all at the first continue) nobody
 * waits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <time.h>

#include "vmm/exec_sched_internal.h"

/* CPU time of the thread behind `clock`; false if it is gone. */
static bool thread_cpu_ns(clockid_t clock, uint64_t *ns)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) != 0)
		return false;
	*ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	return true;
}

static void end_locked(struct vm *vm)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i])
			vm->vcpus[i]->sched_head = false;
	s->head_members = 0;
	if (s->head_active) {
		s->head_active = false;
		pthread_cond_broadcast(&s->turn);
	}
}

/* Every member has had its head start (or its thread is gone). A member
 * whose thread has not passed the gate yet has not. */
static bool members_done_locked(struct vm *vm)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *m = vm->vcpus[i];
		if (!m || !m->sched_head)
			continue;
		if (!m->sched_head_began)
			return false;
		uint64_t now;
		if (thread_cpu_ns(m->sched_cpu_clock, &now) &&
		    now - m->sched_head_cpu0 < s->head_start_cpu_ns)
			return false;
	}
	return true;
}

/* The head start still holds non-members back (ends it when not). */
static bool in_force_locked(struct vm *vm, uint64_t now)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	if (!s->head_active)
		return false;
	if (now >= s->head_end || members_done_locked(vm)) {
		end_locked(vm);
		return false;
	}
	return true;
}

static void join_locked(struct exec_sched *s, struct vcpu *v)
{
	lock_assert_held(&s->mtx);
	if (v->sched_head)
		return;
	v->sched_head = true;
	v->sched_head_began = false;
	s->head_members++;
}

void head_start_resumed_locked(struct vm *vm, struct vcpu *v)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	uint64_t now = vm_now_ns(vm);
	v->sched_excused = false;
	if (!in_force_locked(vm, now)) {
		/* The first vCPU of a resume: a new group. */
		s->head_active = true;
		s->head_end = now + s->head_bound_ns;
		s->head_min_event = v->sched_last_event;
		join_locked(s, v);
	} else if (v->sched_last_event < s->head_min_event) {
		end_locked(vm);
		s->head_active = true;
		s->head_end = now + s->head_bound_ns;
		s->head_min_event = v->sched_last_event;
		join_locked(s, v);
	} else if (v->sched_last_event == s->head_min_event) {
		join_locked(s, v);
	}
}

void head_start_leave_locked(struct vm *vm, struct vcpu *v)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	if (!v->sched_head)
		return;
	v->sched_head = false;
	if (--s->head_members == 0)
		end_locked(vm);
}

void head_start_not_coming_locked(struct vm *vm, struct vcpu *v)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	head_start_leave_locked(vm, v);
	/* Waiting at the gate and suspended again by another thread: it only
	 * goes on to see the suspend. */
	if (v->sched_waiting && s->head_active) {
		v->sched_excused = true;
		pthread_cond_broadcast(&s->turn);
	}
}

void head_start_passed_gate_locked(struct vcpu *v)
{
	lock_assert_held(&v->vm->sched.mtx);
	v->sched_excused = false;
	if (!v->sched_head || v->sched_head_began)
		return;
	if (pthread_getcpuclockid(pthread_self(), &v->sched_cpu_clock) != 0 ||
	    !thread_cpu_ns(v->sched_cpu_clock, &v->sched_head_cpu0)) {
		/* Cannot be measured: no head start for it. */
		head_start_leave_locked(v->vm, v);
		return;
	}
	v->sched_head_began = true;
}

bool head_start_holds_locked(struct vm *vm, struct vcpu *v, uint64_t now,
			     uint64_t *recheck_at)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	if (v->sched_head || v->sched_excused || !in_force_locked(vm, now))
		return false;
	/* Members' CPU time is polled: nothing signals when it is used up. */
	uint64_t poll = now + SCHED_HEAD_START_POLL_NS;
	*recheck_at = poll < s->head_end ? poll : s->head_end;
	return true;
}

void sched_vcpu_reported(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	checked_mutex_lock(&s->mtx);
	v->sched_last_event = ++s->event_clock;
	checked_mutex_unlock(&s->mtx);
}
