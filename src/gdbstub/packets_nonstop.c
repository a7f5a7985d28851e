/*
 * Non-stop mode (QNonStop, vStopped, vCtrlC; '?' and vCont;t are in
 * packets.c and packets_run.c). In non-stop mode each vCPU stops and runs
 * on its own: a stop parks only the vCPU it happens to and goes to the
 * debugger as a %Stop notification (the server sends it; the queue is
 * session->stops), and packets are served while other vCPUs run.
 */
#include "gdbstub/session.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/vcpu_events.h"

bool gdb_vcpu_parked(const struct gdb_session *s, int vcpu)
{
	return !s->ev || events_vcpu_stopped_locked(s->ev, vcpu);
}

bool gdb_vcpu_stopped(const struct gdb_session *s, int vcpu)
{
	return gdb_vcpu_parked(s, vcpu) && !stop_queue_has(&s->stops, vcpu);
}

bool gdb_any_vcpu_runs(const struct gdb_session *s)
{
	for (unsigned v = 0; v < s->nvcpus; v++)
		if (!gdb_vcpu_parked(s, (int)v))
			return true;
	return false;
}

/* QNonStop:0|1. The mode changes only while every vCPU is stopped (gdb
 * sends it at connect, with the world stopped by the attach): switching
 * with vCPUs running would leave all-stop with runners it cannot report,
 * or non-stop with a stop reply owed. Refused then (E10). */
enum gdb_packet_result pkt_non_stop(struct gdb_session *s, const char *a,
				    const char *end, struct gdb_reply *r)
{
	if (end - a != 1 || (*a != '0' && *a != '1')) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	bool on = *a == '1';
	if (on != s->non_stop && gdb_any_vcpu_runs(s)) {
		reply_error(r, EBUSY);
		return GDB_PKT_REPLY;
	}
	if (on != s->non_stop) {
		stop_queue_reset(&s->stops);
		s->quiet_stops_owed = false;
	}
	s->non_stop = on;
	reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

/* vStopped: the stop in flight is acknowledged; the reply is the next one
 * owed, or OK. Without a notification in flight it is just OK. */
enum gdb_packet_result pkt_vstopped(struct gdb_session *s, const char *a,
				    const char *end, struct gdb_reply *r)
{
	(void)a;
	(void)end;
	int next = stop_queue_ack(&s->stops);
	if (next < 0)
		reply_str(r, "OK");
	else
		gdb_build_vcpu_stop_reply(s, next, r);
	return GDB_PKT_REPLY;
}

/* vCtrlC: as ^C in all-stop, every running vCPU stops; the first reports
 * SIGINT and the others signal 0 (gdb prints one "received signal SIGINT").
 * The reply is OK; the stops follow as notifications. */
enum gdb_packet_result pkt_vctrlc(struct gdb_session *s, const char *a,
				  const char *end, struct gdb_reply *r)
{
	(void)a;
	(void)end;
	bool first = true;
	memset(s->actions, 0, s->nvcpus * sizeof(*s->actions));
	for (unsigned v = 0; v < s->nvcpus; v++) {
		if (gdb_vcpu_parked(s, (int)v))
			continue;
		s->actions[v] = first ? GDB_ACT_INTERRUPT : GDB_ACT_STOP;
		first = false;
	}
	reply_str(r, "OK");
	return GDB_PKT_RESUME;
}

void nonstop_apply_actions_locked(struct gdb_events *ev, struct gdb_session *s)
{
	lock_assert_held(&ev->lock);
	for (unsigned v = 0; v < s->nvcpus; v++) {
		enum gdb_resume_action a = s->actions[v];
		int vcpu = (int)v;
		/* a vCPU whose stop is still owed counts as running: c/s
		 * and t are ignored for it, as for one that runs */
		if (gdb_action_runs(a) && gdb_vcpu_stopped(s, vcpu)) {
			stop_queue_forget(&s->stops, vcpu);
			events_resume_vcpu_locked(ev, vcpu, a, &s->ranges[v]);
		} else if (a == GDB_ACT_STOP || a == GDB_ACT_INTERRUPT) {
			events_stop_vcpu_locked(ev, vcpu,
						a == GDB_ACT_INTERRUPT ? 2 : 0);
		}
	}
	memset(s->actions, 0, s->nvcpus * sizeof(*s->actions));
	memset(s->ranges, 0, s->nvcpus * sizeof(*s->ranges));
}

int nonstop_collect_stops_locked(struct gdb_events *ev, struct gdb_session *s)
{
	lock_assert_held(&ev->lock);
	int send = -1;
	/* the stops '?' left owed wait until its sequence is over (see
	 * stop_reason_non_stop) */
	bool quiet_now = s->quiet_stops_owed &&
			 stop_queue_in_flight(&s->stops) < 0;
	for (unsigned v = 0; v < s->nvcpus; v++) {
		int vcpu = (int)v;
		bool event = vcpu_state_has_event(
			events_vcpu_state_locked(ev, vcpu));
		bool quiet = quiet_now && events_vcpu_stopped_locked(ev, vcpu);
		if ((!event && !quiet) || ev->vcpu[v].paused)
			continue;
		if (stop_queue_push(&s->stops, vcpu))
			send = vcpu;
	}
	return send;
}
