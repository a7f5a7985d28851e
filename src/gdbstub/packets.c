/* Packet dispatcher: serves a payload by its row of the packet table
 * (packet_table.c). Every packet without a row gets the empty reply, as the
 * protocol asks. Also the stop reply, '?', 'D' and 'k'. */
#include "gdbstub/session.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/packet_table.h"
#include "gdbstub/rsp_codec.h"

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

void gdb_build_stop_reply(struct gdb_session *s, const struct gdb_stop_info *st,
			  struct gdb_reply *r)
{
	static const int expedited[] = { GDB_REG_RIP, GDB_REG_RSP,
					 GDB_REG_RBP };
	int vcpu = st->vcpu;

	if (vcpu < 0 || (unsigned)vcpu >= s->nvcpus)
		vcpu = 0;
	reply_reset(r);
	reply_fmt(r, "T%02xthread:%x;", st->signal & 0xff, vcpu + 1);
	if (st->swbreak && s->peer_swbreak &&
	    stop_at_inserted_address(s, vcpu))
		reply_str(r, "swbreak:;");
	reply_watch_reason(s, st, r);
	for (size_t i = 0; i < sizeof(expedited) / sizeof(expedited[0]); i++) {
		uint8_t val[8];
		if (!s->ops->read_reg ||
		    s->ops->read_reg(s->ctx, vcpu, expedited[i], val))
			continue;
		reply_fmt(r, "%02x:", expedited[i]);
		reply_hex(r, val, 8);
		reply_str(r, ";");
	}
	/* GDB assumes the reported thread is now selected for g and c. */
	s->hg = vcpu;
	s->hc = vcpu;
	s->last_stop = *st;
	s->last_stop.vcpu = vcpu;
}

enum gdb_packet_result pkt_stop_reason(struct gdb_session *s, const char *a,
				       const char *end, struct gdb_reply *r)
{
	(void)a;
	(void)end;
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

enum gdb_packet_result gdb_handle_packet(struct gdb_session *s,
					 const uint8_t *pkt, size_t len,
					 struct gdb_reply *r)
{
	const char *a = (const char *)pkt;
	const char *end = a + len;
	enum gdb_packet_result res = GDB_PKT_REPLY;

	reply_reset(r);
	const struct gdb_packet_entry *e = gdb_packet_lookup(a, end);
	if (e)
		res = gdb_packet_serve(s, e, a + strlen(e->prefix), end, r);
	if (r->overflow)
		reply_error(r, ENOMEM);
	return res;
}
