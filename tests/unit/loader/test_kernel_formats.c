/*
 * Kernel loaders (bzImage, PVH, Multiboot 1 and 2) against crafted images:
 * the boot plan's memory contents and entry state, every refusal, and
 * truncated or corrupted headers (never a crash: run under ASan too).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_images.h"
#include "vmm/boot_plan.h"
#include "vmm/kernel_loader.h"
#include "vmm/linux_bzimage.h"
#include "vmm/multiboot1.h"
#include "vmm/multiboot2.h"
#include "vmm/pvh_loader.h"

#define RAM (64ULL << 20)
#define MiB (1ULL << 20)

static uint8_t image[IMG_MAX];
static uint8_t initrd_a[5000], initrd_b[0x1000];
static struct boot_plan *plan;
static char err[256];

static int setup(void **state)
{
	(void)state;
	plan = calloc(1, sizeof(*plan));
	memset(initrd_a, 0xa5, sizeof(initrd_a));
	memset(initrd_b, 0x5b, sizeof(initrd_b));
	return plan ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(plan);
	return 0;
}

static int build(size_t size, const char *cmdline, unsigned ninitrds,
		 uint64_t ram)
{
	static const struct boot_initrd rds[2] = {
		{ initrd_a, sizeof(initrd_a), "/boot/a.cpio" },
		{ initrd_b, sizeof(initrd_b), "b mod-arg" },
	};
	struct boot_inputs in = { image, size, rds, ninitrds, cmdline, ram,
				  1, 0 };

	err[0] = '\0';
	return kernel_build_plan(&in, plan, err, sizeof(err));
}

/* The ACPI RSDP address reaches the kernel: the zero page's acpi_rsdp_addr
 * (0x070) for a bzImage, hvm_start_info.rsdp_paddr for PVH. */
static void rsdp_address_given_to_the_kernel(void **state)
{
	struct boot_inputs in = { image, BZ_SIZE, NULL, 0, "x", RAM, 1,
				  0xe0000 };

	(void)state;
	make_bzimage(image);
	assert_int_equal(kernel_build_plan(&in, plan, err, sizeof(err)), 0);
	assert_int_equal(get_le_at(plan->low, BOOT_LOW_INFO + 0x070, 8),
			 0xe0000);
	in.kernel_size = make_pvh_elf(image, 0);
	assert_int_equal(kernel_build_plan(&in, plan, err, sizeof(err)), 0);
	assert_int_equal(plan->format, KERNEL_FORMAT_PVH_ELF);
	assert_int_equal(get_le_at(plan->low, BOOT_LOW_INFO + 32, 8),
			 0xe0000);
}

static uint64_t low(uint64_t gpa, unsigned n)
{
	return get_le_at(plan->low, gpa, n);
}

static void expect_error(int rc, const char *needle)
{
	assert_int_equal(rc, -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

/* The map every loader hands over for 64 MiB of RAM. */
static void check_e820_like(uint64_t at, unsigned stride, unsigned type_off)
{
	const uint64_t want[3][3] = {
		{ 0, 0xa0000, 1 },
		{ 0xa0000, 0x60000, 2 },
		{ MiB, RAM - MiB, 1 },
	};

	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(low(at + i * stride, 8), want[i][0]);
		assert_int_equal(low(at + i * stride + 8, 8), want[i][1]);
		assert_int_equal(low(at + i * stride + type_off, 4),
				 want[i][2]);
	}
}

static void memory_map_has_mmio_hole_only_with_3g(void **state)
{
	struct boot_mem_range m[BOOT_MAX_MEM_RANGES];

	(void)state;
	assert_int_equal(boot_memory_map(RAM, m), 3);
	assert_int_equal(boot_memory_map(3ULL << 30, m), 4);
	assert_int_equal(m[2].addr + m[2].size, 3ULL << 30);
	assert_int_equal(m[3].addr, 0xc0000000ULL);
	assert_int_equal(m[3].size, 0x40000000ULL);
	assert_int_equal(m[3].type, BOOT_MEM_RESERVED);
}

static void bzimage_header_fields(void **state)
{
	struct bzimage_header h;

	(void)state;
	make_bzimage(image);
	assert_int_equal(bzimage_parse_header(image, BZ_SIZE, &h, err,
					      sizeof(err)), 0);
	assert_int_equal(h.version, 0x020f);
	assert_true(h.xloadflags & BZ_XLF_KERNEL_64);
	assert_true(h.relocatable);
	assert_int_equal(h.pref_address, BZ_PREF);
	assert_int_equal(h.init_size, BZ_INIT_SIZE);
	assert_int_equal(h.pm_offset, BZ_PM_OFFSET);
	assert_int_equal(h.pm_size, BZ_SIZE - BZ_PM_OFFSET);
	assert_int_equal(h.header_end, 0x26c);
}

static void bzimage_zero_page_and_entry(void **state)
{
	const uint64_t zp = BOOT_LOW_INFO;

	(void)state;
	make_bzimage(image);
	assert_int_equal(build(BZ_SIZE, "console=ttyS0 nokaslr", 2, RAM), 0);
	assert_int_equal(plan->format, KERNEL_FORMAT_BZIMAGE);
	/* the protected-mode kernel at pref_address */
	assert_int_equal(plan->chunks[0].gpa, BZ_PREF);
	assert_ptr_equal(plan->chunks[0].src, image + BZ_PM_OFFSET);
	assert_int_equal(plan->chunks[0].filesz, BZ_SIZE - BZ_PM_OFFSET);
	/* the setup header copied, then the loader's fields */
	assert_memory_equal(plan->low + zp + 0x1f1, image + 0x1f1,
			    0x210 - 0x1f1);
	assert_int_equal(low(zp + 0x202, 4), 0x53726448); /* "HdrS" */
	assert_int_equal(low(zp + 0x210, 1), 0xff);       /* type_of_loader */
	assert_int_equal(low(zp + 0x211, 1), 0x81);       /* + CAN_USE_HEAP */
	assert_int_equal(low(zp + 0x224, 2), 0xfe00);     /* heap_end_ptr */
	assert_int_equal(low(zp + 0x228, 4), BOOT_LOW_CMDLINE);
	assert_string_equal((char *)plan->low + BOOT_LOW_CMDLINE,
			    "console=ttyS0 nokaslr");
	assert_int_equal(low(zp + 0x23c, 4), 0);          /* subarch PC */
	/* both initrds back to back (page-aligned) at the top of RAM */
	uint64_t rd = low(zp + 0x218, 4);
	assert_int_equal(rd, RAM - 0x2000 - 0x1000);
	assert_int_equal(rd % 0x1000, 0);
	assert_int_equal(low(zp + 0x21c, 4), 0x2000 + sizeof(initrd_b));
	assert_int_equal(plan->chunks[1].gpa, rd);
	assert_int_equal(plan->chunks[2].gpa, rd + 0x2000);
	/* e820 */
	assert_int_equal(low(zp + 0x1e8, 1), 3);
	check_e820_like(zp + 0x2d0, 20, 16);
	/* 64-bit entry */
	assert_int_equal(plan->cpu.mode, BOOT_CPU_LONG64);
	assert_int_equal(plan->cpu.rip, BZ_PREF + 0x200);
	assert_int_equal(plan->cpu.rsi, zp);
	assert_int_equal(plan->cpu.code_sel, 0x10);
	assert_int_equal(plan->cpu.data_sel, 0x18);
	assert_int_equal(low(BOOT_LOW_GDT + 0x10, 8), 0x00af9b000000ffffULL);
	assert_int_equal(low(BOOT_LOW_GDT + 0x18, 8), 0x00cf93000000ffffULL);
	/* identity map: the kernel's and the initrd's 2 MiB pages */
	assert_int_equal(plan->cpu.cr3, BOOT_LOW_PML4);
	assert_int_equal(low(BOOT_LOW_PML4, 8) & ~0xfffULL, BOOT_LOW_PDPT);
	assert_int_equal(low(BOOT_LOW_PD + (BZ_PREF >> 21) * 8, 8),
			 BZ_PREF | 0x83);
	assert_int_equal(low(BOOT_LOW_PD + (rd >> 21) * 8, 8),
			 (rd & ~0x1fffffULL) | 0x83);
}

static void bzimage_writes_into_ram(void **state)
{
	uint8_t *ram = calloc(1, RAM);

	(void)state;
	assert_non_null(ram);
	make_bzimage(image);
	assert_int_equal(build(BZ_SIZE, "x", 1, RAM), 0);
	assert_int_equal(boot_plan_write(plan, ram, RAM), 0);
	assert_memory_equal(ram + BZ_PREF, image + BZ_PM_OFFSET,
			    BZ_SIZE - BZ_PM_OFFSET);
	assert_memory_equal(ram + RAM - 0x2000, initrd_a, sizeof(initrd_a));
	assert_memory_equal(ram + BOOT_LOW_INFO + 0x202, "HdrS", 4);
	free(ram);
}

static void bzimage_refusals(void **state)
{
	char big[BZ_CMDLINE_SIZE + 2];

	(void)state;
	make_bzimage(image);
	put_le(image, 0x236, 0x7e, 2);
	expect_error(build(BZ_SIZE, NULL, 0, RAM),
		     "bzImage without a 64-bit entry point (xloadflags)");
	make_bzimage(image);
	put_le(image, 0x206, 0x020b, 2);
	expect_error(build(BZ_SIZE, NULL, 0, RAM), "protocol 2.11");
	make_bzimage(image);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_error(build(BZ_SIZE, big, 0, RAM), "(cmdline_size)");
	big[BZ_CMDLINE_SIZE] = '\0'; /* exactly the limit: accepted */
	assert_int_equal(build(BZ_SIZE, big, 0, RAM), 0);
	expect_error(build(BZ_SIZE, NULL, 0, 17 * MiB), "--memory");
	expect_error(build(BZ_SIZE, NULL, 1, 18 * MiB), "initrd");
	put_le(image, 0x1fe, 0, 2);
	expect_error(build(BZ_SIZE, NULL, 0, RAM), "boot flag");
}

static void pvh_start_info(void **state)
{
	const uint64_t si = BOOT_LOW_INFO;

	(void)state;
	size_t n = make_pvh_elf(image, 0);
	assert_int_equal(build(n, "console=hvc0", 2, RAM), 0);
	assert_int_equal(plan->format, KERNEL_FORMAT_PVH_ELF);
	assert_int_equal(plan->chunks[0].gpa, ELF_PADDR);
	assert_int_equal(plan->chunks[0].memsz, ELF_MEMSZ);
	assert_int_equal(low(si, 4), 0x336ec578);
	assert_int_equal(low(si + 4, 4), 1);
	assert_int_equal(low(si + 12, 4), 2);
	assert_int_equal(low(si + 24, 8), BOOT_LOW_CMDLINE);
	assert_string_equal((char *)plan->low + BOOT_LOW_CMDLINE,
			    "console=hvc0");
	assert_int_equal(low(si + 32, 8), 0); /* rsdp_paddr */
	uint64_t mods = low(si + 16, 8);
	assert_int_equal(low(mods, 8), plan->initrd_start);
	assert_int_equal(low(mods + 8, 8), sizeof(initrd_a));
	assert_int_equal(low(mods + 32, 8), plan->initrd_start + 0x2000);
	assert_int_equal(low(mods + 40, 8), sizeof(initrd_b));
	assert_int_equal(low(si + 48, 4), 3);
	check_e820_like(low(si + 40, 8), 24, 16);
	assert_int_equal(plan->cpu.mode, BOOT_CPU_PROTECTED32);
	assert_int_equal(plan->cpu.rip, PVH_ENTRY);
	assert_int_equal(plan->cpu.rbx, si);
	assert_int_equal(low(BOOT_LOW_GDT + plan->cpu.code_sel, 8),
			 0x00cf9b000000ffffULL);
	assert_int_equal(low(BOOT_LOW_GDT + plan->cpu.data_sel, 8),
			 0x00cf93000000ffffULL);
	/* no command line: cmdline_paddr 0 */
	assert_int_equal(build(n, NULL, 0, RAM), 0);
	assert_int_equal(low(si + 24, 8), 0);
	assert_int_equal(low(si + 12, 4), 0);
}

static void hvgdb_note_wins_over_pvh(void **state)
{
	(void)state;
	size_t n = make_pvh_elf(image, 1);
	assert_int_equal(kernel_detect_format(image, n, err, sizeof(err)),
			 KERNEL_FORMAT_HVGDB_ELF);
	assert_int_equal(build(n, NULL, 0, RAM), 0);
	assert_int_equal(plan->format, KERNEL_FORMAT_HVGDB_ELF);
	assert_int_equal(plan->nchunks, 0);
	n = make_pvh_elf(image, 0);
	assert_int_equal(kernel_detect_format(image, n, err, sizeof(err)),
			 KERNEL_FORMAT_PVH_ELF);
}

static void pvh_refusals(void **state)
{
	(void)state;
	size_t n = make_pvh_elf(image, 0);
	put_le(image, 0x800 + 4, 2, 4); /* descsz 2 */
	expect_error(build(n, NULL, 0, RAM), "XEN_ELFNOTE_PHYS32_ENTRY");
	make_pvh_elf(image, 0);
	put_le(image, 0x800 + 16, 0x900000, 8); /* entry in no segment */
	expect_error(build(n, NULL, 0, RAM), "entry point");
	make_pvh_elf(image, 0);
	expect_error(build(n, NULL, 0, 2 * MiB), "outside guest RAM");
}

static void mb1_address_fields_and_info(void **state)
{
	const uint64_t mbi = BOOT_LOW_INFO;

	(void)state;
	size_t n = make_mb1_aout(image, 0x3);
	assert_int_equal(build(n, "root=/dev/foo", 2, RAM), 0);
	assert_int_equal(plan->format, KERNEL_FORMAT_MULTIBOOT1);
	assert_int_equal(plan->chunks[0].gpa, MB_LOAD);
	assert_ptr_equal(plan->chunks[0].src, image);
	assert_int_equal(plan->chunks[0].filesz, n);
	assert_int_equal(plan->chunks[0].memsz, MB_BSS_END - MB_LOAD);
	assert_int_equal(plan->cpu.mode, BOOT_CPU_PROTECTED32);
	assert_int_equal(plan->cpu.rax, 0x2badb002);
	assert_int_equal(plan->cpu.rbx, mbi);
	assert_int_equal(plan->cpu.rip, MB_ENTRY);
	assert_int_equal(low(mbi, 4), 0x24d); /* mem cmdline mods mmap name */
	assert_int_equal(low(mbi + 4, 4), 640);
	assert_int_equal(low(mbi + 8, 4), (RAM - MiB) >> 10);
	assert_string_equal((char *)plan->low + low(mbi + 16, 4),
			    "root=/dev/foo");
	assert_int_equal(low(mbi + 20, 4), 2);
	uint64_t mods = low(mbi + 24, 4);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t start = low(mods + i * 16, 4);
		uint64_t end = low(mods + i * 16 + 4, 4);

		assert_int_equal(start % 0x1000, 0);
		assert_true(start >= MB_BSS_END);
		assert_int_equal(end - start, i ? sizeof(initrd_b)
						: sizeof(initrd_a));
	}
	assert_string_equal((char *)plan->low + low(mods + 8, 4),
			    "/boot/a.cpio");
	assert_string_equal((char *)plan->low + low(mods + 24, 4),
			    "b mod-arg");
	assert_int_equal(low(mbi + 44, 4), 3 * 24);
	uint64_t mm = low(mbi + 48, 4);
	assert_int_equal(low(mm, 4), 20);
	check_e820_like(mm + 4, 24, 16);
	assert_string_equal((char *)plan->low + low(mbi + 64, 4), "hvgdb");
}

static void mb1_elf32(void **state)
{
	(void)state;
	size_t n = make_mb1_elf32(image);
	assert_int_equal(build(n, NULL, 1, RAM), 0);
	assert_int_equal(plan->format, KERNEL_FORMAT_MULTIBOOT1);
	assert_int_equal(plan->chunks[0].gpa, ELF_PADDR);
	assert_int_equal(plan->chunks[0].memsz, ELF_MEMSZ);
	assert_int_equal(plan->cpu.rip, ELF_PADDR + 0x10);
	assert_int_equal(plan->cpu.rax, 0x2badb002);
}

static void mb1_refusals(void **state)
{
	(void)state;
	size_t n = make_mb1_aout(image, 0x8); /* bit 3: unknown requirement */
	expect_error(build(n, NULL, 0, RAM), "requiring features");
	make_mb1_aout(image, 0);
	image[0x28] ^= 1; /* checksum */
	expect_error(build(n, NULL, 0, RAM), "bad checksum");
	make_mb1_aout(image, 0);
	put_le(image, 0x20 + 28, MB_BSS_END + 0x10, 4); /* entry past bss */
	expect_error(build(n, NULL, 0, RAM), "entry_addr");
	make_mb1_aout(image, 0);
	put_le(image, 0x20 + 20, MB_LOAD + 0x2000, 4); /* load_end > file */
	expect_error(build(n, NULL, 0, RAM), "load_end_addr");
}

/* Find a Multiboot 2 information tag. */
static uint64_t mb2_tag(uint32_t type, unsigned nth)
{
	uint64_t at = BOOT_LOW_INFO + 8, end = BOOT_LOW_INFO + low(
		BOOT_LOW_INFO, 4);

	while (at < end) {
		if (low(at, 4) == type && nth-- == 0)
			return at;
		if (low(at, 4) == 0)
			break;
		at += (low(at + 4, 4) + 7) & ~7ULL;
	}
	return 0;
}

static void mb2_info_tags(void **state)
{
	(void)state;
	size_t n = make_mb2_aout(image);
	assert_int_equal(build(n, "hello mb2", 2, RAM), 0);
	assert_int_equal(plan->format, KERNEL_FORMAT_MULTIBOOT2);
	assert_int_equal(plan->cpu.rax, 0x36d76289);
	assert_int_equal(plan->cpu.rbx, BOOT_LOW_INFO);
	assert_int_equal(plan->cpu.rip, MB_ENTRY);
	assert_int_equal(plan->chunks[0].gpa, MB_LOAD);
	assert_int_equal(plan->chunks[0].memsz, MB_BSS_END - MB_LOAD);
	uint64_t t = mb2_tag(1, 0);
	assert_true(t);
	assert_string_equal((char *)plan->low + t + 8, "hello mb2");
	t = mb2_tag(4, 0);
	assert_true(t);
	assert_int_equal(low(t + 4, 4), 16);
	assert_int_equal(low(t + 8, 4), 640);
	assert_int_equal(low(t + 12, 4), (RAM - MiB) >> 10);
	for (unsigned i = 0; i < 2; i++) {
		t = mb2_tag(3, i);
		assert_true(t);
		assert_int_equal(low(t + 8, 4) % 0x1000, 0);
		assert_int_equal(low(t + 12, 4) - low(t + 8, 4),
				 i ? sizeof(initrd_b) : sizeof(initrd_a));
	}
	assert_string_equal((char *)plan->low + mb2_tag(3, 1) + 16,
			    "b mod-arg");
	t = mb2_tag(6, 0);
	assert_true(t);
	assert_int_equal(low(t + 8, 4), 24);
	assert_int_equal(low(t + 4, 4), 16 + 3 * 24);
	check_e820_like(t + 16, 24, 16);
	t = mb2_tag(0, 0);
	assert_true(t);
	assert_int_equal(low(t + 4, 4), 8);
	assert_int_equal(t + 8, BOOT_LOW_INFO + low(BOOT_LOW_INFO, 4));
}

static void mb2_refusals(void **state)
{
	(void)state;
	size_t n = make_mb2_aout(image);
	/* turn the entry tag into a required EFI amd64 entry tag */
	put_le(image, 0x40 + 16 + 24 + 24, 9, 2);
	expect_error(build(n, NULL, 0, RAM), "requiring EFI");
	make_mb2_aout(image);
	put_le(image, 0x40 + 16 + 12, 8, 4); /* ask for EFI tables (tag 8) */
	expect_error(build(n, NULL, 0, RAM), "boot information");
	make_mb2_aout(image);
	put_le(image, 0x40 + 4, 4, 4); /* MIPS, checksum now wrong */
	expect_error(build(n, NULL, 0, RAM), "bad checksum");
}

static void unknown_format(void **state)
{
	(void)state;
	memset(image, 0x90, IMG_MAX);
	expect_error(build(IMG_MAX, NULL, 0, RAM), "not a kernel");
	assert_int_equal(plan->format, KERNEL_FORMAT_UNKNOWN);
}

/* Every prefix of each image, and each header byte overwritten with
 * several values: an answer every time (ASan and UBSan check the reads),
 * never a plan that points outside the file. */
static void check_plan_inside(size_t size, int rc)
{
	if (rc) {
		assert_int_equal(rc, -EINVAL);
		assert_true(err[0] != '\0');
		return;
	}
	for (unsigned i = 0; i < plan->nchunks; i++) {
		const struct boot_chunk *c = &plan->chunks[i];

		if (c->src >= image && c->src < image + IMG_MAX)
			assert_true(c->src + c->filesz <= image + size);
		assert_true(c->filesz <= c->memsz);
		assert_true(c->gpa + c->memsz <= RAM);
	}
}

static void truncated_and_corrupt_images(void **state)
{
	size_t (*makers[])(uint8_t *) = { make_bzimage, make_mb1_elf32,
					  make_mb2_aout };
	static uint8_t saved[IMG_MAX];
	const uint8_t values[] = { 0x00, 0xff, 0x7f, 0x80, 0x01 };

	(void)state;
	for (unsigned m = 0; m < 5; m++) {
		size_t full = m < 3 ? makers[m](image)
				    : m == 3 ? make_pvh_elf(image, 0)
					     : make_mb1_aout(image, 0x3);
		memcpy(saved, image, full);
		for (size_t len = 0; len < full; len++) {
			memcpy(image, saved, full);
			int rc = build(len, "c", 1, RAM);
			check_plan_inside(len, rc);
			/* a header cut short is always refused */
			if (m == 0 && len < 0x26c)
				assert_int_not_equal(rc, 0);
		}
		for (size_t off = 0; off < full && off < 0x1100; off++) {
			for (unsigned v = 0; v < sizeof(values); v++) {
				memcpy(image, saved, full);
				image[off] = values[v];
				check_plan_inside(full, build(full, "c", 2,
							      RAM));
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memory_map_has_mmio_hole_only_with_3g),
		cmocka_unit_test(bzimage_header_fields),
		cmocka_unit_test(bzimage_zero_page_and_entry),
		cmocka_unit_test(bzimage_writes_into_ram),
		cmocka_unit_test(bzimage_refusals),
		cmocka_unit_test(pvh_start_info),
		cmocka_unit_test(rsdp_address_given_to_the_kernel),
		cmocka_unit_test(hvgdb_note_wins_over_pvh),
		cmocka_unit_test(pvh_refusals),
		cmocka_unit_test(mb1_address_fields_and_info),
		cmocka_unit_test(mb1_elf32),
		cmocka_unit_test(mb1_refusals),
		cmocka_unit_test(mb2_info_tags),
		cmocka_unit_test(mb2_refusals),
		cmocka_unit_test(unknown_format),
		cmocka_unit_test(truncated_and_corrupt_images),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
