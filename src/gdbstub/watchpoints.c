/* The session's hardware breakpoints and watchpoints (watchpoints.h). */
#include "gdbstub/watchpoints.h"

#include <errno.h>

void watch_table_init(struct watch_table *t)
{
	t->n = 0;
}

static int find(const struct watch_table *t, enum gdb_watch_type type,
		uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->w[i].type == type && t->w[i].addr == addr &&
		    t->w[i].len == len)
			return (int)i;
	return -1;
}

bool watch_table_has(const struct watch_table *t, enum gdb_watch_type type,
		     uint64_t addr, uint64_t len)
{
	return find(t, type, addr, len) >= 0;
}

int watch_table_add(struct watch_table *t, enum gdb_watch_type type,
		    uint64_t addr, uint64_t len)
{
	if (t->n == WATCH_TABLE_SIZE)
		return -ENOSPC;
	t->w[t->n++] = (struct gdb_watch){ type, addr, len };
	return 0;
}

bool watch_table_remove(struct watch_table *t, enum gdb_watch_type type,
			uint64_t addr, uint64_t len)
{
	int i = find(t, type, addr, len);
	if (i < 0)
		return false;
	t->w[i] = t->w[--t->n];
	return true;
}

bool watch_table_covers(const struct watch_table *t, enum gdb_watch_type type,
			uint64_t addr)
{
	for (unsigned i = 0; i < t->n; i++) {
		const struct gdb_watch *w = &t->w[i];
		if (w->type == type && addr >= w->addr &&
		    addr - w->addr < w->len)
			return true;
	}
	return false;
}

unsigned watch_table_count(const struct watch_table *t, bool breakpoints)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->n; i++)
		n += (t->w[i].type == GDB_HW_BREAKPOINT) == breakpoints;
	return n;
}
