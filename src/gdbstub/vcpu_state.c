/* The vCPU debug states and their legal edges (vcpu_state.h). */
#include "gdbstub/vcpu_state.h"

#define E(from, to, when) { VCPU_##from, VCPU_##to, when }

static const struct checked_state_edge edges[] = {
	E(NOT_STARTED, RUNNING, "its thread reaches its first hook"),
	E(NOT_STARTED, STEPPING,
	  "resumed with a step before its thread came (it steps when it "
	  "comes)"),
	E(RUNNING, PARKED,
	  "at a hook while suspended (^C, attach, another vCPU's event, "
	  "a non-stop pause for a memory write; also resumed and suspended "
	  "again before its thread woke)"),
	E(RUNNING, HIT_BREAKPOINT, "executes an int3 of ours"),
	E(RUNNING, HIT_WATCH, "a hardware breakpoint or watchpoint of ours "
			      "fires"),
	E(RUNNING, CRASHED, "the guest crashes, a debugger attached"),
	E(RUNNING, INTERRUPTED, "non-stop: at a hook while the debugger "
				"stops this vCPU alone (vCont;t, vCtrlC)"),
	E(STEPPING, STEPPED, "the step trap"),
	E(STEPPING, PARKED_MID_STEP, "at a hook while suspended, before the "
				     "step ran, or with its range step "
				     "still inside the range"),
	E(STEPPING, HIT_BREAKPOINT, "the step executes an int3 of ours"),
	E(STEPPING, HIT_WATCH, "the step's instruction hits a watchpoint "
			       "(it ran), or a hardware breakpoint stops "
			       "it first"),
	E(STEPPING, CRASHED, "the step crashes the guest"),
	E(STEPPING, INTERRUPTED, "non-stop: stopped alone before the step "
				 "ran (the step is dropped)"),
	E(STEPPING, RUNNING, "the session or the VM ends: the step is "
			     "dropped"),
	E(PARKED, RUNNING,
	  "resumed (continue), a non-stop pause ends, the session ends "
	  "unheld, the VM ends"),
	E(PARKED, STEPPING, "resumed with a step"),
	E(PARKED_MID_STEP, RUNNING, "resumed (continue)"),
	E(PARKED_MID_STEP, STEPPING, "resumed with a step, or a non-stop "
				     "pause ends"),
	E(PARKED_MID_STEP, PARKED,
	  "the session or the VM ends: the step is dropped"),
	E(HIT_BREAKPOINT, PARKED,
	  "consumed: reported, then a resume; or dropped: a resume finds "
	  "the breakpoint removed, the session or the VM ends"),
	E(HIT_WATCH, PARKED,
	  "consumed, or dropped: a resume finds the watch removed, the "
	  "session or the VM ends"),
	E(STEPPED, PARKED, "consumed, or dropped when the session or the VM "
			   "ends"),
	E(CRASHED, PARKED, "consumed, or dropped when the session or the VM "
			   "ends (the VM ends next)"),
	E(INTERRUPTED, PARKED, "consumed: reported, then a resume; or "
			       "dropped when the session or the VM ends"),
};

static const char *const names[VCPU_STATE_COUNT] = {
#define VCPU_DEBUG_STATE_NAME(id, name, parked, event) [VCPU_##id] = name,
	VCPU_DEBUG_STATES(VCPU_DEBUG_STATE_NAME)
#undef VCPU_DEBUG_STATE_NAME
};

const struct checked_state_machine vcpu_state_machine =
	CHECKED_STATE_MACHINE("state", "vCPU", names, edges);

struct state_info {
	bool parked, event;
};

static const struct state_info states[VCPU_STATE_COUNT] = {
#define VCPU_DEBUG_STATE_INFO(id, name, parked, event) \
	[VCPU_##id] = { parked, event },
	VCPU_DEBUG_STATES(VCPU_DEBUG_STATE_INFO)
#undef VCPU_DEBUG_STATE_INFO
};

static const struct state_info *info(enum vcpu_dbg_state s)
{
	static const struct state_info unknown = { false, false };
	return (unsigned)s < VCPU_STATE_COUNT ? &states[s] : &unknown;
}

const char *vcpu_state_name(enum vcpu_dbg_state s)
{
	return checked_state_name(&vcpu_state_machine, s);
}

bool vcpu_state_parked(enum vcpu_dbg_state s)
{
	return info(s)->parked;
}

bool vcpu_state_has_event(enum vcpu_dbg_state s)
{
	return info(s)->event;
}
