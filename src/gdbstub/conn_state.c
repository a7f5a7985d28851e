/* The connection states and their legal edges (conn_state.h). */
#include "gdbstub/conn_state.h"

#define E(from, to, when) { CONN_##from, CONN_##to, when }

const struct conn_state_edge conn_state_edges[] = {
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

const size_t conn_state_edge_count =
	sizeof(conn_state_edges) / sizeof(conn_state_edges[0]);

bool conn_state_edge_legal(enum conn_state from, enum conn_state to)
{
	for (size_t i = 0; i < conn_state_edge_count; i++)
		if (conn_state_edges[i].from == from &&
		    conn_state_edges[i].to == to)
			return true;
	return false;
}

struct conn_state_info {
	const char *name;
	bool serves_packets;
};

static const struct conn_state_info infos[CONN_STATE_COUNT] = {
#define CONN_STATE_INFO(id, name, serves) [CONN_##id] = { name, serves },
	CONN_STATES(CONN_STATE_INFO)
#undef CONN_STATE_INFO
};

static const struct conn_state_info *info(enum conn_state s)
{
	static const struct conn_state_info unknown = { "?", false };
	return (unsigned)s < CONN_STATE_COUNT ? &infos[s] : &unknown;
}

const char *conn_state_name(enum conn_state s)
{
	return info(s)->name;
}

bool conn_state_serves_packets(enum conn_state s)
{
	return info(s)->serves_packets;
}
