/*
 * Multiboot 2 kernels (Multiboot2 Specification 2.0): an 8-aligned header
 * with tags in the first 32 KiB, image from the address tag or the ELF
 * segments, a boot information block of tags (command line, boot loader
 * name, modules, basic memory info, memory map, end); 32-bit protected-mode
 * entry with EAX = 0x36d76289.
 */
#ifndef HVGDB_MULTIBOOT2_H
#define HVGDB_MULTIBOOT2_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/boot_plan.h"

#define MB2_HEADER_MAGIC 0xe85250d6U
#define MB2_BOOT_MAGIC 0x36d76289U
#define MB2_SEARCH_BYTES 32768
#define MB2_ARCH_I386 0

/* Header tags. */
#define MB2_HTAG_END 0
#define MB2_HTAG_INFO_REQUEST 1
#define MB2_HTAG_ADDRESS 2
#define MB2_HTAG_ENTRY 3
#define MB2_HTAG_CONSOLE 4
#define MB2_HTAG_FRAMEBUFFER 5
#define MB2_HTAG_MODULE_ALIGN 6
#define MB2_HTAG_EFI_BS 7
#define MB2_HTAG_EFI32_ENTRY 8
#define MB2_HTAG_EFI64_ENTRY 9
#define MB2_HTAG_RELOCATABLE 10
#define MB2_HTAG_OPTIONAL 1

/* Boot information tags. */
#define MB2_ITAG_END 0
#define MB2_ITAG_CMDLINE 1
#define MB2_ITAG_LOADER_NAME 2
#define MB2_ITAG_MODULE 3
#define MB2_ITAG_BASIC_MEMINFO 4
#define MB2_ITAG_MMAP 6

/* Offset of the first valid header: 0, -ENOENT when none, -EINVAL (err
 * says so) when only a bad one was seen. */
int mb2_find_header(const uint8_t *b, size_t size, uint64_t *offset,
		    char *err, size_t errlen);

int mb2_build(const struct boot_inputs *in, struct boot_plan *p, char *err,
	      size_t errlen);

#endif
