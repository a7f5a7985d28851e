/*
 * Every packet the stub serves is one row of one table (packet_table.c):
 * the prefix it starts with, its handler, and what it needs of the target.
 * The dispatcher (packets.c) serves a row only when the target has what the
 * row needs; qSupported lists the features of exactly those rows, and the
 * vCont? reply is made the same way from the vCont action table
 * (packets_run.c). What is advertised and what is handled thus come from
 * the same rows and cannot disagree.
 */
#ifndef HVGDB_GDBSTUB_PACKET_TABLE_H
#define HVGDB_GDBSTUB_PACKET_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "gdbstub/session.h"

/* What a packet (or a vCont action) needs of the target. */
enum gdb_need {
	GDB_NEED_NOTHING,
	GDB_NEED_SWBREAK,   /* software breakpoints: gdb_session_has_swbreak */
	GDB_NEED_STEP,      /* a single-step method (MTRAP or TF) */
	GDB_NEED_READ_PHYS, /* guest memory reads (binary 'x' transfers) */
	GDB_NEED_WATCH,     /* hardware breakpoints and watchpoints:
			       gdb_session_has_watch */
};

/* Handles the payload after the row's prefix: [args, end). */
typedef enum gdb_packet_result (*gdb_packet_fn)(struct gdb_session *s,
						const char *args,
						const char *end,
						struct gdb_reply *r);

struct gdb_packet_entry {
	const char *prefix;
	bool exact;            /* the payload is the prefix, nothing more */
	gdb_packet_fn handler;
	enum gdb_need need;
	/* The reply when the target lacks `need`: 0 for the empty reply
	 * ("not supported", what the protocol asks), else E<refuse_errno>
	 * (a packet gdb sends whatever we advertise, like 's'). */
	int refuse_errno;
	/* What qSupported says when the target has `need`, or NULL. */
	const char *feature;
};

/* The rows, in the order qSupported lists their features. */
extern const struct gdb_packet_entry gdb_packet_table[];
extern const size_t gdb_packet_table_len;

/* The row with the longest prefix that matches the payload, or NULL. */
const struct gdb_packet_entry *gdb_packet_lookup(const char *pkt,
						 const char *end);
bool gdb_session_meets(const struct gdb_session *s, enum gdb_need need);
/* Serves one row: its handler if the target meets its need, else the
 * row's refusal. */
enum gdb_packet_result gdb_packet_serve(struct gdb_session *s,
					const struct gdb_packet_entry *e,
					const char *args, const char *end,
					struct gdb_reply *r);

#endif
