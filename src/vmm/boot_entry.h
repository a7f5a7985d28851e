/*
 * Load a boot plan's initial CPU state (boot_plan.h) into a vCPU through
 * the public VM API only: 32-bit protected mode with paging off
 * (PVH, Multiboot) or 64-bit long mode on the plan's identity map (Linux's
 * 64-bit boot protocol).
 */
#ifndef HVGDB_BOOT_ENTRY_H
#define HVGDB_BOOT_ENTRY_H

#include <stddef.h>

#include "hvgdb/vmm.h"
#include "vmm/boot_plan.h"

/* Control-register values of each entry state. */
#define BOOT_ENTRY32_CR0 0x11ULL       /* PE, ET; paging off */
#define BOOT_ENTRY64_CR0 0x80000011ULL /* PE, ET, PG */
#define BOOT_ENTRY64_CR4 0x20ULL       /* PAE */
#define BOOT_ENTRY64_EFER 0x500ULL     /* LME, LMA */

/* 0, or -errno with "cannot set <register> of vCPU n: ..." in err. */
int boot_entry_setup(struct vm *vm, int vcpu, const struct boot_cpu_state *st,
		     char *err, size_t errlen);

#endif
