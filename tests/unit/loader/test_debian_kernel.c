/*
 * The loaders against Debian 12's real kernel (fetched by
 * tests/kernels/debian_kernel_test.sh): the bzImage's setup header as
 * measured for it, a complete boot plan, and the PVH entry of the vmlinux
 * extracted from it.
 *
 * usage: test_debian_kernel VMLINUZ VMLINUX
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/boot_plan.h"
#include "vmm/elf_segments.h"
#include "vmm/kernel_loader.h"
#include "vmm/linux_bzimage.h"
#include "vmm/pvh_loader.h"

#define RAM (256ULL << 20)

static const char *vmlinuz_path, *vmlinux_path;

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static void bzimage_header_as_measured(void **state)
{
	struct bzimage_header h;
	char err[256];
	size_t size;
	uint8_t *k = slurp(vmlinuz_path, &size);

	(void)state;
	assert_int_equal(bzimage_parse_header(k, size, &h, err, sizeof(err)),
			 0);
	assert_int_equal(h.version, 0x020f); /* boot protocol 2.15 */
	assert_true(h.xloadflags & BZ_XLF_KERNEL_64);
	assert_true(h.xloadflags & BZ_XLF_CAN_BE_LOADED_ABOVE_4G);
	assert_true(h.relocatable);
	assert_int_equal(h.pref_address, 0x1000000);
	/* ~64 MiB: it grows a little with each Debian point release */
	assert_in_range(h.init_size, 56u << 20, 72u << 20);
	assert_int_equal(h.cmdline_size, 2047);
	free(k);
}

static void bzimage_plan(void **state)
{
	static uint8_t rd[4096];
	const struct boot_initrd initrd = { rd, sizeof(rd), "initrd" };
	struct boot_plan *p = calloc(1, sizeof(*p));
	char err[256] = "";
	size_t size;
	uint8_t *k = slurp(vmlinuz_path, &size);
	struct boot_inputs in = { k, size, &initrd, 1, "console=ttyS0", RAM,
				  1, 0 };

	(void)state;
	assert_non_null(p);
	assert_int_equal(kernel_build_plan(&in, p, err, sizeof(err)), 0);
	assert_int_equal(p->format, KERNEL_FORMAT_BZIMAGE);
	assert_int_equal(p->cpu.rip, 0x1000200);
	assert_int_equal(p->chunks[0].gpa, 0x1000000);
	assert_true(p->initrd_start >= p->kernel_end);
	assert_int_equal(p->initrd_start, RAM - 4096);
	/* 128 MiB is not enough for 16 MiB + init_size and the initrd's
	 * page is still fine; 64 MiB is refused, naming --memory. */
	in.ram_size = 64ULL << 20;
	assert_int_equal(kernel_build_plan(&in, p, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "--memory"));
	free(p);
	free(k);
}

static void vmlinux_has_pvh_entry(void **state)
{
	struct boot_plan *p = calloc(1, sizeof(*p));
	struct elf_info e;
	char err[256] = "";
	uint64_t entry;
	size_t size;
	uint8_t *k = slurp(vmlinux_path, &size);
	struct boot_inputs in = { k, size, NULL, 0, "console=ttyS0", RAM, 1,
				  0 };

	(void)state;
	assert_non_null(p);
	assert_int_equal(kernel_detect_format(k, size, err, sizeof(err)),
			 KERNEL_FORMAT_PVH_ELF);
	assert_int_equal(elf_info_parse(k, size, &e, err, sizeof(err)), 0);
	assert_int_equal(e.bits, 64);
	assert_int_equal(pvh_entry_point(k, &e, &entry, err, sizeof(err)),
			 0);
	assert_true(entry >= 0x1000000 && entry < 0x4000000);
	assert_int_equal(kernel_build_plan(&in, p, err, sizeof(err)), 0);
	assert_int_equal(p->kernel_start, 0x1000000);
	assert_int_equal(p->cpu.rip, entry);
	assert_int_equal(p->cpu.mode, BOOT_CPU_PROTECTED32);
	free(p);
	free(k);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bzimage_header_as_measured),
		cmocka_unit_test(bzimage_plan),
		cmocka_unit_test(vmlinux_has_pvh_entry),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s VMLINUZ VMLINUX\n", argv[0]);
		return 2;
	}
	vmlinuz_path = argv[1];
	vmlinux_path = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
