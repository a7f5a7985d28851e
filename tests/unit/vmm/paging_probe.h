/*
 * Test helper for the paging and CPL 3 tests: a VM running the `pg`
 * snippet (paging_snippets.S) in an address space the test builds
 * (paging_tables.h), and its probes run one at a time.
 */
#ifndef PAGING_PROBE_H
#define PAGING_PROBE_H

#include <stdint.h>

#include "paging_tables.h"
#include "paging_test.h"
#include "vmm_test_guest.h"

DECLARE_SNIP(pg);
#define PG(label) SNIP_ADDR(pg, label)
/* Labels of paging_snippets.S (PG(read) is pg_read's guest address). */
extern const uint8_t pg_read[], pg_read_end[], pg_write[], pg_write_end[],
	pg_call[], pg_call_end[], pg_write_wp0[], pg_write_wp0_end[],
	pg_write_cr3[], pg_write_cr3_end[],
	pg_remap_read_invlpg[], pg_remap_read_invlpg_end[],
	pg_remap_read_cr3[], pg_remap_read_cr3_end[],
	pg_remap_call_invlpg[], pg_remap_call_invlpg_end[],
	pg_remap_call_cr3[], pg_remap_call_cr3_end[],
	pg_patch_through_alias[], pg_patch_through_alias_end[],
	pg_pf_handler[], pg_gp_handler[], pg_ud_handler[], pg_enter_user[],
	pg_syscall_setup[], pg_syscall_entry[], pg_user_read[],
	pg_user_write[], pg_user_hlt[], pg_user_hlt_insn[],
	pg_user_syscalls[], pg_user_syscall[], pg_user_after_syscall[];

/* PML4[1]: nothing is mapped there but what a test maps. */
#define VA_WINDOW 0x0000008000000000ULL

/* A 1-vCPU VM in long mode with `pg` loaded, #PF/#GP/#UD going to its
 * handlers, hlt exiting, and *pt active (with nothing mapped yet but the
 * identity map of the low 4 GiB). */
struct vm *probe_vm(struct pt_space *pt);

/* Runs from `entry` with RSI, RDI, RDX set (and RSP reset, the fault
 * slots cleared) to the next exit, which must be a hlt. */
struct vm_exit probe_run(struct vm *vm, uint64_t entry, uint64_t rsi,
			 uint64_t rdi, uint64_t rdx);

/* One access through the guest's paging that must not fault. */
uint64_t probe_read(struct vm *vm, uint64_t va);
void probe_write(struct vm *vm, uint64_t va, uint64_t val);
uint64_t probe_call(struct vm *vm, uint64_t va);

/* The page fault the last run took (exactly one, or the test fails). */
struct pf_seen {
	uint64_t error, cr2, rip, cs, ss, frame;
};
struct pf_seen probe_fault(struct vm *vm);

/* Writes `mov $value, %eax; ret` at gpa. */
void put_return_code(struct vm *vm, uint64_t gpa, uint32_t value);
/* The same eight bytes as one u64, for a guest store that rewrites it. */
uint64_t return_code_u64(uint32_t value);

uint64_t gpa_u64(struct vm *vm, uint64_t gpa);
void set_gpa_u64(struct vm *vm, uint64_t gpa, uint64_t val);

#endif
