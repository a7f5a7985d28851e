/*
 * A vCPU's debug states (src/gdbstub/vcpu_state.c): the checks every state
 * machine gets (state_machine_checks.h: a well-formed table, every
 * unlisted edge refused and counted), what the design promises of the
 * edges, and that the table in the comment of vcpu_events.c is this one,
 * rendered. The event machine takes every edge through
 * events_set_state_locked, which asks checked_state_take
 * (test_vcpu_events: test_illegal_transition_refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gdbstub/vcpu_state.h"
#include "state_machine_checks.h"

static void test_common_checks(void **state)
{
	(void)state;
	/* its table is rendered in vcpu_events.c: checked below */
	check_state_machine(&vcpu_state_machine, VCPU_STATE_COUNT, NULL,
			    NULL);
}

/* The width of the "when" column: table lines stay within 80 columns. */
#define WHEN_WIDTH 37

static size_t name_width(void)
{
	size_t w = strlen("from");
	for (int st = 0; st < VCPU_STATE_COUNT; st++)
		if (strlen(vcpu_state_name((enum vcpu_dbg_state)st)) > w)
			w = strlen(vcpu_state_name((enum vcpu_dbg_state)st));
	return w;
}

static void add_row(char *out, size_t cap, const char *from, const char *to,
		    const char *when, size_t when_len)
{
	size_t w = name_width();
	size_t n = strlen(out);
	snprintf(out + n, cap - n, " * | %-*s | %-*s | %-*.*s |\n", (int)w, from,
		 (int)w, to, WHEN_WIDTH, (int)when_len, when);
}

/* The edges of vcpu_state.c as the comment of vcpu_events.c shows them:
 * one row per edge, "when" wrapped at word boundaries. */
static void render_table(char *out, size_t cap)
{
	size_t w = name_width();
	char rule[128];
	out[0] = 0;
	add_row(out, cap, "from", "to", "when", 4);
	memset(rule, '-', sizeof(rule));
	size_t n = strlen(out);
	snprintf(out + n, cap - n, " * |%.*s|%.*s|%.*s|\n", (int)w + 2, rule,
		 (int)w + 2, rule, WHEN_WIDTH + 2, rule);
	const struct checked_state_machine *m = &vcpu_state_machine;
	for (size_t i = 0; i < m->edge_count; i++) {
		const struct checked_state_edge *e = &m->edges[i];
		const char *from = vcpu_state_name(e->from);
		const char *to = vcpu_state_name(e->to);
		const char *text = e->when;
		while (*text) {
			size_t len = strlen(text);
			if (len > WHEN_WIDTH) {
				len = WHEN_WIDTH;
				while (len > 0 && text[len] != ' ')
					len--;
				assert_true(len > 0); /* a word fits a line */
			}
			add_row(out, cap, from, to, text, len);
			from = to = "";
			text += len;
			while (*text == ' ')
				text++;
		}
	}
}

/* The table lines (" * |") of vcpu_events.c's first comment. */
static void table_in_source(char *out, size_t cap)
{
	FILE *f = fopen(HVGDB_VCPU_EVENTS_C, "r");
	char line[256];
	assert_non_null(f);
	out[0] = 0;
	while (fgets(line, sizeof(line), f) && strncmp(line, " */", 3) != 0) {
		if (strncmp(line, " * |", 4) != 0)
			continue;
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%s", line);
	}
	fclose(f);
}

static void test_state_table_matches_code(void **state)
{
	(void)state;
	static char want[16384], have[16384];
	render_table(want, sizeof(want));
	table_in_source(have, sizeof(have));
	if (strcmp(want, have) != 0) {
		fprintf(stderr, "replace the table in src/gdbstub/vcpu_events.c "
			"with:\n%s", want);
		fail_msg("the state table in src/gdbstub/vcpu_events.c is not "
			 "vcpu_state.c's (see above)");
	}
}

/* What the design promises of the edges, whatever they are. */
static void test_state_graph_properties(void **state)
{
	(void)state;
	const struct checked_state_machine *m = &vcpu_state_machine;
	for (int i = 0; i < VCPU_STATE_COUNT; i++) {
		enum vcpu_dbg_state s = (enum vcpu_dbg_state)i;
		/* every state can happen, and no vCPU is stuck in one: it
		 * can always get back to running guest code */
		assert_true(state_reaches(m, VCPU_NOT_STARTED, s));
		if (s != VCPU_NOT_STARTED)
			assert_true(state_reaches(m, s, VCPU_RUNNING));
	}
	for (size_t i = 0; i < m->edge_count; i++) {
		const struct checked_state_edge *e = &m->edges[i];
		/* a thread that came never leaves again */
		assert_int_not_equal(e->to, VCPU_NOT_STARTED);
		/* events happen to running code only */
		if (vcpu_state_has_event(e->to))
			assert_true(e->from == VCPU_RUNNING ||
				    e->from == VCPU_STEPPING);
		/* an event is never forgotten by running on: it is
		 * consumed or dropped, and the vCPU parked */
		if (vcpu_state_has_event(e->from))
			assert_int_equal(e->to, VCPU_PARKED);
		/* only parked vCPUs are resumed */
		if (e->to == VCPU_STEPPING)
			assert_true(e->from == VCPU_NOT_STARTED ||
				    vcpu_state_parked(e->from));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_checks),
		cmocka_unit_test(test_state_table_matches_code),
		cmocka_unit_test(test_state_graph_properties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
