/* Z1-Z4, their stop replies, limits and monitor listing, against the mock
 * target: no sockets, no threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"
#include "gdbstub/session.h"
#include "mock_target.h"

struct fixture {
	struct mock_target mt;
	struct gdb_session s;
	struct gdb_reply r;
	uint8_t rbuf[RSP_PACKET_SIZE];
	char text[RSP_PACKET_SIZE + 1];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	mock_target_init(&f->mt, MOCK_INTEL, 4);
	assert_int_equal(gdb_session_init(&f->s, &mock_target_ops, &f->mt), 0);
	f->r.buf = f->rbuf;
	f->r.cap = sizeof(f->rbuf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	gdb_session_free(&f->s);
	free(f);
	return 0;
}

static const char *send(struct fixture *f, const char *pkt)
{
	gdb_handle_packet(&f->s, (const uint8_t *)pkt, strlen(pkt), &f->r);
	memcpy(f->text, f->r.buf, f->r.len);
	f->text[f->r.len] = 0;
	return f->text;
}

static bool mock_has(struct fixture *f, enum gdb_watch_type type,
		     uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < f->mt.nwatches; i++)
		if (f->mt.watches[i].type == type &&
		    f->mt.watches[i].addr == addr && f->mt.watches[i].len == len)
			return true;
	return false;
}

static void test_each_type_reaches_the_target(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(send(f, "Z1,1005,1"), "OK");
	assert_string_equal(send(f, "Z2,2000,8"), "OK");
	assert_string_equal(send(f, "Z3,2008,4"), "OK");
	assert_string_equal(send(f, "Z4,3001,3"), "OK");
	assert_int_equal(f->mt.nwatches, 4);
	assert_true(mock_has(f, GDB_HW_BREAKPOINT, 0x1005, 1));
	assert_true(mock_has(f, GDB_WATCH_WRITE, 0x2000, 8));
	assert_true(mock_has(f, GDB_WATCH_READ, 0x2008, 4));
	assert_true(mock_has(f, GDB_WATCH_ACCESS, 0x3001, 3));
	/* idempotent, as Z0/z0: again is OK and changes nothing */
	assert_string_equal(send(f, "Z2,2000,8"), "OK");
	assert_int_equal(f->mt.nwatches, 4);
	assert_string_equal(send(f, "z2,2000,8"), "OK");
	assert_false(mock_has(f, GDB_WATCH_WRITE, 0x2000, 8));
	assert_string_equal(send(f, "z2,2000,8"), "OK");
	/* a removal names the watch exactly: another length is another one */
	assert_string_equal(send(f, "z3,2008,8"), "OK");
	assert_true(mock_has(f, GDB_WATCH_READ, 0x2008, 4));
	assert_int_equal(f->mt.nwatches, 3);
	gdb_watch_remove_all(&f->s);
	assert_int_equal(f->mt.nwatches, 0);
	assert_int_equal(f->s.watches.n, 0);
}

static void test_limits_and_bad_input(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(send(f, "Z1,1000,1"), "OK");
	assert_string_equal(send(f, "Z1,1001,1"), "OK");
	assert_string_equal(send(f, "Z1,1002,1"), "E1c"); /* ENOSPC */
	assert_string_equal(send(f, "Z2,2000,1"), "OK");
	assert_string_equal(send(f, "Z3,2000,1"), "OK");
	assert_string_equal(send(f, "Z4,2000,40"), "OK"); /* 64 bytes */
	assert_string_equal(send(f, "Z2,3000,1"), "E1c");
	assert_string_equal(send(f, "z4,2000,40"), "OK");
	assert_string_equal(send(f, "Z2,3000,41"), "E16"); /* over max */
	assert_string_equal(send(f, "Z2,3000,0"), "E16");
	assert_string_equal(send(f, "Z1,1003,2"), "E16"); /* kind */
	assert_string_equal(send(f, "Z2,ffffffffffffffff,2"), "E16");
	assert_string_equal(send(f, "Z2,3000,1junk"), "E16");
	assert_string_equal(send(f, "Z2,3000,1;X1,0"), ""); /* condition */
	/* DR0-DR3 hold virtual addresses */
	f->s.phys_mode = true;
	assert_string_equal(send(f, "Z2,3000,1"), "E16");
	f->s.phys_mode = false;
	assert_int_equal(f->mt.nwatches, 4);
}

static void test_unsupported_without_ops(void **state)
{
	struct fixture *f = *state;
	struct gdb_target_ops ops = mock_target_ops;
	ops.insert_watch = NULL;
	struct gdb_session s2;
	assert_int_equal(gdb_session_init(&s2, &ops, &f->mt), 0);
	const char *pkts[] = { "Z1,1000,1", "Z2,1000,4", "qWatchpointSupportInfo:" };
	for (size_t i = 0; i < sizeof(pkts) / sizeof(pkts[0]); i++) {
		gdb_handle_packet(&s2, (const uint8_t *)pkts[i],
				  strlen(pkts[i]), &f->r);
		assert_int_equal(f->r.len, 0);
	}
	gdb_session_free(&s2);
}

static void test_stop_replies_name_the_watch(void **state)
{
	struct fixture *f = *state;
	struct gdb_stop_info st = { .vcpu = 1, .signal = 5,
				    .watch_type = GDB_WATCH_WRITE,
				    .watch_addr = 0x2004 };
	gdb_build_stop_reply(&f->s, &st, &f->r);
	assert_memory_equal(f->rbuf, "T05thread:2;watch:2004;10:", 26);
	st.watch_type = GDB_WATCH_READ;
	gdb_build_stop_reply(&f->s, &st, &f->r);
	assert_memory_equal(f->rbuf, "T05thread:2;rwatch:2004;10:", 27);
	st.watch_type = GDB_WATCH_ACCESS;
	gdb_build_stop_reply(&f->s, &st, &f->r);
	assert_memory_equal(f->rbuf, "T05thread:2;awatch:2004;10:", 27);
	/* hwbreak only to a debugger that offered it */
	st.watch_type = GDB_HW_BREAKPOINT;
	gdb_build_stop_reply(&f->s, &st, &f->r);
	assert_memory_equal(f->rbuf, "T05thread:2;10:", 15);
	send(f, "qSupported:swbreak+;hwbreak+");
	gdb_build_stop_reply(&f->s, &st, &f->r);
	assert_memory_equal(f->rbuf, "T05thread:2;hwbreak:;10:", 24);
	/* '?' repeats it */
	assert_memory_equal(send(f, "?"), "T05thread:2;hwbreak:;", 21);
}

static void test_limits_told(void **state)
{
	struct fixture *f = *state;
	assert_non_null(strstr(send(f, "qSupported"), ";hwbreak+"));
	assert_string_equal(send(f, "qWatchpointSupportInfo:"), "num:3;");
	assert_string_equal(send(f, "Z4,4000,10"), "OK");
	assert_string_equal(send(f, "Z1,1005,1"), "OK");
	/* "info breakpoints", hex */
	char *t = (char *)send(f, "qRcmd,696e666f20627265616b706f696e7473");
	size_t n = strlen(t) / 2;
	assert_int_equal(hex_decode(t, n, (uint8_t *)t), 0);
	t[n] = 0;
	assert_non_null(strstr(t, "1 hardware breakpoint(s) of 2, 1 "
				  "watchpoint(s) of 3 (each 1 to 64 bytes)"));
	assert_non_null(strstr(t, "awatch  0x0000000000004000  16\n"));
	assert_non_null(strstr(t, "hbreak  0x0000000000001005  1\n"));
	t = (char *)send(f, "qRcmd,68656c70"); /* help */
	n = strlen(t) / 2;
	assert_int_equal(hex_decode(t, n, (uint8_t *)t), 0);
	t[n] = 0;
	assert_non_null(strstr(t, "watchpoints"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_type_reaches_the_target,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_and_bad_input,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_without_ops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_replies_name_the_watch,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_told, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
