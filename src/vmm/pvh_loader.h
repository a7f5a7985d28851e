/*
 * ELF kernels with a Xen PVH entry (XEN_ELFNOTE_PHYS32_ENTRY), as booted by
 * `qemu-system-x86_64 -kernel vmlinux`: PT_LOAD segments at their physical
 * addresses, an hvm_start_info (Xen's public arch-x86/hvm/start_info.h,
 * version 1) with command line, modules and memory map, and a 32-bit
 * protected-mode entry with EBX pointing at it.
 */
#ifndef HVGDB_PVH_LOADER_H
#define HVGDB_PVH_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/boot_plan.h"
#include "vmm/elf_segments.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC 0x336ec578

/* hvm_start_info, version 1 (56 bytes). */
#define PVH_SI_MAGIC 0
#define PVH_SI_VERSION 4
#define PVH_SI_FLAGS 8
#define PVH_SI_NR_MODULES 12
#define PVH_SI_MODLIST_PADDR 16
#define PVH_SI_CMDLINE_PADDR 24
#define PVH_SI_RSDP_PADDR 32
#define PVH_SI_MEMMAP_PADDR 40
#define PVH_SI_MEMMAP_ENTRIES 48
#define PVH_SI_SIZE 56
/* hvm_modlist_entry: paddr, size, cmdline_paddr, reserved (32 bytes). */
#define PVH_MOD_SIZE 32
/* hvm_memmap_table_entry: addr, size, type, reserved (24 bytes). */
#define PVH_MEMMAP_SIZE 24

/* Where the structures go inside the low area's info pages. */
#define PVH_MODLIST_GPA (BOOT_LOW_INFO + 0x100)
#define PVH_MEMMAP_GPA (BOOT_LOW_INFO + 0x400)

#define PVH_CODE_SEL 0x08
#define PVH_DATA_SEL 0x10

/* The PVH entry of an ELF (parsed with elf_info_parse), if it has one.
 * -ENOENT without the note, -EINVAL (err says why) when it is malformed. */
int pvh_entry_point(const uint8_t *b, const struct elf_info *e,
		    uint64_t *entry, char *err, size_t errlen);

int pvh_build(const struct boot_inputs *in, const struct elf_info *e,
	      struct boot_plan *p, char *err, size_t errlen);

#endif
