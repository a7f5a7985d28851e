/* Pure x86 page walk (no VM, no locks): unit-testable with a fake memory. */
#ifndef HVGDB_X86_PAGEWALK_H
#define HVGDB_X86_PAGEWALK_H

#include "hvgdb/vmm.h"

/* Reads size bytes of guest-physical memory (4 or 8 for the walk, a whole
 * table for x86_paging_structure_holds); 0 or -EFAULT. */
typedef int (*x86_read_phys_fn)(void *ctx, uint64_t gpa, void *buf,
				size_t size);

/*
 * Translate gla for an access of kind prot (VM_PROT_*) with the paging
 * state pg. Handles FLAT, 32-bit (4K/4M, PSE assumed), PAE (4K/2M),
 * 4-level and 5-level (4K/2M/1G). Returns 0 and sets *fault (VM_GLA_OK and
 * *gpa on success); -EINVAL for a bad paging mode.
 */
int x86_pagewalk(const struct vm_guest_paging *pg, uint64_t gla, int prot,
		 x86_read_phys_fn read_phys, void *ctx, uint64_t *gpa,
		 enum vm_gla_fault *fault);

/*
 * Is gpa a byte of a paging structure in use under pg (the root table and
 * every table a present, non-leaf entry leads to, at every level)? A byte
 * there is read by every translation through it, so a debugger must not
 * patch it. 1 yes, 0 no (FLAT: no structures); -E2BIG when the tree has
 * more tables than the search visits (X86_PAGING_SEARCH_MAX_TABLES);
 * -ENOMEM; -EINVAL for a bad paging mode. Unreadable tables are skipped:
 * no walk can go through them either.
 */
#define X86_PAGING_SEARCH_MAX_TABLES 4096
int x86_paging_structure_holds(const struct vm_guest_paging *pg, uint64_t gpa,
			       x86_read_phys_fn read_phys, void *ctx);

#endif
