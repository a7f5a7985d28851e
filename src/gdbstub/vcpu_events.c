/*
 * Per-vCPU event state machine.
 *
 * Per vCPU: stepping, stepped, hit_swbreak (+ active, suspended, waiting).
 * Global: stopped_vcpu (event being reported, -1 none), stop_wanted (the
 * server waits for every active vCPU to park). suspended is kept for vCPUs
 * whose thread has not started too, so scheduler-locking and --wait hold
 * them when they do.
 *
 * | event (who)                 | condition                  | action                                             |
 * |-----------------------------|----------------------------|----------------------------------------------------|
 * | init (--wait)               |                            | suspended=1 for every vCPU                         |
 * | vcpu_add (vCPU)             | suspended                  | park                                               |
 * | SUSPENDED exit (vCPU)       | suspended                  | park until resumed                                 |
 * |                             | not suspended              | ops->resume (stale kick), return                   |
 * | BPT exit (vCPU)             | gpa(RIP) in our table      | hit_swbreak=1; REPORT LOOP                         |
 * |                             | not ours                   | give the guest its #BP: intel set ENTRY_INST_LENGTH|
 * |                             |                            | + inject 3; amd RIP += len + inject 3              |
 * | MTRAP / trace DB (vCPU)     | stepping                   | stepping=0, stepped=1, step caps off; REPORT LOOP  |
 * |                             | not stepping               | spurious (step caps left on): caps off, return     |
 * | WATCH exit (vCPU)           |                            | stepping=0 (a step's instruction is done, or a     |
 * |                             |                            | hw breakpoint stops it first), hit_watch=1;        |
 * |                             |                            | REPORT LOOP                                        |
 * | guest crash (vCPU)          | a debugger is attached     | crashed=1 (reported with its signal); REPORT LOOP; |
 * |                             |                            | on leaving, the caller ends the VM                 |
 * | REPORT LOOP (vCPU)          | stopped_vcpu == -1         | stopped_vcpu=self, suspend all; park               |
 * |                             | stopped_vcpu is another    | park (reported later, one stop per resume)         |
 * |   on wake                   | event flag cleared         | reported and resumed: leave                        |
 * |                             | hit_swbreak, bp removed    | stale: hit_swbreak=0, stepping=step_wanted, leave; |
 * |                             |                            | the original instruction runs (or is stepped)      |
 * |                             | hit_watch, watch removed   | stale: the same with hit_watch                     |
 * |                             | otherwise                  | loop (claim stopped_vcpu again)                    |
 * | every wake (vCPU)           |                            | own thread syncs caps: BPT_EXIT iff breakpoints    |
 * |                             |                            | exist; step cap + MASK_HWINTR iff stepping         |
 * | all active parked (vCPU)    | stop_wanted                | notify the server (eventfd)                        |
 * | Ctrl-C / attach (server)    |                            | suspend all; report T02 (Ctrl-C) when all parked   |
 * | resume (server)             |                            | drop stopped_vcpu's event, stopped_vcpu=-1;        |
 * |                             |                            | drop pending hits whose breakpoint/watch is gone;  |
 * |                             | a vCPU to resume has an    | stopped_vcpu=it (turns after the last reported);   |
 * |                             | event pending              | report at once, nobody runs                        |
 * |                             | otherwise, per action:     | step -> step_wanted=1, stepping=1; resume it;      |
 * |                             |                            | no action -> stays parked (scheduler-locking)      |
 * | disconnect (server)         | world stopped first        | all flags 0, stopped_vcpu=-1, resume all; caps are |
 * |                             |                            | turned off by each vCPU as it wakes                |
 * |                             | held (--wait, no continue  | event flags 0, stopped_vcpu=-1; everyone stays     |
 * |                             | yet, or monitor hold on)   | suspended and parked for the next debugger         |
 * | VM over (any)               |                            | like disconnect, and hooks never park again        |
 */
#include "gdbstub/vcpu_events.h"

#include <sched.h>
#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define BP_VECTOR 3

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
	ev->ops = cfg->ops;
	ev->ctx = cfg->ctx;
	ev->nvcpus = cfg->nvcpus;
	ev->bps = cfg->bps;
	ev->watches = cfg->watches;
	ev->can_step = cfg->can_step;
	ev->step_cap = cfg->step_cap;
	for (unsigned v = 0; v < cfg->nvcpus; v++)
		ev->vcpu[v].suspended = cfg->hold_new_vcpus;
	ev->notify = cfg->notify;
	ev->notify_arg = cfg->notify_arg;
	ev->stopped_vcpu = -1;
	return 0;
}

void events_destroy(struct gdb_events *ev)
{
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
	return ev->stop_requested && ev->nwaiting == ev->nactive;
}

static void notify_if_stopped(struct gdb_events *ev)
{
	if (ev->stop_wanted && events_stop_complete_locked(ev) && ev->notify)
		ev->notify(ev->notify_arg);
}

static void mark_waiting(struct gdb_events *ev, struct vcpu_event_state *st)
{
	if (st->waiting)
		return;
	st->waiting = true;
	ev->nwaiting++;
	notify_if_stopped(ev);
}

static void unmark_waiting(struct gdb_events *ev, struct vcpu_event_state *st)
{
	if (!st->waiting)
		return;
	st->waiting = false;
	ev->nwaiting--;
}

long long gdb_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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
	verdict = cpus >= 2 && running >= 0 && running <= cpus;
	verdict_until = now + SPIN_VERDICT_NS;
	return verdict;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void gdb_lock_spinning(struct checked_mutex *lock, long long until)
{
	for (unsigned i = 1; !checked_mutex_trylock(lock); i++) {
		cpu_relax();
		if (i % 64 == 0 && gdb_monotonic_ns() >= until) {
			checked_mutex_lock(lock);
			return;
		}
	}
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
	for (unsigned i = 1; atomic_load_explicit(&ev->wake_gen,
						  memory_order_acquire) == gen;
	     i++) {
		cpu_relax();
		if (i % 256 == 0 && gdb_monotonic_ns() >= until)
			break;
	}
	/* the resuming server may still hold the lock for a moment */
	gdb_lock_spinning(&ev->lock, until);
}

static void wake_parked_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	atomic_fetch_add_explicit(&ev->wake_gen, 1, memory_order_release);
	pthread_cond_broadcast(&ev->wake);
}

/* The resumer (not the woken thread) unmarks waiting, so a stop can never
 * be judged complete while a resumed vCPU has not yet run. A vCPU resumed
 * and suspended again before it woke counts itself back in. */
static void park_locked(struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];

	if (ev->vm_over)
		return;
	mark_waiting(ev, st);
	bool spin = ev->stopped_vcpu == vcpu && gdb_spin_pays();
	while (st->suspended && !ev->vm_over) {
		if (spin) {
			spin_before_sleep_locked(ev);
			spin = false;
		} else {
			checked_cond_wait(&ev->wake, &ev->lock);
		}
		if (st->suspended && !st->waiting)
			mark_waiting(ev, st);
	}
	unmark_waiting(ev, st);
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
	bool want_bpt = !ev->vm_over && ev->bps && bp_table_count(ev->bps) > 0;
	/* A capability is recorded as set only when set_cap succeeded, so a
	 * failure is retried at the vCPU's next wake-up instead of being
	 * believed for the rest of the session. */
	if (want_bpt != st->bpt_exit_on &&
	    ops->set_cap(ev->ctx, vcpu, GDB_CAP_BPT_EXIT, want_bpt) == 0)
		st->bpt_exit_on = want_bpt;
	bool want_step = st->stepping && ev->can_step && !ev->vm_over;
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
	ev->stop_wanted = true;
	ev->stop_requested = true;
	if (interrupt)
		ev->interrupted = true;
	if (ev->ops->suspend)
		ev->ops->suspend(ev->ctx, -1);
	notify_if_stopped(ev);
}

/* A vCPU that reaches any hook runs guest code: count it even if its
 * thread never called gdbstub_vcpu_add, or stops would not wait for it. */
static void activate_locked(struct gdb_events *ev, int vcpu)
{
	lock_assert_held(&ev->lock);
	if (!ev->vcpu[vcpu].active) {
		ev->vcpu[vcpu].active = true;
		ev->nactive++;
	}
}

void events_vcpu_add(struct gdb_events *ev, int vcpu)
{
	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	if (!st->active) {
		activate_locked(ev, vcpu);
		if (st->suspended)
			park_locked(ev, vcpu);
	}
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

void events_vcpu_suspended(struct gdb_events *ev, int vcpu)
{
	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	activate_locked(ev, vcpu);
	if (st->suspended)
		park_locked(ev, vcpu);
	else if (ev->ops->resume)
		/* a kick we no longer want: clear it or vm_run spins */
		ev->ops->resume(ev->ctx, vcpu);
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

static bool watch_still_there(const struct gdb_events *ev,
			      const struct vcpu_event_state *st)
{
	return ev->watches &&
	       watch_table_covers(ev->watches, st->watch_type, st->watch_addr);
}

/* Parks until *event was reported (and cleared by a resume) or, for a
 * breakpoint or watch, it went away. */
static void report_loop_locked(struct gdb_events *ev, int vcpu, bool *event)
{
	lock_assert_held(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];

	for (;;) {
		if (ev->vm_over) {
			*event = false;
			return;
		}
		if (ev->stopped_vcpu == -1) {
			ev->stopped_vcpu = vcpu;
			events_stop_all_locked(ev, false);
		}
		st->suspended = true;
		park_locked(ev, vcpu);
		if (!*event)
			return;
		if ((event == &st->hit_swbreak &&
		     !bp_table_find(ev->bps, st->hit_gpa)) ||
		    (event == &st->hit_watch && !watch_still_there(ev, st))) {
			*event = false; /* stale: removed meanwhile */
			/* a step held back for the event is due now: without
			 * it the vCPU would run free and the step never end */
			st->stepping = st->step_wanted;
			return;
		}
	}
}

static bool rip_is_our_breakpoint(struct gdb_events *ev, int vcpu,
				  uint64_t *gpa)
{
	const struct gdb_target_ops *ops = ev->ops;
	uint8_t rip_bytes[8];
	uint64_t rip = 0;

	if (!ev->bps || bp_table_count(ev->bps) == 0 || !ops->read_reg ||
	    !ops->translate)
		return false;
	if (ops->read_reg(ev->ctx, vcpu, GDB_REG_RIP, rip_bytes))
		return false;
	for (int i = 7; i >= 0; i--)
		rip = rip << 8 | rip_bytes[i];
	if (ops->translate(ev->ctx, vcpu, rip, 1, gpa))
		return false;
	return bp_table_find(ev->bps, *gpa) != NULL;
}

/* The guest's own int3: hand it the #BP it would have had without us, with
 * the return RIP after the int3. */
static void reinject_guest_bp(struct gdb_events *ev, int vcpu, int inst_length)
{
	const struct gdb_target_ops *ops = ev->ops;
	int len;

	if (!ops->inject_exception)
		return;
	if (ops->get_entry_inst_length && ops->set_entry_inst_length &&
	    ops->get_entry_inst_length(ev->ctx, vcpu, &len) == 0) {
		/* intel: the entry instruction length moves RIP */
		ops->set_entry_inst_length(ev->ctx, vcpu, inst_length);
	} else if (ops->read_reg && ops->write_reg) {
		/* amd: the length register is ignored; advance RIP instead */
		uint8_t b[8];
		if (ops->read_reg(ev->ctx, vcpu, GDB_REG_RIP, b) == 0) {
			uint64_t rip = 0;
			for (int i = 7; i >= 0; i--)
				rip = rip << 8 | b[i];
			rip += (uint64_t)inst_length;
			for (int i = 0; i < 8; i++)
				b[i] = (uint8_t)(rip >> (8 * i));
			ops->write_reg(ev->ctx, vcpu, GDB_REG_RIP, b);
		}
	}
	ops->inject_exception(ev->ctx, vcpu, BP_VECTOR);
}

void events_vcpu_breakpoint(struct gdb_events *ev, int vcpu, int inst_length)
{
	uint64_t gpa;

	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	activate_locked(ev, vcpu);
	if (!ev->vm_over && rip_is_our_breakpoint(ev, vcpu, &gpa)) {
		st->hit_swbreak = true;
		st->hit_gpa = gpa;
		report_loop_locked(ev, vcpu, &st->hit_swbreak);
	} else {
		reinject_guest_bp(ev, vcpu, inst_length);
	}
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

void events_vcpu_step_trap(struct gdb_events *ev, int vcpu)
{
	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	activate_locked(ev, vcpu);
	if (st->stepping && !ev->vm_over) {
		st->stepping = false;
		st->stepped = true;
		sync_caps_locked(ev, vcpu);
		report_loop_locked(ev, vcpu, &st->stepped);
	}
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

void events_vcpu_watch(struct gdb_events *ev, int vcpu,
		       enum gdb_watch_type type, uint64_t addr)
{
	if (!valid_vcpu(ev, vcpu))
		return;
	checked_mutex_lock(&ev->lock);
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	activate_locked(ev, vcpu);
	if (!ev->vm_over) {
		/* a step is over: its instruction completed (a watchpoint
		 * traps after it) or a hardware breakpoint stopped it first */
		st->stepping = false;
		sync_caps_locked(ev, vcpu);
		st->hit_watch = true;
		st->watch_type = type;
		st->watch_addr = addr;
		report_loop_locked(ev, vcpu, &st->hit_watch);
	}
	sync_caps_locked(ev, vcpu);
	checked_mutex_unlock(&ev->lock);
}

void events_vcpu_crashed_locked(struct gdb_events *ev, int vcpu, int signal,
				const char *what)
{
	lock_assert_held(&ev->lock);
	if (!valid_vcpu(ev, vcpu) || ev->vm_over)
		return;
	struct vcpu_event_state *st = &ev->vcpu[vcpu];
	activate_locked(ev, vcpu);
	st->crashed = true;
	st->crash_signal = signal;
	snprintf(st->crash_what, sizeof(st->crash_what), "%s",
		 what ? what : "crashed");
	/* it will never step: its state must stay as at the crash */
	st->stepping = false;
	report_loop_locked(ev, vcpu, &st->crashed);
}

void events_take_stop_locked(struct gdb_events *ev, int fallback_vcpu,
			     struct gdb_stop_info *st)
{
	lock_assert_held(&ev->lock);
	ev->stop_wanted = false;
	if (ev->stopped_vcpu >= 0) {
		const struct vcpu_event_state *v = &ev->vcpu[ev->stopped_vcpu];
		st->vcpu = ev->stopped_vcpu;
		st->signal = v->crashed ? v->crash_signal : 5;
		st->swbreak = v->hit_swbreak;
		st->watch_type = v->hit_watch ? (int)v->watch_type : 0;
		st->watch_addr = v->watch_addr;
	} else {
		st->vcpu = valid_vcpu(ev, fallback_vcpu) ? fallback_vcpu : 0;
		st->signal = ev->interrupted ? 2 : 5;
		st->swbreak = false;
		st->watch_type = 0;
		st->watch_addr = 0;
	}
	ev->interrupted = false;
}

static bool has_pending_event(const struct vcpu_event_state *st)
{
	return st->hit_swbreak || st->hit_watch || st->stepped || st->crashed;
}

/* A vCPU to be resumed whose event is still pending, taking turns after
 * the one reported last; -1 if none. Pending hits on breakpoints removed
 * since are dropped here: the vCPU re-executes the original instruction. */
static int pending_to_report_locked(struct gdb_events *ev,
				    const enum gdb_resume_action *actions,
				    int last)
{
	lock_assert_held(&ev->lock);
	int found = -1;
	for (unsigned i = 0; i < ev->nvcpus; i++) {
		unsigned v = (unsigned)(last + 1 + (int)i) % ev->nvcpus;
		struct vcpu_event_state *st = &ev->vcpu[v];
		if (actions[v] == GDB_ACT_NONE)
			continue;
		if (st->hit_swbreak && !bp_table_find(ev->bps, st->hit_gpa))
			st->hit_swbreak = false;
		if (st->hit_watch && !watch_still_there(ev, st))
			st->hit_watch = false;
		if (found < 0 && has_pending_event(st))
			found = (int)v;
	}
	return found;
}

void events_resume_locked(struct gdb_events *ev,
			  const enum gdb_resume_action *actions)
{
	lock_assert_held(&ev->lock);
	int last = ev->stopped_vcpu;
	if (last >= 0) {
		/* the reported event is consumed */
		struct vcpu_event_state *st = &ev->vcpu[last];
		st->hit_swbreak = false;
		st->hit_watch = false;
		st->stepped = false;
		st->crashed = false;
		ev->stopped_vcpu = -1;
	}
	ev->interrupted = false;
	ev->stop_wanted = true;
	/* As gdbserver does: an event that is already there is reported at
	 * once, and nobody runs. Resuming would let the vCPU just reported
	 * run round its loop and hit again before the pending vCPU's thread
	 * woke to claim its turn, so its event could wait for ever. */
	int pending = pending_to_report_locked(ev, actions, last);
	if (pending >= 0) {
		ev->stopped_vcpu = pending;
		ev->stop_requested = true;
		notify_if_stopped(ev);
		return;
	}
	ev->stop_requested = false;
	for (unsigned v = 0; v < ev->nvcpus; v++) {
		struct vcpu_event_state *st = &ev->vcpu[v];
		if (actions[v] == GDB_ACT_NONE)
			continue;
		st->step_wanted = actions[v] == GDB_ACT_STEP && ev->can_step;
		st->stepping = st->step_wanted && !has_pending_event(st);
		st->suspended = false;
		unmark_waiting(ev, st);
		if (ev->ops->resume)
			ev->ops->resume(ev->ctx, (int)v);
	}
	wake_parked_locked(ev);
}

static void drop_events_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	for (unsigned v = 0; v < ev->nvcpus; v++) {
		struct vcpu_event_state *st = &ev->vcpu[v];
		st->stepping = false;
		st->step_wanted = false;
		st->stepped = false;
		st->hit_swbreak = false;
		st->hit_watch = false;
		st->crashed = false;
	}
	ev->stopped_vcpu = -1;
	ev->stop_wanted = false;
	ev->interrupted = false;
}

void events_reset_locked(struct gdb_events *ev)
{
	lock_assert_held(&ev->lock);
	drop_events_locked(ev);
	for (unsigned v = 0; v < ev->nvcpus; v++) {
		ev->vcpu[v].suspended = false;
		unmark_waiting(ev, &ev->vcpu[v]);
	}
	ev->stop_requested = false;
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
	ev->vm_over = true;
	events_reset_locked(ev);
}

enum vcpu_phase events_vcpu_phase_locked(const struct gdb_events *ev,
					 int vcpu)
{
	lock_assert_held(&ev->lock);
	if (!valid_vcpu(ev, vcpu) || !ev->vcpu[vcpu].active)
		return VCPU_NOT_STARTED;
	const struct vcpu_event_state *st = &ev->vcpu[vcpu];
	if (st->crash_what[0] && st->waiting)
		return VCPU_CRASHED;
	if (st->stepping)
		return VCPU_STEPPING;
	if (st->waiting)
		return VCPU_PARKED;
	return VCPU_RUNNING;
}
