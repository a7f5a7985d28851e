/* Multiboot 1 loader (see multiboot1.h). */
#include "vmm/multiboot1.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/le_bytes.h"
#include "vmm/multiboot_common.h"

#define FMT "Multiboot 1 kernel"
#define HEADER_MIN 12     /* magic, flags, checksum */
#define HEADER_ADDRS 32   /* with the address fields */
#define MMAP_ENTRY 24     /* size field + 20 bytes */
/* Bits 0-15 are requirements: a loader that lacks one must refuse. The
 * video request (bit 2) is a preference we cannot meet (no framebuffer):
 * it is ignored, as QEMU does. */
#define SUPPORTED_REQUIRED (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY | \
			    MB1_FLAG_VIDEO)

int mb1_find_header(const uint8_t *b, size_t size, uint64_t *offset,
		    char *err, size_t errlen)
{
	return mb_find_header(b, size, MB1_SEARCH_BYTES, MB1_HEADER_MAGIC, 4,
			      HEADER_MIN / 4, offset, FMT, err, errlen);
}

static int fill_info(struct boot_plan *p, const struct boot_inputs *in,
		     const uint64_t *starts, char *err, size_t errlen)
{
	uint8_t *mbi = p->low + BOOT_LOW_INFO;
	struct boot_mem_range map[BOOT_MAX_MEM_RANGES];
	unsigned n = boot_memory_map(in->ram_size, map);
	uint32_t lower, upper;
	uint64_t str = MB1_STRINGS_GPA;

	mb_memory_kib(in->ram_size, &lower, &upper);
	le_put(mbi + MB1I_FLAGS, MB1I_HAS_MEM | MB1I_HAS_CMDLINE |
	       MB1I_HAS_MODS | MB1I_HAS_MMAP | MB1I_HAS_LOADER_NAME, 4);
	le_put(mbi + MB1I_MEM_LOWER, lower, 4);
	le_put(mbi + MB1I_MEM_UPPER, upper, 4);
	le_put(mbi + MB1I_CMDLINE, BOOT_LOW_CMDLINE, 4);
	le_put(mbi + MB1I_MODS_COUNT, in->ninitrds, 4);
	le_put(mbi + MB1I_MODS_ADDR, MB1_MODS_GPA, 4);
	le_put(mbi + MB1I_MMAP_LENGTH, n * MMAP_ENTRY, 4);
	le_put(mbi + MB1I_MMAP_ADDR, MB1_MMAP_GPA, 4);
	le_put(mbi + MB1I_BOOT_LOADER_NAME, MB1_NAME_GPA, 4);
	memcpy(p->low + MB1_NAME_GPA, MB_LOADER_NAME,
	       sizeof(MB_LOADER_NAME));
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = p->low + MB1_MMAP_GPA + i * MMAP_ENTRY;

		le_put(e, MMAP_ENTRY - 4, 4); /* size excludes itself */
		le_put(e + 4, map[i].addr, 8);
		le_put(e + 12, map[i].size, 8);
		le_put(e + 20, map[i].type, 4);
	}
	for (unsigned i = 0; i < in->ninitrds; i++) {
		uint8_t *m = p->low + MB1_MODS_GPA + i * 16;
		const char *name = in->initrds[i].name ? in->initrds[i].name
						       : "";
		size_t len = strlen(name) + 1;

		if (len > BOOT_LOW_INFO + BOOT_LOW_INFO_SIZE - str) {
			snprintf(err, errlen, FMT ": module names too long");
			return -EINVAL;
		}
		memcpy(p->low + str, name, len);
		le_put(m, starts[i], 4);
		le_put(m + 4, starts[i] + in->initrds[i].size, 4);
		le_put(m + 8, str, 4);
		str += len;
	}
	return 0;
}

int mb1_build(const struct boot_inputs *in, struct boot_plan *p, char *err,
	      size_t errlen)
{
	const uint8_t *b = in->kernel;
	uint64_t off, entry, starts[BOOT_MAX_INITRDS];
	int rc = mb1_find_header(b, in->kernel_size, &off, err, errlen);

	if (rc == -ENOENT)
		snprintf(err, errlen, FMT " without a header");
	if (rc)
		return -EINVAL;
	uint32_t flags = (uint32_t)le_get(b + off + 4, 4);
	if (flags & 0xffffu & ~SUPPORTED_REQUIRED) {
		snprintf(err, errlen, FMT " requiring features hvgdb lacks "
			 "(flags %#x)", flags);
		return -EINVAL;
	}
	p->format = KERNEL_FORMAT_MULTIBOOT1;
	if (flags & MB1_FLAG_ADDRESS) {
		if (off + HEADER_ADDRS > in->kernel_size) {
			snprintf(err, errlen, FMT " truncated inside its "
				 "header address fields");
			return -EINVAL;
		}
		struct mb_address_fields a = {
			.header_offset = off,
			.header_addr = (uint32_t)le_get(b + off + 12, 4),
			.load_addr = (uint32_t)le_get(b + off + 16, 4),
			.load_end_addr = (uint32_t)le_get(b + off + 20, 4),
			.bss_end_addr = (uint32_t)le_get(b + off + 24, 4),
			.entry_addr = (uint32_t)le_get(b + off + 28, 4),
		};
		if (a.load_addr == 0xffffffffU) {
			snprintf(err, errlen, FMT " with a bad load_addr");
			return -EINVAL;
		}
		rc = mb_load_by_address(in, &a, p, FMT, err, errlen);
		entry = a.entry_addr;
	} else {
		rc = mb_load_elf(in, 0, p, &entry, FMT, err, errlen);
		if (rc && memcmp(b, "\x7f" "ELF", 4) != 0)
			snprintf(err, errlen, FMT " neither ELF nor with "
				 "address fields (flags bit 16)");
	}
	if (rc || (rc = mb_finish(in, p, entry, MB1_BOOT_MAGIC, starts, FMT,
				  err, errlen)))
		return -EINVAL;
	return fill_info(p, in, starts, err, errlen);
}
