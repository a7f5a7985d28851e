/* The world's stop states and their legal edges (world_state.h). */
#include "gdbstub/world_state.h"

#define E(from, to, when) { WORLD_##from, WORLD_##to, when }

static const struct checked_state_edge edges[] = {
	E(FREE, STOPPING, "a debugger attaches (every vCPU is suspended)"),
	E(FREE, OVER, "the VM ends"),
	E(RUNNING, STOPPING, "a vCPU's event claims the stop, or the "
			     "debugger goes"),
	E(RUNNING, INTERRUPTING, "^C"),
	E(RUNNING, OVER, "the VM ends"),
	E(STOPPING, INTERRUPTING, "^C while an event's stop completes (the "
				  "event is reported)"),
	E(STOPPING, STOPPED, "every vCPU parked and the server took the "
			     "stop"),
	E(STOPPING, OVER, "the VM ends"),
	E(INTERRUPTING, STOPPED, "every vCPU parked and the server took the "
				 "stop"),
	E(INTERRUPTING, OVER, "the VM ends"),
	E(STOPPED, RUNNING, "a resume"),
	E(STOPPED, STOPPING, "a resume finds an event still to report (sent "
			     "at once), or an attach, detach or EOF stops "
			     "again"),
	E(STOPPED, FREE, "the session ends and the guest is resumed (also "
			 "k)"),
	E(STOPPED, OVER, "the VM ends"),
};

static const char *const names[WORLD_STATE_COUNT] = {
#define WORLD_STATE_NAME(id, name, wanted, requested) [WORLD_##id] = name,
	WORLD_STATES(WORLD_STATE_NAME)
#undef WORLD_STATE_NAME
};

const struct checked_state_machine world_state_machine =
	CHECKED_STATE_MACHINE("world state", NULL, names, edges);

struct world_state_info {
	bool stop_wanted;
	bool stop_requested;
};

static const struct world_state_info infos[WORLD_STATE_COUNT] = {
#define WORLD_STATE_INFO(id, name, wanted, requested)                      \
	[WORLD_##id] = { wanted, requested },
	WORLD_STATES(WORLD_STATE_INFO)
#undef WORLD_STATE_INFO
};

static const struct world_state_info *info(enum world_state s)
{
	static const struct world_state_info unknown = { false, false };
	return (unsigned)s < WORLD_STATE_COUNT ? &infos[s] : &unknown;
}

const char *world_state_name(enum world_state s)
{
	return checked_state_name(&world_state_machine, s);
}

bool world_state_stop_wanted(enum world_state s)
{
	return info(s)->stop_wanted;
}

bool world_state_stop_requested(enum world_state s)
{
	return info(s)->stop_requested;
}
