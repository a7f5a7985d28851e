/*
 * Every mapping of a vCPU's page tables, in virtual-address order, for
 * `monitor info mem` and `monitor info tlb` (as QEMU's monitor has them).
 * Pure: guest-physical reads go through a callback, so the unit tests walk
 * tables built in a buffer.
 */
#ifndef HVGDB_PAGE_TABLE_DUMP_H
#define HVGDB_PAGE_TABLE_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pt_regs {
	uint64_t cr0, cr3, cr4, efer;
};

/* One present leaf: a page of `size` bytes (4 KiB, 2 or 4 MiB, 1 GiB) with
 * the access rights all levels above it allow. */
struct pt_mapping {
	uint64_t va, pa, size;
	bool user, write, exec;
	bool global, accessed, dirty;
};

enum pt_mode {
	PT_PAGING_OFF,
	PT_32BIT,  /* 2 levels, 4 MiB pages with CR4.PSE */
	PT_PAE,    /* 3 levels */
	PT_4LEVEL, /* long mode */
	PT_5LEVEL, /* long mode with CR4.LA57 */
};

typedef int (*pt_read_phys)(void *ctx, uint64_t gpa, void *buf, size_t len);
typedef void (*pt_emit)(const struct pt_mapping *m, void *arg);

enum pt_mode pt_mode_of(const struct pt_regs *r);
const char *pt_mode_name(enum pt_mode m);
/* Calls emit for every present leaf, lowest address first (canonical
 * addresses in long mode). A table that cannot be read is skipped and
 * counted: returns how many were, or -EINVAL for paging off. */
int pt_walk(const struct pt_regs *r, pt_read_phys read, void *ctx,
	    pt_emit emit, void *arg);

#endif
