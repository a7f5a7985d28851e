/*
 * The per-vCPU event state machine (DESIGN.md section 5, from the bhyve
 * review). vCPU threads enter through the hook functions and may be parked
 * on a condition variable; the server thread drives it with the *_locked
 * functions while holding ev->lock. See vcpu_events.c for the table.
 */
#ifndef HVGDB_GDBSTUB_VCPU_EVENTS_H
#define HVGDB_GDBSTUB_VCPU_EVENTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "gdbstub/breakpoints.h"
#include "gdbstub/watchpoints.h"
#include "gdbstub/session.h"
#include "hvgdb/gdbstub.h"
#include "sync/checked_mutex.h"

struct vcpu_event_state {
	bool active;      /* its thread called gdbstub_vcpu_add */
	bool suspended;   /* the debugger wants it stopped (also before the
			     vCPU's thread started: it then parks in add) */
	bool waiting;     /* parked in a hook, counted in nwaiting */
	bool stepping;    /* to execute one instruction, then report */
	bool step_wanted; /* the last resume asked this vCPU to step */
	bool stepped;     /* step finished, event not yet reported */
	bool hit_swbreak; /* hit one of our breakpoints, not yet reported */
	uint64_t hit_gpa;
	bool hit_watch;   /* a Z1-Z4 watch fired, not yet reported */
	enum gdb_watch_type watch_type;
	uint64_t watch_addr;
	bool crashed;     /* the guest died here, not yet reported */
	int crash_signal;
	/* Why it died, kept for `monitor info vcpus` ("" if it did not). */
	char crash_what[96];
	/* capabilities as this vCPU's own thread last set them */
	bool bpt_exit_on;
	bool step_on;
};

enum vcpu_phase {
	VCPU_NOT_STARTED,
	VCPU_RUNNING,
	VCPU_STEPPING,
	VCPU_PARKED,
	VCPU_CRASHED, /* parked after a guest crash */
};

struct gdb_events {
	struct checked_mutex lock; /* the stub's one lock: also guards the
				     session (rank stub) */
	pthread_cond_t wake;  /* parked vCPUs wait here */
	const struct gdb_target_ops *ops;
	void *ctx;
	unsigned nvcpus;
	struct vcpu_event_state *vcpu;
	unsigned nactive;
	unsigned nwaiting;
	int stopped_vcpu;      /* whose event is being reported, or -1 */
	bool stop_wanted;      /* tell the server once every vCPU is parked */
	bool stop_requested;   /* something stopped the world since the last
				  resume (an event, ^C, attach, detach) */
	bool interrupted;      /* Ctrl-C asked for the stop in progress */
	bool vm_over;          /* the VM ended: hooks never park again */
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

/* How long the server (after a resume) and the vCPU whose event stopped the
 * VM poll before they sleep: a debugger script's next round trip usually
 * comes within it, and a host thread wake-up costs ~60-100 us here. */
#define GDB_SPIN_NS 1500000LL
/* CLOCK_MONOTONIC in ns, for those spin bounds. */
long long gdb_monotonic_ns(void);
/* Whether the calling thread may spin at all: only with two or more usable
 * host CPUs can the thread it waits for run meanwhile. */
bool gdb_spin_pays(void);
/* Takes `lock` without sleeping until `until` (then as usual): within a spin
 * window a holder keeps it for a microsecond or two, and a futex sleep
 * would cost the very wake-up the spin is there to avoid. */
void gdb_lock_spinning(struct checked_mutex *lock, long long until);

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

/* Server side, ev->lock held. */
void events_stop_all_locked(struct gdb_events *ev, bool interrupt);
bool events_stop_complete_locked(const struct gdb_events *ev);
/* After a completed stop: what to report. fallback_vcpu names the thread
 * when no vCPU has an event of its own (attach, Ctrl-C). */
void events_take_stop_locked(struct gdb_events *ev, int fallback_vcpu,
			     struct gdb_stop_info *st);
void events_resume_locked(struct gdb_events *ev,
			  const enum gdb_resume_action *actions);
/* Disconnect: pending events and step requests dropped, all resumed. */
void events_reset_locked(struct gdb_events *ev);
/* Disconnect while the guest is held (--wait): pending events and step
 * requests dropped, every vCPU stays parked for the next debugger. */
void events_reset_held_locked(struct gdb_events *ev);
/* The VM ended: release everyone, never park again. */
void events_vm_over_locked(struct gdb_events *ev);
enum vcpu_phase events_vcpu_phase_locked(const struct gdb_events *ev,
					 int vcpu);

#endif
