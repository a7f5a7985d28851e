/*
 * The debugger's watches of one VM (vm_watch_insert/remove): a small table
 * the debug server changes while every vCPU is stopped, and a generation
 * number each backend engine compares at its next entry to pick changes
 * up (as host-side code writes are picked up, vm_internal.h).
 */
#ifndef HVGDB_VM_WATCH_H
#define HVGDB_VM_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hvgdb/vmm.h"
#include "sync/checked_mutex.h"

#define VM_WATCH_SLOTS (VM_MAX_HW_BREAKPOINTS + VM_MAX_WATCHPOINTS)

struct vm_watch {
	enum vm_watch_kind kind;
	uint64_t addr;
	uint64_t len;
	unsigned refs; /* inserted this many times */
};

struct vm_watch_table {
	struct checked_mutex mtx;
	struct vm_watch w[VM_WATCH_SLOTS];
	unsigned n;
	atomic_uint gen; /* bumped by every change */
};

int vm_watch_table_init(struct vm_watch_table *t);
void vm_watch_table_destroy(struct vm_watch_table *t);
/* The current watches (up to VM_WATCH_SLOTS) into out; returns how many,
 * and *gen the generation they belong to. */
unsigned vm_watch_snapshot(struct vm_watch_table *t, struct vm_watch *out,
			   unsigned *gen);

#endif
