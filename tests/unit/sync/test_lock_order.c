/*
 * The lock-order checker (src/sync): locks taken in rank order work, and
 * each way of breaking the rules aborts with one line naming the locks.
 * Violations run in a forked child, whose death and stderr are checked.
 */
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child_stderr.h"
#include "sync/checked_mutex.h"
#include "sync/lock_token.h"

size_t checked_mutex_size_without_checks(void);

static struct checked_mutex stub, vcpu_a, vcpu_b, sched;

static int setup(void **state)
{
	(void)state;
	checked_mutex_init(&stub, LOCK_RANK_STUB);
	checked_mutex_init(&vcpu_a, LOCK_RANK_VCPU);
	checked_mutex_init(&vcpu_b, LOCK_RANK_VCPU);
	checked_mutex_init(&sched, LOCK_RANK_SCHED);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	checked_mutex_destroy(&stub);
	checked_mutex_destroy(&vcpu_a);
	checked_mutex_destroy(&vcpu_b);
	checked_mutex_destroy(&sched);
	return 0;
}

struct plain_call {
	void (*fn)(void);
};

static void call_plain(void *arg)
{
	((struct plain_call *)arg)->fn();
}

/* Runs fn in a child; returns its stderr. The child must die of SIGABRT. */
static const char *dies_with(void (*fn)(void))
{
	struct plain_call call = { fn };
	int status;
	const char *out = run_capturing_stderr(call_plain, &call, &status);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("the child did not abort (status 0x%x): %s", status,
			 out);
	return out;
}

static void test_order_kept_works(void **state)
{
	(void)state;
	checked_mutex_lock(&stub);
	checked_mutex_lock(&vcpu_a);
	lock_assert_held(&stub);
	lock_assert_held(&vcpu_a);
	checked_mutex_lock(&sched);
	/* released in any order, then taken again */
	checked_mutex_unlock(&vcpu_a);
	lock_assert_held(&sched);
	checked_mutex_unlock(&sched);
	checked_mutex_lock(&vcpu_b);
	checked_mutex_unlock(&vcpu_b);
	checked_mutex_unlock(&stub);
	assert_true(checked_mutex_trylock(&vcpu_a));
	checked_mutex_unlock(&vcpu_a);
}

static void sched_then_vcpu(void)
{
	checked_mutex_lock(&sched);
	checked_mutex_lock(&vcpu_a);
}

static void test_inversion_aborts(void **state)
{
	(void)state;
	const char *msg = dies_with(sched_then_vcpu);
	assert_non_null(strstr(msg, "taking vcpu"));
	assert_non_null(strstr(msg, "while holding sched"));
}

/* Two vCPUs' locks nested: a third thread nesting them the other way
 * round would deadlock with this one. */
static void two_vcpus(void)
{
	checked_mutex_lock(&vcpu_a);
	checked_mutex_lock(&vcpu_b);
}

static void test_same_rank_nested_aborts(void **state)
{
	(void)state;
	const char *msg = dies_with(two_vcpus);
	assert_non_null(strstr(msg, "taking vcpu"));
	assert_non_null(strstr(msg, "while holding vcpu"));
}

static void relock(void)
{
	checked_mutex_lock(&stub);
	checked_mutex_lock(&stub);
}

static void test_recursive_lock_aborts(void **state)
{
	(void)state;
	assert_non_null(strstr(dies_with(relock), "taking stub"));
}

static void trylock_inverted(void)
{
	checked_mutex_lock(&sched);
	checked_mutex_trylock(&stub);
}

static void test_trylock_out_of_order_aborts(void **state)
{
	(void)state;
	assert_non_null(strstr(dies_with(trylock_inverted),
			       "taking stub"));
}

static void assert_unheld(void)
{
	lock_assert_held(&sched);
}

static void test_locked_function_without_lock_aborts(void **state)
{
	(void)state;
	const char *msg = dies_with(assert_unheld);
	assert_non_null(strstr(msg, "_locked function called without sched"));
}

static void *hold_stub(void *arg)
{
	checked_mutex_lock(&stub);
	pthread_barrier_wait(arg); /* holding it */
	pthread_barrier_wait(arg); /* until the other thread has checked */
	checked_mutex_unlock(&stub);
	return NULL;
}

/* Held, but by another thread. */
static void assert_held_elsewhere(void)
{
	pthread_barrier_t b;
	pthread_t t;
	pthread_barrier_init(&b, NULL, 2);
	pthread_create(&t, NULL, hold_stub, &b);
	pthread_barrier_wait(&b);
	lock_assert_held(&stub);
}

static void test_lock_held_by_another_thread_aborts(void **state)
{
	(void)state;
	assert_non_null(strstr(dies_with(assert_held_elsewhere),
			       "without stub"));
}

static void unlock_unheld(void)
{
	checked_mutex_unlock(&vcpu_a);
}

static void test_unlock_not_held_aborts(void **state)
{
	(void)state;
	assert_non_null(strstr(dies_with(unlock_unheld),
			       "does not hold: vcpu"));
}

static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void deadline_in(long ms, struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += ms * 1000000L;
	ts->tv_sec += ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

static void test_wait_keeps_ownership(void **state)
{
	(void)state;
	struct timespec ts;
	deadline_in(1, &ts);
	checked_mutex_lock(&vcpu_a);
	int rc = checked_cond_timedwait(&cond, &vcpu_a, &ts);
	assert_true(rc == ETIMEDOUT || rc == 0);
	lock_assert_held(&vcpu_a);
	/* after the wait the order is checked as before */
	checked_mutex_lock(&sched);
	checked_mutex_unlock(&sched);
	checked_mutex_unlock(&vcpu_a);
}

/* Sleeping with a second lock held stalls that lock's users as long. */
static void sleep_holding_two(void)
{
	struct timespec ts;
	deadline_in(1, &ts);
	checked_mutex_lock(&stub);
	checked_mutex_lock(&vcpu_a);
	checked_cond_timedwait(&cond, &vcpu_a, &ts);
}

static void test_sleep_holding_another_lock_aborts(void **state)
{
	(void)state;
	const char *msg = dies_with(sleep_holding_two);
	assert_non_null(strstr(msg, "sleeping on vcpu"));
	assert_non_null(strstr(msg, "while holding stub"));
}

/* A token that is not a mutex (the execution lock) is checked alike. */
static void token_then_stub(void)
{
	struct lock_token exec;
	lock_token_init(&exec, LOCK_RANK_EXEC);
	lock_token_may_take(&exec);
	lock_token_taken(&exec);
	checked_mutex_lock(&stub);
}

static void sleep_holding_token(void)
{
	struct lock_token exec;
	struct timespec ts;
	lock_token_init(&exec, LOCK_RANK_EXEC);
	lock_token_may_take(&exec);
	lock_token_taken(&exec);
	deadline_in(1, &ts);
	checked_mutex_lock(&sched);
	checked_cond_timedwait(&cond, &sched, &ts);
}

static void token_unowned(void)
{
	struct lock_token exec;
	lock_token_init(&exec, LOCK_RANK_EXEC);
	lock_token_assert_held(&exec);
}

static void test_token_ranks_like_a_lock(void **state)
{
	(void)state;
	struct lock_token exec;
	lock_token_init(&exec, LOCK_RANK_EXEC);
	checked_mutex_lock(&stub);
	lock_token_may_take(&exec);
	lock_token_taken(&exec);
	checked_mutex_lock(&vcpu_a);
	lock_token_assert_held(&exec);
	checked_mutex_unlock(&vcpu_a);
	lock_token_released(&exec);
	checked_mutex_unlock(&stub);
	const char *msg = dies_with(token_then_stub);
	assert_non_null(strstr(msg, "taking stub"));
	assert_non_null(strstr(msg, "while holding exec"));
	msg = dies_with(sleep_holding_token);
	assert_non_null(strstr(msg, "sleeping on sched"));
	assert_non_null(strstr(msg, "while holding exec"));
	assert_non_null(strstr(dies_with(token_unowned), "without exec"));
}

/* Release builds keep the bare mutex: no field, no call. */
static void test_no_cost_without_checks(void **state)
{
	(void)state;
	assert_int_equal(checked_mutex_size_without_checks(),
			 sizeof(pthread_mutex_t));
	assert_true(sizeof(struct checked_mutex) > sizeof(pthread_mutex_t));
}

/* The "Lock order" table of the design notes lists the ranks in order:
 * its second column is each rank's name in backquotes. */
static void test_design_notes_list_the_order(void **state)
{
	(void)state;
	FILE *f = fopen(HVGDB_DESIGN_NOTES, "r");
	assert_non_null(f);
	char line[1024];
	bool in_section = false;
	unsigned next = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "#", 1) == 0) {
			in_section = strstr(line, "Lock order") != NULL;
			continue;
		}
		if (!in_section || line[0] != '|')
			continue;
		char *open = strchr(line + 1, '|');
		char *name = open ? strchr(open, '`') : NULL;
		char *close = name ? strchr(name + 1, '`') : NULL;
		if (!close || close > strchr(open + 1, '|'))
			continue; /* header or rule line */
		*close = 0;
		if (next >= LOCK_RANK_COUNT)
			fail_msg("design notes list \"%s\" beyond the last "
				 "rank", name + 1);
		if (strcmp(name + 1, lock_rank_name((enum lock_rank)next)))
			fail_msg("design notes rank %u is \"%s\", the code's "
				 "is \"%s\"", next + 1, name + 1,
				 lock_rank_name((enum lock_rank)next));
		next++;
	}
	fclose(f);
	assert_int_equal(next, LOCK_RANK_COUNT);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_order_kept_works),
		T(test_inversion_aborts),
		T(test_same_rank_nested_aborts),
		T(test_recursive_lock_aborts),
		T(test_trylock_out_of_order_aborts),
		T(test_locked_function_without_lock_aborts),
		T(test_lock_held_by_another_thread_aborts),
		T(test_unlock_not_held_aborts),
		T(test_wait_keeps_ownership),
		T(test_sleep_holding_another_lock_aborts),
		T(test_token_ranks_like_a_lock),
		T(test_no_cost_without_checks),
		T(test_design_notes_list_the_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
