/* `hvgdb run`: build the VM from the options, run it, return the status. */
#ifndef HVGDB_CLI_RUN_H
#define HVGDB_CLI_RUN_H

#include "cli/cli_options.h"
#include "cli/startup_trace.h"

/* Exit status for start-up failures (bad input, or the VM or the debug
 * server could not be set up). */
#define RUN_STATUS_USAGE 2
#define RUN_STATUS_GUEST_CRASH 3

/* Returns the process exit status; every failure has printed one line. */
int run_guest(const struct cli_options *opts, struct startup_trace *trace);

#endif
