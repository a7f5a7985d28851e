/* Non-stop's queue of stops owed to the debugger (stop_queue.h): one
 * notification in flight, the rest through vStopped, '?' restarting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gdbstub/stop_queue.h"

static void test_one_notification_then_vstopped(void **state)
{
	(void)state;
	struct stop_queue q;
	assert_int_equal(stop_queue_init(&q, 4), 0);
	/* idle: the first stop goes out at once */
	assert_true(stop_queue_push(&q, 2));
	assert_int_equal(stop_queue_in_flight(&q), 2);
	/* the next ones wait for vStopped */
	assert_false(stop_queue_push(&q, 0));
	assert_false(stop_queue_push(&q, 3));
	/* a stop already owed is not queued twice */
	assert_false(stop_queue_push(&q, 0));
	assert_true(stop_queue_has(&q, 2) && stop_queue_has(&q, 0));
	assert_int_equal(stop_queue_ack(&q), 0);
	assert_false(stop_queue_has(&q, 2));
	assert_int_equal(stop_queue_ack(&q), 3);
	assert_int_equal(stop_queue_ack(&q), -1); /* OK: sequence over */
	assert_int_equal(stop_queue_in_flight(&q), -1);
	/* vStopped with nothing in flight: OK again, no state change */
	assert_int_equal(stop_queue_ack(&q), -1);
	/* reported vCPUs are not reported again until they ran */
	assert_false(stop_queue_push(&q, 2));
	stop_queue_forget(&q, 2);
	assert_true(stop_queue_push(&q, 2));
	stop_queue_free(&q);
}

static void test_query_restarts_the_sequence(void **state)
{
	(void)state;
	struct stop_queue q;
	assert_int_equal(stop_queue_init(&q, 3), 0);
	assert_true(stop_queue_push(&q, 1));
	assert_false(stop_queue_push(&q, 2));
	/* '?': the sequence under way is dropped, every stopped vCPU is
	 * queued again, reported before or not */
	stop_queue_restart(&q);
	assert_int_equal(stop_queue_in_flight(&q), -1);
	assert_int_equal(stop_queue_push_for_query(&q, 0), 0);
	assert_int_equal(stop_queue_push_for_query(&q, 1), -1);
	assert_int_equal(stop_queue_push_for_query(&q, 2), -1);
	/* no notification while the '?' sequence runs */
	assert_false(stop_queue_push(&q, 0));
	assert_int_equal(stop_queue_ack(&q), 1);
	assert_int_equal(stop_queue_ack(&q), 2);
	assert_int_equal(stop_queue_ack(&q), -1);
	/* a queued vCPU is not forgotten by a resume (it counts as running
	 * for the debugger until acknowledged) */
	assert_true(stop_queue_push_for_query(&q, 1) == 1);
	stop_queue_forget(&q, 1);
	assert_true(stop_queue_has(&q, 1));
	stop_queue_reset(&q);
	assert_false(stop_queue_has(&q, 1));
	assert_false(stop_queue_was_reported(&q, 1));
	stop_queue_free(&q);
}

static void test_bad_vcpus_ignored(void **state)
{
	(void)state;
	struct stop_queue q;
	assert_int_equal(stop_queue_init(&q, 2), 0);
	assert_false(stop_queue_push(&q, -1));
	assert_false(stop_queue_push(&q, 2));
	assert_int_equal(stop_queue_push_for_query(&q, 7), -1);
	assert_false(stop_queue_has(&q, 99));
	stop_queue_forget(&q, -5);
	/* every vCPU at once fits (each is queued once at most) */
	assert_true(stop_queue_push(&q, 0));
	assert_false(stop_queue_push(&q, 1));
	assert_int_equal(stop_queue_ack(&q), 1);
	assert_true(stop_queue_push(&q, 0) == false);
	stop_queue_forget(&q, 0);
	assert_false(stop_queue_push(&q, 0)); /* 1 still in flight */
	assert_int_equal(stop_queue_ack(&q), 0);
	assert_int_equal(stop_queue_ack(&q), -1);
	stop_queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_notification_then_vstopped),
		cmocka_unit_test(test_query_restarts_the_sequence),
		cmocka_unit_test(test_bad_vcpus_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
