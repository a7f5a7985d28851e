#ifndef HVGDB_TCG_INTERNAL_H
#define HVGDB_TCG_INTERNAL_H

#include <unicorn/unicorn.h>

#include "vmm/tcg/tcg_cpu_internals.h"
#include "vmm/tcg/tcg_watch.h"
#include "vmm/vm_internal.h"

/* Why a hook stopped the engine: reported after uc_emu_start returns. */
enum tcg_hook_stop {
	TCG_STOP_NONE,
	TCG_STOP_REEVAL, /* LAPIC state changed: re-check interrupts */
	TCG_STOP_EXIT,   /* hook_exit holds an exit for the caller */
	TCG_STOP_SHUTDOWN,
};

struct tcg_mmio_ctx {
	struct vcpu *v;
	const struct mmio_range *range; /* NULL: unknown MMIO catch-all */
	uint64_t base;
};

enum tcg_inject_source { TCG_INJECT_EXCEPTION, TCG_INJECT_NMI,
			 TCG_INJECT_EXTINT };

struct tcg_injection {
	bool pending;   /* to be raised at the entry's first block */
	bool raised;    /* raised; the INTR hook has yet to deliver it */
	bool unraised;  /* the entry ended first: put it back */
	enum tcg_inject_source source;
	int vector;
	bool soft;      /* int3/into re-injection: returns past the insn */
	uint32_t errcode;
	unsigned next_insn_len;
	uint64_t rip;   /* where the entry starts (linear) */
	struct pending_exception exc; /* TCG_INJECT_EXCEPTION, to requeue */
	bool guest_db;  /* the guest's data-breakpoint #DB (tcg_watch.h) */
};

#define TCG_EXITQ_LEN 8
/* A clock read costs ~30-200 ns here, a block ~10-30 ns. */
#define TCG_POLL_BLOCKS 64

/* The engine's translation-code buffer (tcg_code_buffer.c). */
struct TCGContext;
struct tcg_code_buffer {
	struct TCGContext *ctx; /* learnt from its first translation */
	size_t capacity;
	uintptr_t start;	   /* host address of its first block */
	uint64_t blocks;	   /* translated since the last flush */
	uint64_t dropped_at_flush; /* QEMU's invalidation count then */
	bool stop_wanted;	   /* nearly full: flush before going on */
	uint64_t flushes;
	/* Flushes after which tcg_code_buffer.c gave the pages back itself
	 * (the memset redirect did not drop them). */
	uint64_t given_back;
};

struct tcg_vcpu {
	uc_engine *uc;
	struct vcpu *vcpu;
	bool devices_mapped;
	struct tcg_mmio_ctx mmio_ctx[VM_MAX_MMIO + 2];
	unsigned nmmio_ctx;

	/* Leave the engine at the next block boundary. Unicorn 2.0.1 leaves
	 * RIP stale (re-executing instructions) when uc_emu_stop lands in
	 * the middle of a block, so every stop except from UC_HOOK_INTR goes
	 * through this flag and a UC_HOOK_BLOCK check. */
	atomic_bool stop_flag;
	bool block_stopped; /* this entry ended by the stop_flag check */
	/* The LAPIC timer deadline (guest ns, UINT64_MAX: none), checked
	 * against the clock every TCG_POLL_BLOCKS blocks. A host thread
	 * woken at the deadline is late by tens of microseconds or more on a
	 * busy host, which capped a 20 kHz timer at ~11k ticks/s; a clock
	 * read every few dozen blocks is exact to a microsecond or two. */
	uint64_t poll_deadline;
	unsigned poll_countdown;
	uint64_t entry_end; /* this entry ends by then (SCHED_MAX_ENTRY_NS) */
	uint64_t blocks_run; /* blocks started in this entry */
	/* This entry runs one instruction: a code hook on the bytes after
	 * it and the next block's start both end it (see tcg_run.c). */
	bool single_instruction;
	uc_hook step_hook;
	bool step_hook_armed;
	bool step_hook_fired; /* the step ended inside its own block */
	/* Leave after the first block: an interrupt waits behind an STI
	 * shadow (stops are ignored inside it, see tcg_run.c). */
	bool stop_after_first_block;
	/* An interrupt waits for RFLAGS.IF: leave at the first block that
	 * starts with it set. */
	bool irq_waits_for_if;
	enum tcg_hook_stop hook_stop;
	/* PAUSEs counted in this entry, and whether they ended it for a
	 * waiting vCPU (tcg_pause.c). */
	unsigned pauses;
	bool pause_yield;
	/* Atomics (tcg_atomics.c): this engine translates without
	 * CF_PARALLEL (it has data watches); a locked access QEMU could not
	 * do atomically stopped the engine and runs alone next; how many
	 * did. */
	bool translate_serial;
	bool executing; /* inside uc_emu_start */
	bool atomic_step_pending;
	uint64_t atomic_steps;
	/* Informational exits (unclaimed port/MMIO) raised by hooks, reported
	 * one per vm_run: a block can hold several accesses. */
	struct vm_exit exitq[TCG_EXITQ_LEN];
	unsigned exitq_head, exitq_len;
	bool intr_seen; /* a guest int3 stopped the engine for the VMM */
	uint32_t intr_no;
	/* The event this entry raises before its first instruction
	 * (tcg_run.c): QEMU's own code delivers it (tcg_cpu_internals.h). */
	struct tcg_injection inject;
	struct tcg_cpu_ptrs cpu; /* this engine's QEMU CPU */
	/* Watchpoints, hardware breakpoints, the guest's debug registers
	 * (tcg_watch.h). */
	struct tcg_watch_state watch;
	/* Bitmap: guest pages this engine holds translated code from
	 * (tcg_code_coherence.c). */
	uint64_t *code_pages;
	/* Another engine started holding code from some page: mark every
	 * writable TLB entry for RAM "not dirty" before the next entry. */
	atomic_bool check_all_stores;
	struct tcg_code_buffer code;

	uint64_t tlb_sized_at; /* guest ns of the last TLB re-sizing flush */
	uint64_t tlb_period;   /* ns until the next one */
	int64_t tsc_offset; /* guest TSC - VM clock ns (tcg_msr.c) */
	uint64_t amd_hwcr;   /* AMD HWCR and NB_CFG (tcg_msr.c): what */
	uint64_t amd_nb_cfg; /* Linux reads and writes on AMD CPUs */
	bool in_hlt;       /* executed hlt, sleeping until an event */
	bool nmi_blocked;  /* an NMI handler is running (approximation) */
	uint64_t nmi_stack_top;
};

static inline struct tcg_vcpu *tcg_of(struct vcpu *v)
{
	return v->backend;
}

int tcg_vcpu_init(struct vcpu *v, char *err, size_t errlen);
/* 0, or -1 if libunicorn has no PAUSE helper to wrap (tcg_pause.c). */
int tcg_pause_exiting_init(void);
/* The engine this thread is running (inside tcg_run), or NULL. */
struct tcg_vcpu *tcg_running_engine(void);

/* CPUID answers from hvgdb's table (tcg_cpuid.c): 0 or -EINVAL. */
int tcg_cpuid_init(struct vcpu *v);
/* MSRs and TSC as on hardware (tcg_msr.c): 0, or -ENOSYS if libunicorn
 * lacks the helpers it wraps. */
int tcg_msr_init(struct vcpu *v);
/* MOV to CR3 with reserved bits raises #GP (tcg_cr_write.c): 0, or -1 if
 * libunicorn lacks the helper it wraps. */
int tcg_cr_write_init(void);
void tcg_vcpu_fini(struct vcpu *v);
void tcg_kick(struct vcpu *v);
/* The software TLB is flushed (and so re-sized) at backing-off intervals;
 * a debugger stop starts over (see tcg_tlb_sizing.c). */
void tcg_tlb_sizing_init(struct tcg_vcpu *t);
void tcg_tlb_sizing_restart(struct tcg_vcpu *t);
void tcg_keep_tlb_sized(struct tcg_vcpu *t, uint64_t now);
void tcg_disarm_step_hook(struct tcg_vcpu *t);
/* What the engine polls: its LAPIC deadline or the end of the entry. */
uint64_t tcg_poll_deadline(struct vcpu *v);
/* After the guest wrote its LAPIC (MMIO or MSR, from a hook inside the
 * engine): poll the timer's new deadline, and leave the engine if an
 * interrupt became deliverable. */
void tcg_lapic_written(struct vcpu *v);
void tcg_hook_step_code(uc_engine *uc, uint64_t addr, uint32_t size,
			void *user);
/* Map LAPIC, registered and catch-all MMIO before the first entry. */
int tcg_map_devices(struct vcpu *v);

int tcg_get_reg(struct vcpu *v, enum vm_reg_name r, uint64_t *val);
/* EFER.LMA: the vCPU runs in long mode (64-bit or compatibility code). */
bool tcg_in_long_mode(uc_engine *uc);
/* CS's base: RIP + this is the linear address of the next instruction
 * (what Unicorn's hooks see), 0 in long mode. */
uint64_t tcg_code_base(struct vcpu *v);
int tcg_set_reg(struct vcpu *v, enum vm_reg_name r, uint64_t val);
int tcg_get_desc(struct vcpu *v, enum vm_reg_name r, struct seg_desc *d);
int tcg_set_desc(struct vcpu *v, enum vm_reg_name r, const struct seg_desc *d);
int tcg_get_fpregs(struct vcpu *v, struct vm_fpregs *fp);
int tcg_set_fpregs(struct vcpu *v, const struct vm_fpregs *fp);
/* Guest-linear memory with supervisor rights through the guest's paging. */
int tcg_read_linear(struct vcpu *v, uint64_t gla, void *buf, size_t len);
int tcg_write_linear(struct vcpu *v, uint64_t gla, const void *buf,
		     size_t len);

int tcg_run(struct vcpu *v, struct vm_exit *exit);
/* Guest-physical translation-cache invalidation (tcg_code_coherence.c).
 * init: 0, or -1 if guest RAM is not the engine's RAM at address 0. */
int tcg_code_coherence_init(struct vcpu *v);
void tcg_invalidate_phys(struct tcg_vcpu *t, uint64_t start, uint64_t end);
/* Before each engine entry: stores are checked again where another
 * engine started holding code since this one last ran. */
void tcg_code_coherence_before_entry(struct tcg_vcpu *t);
/* 0, or -1 if libunicorn lacks the watchpoint functions
 * tcg_watch_hooks.c replaces. */
int tcg_watch_hooks_init(void);
/* After a whole-cache flush: this engine holds no code any more. */
void tcg_code_pages_forget(struct tcg_vcpu *t);
/* The code buffer (tcg_code_buffer.c). maintain, before each entry:
 * flushes the engine's cache if it is mostly garbage or nearly full; true
 * if it did. selfcheck: after the self-test engine ran, 0 or -1 with a
 * line in err. */
bool tcg_code_buffer_maintain(struct tcg_vcpu *t);
/* Drop every block of the engine (between entries only). */
void tcg_code_buffer_flush(struct tcg_vcpu *t);
int tcg_code_buffer_selfcheck(uc_engine *uc, char *err, size_t errlen);

/* Flushes that drop the buffer's pages instead of zeroing them
 * (tcg_code_zeroing.c). install: NULL once libunicorn's memset is
 * redirected, else why not (flushes then zero every page). A flush of
 * `code` goes between begin and end on the engine's thread; end: true if
 * the flush's zeroing of the buffer was a drop. drops: how many buffers
 * were dropped so far (every thread). */
const char *tcg_code_zeroing_install(void);
void tcg_code_zeroing_begin(const struct tcg_code_buffer *code);
bool tcg_code_zeroing_end(void);
unsigned long tcg_code_zeroing_drops(void);
/* The whole pages inside [start, start + len), given back to the kernel
 * (MADV_DONTNEED: the next read of a private anonymous page is zeroes;
 * tcg_page_drop.c). Returns them, or an empty run (from == to) if there
 * are none or madvise failed: nothing was dropped then. */
struct page_run {
	uintptr_t from, to;
};
struct page_run tcg_drop_whole_pages(uintptr_t start, size_t len);
/* UC_HOOK_BLOCK's part for injections: raises the pending one at the
 * entry's first block (does not return then). */
void tcg_raise_pending_injection(struct vcpu *v, uint64_t block_addr);
/* UC_HOOK_INTR: delivers the event Unicorn raised, or stops the engine for
 * an exit hvgdb reports (a guest int3 with VM_CAP_BPT_EXIT). */
void tcg_hook_intr(uc_engine *uc, uint32_t intno, void *user);
/* UC_HOOK_INSN_INVALID: #UD goes through tcg_hook_intr like any other. */
bool tcg_hook_invalid_insn(uc_engine *uc, void *user);
/* UC_HOOK_INSN for SYSCALL (tcg_syscall.h). */
void tcg_hook_syscall(uc_engine *uc, void *user);
/* Queue an exit and stop the engine at the next block boundary. */
void tcg_stop_with_exit(struct vcpu *v, const struct vm_exit *e);

#endif
