/* Kernel format detection and dispatch (see kernel_loader.h). */
#include "vmm/kernel_loader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/elf_segments.h"
#include "vmm/linux_bzimage.h"
#include "vmm/multiboot1.h"
#include "vmm/multiboot2.h"
#include "vmm/pvh_loader.h"

static bool has_hvgdb_note(const uint8_t *b, const struct elf_info *e)
{
	uint32_t descsz;

	return elf_find_note(b, e, HVGDB_ELFNOTE_NAME, HVGDB_ELFNOTE_PROTOCOL,
			     &descsz) != NULL;
}

enum kernel_format kernel_detect_format(const uint8_t *b, size_t size,
					char *err, size_t errlen)
{
	struct elf_info e;
	char mb_err[160] = "";
	uint64_t off, entry;
	bool elf = elf_has_magic(b, size);
	bool elf_ok = elf && elf_info_parse(b, size, &e, err, errlen) == 0;

	if (bzimage_detect(b, size))
		return KERNEL_FORMAT_BZIMAGE;
	if (elf_ok && has_hvgdb_note(b, &e))
		return KERNEL_FORMAT_HVGDB_ELF;
	if (mb2_find_header(b, size, &off, mb_err, sizeof(mb_err)) == 0)
		return KERNEL_FORMAT_MULTIBOOT2;
	if (mb1_find_header(b, size, &off, mb_err, sizeof(mb_err)) == 0)
		return KERNEL_FORMAT_MULTIBOOT1;
	/* A malformed PVH note still means a PVH kernel: its loader says
	 * what is wrong. */
	if (elf_ok && pvh_entry_point(b, &e, &entry, err, errlen) != -ENOENT)
		return KERNEL_FORMAT_PVH_ELF;
	if (elf)
		return KERNEL_FORMAT_HVGDB_ELF;
	if (mb_err[0])
		snprintf(err, errlen, "%s", mb_err);
	else
		snprintf(err, errlen, "not a kernel hvgdb can boot (no ELF, "
			 "bzImage or Multiboot header)");
	return KERNEL_FORMAT_UNKNOWN;
}

int kernel_build_plan(const struct boot_inputs *in, struct boot_plan *p,
		      char *err, size_t errlen)
{
	struct elf_info e;
	enum kernel_format f;

	memset(p, 0, sizeof(*p));
	if (!in->kernel) {
		snprintf(err, errlen, "no kernel data");
		return -EINVAL;
	}
	if (in->ninitrds > BOOT_MAX_INITRDS) {
		snprintf(err, errlen, "at most %d initrds", BOOT_MAX_INITRDS);
		return -EINVAL;
	}
	if (in->ram_size < BOOT_KERNEL_MIN_PADDR) {
		snprintf(err, errlen, "guest RAM below 1 MiB");
		return -EINVAL;
	}
	f = kernel_detect_format(in->kernel, in->kernel_size, err, errlen);
	p->format = f;
	switch (f) {
	case KERNEL_FORMAT_BZIMAGE:
		return bzimage_build(in, p, err, errlen);
	case KERNEL_FORMAT_MULTIBOOT2:
		return mb2_build(in, p, err, errlen);
	case KERNEL_FORMAT_MULTIBOOT1:
		return mb1_build(in, p, err, errlen);
	case KERNEL_FORMAT_PVH_ELF:
		if (elf_info_parse(in->kernel, in->kernel_size, &e, err,
				   errlen))
			return -EINVAL;
		return pvh_build(in, &e, p, err, errlen);
	case KERNEL_FORMAT_HVGDB_ELF:
		return 0;
	case KERNEL_FORMAT_UNKNOWN:
		break;
	}
	return -EINVAL;
}
