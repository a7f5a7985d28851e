/*
 * Test helper: 4-level page tables built by the host in guest RAM, for
 * guests of vmm_test_guest.h. A new address space keeps tg_create's
 * identity map of the low 4 GiB in PML4[0] (supervisor only: the test
 * code, data, stacks, GDT and IDT stay where they are) and maps test
 * pages anywhere else. Tables come from a pool at PT_POOL.
 */
#ifndef PAGING_TABLES_H
#define PAGING_TABLES_H

#include <stdint.h>

#include "hvgdb/vmm.h"

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_A 0x20ULL
#define PTE_D 0x40ULL
#define PTE_PS 0x80ULL
#define PTE_NX (1ULL << 63)

#define PT_POOL 0x400000ULL
#define PT_POOL_END 0x500000ULL

enum pt_page_size { PT_4K = 12, PT_2M = 21, PT_1G = 30 };
/* The level whose entry maps a page: 1 = PTE ... 4 = PML4E. */
enum pt_level { PT_PTE = 1, PT_PDE = 2, PT_PDPTE = 3, PT_PML4E = 4 };

struct pt_space {
	struct vm *vm;
	uint64_t root; /* the PML4: CR3 */
	uint64_t next_table;
};

/* A new address space (fresh pool: one per VM). */
void pt_init(struct pt_space *s, struct vm *vm);
/* Map one page of `size` at va (aligned) to pa with the leaf's flags
 * (PTE_P etc.; PTE_PS is added for 2M/1G). Tables on the way are created
 * with P|W|U, so the leaf alone decides; an existing path is reused.
 * Returns the guest-physical address of the leaf entry. */
uint64_t pt_map(struct pt_space *s, uint64_t va, uint64_t pa,
		enum pt_page_size size, uint64_t flags);
/* Guest-physical address of the entry for va at `level` (the path to it
 * must exist). */
uint64_t pt_entry_at(struct pt_space *s, uint64_t va, enum pt_level level);
uint64_t pt_get(struct pt_space *s, uint64_t entry_gpa);
void pt_set(struct pt_space *s, uint64_t entry_gpa, uint64_t val);
/* CR3 = the root on vcpu (which also drops the engine's translations). */
void pt_activate(struct pt_space *s, int vcpu);

#endif
