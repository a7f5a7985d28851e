/*
 * Where the stop of every vCPU together (the world) stands, as the event
 * machine sees it (vcpu_events.c): one enum, and the list of every edge it
 * may take. events_set_world_locked is the only writer; it refuses an edge
 * not listed here (checked_state.h: debug builds abort on it, release
 * builds log and count it). docs/design-notes.md renders the list;
 * unit.gdbstub_world_state checks the graph's promises and the
 * rendering. Before, four booleans
 * (stop_wanted, stop_requested, interrupted, vm_over) carried this, and
 * which combinations were legal was written nowhere.
 */
#ifndef HVGDB_GDBSTUB_WORLD_STATE_H
#define HVGDB_GDBSTUB_WORLD_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "gdbstub/checked_state.h"

/* X(ID, name, stop_wanted, stop_requested)
 * stop_wanted: the server is told once every active vCPU is parked;
 * stop_requested: something stopped the world since the last resume, so
 * "every vCPU parked" means the stop is complete. */
#define WORLD_STATES(X)                                                    \
	/* nobody asked for a stop: no debugger, or one that let the       \
	 * guest go (and in non-stop mode, vCPUs stop one by one) */       \
	X(FREE, "free", false, false)                                      \
	/* resumed by the debugger: an event will stop the world */       \
	X(RUNNING, "running", true, false)                                 \
	/* every vCPU told to stop (an attach, an event, a detach) */      \
	X(STOPPING, "stopping", true, true)                                \
	/* the same for ^C: reported as SIGINT unless an event came */     \
	X(INTERRUPTING, "interrupting", true, true)                        \
	/* the stop is complete and the server took it */                  \
	X(STOPPED, "stopped", false, true)                                 \
	/* the VM ended: hooks never park again; no way out */             \
	X(OVER, "over", false, false)

enum world_state {
#define WORLD_STATE_ENUM(id, name, wanted, requested) WORLD_##id,
	WORLD_STATES(WORLD_STATE_ENUM)
#undef WORLD_STATE_ENUM
	WORLD_STATE_COUNT
};

/* Every legal edge, in the docs table's order, and the states' names. */
extern const struct checked_state_machine world_state_machine;

const char *world_state_name(enum world_state s);
bool world_state_stop_wanted(enum world_state s);
bool world_state_stop_requested(enum world_state s);

#endif
