/* Packet dispatcher: routes a payload to its family by the first bytes.
 * Every packet it does not know gets the empty reply, as the protocol asks. */
#include "gdbstub/session.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"

static bool starts_with(const char *a, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - a) >= n && memcmp(a, prefix, n) == 0;
}

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

static enum gdb_packet_result pkt_detach(struct gdb_session *s,
					 struct gdb_reply *r)
{
	(void)s;
	reply_str(r, "OK");
	return GDB_PKT_DETACH;
}

static enum gdb_packet_result pkt_kill(struct gdb_session *s,
				       struct gdb_reply *r)
{
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
	if (len == 0)
		return GDB_PKT_REPLY;
	switch (a[0]) {
	case '?':
		gdb_build_stop_reply(s, &s->last_stop, r);
		break;
	case 'g':
		res = pkt_read_regs(s, a + 1, end, r);
		break;
	case 'G':
		res = pkt_write_regs(s, a + 1, end, r);
		break;
	case 'p':
		res = pkt_read_reg(s, a + 1, end, r);
		break;
	case 'P':
		res = pkt_write_reg(s, a + 1, end, r);
		break;
	case 'm':
		res = pkt_read_mem_hex(s, a + 1, end, r);
		break;
	case 'x':
		res = pkt_read_mem_bin(s, a + 1, end, r);
		break;
	case 'M':
		res = pkt_write_mem_hex(s, a + 1, end, r);
		break;
	case 'X':
		res = pkt_write_mem_bin(s, a + 1, end, r);
		break;
	case 'Z':
	case 'z':
		res = pkt_breakpoint(s, a[0] == 'Z', a + 1, end, r);
		break;
	case 'c':
	case 's':
		res = pkt_continue(s, a[0] == 's', false, a + 1, end, r);
		break;
	case 'C':
	case 'S':
		res = pkt_continue(s, a[0] == 'S', true, a + 1, end, r);
		break;
	case 'H':
		res = pkt_set_thread(s, a + 1, end, r);
		break;
	case 'T':
		res = pkt_thread_alive(s, a + 1, end, r);
		break;
	case 'D':
		res = pkt_detach(s, r);
		break;
	case 'k':
		res = pkt_kill(s, r);
		break;
	case 'v':
		if (starts_with(a, end, "vCont?")) {
			reply_str(r, s->can_step ? "vCont;c;C;s;S" : "vCont;c;C");
		} else if (starts_with(a, end, "vCont;")) {
			res = pkt_vcont(s, a + 6, end, r);
		}
		/* vMustReplyEmpty, vCtrlC, vKill...: empty */
		break;
	case 'q':
	case 'Q':
		res = pkt_query(s, a, end, r);
		break;
	default:
		break;
	}
	if (r->overflow)
		reply_error(r, ENOMEM);
	return res;
}
