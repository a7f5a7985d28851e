/*
 * The hardware breakpoints and watchpoints a debugger inserted (Z1-Z4):
 * what the session must take out again when the debugger leaves, what
 * `monitor info breakpoints` lists, and what tells a pending hit from a
 * stale one. A plain array: the target's limits keep it small.
 */
#ifndef HVGDB_GDBSTUB_WATCHPOINTS_H
#define HVGDB_GDBSTUB_WATCHPOINTS_H

#include <stdbool.h>
#include <stdint.h>

#include "hvgdb/gdbstub.h"

#define WATCH_TABLE_SIZE 256

struct gdb_watch {
	enum gdb_watch_type type;
	uint64_t addr, len;
};

struct watch_table {
	struct gdb_watch w[WATCH_TABLE_SIZE];
	unsigned n;
};

void watch_table_init(struct watch_table *t);
bool watch_table_has(const struct watch_table *t, enum gdb_watch_type type,
		     uint64_t addr, uint64_t len);
/* 0, or -ENOSPC. */
int watch_table_add(struct watch_table *t, enum gdb_watch_type type,
		    uint64_t addr, uint64_t len);
/* true if it was there. */
bool watch_table_remove(struct watch_table *t, enum gdb_watch_type type,
			uint64_t addr, uint64_t len);
/* Is there a watch of this type whose range holds addr? */
bool watch_table_covers(const struct watch_table *t, enum gdb_watch_type type,
			uint64_t addr);
unsigned watch_table_count(const struct watch_table *t, bool breakpoints);

#endif
