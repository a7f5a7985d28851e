/* One-line diagnostics on stderr, always "hvgdb: <reason>". */
#ifndef HVGDB_CLI_REPORT_H
#define HVGDB_CLI_REPORT_H

/* Formats one line; control characters from user input (file names,
 * option values) are shown as '?', so a message is always one line. The
 * line leaves in one write, so lines of concurrent threads do not mix. */
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
