/* Shared Multiboot 1/2 loading (see multiboot_common.h). */
#include "vmm/multiboot_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/boot_tables.h"
#include "vmm/elf_segments.h"
#include "vmm/le_bytes.h"

#define LOW_RAM_KIB 640
#define HIGH_RAM_START 0x100000ULL
#define MMIO_HOLE_START 0xc0000000ULL

static int bad(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, "%s %s", fmt, what);
	return -EINVAL;
}

static int check_span(const struct boot_inputs *in, uint64_t start,
		      uint64_t memsz, const char *fmt, char *err,
		      size_t errlen)
{
	if (start < BOOT_KERNEL_MIN_PADDR || start > in->ram_size ||
	    memsz > in->ram_size - start) {
		snprintf(err, errlen, "%s loading at %#llx-%#llx, outside "
			 "guest RAM from 1 MiB to %#llx", fmt,
			 (unsigned long long)start,
			 (unsigned long long)(start + memsz),
			 (unsigned long long)in->ram_size);
		return -EINVAL;
	}
	return 0;
}

int mb_load_by_address(const struct boot_inputs *in,
		       const struct mb_address_fields *a, struct boot_plan *p,
		       const char *fmt, char *err, size_t errlen)
{
	uint64_t load = a->load_addr, file_off;

	if (a->load_addr == 0xffffffffU) {
		if (a->header_addr < a->header_offset)
			return bad(err, errlen, fmt, "with a header_addr "
				   "below its file offset");
		load = a->header_addr - a->header_offset;
		file_off = 0;
	} else {
		uint64_t diff = (uint64_t)a->header_addr - a->load_addr;

		if (a->header_addr < a->load_addr || diff > a->header_offset)
			return bad(err, errlen, fmt, "with inconsistent "
				   "header_addr and load_addr");
		file_off = a->header_offset - diff;
	}
	uint64_t filesz = in->kernel_size - file_off;
	if (a->load_end_addr) {
		if (a->load_end_addr < load ||
		    a->load_end_addr - load > filesz)
			return bad(err, errlen, fmt, "with load_end_addr "
				   "outside the file (truncated?)");
		filesz = a->load_end_addr - load;
	}
	uint64_t memsz = filesz;
	if (a->bss_end_addr) {
		if (a->bss_end_addr < load + filesz)
			return bad(err, errlen, fmt, "with bss_end_addr "
				   "before the end of the loaded image");
		memsz = a->bss_end_addr - load;
	}
	if (check_span(in, load, memsz, fmt, err, errlen))
		return -EINVAL;
	if (a->entry_addr < load || a->entry_addr - load >= memsz)
		return bad(err, errlen, fmt, "whose entry_addr is outside "
			   "the loaded image");
	p->kernel_start = load;
	p->kernel_end = load + memsz;
	return boot_plan_add_chunk(p, load, in->kernel + file_off, filesz,
				   memsz) ? -EINVAL : 0;
}

int mb_load_elf(const struct boot_inputs *in, uint32_t override,
		struct boot_plan *p, uint64_t *entry, const char *fmt,
		char *err, size_t errlen)
{
	struct elf_info e;
	char why[160];
	uint64_t end;

	if (elf_info_parse(in->kernel, in->kernel_size, &e, why,
			   sizeof(why)) ||
	    elf_check_loads(&e, BOOT_KERNEL_MIN_PADDR, in->ram_size, &end,
			    why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", fmt, why);
		return -EINVAL;
	}
	*entry = override ? override : e.entry;
	if (*entry > 0xffffffffULL || !elf_addr_loaded(&e, *entry))
		return bad(err, errlen, fmt, "whose entry point is in no "
			   "loaded segment below 4 GiB");
	return boot_plan_add_elf_loads(p, &e, in->kernel, end);
}

void mb_memory_kib(uint64_t ram_size, uint32_t *lower, uint32_t *upper)
{
	uint64_t top = ram_size < MMIO_HOLE_START ? ram_size : MMIO_HOLE_START;

	*lower = LOW_RAM_KIB;
	*upper = top > HIGH_RAM_START ? (uint32_t)((top - HIGH_RAM_START) >> 10)
				      : 0;
}

int mb_find_header(const uint8_t *b, size_t size, size_t search,
		   uint32_t magic, size_t step, unsigned words,
		   uint64_t *offset, const char *fmt, char *err,
		   size_t errlen)
{
	size_t limit = size < search ? size : search;
	int rc = -ENOENT;

	for (size_t off = 0; off + 4 * (size_t)words <= limit; off += step) {
		if (le_get(b + off, 4) != magic)
			continue;
		uint32_t sum = 0;
		for (unsigned i = 0; i < words; i++)
			sum += (uint32_t)le_get(b + off + 4 * i, 4);
		if (sum == 0) {
			*offset = off;
			return 0;
		}
		if (rc == -ENOENT)
			snprintf(err, errlen, "%s header at offset %#zx "
				 "with a bad checksum", fmt, off);
		rc = -EINVAL;
	}
	return rc;
}

int mb_finish(const struct boot_inputs *in, struct boot_plan *p,
	      uint64_t entry, uint32_t magic, uint64_t *starts,
	      const char *fmt, char *err, size_t errlen)
{
	if (boot_plan_put_cmdline(p, in->cmdline, BOOT_LOW_CMDLINE_MAX) < 0) {
		snprintf(err, errlen, "command line of %zu bytes over the %s "
			 "loader's limit of %llu", strlen(in->cmdline), fmt,
			 (unsigned long long)BOOT_LOW_CMDLINE_MAX);
		return -EINVAL;
	}
	if (boot_plan_place_initrds(p, in, p->kernel_end, UINT64_MAX, starts,
				    err, errlen))
		return -EINVAL;
	boot_tables_flat32_entry(p, MB_CODE_SEL, MB_DATA_SEL, entry, magic);
	return 0;
}
