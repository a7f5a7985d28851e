/*
 * Software breakpoint table keyed by guest-physical address: an
 * open-addressing hash with linear probing, O(1) insert/find/remove at any
 * size. It only keeps records; patching guest memory is the caller's job.
 */
#ifndef HVGDB_GDBSTUB_BREAKPOINTS_H
#define HVGDB_GDBSTUB_BREAKPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct breakpoint {
	uint64_t gpa;
	/* The address the debugger gave, and whether it was physical
	 * (monitor phys on): z0 finds the record by it once the guest has
	 * mapped that address elsewhere. */
	uint64_t gva;
	bool phys;
	uint8_t saved_byte; /* original guest byte under the int3 */
};

struct bp_table {
	struct bp_slot *slots;
	size_t nslots; /* power of two, or 0 */
	size_t count;
	size_t tombstones;
};

void bp_table_init(struct bp_table *t);
void bp_table_free(struct bp_table *t);
size_t bp_table_count(const struct bp_table *t);
/* NULL if absent. The pointer is valid until the next insert/remove. */
struct breakpoint *bp_table_find(const struct bp_table *t, uint64_t gpa);
/* Adds a record (gpa must be absent). 0, or -ENOMEM. */
int bp_table_insert(struct bp_table *t, const struct breakpoint *bp);
/* true if a record was removed. */
bool bp_table_remove(struct bp_table *t, uint64_t gpa);
/* Calls fn for each record; fn must not modify the table. */
void bp_table_foreach(const struct bp_table *t,
		      void (*fn)(const struct breakpoint *bp, void *arg),
		      void *arg);
/* Drops every record (memory is not touched). */
void bp_table_clear(struct bp_table *t);

#endif
