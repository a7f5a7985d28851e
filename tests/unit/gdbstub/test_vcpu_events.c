/*
 * The per-vCPU event machine with real threads standing in for vCPUs (the
 * mock target's toy CPU). The test plays the server: it takes the stub
 * lock, runs packets and resumes exactly as server.c does.
 */
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gdbstub/rsp_codec.h"
#include "gdbstub/session.h"
#include "gdbstub/vcpu_events.h"
#include "mock_target.h"
#include "state_machine_checks.h"

struct harness {
	struct mock_target mt;
	struct gdb_session s;
	struct gdb_events ev;
	struct gdb_reply r;
	uint8_t rbuf[RSP_PACKET_SIZE];
	pthread_mutex_t nlock;
	pthread_cond_t ncond;
	unsigned long notified;
};

static void notify(void *arg)
{
	struct harness *h = arg;
	pthread_mutex_lock(&h->nlock);
	h->notified++;
	pthread_cond_broadcast(&h->ncond);
	pthread_mutex_unlock(&h->nlock);
}

static void h_add(void *a, int v) { events_vcpu_add(&((struct harness *)a)->ev, v); }
static void h_susp(void *a, int v) { events_vcpu_suspended(&((struct harness *)a)->ev, v); }
static void h_bp(void *a, int v, int l) { events_vcpu_breakpoint(&((struct harness *)a)->ev, v, l); }
static void h_step(void *a, int v) { events_vcpu_step_trap(&((struct harness *)a)->ev, v); }
static void h_watch(void *a, int v, enum gdb_watch_type t, uint64_t addr)
{
	events_vcpu_watch(&((struct harness *)a)->ev, v, t, addr);
}

/* The server's pause ops (server.c): every running vCPU parks around a
 * packet that writes memory (non-stop). */
static int h_pause(void *a)
{
	return events_pause_all_locked(&((struct harness *)a)->ev,
				       5000000000LL);
}

static void h_unpause(void *a)
{
	events_unpause_all_locked(&((struct harness *)a)->ev);
}

static struct harness *make(enum mock_personality p, unsigned n, bool hold)
{
	struct harness *h = calloc(1, sizeof(*h));
	mock_target_init(&h->mt, p, n);
	assert_int_equal(gdb_session_init(&h->s, &mock_target_ops, &h->mt), 0);
	pthread_mutex_init(&h->nlock, NULL);
	pthread_cond_init(&h->ncond, NULL);
	struct gdb_events_config cfg = {
		.ops = &mock_target_ops, .ctx = &h->mt, .nvcpus = n,
		.bps = &h->s.bps, .watches = &h->s.watches,
		.can_step = h->s.can_step,
		.step_cap = h->s.step_cap, .hold_new_vcpus = hold,
		.notify = notify, .notify_arg = h,
	};
	assert_int_equal(events_init(&h->ev, &cfg), 0);
	h->s.ev = &h->ev;
	h->s.pause = (struct gdb_pause_ops){ h_pause, h_unpause, h };
	h->r.buf = h->rbuf;
	h->r.cap = sizeof(h->rbuf);
	h->mt.hook_add = h_add;
	h->mt.hook_suspended = h_susp;
	h->mt.hook_breakpoint = h_bp;
	h->mt.hook_step = h_step;
	h->mt.hook_watch = h_watch;
	h->mt.hook_arg = h;
	/* as gdb does: stop replies may then say swbreak and hwbreak */
	gdb_handle_packet(&h->s, (const uint8_t *)"qSupported:swbreak+;hwbreak+",
			  28, &h->r);
	return h;
}

static void destroy(struct harness *h)
{
	checked_mutex_lock(&h->ev.lock);
	events_vm_over_locked(&h->ev);
	checked_mutex_unlock(&h->ev.lock);
	mock_stop_vcpus(&h->mt);
	events_destroy(&h->ev);
	gdb_session_free(&h->s);
	free(h);
}

/* How long a stop that must come may take: the toy vCPU threads may wait
 * long for a core on a busy host or under a sanitizer. A stop that must
 * not come is waited for briefly instead (a slow host only makes that
 * check see less). */
#define STOP_WAIT_MS 60000

/* Waits for a complete stop; false on timeout. */
static bool wait_stop(struct harness *h, int ms, struct gdb_stop_info *st)
{
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	long long deadline = end.tv_sec * 1000LL + end.tv_nsec / 1000000 + ms;
	for (;;) {
		checked_mutex_lock(&h->ev.lock);
		if (events_stop_wanted(&h->ev) &&
		    events_stop_complete_locked(&h->ev)) {
			events_take_stop_locked(&h->ev, h->s.resumed_vcpu, st);
			/* what the server sends; it also selects the thread */
			gdb_build_stop_reply(&h->s, st, &h->r);
			checked_mutex_unlock(&h->ev.lock);
			return true;
		}
		checked_mutex_unlock(&h->ev.lock);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec * 1000LL + now.tv_nsec / 1000000 > deadline)
			return false;
		usleep(1000);
	}
}

static void attach(struct harness *h)
{
	struct gdb_stop_info st;
	checked_mutex_lock(&h->ev.lock);
	events_stop_all_locked(&h->ev, false);
	checked_mutex_unlock(&h->ev.lock);
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
}

/* Runs a packet under the lock; applies a resume as the server does. */
static const char *packet(struct harness *h, const char *pkt)
{
	static char text[4096];
	checked_mutex_lock(&h->ev.lock);
	enum gdb_packet_result res = gdb_handle_packet(
		&h->s, (const uint8_t *)pkt, strlen(pkt), &h->r);
	events_set_non_stop_locked(&h->ev, h->s.non_stop);
	if (res == GDB_PKT_RESUME && h->s.non_stop) {
		nonstop_apply_actions_locked(&h->ev, &h->s);
		reply_reset(&h->r);
		reply_str(&h->r, "OK");
	} else if (res == GDB_PKT_RESUME) {
		events_resume_locked(&h->ev, h->s.actions, h->s.ranges);
	}
	size_t n = h->r.len < sizeof(text) - 1 ? h->r.len : sizeof(text) - 1;
	memcpy(text, h->r.buf, n);
	text[n] = 0;
	checked_mutex_unlock(&h->ev.lock);
	return text;
}

static void disconnect(struct harness *h)
{
	struct gdb_stop_info st;
	checked_mutex_lock(&h->ev.lock);
	events_stop_all_locked(&h->ev, false);
	checked_mutex_unlock(&h->ev.lock);
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	checked_mutex_lock(&h->ev.lock);
	gdb_bp_remove_all(&h->s);
	events_reset_locked(&h->ev);
	checked_mutex_unlock(&h->ev.lock);
}

static uint64_t rip_of(struct harness *h, int v)
{
	return mock_get_reg64(&h->mt, v, GDB_REG_RIP);
}

static void share_loop(struct harness *h, uint64_t rip)
{
	for (unsigned v = 0; v < h->mt.nvcpus; v++) {
		h->mt.vcpu[v].loop_start = 0x1000;
		mock_set_reg64(&h->mt, (int)v, GDB_REG_RIP, rip);
	}
}

static unsigned long executed(struct harness *h, int v)
{
	/* running or not: the toy CPU counts atomically */
	return __atomic_load_n(&h->mt.vcpu[v].executed, __ATOMIC_RELAXED);
}

/* Threads standing in for vCPUs may wait long for a core on a loaded
 * machine (or under a sanitizer): poll for the condition, up to
 * STOP_WAIT_MS (at least; each poll sleeps 1 ms or more). */
#define WAIT_UNTIL(cond)                                                 \
	do {                                                             \
		for (int waited_ms_ = 0; !(cond) &&                      \
					 waited_ms_ < STOP_WAIT_MS;      \
		     waited_ms_++)                                       \
			usleep(1000);                                    \
	} while (0)
/* WAIT_UNTIL, then the condition must hold. */
#define ASSERT_SOON(cond)                                                \
	do {                                                             \
		WAIT_UNTIL(cond);                                        \
		assert_true(cond);                                       \
	} while (0)

static unsigned waiting_vcpus(struct harness *h)
{
	checked_mutex_lock(&h->ev.lock);
	unsigned n = h->ev.nwaiting;
	checked_mutex_unlock(&h->ev.lock);
	return n;
}

static int pending_hits_besides(struct harness *h, int reported)
{
	checked_mutex_lock(&h->ev.lock);
	int n = 0;
	for (unsigned v = 0; v < h->mt.nvcpus; v++)
		n += h->ev.vcpu[v].state == VCPU_HIT_BREAKPOINT &&
		     (int)v != reported;
	checked_mutex_unlock(&h->ev.lock);
	return n;
}

/* No vCPU has breakpoint exits, stepping or masking on (each turns its
 * own off as it wakes, so after a disconnect this comes true soon). */
static bool all_caps_off(struct harness *h)
{
	checked_mutex_lock(&h->ev.lock);
	bool off = true;
	for (unsigned v = 0; v < h->mt.nvcpus; v++)
		off = off && !h->mt.vcpu[v].caps[GDB_CAP_BPT_EXIT] &&
		      !h->mt.vcpu[v].caps[h->s.step_cap] &&
		      !h->mt.vcpu[v].caps[GDB_CAP_MASK_HWINTR];
	checked_mutex_unlock(&h->ev.lock);
	return off;
}

/* Every vCPU executed more than `after` + `by` toy instructions. */
static bool all_moved(struct harness *h, const unsigned long *after,
		      unsigned long by)
{
	for (unsigned v = 0; v < h->mt.nvcpus; v++)
		if (executed(h, (int)v) <= after[v] + by)
			return false;
	return true;
}

/* Every vCPU starts on a breakpoint at 0x1005 at once. */
static void start_all_on_breakpoint(struct harness *h)
{
	share_loop(h, 0x1005);
	h->mt.start_together = true;
	assert_string_equal(packet(h, "Z0,1005,1"), "OK");
	mock_start_vcpus(&h->mt);
}

/* start_all_on_breakpoint, and the first of the hits it causes. */
static struct gdb_stop_info first_breakpoint_stop(struct harness *h)
{
	struct gdb_stop_info st;
	start_all_on_breakpoint(h);
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_true(st.swbreak);
	return st;
}

static void test_hits_reported_one_at_a_time(void **state)
{
	enum mock_personality p = *(enum mock_personality *)*state;
	struct harness *h = make(p, 4, false);
	/* all four hit at once; each must be reported in turn */
	start_all_on_breakpoint(h);
	WAIT_UNTIL(pending_hits_besides(h, -1) == 4);
	bool seen[4] = { false };
	unsigned long at_continue[4];
	for (int round = 0; round < 4; round++) {
		struct gdb_stop_info st;
		assert_true(wait_stop(h, STOP_WAIT_MS, &st));
		/* a pending event is reported at once: nobody ran since the
		 * continue, so nobody could hit again before its turn */
		if (round > 0)
			for (int v = 0; v < 4; v++)
				assert_int_equal(executed(h, v), at_continue[v]);
		assert_int_equal(st.signal, 5);
		assert_true(st.swbreak);
		assert_false(seen[st.vcpu]);
		seen[st.vcpu] = true;
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "T05thread:%x;swbreak:;",
			 st.vcpu + 1);
		assert_memory_equal(h->rbuf, prefix, strlen(prefix));
		assert_int_equal(h->s.hg, st.vcpu); /* reported = selected */
		assert_true(rip_of(h, st.vcpu) == 0x1005);
		/* what GDB does: remove, step over, reinsert, continue */
		assert_string_equal(packet(h, "z0,1005,1"), "OK");
		char step[32];
		snprintf(step, sizeof(step), "vCont;s:%x", st.vcpu + 1);
		packet(h, step);
		struct gdb_stop_info st2;
		assert_true(wait_stop(h, STOP_WAIT_MS, &st2));
		assert_int_equal(st2.vcpu, st.vcpu);
		assert_false(st2.swbreak);
		assert_true(rip_of(h, st.vcpu) == 0x1006);
		assert_string_equal(packet(h, "Z0,1005,1"), "OK");
		for (int v = 0; v < 4; v++)
			at_continue[v] = executed(h, v);
		packet(h, "vCont;c");
	}
	/* no vCPU is left stepping or masked */
	struct gdb_stop_info st;
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	for (unsigned v = 0; v < 4; v++) {
		assert_false(h->mt.vcpu[v].caps[h->s.step_cap]);
		assert_false(h->mt.vcpu[v].caps[GDB_CAP_MASK_HWINTR]);
		assert_int_equal(h->mt.vcpu[v].steps_with_mask,
				 h->mt.vcpu[v].step_traps);
	}
	destroy(h);
}

static void test_stale_event_dropped_after_z0(void **state)
{
	enum mock_personality p = *(enum mock_personality *)*state;
	struct harness *h = make(p, 4, false);
	struct gdb_stop_info st = first_breakpoint_stop(h);
	/* the others hit too and wait with pending events */
	WAIT_UNTIL(pending_hits_besides(h, st.vcpu) == 3);
	assert_int_equal(pending_hits_besides(h, st.vcpu), 3);
	assert_string_equal(packet(h, "z0,1005,1"), "OK");
	unsigned long before[4];
	for (int v = 0; v < 4; v++)
		before[v] = executed(h, v);
	packet(h, "vCont;c");
	/* no spurious SIGTRAP: everyone runs and nothing stops by itself */
	ASSERT_SOON(all_moved(h, before, 5));
	assert_false(wait_stop(h, 300, &st));
	/* Ctrl-C: T02 with a thread */
	checked_mutex_lock(&h->ev.lock);
	events_stop_all_locked(&h->ev, true);
	checked_mutex_unlock(&h->ev.lock);
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.signal, 2);
	assert_memory_equal(h->rbuf, "T02thread:", 10);
	/* stopped means stopped */
	unsigned long snap[4];
	for (int v = 0; v < 4; v++)
		snap[v] = executed(h, v);
	usleep(30000);
	for (int v = 0; v < 4; v++)
		assert_int_equal(executed(h, v), snap[v]);
	destroy(h);
}

/* gdb steps, with scheduler-locking, a vCPU whose own breakpoint hit was
 * still pending when the breakpoint was removed: the stale event is dropped
 * and the step must still happen and be reported (it used to run free and
 * never stop). */
static void test_step_after_stale_event(void **state)
{
	enum mock_personality p = *(enum mock_personality *)*state;
	struct harness *h = make(p, 4, false);
	struct gdb_stop_info st = first_breakpoint_stop(h);
	int b = (st.vcpu + 1) % 4;
	WAIT_UNTIL(waiting_vcpus(h) == 4);
	checked_mutex_lock(&h->ev.lock);
	bool pending = h->ev.vcpu[b].state == VCPU_HIT_BREAKPOINT;
	checked_mutex_unlock(&h->ev.lock);
	assert_true(pending);
	assert_string_equal(packet(h, "z0,1005,1"), "OK");
	uint64_t rips[4];
	for (int v = 0; v < 4; v++)
		rips[v] = rip_of(h, v);
	char step[32];
	snprintf(step, sizeof(step), "vCont;s:%x", b + 1);
	packet(h, step);
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.vcpu, b);
	assert_int_equal(st.signal, 5);
	assert_false(st.swbreak);
	assert_true(rip_of(h, b) == 0x1006);
	for (int v = 0; v < 4; v++)
		if (v != b)
			assert_true(rip_of(h, v) == rips[v]);
	assert_false(h->mt.vcpu[b].caps[h->s.step_cap]);
	destroy(h);
}

static void test_scheduler_locked_step(void **state)
{
	struct harness *h = *state;
	uint64_t rips[4];
	for (int v = 0; v < 4; v++)
		rips[v] = rip_of(h, v);
	for (int i = 0; i < 40; i++) {
		uint64_t before = rip_of(h, 2);
		packet(h, "vCont;s:3");
		struct gdb_stop_info st;
		assert_true(wait_stop(h, STOP_WAIT_MS, &st));
		assert_int_equal(st.vcpu, 2);
		assert_int_equal(st.signal, 5);
		assert_false(st.swbreak);
		uint64_t after = rip_of(h, 2);
		/* one toy instruction: +1, or the jump back at the end */
		uint64_t start = h->mt.vcpu[2].loop_start;
		assert_true(after == (before == start + 15 ? start : before + 1));
		assert_false(h->mt.vcpu[2].caps[h->s.step_cap]);
		assert_false(h->mt.vcpu[2].caps[GDB_CAP_MASK_HWINTR]);
	}
	assert_int_equal(h->mt.vcpu[2].step_traps, 40);
	assert_int_equal(h->mt.vcpu[2].steps_with_mask, 40);
	for (int v = 0; v < 4; v++) {
		if (v != 2 && rip_of(h, v) != rips[v])
			fail_msg("vCPU %d moved from %llx to %llx (executed %lu)",
				 v, (unsigned long long)rips[v],
				 (unsigned long long)rip_of(h, v),
				 h->mt.vcpu[v].executed);
		/* masking never touched anyone else */
		if (v != 2)
			assert_int_equal(h->mt.vcpu[v].steps_with_mask, 0);
	}
	/* plain 's' steps the Hc thread (set by the stop) too */
	packet(h, "s");
	struct gdb_stop_info st;
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.vcpu, 2);
	/* vCont;s:1;c steps one and runs the others */
	unsigned long e3 = executed(h, 3);
	packet(h, "vCont;s:1;c");
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.vcpu, 0);
	packet(h, "vCont;c");
	ASSERT_SOON(executed(h, 3) > e3);
}

static unsigned long range_steps(struct harness *h)
{
	checked_mutex_lock(&h->ev.lock);
	unsigned long n = h->ev.range_steps;
	checked_mutex_unlock(&h->ev.lock);
	return n;
}

/* vCont;r: the vCPU steps on by itself while RIP stays in the range and
 * reports one step stop when it leaves, or a breakpoint inside it first;
 * a stop of the world (^C) parks it mid-range with nothing to report.
 * Every step has interrupts masked, as a single step does. */
static void test_range_step(void **state)
{
	struct harness *h = *state;
	uint64_t start = h->mt.vcpu[2].loop_start;
	char pkt[64];
	struct gdb_stop_info st;
	for (int i = 0; i < 3; i++) {
		unsigned long traps = h->mt.vcpu[2].step_traps;
		unsigned long before = range_steps(h);
		/* parked: its registers are the debugger's to write */
		mock_set_reg64(&h->mt, 2, GDB_REG_RIP, start + 2 + i);
		snprintf(pkt, sizeof(pkt), "vCont;r%llx,%llx:3",
			 (unsigned long long)start,
			 (unsigned long long)start + 12);
		packet(h, pkt);
		assert_true(wait_stop(h, STOP_WAIT_MS, &st));
		assert_int_equal(st.vcpu, 2);
		assert_int_equal(st.signal, 5);
		assert_false(st.swbreak);
		/* the first instruction out of the range */
		assert_true(rip_of(h, 2) == start + 12);
		unsigned long n = h->mt.vcpu[2].step_traps - traps;
		assert_int_equal(n, 10 - i);
		assert_int_equal(range_steps(h) - before, n - 1);
		assert_int_equal(h->mt.vcpu[2].steps_with_mask,
				 h->mt.vcpu[2].step_traps);
		assert_false(h->mt.vcpu[2].caps[h->s.step_cap]);
	}
	/* a breakpoint inside the range ends it there */
	mock_set_reg64(&h->mt, 2, GDB_REG_RIP, start + 1);
	snprintf(pkt, sizeof(pkt), "Z0,%llx,1",
		 (unsigned long long)start + 6);
	assert_string_equal(packet(h, pkt), "OK");
	snprintf(pkt, sizeof(pkt), "vCont;r%llx,%llx:3",
		 (unsigned long long)start, (unsigned long long)start + 16);
	packet(h, pkt);
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.vcpu, 2);
	assert_true(st.swbreak);
	assert_true(rip_of(h, 2) == start + 6);
	snprintf(pkt, sizeof(pkt), "z0,%llx,1",
		 (unsigned long long)start + 6);
	assert_string_equal(packet(h, pkt), "OK");
	/* a range the loop never leaves: only ^C stops it, reported as the
	 * interrupt, and the vCPU holds no step stop of its own */
	unsigned long before = range_steps(h);
	packet(h, "vCont;r0,ffffffffffffffff:3");
	ASSERT_SOON(range_steps(h) > before + 100);
	checked_mutex_lock(&h->ev.lock);
	events_stop_all_locked(&h->ev, true);
	checked_mutex_unlock(&h->ev.lock);
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.signal, 2);
	checked_mutex_lock(&h->ev.lock);
	enum vcpu_dbg_state s2 = h->ev.vcpu[2].state;
	checked_mutex_unlock(&h->ev.lock);
	assert_int_equal(s2, VCPU_PARKED_MID_STEP);
	/* and it resumes as told: a continue clears its step caps */
	packet(h, "vCont;c");
	unsigned long e2 = executed(h, 2);
	ASSERT_SOON(executed(h, 2) > e2 + 50);
	assert_false(h->mt.vcpu[2].caps[h->s.step_cap]);
	assert_false(wait_stop(h, 200, &st));
}

static void test_disconnect_mid_step_and_pending(void **state)
{
	enum mock_personality p = *(enum mock_personality *)*state;
	struct harness *h = make(p, 4, false);
	share_loop(h, 0x1005);
	uint8_t code[32];
	memcpy(code, h->mt.mem + 0x1000, 32);
	h->mt.start_together = true;
	packet(h, "Z0,1005,1");
	packet(h, "Z0,100a,1");
	mock_start_vcpus(&h->mt);
	struct gdb_stop_info st;
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	usleep(10000); /* others pending on the breakpoint */
	char step[32];
	snprintf(step, sizeof(step), "vCont;s:%x", st.vcpu + 1);
	packet(h, step);
	/* gone at once, the step may or may not have happened */
	disconnect(h);
	WAIT_UNTIL(all_caps_off(h));
	assert_memory_equal(h->mt.mem + 0x1000, code, 32);
	checked_mutex_lock(&h->ev.lock);
	assert_int_equal(h->ev.stopped_vcpu, -1);
	for (int v = 0; v < 4; v++) {
		/* no event, no step left */
		assert_int_equal(h->ev.vcpu[v].state, VCPU_RUNNING);
		assert_false(h->mt.vcpu[v].caps[GDB_CAP_BPT_EXIT]);
		assert_false(h->mt.vcpu[v].caps[h->s.step_cap]);
		assert_false(h->mt.vcpu[v].caps[GDB_CAP_MASK_HWINTR]);
	}
	checked_mutex_unlock(&h->ev.lock);
	unsigned long snap[4];
	for (int v = 0; v < 4; v++)
		snap[v] = executed(h, v);
	ASSERT_SOON(all_moved(h, snap, 0)); /* all run again */
	/* and a new session works */
	attach(h);
	packet(h, "vCont;s:2");
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.vcpu, 1);
	disconnect(h);
	destroy(h);
}

static void test_late_vcpu_gets_bpt_exit(void **state)
{
	(void)state;
	struct harness *h = make(MOCK_INTEL, 2, false);
	h->mt.vcpu[1].start_delay_ms = 100;
	mock_start_vcpus(&h->mt);
	attach(h);
	packet(h, "Z0,1f00,1"); /* never executed */
	unsigned long ran0 = executed(h, 0);
	packet(h, "vCont;c");
	/* each vCPU turns it on itself, vCPU 0 when it wakes from the
	 * attach's park, vCPU 1 when it starts 100 ms late */
	WAIT_UNTIL(executed(h, 0) > ran0 && executed(h, 1) > 0);
	checked_mutex_lock(&h->ev.lock);
	assert_int_not_equal(h->ev.vcpu[1].state, VCPU_NOT_STARTED);
	assert_true(h->mt.vcpu[0].caps[GDB_CAP_BPT_EXIT]);
	assert_true(h->mt.vcpu[1].caps[GDB_CAP_BPT_EXIT]);
	checked_mutex_unlock(&h->ev.lock);
	disconnect(h);
	ASSERT_SOON(all_caps_off(h));
	destroy(h);
}

/* set_cap for BPT_EXIT fails this many more times, then works. */
static int bpt_cap_failures;

static int flaky_set_cap(void *ctx, int vcpu, enum gdb_cap cap, bool on)
{
	if (cap == GDB_CAP_BPT_EXIT &&
	    __atomic_fetch_sub(&bpt_cap_failures, 1, __ATOMIC_RELAXED) > 0)
		return -EIO;
	return mock_target_ops.set_cap(ctx, vcpu, cap, on);
}

/* A set_cap that failed is not recorded as done: the vCPU tries again at
 * its next wake-up, and breakpoints work from then on. */
static void test_failed_set_cap_retried(void **state)
{
	(void)state;
	static struct gdb_target_ops flaky;
	struct gdb_stop_info st;
	struct harness *h = make(MOCK_INTEL, 1, false);
	flaky = mock_target_ops;
	flaky.set_cap = flaky_set_cap;
	h->ev.ops = &flaky;
	bpt_cap_failures = 1;
	mock_start_vcpus(&h->mt);
	attach(h);
	assert_string_equal(packet(h, "Z0,1005,1"), "OK");
	unsigned long ran = executed(h, 0);
	packet(h, "c");
	/* the first try failed: the int3 runs as a nop for now */
	WAIT_UNTIL(executed(h, 0) > ran + 100);
	checked_mutex_lock(&h->ev.lock);
	assert_false(h->mt.vcpu[0].caps[GDB_CAP_BPT_EXIT]);
	assert_false(h->ev.vcpu[0].bpt_exit_on);
	events_stop_all_locked(&h->ev, true); /* Ctrl-C */
	checked_mutex_unlock(&h->ev.lock);
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.signal, 2);
	packet(h, "c");
	/* the retry at this wake-up works: the breakpoint is hit */
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.signal, 5);
	assert_true(st.swbreak);
	assert_true(rip_of(h, 0) == 0x1005);
	disconnect(h);
	destroy(h);
}

static void test_guest_int3_reinjected(void **state)
{
	enum mock_personality p = *(enum mock_personality *)*state;
	struct harness *h = make(p, 1, false);
	h->mt.mem[0x1003] = 0xcc; /* the guest's own int3 */
	mock_start_vcpus(&h->mt);
	attach(h);
	packet(h, "Z0,1f00,1"); /* ours, elsewhere: BPT_EXIT is on */
	unsigned long before = executed(h, 0);
	packet(h, "vCont;c");
	/* two rounds of the 16-byte toy loop pass the int3 at least once */
	ASSERT_SOON(executed(h, 0) > before + 32);
	/* no stop was reported: the guest got its #BP */
	struct gdb_stop_info st;
	assert_false(wait_stop(h, 10, &st));
	attach(h);
	struct mock_vcpu *c = &h->mt.vcpu[0];
	assert_true(c->bp_exits > 0);
	assert_true(c->deliveries > 0);
	assert_int_equal(c->delivered_vector, 3);
	/* the handler sees the return RIP after the int3 */
	assert_true(c->delivered_return_rip == 0x1004);
	if (p == MOCK_INTEL) {
		assert_true(c->injected_rip == 0x1003);
		assert_int_equal(c->injected_len, 1);
	} else {
		assert_true(c->injected_rip == 0x1004); /* RIP advanced */
	}
	disconnect(h);
	destroy(h);
}

static void test_wait_holds_vcpus_until_resume(void **state)
{
	(void)state;
	struct harness *h = make(MOCK_INTEL, 3, true);
	mock_start_vcpus(&h->mt);
	usleep(50000);
	for (int v = 0; v < 3; v++)
		assert_int_equal(executed(h, v), 0);
	attach(h);
	for (int v = 0; v < 3; v++)
		assert_int_equal(executed(h, v), 0);
	/* a breakpoint on the first instruction is hit before anything */
	packet(h, "Z0,1000,1");
	packet(h, "vCont;c");
	struct gdb_stop_info st;
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_true(st.swbreak);
	assert_int_equal(executed(h, st.vcpu), 0);
	disconnect(h);
	const unsigned long none[3] = { 0, 0, 0 };
	ASSERT_SOON(all_moved(h, none, 0));
	destroy(h);
}

static void test_hooks_without_stub(void **state)
{
	(void)state;
	/* bhyve's gdb_cpu_add crash: no debugger, hooks return at once */
	gdbstub_vcpu_add(NULL, 0);
	gdbstub_vcpu_suspended(NULL, 0);
	gdbstub_vcpu_breakpoint(NULL, 0, 1);
	gdbstub_vcpu_step_trap(NULL, 0);
	gdbstub_vm_ended(NULL, 0, 0);
	gdbstub_destroy(NULL);
	assert_int_equal(gdbstub_port(NULL), 0);
}

static void test_vm_over_releases_parked(void **state)
{
	(void)state;
	struct harness *h = make(MOCK_INTEL, 2, true);
	mock_start_vcpus(&h->mt);
	WAIT_UNTIL(waiting_vcpus(h) == 2);
	checked_mutex_lock(&h->ev.lock);
	assert_int_equal(h->ev.nwaiting, 2);
	events_vm_over_locked(&h->ev);
	checked_mutex_unlock(&h->ev.lock);
	ASSERT_SOON(executed(h, 0) > 0);
	destroy(h);
}

/* A thread that holds a mutex for hold_ns, then lets it go; or, with
 * until_taker_sleeps, until the taking thread has slept on it (a fixed
 * hold let a taker that a busy host ran late find the mutex free again
 * and never sleep), for at most STOP_WAIT_MS. */
struct holder {
	struct checked_mutex *lock;
	long long hold_ns;
	bool until_taker_sleeps;
	atomic_bool locked, released;
	atomic_int taker_tid;           /* set with taker_before, then ready */
	atomic_long taker_before;
	atomic_bool taker_ready;
};

/* Voluntary context switches of thread tid of this process, or -1. */
static long thread_voluntary_switches(int tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	FILE *f = fopen(path, "r");
	long n = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void *hold_then_release(void *arg)
{
	struct holder *h = arg;
	checked_mutex_lock(h->lock);
	atomic_store(&h->locked, true);
	if (h->until_taker_sleeps) {
		long long give_up = gdb_monotonic_ns() +
				    STOP_WAIT_MS * 1000000LL;
		while (gdb_monotonic_ns() < give_up &&
		       !(atomic_load(&h->taker_ready) &&
			 thread_voluntary_switches(atomic_load(&h->taker_tid)) >
				 atomic_load(&h->taker_before)))
			usleep(1000);
	} else {
		struct timespec ts = { 0, h->hold_ns };
		nanosleep(&ts, NULL);
	}
	atomic_store(&h->released, true);
	checked_mutex_unlock(h->lock);
	return NULL;
}

static long voluntary_switches(void)
{
	struct rusage ru;
	assert_int_equal(getrusage(RUSAGE_THREAD, &ru), 0);
	return ru.ru_nvcsw;
}

/* Takes the lock from a holder while the spin window lasts, and reports
 * how often the calling thread slept on the way. With a window of 0 the
 * holder keeps the lock until the caller slept on it. */
static long switches_while_taking(long long hold_ns, long long window_ns)
{
	struct checked_mutex lock;
	assert_int_equal(checked_mutex_init(&lock, LOCK_RANK_STUB), 0);
	struct holder h = { .lock = &lock, .hold_ns = hold_ns,
			    .until_taker_sleeps = window_ns == 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, hold_then_release, &h), 0);
	while (!atomic_load(&h.locked))
		;
	long before = voluntary_switches();
	atomic_store(&h.taker_tid, (int)gettid());
	atomic_store(&h.taker_before, before);
	atomic_store(&h.taker_ready, true);
	gdb_lock_spinning(&lock, gdb_monotonic_ns() + window_ns);
	long slept = voluntary_switches() - before;
	assert_true(atomic_load(&h.released)); /* really waited for it */
	checked_mutex_unlock(&lock);
	pthread_join(t, NULL);
	checked_mutex_destroy(&lock);
	return slept;
}

/* Within its window the server (and the stopped vCPU) must not sleep on
 * the stub lock: being woken again costs ~40 us on this kind of host, the
 * very latency the spin exists to avoid. */
static void test_lock_spinning_does_not_sleep_in_window(void **state)
{
	(void)state;
	/* The window is far longer than the 2 ms hold, so that a busy host
	 * that runs the holder late still releases within it. */
	assert_int_equal(switches_while_taking(2000000, 60000000000LL), 0);
}

/* After the window it waits like any lock (no endless burning of a CPU). */
static void test_lock_spinning_sleeps_after_window(void **state)
{
	(void)state;
	assert_true(switches_while_taking(20000000, 0) > 0);
}

/* ---- The state table ---------------------------------------------------- */

static const char *monitor_text(struct harness *h, const char *cmd)
{
	static char text[4096];
	char pkt[256] = "qRcmd,";
	hex_encode((const uint8_t *)cmd, strlen(cmd), pkt + 6);
	pkt[6 + 2 * strlen(cmd)] = 0;
	const char *hex = packet(h, pkt);
	size_t n = strlen(hex) / 2;
	assert_int_equal(hex_decode(hex, n, (uint8_t *)text), 0);
	text[n] = 0;
	return text;
}

#ifndef NDEBUG
/* The illegal edges below, taken in a child (expect_abort_saying): a
 * debug build aborts. */
static void step_vcpu1_unstarted(void *arg)
{
	struct harness *h = arg;
	checked_mutex_lock(&h->ev.lock);
	events_set_state_locked(&h->ev, 1, VCPU_STEPPED);
}

static void stop_a_free_world(void *arg)
{
	struct harness *h = arg;
	checked_mutex_lock(&h->ev.lock);
	events_set_world_locked(&h->ev, WORLD_STOPPED);
}
#endif

/* An edge the table does not list is a bug in the event machine. A debug
 * build stops on it; a release build refuses it, counts it and carries on
 * (monitor info stats shows the count). */
static void test_illegal_transition_refused(void **state)
{
	struct harness *h = *state;
#ifdef NDEBUG
	checked_mutex_lock(&h->ev.lock);
	unsigned long made = h->ev.transitions;
	/* a vCPU whose thread never came cannot have stepped */
	assert_false(events_set_state_locked(&h->ev, 1, VCPU_STEPPED));
	assert_int_equal(h->ev.vcpu[1].state, VCPU_NOT_STARTED);
	assert_int_equal(h->ev.illegal_transitions, 1);
	assert_int_equal(h->ev.transitions, made);
	assert_int_equal(h->ev.nwaiting, 0);
	assert_int_equal(h->ev.nactive, 0);
	checked_mutex_unlock(&h->ev.lock);
	assert_non_null(strstr(monitor_text(h, "info stats"),
			       "illegal vCPU state transitions refused: 1\n"));
#else
	expect_abort_saying(step_vcpu1_unstarted, h,
			    "vCPU 1: illegal state transition "
			    "not-started -> stepped");
#endif
}

/* The world's state (world_state.h) takes only listed edges: a resume
 * that finds no stop to resume from is a bug in the event machine. A
 * debug build stops on it; a release build refuses it, counts it and
 * carries on. */
static void test_illegal_world_transition_refused(void **state)
{
	struct harness *h = *state;
#ifdef NDEBUG
	checked_mutex_lock(&h->ev.lock);
	assert_int_equal(h->ev.world, WORLD_FREE);
	assert_false(events_set_world_locked(&h->ev, WORLD_STOPPED));
	assert_int_equal(h->ev.world, WORLD_FREE);
	assert_int_equal(h->ev.illegal_transitions, 1);
	/* the VM's end is for ever */
	assert_true(events_set_world_locked(&h->ev, WORLD_OVER));
	assert_false(events_set_world_locked(&h->ev, WORLD_FREE));
	assert_true(events_vm_over(&h->ev));
	assert_int_equal(h->ev.illegal_transitions, 2);
	checked_mutex_unlock(&h->ev.lock);
#else
	expect_abort_saying(stop_a_free_world, h,
			    "illegal world state transition free -> stopped");
#endif
}

/* A session's stops walk the world through its states, and ^C's stop is
 * told apart from an event's. */
static void test_world_states_of_a_session(void **state)
{
	(void)state;
	struct harness *h = make(MOCK_INTEL, 2, false);
	mock_start_vcpus(&h->mt);
	assert_int_equal(h->ev.world, WORLD_FREE);
	attach(h);
	assert_int_equal(h->ev.world, WORLD_STOPPED);
	packet(h, "vCont;c");
	checked_mutex_lock(&h->ev.lock);
	assert_int_equal(h->ev.world, WORLD_RUNNING);
	events_stop_all_locked(&h->ev, true);
	assert_int_equal(h->ev.world, WORLD_INTERRUPTING);
	/* an event's stop during ^C's: still ^C's */
	events_stop_all_locked(&h->ev, false);
	assert_int_equal(h->ev.world, WORLD_INTERRUPTING);
	checked_mutex_unlock(&h->ev.lock);
	struct gdb_stop_info st;
	assert_true(wait_stop(h, 5000, &st));
	assert_int_equal(st.signal, 2);
	assert_int_equal(h->ev.world, WORLD_STOPPED);
	disconnect(h);
	assert_int_equal(h->ev.world, WORLD_FREE);
	checked_mutex_lock(&h->ev.lock);
	events_vm_over_locked(&h->ev);
	assert_int_equal(h->ev.world, WORLD_OVER);
	/* nothing leaves the end: a stop is not even asked for */
	events_stop_all_locked(&h->ev, false);
	assert_int_equal(h->ev.world, WORLD_OVER);
	checked_mutex_unlock(&h->ev.lock);
	assert_int_equal(h->ev.illegal_transitions, 0);
	destroy(h);
}

/* A real session counts its transitions and refuses none. */
static void test_stats_count_transitions(void **state)
{
	(void)state;
	struct harness *h = make(MOCK_INTEL, 2, false);
	mock_start_vcpus(&h->mt);
	/* both threads came (an attach before would count neither) */
	WAIT_UNTIL(executed(h, 0) > 0 && executed(h, 1) > 0);
	attach(h);
	packet(h, "vCont;s:1");
	struct gdb_stop_info st;
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	/* two arrivals, two parks, vCPU 0's step and its trap */
	const char *text = monitor_text(h, "info stats");
	unsigned long made, refused;
	assert_int_equal(sscanf(text, "vCPU state transitions: %lu\n"
				      "illegal vCPU state transitions "
				      "refused: %lu", &made, &refused), 2);
	if (made < 6)
		fail_msg("only %lu transitions: %s", made, text);
	assert_int_equal(refused, 0);
	disconnect(h);
	destroy(h);
}

static enum mock_personality intel = MOCK_INTEL, amd = MOCK_AMD;

/* ---- Hardware breakpoints and watchpoints -------------------------------- */

/* Every vCPU runs the shared loop with a "store" at 0x1005 to the byte at
 * its RBX: vCPU `who` to 0x3000, the others elsewhere. */
static void stores_to(struct harness *h, int who)
{
	share_loop(h, 0x1000);
	h->mt.mem[0x1005] = 0xa2;
	for (unsigned v = 0; v < h->mt.nvcpus; v++)
		mock_set_reg64(&h->mt, (int)v, GDB_REG_RBX,
			       (int)v == who ? 0x3000 : 0x3100 + v);
}

static void test_watchpoint_reported_after_the_store(void **state)
{
	enum mock_personality p = *(enum mock_personality *)*state;
	struct harness *h = make(p, 4, true);
	stores_to(h, 2);
	mock_start_vcpus(&h->mt);
	attach(h);
	assert_string_equal(packet(h, "Z2,3000,1"), "OK");
	struct gdb_stop_info st;
	for (int round = 0; round < 3; round++) {
		packet(h, "vCont;c");
		assert_true(wait_stop(h, STOP_WAIT_MS, &st));
		assert_int_equal(st.vcpu, 2);
		assert_memory_equal(h->rbuf, "T05thread:3;watch:3000;", 23);
		/* a trap: RIP is past the store */
		assert_true(rip_of(h, 2) == 0x1006);
		/* gdb takes every watch out at a stop, back in to resume */
		assert_string_equal(packet(h, "z2,3000,1"), "OK");
		assert_string_equal(packet(h, "Z2,3000,1"), "OK");
	}
	destroy(h);
}

static void test_hw_breakpoint_before_its_instruction(void **state)
{
	enum mock_personality p = *(enum mock_personality *)*state;
	struct harness *h = make(p, 2, true);
	share_loop(h, 0x1000);
	mock_start_vcpus(&h->mt);
	attach(h);
	assert_string_equal(packet(h, "Z1,1003,1"), "OK");
	packet(h, "vCont;c");
	struct gdb_stop_info st;
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "T05thread:%x;hwbreak:;", st.vcpu + 1);
	assert_memory_equal(h->rbuf, prefix, strlen(prefix));
	assert_true(rip_of(h, st.vcpu) == 0x1003);
	/* what gdb does: out, step over it, back in, continue */
	assert_string_equal(packet(h, "z1,1003,1"), "OK");
	char step[32];
	snprintf(step, sizeof(step), "vCont;s:%x", st.vcpu + 1);
	packet(h, step);
	struct gdb_stop_info st2;
	assert_true(wait_stop(h, STOP_WAIT_MS, &st2));
	assert_int_equal(st2.vcpu, st.vcpu);
	assert_int_equal(st2.watch_type, 0);
	assert_true(rip_of(h, st.vcpu) == 0x1004);
	assert_string_equal(packet(h, "Z1,1003,1"), "OK");
	packet(h, "vCont;c");
	assert_true(wait_stop(h, STOP_WAIT_MS, &st2));
	assert_int_equal(st2.watch_type, GDB_HW_BREAKPOINT);
	assert_true(rip_of(h, st2.vcpu) == 0x1003);
	destroy(h);
}

static int pending_watch_hits(struct harness *h)
{
	checked_mutex_lock(&h->ev.lock);
	int n = 0;
	for (unsigned v = 0; v < h->mt.nvcpus; v++)
		n += h->ev.vcpu[v].state == VCPU_HIT_WATCH;
	checked_mutex_unlock(&h->ev.lock);
	return n;
}

/* Every vCPU stores to the watched byte at once; the first is reported,
 * and once the watch is gone the others' hits are dropped, not reported
 * for a watch gdb no longer has. */
static void test_stale_watch_hits_dropped(void **state)
{
	enum mock_personality p = *(enum mock_personality *)*state;
	struct harness *h = make(p, 4, false);
	share_loop(h, 0x1005);
	h->mt.mem[0x1005] = 0xa2;
	for (int v = 0; v < 4; v++)
		mock_set_reg64(&h->mt, v, GDB_REG_RBX, 0x3000);
	h->mt.start_together = true;
	assert_string_equal(packet(h, "Z4,3000,1"), "OK");
	mock_start_vcpus(&h->mt);
	struct gdb_stop_info st;
	assert_true(wait_stop(h, STOP_WAIT_MS, &st));
	assert_int_equal(st.watch_type, GDB_WATCH_ACCESS);
	/* the others stored too and wait with pending hits */
	WAIT_UNTIL(pending_watch_hits(h) == 4);
	assert_int_equal(pending_watch_hits(h), 4);
	assert_string_equal(packet(h, "z4,3000,1"), "OK");
	unsigned long before[4];
	for (int v = 0; v < 4; v++)
		before[v] = executed(h, v);
	packet(h, "vCont;c");
	ASSERT_SOON(all_moved(h, before, 5));
	assert_false(wait_stop(h, 300, &st));
	destroy(h);
}

/* ---- non-stop mode -------------------------------------------------- */

/* What the server does when a vCPU reports (non-stop): the stop to send now
 * as a notification, in text, or "" when none came within ms. */
static const char *ns_notification(struct harness *h, int ms)
{
	static char text[512];
	for (int waited = 0; waited <= ms; waited++) {
		checked_mutex_lock(&h->ev.lock);
		int v = nonstop_collect_stops_locked(&h->ev, &h->s);
		if (v >= 0) {
			uint8_t buf[512];
			struct gdb_reply r = { .buf = buf, .cap = sizeof(buf) };
			gdb_build_vcpu_stop_reply(&h->s, v, &r);
			memcpy(text, buf, r.len);
			text[r.len] = 0;
			checked_mutex_unlock(&h->ev.lock);
			return text;
		}
		checked_mutex_unlock(&h->ev.lock);
		usleep(1000);
	}
	return "";
}

static bool parked(struct harness *h, int v)
{
	checked_mutex_lock(&h->ev.lock);
	bool p = events_vcpu_stopped_locked(&h->ev, v);
	checked_mutex_unlock(&h->ev.lock);
	return p;
}

static bool starts(const char *text, const char *prefix)
{
	if (strncmp(text, prefix, strlen(prefix)) == 0)
		return true;
	fprintf(stderr, "got \"%s\", want \"%s...\"\n", text, prefix);
	return false;
}

/* ---- Fixtures (cmocka set-up and tear-down; prestate: the personality) */

/* 4 vCPUs started and a debugger attached: every vCPU stopped. */
static int four_attached(void **state)
{
	struct harness *h = make(*(enum mock_personality *)*state, 4, false);
	mock_start_vcpus(&h->mt);
	attach(h);
	*state = h;
	return 0;
}

/* The same in non-stop mode, the attach's four stops read and
 * acknowledged: every vCPU stopped, nothing owed to the debugger. */
static int four_attached_non_stop(void **state)
{
	four_attached(state);
	struct harness *h = *state;
	assert_string_equal(packet(h, "QNonStop:1"), "OK");
	packet(h, "?");
	assert_string_equal(packet(h, "vStopped"), "OK");
	assert_true(starts(ns_notification(h, 0), "T00thread:2;"));
	while (strcmp(packet(h, "vStopped"), "OK") != 0)
		;
	return 0;
}

/* 2 vCPUs whose threads have not started (Intel). */
static int two_unstarted(void **state)
{
	*state = make(MOCK_INTEL, 2, false);
	return 0;
}

static int gone(void **state)
{
	destroy(*state);
	return 0;
}

/* Whatever the test did took no illegal edge; the harness goes. */
static int no_illegal_transition(void **state)
{
	struct harness *h = *state;
	unsigned long illegal = h->ev.illegal_transitions;
	destroy(h);
	assert_int_equal(illegal, 0);
	return 0;
}

/* Each vCPU runs its own loop (0x1000 + 0x100 * vCPU): a stop on one leaves
 * the others running; vCont;t, vCont;c:N, vCont;s:N act on one; Z0 and
 * memory reads are served while others run; vCtrlC stops the runners. */
static void test_non_stop_one_vcpu_at_a_time(void **state)
{
	struct harness *h = *state;
	assert_string_equal(packet(h, "QNonStop:1"), "OK");
	/* every vCPU was stopped by the attach: '?' names the first, the
	 * others follow as notifications once its sequence is over (gdb
	 * 13.1 cannot take several stops in the '?' sequence) */
	assert_true(starts(packet(h, "?"), "T00thread:1;"));
	assert_string_equal(ns_notification(h, 0), "");
	assert_string_equal(packet(h, "vStopped"), "OK");
	assert_true(starts(ns_notification(h, 0), "T00thread:2;"));
	assert_true(starts(packet(h, "vStopped"), "T00thread:3;"));
	assert_true(starts(packet(h, "vStopped"), "T00thread:4;"));
	assert_string_equal(packet(h, "vStopped"), "OK");
	assert_string_equal(ns_notification(h, 0), "");
	assert_string_equal(packet(h, "Z0,1105,1"), "OK");
	assert_string_equal(packet(h, "vCont;c"), "OK");
	/* vCPU 1 hits; it alone stops */
	assert_true(starts(ns_notification(h, 5000), "T05thread:2;swbreak:;"));
	assert_true(rip_of(h, 1) == 0x1105);
	unsigned long at_stop[4];
	for (int v = 0; v < 4; v++)
		at_stop[v] = executed(h, v);
	ASSERT_SOON(executed(h, 0) > at_stop[0] + 100 &&
		    executed(h, 2) > at_stop[2] + 100 &&
		    executed(h, 3) > at_stop[3] + 100);
	assert_int_equal(executed(h, 1), at_stop[1]);
	assert_string_equal(packet(h, "vStopped"), "OK");
	/* vCont;t:3 stops vCPU 2 alone, reported with signal 0 */
	assert_string_equal(packet(h, "vCont;t:3"), "OK");
	assert_true(starts(ns_notification(h, 5000), "T00thread:3;"));
	assert_string_equal(packet(h, "vStopped"), "OK");
	assert_true(parked(h, 1) && parked(h, 2));
	assert_false(parked(h, 0) || parked(h, 3));
	/* registers of a stopped vCPU are served, of a running one refused */
	packet(h, "Hg3");
	assert_true(packet(h, "g")[0] != 'E');
	packet(h, "Hg1");
	assert_string_equal(packet(h, "g"), "E10");
	/* memory through a running vCPU's tables: paused around the read,
	 * then it runs on */
	assert_string_equal(packet(h, "m1000,1"), "90");
	unsigned long e0 = executed(h, 0);
	ASSERT_SOON(executed(h, 0) > e0 + 100);
	assert_false(parked(h, 0) || parked(h, 3));
	/* a breakpoint inserted while vCPUs run: vCPU 3 hits it */
	assert_string_equal(packet(h, "Z0,1305,1"), "OK");
	assert_true(starts(ns_notification(h, 5000), "T05thread:4;swbreak:;"));
	/* not acknowledged yet: it counts as running, c is ignored */
	assert_string_equal(packet(h, "vCont;c:4"), "OK");
	assert_true(parked(h, 3));
	assert_string_equal(packet(h, "vStopped"), "OK");
	/* step vCPU 1 off its breakpoint while vCPU 0 runs */
	assert_string_equal(packet(h, "z0,1105,1"), "OK");
	assert_string_equal(packet(h, "vCont;s:2"), "OK");
	const char *stepped = ns_notification(h, 5000);
	assert_true(starts(stepped, "T05thread:2;"));
	assert_null(strstr(stepped, "swbreak"));
	assert_true(rip_of(h, 1) == 0x1106);
	assert_string_equal(packet(h, "vStopped"), "OK");
	assert_string_equal(packet(h, "vCont;c:2"), "OK");
	ASSERT_SOON(executed(h, 1) > at_stop[1] + 100);
	/* the mode does not change under running vCPUs */
	assert_string_equal(packet(h, "QNonStop:0"), "E10");
	assert_true(h->s.non_stop);
	/* vCtrlC: the runners (0 and 1) stop, the first with SIGINT */
	assert_string_equal(packet(h, "vCtrlC"), "OK");
	const char *first = ns_notification(h, 5000);
	ASSERT_SOON(parked(h, 0) && parked(h, 1));
	bool zero_first = starts(first, "T02thread:1;");
	assert_true(zero_first || starts(first, "T00thread:2;"));
	checked_mutex_lock(&h->ev.lock);
	nonstop_collect_stops_locked(&h->ev, &h->s);
	checked_mutex_unlock(&h->ev.lock);
	assert_true(starts(packet(h, "vStopped"),
			   zero_first ? "T00thread:2;" : "T02thread:1;"));
	assert_string_equal(packet(h, "vStopped"), "OK");
}

/* A debugger that leaves in non-stop with some vCPUs stopped and some
 * running: the session's end stops everyone, then resumes everyone. */
static void test_non_stop_disconnect_resumes_all(void **state)
{
	struct harness *h = *state;
	/* vCPU 0 and 2 run; 1 and 3 stay stopped, 3 at a breakpoint */
	assert_string_equal(packet(h, "Z0,1305,1"), "OK");
	assert_string_equal(packet(h, "vCont;c:1;c:3"), "OK");
	assert_string_equal(packet(h, "vStopped"), "OK"); /* none owed */
	assert_string_equal(packet(h, "vCont;c:4"), "OK");
	assert_true(starts(ns_notification(h, 5000), "T05thread:4;"));
	assert_true(parked(h, 1) && parked(h, 3));
	unsigned long before[4];
	for (int v = 0; v < 4; v++)
		before[v] = executed(h, v);
	disconnect(h);
	checked_mutex_lock(&h->ev.lock);
	events_set_non_stop_locked(&h->ev, false);
	checked_mutex_unlock(&h->ev.lock);
	ASSERT_SOON(all_moved(h, before, 100));
	assert_true(h->mt.mem[0x1305] != 0xcc);
}

/* Range stepping in non-stop (gdb's `next` there is vCont;r for one
 * thread): vCPU 2 steps through its range alone and reports one stop as a
 * notification while the others run on; a pause for a breakpoint
 * insertion meets it mid-range and it steps on in its range after, and
 * vCont;t stops it there. The thread queries answer while vCPUs run:
 * qXfer:threads:read describes the runners, qThreadStopInfo refuses them
 * (E10) and gives a stopped vCPU its own stop, jThreadsInfo reads no
 * runner's registers, thread-pcs says 0 for a runner. */
static void test_non_stop_range_step(void **state)
{
	struct harness *h = *state;
	assert_string_equal(packet(h, "vCont;c:1;c:2;c:4"), "OK");
	assert_true(parked(h, 2));
	uint64_t start = h->mt.vcpu[2].loop_start;
	char pkt[64];
	unsigned long traps = h->mt.vcpu[2].step_traps;
	unsigned long before = range_steps(h);
	unsigned long e0 = executed(h, 0);
	mock_set_reg64(&h->mt, 2, GDB_REG_RIP, start + 2);
	snprintf(pkt, sizeof(pkt), "vCont;r%llx,%llx:3",
		 (unsigned long long)start, (unsigned long long)start + 12);
	assert_string_equal(packet(h, pkt), "OK");
	const char *stop = ns_notification(h, 5000);
	assert_true(starts(stop, "T05thread:3;"));
	assert_null(strstr(stop, "swbreak"));
	assert_true(rip_of(h, 2) == start + 12);
	assert_int_equal(h->mt.vcpu[2].step_traps - traps, 10);
	assert_int_equal(range_steps(h) - before, 9);
	assert_int_equal(h->mt.vcpu[2].steps_with_mask,
			 h->mt.vcpu[2].step_traps);
	assert_string_equal(packet(h, "vStopped"), "OK");
	/* the others never stopped for it */
	ASSERT_SOON(executed(h, 0) > e0 + 100);
	assert_false(parked(h, 0) || parked(h, 1) || parked(h, 3));

	/* thread queries while 0, 1 and 3 run and 2 is stopped */
	assert_string_equal(packet(h, "qThreadStopInfo1"), "E10");
	assert_true(starts(packet(h, "qThreadStopInfo3"), "T05thread:3;"));
	const char *xml = packet(h, "qXfer:threads:read::0,fff");
	assert_true(starts(xml, "l<?xml"));
	assert_non_null(strstr(xml, "<thread id=\"1\" core=\"0\">vCPU 0, "
				    "running</thread>"));
	assert_non_null(strstr(xml, "<thread id=\"3\" core=\"2\">vCPU 2, "));
	const char *json = packet(h, "jThreadsInfo");
	assert_non_null(strstr(json, "{\"tid\":1,\"name\":\"vCPU 0, "
				     "running\"}"));
	assert_non_null(strstr(strstr(json, "\"tid\":3,"), "\"registers\""));
	assert_string_equal(packet(h, "QListThreadsInStopReply"), "OK");
	char pcs[96];
	snprintf(pcs, sizeof(pcs), "thread-pcs:0,0,%llx,0;",
		 (unsigned long long)start + 12);
	assert_non_null(strstr(packet(h, "qThreadStopInfo3"), pcs));

	/* a range it never leaves: a pause (Z0 while vCPUs run) parks it
	 * mid-range, and it steps on in its range after */
	assert_string_equal(packet(h, "vCont;r0,ffffffffffffffff:3"), "OK");
	before = range_steps(h);
	ASSERT_SOON(range_steps(h) > before + 100);
	assert_string_equal(packet(h, "Z0,1005,1"), "OK");
	before = range_steps(h);
	ASSERT_SOON(range_steps(h) > before + 100);
	/* the breakpoint stops vCPU 0 alone, the range step goes on */
	assert_true(starts(ns_notification(h, 5000), "T05thread:1;swbreak:;"));
	assert_string_equal(packet(h, "vStopped"), "OK");
	before = range_steps(h);
	ASSERT_SOON(range_steps(h) > before + 100);
	/* vCont;t stops it mid-range, with signal 0 */
	assert_string_equal(packet(h, "vCont;t:3"), "OK");
	assert_true(starts(ns_notification(h, 5000), "T00thread:3;"));
	assert_string_equal(packet(h, "vStopped"), "OK");
	before = range_steps(h);
	usleep(20000);
	assert_int_equal(range_steps(h), before);
	assert_true(parked(h, 2));
}

int main(void)
{
#define BOTH(t)                                                     \
	cmocka_unit_test_prestate(t, &intel),                       \
		cmocka_unit_test_prestate(t, &amd)
#define BOTH_IN(setup, t)                                            \
	cmocka_unit_test_prestate_setup_teardown(                    \
		t, setup, no_illegal_transition, &intel),            \
		cmocka_unit_test_prestate_setup_teardown(            \
			t, setup, no_illegal_transition, &amd)
	const struct CMUnitTest tests[] = {
		BOTH(test_hits_reported_one_at_a_time),
		BOTH(test_stale_event_dropped_after_z0),
		BOTH(test_step_after_stale_event),
		BOTH_IN(four_attached, test_scheduler_locked_step),
		BOTH_IN(four_attached, test_range_step),
		BOTH(test_disconnect_mid_step_and_pending),
		cmocka_unit_test(test_late_vcpu_gets_bpt_exit),
		cmocka_unit_test(test_failed_set_cap_retried),
		BOTH(test_guest_int3_reinjected),
		cmocka_unit_test(test_wait_holds_vcpus_until_resume),
		cmocka_unit_test(test_hooks_without_stub),
		cmocka_unit_test(test_vm_over_releases_parked),
		cmocka_unit_test(test_lock_spinning_does_not_sleep_in_window),
		cmocka_unit_test(test_lock_spinning_sleeps_after_window),
		BOTH(test_watchpoint_reported_after_the_store),
		BOTH(test_hw_breakpoint_before_its_instruction),
		BOTH(test_stale_watch_hits_dropped),
		cmocka_unit_test_setup_teardown(test_illegal_transition_refused,
						two_unstarted, gone),
		cmocka_unit_test_setup_teardown(
			test_illegal_world_transition_refused, two_unstarted,
			gone),
		cmocka_unit_test(test_world_states_of_a_session),
		cmocka_unit_test(test_stats_count_transitions),
		BOTH_IN(four_attached, test_non_stop_one_vcpu_at_a_time),
		BOTH_IN(four_attached_non_stop,
			test_non_stop_disconnect_resumes_all),
		BOTH_IN(four_attached_non_stop, test_non_stop_range_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
