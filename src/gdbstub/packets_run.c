/*
 * Run control (c, s, C, S, vCont) and thread selection (H, T). Resume
 * packets only fill session->actions; the server applies them to the vCPU
 * event machine and the stop reply is sent when the vCPUs stop again.
 */
#include "gdbstub/session.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"

static void clear_actions(struct gdb_session *s)
{
	memset(s->actions, 0, s->nvcpus * sizeof(*s->actions));
}

static void note_resumed(struct gdb_session *s)
{
	for (unsigned v = 0; v < s->nvcpus; v++) {
		if (s->actions[v] != GDB_ACT_NONE) {
			s->resumed_vcpu = (int)v;
			return;
		}
	}
}

/* c [addr] | s [addr] | C sig[;addr] | S sig[;addr] */
enum gdb_packet_result pkt_continue(struct gdb_session *s, bool step,
				    bool with_signal, const char *a,
				    const char *end, struct gdb_reply *r)
{
	uint64_t sig, addr;
	bool have_addr = false;
	int vcpu = s->hc >= 0 ? s->hc : s->hg;

	if (with_signal) {
		/* a hypervisor has no signals to deliver: accepted, ignored */
		if (hex_parse_u64(&a, end, &sig)) {
			reply_error(r, EINVAL);
			return GDB_PKT_REPLY;
		}
		/* "C05;" promises an address and gives none: refused */
		if (a != end && *a == ';' && a + 1 != end)
			a++;
		else if (a != end) {
			reply_error(r, EINVAL);
			return GDB_PKT_REPLY;
		}
	}
	if (a != end) {
		if (hex_parse_u64(&a, end, &addr) || a != end) {
			reply_error(r, EINVAL);
			return GDB_PKT_REPLY;
		}
		have_addr = true;
	}
	if (step && !s->can_step) {
		reply_error(r, ENOTSUP);
		return GDB_PKT_REPLY;
	}
	if (have_addr) {
		uint8_t rip[8];
		for (int i = 0; i < 8; i++)
			rip[i] = (uint8_t)(addr >> (8 * i));
		if (!s->ops->write_reg ||
		    s->ops->write_reg(s->ctx, vcpu, GDB_REG_RIP, rip)) {
			reply_error(r, EINVAL);
			return GDB_PKT_REPLY;
		}
	}
	clear_actions(s);
	if (step) {
		/* only the stepping vCPU runs; the others stay parked */
		s->actions[vcpu] = GDB_ACT_STEP;
	} else {
		for (unsigned v = 0; v < s->nvcpus; v++)
			s->actions[v] = GDB_ACT_CONTINUE;
	}
	note_resumed(s);
	return GDB_PKT_RESUME;
}

/* vCont;action[:tid];... Each vCPU takes the leftmost action naming it; an
 * action without tid applies to every vCPU not yet named. vCPUs that no
 * action names stay stopped (scheduler-locking). */
enum gdb_packet_result pkt_vcont(struct gdb_session *s, const char *a,
				 const char *end, struct gdb_reply *r)
{
	bool any = false;

	clear_actions(s);
	while (a < end) {
		enum gdb_resume_action act;
		char c = *a++;
		uint64_t tmp;

		if (c == 'c' || c == 'C') {
			act = GDB_ACT_CONTINUE;
		} else if (c == 's' || c == 'S' || c == 'r') {
			act = GDB_ACT_STEP;
		} else {
			goto bad;
		}
		if (c == 'C' || c == 'S') {
			if (hex_parse_u64(&a, end, &tmp))
				goto bad;
		} else if (c == 'r') {
			/* range step done as a plain step: allowed, and GDB
			 * only uses it when advertised, which we do not */
			if (hex_parse_u64(&a, end, &tmp) || a == end ||
			    *a++ != ',' || hex_parse_u64(&a, end, &tmp))
				goto bad;
		}
		if (act == GDB_ACT_STEP && !s->can_step) {
			reply_error(r, ENOTSUP);
			return GDB_PKT_REPLY;
		}
		int vcpu = -1;
		if (a < end && *a == ':') {
			a++;
			if (parse_thread_id(s, &a, end, &vcpu))
				goto bad;
		}
		/* ';' separates actions: one must follow ("vCont;c;" is
		 * malformed) */
		if (a < end && (*a++ != ';' || a == end))
			goto bad;
		for (unsigned v = 0; v < s->nvcpus; v++) {
			if ((vcpu == -1 || (unsigned)vcpu == v) &&
			    s->actions[v] == GDB_ACT_NONE) {
				s->actions[v] = act;
				any = true;
			}
		}
	}
	if (!any)
		goto bad;
	note_resumed(s);
	return GDB_PKT_RESUME;
bad:
	clear_actions(s);
	reply_error(r, EINVAL);
	return GDB_PKT_REPLY;
}

/* Hg<tid> selects registers/memory, Hc<tid> run control; kept apart. */
enum gdb_packet_result pkt_set_thread(struct gdb_session *s, const char *a,
				      const char *end, struct gdb_reply *r)
{
	int vcpu;
	if (a == end || (*a != 'g' && *a != 'c')) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	char which = *a++;
	if (parse_thread_id(s, &a, end, &vcpu) || a != end) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	if (which == 'g')
		s->hg = vcpu < 0 ? 0 : vcpu;
	else
		s->hc = vcpu;
	reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_thread_alive(struct gdb_session *s, const char *a,
					const char *end, struct gdb_reply *r)
{
	uint64_t tid;
	/* every vCPU is a live thread; 0 and -1 name no particular one */
	if (hex_parse_u64(&a, end, &tid) || a != end || tid == 0 ||
	    tid > s->nvcpus)
		reply_error(r, ESRCH);
	else
		reply_str(r, "OK");
	return GDB_PKT_REPLY;
}
