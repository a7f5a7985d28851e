/*
 * The mechanism shared by the debug server's state machines (vcpu_state.h,
 * conn_state.h, world_state.h): each is an enum changed only through one
 * transition function, with a table of its legal edges and a name per
 * state. This module holds what they have in common: looking an edge up in
 * the table, naming a state, and what happens to an edge the table does not
 * list. Each machine keeps its own enum, table and names in its own file;
 * its transition function asks checked_state_take before it writes.
 */
#ifndef HVGDB_GDBSTUB_CHECKED_STATE_H
#define HVGDB_GDBSTUB_CHECKED_STATE_H

#include <stdbool.h>
#include <stddef.h>

/* One legal edge. States are the machine's enum values, held as int so one
 * table type serves every machine. */
struct checked_state_edge {
	int from, to;
	const char *when; /* what takes it, for the tables in comments/docs */
};

struct checked_state_machine {
	/* For the log line of a refused edge: "illegal <what> transition". */
	const char *what;
	/* A machine with one state per vCPU names the instance ("vCPU"):
	 * the log line starts "<instance> N: ". NULL for a single one. */
	const char *instance;
	const char *const *names; /* state_count entries */
	int state_count;
	const struct checked_state_edge *edges; /* in the tables' order */
	size_t edge_count;
};

/* The initializer of a machine from its arrays: names (one per state, sized
 * by the enum's COUNT) and edges. */
#define CHECKED_STATE_MACHINE(what_, instance_, names_, edges_)            \
	{ .what = (what_), .instance = (instance_), .names = (names_),      \
	  .state_count = (int)(sizeof(names_) / sizeof((names_)[0])),      \
	  .edges = (edges_),                                               \
	  .edge_count = sizeof(edges_) / sizeof((edges_)[0]) }

/* The name of state s, "?" for a value outside the enum. */
const char *checked_state_name(const struct checked_state_machine *m, int s);

/* from -> to is in the table. */
bool checked_state_edge_legal(const struct checked_state_machine *m,
			      int from, int to);

/*
 * The rule every transition function applies before it writes its state
 * (callers treat from == to as nothing to do, before asking). True when
 * the table lists from -> to. An unlisted edge is a bug in the caller:
 * debug builds abort on it; release builds add one to *refused (for
 * `monitor info stats`), log it to stderr and return false, and the caller
 * leaves its state as it was. `instance` is the vCPU for a machine with
 * an instance name, ignored otherwise.
 */
bool checked_state_take(const struct checked_state_machine *m, int instance,
			int from, int to, unsigned long *refused);

#endif
