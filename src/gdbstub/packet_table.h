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
	GDB_NEED_SUSPEND,   /* stopping and resuming single vCPUs (the
			       suspend and resume ops): non-stop mode */
	GDB_NEED_NON_STOP,  /* the session is in non-stop mode */
};

/* What a packet needs of the vCPUs in non-stop mode, where others may run
 * while it is served (all-stop serves packets only with every vCPU
 * stopped, so this matters only in non-stop). */
enum gdb_while_running {
	GDB_RUNNING_OK,       /* served as is */
	GDB_HG_STOPPED,       /* the Hg vCPU's registers: refused (E10)
				 while that vCPU runs */
	GDB_PAUSE_IF_HG_RUNS, /* reads through the Hg vCPU's page tables:
				 every vCPU is paused around it while that
				 one runs */
	GDB_PAUSE_ALL,        /* writes guest memory or debug state, or reads
				 every vCPU: every running vCPU is paused
				 around it, so no engine runs while code
				 changes under it */
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
	/* Non-stop only: what it needs of running vCPUs. */
	enum gdb_while_running running;
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
