/*
 * Where the debugger's connection is, as the server thread sees it: one
 * enum, and the list of every edge the server may take between two
 * states. server.c changes the state only through set_conn_state_locked,
 * which refuses an edge not listed here (checked_state.h: debug builds
 * abort on it, release builds log and count it). docs/design-notes.md
 * renders the list; unit.gdbstub_conn_state checks the graph's promises
 * and the rendering.
 */
#ifndef HVGDB_GDBSTUB_CONN_STATE_H
#define HVGDB_GDBSTUB_CONN_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "gdbstub/checked_state.h"

/* X(ID, name, serves_packets) */
#define CONN_STATES(X)                                                     \
	/* no debugger */                                                  \
	X(NONE, "none", false)                                             \
	/* attached; waiting for every vCPU to park */                     \
	X(STOPPING, "stopping", false)                                     \
	/* the guest is stopped: packets are served */                     \
	X(STOPPED, "stopped", true)                                        \
	/* the guest was resumed: a stop reply (or W/X) is owed */          \
	X(RUNNING, "running", false)                                       \
	/* the debugger went away while the guest ran: stopping it to take \
	 * the breakpoints out */                                          \
	X(DETACHING, "detaching", false)

enum conn_state {
#define CONN_STATE_ENUM(id, name, serves) CONN_##id,
	CONN_STATES(CONN_STATE_ENUM)
#undef CONN_STATE_ENUM
	CONN_STATE_COUNT
};

/* Every legal edge, in the docs table's order, and the states' names. */
extern const struct checked_state_machine conn_state_machine;

const char *conn_state_name(enum conn_state s);
/* Packets other than ^C are answered (not refused with EBUSY). */
bool conn_state_serves_packets(enum conn_state s);

#endif
