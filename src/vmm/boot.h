/*
 * The hvgdb boot protocol (docs/booting.md): GDT, identity page
 * tables, command line page and the initial registers of every vCPU, set up
 * through the public VM API only.
 */
#ifndef HVGDB_BOOT_H
#define HVGDB_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "hvgdb/vmm.h"

#define BOOT_GDT_GPA 0x1000ULL
#define BOOT_PML4_GPA 0x2000ULL
#define BOOT_PDPT_GPA 0x3000ULL
#define BOOT_PD_GPA 0x4000ULL       /* four pages: 0-4 GiB */
#define BOOT_CMDLINE_GPA 0x8000ULL
#define BOOT_CMDLINE_MAX 4095       /* bytes, without the NUL */
/* Everything hvgdb writes lies below this; ELF segments must start above. */
#define BOOT_RESERVED_END 0x9000ULL

#define BOOT_CODE_SEL 0x08
#define BOOT_DATA_SEL 0x10

#define BOOT_CR0 0x80010033ULL /* PE MP ET NE WP PG */
#define BOOT_CR4 0x620ULL      /* PAE OSFXSR OSXMMEXCPT */
#define BOOT_EFER 0xd00ULL     /* LME LMA NXE */

/*
 * Join args with single spaces into buf (NUL-terminated). Returns the
 * length, or -ENAMETOOLONG when it exceeds BOOT_CMDLINE_MAX bytes.
 * buf must hold BOOT_CMDLINE_MAX + 1 bytes.
 */
int boot_build_cmdline(int argc, char *const argv[], char *buf);

/*
 * Write the GDT, page tables and command line into guest RAM and set every
 * vCPU's initial registers. cmdline NULL (or no guest args) leaves the page
 * zero and RCX = 0. Call before the first vm_run. 0 or -errno with one line
 * in err.
 */
int boot_setup(struct vm *vm, uint64_t entry, const char *cmdline, char *err,
	       size_t errlen);

#endif
