/*
 * The debugger connection's states (src/gdbstub/conn_state.c): the checks
 * every state machine gets (state_machine_checks.h: a well-formed table,
 * every unlisted edge refused and counted, the docs table is the code's),
 * and what the server promises of its edges. The server takes every edge
 * through set_conn_state_locked, which asks checked_state_take.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gdbstub/conn_state.h"
#include "state_machine_checks.h"

static void test_common_checks(void **state)
{
	(void)state;
	check_state_machine(&conn_state_machine, CONN_STATE_COUNT, HVGDB_DESIGN_NOTES,
			    "<!-- conn_state edges -->");
}

static void test_graph_promises(void **state)
{
	(void)state;
	const struct checked_state_machine *m = &conn_state_machine;
	for (size_t i = 0; i < m->edge_count; i++) {
		const struct checked_state_edge *e = &m->edges[i];
		/* a session begins with a stop: nothing runs the guest for
		 * a debugger before it saw it stopped */
		if (e->from == CONN_NONE)
			assert_int_equal(e->to, CONN_STOPPING);
		/* detaching means taking breakpoints out of a running guest
		 * (in non-stop mode, `stopped` serves packets while some
		 * vCPUs run) */
		if (e->to == CONN_DETACHING)
			assert_true(e->from == CONN_RUNNING ||
				    e->from == CONN_STOPPING ||
				    e->from == CONN_STOPPED);
	}
	for (int s = 0; s < CONN_STATE_COUNT; s++) {
		/* the VM may end in any state, and the server forgets the
		 * session at once */
		if (s != CONN_NONE)
			assert_true(checked_state_edge_legal(m, s, CONN_NONE));
		/* every state is reachable once a debugger connects */
		assert_true(state_reaches(m, CONN_NONE, s));
		/* packets are served only with the guest stopped */
		assert_int_equal(conn_state_serves_packets(s),
				 s == CONN_STOPPED);
	}
	/* what the server must never do */
	assert_false(checked_state_edge_legal(m, CONN_NONE, CONN_RUNNING));
	assert_false(checked_state_edge_legal(m, CONN_NONE, CONN_STOPPED));
	assert_false(checked_state_edge_legal(m, CONN_DETACHING, CONN_STOPPED));
	assert_false(checked_state_edge_legal(m, CONN_DETACHING, CONN_RUNNING));
	assert_string_equal(conn_state_name(CONN_DETACHING), "detaching");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_checks),
		cmocka_unit_test(test_graph_promises),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
