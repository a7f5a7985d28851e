/*
 * Linux bzImage through the 64-bit boot protocol (Linux's
 * Documentation/arch/x86/boot.rst and zero-page.rst): the setup header is
 * checked and copied into a zero page with the e820 map, command line and
 * initrd; the vCPU starts at the 64-bit entry on an identity map.
 */
#ifndef HVGDB_LINUX_BZIMAGE_H
#define HVGDB_LINUX_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/boot_plan.h"

#define BZ_XLF_KERNEL_64 0x1
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x2
#define BZ_LOADED_HIGH 0x01
#define BZ_CAN_USE_HEAP 0x80
#define BZ_MIN_VERSION 0x020c /* 2.12: xloadflags */

/* Zero-page (struct boot_params) offsets that the loader writes. */
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_SETUP_HEADER 0x1f1
#define ZP_TYPE_OF_LOADER 0x210
#define ZP_LOADFLAGS 0x211
#define ZP_RAMDISK_IMAGE 0x218
#define ZP_RAMDISK_SIZE 0x21c
#define ZP_HEAP_END_PTR 0x224
#define ZP_CMD_LINE_PTR 0x228
#define ZP_HARDWARE_SUBARCH 0x23c
#define ZP_HARDWARE_SUBARCH_DATA 0x240
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_ENTRY_SIZE 20

/* The bzImage's code and data selectors (boot.rst: __BOOT_CS, __BOOT_DS). */
#define BZ_BOOT_CS 0x10
#define BZ_BOOT_DS 0x18

/* What the setup header says, decoded. */
struct bzimage_header {
	uint16_t version;
	uint8_t setup_sects;
	uint8_t loadflags;
	uint16_t xloadflags;
	bool relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint64_t pm_offset, pm_size; /* protected-mode kernel in the file */
	uint64_t header_end;         /* file offset past the setup header */
};

/* Is there a setup header signature ("HdrS" at 0x202)? */
bool bzimage_detect(const uint8_t *b, size_t size);

/* Decode and check the header: 0, or -EINVAL with what is missing. */
int bzimage_parse_header(const uint8_t *b, size_t size,
			 struct bzimage_header *h, char *err, size_t errlen);

/* Build the boot plan (plan zeroed by the caller). */
int bzimage_build(const struct boot_inputs *in, struct boot_plan *p,
		  char *err, size_t errlen);

#endif
