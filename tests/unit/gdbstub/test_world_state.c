/*
 * The world's stop states (src/gdbstub/world_state.c): what the event
 * machine promises of their edges, and that docs/design-notes.md lists
 * exactly those edges. The event machine takes every edge through
 * events_set_world_locked, which refuses an unlisted one
 * (test_vcpu_events: test_illegal_world_transition_refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gdbstub/world_state.h"

/* `from` can reach `to` along legal edges. */
static bool reaches(enum world_state from, enum world_state to)
{
	bool seen[WORLD_STATE_COUNT] = { false };
	enum world_state queue[WORLD_STATE_COUNT];
	size_t head = 0, tail = 0;
	queue[tail++] = from;
	seen[from] = true;
	while (head < tail) {
		enum world_state s = queue[head++];
		if (s == to)
			return true;
		for (size_t i = 0; i < world_state_edge_count; i++) {
			const struct world_state_edge *e =
				&world_state_edges[i];
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
	for (size_t i = 0; i < world_state_edge_count; i++) {
		const struct world_state_edge *e = &world_state_edges[i];
		assert_true(e->from < WORLD_STATE_COUNT &&
			    e->to < WORLD_STATE_COUNT);
		assert_int_not_equal(e->from, e->to);
		assert_non_null(e->when);
		for (size_t j = 0; j < i; j++) /* no edge twice */
			assert_false(world_state_edges[j].from == e->from &&
				     world_state_edges[j].to == e->to);
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
			assert_true(world_state_edge_legal(s, WORLD_OVER));
		/* every state is reachable from the start */
		assert_true(reaches(WORLD_FREE, s));
		/* and, but for the end, leads back to a free guest */
		if (s != WORLD_OVER)
			assert_true(reaches(s, WORLD_FREE));
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
	assert_false(world_state_edge_legal(WORLD_FREE, WORLD_RUNNING));
	assert_false(world_state_edge_legal(WORLD_FREE, WORLD_STOPPED));
	assert_false(world_state_edge_legal(WORLD_RUNNING, WORLD_STOPPED));
	assert_false(world_state_edge_legal(WORLD_OVER, WORLD_FREE));
	assert_string_equal(world_state_name(WORLD_INTERRUPTING),
			    "interrupting");
	assert_string_equal(world_state_name((enum world_state)99), "?");
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
	const char *start = strstr(doc, "<!-- world_state edges -->");
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
		for (size_t i = 0; i < world_state_edge_count; i++)
			if (!strcmp(world_state_name(world_state_edges[i].from),
				    from) &&
			    !strcmp(world_state_name(world_state_edges[i].to),
				    to))
				found = true;
		if (!found)
			fail_msg("design notes list %s -> %s, the code does "
				 "not", from, to);
	}
	assert_int_equal(rows, world_state_edge_count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graph_promises),
		cmocka_unit_test(test_design_notes_list_the_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
