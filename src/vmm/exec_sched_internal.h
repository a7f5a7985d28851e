/*
 * What the serial scheduler (exec_sched.c) and the parallel gate
 * (exec_parallel.c) share. Only those two files include this.
 */
#ifndef HVGDB_EXEC_SCHED_INTERNAL_H
#define HVGDB_EXEC_SCHED_INTERNAL_H

#include "vmm/vm_internal.h"

/* Re-check interval while a running vCPU is overdue to stop. */
#define SCHED_KICK_RETRY_NS 1000000ULL
/* An engine that polls its LAPIC deadline itself is stopped by the
 * preemption thread only this late (a safety net; it normally never
 * fires). */
#define SCHED_POLLED_DEADLINE_SLACK_NS 2000000ULL

/* How often a vCPU held back by a head start looks at the members' CPU
 * time. */
#define SCHED_HEAD_START_POLL_NS 500000ULL

/* With the scheduler's mutex: waits on cond (s->turn, s->wakeup) until
 * signalled or until the guest clock reads guest_ns (UINT64_MAX: no
 * deadline). */
void sched_wait_until_locked(struct vm *vm, pthread_cond_t *cond,
			     uint64_t guest_ns);
/* v is back at the gate or lock, or will not come: the resume gate may
 * have been holding others for it. */
void sched_no_longer_expected_locked(struct exec_sched *s, struct vcpu *v);
/* v, waiting for the lock or gate, got it: no longer a waiter, its
 * urgency and step request served. */
void sched_waiter_served_locked(struct exec_sched *s, struct vcpu *v);

/* HVGDB_STRESS_KICK_US's stops (stress_kick.h), from the preemption
 * thread: kicks every executing vCPU when due; returns when next due
 * (UINT64_MAX: off). */
uint64_t stress_kick_due_locked(struct vm *vm, uint64_t now);

/* The parallel gate (exec_parallel.c), called by exec_sched.c's entry
 * points when s->parallel. */
void par_acquire(struct vm *vm, struct vcpu *v, bool step);
void par_release(struct vm *vm, struct vcpu *v);
bool par_should_yield(struct vm *vm);
bool par_others_due(struct vm *vm);
void par_enter_engine(struct vm *vm, struct vcpu *v, bool deadline_polled);
bool par_leave_engine(struct vm *vm, struct vcpu *v);
void par_kick_locked(struct vm *vm, struct vcpu *v);
/* The preemption thread's pass: kicks what is due, returns when it must
 * look again (UINT64_MAX: when woken). */
uint64_t par_preempt_locked(struct vm *vm, uint64_t now);

/* The head start after a debugger resume (exec_head_start.c), parallel
 * mode only. */
void head_start_resumed_locked(struct vm *vm, struct vcpu *v);
/* v is no member any more (it steps). */
void head_start_leave_locked(struct vm *vm, struct vcpu *v);
/* v will not come: no member any more, and if it waits at the gate it
 * need not wait for the head start. */
void head_start_not_coming_locked(struct vm *vm, struct vcpu *v);
/* v passes the gate: a member's head start begins (its CPU time counts
 * from here). */
void head_start_passed_gate_locked(struct vcpu *v);
/* v must wait for the head start; look again at *recheck_at (guest ns). */
bool head_start_holds_locked(struct vm *vm, struct vcpu *v, uint64_t now,
			     uint64_t *recheck_at);

#endif
