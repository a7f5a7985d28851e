/*
 * Data watchpoints and instruction breakpoints on one Unicorn engine: the
 * debugger's (vm_watch_insert, reported as VM_EXITCODE_WATCH) and the
 * guest's own DR0-DR3 (raised as #DB in the guest). See tcg_watch.c for
 * how they work; the libunicorn interpositions are in tcg_watch_hooks.c
 * (data accesses) and tcg_guest_debug.c (the guest's debug registers).
 */
#ifndef HVGDB_TCG_WATCH_H
#define HVGDB_TCG_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "hvgdb/vmm.h"

struct tcg_vcpu;
struct vcpu;

/* The x86 debug registers count four breakpoints. */
#define TCG_GUEST_DR_SLOTS 4
#define TCG_NO_ADDR UINT64_MAX

/* One watched range of linear addresses [start, end). */
struct tcg_watch_range {
	uint64_t start, end;
	bool on_read, on_write;
	/* the debugger's: the watch as inserted (kind, addr); the guest's:
	 * its DR index, 0-3 */
	enum vm_watch_kind kind;
	uint64_t addr;
	int dr_index;
};

/* The hits of one instruction, collected while it runs. */
struct tcg_watch_hits {
	bool debugger;            /* the first debugger watch it hit: */
	enum vm_watch_kind kind;
	uint64_t addr, hit;
	unsigned guest_dr_bits;   /* B0-B3 of the guest's own breakpoints */
};

struct tcg_watch_state {
	/* The debugger's watches as this engine last took them. */
	unsigned synced_gen;
	bool synced_once;
	struct tcg_watch_range dbg[VM_MAX_WATCHPOINTS];
	unsigned ndbg;
	uint64_t exec[VM_MAX_HW_BREAKPOINTS];
	uc_hook exec_hook[VM_MAX_HW_BREAKPOINTS];
	unsigned nexec;
	/* The guest's enabled data breakpoints (DR7 types 01 and 11). */
	struct tcg_watch_range guest[TCG_GUEST_DR_SLOTS];
	unsigned nguest;

	/* An access hit a watch: the instruction is rolled back and runs
	 * again alone (replay), collecting the hits as it completes. */
	bool replay_pending;
	bool replaying;
	bool event_in_replay; /* it faulted: it did not complete */
	/* Hits that need no replay: accesses made while delivering an event
	 * (they complete with it; reported at the handler's first block). */
	bool hits_without_replay;
	struct tcg_watch_hits hits;
	/* The next check is the second half of a bogus pre-check QEMU makes
	 * for an unaligned store inside one page (tcg_watch_hooks.c). */
	bool skip_next_check;
	uint64_t skip_page;

	/* An EXEC watch stopped the engine before the instruction there. */
	bool exec_hit;
	uint64_t exec_hit_addr;
	/* Like RFLAGS.RF: the EXEC watch just reported lets its instruction
	 * run once when the vCPU goes on from there (TCG_NO_ADDR: none; a
	 * vCPU sent elsewhere forgets it). */
	uint64_t exec_skip;
	uint64_t entry_pc;

	/* The guest's own #DB to raise at the next entry (data breakpoint
	 * hit; DR6 is already set). */
	bool guest_db_pending;
	/* The guest's instruction breakpoints QEMU holds (pointer, linear
	 * address), and those added or removed since the last entry: their
	 * blocks are dropped before the next (tcg_guest_debug.c). */
	void *guest_bp[TCG_GUEST_DR_SLOTS];
	uint64_t guest_bp_pc[TCG_GUEST_DR_SLOTS];
	uint64_t bp_changed[2 * TCG_GUEST_DR_SLOTS];
	unsigned nbp_changed;
	bool bp_changed_overflow;
};

void tcg_watch_init(struct tcg_watch_state *w);
/* Before an entry, on the vCPU's thread: takes the debugger's watch
 * changes (flushes the engine's TLB when the data set changed, adds and
 * removes EXEC code hooks and drops the blocks translated without them),
 * and notes where the entry starts. */
void tcg_watch_sync(struct vcpu *v, uint64_t entry_pc);
/* Does any watch need the TLB's slow path for some page? */
bool tcg_watch_any_data(const struct tcg_watch_state *w);
/* Watch flags (TCG_WATCH_PAGE_*) for the linear page at page_start. */
#define TCG_WATCH_PAGE_READ 1
#define TCG_WATCH_PAGE_WRITE 2
int tcg_watch_page_flags(const struct tcg_watch_state *w, uint64_t page_start);
/* Records in *h the watches [addr, addr + len) hits for a read or write;
 * true if it hit any. */
bool tcg_watch_match(const struct tcg_watch_state *w, uint64_t addr,
		     uint64_t len, bool write, struct tcg_watch_hits *h);

/* After an entry (replayed: it was the replay of an instruction that hit
 * a watch): what the watches make of it. Returns true with *exit filled
 * when the debugger must hear of a hit; may queue the guest's #DB. */
bool tcg_watch_take_exit(struct vcpu *v, bool replayed, struct vm_exit *exit);

/* The guest's own breakpoints (tcg_guest_debug.c). */
int tcg_guest_debug_init(void);
/* Re-reads DR7 and DR0-DR3 into w->guest. */
void tcg_guest_debug_reload(struct tcg_vcpu *t);
/* Before an entry: drops the blocks of instruction breakpoints the guest
 * added or removed. */
void tcg_guest_debug_apply(struct vcpu *v);
/* uc_close of the engine, which must not flush its half-freed cache when
 * it drops the guest's breakpoints. */
void tcg_guest_debug_close(struct tcg_vcpu *t);
/* A debugger's write of the guest's DRn (n 0-3, 6, 7), with the effect
 * of the guest's own MOV to DRn, from any thread while the vCPU is not
 * running: 0, or -EINVAL (another n, or bits 63:32 of DR6/DR7 set: #GP
 * on a CPU). */
int tcg_guest_debug_set_dr(struct tcg_vcpu *t, int n, uint64_t val);
/* Sets DR6's B0-B3 to bits and asks for the guest's #DB. */
void tcg_guest_debug_raise(struct tcg_vcpu *t, unsigned bits);

/* UC_HOOK_CODE callback of every EXEC watch (tcg_watch.c). */
void tcg_watch_exec_hook(uc_engine *uc, uint64_t addr, uint32_t size,
			 void *user);

#endif
