/*
 * The world's stop states (src/gdbstub/world_state.c): the checks every
 * state machine gets (state_machine_checks.h: a well-formed table, every
 * unlisted edge refused and counted, the docs table is the code's), and
 * what the event machine promises of their edges. The event machine takes
 * every edge through events_set_world_locked, which asks
 * checked_state_take (test_vcpu_events: test_illegal_world_transition_refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gdbstub/world_state.h"
#include "state_machine_checks.h"

static void test_common_checks(void **state)
{
	(void)state;
	check_state_machine(&world_state_machine, WORLD_STATE_COUNT, HVGDB_DESIGN_NOTES,
			    "<!-- world_state edges -->");
}

static void test_graph_promises(void **state)
{
	(void)state;
	const struct checked_state_machine *m = &world_state_machine;
	for (size_t i = 0; i < m->edge_count; i++) {
		const struct checked_state_edge *e = &m->edges[i];
		/* the VM's end is for ever */
		assert_int_not_equal(e->from, WORLD_OVER);
		/* a stop is taken only once it was asked for */
		if (e->to == WORLD_STOPPED)
			assert_true(world_state_stop_wanted(e->from) &&
				    world_state_stop_requested(e->from));
		/* the guest runs for the debugger only after it saw it
		 * stopped */
		if (e->to == WORLD_RUNNING)
			assert_int_equal(e->from, WORLD_STOPPED);
	}
	for (int s = 0; s < WORLD_STATE_COUNT; s++) {
		/* the VM may end in any state */
		if (s != WORLD_OVER)
			assert_true(checked_state_edge_legal(m, s, WORLD_OVER));
		/* every state is reachable from the start */
		assert_true(state_reaches(m, WORLD_FREE, s));
		/* and, but for the end, leads back to a free guest */
		if (s != WORLD_OVER)
			assert_true(state_reaches(m, s, WORLD_FREE));
	}
	/* what the four booleans of before meant, state by state */
	assert_false(world_state_stop_wanted(WORLD_FREE));
	assert_false(world_state_stop_requested(WORLD_FREE));
	assert_true(world_state_stop_wanted(WORLD_RUNNING));
	assert_false(world_state_stop_requested(WORLD_RUNNING));
	assert_true(world_state_stop_wanted(WORLD_INTERRUPTING));
	assert_false(world_state_stop_wanted(WORLD_STOPPED));
	assert_true(world_state_stop_requested(WORLD_STOPPED));
	assert_false(world_state_stop_wanted(WORLD_OVER));
	/* what the event machine must never do */
	assert_false(checked_state_edge_legal(m, WORLD_FREE, WORLD_RUNNING));
	assert_false(checked_state_edge_legal(m, WORLD_FREE, WORLD_STOPPED));
	assert_false(checked_state_edge_legal(m, WORLD_RUNNING, WORLD_STOPPED));
	assert_false(checked_state_edge_legal(m, WORLD_OVER, WORLD_FREE));
	assert_string_equal(world_state_name(WORLD_INTERRUPTING),
			    "interrupting");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_checks),
		cmocka_unit_test(test_graph_promises),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
