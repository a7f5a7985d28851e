/* Pure x86 page walk (no VM, no locks): unit-testable with a fake memory. */
#ifndef HVGDB_X86_PAGEWALK_H
#define HVGDB_X86_PAGEWALK_H

#include "hvgdb/vmm.h"

/* Reads size (4 or 8) bytes of guest-physical memory; 0 or -EFAULT. */
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

#endif
