/*
 * A vCPU's debug state: one enum, and the list of every edge the event
 * machine (vcpu_events.c) may take between two states. The machine changes
 * a state only through events_set_state_locked, which refuses an edge that
 * is not listed here (checked_state.h). The table at the top of
 * vcpu_events.c is this list, rendered; unit.gdbstub_vcpu_state fails if
 * the two differ.
 *
 * The state says where the vCPU's thread is as far as the debugger is
 * concerned and what it owes it. The debugger's order to stop (`suspended`
 * in vcpu_events.h) is not part of it: it is set for every vCPU at once,
 * whatever each is doing, and a running vCPU obeys it at its next hook.
 */
#ifndef HVGDB_GDBSTUB_VCPU_STATE_H
#define HVGDB_GDBSTUB_VCPU_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "gdbstub/checked_state.h"

/* X(ID, name, parked, event): parked states are counted as waiting (the
 * thread sits in a hook, or is about to); event states have a stop to
 * report. */
#define VCPU_DEBUG_STATES(X)                                               \
	/* its thread has not reached a hook yet */                        \
	X(NOT_STARTED, "not-started", false, false)                        \
	/* free to run guest code */                                       \
	X(RUNNING, "running", false, false)                                \
	/* free to run one instruction, then reports it */                 \
	X(STEPPING, "stepping", false, false)                              \
	/* parked by the debugger, nothing to report */                    \
	X(PARKED, "parked", true, false)                                   \
	/* parked before the step it was resumed for ran (another vCPU's   \
	 * stop came first) */                                             \
	X(PARKED_MID_STEP, "parked-mid-step", true, false)                 \
	/* parked with a hit on one of our breakpoints to report */        \
	X(HIT_BREAKPOINT, "hit-breakpoint", true, true)                    \
	/* parked with a hit of one of our hardware breakpoints or         \
	 * watchpoints (Z1-Z4) to report */                                \
	X(HIT_WATCH, "hit-watch", true, true)                              \
	/* parked with a finished step to report */                        \
	X(STEPPED, "stepped", true, true)                                  \
	/* non-stop: parked because the debugger stopped this vCPU alone   \
	 * (vCont;t, vCtrlC), with that stop to report */                  \
	X(INTERRUPTED, "interrupted", true, true)                          \
	/* parked with a guest crash to report; never runs guest code again \
	 * (resumed, it leaves for the VM to end) */                       \
	X(CRASHED, "crashed", true, true)

enum vcpu_dbg_state {
#define VCPU_DEBUG_STATE_ENUM(id, name, parked, event) VCPU_##id,
	VCPU_DEBUG_STATES(VCPU_DEBUG_STATE_ENUM)
#undef VCPU_DEBUG_STATE_ENUM
	VCPU_STATE_COUNT
};

/* Every legal edge, in the table's order, and the states' names. */
extern const struct checked_state_machine vcpu_state_machine;

const char *vcpu_state_name(enum vcpu_dbg_state s);
bool vcpu_state_parked(enum vcpu_dbg_state s);
bool vcpu_state_has_event(enum vcpu_dbg_state s);

#endif
