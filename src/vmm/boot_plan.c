/* Building blocks shared by the kernel loaders (see boot_plan.h). */
#include "vmm/boot_plan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/elf_segments.h"

#define PAGE_SIZE 0x1000ULL
#define LOW_RAM_END 0xa0000ULL      /* 640 KiB: VGA memory and ROMs above */
#define HIGH_RAM_START 0x100000ULL
#define MMIO_HOLE_START 0xc0000000ULL
#define MMIO_HOLE_END 0x100000000ULL

const char *kernel_format_name(enum kernel_format f)
{
	switch (f) {
	case KERNEL_FORMAT_HVGDB_ELF:
		return "hvgdb ELF";
	case KERNEL_FORMAT_BZIMAGE:
		return "bzImage";
	case KERNEL_FORMAT_PVH_ELF:
		return "PVH ELF";
	case KERNEL_FORMAT_MULTIBOOT1:
		return "Multiboot 1 kernel";
	case KERNEL_FORMAT_MULTIBOOT2:
		return "Multiboot 2 kernel";
	case KERNEL_FORMAT_UNKNOWN:
		break;
	}
	return "unknown format";
}

unsigned boot_memory_map(uint64_t ram_size,
			 struct boot_mem_range out[BOOT_MAX_MEM_RANGES])
{
	unsigned n = 0;
	uint64_t high_end = ram_size < MMIO_HOLE_START ? ram_size
						       : MMIO_HOLE_START;

	out[n++] = (struct boot_mem_range){ 0, LOW_RAM_END, BOOT_MEM_RAM };
	out[n++] = (struct boot_mem_range){ LOW_RAM_END,
					    HIGH_RAM_START - LOW_RAM_END,
					    BOOT_MEM_RESERVED };
	if (high_end > HIGH_RAM_START)
		out[n++] = (struct boot_mem_range){
			HIGH_RAM_START, high_end - HIGH_RAM_START,
			BOOT_MEM_RAM };
	if (ram_size >= MMIO_HOLE_START)
		out[n++] = (struct boot_mem_range){
			MMIO_HOLE_START, MMIO_HOLE_END - MMIO_HOLE_START,
			BOOT_MEM_RESERVED };
	return n;
}

int boot_plan_add_chunk(struct boot_plan *p, uint64_t gpa, const uint8_t *src,
			uint64_t filesz, uint64_t memsz)
{
	if (p->nchunks == BOOT_MAX_CHUNKS)
		return -E2BIG;
	p->chunks[p->nchunks++] = (struct boot_chunk){ gpa, src, filesz,
						       memsz };
	return 0;
}

int boot_plan_add_elf_loads(struct boot_plan *p, const struct elf_info *e,
			    const uint8_t *image, uint64_t end)
{
	p->kernel_start = UINT64_MAX;
	for (unsigned i = 0; i < e->nloads; i++) {
		const struct elf_range *r = &e->loads[i];

		if (r->paddr < p->kernel_start)
			p->kernel_start = r->paddr;
		if (boot_plan_add_chunk(p, r->paddr, image + r->offset,
					r->filesz, r->memsz))
			return -EINVAL;
	}
	p->kernel_end = end;
	return 0;
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

int boot_plan_place_initrds(struct boot_plan *p, const struct boot_inputs *in,
			    uint64_t floor, uint64_t limit, uint64_t *starts,
			    char *err, size_t errlen)
{
	uint64_t total = 0;
	uint64_t top = limit < in->ram_size ? limit : in->ram_size;

	if (in->ninitrds == 0)
		return 0;
	/* Sizes come from files of at most a few GiB: page_up cannot
	 * overflow, and the sum is checked against RAM as it grows. */
	for (unsigned i = 0; i < in->ninitrds; i++) {
		total += page_up(in->initrds[i].size);
		if (total > top) {
			snprintf(err, errlen, "initrd%s of %llu bytes in all "
				 "does not fit in %llu MiB of RAM",
				 in->ninitrds > 1 ? "s" : "",
				 (unsigned long long)total,
				 (unsigned long long)(in->ram_size >> 20));
			return -ENOSPC;
		}
	}
	top &= ~(PAGE_SIZE - 1);
	if (top - total < page_up(floor)) {
		snprintf(err, errlen, "initrd%s of %llu bytes do%s not fit in "
			 "RAM between the kernel's end (%#llx) and %#llx",
			 in->ninitrds > 1 ? "s" : "", (unsigned long long)total,
			 in->ninitrds > 1 ? "" : "es",
			 (unsigned long long)floor, (unsigned long long)top);
		return -ENOSPC;
	}
	uint64_t at = top - total;
	p->initrd_start = at;
	for (unsigned i = 0; i < in->ninitrds; i++) {
		uint64_t len = in->initrds[i].size;

		if (boot_plan_add_chunk(p, at, in->initrds[i].data, len,
					page_up(len))) {
			snprintf(err, errlen, "too many pieces to load");
			return -E2BIG;
		}
		starts[i] = at;
		at += page_up(len);
	}
	/* The last initrd's own end, not its padding: ramdisk_size and
	 * module ends count bytes. */
	p->initrd_end = starts[in->ninitrds - 1] +
			in->initrds[in->ninitrds - 1].size;
	return 0;
}

int boot_plan_put_cmdline(struct boot_plan *p, const char *cmdline,
			  size_t max)
{
	size_t n = cmdline ? strlen(cmdline) : 0;

	if (max > BOOT_LOW_CMDLINE_MAX)
		max = BOOT_LOW_CMDLINE_MAX;
	if (n > max)
		return -E2BIG;
	memcpy(p->low + BOOT_LOW_CMDLINE, cmdline ? cmdline : "", n);
	p->low[BOOT_LOW_CMDLINE + n] = '\0';
	return (int)n;
}

int boot_plan_write(const struct boot_plan *p, uint8_t *ram,
		    uint64_t ram_size)
{
	if (ram_size < BOOT_LOW_END)
		return -EFAULT;
	for (unsigned i = 0; i < p->nchunks; i++) {
		const struct boot_chunk *c = &p->chunks[i];

		if (c->filesz > c->memsz || c->gpa > ram_size ||
		    c->memsz > ram_size - c->gpa)
			return -EFAULT;
	}
	memcpy(ram, p->low, BOOT_LOW_END);
	for (unsigned i = 0; i < p->nchunks; i++) {
		const struct boot_chunk *c = &p->chunks[i];

		memcpy(ram + c->gpa, c->src, c->filesz);
		memset(ram + c->gpa + c->filesz, 0, c->memsz - c->filesz);
	}
	return 0;
}
