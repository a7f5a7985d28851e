/*
 * Per-vCPU event state machine.
 *
 * Each vCPU has one state (vcpu_state.h), changed only by
 * events_set_state_locked. Its legal edges (generated from vcpu_state.c;
 * unit.gdbstub_vcpu_state fails if this table and the code differ):
 *
 * | from            | to              | when                                  |
 * |-----------------|-----------------|---------------------------------------|
 * | not-started     | running         | its thread reaches its first hook     |
 * | not-started     | stepping        | resumed with a step before its thread |
 * |                 |                 | came (it steps when it comes)         |
 * | running         | parked          | at a hook while suspended (^C,        |
 * |                 |                 | attach, another vCPU's event, a       |
 * |                 |                 | non-stop pause for a memory write;    |
 * |                 |                 | also resumed and suspended again      |
 * |                 |                 | before its thread woke)               |
 * | running         | hit-breakpoint  | executes an int3 of ours              |
 * | running         | hit-watch       | a hardware breakpoint or watchpoint   |
 * |                 |                 | of ours fires                         |
 * | running         | crashed         | the guest crashes, a debugger         |
 * |                 |                 | attached                              |
 * | running         | interrupted     | non-stop: at a hook while the         |
 * |                 |                 | debugger stops this vCPU alone        |
 * |                 |                 | (vCont;t, vCtrlC)                     |
 * | stepping        | stepped         | the step trap                         |
 * | stepping        | parked-mid-step | at a hook while suspended, before the |
 * |                 |                 | step ran, or with its range step      |
 * |                 |                 | still inside the range                |
 * | stepping        | hit-breakpoint  | the step executes an int3 of ours     |
 * | stepping        | hit-watch       | the step's instruction hits a         |
 * |                 |                 | watchpoint (it ran), or a hardware    |
 * |                 |                 | breakpoint stops it first             |
 * | stepping        | crashed         | the step crashes the guest            |
 * | stepping        | interrupted     | non-stop: stopped alone before the    |
 * |                 |                 | step ran (the step is dropped)        |
 * | stepping        | running         | the session or the VM ends: the step  |
 * |                 |                 | is dropped                            |
 * | parked          | running         | resumed (continue), a non-stop pause  |
 * |                 |                 | ends, the session ends unheld, the VM |
 * |                 |                 | ends                                  |
 * | parked          | stepping        | resumed with a step                   |
 * | parked-mid-step | running         | resumed (continue)                    |
 * | parked-mid-step | stepping        | resumed with a step, or a non-stop    |
 * |                 |                 | pause ends                            |
 * | parked-mid-step | parked          | the session or the VM ends: the step  |
 * |                 |                 | is dropped                            |
 * | hit-breakpoint  | parked          | consumed: reported, then a resume; or |
 * |                 |                 | dropped: a resume finds the           |
 * |                 |                 | breakpoint removed, the session or    |
 * |                 |                 | the VM ends                           |
 * | hit-watch       | parked          | consumed, or dropped: a resume finds  |
 * |                 |                 | the watch removed, the session or the |
 * |                 |                 | VM ends                               |
 * | stepped         | parked          | consumed, or dropped when the session |
 * |                 |                 | or the VM ends                        |
 * | crashed         | parked          | consumed, or dropped when the session |
 * |                 |                 | or the VM ends (the VM ends next)     |
 * | interrupted     | parked          | consumed: reported, then a resume; or |
 * |                 |                 | dropped when the session or the VM    |
 * |                 |                 | ends                                  |
 *
 * Besides the state, per vCPU: `suspended`, the debugger's order to stop
 * (a running vCPU obeys it at its next hook). Globally: stopped_vcpu (whose
 * event is being reported, -1 none) and the world's state (world_state.h:
 * free, running, stopping, interrupting, stopped, over), changed only by
 * events_set_world_locked; in stopping and interrupting (and running) the
 * server waits for every active vCPU to be in a parked state.
 *
 * - Hooks (vCPU threads): any hook first takes a not-started vCPU to
 *   running. A suspended vCPU parks (suspended exit, add). A breakpoint
 *   exit on one of our breakpoints, a watch exit (Z1-Z4; it ends a step),
 *   a step trap while stepping, or a crash with a debugger attached enters
 *   its event state and the report loop: claim stopped_vcpu if nobody has
 *   it and suspend everyone, then park; another vCPU's event waits its
 *   turn (one stop per resume). An int3 not ours goes back to the guest
 *   (int3_owner.c); a step trap while not stepping is stale (the caps are
 *   turned off).
 * - Every wake (vCPU): its own thread syncs its caps: BPT_EXIT iff
 *   breakpoints exist, step cap + MASK_HWINTR iff stepping.
 * - All active vCPUs parked, a stop wanted: the server is notified
 *   (eventfd).
 * - Ctrl-C, attach (server): suspend all; T02 for Ctrl-C once all parked.
 * - Resume (server): the reported event is consumed; pending hits whose
 *   breakpoint or watch is gone are dropped; if a vCPU to resume still has
 *   an event, it is reported at once and nobody runs (turns after the last
 *   reported); otherwise each vCPU with an action runs or steps, the
 *   others stay parked (scheduler-locking).
 * - Disconnect (server, world stopped): events and steps dropped, everyone
 *   resumed; or, when held (--wait before any continue, monitor hold on),
 *   events dropped and everyone stays parked for the next debugger.
 * - VM over (any): like disconnect, and hooks never park again.
 * - Non-stop (QNonStop:1): an event parks only its own vCPU and tells the
 *   server, which reports it on its own; nobody else stops. The debugger
 *   stops one vCPU (vCont;t, vCtrlC: it parks interrupted at its next
 *   hook) and resumes stopped ones one by one. A pause parks every running
 *   vCPU around a packet that writes memory (paused, not a stop the
 *   debugger sees) and lets them go on as they were.
 */
#include "gdbstub/vcpu_events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gdbstub/int3_owner.h"

int events_init(struct gdb_events *ev, const struct gdb_events_config *cfg)
{
	memset(ev, 0, sizeof(*ev));
	atomic_init(&ev->wake_gen, 0);
	ev->vcpu = calloc(cfg->nvcpus ? cfg->nvcpus : 1, sizeof(*ev->vcpu));
	if (!ev->vcpu)
		return -ENOMEM;
	if (checked_mutex_init(&ev->lock, LOCK_RANK_STUB)) {
		free(ev->vcpu);
		return -ENOMEM;
	}
	if (pthread_cond_init(&ev->wake, NULL)) {
		checked_mutex_destroy(&ev->lock);
		free(ev->vcpu);
		return -ENOMEM;
	}
	if (pthread_cond_init(&ev->parked, NULL)) {
		pthread_cond_destroy(&ev->wake);
		checked_mutex_destroy(&ev->lock);
		free(ev->vcpu);
		return -ENOMEM;
	}
	ev->ops = cfg->ops;
	ev->ctx = cfg->ctx;
	ev->nvcpus = cfg->nvcpus;
	ev->bps = cfg->bps;
	ev->watches = cfg->watches;
	ev->can_step = cfg->can_step;
	ev->step_cap = cfg->step_cap;
	for (unsigned v = 0; v < cfg->nvcpus; v++) {
		ev->vcpu[v].state = VCPU_NOT_STARTED;
		ev->vcpu[v].suspended = cfg->hold_new_vcpus;
	}
	ev->notify = cfg->notify;
	ev->notify_arg = cfg->notify_arg;
	ev->stopped_vcpu = -1;
	return 0;
}

void events_destroy(struct gdb_events *ev)
{
	pthread_cond_destroy(&ev->parked);
	pthread_cond_destroy(&ev->wake);
	checked_mutex_destroy(&ev->lock);
	free(ev->vcpu);
	ev->vcpu = NULL;
}

static bool valid_vcpu(const struct gdb_events *ev, int vcpu)
{
	return vcpu >= 0 && (unsigned)vcpu < ev->nvcpus;
}

bool events_stop_complete_locked(const struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	/* after a resume, "everyone parked" alone means nothing: a resumed
	 * vCPU whose thread has not started yet is parked by nobody */
	return world_state_stop_requested(ev->world) &&
	       ev->nwaiting == ev->nactive;
}

static void notify_if_stopped_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	if (events_stop_wanted(ev) && events_stop_complete_locked(ev) &&
	    ev->notify)
		ev->notify(ev->notify_arg);
}

bool events_set_state_locked(struct gdb_events *ev, int vcpu,
			     enum vcpu_dbg_state to)
{
	lock_assert_held(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	enum vcpu_dbg_state from = st->state;

	if (from == to)
		return true;
	if (!checked_state_take(&vcpu_state_machine, vcpu, from, to,
				&ev->illegal_transitions))
		return false;
	st->state = to;
	ev->transitions++;
	if (from == VCPU_NOT_STARTED)
		ev->nactive++;
	/* The resumer (not the woken thread) takes a vCPU out of a parked
	 * state, so a stop can never be judged complete while a resumed
	 * vCPU has not yet run. */
	if (vcpu_state_parked(from) && !vcpu_state_parked(to)) {
		ev->nwaiting--;
	} else if (!vcpu_state_parked(from) && vcpu_state_parked(to)) {
		ev->nwaiting++;
		if (ev->pausing)
			pthread_cond_broadcast(&ev->parked);
		notify_if_stopped_locked(ev);
	}
	/* non-stop: each stop is reported on its own, as it happens */
	if (ev->non_stop && vcpu_state_has_event(to) && ev->notify)
		ev->notify(ev->notify_arg);
	return true;
}

bool events_set_world_locked(struct gdb_events *ev, enum world_state to)
{
	lock_assert_held(&ev->lock);
	enum world_state from = ev->world;

	if (from == to)
		return true;
	if (!checked_state_take(&world_state_machine, -1, from, to,
				&ev->illegal_transitions))
		return false;
	ev->world = to;
	return true;
}

void events_stop_seen_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	if (ev->world == WORLD_STOPPING || ev->world == WORLD_INTERRUPTING)
		events_set_world_locked(ev, WORLD_STOPPED);
}

enum vcpu_dbg_state events_vcpu_state_locked(const struct gdb_events *ev,
					     int vcpu)
{
	lock_assert_held(&ev->lock);
	return valid_vcpu(ev, vcpu) ? ev->vcpu[vcpu].state : VCPU_NOT_STARTED;
}

/*
 * The vCPU whose event stopped the VM is usually the next to run (gdb steps
 * it off its breakpoint, or steps it again), within a millisecond when a
 * script drives the debugger: it spins GDB_SPIN_NS before it sleeps. Only
 * that one vCPU ever spins.
 */
static void spin_before_sleep_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	unsigned gen = atomic_load(&ev->wake_gen);
	long long until = gdb_monotonic_ns() + GDB_SPIN_NS;
	checked_mutex_unlock(&ev->lock);
	gdb_spin_begin();
	for (unsigned i = 1; atomic_load_explicit(&ev->wake_gen,
						  memory_order_acquire) == gen;
	     i++) {
		gdb_cpu_relax();
		if (i % 256 == 0 && gdb_monotonic_ns() >= until)
			break;
	}
	gdb_spin_end();
	/* the resuming server may still hold the lock for a moment */
	gdb_lock_spinning(&ev->lock, until);
}

static void wake_parked_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	atomic_fetch_add_explicit(&ev->wake_gen, 1, memory_order_release);
	pthread_cond_broadcast(&ev->wake);
}

/* A running vCPU at a hook while suspended: it parks (counted waiting);
 * INTERRUPTED when the debugger stopped it alone (non-stop). */
static void stop_here_locked(struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	enum vcpu_dbg_state s = st->state;
	if (st->interrupt_wanted &&
	    (s == VCPU_RUNNING || s == VCPU_STEPPING)) {
		st->interrupt_wanted = false;
		events_set_state_locked(ev, vcpu, VCPU_INTERRUPTED);
	} else if (s == VCPU_RUNNING)
		events_set_state_locked(ev, vcpu, VCPU_PARKED);
	else if (s == VCPU_STEPPING)
		events_set_state_locked(ev, vcpu, VCPU_PARKED_MID_STEP);
}

/* Sleeps while suspended. A vCPU resumed and suspended again before it
 * woke counts itself back in. */
static void park_locked(struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];

	if (events_vm_over(ev))
		return;
	stop_here_locked(ev, vcpu);
	bool spin = ev->stopped_vcpu == vcpu && gdb_spin_pays();
	while (st->suspended && !events_vm_over(ev)) {
		if (spin) {
			spin_before_sleep_locked(ev);
			spin = false;
		} else {
			checked_cond_wait(&ev->wake, &ev->lock);
		}
		if (st->suspended)
			stop_here_locked(ev, vcpu);
	}
}

/* Capabilities are only ever changed by the vCPU's own thread, right
 * before it runs guest code again, so no engine is touched while running
 * and vCPUs that start late get BPT_EXIT too. */
static void sync_caps_locked(struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	const struct gdb_target_ops *ops = ev->ops;

	if (!ops->set_cap)
		return;
	bool want_bpt = !events_vm_over(ev) && ev->bps && bp_table_count(ev->bps) > 0;
	/* A capability is recorded as set only when set_cap succeeded, so a
	 * failure is retried at the vCPU's next wake-up instead of being
	 * believed for the rest of the session. */
	if (want_bpt != st->bpt_exit_on &&
	    ops->set_cap(ev->ctx, vcpu, GDB_CAP_BPT_EXIT, want_bpt) == 0)
		st->bpt_exit_on = want_bpt;
	bool want_step = st->state == VCPU_STEPPING && ev->can_step &&
			 !events_vm_over(ev);
	if (want_step != st->step_on) {
		int rc = ops->set_cap(ev->ctx, vcpu, ev->step_cap, want_step);
		/* no timer tick may land between the step and its report;
		 * RFLAGS.IF itself is never touched */
		int mask_rc = ops->set_cap(ev->ctx, vcpu, GDB_CAP_MASK_HWINTR,
					   want_step);
		if (rc == 0 && mask_rc == 0)
			st->step_on = want_step;
	}
}

void events_stop_all_locked(struct gdb_events *ev, bool interrupt)
{
	lock_assert_held(&ev->lock);
	for (unsigned v = 0; v < ev->nvcpus; v++)
		ev->vcpu[v].suspended = true;
	/* ^C's stop stays one while an event's stop completes (the event
	 * is what gets reported); the VM's end is for ever */
	if (!events_vm_over(ev))
		events_set_world_locked(ev, interrupt || events_interrupted(ev)
						    ? WORLD_INTERRUPTING
						    : WORLD_STOPPING);
	if (ev->ops->suspend)
		ev->ops->suspend(ev->ctx, -1);
	notify_if_stopped_locked(ev);
}

/* A vCPU that reaches any hook runs guest code: count it even if its
 * thread never called gdbstub_vcpu_add, or stops would not wait for it. */
static void arrive_locked(struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	if (ev->vcpu[vcpu].state == VCPU_NOT_STARTED)
		events_set_state_locked(ev, vcpu, VCPU_RUNNING);
}

void events_vcpu_add(struct gdb_events *ev, int vcpu)
{
	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	arrive_locked(ev, vcpu);
	if (ev->vcpu[vcpu].suspended)
		park_locked(ev, vcpu);
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

void events_vcpu_suspended(struct gdb_events *ev, int vcpu)
{
	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	arrive_locked(ev, vcpu);
	if (ev->vcpu[vcpu].suspended)
		park_locked(ev, vcpu);
	else if (ev->ops->resume)
		/* a kick we no longer want: clear it or vm_run spins */
		ev->ops->resume(ev->ctx, vcpu);
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

/* The vCPU just entered an event state: parks until the event was
 * reported and consumed (or dropped) and it was resumed. */
static void report_loop_locked(struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];

	/* whatever the debugger asked, this is the stop it gets */
	st->interrupt_wanted = false;
	while (!events_vm_over(ev) && vcpu_state_has_event(st->state)) {
		if (ev->non_stop) {
			/* only this vCPU stops; the server was told when it
			 * entered its event state. The VM counts it
			 * suspended, as the debugger's other stops. */
			if (!st->suspended) {
				st->suspended = true;
				if (ev->ops->suspend)
					ev->ops->suspend(ev->ctx, vcpu);
			}
			park_locked(ev, vcpu);
			continue;
		}
		if (ev->stopped_vcpu == -1) {
			ev->stopped_vcpu = vcpu;
			events_stop_all_locked(ev, false);
		}
		st->suspended = true;
		park_locked(ev, vcpu);
	}
}

void events_vcpu_breakpoint(struct gdb_events *ev, int vcpu, int inst_length)
{
	uint64_t gpa;

	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	arrive_locked(ev, vcpu);
	if (!events_vm_over(ev) &&
	    int3_is_ours(ev->ops, ev->ctx, ev->bps, vcpu, &gpa)) {
		ev->vcpu[vcpu].hit_gpa = gpa;
		events_set_state_locked(ev, vcpu, VCPU_HIT_BREAKPOINT);
		report_loop_locked(ev, vcpu);
	} else {
		int3_give_to_guest(ev->ops, ev->ctx, vcpu, inst_length);
	}
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

/* A range step (vCont;r) goes on while RIP stays in its range. A RIP
 * that cannot be read ends it: the debugger then sees where it is. */
static bool step_stays_in_range_locked(struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	const struct gdb_step_range *range = &ev->vcpu[vcpu].range;
	uint8_t val[8];
	uint64_t rip = 0;

	if (range->start >= range->end || !ev->ops->read_reg ||
	    ev->ops->read_reg(ev->ctx, vcpu, GDB_REG_RIP, val))
		return false;
	for (int i = 0; i < 8; i++)
		rip |= (uint64_t)val[i] << (8 * i);
	return rip >= range->start && rip < range->end;
}

void events_vcpu_step_trap(struct gdb_events *ev, int vcpu)
{
	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	arrive_locked(ev, vcpu);
	bool in_range = ev->vcpu[vcpu].state == VCPU_STEPPING &&
			!events_vm_over(ev) && step_stays_in_range_locked(ev, vcpu);
	if (in_range) {
		/* Still inside the line: step again from this thread, with
		 * the step caps (and the interrupt mask) left on, no round
		 * trip to the debugger. Another vCPU's stop, or ^C, parks
		 * it here mid-step with nothing of its own to report, as
		 * gdbserver does. */
		ev->range_steps++;
		if (ev->vcpu[vcpu].suspended)
			park_locked(ev, vcpu);
		sync_caps_locked(ev, vcpu);
		checked_mutex_unlock(&ev->lock);
		return;
	}
	if (ev->vcpu[vcpu].state == VCPU_STEPPING && !events_vm_over(ev)) {
		events_set_state_locked(ev, vcpu, VCPU_STEPPED);
		sync_caps_locked(ev, vcpu);
		report_loop_locked(ev, vcpu);
	}
	/* not stepping: a stale trap, and the caps go off here */
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

void events_vcpu_watch(struct gdb_events *ev, int vcpu,
		       enum gdb_watch_type type, uint64_t addr)
{
	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	arrive_locked(ev, vcpu);
	if (!events_vm_over(ev)) {
		struct vcpu_event_state *st = &ev->vcpu[vcpu];
		st->watch_type = type;
		st->watch_addr = addr;
		/* a step is over: its instruction completed (a watchpoint
		 * traps after it) or a hardware breakpoint stopped it
		 * first; its caps go off now */
		events_set_state_locked(ev, vcpu, VCPU_HIT_WATCH);
		sync_caps_locked(ev, vcpu);
		report_loop_locked(ev, vcpu);
	}
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

void events_vcpu_crashed_locked(struct gdb_events *ev, int vcpu, int signal,
				const char *what)
{
	lock_assert_held(&ev->lock);
	if (!valid_vcpu(ev, vcpu) || events_vm_over(ev))
		return;
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	arrive_locked(ev, vcpu);
	st->crash_signal = signal;
	snprintf(st->crash_what, sizeof(st->crash_what), "%s",
		 what ? what : "crashed");
	/* a stepping vCPU is not stepping any more: its state must stay as
	 * at the crash */
	events_set_state_locked(ev, vcpu, VCPU_CRASHED);
	report_loop_locked(ev, vcpu);
}

void events_take_stop_locked(struct gdb_events *ev, int fallback_vcpu,
			     struct gdb_stop_info *st)
{
	lock_assert_held(&ev->lock);
	bool interrupted = events_interrupted(ev);
	events_stop_seen_locked(ev);
	if (ev->stopped_vcpu >= 0) {
		const struct vcpu_event_state *v = &ev->vcpu[ev->stopped_vcpu];
		st->vcpu = ev->stopped_vcpu;
		st->signal = v->state == VCPU_CRASHED ? v->crash_signal : 5;
		st->swbreak = v->state == VCPU_HIT_BREAKPOINT;
		st->watch_type =
			v->state == VCPU_HIT_WATCH ? (int)v->watch_type : 0;
		st->watch_addr = v->watch_addr;
	} else {
		st->vcpu = valid_vcpu(ev, fallback_vcpu) ? fallback_vcpu : 0;
		st->signal = interrupted ? 2 : 5;
		st->swbreak = false;
		st->watch_type = 0;
		st->watch_addr = 0;
	}
}

/* A hit whose breakpoint or watch the debugger has removed since. */
static bool stale_hit_locked(const struct gdb_events *ev,
			     const struct vcpu_event_state *st)
{
	lock_assert_held(&ev->lock);
	if (st->state == VCPU_HIT_BREAKPOINT)
		return !bp_table_find(ev->bps, st->hit_gpa);
	if (st->state == VCPU_HIT_WATCH)
		return !ev->watches ||
		       !watch_table_covers(ev->watches, st->watch_type,
					   st->watch_addr);
	return false;
}

/* A vCPU to be resumed whose event is still pending, taking turns after
 * the one reported last; -1 if none. Pending hits on breakpoints and
 * watches removed since are dropped here: the vCPU re-executes the
 * instruction (or runs on past the access). */
static int pending_to_report_locked(struct gdb_events *ev,
				    const enum gdb_resume_action *actions,
				    int last)
{
	lock_assert_held(&ev->lock);
	int found = -1;
	for (unsigned i = 0; i < ev->nvcpus; i++) {
		unsigned v = (unsigned)(last + 1 + (int)i) % ev->nvcpus;
		struct vcpu_event_state *st = &ev->vcpu[v];
		if (!gdb_action_runs(actions[v]))
			continue;
		if (stale_hit_locked(ev, st))
			events_set_state_locked(ev, (int)v, VCPU_PARKED);
		if (found < 0 && vcpu_state_has_event(st->state))
			found = (int)v;
	}
	return found;
}

/* A vCPU about to step steps on while RIP stays in range (NULL or
 * empty: one instruction). All-stop and non-stop resumes both set it. */
static void set_range_locked(struct gdb_events *ev, int vcpu,
			     const struct gdb_step_range *range)
{
	lock_assert_held(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	st->range = range ? *range : (struct gdb_step_range){ 0, 0 };
	if (st->range.start < st->range.end)
		ev->range_resumes++;
}

void events_resume_locked(struct gdb_events *ev,
			  const enum gdb_resume_action *actions,
			  const struct gdb_step_range *ranges)
{
	lock_assert_held(&ev->lock);
	int last = ev->stopped_vcpu;
	if (last >= 0) {
		/* the reported event is consumed */
		if (vcpu_state_has_event(ev->vcpu[last].state))
			events_set_state_locked(ev, last, VCPU_PARKED);
		ev->stopped_vcpu = -1;
	}
	/* As gdbserver does: an event that is already there is reported at
	 * once, and nobody runs. Resuming would let the vCPU just reported
	 * run round its loop and hit again before the pending vCPU's thread
	 * woke to claim its turn, so its event could wait for ever. */
	int pending = pending_to_report_locked(ev, actions, last);
	if (pending >= 0) {
		ev->stopped_vcpu = pending;
		if (!events_vm_over(ev))
			events_set_world_locked(ev, WORLD_STOPPING);
		notify_if_stopped_locked(ev);
		return;
	}
	if (!events_vm_over(ev))
		events_set_world_locked(ev, WORLD_RUNNING);
	for (unsigned v = 0; v < ev->nvcpus; v++) {
		struct vcpu_event_state *st = &ev->vcpu[v];
		if (!gdb_action_runs(actions[v]))
			continue;
		bool step = actions[v] == GDB_ACT_STEP && ev->can_step;
		set_range_locked(ev, (int)v, step && ranges ? &ranges[v] : NULL);
		/* a vCPU whose thread has not come yet runs when it comes,
		 * and is counted only then, unless it is to step */
		if (step || st->state != VCPU_NOT_STARTED)
			events_set_state_locked(ev, (int)v,
						step ? VCPU_STEPPING
						     : VCPU_RUNNING);
		st->suspended = false;
		if (ev->ops->resume)
			ev->ops->resume(ev->ctx, (int)v);
	}
	wake_parked_locked(ev);
}

/* Events and step requests dropped; parked vCPUs stay parked. */
static void drop_events_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	for (unsigned v = 0; v < ev->nvcpus; v++) {
		enum vcpu_dbg_state s = ev->vcpu[v].state;
		ev->vcpu[v].interrupt_wanted = false;
		ev->vcpu[v].paused = false;
		if (s == VCPU_STEPPING)
			events_set_state_locked(ev, (int)v, VCPU_RUNNING);
		else if (vcpu_state_parked(s))
			events_set_state_locked(ev, (int)v, VCPU_PARKED);
	}
	ev->stopped_vcpu = -1;
	events_stop_seen_locked(ev);
}

void events_reset_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	drop_events_locked(ev);
	for (unsigned v = 0; v < ev->nvcpus; v++) {
		if (ev->vcpu[v].state == VCPU_PARKED)
			events_set_state_locked(ev, (int)v, VCPU_RUNNING);
		ev->vcpu[v].suspended = false;
	}
	if (!events_vm_over(ev))
		events_set_world_locked(ev, WORLD_FREE);
	if (ev->ops->resume)
		ev->ops->resume(ev->ctx, -1);
	wake_parked_locked(ev);
}

/* Nobody is woken: the vCPUs stay parked (and counted as waiting), so the
 * next attach finds the world already stopped. Their capabilities are
 * synced when they wake, after a debugger resumes them. */
void events_reset_held_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	drop_events_locked(ev);
}

void events_vm_over_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	events_set_world_locked(ev, WORLD_OVER);
	events_reset_locked(ev);
	pthread_cond_broadcast(&ev->parked); /* a pause waits no more */
}

/* ---- Non-stop mode ------------------------------------------------------ */

void events_set_non_stop_locked(struct gdb_events *ev, bool on)
{
	lock_assert_held(&ev->lock);
	ev->non_stop = on;
}

bool events_vcpu_stopped_locked(const struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	if (!valid_vcpu(ev, vcpu) || ev->vcpu[vcpu].paused)
		return false;
	const struct vcpu_event_state *st = &ev->vcpu[vcpu];
	/* one whose thread has not come yet, held: it parks when it comes
	 * and runs no guest code before (an attach does not wait for it) */
	return vcpu_state_parked(st->state) ||
	       (st->state == VCPU_NOT_STARTED && st->suspended);
}

void events_stop_vcpu_locked(struct gdb_events *ev, int vcpu, int signal)
{
	lock_assert_held(&ev->lock);
	if (!valid_vcpu(ev, vcpu) || events_vm_over(ev) ||
	    events_vcpu_stopped_locked(ev, vcpu))
		return;
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	st->interrupt_wanted = true;
	st->interrupt_signal = signal;
	st->suspended = true;
	if (ev->ops->suspend)
		ev->ops->suspend(ev->ctx, vcpu);
}

void events_resume_vcpu_locked(struct gdb_events *ev, int vcpu,
			       enum gdb_resume_action action,
			       const struct gdb_step_range *range)
{
	lock_assert_held(&ev->lock);
	if (!valid_vcpu(ev, vcpu) || !gdb_action_runs(action))
		return;
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	if (st->state != VCPU_NOT_STARTED && !vcpu_state_parked(st->state))
		return; /* it runs already */
	st->interrupt_wanted = false;
	st->paused = false;
	/* the reported event is consumed */
	if (vcpu_state_has_event(st->state))
		events_set_state_locked(ev, vcpu, VCPU_PARKED);
	bool step = action == GDB_ACT_STEP && ev->can_step;
	set_range_locked(ev, vcpu, step ? range : NULL);
	if (step || st->state != VCPU_NOT_STARTED)
		events_set_state_locked(ev, vcpu,
					step ? VCPU_STEPPING : VCPU_RUNNING);
	st->suspended = false;
	if (ev->ops->resume)
		ev->ops->resume(ev->ctx, vcpu);
	wake_parked_locked(ev);
}

int events_pause_all_locked(struct gdb_events *ev, long long timeout_ns)
{
	lock_assert_held(&ev->lock);
	if (events_vm_over(ev))
		return -ESHUTDOWN;
	for (unsigned v = 0; v < ev->nvcpus; v++) {
		struct vcpu_event_state *st = &ev->vcpu[v];
		/* parked, or parking already (a stop under way) */
		if (vcpu_state_parked(st->state) || st->suspended)
			continue;
		st->paused = true;
		st->suspended = true;
		if (ev->ops->suspend)
			ev->ops->suspend(ev->ctx, (int)v);
	}
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	long long ns = deadline.tv_nsec + timeout_ns % 1000000000LL;
	deadline.tv_sec += (time_t)(timeout_ns / 1000000000LL + ns / 1000000000LL);
	deadline.tv_nsec = (long)(ns % 1000000000LL);
	ev->pausing = true;
	int rc = 0;
	while (!events_vm_over(ev) && ev->nwaiting != ev->nactive && rc == 0)
		rc = checked_cond_timedwait(&ev->parked, &ev->lock, &deadline);
	ev->pausing = false;
	if (events_vm_over(ev))
		return -ESHUTDOWN;
	if (ev->nwaiting != ev->nactive) {
		events_unpause_all_locked(ev);
		return -ETIMEDOUT;
	}
	return 0;
}

void events_unpause_all_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	bool woke = false;
	for (unsigned v = 0; v < ev->nvcpus; v++) {
		struct vcpu_event_state *st = &ev->vcpu[v];
		if (!st->paused)
			continue;
		st->paused = false;
		/* one that stopped for an event meanwhile stays, and is
		 * reported as any stop */
		if (st->state == VCPU_PARKED)
			events_set_state_locked(ev, (int)v, VCPU_RUNNING);
		else if (st->state == VCPU_PARKED_MID_STEP)
			events_set_state_locked(ev, (int)v, VCPU_STEPPING);
		else if (vcpu_state_parked(st->state))
			continue;
		st->suspended = false;
		if (ev->ops->resume)
			ev->ops->resume(ev->ctx, (int)v);
		woke = true;
	}
	if (woke)
		wake_parked_locked(ev);
}

void events_stop_info_locked(const struct gdb_events *ev, int vcpu,
			     struct gdb_stop_info *st)
{
	lock_assert_held(&ev->lock);
	memset(st, 0, sizeof(*st));
	st->vcpu = valid_vcpu(ev, vcpu) ? vcpu : 0;
	const struct vcpu_event_state *v = &ev->vcpu[st->vcpu];
	switch (v->state) {
	case VCPU_CRASHED:
		st->signal = v->crash_signal;
		break;
	case VCPU_INTERRUPTED:
		st->signal = v->interrupt_signal;
		break;
	case VCPU_HIT_BREAKPOINT:
		st->signal = 5;
		st->swbreak = true;
		break;
	case VCPU_HIT_WATCH:
		st->signal = 5;
		st->watch_type = (int)v->watch_type;
		st->watch_addr = v->watch_addr;
		break;
	case VCPU_STEPPED:
		st->signal = 5;
		break;
	default:
		/* stopped for no reason of its own (attach, a stop of
		 * every vCPU): signal 0, as gdbserver reports it */
		st->signal = 0;
		break;
	}
}
