/* QEMU's Ctrl-A console commands: what reaches the guest and what not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/escape_keys.h"

/* Feeds s; returns what the guest gets in out and the last action that
 * was not a plain send. */
static enum escape_action type(struct escape_keys *k, const char *s,
			       size_t len, char *out)
{
	enum escape_action last = ESCAPE_SEND;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = 0;
		enum escape_action a = escape_keys_feed(k, (uint8_t)s[i], &b);

		if (a == ESCAPE_SEND)
			out[n++] = (char)b;
		else if (a != ESCAPE_NOTHING)
			last = a;
	}
	out[n] = '\0';
	return last;
}

static void test_plain_bytes_and_ctrl_c_go_to_the_guest(void **state)
{
	struct escape_keys k;
	char out[16];

	(void)state;
	escape_keys_init(&k);
	assert_int_equal(type(&k, "ls\x03\r\x04", 5, out), ESCAPE_SEND);
	assert_string_equal(out, "ls\x03\r\x04");
}

static void test_ctrl_a_x_quits(void **state)
{
	struct escape_keys k;
	char out[16];

	(void)state;
	escape_keys_init(&k);
	assert_int_equal(type(&k, "ab\x01x", 4, out), ESCAPE_QUIT);
	assert_string_equal(out, "ab");
}

static void test_ctrl_a_ctrl_a_sends_one_ctrl_a(void **state)
{
	struct escape_keys k;
	char out[16];

	(void)state;
	escape_keys_init(&k);
	/* ... and the escape is over: the x after it is a plain x. */
	assert_int_equal(type(&k, "\x01\x01x", 3, out), ESCAPE_SEND);
	assert_string_equal(out, "\x01x");
}

static void test_help_and_unknown_commands(void **state)
{
	struct escape_keys k;
	char out[16];

	(void)state;
	escape_keys_init(&k);
	assert_int_equal(type(&k, "\x01h", 2, out), ESCAPE_HELP);
	assert_string_equal(out, "");
	assert_int_equal(type(&k, "\x01?", 2, out), ESCAPE_HELP);
	/* Unknown: both bytes dropped, as QEMU does; then normal again. */
	assert_int_equal(type(&k, "\x01qz", 3, out), ESCAPE_SEND);
	assert_string_equal(out, "z");
	assert_non_null(strstr(escape_keys_help, "Ctrl-A x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_bytes_and_ctrl_c_go_to_the_guest),
		cmocka_unit_test(test_ctrl_a_x_quits),
		cmocka_unit_test(test_ctrl_a_ctrl_a_sends_one_ctrl_a),
		cmocka_unit_test(test_help_and_unknown_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
