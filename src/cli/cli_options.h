/*
 * Command-line parsing for the hvgdb program. Pure: no I/O, no allocation,
 * no global state, so every accepted and rejected form is unit-tested.
 */
#ifndef HVGDB_CLI_OPTIONS_H
#define HVGDB_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvgdb/vmm.h"

#define CLI_DEFAULT_MEMORY (256ULL << 20)
/* What QEMU's -s means. */
#define CLI_QEMU_GDB_LISTEN "127.0.0.1:1234"
/* --initrd may repeat (Multiboot modules); vmm/boot_plan.h's limit. */
#define CLI_MAX_INITRDS 16

enum cli_command {
	CLI_COMMAND_RUN,
	CLI_COMMAND_HELP,
	CLI_COMMAND_VERSION,
};

enum cli_serial_kind {
	CLI_SERIAL_STDIO,
	CLI_SERIAL_FILE,
};

struct cli_options {
	enum cli_command command;
	unsigned ncpus;
	uint64_t mem_size;
	enum vm_cpu_vendor vendor;
	enum vm_backend_kind backend;
	unsigned code_buffer_mib; /* --tb-size; 0: the VM's default */
	enum vm_exec_mode exec_mode; /* --exec; VM_EXEC_DEFAULT if not given */
	enum cli_serial_kind serial;
	const char *serial_path;  /* CLI_SERIAL_FILE only */
	const char *gdb_listen;   /* NULL: no debug server */
	bool wait;
	const char *guest_path;
	/* --initrd FILE, in command-line order; --append CMDLINE. */
	const char *initrd_paths[CLI_MAX_INITRDS];
	unsigned ninitrds;
	const char *append;
	/* Arguments after `--`, pointing into argv. */
	int guest_argc;
	char *const *guest_argv;
};

/*
 * Parse argv (argv[0] is the program name). Returns 0 with *opts filled, or
 * -EINVAL with a one-line reason (no "hvgdb: " prefix, no newline) in err.
 * String fields point into argv.
 */
int cli_parse(int argc, char *const argv[], struct cli_options *opts,
	      char *err, size_t errlen);

/* Strict number parsers, exposed for the tests. 0 or -EINVAL/-ERANGE. */
int cli_parse_cpus(const char *s, unsigned *ncpus);
/* Bytes, or with a K, M or G suffix (binary multiples, case-insensitive). */
int cli_parse_size(const char *s, uint64_t *bytes);

/* The usage text printed by `hvgdb --help`. */
extern const char cli_usage_text[];

#endif
