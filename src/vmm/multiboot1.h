/*
 * Multiboot 1 kernels (Multiboot Specification 0.6.96): header in the
 * first 8 KiB, image from the header's address fields or the ELF segments,
 * the multiboot_info structure with memory sizes, memory map, command line
 * and modules; 32-bit protected-mode entry with EAX = 0x2BADB002.
 */
#ifndef HVGDB_MULTIBOOT1_H
#define HVGDB_MULTIBOOT1_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/boot_plan.h"

#define MB1_HEADER_MAGIC 0x1badb002U
#define MB1_BOOT_MAGIC 0x2badb002U
#define MB1_SEARCH_BYTES 8192
#define MB1_FLAG_PAGE_ALIGN 0x1u
#define MB1_FLAG_MEMORY 0x2u
#define MB1_FLAG_VIDEO 0x4u
#define MB1_FLAG_ADDRESS 0x10000u

/* multiboot_info fields and flags. */
#define MB1I_FLAGS 0
#define MB1I_MEM_LOWER 4
#define MB1I_MEM_UPPER 8
#define MB1I_CMDLINE 16
#define MB1I_MODS_COUNT 20
#define MB1I_MODS_ADDR 24
#define MB1I_MMAP_LENGTH 44
#define MB1I_MMAP_ADDR 48
#define MB1I_BOOT_LOADER_NAME 64
#define MB1I_HAS_MEM 0x1u
#define MB1I_HAS_CMDLINE 0x4u
#define MB1I_HAS_MODS 0x8u
#define MB1I_HAS_MMAP 0x40u
#define MB1I_HAS_LOADER_NAME 0x200u

/* Where the pieces of the info go in the low area. */
#define MB1_MODS_GPA (BOOT_LOW_INFO + 0x100)
#define MB1_MMAP_GPA (BOOT_LOW_INFO + 0x200)
#define MB1_NAME_GPA (BOOT_LOW_INFO + 0x300)
#define MB1_STRINGS_GPA (BOOT_LOW_INFO + 0x400)

/* Offset of the first valid header in the first 8 KiB: 0, -ENOENT when
 * none, -EINVAL (err says so) when only a bad one was seen. */
int mb1_find_header(const uint8_t *b, size_t size, uint64_t *offset,
		    char *err, size_t errlen);

int mb1_build(const struct boot_inputs *in, struct boot_plan *p, char *err,
	      size_t errlen);

#endif
