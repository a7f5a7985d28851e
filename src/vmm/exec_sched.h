/*
 * Who executes guest code, and the preemption thread.
 *
 * Parallel (the default with more than one vCPU; vm_config.exec_mode,
 * --exec, else HVGDB_EXEC in the environment, chooses otherwise): every
 * vCPU runs its own engine on its own thread at once. Guest atomics stay
 * atomic across engines (tcg_atomics.c); what needs the world stopped (a
 * locked access QEMU cannot make atomic, a vCPU that translates serially
 * for data watches) takes the execution gate exclusively: every other vCPU
 * is kicked out of its engine and waits at the gate until it is done
 * (exec_parallel.c).
 *
 * Serial (the default with one vCPU, where the parallel gate would only
 * cost; --exec serial or HVGDB_EXEC=serial for more): one vCPU executes at
 * a time, under a global execution lock. The lock goes to the waiting
 * vCPU that ran least recently (round-robin when all are busy; a vCPU
 * woken from hlt goes first); the holder runs for a time slice. Right after
 * the debugger resumes vCPUs the lock waits for the least recently run of
 * them until its thread asks or says it will not come: otherwise whichever
 * host thread wakes first runs, hits the breakpoint again within
 * microseconds, and the others never move (seen: one of 4 vCPUs never
 * reached a breakpoint in 12 continues). A new holder
 * moves to the host CPU the last holder ran on: guest execution then stays
 * on one host core and its caches (measured: cpu-bench on 4 vCPUs lost 10%
 * more to its 1-vCPU run when hand-offs also moved between the two cores of
 * this machine). The move is not a pinning: the kernel may move the thread
 * again.
 *
 * In both modes one thread per VM is a late safety net for LAPIC
 * deadlines and repeats kicks (the engines poll their deadlines and a
 * kick flag themselves); in serial mode it also ends slices others wait
 * for. uc_emu_start's own timeout costs ~16 ms per call and is never used.
 */
#ifndef HVGDB_EXEC_SCHED_H
#define HVGDB_EXEC_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sync/checked_mutex.h"
#include "sync/lock_token.h"

struct vm;
struct vcpu;

/* Long enough that a memory-bound vCPU does not spend its slice reloading
 * the host caches (4 ms slices cost a 1 MiB-per-vCPU workload 40% on 4
 * vCPUs). A waiting vCPU with an interrupt due (its timer, an IPI) cuts
 * the holder's slice short, but never below the minimum: at 1 ms a vCPU
 * far from a breakpoint never reached it under ASan while the others,
 * with 100 Hz timers due, kept cutting its turns (e2e.break_all_vcpus);
 * 4 ms is the slice every vCPU had before. */
#define SCHED_SLICE_NS 20000000ULL
#define SCHED_MIN_SLICE_NS 4000000ULL
/* How long a vCPU that gave its slice up (PAUSE-loop exiting) waits for
 * a vCPU that is on its way back to the lock. */
#define SCHED_YIELD_WAIT_NS 1000000ULL
/* The longest engine entry, enforced by the backend itself: it re-tunes
 * itself between entries (tcg_tlb_sizing.c), so even a lone busy vCPU
 * leaves now and then. */
#define SCHED_MAX_ENTRY_NS 10000000ULL
/* How long at most a resume keeps the lock for a vCPU whose thread has not
 * come back yet. The gate normally ends sooner: when every resumed vCPU has
 * asked for the lock, or said it will not come (hlt, suspended again, an
 * exit to report). A host thread wake-up is ~50-100 us when idle but took
 * over 2 ms under load, the old bound: a vCPU then never ran across 12
 * continues, as the others hit the breakpoint first every time. The bound
 * only guards against a resumed thread that never comes. */
#define SCHED_RESUME_GATE_NS 100000000ULL
/* A vCPU waiting to single-step goes first, and cuts the holder's turn to
 * this: with gdb's default scheduler locking (off, or "replay") every
 * `stepi` resumes the other vCPUs too, and the step used to wait behind
 * their turns (43 ms per step with 4 vCPUs, QEMU: ~4 ms). The others still
 * run up to this long per step, so a stepped spin loop can see the lock
 * holder on another vCPU make progress. */
#define SCHED_STEP_TURN_NS 500000ULL
/* Parallel: after a debugger resume the vCPUs whose last debug event is
 * the oldest run first, alone, until each has used this much CPU time of
 * its own thread or will not come (exec_head_start.c); at most
 * SCHED_HEAD_START_BOUND_NS of guest time after the resume, for a thread
 * the host never runs. 2 ms of CPU is thousands of guest blocks: a vCPU
 * near a breakpoint reaches it, one that spins on the others gives up
 * soon. */
#define SCHED_HEAD_START_CPU_NS 2000000ULL
#define SCHED_HEAD_START_BOUND_NS 500000000ULL

struct exec_sched {
	struct checked_mutex mtx;
	pthread_cond_t turn;    /* vCPUs waiting for the lock or the gate */
	pthread_cond_t wakeup;  /* preemption thread */
	bool parallel;          /* vCPUs execute at once (exec_parallel.c) */
	unsigned host_cpus;     /* host CPUs this process may run on */
	/* Parallel: vCPUs past the gate (between acquire and release), and
	 * the exclusive holder and waiters. `exclusive_wanted` is also read
	 * without the lock, as a hint. */
	unsigned inside;
	bool exclusive;
	struct vcpu *exclusive_owner;
	atomic_uint exclusive_wanted;
	/* Serial: one holder. */
	bool held;
	/* Read without the lock by sched_others_due. */
	atomic_uint waiters;
	atomic_uint returning;  /* vCPUs with sched_returning set */
	unsigned yielders;      /* in sched_let_others_run */
	pthread_cond_t arrival; /* a vCPU asked for the lock (yielders) */
	uint64_t gate_end;      /* resume gate open until (guest ns) */
	uint64_t gate_ns;       /* its bound: SCHED_RESUME_GATE_NS (tests
				   may raise it) */
	/* Parallel: the head start after a resume (exec_head_start.c).
	 * event_clock stamps debug events; the group is the resumed vCPUs
	 * with sched_last_event == head_min_event. The two bounds are
	 * SCHED_HEAD_START_* (tests may change them). */
	uint64_t event_clock;
	bool head_active;
	unsigned head_members;
	uint64_t head_min_event;
	uint64_t head_end;      /* guest ns */
	uint64_t head_start_cpu_ns;
	uint64_t head_bound_ns;
	struct vcpu *running;   /* serial: inside uc_emu_start, or NULL */
	uint64_t epoch;         /* engine entries so far: the LRU clock */
	uint64_t slice_end;
	uint64_t acquired_at;   /* the holder's slice began (guest ns) */
	int last_cpu;           /* host CPU of the last holder, or -1 */
	bool kick_requested;    /* stop the running vCPU now */
	bool kicked;            /* the current entry was stopped by us */
	bool deadline_polled;   /* the engine checks its LAPIC deadline */
	uint64_t stress_kick_ns; /* HVGDB_STRESS_KICK_US (stress_kick.h), 0: off */
	uint64_t stress_kicked_at;
	bool quit;
	bool thread_started;
	pthread_t thread;
};

/* parallel: vCPUs execute at once, else one at a time. */
int sched_init(struct vm *vm, bool parallel);
void sched_fini(struct vm *vm);
/* Before v executes guest code. Parallel: waits only while the world is
 * stopped for someone (exclusive) or the resume gate holds v for the
 * vCPUs the debugger resumed with it. Serial: the execution lock. The
 * holder's time slice starts at acquire. step: v asks for one
 * instruction (SCHED_STEP_TURN_NS). interrupt_due: v has an interrupt to
 * take (it just woke from hlt for one), so the holder's slice ends early,
 * as when an IPI reaches a waiting vCPU (sched_kick). */
void sched_acquire(struct vm *vm, struct vcpu *v, bool step,
		   bool interrupt_due);
/* v stays runnable and will ask again (it is "returning"). */
void sched_release(struct vm *vm, struct vcpu *v);
/* After a release: v spins on something only another vCPU can do; wait
 * briefly until one that is on its way back asks for the lock. */
void sched_let_others_run(struct vm *vm, struct vcpu *v);
/* The debugger resumed v: if it ran less recently than whoever asks
 * first, hold the lock for it until it asks or will not come (bounded by
 * SCHED_RESUME_GATE_NS). */
void sched_vcpu_resumed(struct vm *vm, struct vcpu *v);
/* v stopped for a debug event (breakpoint, watchpoint, step) the
 * debugger is told about: it goes last in the next head start. */
void sched_vcpu_reported(struct vm *vm, struct vcpu *v);
/* v will not ask for the lock soon (it sleeps in hlt, stays stopped, or
 * was suspended again). */
void sched_vcpu_not_coming(struct vm *vm, struct vcpu *v);
/* Another vCPU waits for the lock or will ask soon (a hint: read without
 * the lock). */
bool sched_others_due(struct vm *vm);
/* Serial: someone waits and the holder's slice is over. Parallel:
 * someone waits to run alone. */
bool sched_should_yield(struct vm *vm);
/* Bracket one engine entry; leave returns whether we stopped it. The
 * backend ends every entry within SCHED_MAX_ENTRY_NS itself;
 * deadline_polled: it also stops the engine at the LAPIC deadline, so
 * this thread does not need to wake up for it. */
void sched_enter_engine(struct vm *vm, struct vcpu *v, bool deadline_polled);
bool sched_leave_engine(struct vm *vm, struct vcpu *v);
/* Between acquire and release: v runs alone from begin to end (every
 * other vCPU out of guest code meanwhile). Nothing in serial mode, where
 * v already does. */
void sched_exclusive_begin(struct vm *vm, struct vcpu *v);
void sched_exclusive_end(struct vm *vm, struct vcpu *v);
/* Stop v's engine soon if it is executing (any thread). */
void sched_kick(struct vm *vm, struct vcpu *v);
/* The running vCPU's LAPIC deadline may have moved. */
void sched_deadline_changed(struct vm *vm);

#endif
