/* cli_parse: every accepted form and every rejected input of the CLI. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_options.h"

#define ARGV(...) ((char *[]){ "hvgdb", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "hvgdb", __VA_ARGS__ }) / \
			 sizeof(char *)))
#define PARSE(o, err, ...) \
	cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), \
		  sizeof(err))

static void expect_error(int rc, const char *err, const char *needle)
{
	assert_int_equal(rc, -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	assert_null(strchr(err, '\n'));
	assert_true(strncmp(err, "hvgdb", 5) != 0);
}

static void defaults(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "g.elf"), 0);
	assert_int_equal(o.command, CLI_COMMAND_RUN);
	assert_string_equal(o.guest_path, "g.elf");
	assert_int_equal(o.ncpus, 1);
	assert_int_equal(o.mem_size, 256ULL << 20);
	assert_int_equal(o.vendor, VM_CPU_VENDOR_INTEL);
	assert_int_equal(o.backend, VM_BACKEND_TCG);
	assert_int_equal(o.serial, CLI_SERIAL_STDIO);
	assert_null(o.gdb_listen);
	assert_false(o.wait);
	assert_int_equal(o.guest_argc, 0);
}

static void all_options_separate_values(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "--cpus", "8", "--memory", "1G",
			       "--cpu-vendor", "amd", "--serial",
			       "file:/tmp/out", "--backend", "tcg", "--gdb",
			       "unix:/tmp/s", "--wait", "g.elf"), 0);
	assert_int_equal(o.ncpus, 8);
	assert_int_equal(o.mem_size, 1ULL << 30);
	assert_int_equal(o.vendor, VM_CPU_VENDOR_AMD);
	assert_int_equal(o.serial, CLI_SERIAL_FILE);
	assert_string_equal(o.serial_path, "/tmp/out");
	assert_string_equal(o.gdb_listen, "unix:/tmp/s");
	assert_true(o.wait);
	assert_string_equal(o.guest_path, "g.elf");
}

static void equals_forms_and_options_after_guest(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "g.elf", "--cpus=64",
			       "--memory=4096K", "--cpu-vendor=intel",
			       "--gdb=0.0.0.0:9000", "--serial=stdio"), 0);
	assert_int_equal(o.ncpus, 64);
	assert_int_equal(o.mem_size, 4ULL << 20);
	assert_string_equal(o.gdb_listen, "0.0.0.0:9000");
	assert_int_equal(o.serial, CLI_SERIAL_STDIO);
}

static void qemu_style_flags(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "-s", "-S", "g.elf"), 0);
	assert_string_equal(o.gdb_listen, "127.0.0.1:1234");
	assert_true(o.wait);
	/* The last of -s / --gdb wins. */
	assert_int_equal(PARSE(&o, err, "run", "-s", "--gdb", "4321", "g.elf"),
			 0);
	assert_string_equal(o.gdb_listen, "4321");
}

static void guest_args_after_double_dash(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "g.elf", "--", "budget=10",
			       "--cpus", "x"), 0);
	assert_int_equal(o.ncpus, 1);
	assert_int_equal(o.guest_argc, 3);
	assert_string_equal(o.guest_argv[0], "budget=10");
	assert_string_equal(o.guest_argv[1], "--cpus");
	assert_string_equal(o.guest_argv[2], "x");
}

static void help_and_version(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "--help"), 0);
	assert_int_equal(o.command, CLI_COMMAND_HELP);
	assert_int_equal(PARSE(&o, err, "-h"), 0);
	assert_int_equal(o.command, CLI_COMMAND_HELP);
	assert_int_equal(PARSE(&o, err, "run", "--cpus", "0", "--help"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "run", "--help", "--cpus", "0"), 0);
	assert_int_equal(o.command, CLI_COMMAND_HELP);
	assert_int_equal(PARSE(&o, err, "--version"), 0);
	assert_int_equal(o.command, CLI_COMMAND_VERSION);
	assert_non_null(strstr(cli_usage_text, "hvgdb run [options]"));
}

static void bad_commands(void **state)
{
	struct cli_options o;
	char err[256] = "";
	char *only_name[] = { "hvgdb", NULL };

	(void)state;
	expect_error(cli_parse(1, only_name, &o, err, sizeof(err)), err,
		     "missing command");
	expect_error(PARSE(&o, err, "start", "g.elf"), err,
		     "unknown command 'start'");
	expect_error(PARSE(&o, err, "--frobnicate"), err,
		     "unknown option '--frobnicate'");
	expect_error(PARSE(&o, err, "run"), err, "missing guest kernel");
	expect_error(PARSE(&o, err, "run", "a.elf", "b.elf"), err,
		     "unexpected argument 'b.elf'");
}

static void bad_options(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	expect_error(PARSE(&o, err, "run", "--bogus", "g.elf"), err,
		     "unknown option '--bogus'");
	expect_error(PARSE(&o, err, "run", "--bogus=1", "g.elf"), err,
		     "unknown option '--bogus'");
	expect_error(PARSE(&o, err, "run", "-x", "g.elf"), err,
		     "unknown option '-x'");
	expect_error(PARSE(&o, err, "run", "-sS", "g.elf"), err,
		     "unknown option '-sS'");
	expect_error(PARSE(&o, err, "run", "g.elf", "--cpus"), err,
		     "'--cpus' needs a value");
	expect_error(PARSE(&o, err, "run", "--memory=", "g.elf"), err,
		     "'--memory' needs a value");
	expect_error(PARSE(&o, err, "run", "--wait=1", "-s", "g.elf"), err,
		     "takes no value");
	expect_error(PARSE(&o, err, "run", "--wait", "g.elf"), err,
		     "--wait (-S) needs --gdb");
	expect_error(PARSE(&o, err, "run", "-S", "g.elf"), err, "needs --gdb");
	expect_error(PARSE(&o, err, "run", "--cpu-vendor", "via", "g.elf"),
		     err, "unknown CPU vendor 'via'");
	expect_error(PARSE(&o, err, "run", "--backend", "kvm", "g.elf"), err,
		     "unknown backend 'kvm'");
	expect_error(PARSE(&o, err, "run", "--serial", "file:", "g.elf"), err,
		     "invalid serial");
	expect_error(PARSE(&o, err, "run", "--serial", "tty", "g.elf"), err,
		     "invalid serial");
}

static void cpu_counts(void **state)
{
	struct cli_options o;
	char err[256] = "";
	const char *bad_syntax[] = { "abc", "4x", "-1", "+4", " 4", "0x4",
				     "4.0", "" };
	char *bad_range[] = { "0", "65", "1000",
				    "99999999999999999999999" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad_syntax) / sizeof(*bad_syntax); i++) {
		char arg[64];

		snprintf(arg, sizeof(arg), "--cpus=%s", bad_syntax[i]);
		assert_int_equal(PARSE(&o, err, "run", arg, "g.elf"), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad_range) / sizeof(*bad_range); i++)
		expect_error(PARSE(&o, err, "run", "--cpus", bad_range[i],
				   "g.elf"), err, "between 1 and 64");
	assert_int_equal(PARSE(&o, err, "run", "--cpus", "01", "g.elf"), 0);
	assert_int_equal(o.ncpus, 1);
}

static void memory_sizes(void **state)
{
	struct cli_options o;
	char err[256] = "";
	uint64_t b;

	(void)state;
	assert_int_equal(cli_parse_size("2M", &b), 0);
	assert_int_equal(b, 2ULL << 20);
	assert_int_equal(cli_parse_size("3g", &b), 0);
	assert_int_equal(b, 3ULL << 30);
	assert_int_equal(cli_parse_size("8192k", &b), 0);
	assert_int_equal(b, 8ULL << 20);
	assert_int_equal(cli_parse_size("4194304", &b), 0);
	assert_int_equal(b, 4ULL << 20);
	assert_int_equal(cli_parse_size("18446744073709551615G", &b), -ERANGE);
	assert_int_equal(cli_parse_size("99999999999999999999999", &b),
			 -ERANGE);
	assert_int_equal(cli_parse_size("1MB", &b), -EINVAL);
	assert_int_equal(cli_parse_size("M", &b), -EINVAL);
	assert_int_equal(cli_parse_size("-1M", &b), -EINVAL);
	assert_int_equal(cli_parse_size("1T", &b), -EINVAL);

	expect_error(PARSE(&o, err, "run", "--memory", "0", "g.elf"), err,
		     "between 2M and 3G");
	expect_error(PARSE(&o, err, "run", "--memory", "1M", "g.elf"), err,
		     "between 2M and 3G");
	expect_error(PARSE(&o, err, "run", "--memory", "3073M", "g.elf"), err,
		     "between 2M and 3G");
	expect_error(PARSE(&o, err, "run", "--memory", "4G", "g.elf"), err,
		     "between 2M and 3G");
	expect_error(PARSE(&o, err, "run", "--memory", "99999999999999999999G",
			   "g.elf"), err, "between 2M and 3G");
	expect_error(PARSE(&o, err, "run", "--memory", "lots", "g.elf"), err,
		     "invalid memory size 'lots'");
	expect_error(PARSE(&o, err, "run", "--memory", "2097153", "g.elf"),
		     err, "multiple of 4K");
	assert_int_equal(PARSE(&o, err, "run", "--memory", "3G", "g.elf"), 0);
	assert_int_equal(o.mem_size, 3ULL << 30);
	assert_int_equal(PARSE(&o, err, "run", "--memory", "2052K", "g.elf"),
			 0);
	assert_int_equal(o.mem_size, 2052ULL << 10);
}

/* --tb-size: MiB of translated code per vCPU, 0 meaning "the default". */
static void code_buffer_sizes(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "g.elf"), 0);
	assert_int_equal(o.code_buffer_mib, 0);
	assert_int_equal(PARSE(&o, err, "run", "--tb-size", "32", "g.elf"), 0);
	assert_int_equal(o.code_buffer_mib, 32);
	assert_int_equal(PARSE(&o, err, "run", "--tb-size=2048", "g.elf"), 0);
	assert_int_equal(o.code_buffer_mib, 2048);
	char *bad[] = { "0", "2049", "32M", "-1", "0x10",
			"99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(PARSE(&o, err, "run", "--tb-size", bad[i],
				   "g.elf"), err, "--tb-size must be 1..2048");
}

/* --exec: serial or parallel; not given, the VM decides (VM_EXEC_DEFAULT). */
static void exec_modes(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "g.elf"), 0);
	assert_int_equal(o.exec_mode, VM_EXEC_DEFAULT);
	assert_int_equal(PARSE(&o, err, "run", "--exec", "serial", "g.elf"), 0);
	assert_int_equal(o.exec_mode, VM_EXEC_SERIAL);
	assert_int_equal(PARSE(&o, err, "run", "--exec=parallel", "g.elf"), 0);
	assert_int_equal(o.exec_mode, VM_EXEC_PARALLEL);
	expect_error(PARSE(&o, err, "run", "--exec", "fast", "g.elf"), err,
		     "unknown --exec mode 'fast' (use serial or parallel)");
}

static void gdb_addresses(void **state)
{
	struct cli_options o;
	char err[256] = "";
	/* ":1234" is [HOST:]PORT with an empty (default) host */
	char *good[] = { "1234", "0", "65535", "localhost:1234", ":1234",
			       "[::1]:1234", "unix:/tmp/hvgdb.sock" };
	const char *bad[] = { "", "host:", ":", "65536", "12ab", "unix:",
			      "host:-1", "a:b:c" };
	char long_unix[200];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		assert_int_equal(PARSE(&o, err, "run", "--gdb", good[i],
				       "g.elf"), 0);
		assert_string_equal(o.gdb_listen, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char arg[64];

		snprintf(arg, sizeof(arg), "--gdb=%s", bad[i]);
		assert_int_equal(PARSE(&o, err, "run", arg, "g.elf"), -EINVAL);
	}
	memset(long_unix, 'a', sizeof(long_unix) - 1);
	long_unix[sizeof(long_unix) - 1] = '\0';
	memcpy(long_unix, "unix:", 5);
	expect_error(PARSE(&o, err, "run", "--gdb", long_unix, "g.elf"), err,
		     "invalid --gdb address");
}

static void tiny_error_buffer_is_safe(void **state)
{
	struct cli_options o;
	char err[8];

	(void)state;
	assert_int_equal(PARSE(&o, err, "run", "--cpus", "100", "g.elf"),
			 -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(cli_parse(ARGC("run"), ARGV("run"), &o, NULL, 0),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(all_options_separate_values),
		cmocka_unit_test(equals_forms_and_options_after_guest),
		cmocka_unit_test(qemu_style_flags),
		cmocka_unit_test(guest_args_after_double_dash),
		cmocka_unit_test(help_and_version),
		cmocka_unit_test(bad_commands),
		cmocka_unit_test(bad_options),
		cmocka_unit_test(cpu_counts),
		cmocka_unit_test(memory_sizes),
		cmocka_unit_test(code_buffer_sizes),
		cmocka_unit_test(exec_modes),
		cmocka_unit_test(gdb_addresses),
		cmocka_unit_test(tiny_error_buffer_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
