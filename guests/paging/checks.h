/* The groups of checks; each runs on every vCPU, in its own address space
 * (already loaded in CR3), and records one line per check (report.h). */
#ifndef PAGING_CHECKS_H
#define PAGING_CHECKS_H

#include "address_space.h"

/* 4 KiB, 2 MiB and 1 GiB pages at VA != PA; one page at two VAs. */
void checks_mappings(unsigned vcpu, struct address_space *as);
/* #PF: CR2 and error code for each kind of kernel-mode fault. */
void checks_faults(unsigned vcpu, struct address_space *as);
/* Accessed/dirty bits; INVLPG and CR3 reloads after a remap. */
void checks_tlb(unsigned vcpu, struct address_space *as);
/* CPL 3: iretq, syscall/sysret, swapgs, user-mode #PF. */
void checks_user(unsigned vcpu, struct address_space *as);

/* Writes "mov $value, %eax; ret" at code (the page's physical address). */
void write_return_value_code(uint64_t code, uint32_t value);

#endif
