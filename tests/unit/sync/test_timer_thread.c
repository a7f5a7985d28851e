/*
 * The timer thread (src/sync/timer_thread.c) on a real thread and the
 * real monotonic clock: its job runs at the start, at the deadline it
 * returns and not before, again at once for a deadline already past, on a
 * wake (even one that lands while the job runs) and never after the stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "sync/monotonic_clock.h"
#include "sync/timer_thread.h"

#define MS 1000000ULL
/* How long a test waits for a run that must come: generous, for a busy
 * host; runs that must not come are watched for much less. */
#define MUST_COME_NS (5000 * MS)

/* What the job saw, and what it should answer, under `lock`. */
struct job_log {
	pthread_mutex_t lock;
	pthread_cond_t ran;
	unsigned runs;
	uint64_t at_ns[8];
	uint64_t answers[8]; /* what run i returns; past the end: none */
	/* If not 0, run 0 returns its own time plus this instead (a deadline
	 * that cannot have passed before the thread ran, however late a busy
	 * host starts it); due_ns records it. */
	uint64_t first_wait_ns;
	uint64_t due_ns;
	bool hold_first;     /* the first run waits for `release` */
	bool release;
};

static struct job_log log_;

static uint64_t logging_job(void *ctx)
{
	struct job_log *l = ctx;

	pthread_mutex_lock(&l->lock);
	unsigned i = l->runs;
	if (i < 8)
		l->at_ns[i] = monotonic_now_ns();
	l->runs++;
	pthread_cond_broadcast(&l->ran);
	while (i == 0 && l->hold_first && !l->release)
		pthread_cond_wait(&l->ran, &l->lock);
	uint64_t answer = i < 8 ? l->answers[i] : TIMER_THREAD_NO_DEADLINE;
	if (i == 0 && l->first_wait_ns) {
		l->due_ns = l->at_ns[0] + l->first_wait_ns;
		answer = l->due_ns;
	}
	pthread_mutex_unlock(&l->lock);
	return answer;
}

/* true once the job has run `runs` times, false if not by MUST_COME_NS. */
static bool runs_reach(unsigned runs)
{
	uint64_t until = monotonic_now_ns() + MUST_COME_NS;
	bool reached;

	pthread_mutex_lock(&log_.lock);
	while (log_.runs < runs && monotonic_now_ns() < until) {
		struct timespec ts = monotonic_timespec_at(until);
		pthread_cond_timedwait(&log_.ran, &log_.lock, &ts);
	}
	reached = log_.runs >= runs;
	pthread_mutex_unlock(&log_.lock);
	return reached;
}

static unsigned runs_now(void)
{
	pthread_mutex_lock(&log_.lock);
	unsigned runs = log_.runs;
	pthread_mutex_unlock(&log_.lock);
	return runs;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(ms * MS) };
	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	(void)state;
	struct job_log fresh = { .runs = 0 };
	log_ = fresh;
	pthread_mutex_init(&log_.lock, NULL);
	monotonic_cond_init(&log_.ran);
	for (unsigned i = 0; i < 8; i++)
		log_.answers[i] = TIMER_THREAD_NO_DEADLINE;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pthread_cond_destroy(&log_.ran);
	pthread_mutex_destroy(&log_.lock);
	return 0;
}

static void start(struct timer_thread *t)
{
	assert_int_equal(timer_thread_start(t, LOCK_RANK_PLATFORM_TIMER,
					    logging_job, &log_), 0);
}

static void runs_at_start_then_at_its_deadline(void **state)
{
	(void)state;
	struct timer_thread t;

	log_.first_wait_ns = 80 * MS;
	start(&t);
	assert_true(runs_reach(2));
	timer_thread_stop(&t);
	assert_int_equal(log_.runs, 2);
	assert_true(log_.at_ns[1] >= log_.due_ns);
}

static void a_past_deadline_runs_again_at_once(void **state)
{
	(void)state;
	struct timer_thread t;

	log_.answers[0] = 0;
	log_.answers[1] = monotonic_now_ns() - 1;
	start(&t);
	assert_true(runs_reach(3));
	timer_thread_stop(&t);
	assert_int_equal(log_.runs, 3);
	/* "at once": far less than any deadline a test would use */
	assert_true(log_.at_ns[2] - log_.at_ns[0] < MUST_COME_NS);
}

static void no_deadline_waits_for_a_wake(void **state)
{
	(void)state;
	struct timer_thread t;

	start(&t);
	assert_true(runs_reach(1));
	sleep_ms(100);
	assert_int_equal(runs_now(), 1);
	timer_thread_wake(&t);
	assert_true(runs_reach(2));
	timer_thread_wake(&t);
	assert_true(runs_reach(3));
	timer_thread_stop(&t);
	assert_int_equal(log_.runs, 3);
}

static void a_wake_during_the_job_is_not_lost(void **state)
{
	(void)state;
	struct timer_thread t;

	log_.hold_first = true;
	start(&t);
	assert_true(runs_reach(1)); /* the job is running, held */
	timer_thread_wake(&t);
	pthread_mutex_lock(&log_.lock);
	log_.release = true;
	pthread_cond_broadcast(&log_.ran);
	pthread_mutex_unlock(&log_.lock);
	/* it answered "no deadline", but the wake came after it started */
	assert_true(runs_reach(2));
	timer_thread_stop(&t);
}

static void stop_ends_a_sleep_and_nothing_runs_after(void **state)
{
	(void)state;
	struct timer_thread t;

	log_.answers[0] = monotonic_now_ns() + 60000 * MS; /* a minute */
	start(&t);
	assert_true(runs_reach(1));
	uint64_t before = monotonic_now_ns();
	timer_thread_stop(&t);
	assert_true(monotonic_now_ns() - before < MUST_COME_NS);
	assert_false(t.running);
	timer_thread_wake(&t); /* no-ops once stopped */
	timer_thread_stop(&t);
	sleep_ms(50);
	assert_int_equal(runs_now(), 1);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(runs_at_start_then_at_its_deadline),
		T(a_past_deadline_runs_again_at_once),
		T(no_deadline_waits_for_a_wake),
		T(a_wake_during_the_job_is_not_lost),
		T(stop_ends_a_sleep_and_nothing_runs_after),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
