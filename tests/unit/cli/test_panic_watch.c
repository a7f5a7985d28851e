/* Linux's panic lines in console output, as Debian's kernel prints them
 * (lines copied from its serial log under hvgdb). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/panic_watch.h"

#define PANIC_LINE "[    2.386474] Kernel panic - not syncing: Attempted " \
	"to kill init! exitcode=0x00000100\r\n"
#define END_LINE "[    2.393507] ---[ end Kernel panic - not syncing: " \
	"Attempted to kill init! exitcode=0x00000100 ]---\r\n"
#define WHY "Attempted to kill init! exitcode=0x00000100"

static enum panic_watch_event feed(struct panic_watch *w, const char *s)
{
	return panic_watch_feed(w, (const uint8_t *)s, strlen(s));
}

static void test_boot_log_is_no_panic(void **state)
{
	struct panic_watch w;

	(void)state;
	panic_watch_init(&w);
	assert_int_equal(feed(&w, "[    0.000000] Linux version 6.1.0-57-amd64\r\n"
			      "[    1.092483] i8042: PNP: No PS/2 controller found.\r\n"
			      "Kernel panic - not syncing"), PANIC_WATCH_NONE);
	/* Not a whole marker, and the line is not finished yet. */
	assert_false(w.panicked);
}

static void test_panic_then_end_marker(void **state)
{
	struct panic_watch w;

	(void)state;
	panic_watch_init(&w);
	assert_int_equal(feed(&w, PANIC_LINE), PANIC_WATCH_PANIC);
	assert_true(w.panicked);
	assert_string_equal(w.message, WHY);
	assert_int_equal(feed(&w, "[    2.386671] CPU: 0 PID: 1 Comm: init\r\n"),
			 PANIC_WATCH_NONE);
	assert_int_equal(feed(&w, END_LINE), PANIC_WATCH_STOPPED);
	assert_string_equal(w.message, WHY);
}

static void test_lines_split_across_writes(void **state)
{
	struct panic_watch w;
	const char *s = END_LINE;

	(void)state;
	panic_watch_init(&w);
	for (size_t i = 0; s[i + 1]; i++)
		assert_int_equal(panic_watch_feed(&w, (const uint8_t *)s + i, 1),
				 PANIC_WATCH_NONE);
	assert_int_equal(feed(&w, "\n"), PANIC_WATCH_STOPPED);
	/* The end marker alone (the first line lost) still names why. */
	assert_string_equal(w.message, WHY);
}

static void test_first_reason_kept_and_sanitised(void **state)
{
	struct panic_watch w;

	(void)state;
	panic_watch_init(&w);
	assert_int_equal(feed(&w, "Kernel panic - not syncing: bad\x1b[0m\n"),
			 PANIC_WATCH_PANIC);
	assert_string_equal(w.message, "bad?[0m");
	feed(&w, "Kernel panic - not syncing: second\n");
	assert_string_equal(w.message, "bad?[0m");
}

static void test_long_lines_do_not_hide_later_ones(void **state)
{
	struct panic_watch w;
	char junk[1000];

	(void)state;
	panic_watch_init(&w);
	memset(junk, 'x', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	assert_int_equal(feed(&w, junk), PANIC_WATCH_NONE);
	assert_int_equal(feed(&w, "\n" PANIC_LINE), PANIC_WATCH_PANIC);
	/* Both events in one write: the stronger counts. */
	panic_watch_init(&w);
	assert_int_equal(feed(&w, PANIC_LINE END_LINE), PANIC_WATCH_STOPPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_log_is_no_panic),
		cmocka_unit_test(test_panic_then_end_marker),
		cmocka_unit_test(test_lines_split_across_writes),
		cmocka_unit_test(test_first_reason_kept_and_sanitised),
		cmocka_unit_test(test_long_lines_do_not_hide_later_ones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
