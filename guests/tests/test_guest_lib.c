/* Host-side tests of the guest runtime's pure parts: the printf formatter
 * and the command-line parser (built with the project's compiler, so the
 * sanitizer builds check them too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmdline.h"
#include "uart.h"

static int fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = format_string(buf, size, f, ap);
	va_end(ap);
	return n;
}

static void format_conversions(void **state)
{
	(void)state;
	char b[128];
	fmt(b, sizeof(b), "%d %d %u %x %c %s %%", -42, 0, 4000000000u, 0xbeefu,
	    'z', "ok");
	assert_string_equal(b, "-42 0 4000000000 beef z ok %");
	fmt(b, sizeof(b), "%lx %lu %ld", 0xfedcba9876543210ul,
	    18446744073709551615ul, (long)INT64_MIN);
	assert_string_equal(b, "fedcba9876543210 18446744073709551615 "
			       "-9223372036854775808");
	fmt(b, sizeof(b), "[%016lx] [%5d] [%05d] [%4x]", 0xabcul, 7, -12, 0xfu);
	assert_string_equal(b, "[0000000000000abc] [    7] [-0012] [   f]");
	/* Unsupported conversions are echoed and consume no argument. */
	fmt(b, sizeof(b), "%q %d", 5);
	assert_string_equal(b, "%q 5");
	fmt(b, sizeof(b), "%s", (const char *)NULL);
	assert_string_equal(b, "(null)");
}

static void format_truncates_and_reports_length(void **state)
{
	(void)state;
	char b[8];
	memset(b, 'X', sizeof(b));
	int n = fmt(b, sizeof(b), "hello %s", "world");
	assert_int_equal(n, 11);
	assert_string_equal(b, "hello w");
	assert_int_equal(fmt(b, 1, "abc"), 3);
	assert_string_equal(b, "");
	/* A trailing lone '%' is dropped, not read past. */
	assert_int_equal(fmt(b, sizeof(b), "a%"), 1);
	assert_string_equal(b, "a");
}

static void cmdline_values(void **state)
{
	(void)state;
	uint64_t v = 99;
	assert_true(cmdline_get_u64("budget=100 forever", "budget", &v));
	assert_int_equal(v, 100);
	assert_true(cmdline_get_u64("  x=1\twork=0x1F  ", "work", &v));
	assert_int_equal(v, 31);
	assert_true(cmdline_get_u64("budget=18446744073709551615", "budget", &v));
	assert_true(v == UINT64_MAX);
}

static void cmdline_rejects_bad_values(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_false(cmdline_get_u64(NULL, "budget", &v));
	assert_false(cmdline_get_u64("", "budget", &v));
	assert_false(cmdline_get_u64("budget", "budget", &v));
	assert_false(cmdline_get_u64("budget=", "budget", &v));
	assert_false(cmdline_get_u64("budget=12x", "budget", &v));
	assert_false(cmdline_get_u64("budget=0x", "budget", &v));
	assert_false(cmdline_get_u64("budget=18446744073709551616", "budget", &v));
	assert_false(cmdline_get_u64("budgetx=5 xbudget=5", "budget", &v));
	assert_int_equal(v, 7); /* untouched on failure */
}

static void cmdline_flags(void **state)
{
	(void)state;
	assert_true(cmdline_has_flag("budget=1 forever", "forever"));
	assert_true(cmdline_has_flag("forever", "forever"));
	assert_false(cmdline_has_flag("forevermore", "forever"));
	assert_false(cmdline_has_flag("forever=1", "forever"));
	assert_false(cmdline_has_flag(NULL, "forever"));
	assert_false(cmdline_has_flag("", "forever"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_conversions),
		cmocka_unit_test(format_truncates_and_reports_length),
		cmocka_unit_test(cmdline_values),
		cmocka_unit_test(cmdline_rejects_bad_values),
		cmocka_unit_test(cmdline_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
