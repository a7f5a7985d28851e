/*
 * One vCPU's own page tables (layout.h) and the physical pages behind its
 * test window, all taken from a per-vCPU pool past the guest image.
 */
#ifndef PAGING_ADDRESS_SPACE_H
#define PAGING_ADDRESS_SPACE_H

#include <stdint.h>

struct address_space {
	uint64_t cr3; /* physical address of the PML4 */
	uint64_t *test_pt; /* the page table behind TEST_WINDOW's first 2 MiB */
	/* Physical pages (identity-mapped, so also usable as pointers). */
	uint64_t page_a, page_b; /* data */
	uint64_t page_r;         /* read-only data */
	uint64_t page_x;         /* NX page with a ret in it */
	uint64_t page_d;         /* accessed/dirty test page */
	uint64_t page_c1, page_c2; /* code written at run time */
	uint64_t page_u, page_s; /* user data, user stack */
};

/* Builds the tables (does not load them). */
void address_space_build(struct address_space *as, unsigned vcpu);

/* The PTE mapping va, which must lie in TEST_WINDOW's first 2 MiB. */
uint64_t *test_pte(struct address_space *as, uint64_t va);

/* Identity-mapped pointer to physical address pa. */
static inline volatile uint64_t *phys(uint64_t pa)
{
	return (volatile uint64_t *)(uintptr_t)pa;
}

#endif
