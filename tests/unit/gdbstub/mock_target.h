/*
 * A target for the debug server with no VM behind it: registers and a paged
 * guest memory in arrays, a page table with holes, capabilities per CPU
 * personality, and a toy vCPU loop that runs on real threads and calls the
 * stub's hooks as hvgdb's run loop would.
 *
 * Toy instruction set (one byte each): 0xcc int3, 0xeb jump back to the
 * vCPU's loop start, 0xf4 count a "tick" then continue, 0xa2 "store" to the
 * byte at the vCPU's RBX (a write or access watch there fires after it),
 * anything else: nop. A hardware breakpoint fires before its instruction,
 * except right after it was reported (as RF).
 */
#ifndef HVGDB_TEST_MOCK_TARGET_H
#define HVGDB_TEST_MOCK_TARGET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvgdb/gdbstub.h"

#define MOCK_MAX_VCPUS 8
#define MOCK_PAGE 4096u
#define MOCK_MEM_PAGES 64 /* 256 KiB of guest RAM */
#define MOCK_MEM_SIZE (MOCK_MEM_PAGES * MOCK_PAGE)
/* Virtual pages [0, MOCK_VPAGES) and the alias MOCK_VBASE + same offsets
 * map through vmap[]; everything else is unmapped. */
#define MOCK_VPAGES 64
#define MOCK_VBASE 0xffff800000000000ULL

enum mock_personality { MOCK_INTEL, MOCK_AMD };

struct mock_vcpu {
	uint8_t regs[GDB_REG_COUNT][16];
	bool caps[4];
	bool kicked; /* vm_suspend_cpu flag */
	uint64_t loop_start;
	int entry_inst_length;
	int injected_vector; /* -1 none */
	uint64_t injected_rip;
	int injected_len;
	unsigned long executed;
	unsigned long bp_exits;
	unsigned long step_traps;
	unsigned long ticks;
	unsigned long steps_with_mask; /* steps taken while MASK_HWINTR on */
	/* the injected exception as the guest handler saw it */
	unsigned long deliveries;
	int delivered_vector;
	uint64_t delivered_return_rip;
	unsigned start_delay_ms; /* the thread calls add this late */
	uint64_t hw_reported; /* RIP of the breakpoint just reported, or -1 */
	unsigned long stores;
	bool waiting_for_sipi; /* reported by vcpu_status */
};

/* Watch slots: small, so that tests reach the limits. */
#define MOCK_HW_BREAKPOINTS 2
#define MOCK_WATCHPOINTS 3
#define MOCK_WATCH_MAX_LEN 64

struct mock_watch {
	enum gdb_watch_type type;
	uint64_t addr, len;
};

struct mock_target {
	enum mock_personality personality;
	unsigned nvcpus;
	bool no_x87; /* st0..st7 read -ENOENT */
	uint8_t mem[MOCK_MEM_SIZE];
	int64_t vmap[MOCK_VPAGES]; /* physical page or -1 */
	int64_t page_table_page; /* physical page holding page tables, -1 */
	struct mock_vcpu vcpu[MOCK_MAX_VCPUS];
	pthread_mutex_t lock; /* kicked flags and counters */
	pthread_cond_t kick;
	bool killed;
	struct mock_watch watches[MOCK_HW_BREAKPOINTS + MOCK_WATCHPOINTS];
	unsigned nwatches; /* guarded by lock */
	unsigned long set_cap_calls;
	unsigned long suspend_calls;
	unsigned long resume_calls;

	/* toy vCPU threads */
	struct gdbstub *stub; /* hooks target; may be NULL */
	/* or, for tests without a server, direct hook functions */
	void (*hook_add)(void *arg, int vcpu);
	void (*hook_suspended)(void *arg, int vcpu);
	void (*hook_breakpoint)(void *arg, int vcpu, int len);
	void (*hook_step)(void *arg, int vcpu);
	void (*hook_watch)(void *arg, int vcpu, enum gdb_watch_type type,
			   uint64_t addr);
	void *hook_arg;
	pthread_t threads[MOCK_MAX_VCPUS];
	struct mock_vcpu_arg {
		struct mock_target *mt;
		int vcpu;
	} args[MOCK_MAX_VCPUS];
	bool running;
	bool stop_threads;
	unsigned instr_delay_us; /* between toy instructions, not steps */
	/* all toy vCPUs pass add, then start their first instruction at
	 * the same moment (simultaneous breakpoint hits) */
	bool start_together;
	pthread_barrier_t start_barrier;
};

extern const struct gdb_target_ops mock_target_ops;

void mock_target_init(struct mock_target *mt, enum mock_personality p,
		      unsigned nvcpus);
/* Makes virtual page vpage unmapped. */
void mock_unmap(struct mock_target *mt, unsigned vpage);
uint64_t mock_get_reg64(struct mock_target *mt, int vcpu, int regno);
void mock_set_reg64(struct mock_target *mt, int vcpu, int regno, uint64_t v);

/* Toy vCPU threads: each starts at rip = loop_start (physical = virtual).
 * Threads call the hooks (stub or hook_* functions). */
void mock_start_vcpus(struct mock_target *mt);
void mock_stop_vcpus(struct mock_target *mt);

#endif
