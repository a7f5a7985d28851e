/*
 * Which boot protocol a kernel file speaks, and its boot plan. Precedence
 * (docs/booting.md):
 *   1. "HdrS" at 0x202: Linux bzImage;
 *   2. an ELF with the hvgdb note (name "hvgdb", type 1): hvgdb's own ELF64
 *      protocol, even when it also has a PVH note or Multiboot header (the
 *      test guests carry a PVH note for QEMU);
 *   3. a valid Multiboot 2 header, then a valid Multiboot 1 header (as
 *      QEMU, Multiboot before PVH);
 *   4. an ELF with a Xen PVH entry note;
 *   5. any other ELF: hvgdb's ELF64 protocol (elf_loader.c reports what is
 *      wrong with it).
 */
#ifndef HVGDB_KERNEL_LOADER_H
#define HVGDB_KERNEL_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/boot_plan.h"

#define HVGDB_ELFNOTE_NAME "hvgdb"
#define HVGDB_ELFNOTE_PROTOCOL 1

/* The format of the file's first bytes (and ELF notes, when its PT_NOTE
 * segments are in the buffer). Never fails: KERNEL_FORMAT_UNKNOWN, with
 * what was seen in err, when nothing matches. */
enum kernel_format kernel_detect_format(const uint8_t *b, size_t size,
					char *err, size_t errlen);

/*
 * Detect the format and build the plan (which the function zeroes first).
 * KERNEL_FORMAT_HVGDB_ELF returns 0 with only p->format set: that protocol
 * is boot.c's. Otherwise 0 with a complete plan, or -EINVAL with one line
 * naming the format and what is wrong in err.
 */
int kernel_build_plan(const struct boot_inputs *in, struct boot_plan *p,
		      char *err, size_t errlen);

#endif
