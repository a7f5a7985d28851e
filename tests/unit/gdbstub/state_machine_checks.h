/*
 * Checks every state machine of the debug server gets (checked_state.h):
 * the table is well formed, every edge it does not list is refused and
 * counted (and aborts a debug build), the table in the docs is the code's,
 * and graph reachability for each machine's own promises. cmocka asserts:
 * call from a cmocka test.
 */
#ifndef HVGDB_TESTS_STATE_MACHINE_CHECKS_H
#define HVGDB_TESTS_STATE_MACHINE_CHECKS_H

#include <stdbool.h>

#include "gdbstub/checked_state.h"

/* Every edge joins two different states of the enum and says when it is
 * taken; no edge is listed twice; every state has its own name, and a
 * value outside the enum is named "?". */
void check_edge_table(const struct checked_state_machine *m);

/* checked_state_take on every pair of different states: a listed edge is
 * taken (true, nothing counted); any other is refused with one log line
 * naming it and the instance, counted once (release builds: false), or
 * aborts (debug builds). Each refusal runs in a child process. */
void check_unlisted_edges_refused(const struct checked_state_machine *m);

/* The markdown file at doc_path has, between the line `marker` and the
 * next "<!-- end -->", one row "| `from` | `to` | when |" per edge of m
 * and no other such row. */
void check_markdown_edges(const struct checked_state_machine *m,
			  const char *doc_path, const char *marker);

/* All of the above: m has state_count states (its enum's COUNT), and its
 * table is in the markdown file doc_path (NULL: rendered elsewhere, and
 * checked by the caller). */
void check_state_machine(const struct checked_state_machine *m,
			 int state_count, const char *doc_path,
			 const char *marker);

/* `from` can reach `to` along listed edges. */
bool state_reaches(const struct checked_state_machine *m, int from, int to);

/* fn(arg), in a child process, aborts (SIGABRT) and its stderr says
 * `said`: what a debug build does at a bug it checks for. */
void expect_abort_saying(void (*fn)(void *arg), void *arg, const char *said);

#endif
