/* What the Multiboot 1 and 2 loaders share: loading the kernel image from
 * header address fields or from its ELF segments, and the memory sizes. */
#ifndef HVGDB_MULTIBOOT_COMMON_H
#define HVGDB_MULTIBOOT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/boot_plan.h"

#define MB_CODE_SEL 0x08
#define MB_DATA_SEL 0x10
#define MB_LOADER_NAME "hvgdb"

/* The "a.out kludge" address fields, as both specifications define them. */
struct mb_address_fields {
	uint64_t header_offset; /* where the header sits in the file */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	uint32_t entry_addr;
};

/* Load the image the address fields describe (load_addr 0xffffffff: from
 * the file's start, a Multiboot 2 rule). 0, or -EINVAL with "<fmt> ..."
 * in err. Sets the plan's kernel range and *entry. */
int mb_load_by_address(const struct boot_inputs *in,
		       const struct mb_address_fields *a, struct boot_plan *p,
		       const char *fmt, char *err, size_t errlen);

/* Load an ELF kernel's segments; *entry = override if nonzero, else
 * e_entry. It must lie in a segment and below 4 GiB. */
int mb_load_elf(const struct boot_inputs *in, uint32_t override,
		struct boot_plan *p, uint64_t *entry, const char *fmt,
		char *err, size_t errlen);

/* mem_lower / mem_upper in KiB: RAM below 640 KiB, RAM from 1 MiB up to
 * the first hole. */
void mb_memory_kib(uint64_t ram_size, uint32_t *lower, uint32_t *upper);

/* Command line, initrds as modules, flat 32-bit GDT and the entry state
 * (EAX = magic, EBX = info): the end of every Multiboot build. */
/* The first header with `magic` in b[0, search): `step`-aligned, `words`
 * little-endian 32-bit words from the magic on summing to 0 (mod 2^32).
 * 0 with *offset; -ENOENT if no magic; -EINVAL (err names fmt and the
 * offset) if only bad checksums. */
int mb_find_header(const uint8_t *b, size_t size, size_t search,
		   uint32_t magic, size_t step, unsigned words,
		   uint64_t *offset, const char *fmt, char *err,
		   size_t errlen);

int mb_finish(const struct boot_inputs *in, struct boot_plan *p,
	      uint64_t entry, uint32_t magic, uint64_t *starts,
	      const char *fmt, char *err, size_t errlen);

#endif
