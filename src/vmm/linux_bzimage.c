/* Linux bzImage loader, 64-bit boot protocol (see linux_bzimage.h). */
#include "vmm/linux_bzimage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/boot_tables.h"
#include "vmm/le_bytes.h"

/* Setup header fields, as file offsets (the same in the zero page). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_LOADFLAGS 0x211
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_END 0x264     /* a 2.12 header reaches past init_size */
#define ZERO_PAGE_HDR_END 0x290 /* the setup header's room in the zero page */

#define SECTOR 512
#define ENTRY_64_OFFSET 0x200 /* 64-bit entry: load address + 0x200 */
#define HEAP_END 0xfe00       /* boot.rst's value for a modern loader */
#define LOADER_UNDEFINED 0xff /* type_of_loader: no assigned ID */

bool bzimage_detect(const uint8_t *b, size_t size)
{
	return size >= HDR_MAGIC + 4 && memcmp(b + HDR_MAGIC, "HdrS", 4) == 0;
}

static int missing(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "bzImage %s", what);
	return -EINVAL;
}

int bzimage_parse_header(const uint8_t *b, size_t size,
			 struct bzimage_header *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if (!bzimage_detect(b, size))
		return missing(err, errlen, "without a setup header (\"HdrS\")");
	h->version = (uint16_t)le_get(b + HDR_VERSION, 2);
	if (h->version < BZ_MIN_VERSION) {
		snprintf(err, errlen, "bzImage with boot protocol %u.%02u, "
			 "need 2.12 or later", h->version >> 8,
			 h->version & 0xff);
		return -EINVAL;
	}
	/* The header ends at 0x202 + the jump's 8-bit displacement. */
	h->header_end = HDR_MAGIC + (uint64_t)b[HDR_JUMP + 1];
	if (h->header_end < HDR_MIN_END || h->header_end > ZERO_PAGE_HDR_END)
		return missing(err, errlen, "with a corrupt setup header "
			       "length");
	if (h->header_end > size)
		return missing(err, errlen, "truncated inside its setup header");
	if (le_get(b + HDR_BOOT_FLAG, 2) != 0xaa55)
		return missing(err, errlen, "without the 0xAA55 boot flag");

	h->setup_sects = b[HDR_SETUP_SECTS];
	h->loadflags = b[HDR_LOADFLAGS];
	h->xloadflags = (uint16_t)le_get(b + HDR_XLOADFLAGS, 2);
	h->relocatable = b[HDR_RELOCATABLE] != 0;
	h->kernel_alignment = (uint32_t)le_get(b + HDR_KERNEL_ALIGNMENT, 4);
	h->pref_address = le_get(b + HDR_PREF_ADDRESS, 8);
	h->init_size = (uint32_t)le_get(b + HDR_INIT_SIZE, 4);
	h->cmdline_size = (uint32_t)le_get(b + HDR_CMDLINE_SIZE, 4);
	h->initrd_addr_max = (uint32_t)le_get(b + HDR_INITRD_ADDR_MAX, 4);

	if (!(h->xloadflags & BZ_XLF_KERNEL_64))
		return missing(err, errlen, "without a 64-bit entry point "
			       "(xloadflags)");
	/* setup_sects 0 means 4, for old kernels' sake. */
	h->pm_offset = ((uint64_t)(h->setup_sects ? h->setup_sects : 4) + 1) *
		       SECTOR;
	if (h->pm_offset + ENTRY_64_OFFSET >= size)
		return missing(err, errlen, "truncated: no protected-mode "
			       "kernel after the setup sectors");
	h->pm_size = size - h->pm_offset;
	if (h->init_size == 0)
		return missing(err, errlen, "without init_size");
	if (h->relocatable && (h->kernel_alignment == 0 ||
			       (h->kernel_alignment &
				(h->kernel_alignment - 1))))
		return missing(err, errlen, "with a bad kernel_alignment");
	return 0;
}

/* pref_address, rounded up to kernel_alignment for a relocatable kernel
 * (boot.rst: any aligned address works then; the preferred one avoids
 * the kernel relocating itself). */
static uint64_t load_address(const struct bzimage_header *h)
{
	uint64_t a = h->pref_address;

	if (h->relocatable)
		a = (a + h->kernel_alignment - 1) &
		    ~(uint64_t)(h->kernel_alignment - 1);
	return a;
}

static void fill_e820(uint8_t *zp, uint64_t ram_size)
{
	struct boot_mem_range map[BOOT_MAX_MEM_RANGES];
	unsigned n = boot_memory_map(ram_size, map);

	zp[ZP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = zp + ZP_E820_TABLE + i * ZP_E820_ENTRY_SIZE;

		le_put(e, map[i].addr, 8);
		le_put(e + 8, map[i].size, 8);
		le_put(e + 16, map[i].type, 4);
	}
}

static void fill_zero_page(struct boot_plan *p, const uint8_t *b,
			   const struct bzimage_header *h,
			   const struct boot_inputs *in)
{
	uint8_t *zp = p->low + BOOT_LOW_INFO;
	uint64_t rd_size = p->initrd_end - p->initrd_start;

	memcpy(zp + ZP_SETUP_HEADER, b + HDR_SETUP_SECTS,
	       h->header_end - HDR_SETUP_SECTS);
	zp[ZP_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	zp[ZP_LOADFLAGS] = h->loadflags | BZ_CAN_USE_HEAP;
	le_put(zp + ZP_HEAP_END_PTR, HEAP_END, 2);
	le_put(zp + ZP_CMD_LINE_PTR, BOOT_LOW_CMDLINE, 4);
	le_put(zp + ZP_EXT_CMD_LINE_PTR, 0, 4);
	le_put(zp + ZP_RAMDISK_IMAGE, p->initrd_start & 0xffffffff, 4);
	le_put(zp + ZP_RAMDISK_SIZE, rd_size & 0xffffffff, 4);
	le_put(zp + ZP_EXT_RAMDISK_IMAGE, p->initrd_start >> 32, 4);
	le_put(zp + ZP_EXT_RAMDISK_SIZE, rd_size >> 32, 4);
	le_put(zp + ZP_HARDWARE_SUBARCH, 0, 4); /* X86_SUBARCH_PC */
	le_put(zp + ZP_HARDWARE_SUBARCH_DATA, 0, 8);
	le_put(zp + ZP_ACPI_RSDP_ADDR, in->rsdp_addr, 8);
	fill_e820(zp, in->ram_size);
}

int bzimage_build(const struct boot_inputs *in, struct boot_plan *p,
		  char *err, size_t errlen)
{
	const uint8_t *b = in->kernel;
	struct bzimage_header h;
	uint64_t starts[BOOT_MAX_INITRDS];
	int rc;

	rc = bzimage_parse_header(b, in->kernel_size, &h, err, errlen);
	if (rc)
		return rc;
	uint64_t load = load_address(&h);
	uint64_t span = h.init_size > h.pm_size ? h.init_size : h.pm_size;
	if (load < BOOT_KERNEL_MIN_PADDR)
		return missing(err, errlen, "with a load address below 1 MiB "
			       "(pref_address)");
	if (load > in->ram_size || span > in->ram_size - load) {
		snprintf(err, errlen, "bzImage needs RAM up to %#llx (load "
			 "address %#llx + init_size %#x); use more --memory",
			 (unsigned long long)(load + span),
			 (unsigned long long)load, h.init_size);
		return -EINVAL;
	}
	rc = boot_plan_put_cmdline(p, in->cmdline, h.cmdline_size);
	if (rc == -E2BIG) {
		snprintf(err, errlen, "command line of %zu bytes over the "
			 "bzImage's limit of %u (cmdline_size)",
			 strlen(in->cmdline), h.cmdline_size);
		return -EINVAL;
	}
	p->format = KERNEL_FORMAT_BZIMAGE;
	p->kernel_start = load;
	p->kernel_end = load + span;
	if (boot_plan_add_chunk(p, load, b + h.pm_offset, h.pm_size,
				h.pm_size))
		return missing(err, errlen, "cannot be placed");
	rc = boot_plan_place_initrds(p, in, p->kernel_end,
				     (uint64_t)h.initrd_addr_max + 1, starts,
				     err, errlen);
	if (rc)
		return -EINVAL;
	fill_zero_page(p, b, &h, in);

	boot_tables_gdt_entry(p, BZ_BOOT_CS, GDT_FLAT_CODE64);
	boot_tables_gdt_entry(p, BZ_BOOT_DS, GDT_FLAT_DATA);
	p->cpu = (struct boot_cpu_state){
		.mode = BOOT_CPU_LONG64,
		.rip = load + ENTRY_64_OFFSET,
		.rsi = BOOT_LOW_INFO,
		.gdt_base = BOOT_LOW_GDT,
		.gdt_limit = BZ_BOOT_DS + 7,
		.code_sel = BZ_BOOT_CS,
		.data_sel = BZ_BOOT_DS,
		.cr3 = boot_tables_identity_4g(p),
	};
	return 0;
}
