/* Command-line parsing for hvgdb (see cli_options.h). */
#include "cli/cli_options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char cli_usage_text[] =
	"Usage: hvgdb run [options] KERNEL [-- guest args...]\n"
	"       hvgdb --help | --version\n"
	"\n"
	"Runs an x86-64 kernel in a userland hypervisor, optionally with a GDB\n"
	"remote debug server. KERNEL is a Linux bzImage, an ELF with a Xen PVH\n"
	"note, a Multiboot 1 or 2 kernel, or an ELF64 for hvgdb's own protocol\n"
	"(the format is read from the file). Every option also takes the\n"
	"--opt=value form.\n"
	"\n"
	"Options:\n"
	"  --initrd FILE            initial ramdisk (Multiboot: a module; may\n"
	"                           repeat, up to 16)\n"
	"  --append CMDLINE         kernel command line\n"
	"  --cpus N                 number of vCPUs, 1..64 (default 1)\n"
	"  --memory SIZE            guest RAM: bytes or a K/M/G suffix, 2M..3G,\n"
	"                           a multiple of 4K (default 256M)\n"
	"  --cpu-vendor intel|amd   CPU personality (default intel)\n"
	"  --serial stdio|file:PATH the UART at 0x3f8 (default stdio: output to\n"
	"                           stdout, input from stdin; on a terminal,\n"
	"                           Ctrl-A x quits and Ctrl-A h lists the keys)\n"
	"  --backend tcg            vCPU backend (only tcg for now)\n"
	"  --tb-size MIB            translated-code buffer per vCPU, 1..2048\n"
	"                           (default 128), as QEMU's tcg tb-size\n"
	"  --exec serial|parallel   vCPUs execute one at a time, or each on its\n"
	"                           own host thread at once (default: parallel\n"
	"                           with more than one vCPU, serial with one)\n"
	"  --gdb [HOST:]PORT|unix:PATH\n"
	"                           start the debug server (default host 127.0.0.1)\n"
	"  --wait                   run no guest instruction until a debugger\n"
	"                           attaches and continues (needs --gdb)\n"
	"  -s                       same as --gdb 127.0.0.1:1234\n"
	"  -S                       same as --wait\n"
	"  -h, --help               show this help\n"
	"  --version                show the version\n"
	"\n"
	"Arguments after -- are joined by spaces into the command line (instead\n"
	"of --append).\n"
	"Exit status: the guest's exit device value v gives (v << 1) | 1; 0 when\n"
	"it powers off or resets (or Ctrl-A x); 2 for bad usage or input; 3 when\n"
	"the guest crashes, its kernel panics, or every vCPU halts with\n"
	"interrupts off; 130/143 on SIGINT/SIGTERM.\n"
	"\n"
	"Environment: HVGDB_TRACE_STARTUP=1 prints the start-up time (to the\n"
	"first run of vCPU 0) on stderr. HVGDB_EXEC=serial|parallel, if\n"
	"set, replaces the default of --exec.\n";

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Decimal digits only: strtoul would accept spaces, signs and hex. */
static int parse_decimal(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return 0;
}

int cli_parse_cpus(const char *s, unsigned *ncpus)
{
	uint64_t v;
	const char *end;
	int rc = parse_decimal(s, &v, &end);

	if (rc)
		return rc;
	if (*end)
		return -EINVAL;
	if (v < 1 || v > VM_MAX_VCPUS)
		return -ERANGE;
	*ncpus = (unsigned)v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v, mult = 1;
	const char *end;
	int rc = parse_decimal(s, &v, &end);

	if (rc)
		return rc;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ULL << 10;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = v * mult;
	return 0;
}

/* [HOST:]PORT or unix:PATH; the server resolves HOST itself (an empty
 * HOST, as in ":1234", is the default 127.0.0.1). */
static bool valid_gdb_listen(const char *s)
{
	const char *colon, *port;
	uint64_t v;
	const char *end;

	if (strncmp(s, "unix:", 5) == 0)
		/* sun_path holds 108 bytes including the NUL. */
		return s[5] != '\0' && strlen(s + 5) < 108;
	colon = strrchr(s, ':');
	port = colon ? colon + 1 : s;
	if (parse_decimal(port, &v, &end) || *end || v > 65535)
		return false;
	return true;
}

typedef int (*option_apply)(struct cli_options *o, const char *value,
			    char *err, size_t errlen);

static int apply_cpus(struct cli_options *o, const char *v, char *err,
		      size_t errlen)
{
	int rc = cli_parse_cpus(v, &o->ncpus);

	if (rc == -ERANGE)
		return fail(err, errlen,
			    "CPU count must be between 1 and %d, not '%s'",
			    VM_MAX_VCPUS, v);
	if (rc)
		return fail(err, errlen, "invalid CPU count '%s'", v);
	return 0;
}

static int apply_memory(struct cli_options *o, const char *v, char *err,
			size_t errlen)
{
	uint64_t bytes;
	int rc = cli_parse_size(v, &bytes);

	if (rc == -EINVAL)
		return fail(err, errlen,
			    "invalid memory size '%s' (use e.g. 512M or 1G)",
			    v);
	if (rc || bytes < VM_MIN_MEMORY || bytes > VM_MAX_MEMORY)
		return fail(err, errlen,
			    "memory size must be between 2M and 3G, not '%s'",
			    v);
	if (bytes % 4096)
		return fail(err, errlen,
			    "memory size must be a multiple of 4K, not '%s'", v);
	o->mem_size = bytes;
	return 0;
}

static int apply_tb_size(struct cli_options *o, const char *v, char *err,
			 size_t errlen)
{
	uint64_t mib;
	const char *end;
	int rc = parse_decimal(v, &mib, &end);

	if (rc || *end || mib < VM_MIN_CODE_BUFFER_MIB || mib > VM_MAX_CODE_BUFFER_MIB)
		return fail(err, errlen,
			    "--tb-size must be %d..%d (MiB), not '%s'",
			    VM_MIN_CODE_BUFFER_MIB, VM_MAX_CODE_BUFFER_MIB, v);
	o->code_buffer_mib = (unsigned)mib;
	return 0;
}

static int apply_exec(struct cli_options *o, const char *v, char *err,
		      size_t errlen)
{
	if (strcmp(v, "serial") == 0)
		o->exec_mode = VM_EXEC_SERIAL;
	else if (strcmp(v, "parallel") == 0)
		o->exec_mode = VM_EXEC_PARALLEL;
	else
		return fail(err, errlen,
			    "unknown --exec mode '%s' (use serial or parallel)",
			    v);
	return 0;
}

static int apply_vendor(struct cli_options *o, const char *v, char *err,
			size_t errlen)
{
	if (strcmp(v, "intel") == 0)
		o->vendor = VM_CPU_VENDOR_INTEL;
	else if (strcmp(v, "amd") == 0)
		o->vendor = VM_CPU_VENDOR_AMD;
	else
		return fail(err, errlen,
			    "unknown CPU vendor '%s' (use intel or amd)", v);
	return 0;
}

static int apply_serial(struct cli_options *o, const char *v, char *err,
			size_t errlen)
{
	if (strcmp(v, "stdio") == 0) {
		o->serial = CLI_SERIAL_STDIO;
		o->serial_path = NULL;
	} else if (strncmp(v, "file:", 5) == 0 && v[5] != '\0') {
		o->serial = CLI_SERIAL_FILE;
		o->serial_path = v + 5;
	} else {
		return fail(err, errlen,
			    "invalid serial '%s' (use stdio or file:PATH)", v);
	}
	return 0;
}

static int apply_backend(struct cli_options *o, const char *v, char *err,
			 size_t errlen)
{
	if (strcmp(v, "tcg") != 0)
		return fail(err, errlen,
			    "unknown backend '%s' (only tcg is available)", v);
	o->backend = VM_BACKEND_TCG;
	return 0;
}

static int apply_gdb(struct cli_options *o, const char *v, char *err,
		     size_t errlen)
{
	if (!valid_gdb_listen(v))
		return fail(err, errlen,
			    "invalid --gdb address '%s' (use [HOST:]PORT or "
			    "unix:PATH)", v);
	o->gdb_listen = v;
	return 0;
}

static int apply_qemu_gdb(struct cli_options *o, const char *v, char *err,
			  size_t errlen)
{
	(void)v;
	(void)err;
	(void)errlen;
	o->gdb_listen = CLI_QEMU_GDB_LISTEN;
	return 0;
}

static int apply_wait(struct cli_options *o, const char *v, char *err,
		      size_t errlen)
{
	(void)v;
	(void)err;
	(void)errlen;
	o->wait = true;
	return 0;
}

static int apply_initrd(struct cli_options *o, const char *v, char *err,
			size_t errlen)
{
	if (o->ninitrds == CLI_MAX_INITRDS)
		return fail(err, errlen, "more than %d --initrd files",
			    CLI_MAX_INITRDS);
	o->initrd_paths[o->ninitrds++] = v;
	return 0;
}

static int apply_append(struct cli_options *o, const char *v, char *err,
			size_t errlen)
{
	(void)err;
	(void)errlen;
	o->append = v;
	return 0;
}

static int apply_help(struct cli_options *o, const char *v, char *err,
		      size_t errlen)
{
	(void)v;
	(void)err;
	(void)errlen;
	o->command = CLI_COMMAND_HELP;
	return 0;
}

struct option_spec {
	const char *long_name;  /* without "--"; NULL for short-only */
	char short_name;        /* 0 for long-only */
	bool takes_value;
	option_apply apply;
};

static const struct option_spec run_options[] = {
	{ "cpus", 0, true, apply_cpus },
	{ "memory", 0, true, apply_memory },
	{ "cpu-vendor", 0, true, apply_vendor },
	{ "serial", 0, true, apply_serial },
	{ "backend", 0, true, apply_backend },
	{ "tb-size", 0, true, apply_tb_size },
	{ "exec", 0, true, apply_exec },
	{ "gdb", 0, true, apply_gdb },
	{ "initrd", 0, true, apply_initrd },
	{ "append", 0, true, apply_append },
	{ "wait", 'S', false, apply_wait },
	{ NULL, 's', false, apply_qemu_gdb },
	{ "help", 'h', false, apply_help },
};

#define N_RUN_OPTIONS (sizeof(run_options) / sizeof(run_options[0]))

static const struct option_spec *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < N_RUN_OPTIONS; i++) {
		const char *n = run_options[i].long_name;

		if (n && strlen(n) == len && strncmp(n, name, len) == 0)
			return &run_options[i];
	}
	return NULL;
}

static const struct option_spec *find_short(char c)
{
	for (size_t i = 0; i < N_RUN_OPTIONS; i++)
		if (run_options[i].short_name == c)
			return &run_options[i];
	return NULL;
}

/* One option at argv[*i]; advances *i past a separate value. */
static int parse_one_option(int argc, char *const argv[], int *i,
			    struct cli_options *o, char *err, size_t errlen)
{
	const char *arg = argv[*i];
	const struct option_spec *spec;
	const char *value = NULL;
	bool inline_value = false;
	int name_len;

	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');

		name_len = eq ? (int)(eq - name) : (int)strlen(name);
		spec = find_long(name, (size_t)name_len);
		if (!spec)
			return fail(err, errlen, "unknown option '--%.*s'",
				    name_len, name);
		if (eq) {
			value = eq + 1;
			inline_value = true;
		}
	} else {
		spec = arg[2] == '\0' ? find_short(arg[1]) : NULL;
		if (!spec)
			return fail(err, errlen, "unknown option '%s'", arg);
	}

	if (!spec->takes_value) {
		if (inline_value)
			return fail(err, errlen, "option '--%s' takes no value",
				    spec->long_name);
		return spec->apply(o, NULL, err, errlen);
	}
	if (!inline_value) {
		if (*i + 1 >= argc)
			return fail(err, errlen, "option '--%s' needs a value",
				    spec->long_name);
		value = argv[++*i];
	}
	if (*value == '\0')
		return fail(err, errlen, "option '--%s' needs a value",
			    spec->long_name);
	return spec->apply(o, value, err, errlen);
}

static int parse_run(int argc, char *const argv[], struct cli_options *o,
		     char *err, size_t errlen)
{
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		int rc;

		if (strcmp(arg, "--") == 0) {
			o->guest_argc = argc - i - 1;
			o->guest_argv = argv + i + 1;
			break;
		}
		if (arg[0] == '-' && arg[1] != '\0') {
			rc = parse_one_option(argc, argv, &i, o, err, errlen);
			if (rc)
				return rc;
			/* --help wins over anything else on the line. */
			if (o->command == CLI_COMMAND_HELP)
				return 0;
			continue;
		}
		if (o->guest_path)
			return fail(err, errlen,
				    "unexpected argument '%s' (guest arguments "
				    "go after --)", arg);
		o->guest_path = arg;
	}
	if (!o->guest_path)
		return fail(err, errlen, "missing guest kernel file (see "
			    "'hvgdb --help')");
	if (o->append && o->guest_argc > 0)
		return fail(err, errlen, "give the command line with --append "
			    "or after --, not both");
	if (o->wait && !o->gdb_listen)
		return fail(err, errlen, "--wait (-S) needs --gdb (or -s)");
	return 0;
}

static void set_defaults(struct cli_options *o)
{
	memset(o, 0, sizeof(*o));
	o->command = CLI_COMMAND_RUN;
	o->ncpus = 1;
	o->mem_size = CLI_DEFAULT_MEMORY;
	o->vendor = VM_CPU_VENDOR_INTEL;
	o->backend = VM_BACKEND_TCG;
	o->serial = CLI_SERIAL_STDIO;
}

int cli_parse(int argc, char *const argv[], struct cli_options *o,
	      char *err, size_t errlen)
{
	const char *cmd;

	set_defaults(o);
	if (argc < 2 || !argv[1])
		return fail(err, errlen,
			    "missing command (see 'hvgdb --help')");
	cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return parse_run(argc, argv, o, err, errlen);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		o->command = CLI_COMMAND_HELP;
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		o->command = CLI_COMMAND_VERSION;
		return 0;
	}
	if (cmd[0] == '-')
		return fail(err, errlen, "unknown option '%s' (see 'hvgdb "
			    "--help')", cmd);
	return fail(err, errlen, "unknown command '%s' (see 'hvgdb --help')",
		    cmd);
}
