/* hvgdb: a userland x86-64 hypervisor with a built-in GDB debug server. */
#include <stdio.h>

#include "cli/cli_options.h"
#include "cli/report.h"
#include "cli/run.h"
#include "cli/startup_trace.h"

int main(int argc, char **argv)
{
	struct startup_trace trace;
	struct cli_options opts;
	char err[256];

	startup_trace_init(&trace);
	if (cli_parse(argc, argv, &opts, err, sizeof(err))) {
		report_error("%s", err);
		return RUN_STATUS_USAGE;
	}
	switch (opts.command) {
	case CLI_COMMAND_HELP:
		fputs(cli_usage_text, stdout);
		return 0;
	case CLI_COMMAND_VERSION:
		printf("hvgdb %s\n", HVGDB_VERSION);
		return 0;
	case CLI_COMMAND_RUN:
		break;
	}
	return run_guest(&opts, &trace);
}
