/* Checks shared by the state machines' unit tests
 * (state_machine_checks.h). */
#include "state_machine_checks.h"
#include "child_stderr.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

void check_edge_table(const struct checked_state_machine *m)
{
	assert_true(m->edge_count > 0);
	for (size_t i = 0; i < m->edge_count; i++) {
		const struct checked_state_edge *e = &m->edges[i];
		assert_true(e->from >= 0 && e->from < m->state_count);
		assert_true(e->to >= 0 && e->to < m->state_count);
		assert_int_not_equal(e->from, e->to);
		assert_non_null(e->when);
		assert_true(e->when[0] != '\0');
		for (size_t j = 0; j < i; j++) /* no edge twice */
			assert_false(m->edges[j].from == e->from &&
				     m->edges[j].to == e->to);
	}
	for (int s = 0; s < m->state_count; s++) {
		const char *name = checked_state_name(m, s);
		assert_non_null(name);
		assert_string_not_equal(name, "?");
		for (int t = 0; t < s; t++)
			assert_string_not_equal(checked_state_name(m, t), name);
	}
	assert_string_equal(checked_state_name(m, -1), "?");
	assert_string_equal(checked_state_name(m, m->state_count), "?");
}

void expect_abort_saying(void (*fn)(void *arg), void *arg, const char *said)
{
	int status;
	const char *err = run_capturing_stderr(fn, arg, &status);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("no abort (wait status %#x) at \"%s\"", status, said);
	if (!strstr(err, said))
		fail_msg("want \"%s\" on stderr, got \"%s\"", said, err);
}

struct take_call {
	const struct checked_state_machine *m;
	int from, to;
};

/* Exit status 10 + what take returned, 20 if it counted other than one. */
static void take_in_child(void *arg)
{
	const struct take_call *c = arg;
	unsigned long refused = 0;
	bool taken = checked_state_take(c->m, 3, c->from, c->to, &refused);
	_exit(refused != 1 ? 20 : 10 + taken);
}

static bool listed(const struct checked_state_machine *m, int from, int to)
{
	for (size_t i = 0; i < m->edge_count; i++)
		if (m->edges[i].from == from && m->edges[i].to == to)
			return true;
	return false;
}

void check_unlisted_edges_refused(const struct checked_state_machine *m)
{
	for (int from = 0; from < m->state_count; from++) {
		for (int to = 0; to < m->state_count; to++) {
			if (from == to)
				continue;
			if (listed(m, from, to)) {
				unsigned long refused = 0;
				assert_true(checked_state_take(m, 3, from, to,
							       &refused));
				assert_int_equal(refused, 0);
				continue;
			}
			struct take_call c = { m, from, to };
			char want[256];
			int n = 0;
			if (m->instance)
				n = snprintf(want, sizeof(want), "%s 3: ",
					     m->instance);
			snprintf(want + n, sizeof(want) - (size_t)n,
				 "illegal %s transition %s -> %s refused (1 "
				 "so far)\n", m->what,
				 checked_state_name(m, from),
				 checked_state_name(m, to));
#ifdef NDEBUG
			/* refused, counted once, and the caller carries on */
			int status;
			const char *err = run_capturing_stderr(take_in_child, &c,
						       &status);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 10);
			if (!strstr(err, want))
				fail_msg("want \"%s\" on stderr, got \"%s\"",
					 want, err);
#else
			expect_abort_saying(take_in_child, &c, want);
#endif
		}
	}
}

void check_state_machine(const struct checked_state_machine *m,
			 int state_count, const char *doc_path,
			 const char *marker)
{
	assert_int_equal(m->state_count, state_count);
	check_edge_table(m);
	check_unlisted_edges_refused(m);
	if (doc_path)
		check_markdown_edges(m, doc_path, marker);
}

bool state_reaches(const struct checked_state_machine *m, int from, int to)
{
	bool seen[64] = { false };
	int todo[64];
	int n = 0;
	assert_true(m->state_count <= 64);
	todo[n++] = from;
	seen[from] = true;
	while (n > 0) {
		int s = todo[--n];
		if (s == to)
			return true;
		for (size_t i = 0; i < m->edge_count; i++) {
			const struct checked_state_edge *e = &m->edges[i];
			if (e->from == s && !seen[e->to]) {
				seen[e->to] = true;
				todo[n++] = e->to;
			}
		}
	}
	return false;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

void check_markdown_edges(const struct checked_state_machine *m,
			  const char *doc_path, const char *marker)
{
	const char *doc = read_file(doc_path);
	const char *start = strstr(doc, marker);
	const char *end = start ? strstr(start, "<!-- end -->") : NULL;
	if (!start || !end)
		fail_msg("%s: no table between \"%s\" and \"<!-- end -->\"",
			 doc_path, marker);
	size_t rows = 0;
	bool shown[256] = { false };
	assert_true(m->edge_count <= 256);
	for (const char *l = start; l && l < end; l = strchr(l, '\n')) {
		l++;
		char from[32], to[32];
		if (sscanf(l, "| `%31[a-z-]` | `%31[a-z-]` |", from, to) != 2)
			continue;
		rows++;
		size_t i = 0;
		while (i < m->edge_count &&
		       (strcmp(checked_state_name(m, m->edges[i].from), from) ||
			strcmp(checked_state_name(m, m->edges[i].to), to)))
			i++;
		if (i == m->edge_count)
			fail_msg("%s lists %s -> %s, the code does not",
				 doc_path, from, to);
		if (shown[i])
			fail_msg("%s lists %s -> %s twice", doc_path, from, to);
		shown[i] = true;
	}
	assert_int_equal(rows, m->edge_count);
}
