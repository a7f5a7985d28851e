/*
 * For tests of checks that end the process (an abort with a message, an
 * exit with a log line): runs the code in a child and hands back what it
 * wrote on stderr, and how it ended.
 */
#ifndef HVGDB_TEST_CHILD_STDERR_H
#define HVGDB_TEST_CHILD_STDERR_H

/* Runs fn(arg) in a forked child with stderr captured (up to 1 KiB).
 * Returns the text (a static buffer, valid until the next call) and the
 * child's wait status in *status; a child that returns from fn exits 0. */
const char *run_capturing_stderr(void (*fn)(void *arg), void *arg,
				 int *status);

#endif
