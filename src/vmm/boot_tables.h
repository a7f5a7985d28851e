/* The GDT and identity page tables the kernel loaders put in the low area
 * (boot_plan.h), written into a plan's buffer rather than into a VM. */
#ifndef HVGDB_BOOT_TABLES_H
#define HVGDB_BOOT_TABLES_H

#include <stdint.h>

#include "vmm/boot_plan.h"

/* Flat 4 GiB descriptors in GDT format. */
#define GDT_FLAT_CODE32 0x00cf9b000000ffffULL
#define GDT_FLAT_CODE64 0x00af9b000000ffffULL
#define GDT_FLAT_DATA 0x00cf93000000ffffULL

/* Write descriptor desc at selector sel of the GDT at BOOT_LOW_GDT. */
void boot_tables_gdt_entry(struct boot_plan *p, uint16_t sel, uint64_t desc);
/* The 32-bit protected-mode entry PVH and Multiboot share: flat code and
 * data descriptors at code_sel/data_sel in the plan's GDT, paging off,
 * RIP = entry, EAX = eax, EBX = the info structure (BOOT_LOW_INFO). */
void boot_tables_flat32_entry(struct boot_plan *p, uint16_t code_sel,
			      uint16_t data_sel, uint64_t entry, uint32_t eax);

/* PML4 at BOOT_LOW_PML4 -> PDPT -> four PDs of 2 MiB pages: an identity
 * map of 0-4 GiB, the 3-4 GiB MMIO hole uncached. Returns the CR3 value. */
uint64_t boot_tables_identity_4g(struct boot_plan *p);

#endif
