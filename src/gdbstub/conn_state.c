/* The connection states and their legal edges (conn_state.h). */
#include "gdbstub/conn_state.h"

#define E(from, to, when) { CONN_##from, CONN_##to, when }

static const struct checked_state_edge edges[] = {
	E(NONE, STOPPING, "a debugger connects: every vCPU is told to stop"),
	E(STOPPING, STOPPED, "every vCPU parked (gdb asks with '?')"),
	E(STOPPING, DETACHING, "the debugger goes before the stop completed"),
	E(STOPPING, NONE, "the VM ends"),
	E(STOPPED, RUNNING, "a resume (c, s, vCont), or k: the VM's end is "
			    "owed"),
	E(STOPPED, NONE, "D, the connection is lost, or the VM ends"),
	E(STOPPED, DETACHING, "non-stop: D or the connection is lost while "
			      "vCPUs run"),
	E(RUNNING, STOPPED, "every vCPU parked after an event or ^C: the "
			    "stop reply is sent"),
	E(RUNNING, DETACHING, "the connection is lost"),
	E(RUNNING, NONE, "the VM ends (W or X sent)"),
	E(DETACHING, NONE, "every vCPU parked: breakpoints out, guest "
			   "resumed; or the VM ends"),
};

static const char *const names[CONN_STATE_COUNT] = {
#define CONN_STATE_NAME(id, name, serves) [CONN_##id] = name,
	CONN_STATES(CONN_STATE_NAME)
#undef CONN_STATE_NAME
};

const struct checked_state_machine conn_state_machine =
	CHECKED_STATE_MACHINE("connection state", NULL, names, edges);

static const bool serves_packets[CONN_STATE_COUNT] = {
#define CONN_STATE_SERVES(id, name, serves) [CONN_##id] = serves,
	CONN_STATES(CONN_STATE_SERVES)
#undef CONN_STATE_SERVES
};

const char *conn_state_name(enum conn_state s)
{
	return checked_state_name(&conn_state_machine, s);
}

bool conn_state_serves_packets(enum conn_state s)
{
	return (unsigned)s < CONN_STATE_COUNT && serves_packets[s];
}
