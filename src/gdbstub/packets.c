/* Packet dispatcher: serves a payload by its row of the packet table
 * (packet_table.c). Every packet without a row gets the empty reply, as the
 * protocol asks. Also the stop reply, '?', 'D' and 'k'. */
#include "gdbstub/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/packet_table.h"
#include "gdbstub/rsp_codec.h"
#include "gdbstub/vcpu_events.h"

/*
 * "swbreak" tells gdb the stop is one of its breakpoints, at the PC. A
 * breakpoint is on a physical byte, so it also fires when the code runs
 * through another virtual alias, where gdb has no breakpoint: gdb would
 * take such a swbreak stop for a late hit of a removed breakpoint and
 * resume silently, forever (the int3 is still there). Such a stop is
 * reported as a plain SIGTRAP instead.
 */
static bool stop_at_inserted_address(struct gdb_session *s, int vcpu)
{
	uint8_t val[8];
	uint64_t rip = 0, gpa;

	if (!s->ops->read_reg || s->ops->read_reg(s->ctx, vcpu, GDB_REG_RIP, val))
		return true;
	for (int i = 0; i < 8; i++)
		rip |= (uint64_t)val[i] << (8 * i);
	if (!s->ops->translate || s->ops->translate(s->ctx, vcpu, rip, 1, &gpa))
		return true;
	const struct breakpoint *bp = bp_table_find(&s->bps, gpa);
	return !bp || bp->gva == rip;
}

/* "watch:ADDR;" (also rwatch, awatch) names the watched byte an access
 * touched; "hwbreak:;" only to a debugger that offered hwbreak+ (gdb then
 * knows the stop is its breakpoint without guessing from the PC). */
static void reply_watch_reason(const struct gdb_session *s,
			       const struct gdb_stop_info *st,
			       struct gdb_reply *r)
{
	static const char *const name[] = {
		[GDB_WATCH_WRITE] = "watch",
		[GDB_WATCH_READ] = "rwatch",
		[GDB_WATCH_ACCESS] = "awatch",
	};
	if (st->watch_type == GDB_HW_BREAKPOINT) {
		if (s->peer_hwbreak)
			reply_str(r, "hwbreak:;");
	} else if (st->watch_type >= GDB_WATCH_WRITE &&
		   st->watch_type <= GDB_WATCH_ACCESS) {
		reply_fmt(r, "%s:%llx;", name[st->watch_type],
			  (unsigned long long)st->watch_addr);
	}
}

uint64_t gdb_vcpu_rip(const struct gdb_session *s, int vcpu)
{
	uint8_t val[8];
	uint64_t rip = 0;

	/* a vCPU that runs (non-stop) is not read: its registers are its
	 * engine's while it runs */
	if (!gdb_vcpu_parked(s, vcpu) || !s->ops->read_reg ||
	    s->ops->read_reg(s->ctx, vcpu, GDB_REG_RIP, val))
		return 0;
	for (int i = 0; i < 8; i++)
		rip |= (uint64_t)val[i] << (8 * i);
	return rip;
}

/* QListThreadsInStopReply: LLDB learns every thread and its PC from the
 * stop itself, instead of asking for the thread list and each PC. */
static void reply_thread_list(const struct gdb_session *s, struct gdb_reply *r)
{
	reply_str(r, "threads:");
	for (unsigned v = 0; v < s->nvcpus; v++)
		reply_fmt(r, v ? ",%x" : "%x", v + 1);
	reply_str(r, ";thread-pcs:");
	for (unsigned v = 0; v < s->nvcpus; v++)
		reply_fmt(r, v ? ",%llx" : "%llx",
			  (unsigned long long)gdb_vcpu_rip(s, (int)v));
	reply_str(r, ";");
}

/* "T<sig>thread:N;[reason;][threads;]10:..;07:..;06:..;": the one stop
 * reply builder (all-stop replies, '?', %Stop notifications, vStopped,
 * qThreadStopInfo). */
void gdb_append_stop_reply(const struct gdb_session *s,
			   const struct gdb_stop_info *st, struct gdb_reply *r)
{
	static const int expedited[] = { GDB_REG_RIP, GDB_REG_RSP,
					 GDB_REG_RBP };
	int vcpu = st->vcpu;

	if (vcpu < 0 || (unsigned)vcpu >= s->nvcpus)
		vcpu = 0;
	reply_fmt(r, "T%02xthread:%x;", st->signal & 0xff, vcpu + 1);
	/* bp_table_find and the target ops do not change the session */
	if (st->swbreak && s->peer_swbreak &&
	    stop_at_inserted_address((struct gdb_session *)s, vcpu))
		reply_str(r, "swbreak:;");
	reply_watch_reason(s, st, r);
	if (s->threads_in_stop)
		reply_thread_list(s, r);
	for (size_t i = 0; i < sizeof(expedited) / sizeof(expedited[0]); i++) {
		uint8_t val[8];
		if (!s->ops->read_reg ||
		    s->ops->read_reg(s->ctx, vcpu, expedited[i], val))
			continue;
		reply_fmt(r, "%02x:", expedited[i]);
		reply_hex(r, val, 8);
		reply_str(r, ";");
	}
}

void gdb_build_stop_reply(struct gdb_session *s, const struct gdb_stop_info *st,
			  struct gdb_reply *r)
{
	int vcpu = st->vcpu;

	if (vcpu < 0 || (unsigned)vcpu >= s->nvcpus)
		vcpu = 0;
	reply_reset(r);
	gdb_append_stop_reply(s, st, r);
	/* GDB assumes the reported thread is now selected for g and c. */
	s->hg = vcpu;
	s->hc = vcpu;
	s->last_stop = *st;
	s->last_stop.vcpu = vcpu;
}

void gdb_build_vcpu_stop_reply(struct gdb_session *s, int vcpu,
			       struct gdb_reply *r)
{
	struct gdb_stop_info st = { .vcpu = vcpu, .signal = 0 };

	if (vcpu < 0 || (unsigned)vcpu >= s->nvcpus)
		vcpu = 0;
	if (s->ev)
		events_stop_info_locked(s->ev, vcpu, &st);
	st.vcpu = vcpu;
	reply_reset(r);
	gdb_append_stop_reply(s, &st, r);
}

/*
 * Non-stop '?': the first stopped vCPU (OK when none is). The manual has
 * every stopped thread follow through vStopped, but gdb 13.1 then fails an
 * assertion (remote.c:8351, `!async_event_handler_marked`): it consumes
 * the initial stops with a wait that re-marks its event handler while
 * more are queued and it is not yet asynchronous. So the others are sent
 * as ordinary %Stop notifications once this sequence is over (the server
 * does, right after the vStopped that ends it): gdb lists them as running
 * for a moment, then stopped, which is what any stub may report.
 */
static void stop_reason_non_stop(struct gdb_session *s, struct gdb_reply *r)
{
	stop_queue_restart(&s->stops);
	s->quiet_stops_owed = true;
	for (unsigned v = 0; v < s->nvcpus; v++) {
		if (!gdb_vcpu_parked(s, (int)v))
			continue;
		int head = stop_queue_push_for_query(&s->stops, (int)v);
		gdb_build_vcpu_stop_reply(s, head, r);
		return;
	}
	reply_str(r, "OK");
}

enum gdb_packet_result pkt_stop_reason(struct gdb_session *s, const char *a,
				       const char *end, struct gdb_reply *r)
{
	(void)a;
	(void)end;
	if (s->non_stop)
		stop_reason_non_stop(s, r);
	else
		gdb_build_stop_reply(s, &s->last_stop, r);
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_detach(struct gdb_session *s, const char *a,
				  const char *end, struct gdb_reply *r)
{
	(void)s;
	(void)a;
	(void)end;
	reply_str(r, "OK");
	return GDB_PKT_DETACH;
}

enum gdb_packet_result pkt_kill(struct gdb_session *s, const char *a,
				const char *end, struct gdb_reply *r)
{
	(void)a;
	(void)end;
	if (!s->ops->kill) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	s->ops->kill(s->ctx);
	return GDB_PKT_KILL;
}

/* vKill;PID: as 'k' (there is one process, the VM, whatever PID gdb
 * names), but answered OK before the VM's end is reported. gdb tries it
 * before 'k'. */
enum gdb_packet_result pkt_vkill(struct gdb_session *s, const char *a,
				 const char *end, struct gdb_reply *r)
{
	uint64_t pid;

	if (hex_parse_u64(&a, end, &pid) || a != end || !s->ops->kill) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	s->ops->kill(s->ctx);
	reply_str(r, "OK");
	return GDB_PKT_KILL;
}

/* LLDB's `;thread:N;` suffix (QThreadSuffixSupported) after g, G, p and P:
 * the packet is for thread N, as if Hg N had come first (and memory reads
 * after it then go through that vCPU's paging, as they did with Hg). Cuts
 * the suffix off; -1 for a bad thread id. */
static int take_thread_suffix(struct gdb_session *s, const char *a,
			      const char **end)
{
	static const char key[] = ";thread:";
	const char *e = *end;
	int vcpu;

	if (!s->thread_suffix || a == e || !*a || !strchr("gGpP", *a))
		return 0;
	if (e[-1] == ';')
		e--;
	const char *k = e;
	do
		k--;
	while (k > a && *k != ';');
	if (*k != ';' || (size_t)(e - k) <= sizeof(key) - 1 ||
	    memcmp(k, key, sizeof(key) - 1) != 0)
		return 0;
	const char *id = k + sizeof(key) - 1;
	if (parse_thread_id(s, &id, e, &vcpu) || id != e || vcpu < 0)
		return -1;
	s->hg = vcpu;
	*end = k;
	return 0;
}

/* QEnableErrorStrings: "Enn;HEX" with the text of the error, shown by
 * LLDB ("error: ... Bad address" instead of "error: E0e"). */
static void add_error_string(const struct gdb_session *s, struct gdb_reply *r)
{
	char code[3];
	unsigned long err;

	if (!s->error_strings || r->len != 3 || r->buf[0] != 'E')
		return;
	memcpy(code, r->buf + 1, 2);
	code[2] = 0;
	char *rest;
	err = strtoul(code, &rest, 16);
	if (*rest)
		return;
	const char *text = strerror((int)err);
	reply_str(r, ";");
	reply_hex(r, (const uint8_t *)text, strlen(text));
}

enum gdb_packet_result gdb_handle_packet(struct gdb_session *s,
					 const uint8_t *pkt, size_t len,
					 struct gdb_reply *r)
{
	const char *a = (const char *)pkt;
	const char *end = a + len;
	enum gdb_packet_result res = GDB_PKT_REPLY;

	reply_reset(r);
	if (take_thread_suffix(s, a, &end)) {
		reply_error(r, ESRCH);
	} else {
		const struct gdb_packet_entry *e = gdb_packet_lookup(a, end);
		if (e)
			res = gdb_packet_serve(s, e, a + strlen(e->prefix),
					       end, r);
	}
	if (r->overflow)
		reply_error(r, ENOMEM);
	add_error_string(s, r);
	return res;
}
