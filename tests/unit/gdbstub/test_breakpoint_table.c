/* Breakpoint table: O(1) at 10,000 entries, tombstones, foreach, clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "gdbstub/breakpoints.h"

/* This thread's CPU time: a host that stalls the test (other suites on the
 * same cores) does not count, as it would in wall time. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_insert_find_remove(void **state)
{
	(void)state;
	struct bp_table t;
	bp_table_init(&t);
	assert_null(bp_table_find(&t, 0x1000));
	struct breakpoint bp = { .gpa = 0x1000, .gva = 0xffff1000,
				 .saved_byte = 0x55 };
	assert_int_equal(bp_table_insert(&t, &bp), 0);
	struct breakpoint *f = bp_table_find(&t, 0x1000);
	assert_non_null(f);
	assert_int_equal(f->saved_byte, 0x55);
	assert_true(f->gva == 0xffff1000);
	assert_null(bp_table_find(&t, 0x1001));
	assert_true(bp_table_remove(&t, 0x1000));
	assert_false(bp_table_remove(&t, 0x1000));
	assert_null(bp_table_find(&t, 0x1000));
	assert_int_equal(bp_table_count(&t), 0);
	bp_table_free(&t);
}

static void count_cb(const struct breakpoint *bp, void *arg)
{
	(void)bp;
	(*(size_t *)arg)++;
}

static void test_ten_thousand(void **state)
{
	(void)state;
	struct bp_table t;
	bp_table_init(&t);
	/* adjacent code bytes: the worst case for a weak hash */
	for (uint64_t i = 0; i < 10000; i++) {
		struct breakpoint bp = { .gpa = 0x100000 + i, .gva = i,
					 .saved_byte = (uint8_t)i };
		assert_int_equal(bp_table_insert(&t, &bp), 0);
	}
	assert_int_equal(bp_table_count(&t), 10000);
	for (uint64_t i = 0; i < 10000; i++) {
		struct breakpoint *f = bp_table_find(&t, 0x100000 + i);
		assert_non_null(f);
		assert_int_equal(f->saved_byte, (uint8_t)i);
	}
	size_t n = 0;
	bp_table_foreach(&t, count_cb, &n);
	assert_int_equal(n, 10000);

	/* O(1) sanity: lookups at 10,000 cost about what they cost at 10 */
	struct bp_table small;
	bp_table_init(&small);
	for (uint64_t i = 0; i < 10; i++) {
		struct breakpoint bp = { .gpa = 0x100000 + i };
		bp_table_insert(&small, &bp);
	}
	volatile uintptr_t sink = 0;
	/* best of three: cache and frequency noise only ever add time */
	double t_small = 1e9, t_big = 1e9;
	for (int round = 0; round < 3; round++) {
		double t0 = now();
		for (int r = 0; r < 200000; r++)
			sink += (uintptr_t)bp_table_find(&small,
							 0x100000 + (r % 20));
		double ts = now() - t0;
		t0 = now();
		for (int r = 0; r < 200000; r++)
			sink += (uintptr_t)bp_table_find(&t,
							 0x100000 + (r % 20000));
		double tb = now() - t0;
		t_small = ts < t_small ? ts : t_small;
		t_big = tb < t_big ? tb : t_big;
	}
	assert_true(sink != 0); /* the lookups found entries */
	/* a list would be ~1000x slower; allow cache effects */
	assert_true(t_big < t_small * 20 + 0.01);
	bp_table_free(&small);

	/* remove half, re-insert: tombstones must not break lookups */
	for (uint64_t i = 0; i < 10000; i += 2)
		assert_true(bp_table_remove(&t, 0x100000 + i));
	for (uint64_t i = 0; i < 10000; i++)
		assert_true((bp_table_find(&t, 0x100000 + i) != NULL) == (i & 1));
	for (int round = 0; round < 5; round++) {
		for (uint64_t i = 0; i < 10000; i += 2) {
			struct breakpoint bp = { .gpa = 0x100000 + i };
			assert_int_equal(bp_table_insert(&t, &bp), 0);
		}
		for (uint64_t i = 0; i < 10000; i += 2)
			assert_true(bp_table_remove(&t, 0x100000 + i));
	}
	assert_int_equal(bp_table_count(&t), 5000);
	bp_table_clear(&t);
	assert_int_equal(bp_table_count(&t), 0);
	assert_null(bp_table_find(&t, 0x100001));
	bp_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_find_remove),
		cmocka_unit_test(test_ten_thousand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
