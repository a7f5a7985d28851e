/*
 * The per-vCPU event state machine (from the bhyve review). vCPU threads
 * enter through the hook functions and may be parked on a condition
 * variable; the server thread drives it with the *_locked functions while
 * holding ev->lock (each checks that in debug builds). Each vCPU's state is
 * one enum (vcpu_state.h); vcpu_events.c has the table of its edges.
 */
#ifndef HVGDB_GDBSTUB_VCPU_EVENTS_H
#define HVGDB_GDBSTUB_VCPU_EVENTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "gdbstub/breakpoints.h"
#include "gdbstub/session.h"
#include "gdbstub/spin_wait.h"
#include "gdbstub/vcpu_state.h"
#include "gdbstub/watchpoints.h"
#include "gdbstub/world_state.h"
#include "hvgdb/gdbstub.h"
#include "sync/checked_mutex.h"

struct vcpu_event_state {
	/* Changed only by events_set_state_locked. */
	enum vcpu_dbg_state state;
	/* The debugger's order to stop: a running vCPU parks at its next
	 * hook and stays parked until a resume clears it. Set for vCPUs
	 * whose thread has not started too (they park when they come). */
	bool suspended;
	uint64_t hit_gpa; /* HIT_BREAKPOINT: the breakpoint's address */
	enum gdb_watch_type watch_type; /* HIT_WATCH: which fired, where */
	uint64_t watch_addr;
	/* STEPPING with start < end (vCont;r): a step that ends with RIP
	 * in [start, end) is not reported; the vCPU steps on. */
	struct gdb_step_range range;
	int crash_signal; /* CRASHED: reported with this signal */
	/* Why it died, kept for `monitor info vcpus` ("" if it did not). */
	char crash_what[96];
	/* Non-stop: the debugger stopped this vCPU alone (vCont;t,
	 * vCtrlC). At its next hook it parks INTERRUPTED, to be reported
	 * with interrupt_signal. */
	bool interrupt_wanted;
	int interrupt_signal;
	/* Non-stop: parked only for a pause of every vCPU around a memory
	 * write (events_pause_all_locked); not a stop the debugger knows
	 * of, and events_unpause_all_locked lets it go on. */
	bool paused;
	/* capabilities as this vCPU's own thread last set them */
	bool bpt_exit_on;
	bool step_on;
};

struct gdb_events {
	struct checked_mutex lock; /* the stub's one lock: also guards the
				     session (rank stub) */
	pthread_cond_t wake;  /* parked vCPUs wait here */
	const struct gdb_target_ops *ops;
	void *ctx;
	unsigned nvcpus;
	struct vcpu_event_state *vcpu;
	unsigned nactive;  /* vCPUs not NOT_STARTED */
	unsigned nwaiting; /* vCPUs in a parked state */
	int stopped_vcpu;      /* whose event is being reported, or -1 */
	/* Where the stop of every vCPU together stands (world_state.h):
	 * changed only by events_set_world_locked. */
	enum world_state world;
	/* Non-stop mode (QNonStop:1): an event parks only its own vCPU and
	 * the server is told (notify) to report it; nobody else stops. */
	bool non_stop;
	/* A pause of every vCPU is waiting in events_pause_all_locked. */
	bool pausing;
	pthread_cond_t parked; /* broadcast when a vCPU parks while pausing */
	/* Bumped at every wake-up of parked vCPUs; read without the lock
	 * by a vCPU spinning before it sleeps (park_locked). */
	atomic_uint wake_gen;
	const struct bp_table *bps;
	const struct watch_table *watches;
	bool can_step;
	enum gdb_cap step_cap;
	/* Called (lock held) when a wanted stop completes or the VM ends. */
	void (*notify)(void *arg);
	void *notify_arg;
	/* State changes made, and edges refused as illegal (a bug: debug
	 * builds abort on the first). For `monitor info stats`. */
	unsigned long transitions;
	unsigned long illegal_transitions;
	/* The same count for the server's connection state (conn_state.h),
	 * kept here because the session sees the event machine, not the
	 * server. */
	unsigned long illegal_conn_transitions;
	/* Range stepping: resumes with a range, and the instructions
	 * stepped inside ranges without a report to the debugger. */
	unsigned long range_resumes;
	unsigned long range_steps;
};

struct gdb_events_config {
	const struct gdb_target_ops *ops;
	void *ctx;
	unsigned nvcpus;
	const struct bp_table *bps;
	const struct watch_table *watches;
	bool can_step;
	enum gdb_cap step_cap;
	bool hold_new_vcpus;
	void (*notify)(void *arg);
	void *notify_arg;
};

int events_init(struct gdb_events *ev, const struct gdb_events_config *cfg);
void events_destroy(struct gdb_events *ev);

/* Hooks, called by vCPU threads; they take ev->lock. */
void events_vcpu_add(struct gdb_events *ev, int vcpu);
void events_vcpu_suspended(struct gdb_events *ev, int vcpu);
void events_vcpu_breakpoint(struct gdb_events *ev, int vcpu, int inst_length);
void events_vcpu_step_trap(struct gdb_events *ev, int vcpu);
void events_vcpu_watch(struct gdb_events *ev, int vcpu,
		       enum gdb_watch_type type, uint64_t addr);
/* ev->lock held (the caller checked that a debugger is attached): report
 * the crash and park until it was reported and this vCPU resumed, or the
 * session or VM ended. */
void events_vcpu_crashed_locked(struct gdb_events *ev, int vcpu, int signal,
				const char *what);

/* The world's state (world_state.h), ev->lock held. The only writer;
 * an edge world_state.c does not list is refused and counted (debug
 * builds abort). */
bool events_set_world_locked(struct gdb_events *ev, enum world_state to);
/* Tell the server once every active vCPU is parked. */
static inline bool events_stop_wanted(const struct gdb_events *ev)
{
	return world_state_stop_wanted(ev->world);
}
/* ^C asked for the stop in progress. */
static inline bool events_interrupted(const struct gdb_events *ev)
{
	return ev->world == WORLD_INTERRUPTING;
}
/* The VM ended: hooks never park again. */
static inline bool events_vm_over(const struct gdb_events *ev)
{
	return ev->world == WORLD_OVER;
}
/* The server saw the complete stop it wanted without taking it through
 * events_take_stop_locked (detach, or no debugger to report to). */
void events_stop_seen_locked(struct gdb_events *ev);

/* Server side, ev->lock held. */
void events_stop_all_locked(struct gdb_events *ev, bool interrupt);
bool events_stop_complete_locked(const struct gdb_events *ev);
/* After a completed stop: what to report. fallback_vcpu names the thread
 * when no vCPU has an event of its own (attach, Ctrl-C). */
void events_take_stop_locked(struct gdb_events *ev, int fallback_vcpu,
			     struct gdb_stop_info *st);
/* ranges (may be NULL: no range anywhere) goes with actions: a vCPU to
 * step with a non-empty range steps on while RIP stays inside it. */
void events_resume_locked(struct gdb_events *ev,
			  const enum gdb_resume_action *actions,
			  const struct gdb_step_range *ranges);
/* ---- Non-stop mode (server side, ev->lock held) ----------------------- */

/* Switched only while every vCPU is parked. */
void events_set_non_stop_locked(struct gdb_events *ev, bool on);
/* Stopped as the debugger sees it: parked (or held before its thread
 * came), and not only for a pause. */
bool events_vcpu_stopped_locked(const struct gdb_events *ev, int vcpu);
/* vCont;t or vCtrlC: vcpu parks INTERRUPTED at its next hook and is
 * reported with `signal`. Nothing happens to a vCPU already stopped. */
void events_stop_vcpu_locked(struct gdb_events *ev, int vcpu, int signal);
/* vCont;c/s/r for one stopped vCPU: its event is consumed, it runs or
 * steps (range: as in events_resume_locked, may be NULL); the others are
 * left as they are. */
void events_resume_vcpu_locked(struct gdb_events *ev, int vcpu,
			       enum gdb_resume_action action,
			       const struct gdb_step_range *range);
/* Parks every running vCPU for a moment (a breakpoint insertion or memory
 * write must not race running engines: each drains the code-write queue
 * when it next enters). Waits up to timeout_ns for them to park. 0;
 * -ETIMEDOUT (nothing left paused) or -ESHUTDOWN (the VM ended). */
int events_pause_all_locked(struct gdb_events *ev, long long timeout_ns);
/* The vCPUs the pause parked run on (or step on) as before it. */
void events_unpause_all_locked(struct gdb_events *ev);
/* What vcpu's stop is, for a stop reply; no side effect. */
void events_stop_info_locked(const struct gdb_events *ev, int vcpu,
			     struct gdb_stop_info *st);

/* Disconnect: pending events and step requests dropped, all resumed. */
void events_reset_locked(struct gdb_events *ev);
/* Disconnect while the guest is held (--wait): pending events and step
 * requests dropped, every vCPU stays parked for the next debugger. */
void events_reset_held_locked(struct gdb_events *ev);
/* The VM ended: release everyone, never park again. */
void events_vm_over_locked(struct gdb_events *ev);
/* The one place a vCPU's state changes: keeps nactive and nwaiting and
 * tells a waiting server when the stop completes. An edge vcpu_state.c
 * does not list is refused (false): debug builds abort on it, release
 * builds count it in illegal_transitions and log it. */
bool events_set_state_locked(struct gdb_events *ev, int vcpu,
			     enum vcpu_dbg_state to);
/* NOT_STARTED for an unknown vCPU. */
enum vcpu_dbg_state events_vcpu_state_locked(const struct gdb_events *ev,
					     int vcpu);

#endif
