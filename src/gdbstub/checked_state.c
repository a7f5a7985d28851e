/* The shared mechanism of the debug server's state machines
 * (checked_state.h). */
#include "gdbstub/checked_state.h"

#include <stdio.h>
#include <stdlib.h>

const char *checked_state_name(const struct checked_state_machine *m, int s)
{
	return s >= 0 && s < m->state_count ? m->names[s] : "?";
}

bool checked_state_edge_legal(const struct checked_state_machine *m,
			      int from, int to)
{
	for (size_t i = 0; i < m->edge_count; i++)
		if (m->edges[i].from == from && m->edges[i].to == to)
			return true;
	return false;
}

bool checked_state_take(const struct checked_state_machine *m, int instance,
			int from, int to, unsigned long *refused)
{
	if (checked_state_edge_legal(m, from, to))
		return true;
	(*refused)++;
	char who[48] = "";
	if (m->instance)
		snprintf(who, sizeof(who), "%s %d: ", m->instance, instance);
	/* one write: stderr is unbuffered, and other threads log too */
	fprintf(stderr, "gdbstub: %sillegal %s transition %s -> %s refused "
		"(%lu so far)\n", who, m->what, checked_state_name(m, from),
		checked_state_name(m, to), *refused);
	fflush(stderr);
#ifndef NDEBUG
	abort(); /* a debug build stops at the bug */
#endif
	return false;
}
