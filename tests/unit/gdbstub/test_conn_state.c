/*
 * The debugger connection's states (src/gdbstub/conn_state.c): what the
 * server promises of its edges, and that docs/design-notes.md lists
 * exactly those edges. The server itself takes every edge through
 * set_conn_state_locked, which aborts a debug build on an unlisted one:
 * the server and e2e suites then fail at the bug.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gdbstub/conn_state.h"

/* Every state can reach `to` along legal edges. */
static bool reaches(enum conn_state from, enum conn_state to)
{
	bool seen[CONN_STATE_COUNT] = { false };
	enum conn_state queue[CONN_STATE_COUNT];
	size_t head = 0, tail = 0;
	queue[tail++] = from;
	seen[from] = true;
	while (head < tail) {
		enum conn_state s = queue[head++];
		if (s == to)
			return true;
		for (size_t i = 0; i < conn_state_edge_count; i++) {
			const struct conn_state_edge *e = &conn_state_edges[i];
			if (e->from == s && !seen[e->to]) {
				seen[e->to] = true;
				queue[tail++] = e->to;
			}
		}
	}
	return false;
}

static void test_graph_promises(void **state)
{
	(void)state;
	for (size_t i = 0; i < conn_state_edge_count; i++) {
		const struct conn_state_edge *e = &conn_state_edges[i];
		assert_true(e->from < CONN_STATE_COUNT &&
			    e->to < CONN_STATE_COUNT);
		assert_int_not_equal(e->from, e->to);
		assert_non_null(e->when);
		for (size_t j = 0; j < i; j++) /* no edge twice */
			assert_false(conn_state_edges[j].from == e->from &&
				     conn_state_edges[j].to == e->to);
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
			assert_true(conn_state_edge_legal(s, CONN_NONE));
		/* every state is reachable once a debugger connects */
		assert_true(reaches(CONN_NONE, s));
		/* packets are served only with the guest stopped */
		assert_int_equal(conn_state_serves_packets(s),
				 s == CONN_STOPPED);
	}
	/* what the server must never do */
	assert_false(conn_state_edge_legal(CONN_NONE, CONN_RUNNING));
	assert_false(conn_state_edge_legal(CONN_NONE, CONN_STOPPED));
	assert_false(conn_state_edge_legal(CONN_DETACHING, CONN_STOPPED));
	assert_false(conn_state_edge_legal(CONN_DETACHING, CONN_RUNNING));
	assert_string_equal(conn_state_name(CONN_DETACHING), "detaching");
	assert_string_equal(conn_state_name((enum conn_state)99), "?");
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* docs/design-notes.md has one row "| `from` | `to` | when |" per edge,
 * between the lines naming this table, and no other row. */
static void test_design_notes_list_the_edges(void **state)
{
	(void)state;
	const char *doc = read_file(HVGDB_DESIGN_NOTES);
	const char *start = strstr(doc, "<!-- conn_state edges -->");
	const char *end = start ? strstr(start, "<!-- end -->") : NULL;
	assert_non_null(start);
	assert_non_null(end);
	size_t rows = 0;
	for (const char *l = start; l && l < end; l = strchr(l, '\n')) {
		l++;
		char from[32], to[32];
		if (sscanf(l, "| `%31[a-z]` | `%31[a-z]` |", from, to) != 2)
			continue;
		rows++;
		bool found = false;
		for (size_t i = 0; i < conn_state_edge_count; i++)
			if (!strcmp(conn_state_name(conn_state_edges[i].from),
				    from) &&
			    !strcmp(conn_state_name(conn_state_edges[i].to),
				    to))
				found = true;
		if (!found)
			fail_msg("design notes list %s -> %s, the code does "
				 "not", from, to);
	}
	assert_int_equal(rows, conn_state_edge_count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graph_promises),
		cmocka_unit_test(test_design_notes_list_the_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
