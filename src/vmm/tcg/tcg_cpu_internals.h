/*
 * The few Unicorn internals hvgdb relies on for x86 event delivery, where
 * Unicorn 2.1's API has nothing (tcg_cpu_internals.c). Each is checked at
 * start-up by a self-test on a scratch engine (tcg_cpu_selftest.c): hvgdb
 * refuses to run, with one line, if one of them does not hold.
 */
#ifndef HVGDB_TCG_CPU_INTERNALS_H
#define HVGDB_TCG_CPU_INTERNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

/* The Unicorn release these internals were validated on. */
#define TCG_VALIDATED_UC_MAJOR 2
#define TCG_VALIDATED_UC_MINOR 1
#define TCG_VALIDATED_UC_PATCH 1

/* A register through Unicorn's API (0 if it cannot be read). */
static inline uint64_t tcg_uc_get(uc_engine *uc, int id)
{
	uint64_t x = 0;
	uc_reg_read(uc, id, &x);
	return x;
}

static inline void tcg_uc_set(uc_engine *uc, int id, uint64_t x)
{
	uc_reg_write(uc, id, &x);
}

/* One engine's QEMU CPU: its CPUX86State and CPUState. */
struct tcg_cpu_ptrs {
	void *env;
	void *cs;
};

/* Unicorn's CPUX86State for uc, learned through one MSR read (the RDMSR
 * helper is interposed in tcg_msr.c), or NULL. */
void *tcg_msr_learn_env(uc_engine *uc);

/* Learns both pointers of a fresh engine (interposed helpers see them
 * during one MSR read and one TLB flush). 0, or -1 if either stayed
 * unseen (libunicorn no longer calls the helper through its PLT). */
int tcg_cpu_ptrs_learn(uc_engine *uc, struct tcg_cpu_ptrs *p);

/* Inside a UC_HOOK_INTR callback: deliver the exception Unicorn raised
 * through the guest's IDT/IVT with QEMU's own code (every CPU mode,
 * privilege and stack switches, error code, IST), and clear QEMU's record
 * of the exception in flight. A fault during delivery leaves this function
 * by longjmp and arrives at the same hook as the next exception (QEMU's
 * double- and triple-fault rules apply). */
void tcg_deliver_raised_event(const struct tcg_cpu_ptrs *p);

/* Inside a hook called from guest code (UC_HOOK_BLOCK at the start of a
 * block): raise an event at the current RIP, as if the CPU took it there.
 * Does not return: Unicorn's CPU loop takes it and calls the UC_HOOK_INTR
 * hook with the vector. soft: a software interrupt/exception (int3, int n:
 * DPL-checked, returns to RIP + next_insn_len). */
_Noreturn void tcg_raise_event(const struct tcg_cpu_ptrs *p, int vector,
			       bool soft, uint32_t errcode,
			       unsigned next_insn_len);

/* Sets the current privilege level, so that the register API accepts the
 * CS/SS loads of a privilege change made outside QEMU's own paths (Unicorn
 * checks selector loads against the CPL; SYSCALL is ours to emulate).
 * Needs the self-test to have found where QEMU keeps the CPL. */
void tcg_set_cpl(const struct tcg_cpu_ptrs *p, unsigned cpl);

/* Loads a segment register the way a `mov` to it does outside long mode
 * (descriptor from the GDT/LDT in protected mode, selector << 4 in real
 * mode), updating QEMU's mode flags: a Unicorn engine opened for 64-bit
 * code only stores the selector through the register API. seg is QEMU's
 * index (ES 0, CS 1, SS 2, DS 3, FS 4, GS 5). The descriptor must be
 * readable (the caller checks): QEMU's checks are run first and a refusal
 * returns -1 with nothing changed. */
int tcg_load_segment(const struct tcg_cpu_ptrs *p, int seg, uint16_t sel);

/* A segment register's hidden part as the CPU uses it: QEMU's
 * SegmentCache (flags in the descriptor's high-dword layout: type 8-11, S
 * 12, DPL 13-14, P 15, AVL 20, L 21, D/B 22, G 23). */
struct tcg_segment_cache {
	uint32_t selector;
	uint64_t base;
	uint32_t limit;
	uint32_t flags;
};

/* seg: QEMU's index (ES 0 .. GS 5). QEMU keeps the six segment caches
 * right after hflags and hflags2 in CPUX86State, so they are found from
 * the CPL offset the self-test learnt (which checks this read too). 0, or
 * -1 before the self-test has run. */
int tcg_read_segment_cache(const struct tcg_cpu_ptrs *p, int seg,
			   struct tcg_segment_cache *out);
/* Stores base, limit and flags of c (not the selector) in segment seg's
 * cache, as a descriptor load would, without re-deriving QEMU's mode
 * flags from them: for hidden parts the register API cannot set (a 64-bit
 * engine's selector writes store the selector only), which must agree
 * with the mode the vCPU is in. 0, or -1 as tcg_read_segment_cache. */
int tcg_write_segment_cache(const struct tcg_cpu_ptrs *p, int seg,
			    const struct tcg_segment_cache *c);

/* In an STI or MOV SS interrupt shadow (QEMU's HF_INHIBIT_IRQ, next to
 * the CPL in hflags). */
bool tcg_interrupt_shadow(const struct tcg_cpu_ptrs *p);

/* A triple fault on this thread's engine since the last call (QEMU asks
 * for a system reset; hvgdb interposes that request). */
bool tcg_take_triple_fault(void);

/* Once per process, before any engine runs: the Unicorn version, and the
 * self-test. 0, or -1 with one line in err. */
int tcg_cpu_internals_check(char *err, size_t errlen);

/* For the self-test: where QEMU's hflags (CPL in bits 1:0) live in
 * CPUX86State, found by comparing the state at CPL 0 and CPL 3. */
bool tcg_find_cpl_offset(const uint8_t *at_cpl0, const uint8_t *at_cpl3,
			 size_t len, size_t *offset);
void tcg_use_cpl_offset(size_t offset);
/* How many bytes of CPUX86State may be read (inside QEMU's context). */
size_t tcg_env_scan_len(uc_engine *uc);

#endif
