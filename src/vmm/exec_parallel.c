/*
 * The execution gate of parallel mode (see exec_sched.h): every vCPU
 * executes at once, each on its own host thread and engine, and passes
 * the gate in shared mode before it enters its engine. A vCPU that must
 * run alone (sched_exclusive_begin: a locked access QEMU cannot make
 * atomic, or an engine translating serially for data watches) asks for
 * the gate exclusively: new arrivals wait, every vCPU in its engine is
 * kicked out (the block-boundary stop flag, as for any stop), and the
 * gate is its once the last one has left (sched_should_yield tells the
 * run loops to leave).
 *
 * Nothing else needs the world stopped: device models and LAPICs have
 * their own locks; code written by one engine is queued for the others,
 * which are kicked to drop it before their next block
 * (code_write_queue.c); the debugger's stop-the-world is each vCPU's
 * suspend flag and kick, and a stop is reported once every vCPU has left
 * vm_run, as before.
 *
 * The resume gate remains: after a debugger resume a vCPU waits (at most
 * gate_ns) until every vCPU resumed with it has arrived or said it will
 * not come, so that all of them start together and the first host thread
 * to wake does not hit the breakpoint again before the others moved. A
 * vCPU asked for a single step does not wait.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>

#include "devices/lapic.h"
#include "vmm/exec_sched_internal.h"

static bool others_expected(const struct vm *vm, const struct vcpu *v)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i] != v && vm->vcpus[i]->sched_expected)
			return true;
	return false;
}

static bool world_stopped_for_someone(struct exec_sched *s)
{
	return s->exclusive ||
	       atomic_load_explicit(&s->exclusive_wanted,
				    memory_order_relaxed) > 0;
}

/* v must leave its engine for someone else's exclusive turn. Never the
 * exclusive holder itself: its one serial instruction, cut short, would
 * be asked for again forever. */
static bool must_make_way(struct exec_sched *s, const struct vcpu *v)
{
	return s->exclusive_owner != v &&
	       atomic_load_explicit(&s->exclusive_wanted,
				    memory_order_relaxed) > 0;
}

void par_acquire(struct vm *vm, struct vcpu *v, bool step)
{
	struct exec_sched *s = &vm->sched;
	lock_token_may_take(&v->exec_token);
	checked_mutex_lock(&s->mtx);
	sched_no_longer_expected_locked(s, v);
	/* A step is never held back, so it holds nobody back either. */
	if (step)
		head_start_leave_locked(vm, v);
	v->sched_waiting = true;
	s->waiters++;
	for (;;) {
		uint64_t now = vm_now_ns(vm);
		/* A single step does not wait for the others (they run
		 * meanwhile, and stop when the step is reported). */
		bool gate = !step && now < s->gate_end &&
			    others_expected(vm, v);
		uint64_t recheck = UINT64_MAX;
		bool held = !step && !gate &&
			    head_start_holds_locked(vm, v, now, &recheck);
		if (!gate && !held && !world_stopped_for_someone(s))
			break;
		sched_wait_until_locked(vm, &s->turn,
					gate ? s->gate_end
					     : held ? recheck : UINT64_MAX);
	}
	sched_waiter_served_locked(s, v);
	head_start_passed_gate_locked(v);
	s->inside++;
	lock_token_taken(&v->exec_token);
	checked_mutex_unlock(&s->mtx);
}

void par_release(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	lock_token_released(&v->exec_token);
	checked_mutex_lock(&s->mtx);
	s->inside--;
	if (s->inside == 0 && atomic_load(&s->exclusive_wanted) > 0)
		pthread_cond_broadcast(&s->turn);
	checked_mutex_unlock(&s->mtx);
}

bool par_should_yield(struct vm *vm)
{
	return atomic_load_explicit(&vm->sched.exclusive_wanted,
				    memory_order_relaxed) > 0;
}

/* A PAUSE loop gives its host CPU up when another vCPU may need it: more
 * vCPUs than host CPUs (the lock holder may be descheduled), or someone
 * waits to run alone. */
bool par_others_due(struct vm *vm)
{
	return vm->ncpus > vm->sched.host_cpus || par_should_yield(vm);
}

static void kick_all_others_locked(struct vm *vm, struct vcpu *self)
{
	lock_assert_held(&vm->sched.mtx);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *o = vm->vcpus[i];
		if (o != self && o != vm->sched.exclusive_owner)
			par_kick_locked(vm, o);
	}
}

void par_enter_engine(struct vm *vm, struct vcpu *v, bool deadline_polled)
{
	struct exec_sched *s = &vm->sched;
	(void)deadline_polled; /* a single instruction needs no watching */
	checked_mutex_lock(&s->mtx);
	v->sched_in_engine = true;
	v->sched_kicked = false;
	s->epoch++;
	v->sched_last_run = s->epoch;
	/* Pairs with sched_kick: either it sees sched_in_engine, or we see
	 * its stop_req here; and an exclusive request made since this vCPU
	 * passed the gate. */
	if (atomic_load(&v->stop_req) || must_make_way(s, v))
		par_kick_locked(vm, v);
	checked_mutex_unlock(&s->mtx);
}

bool par_leave_engine(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	checked_mutex_lock(&s->mtx);
	bool kicked = v->sched_kicked;
	v->sched_in_engine = false;
	v->sched_kick_requested = false;
	checked_mutex_unlock(&s->mtx);
	return kicked;
}

void par_kick_locked(struct vm *vm, struct vcpu *v)
{
	lock_assert_held(&vm->sched.mtx);
	struct exec_sched *s = &vm->sched;
	if (!v->sched_in_engine)
		return; /* stop_req or the gate stops it before it enters */
	vm->ops->kick(v);
	v->sched_kicked = true;
	v->sched_kicked_at = vm_now_ns(vm);
	if (!v->sched_kick_requested) {
		/* The preemption thread repeats it if the engine ignored it
		 * (a stop inside an STI shadow). */
		v->sched_kick_requested = true;
		pthread_cond_signal(&s->wakeup);
	}
}

/* When v must have left its engine (UINT64_MAX: no limit). */
static uint64_t due_at(struct vcpu *v)
{
	if (v->sched_kick_requested)
		return v->sched_kicked_at + SCHED_KICK_RETRY_NS;
	if (!v->lapic)
		return UINT64_MAX;
	uint64_t t = lapic_next_deadline(v->lapic);
	/* The engine polls its deadline itself: this is a safety net. */
	return t < UINT64_MAX - SCHED_POLLED_DEADLINE_SLACK_NS
		       ? t + SCHED_POLLED_DEADLINE_SLACK_NS
		       : UINT64_MAX;
}

uint64_t par_preempt_locked(struct vm *vm, uint64_t now)
{
	lock_assert_held(&vm->sched.mtx);
	uint64_t next = stress_kick_due_locked(vm, now);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		/* The thread starts before the vCPUs are set up. */
		if (!v || !v->sched_in_engine)
			continue;
		uint64_t due = due_at(v);
		if (due <= now) {
			vm->ops->kick(v);
			v->sched_kicked = true;
			v->sched_kick_requested = true;
			v->sched_kicked_at = now;
			due = now + SCHED_KICK_RETRY_NS;
		}
		if (due < next)
			next = due;
	}
	return next;
}

/* ---- Running alone ------------------------------------------------------- */

void sched_exclusive_begin(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	if (!s->parallel)
		return; /* v holds the execution lock: it runs alone */
	/* v leaves the shared gate: no condition wait with the token. */
	lock_token_released(&v->exec_token);
	lock_token_may_take(&v->exec_token);
	checked_mutex_lock(&s->mtx);
	atomic_fetch_add(&s->exclusive_wanted, 1);
	s->inside--;
	kick_all_others_locked(vm, v);
	while (s->inside > 0 || s->exclusive)
		checked_cond_wait(&s->turn, &s->mtx);
	atomic_fetch_sub(&s->exclusive_wanted, 1);
	s->exclusive = true;
	s->exclusive_owner = v;
	s->inside++;
	lock_token_taken(&v->exec_token);
	checked_mutex_unlock(&s->mtx);
}

void sched_exclusive_end(struct vm *vm, struct vcpu *v)
{
	struct exec_sched *s = &vm->sched;
	(void)v;
	if (!s->parallel)
		return;
	checked_mutex_lock(&s->mtx);
	s->exclusive = false;
	s->exclusive_owner = NULL;
	pthread_cond_broadcast(&s->turn);
	checked_mutex_unlock(&s->mtx);
}
