/*
 * Run control (c, s, C, S, vCont) and thread selection (H, T). Resume
 * packets only fill session->actions; the server applies them to the vCPU
 * event machine and the stop reply is sent when the vCPUs stop again.
 */
#include "gdbstub/session.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/packet_table.h"
#include "gdbstub/rsp_codec.h"

static void clear_actions(struct gdb_session *s)
{
	memset(s->actions, 0, s->nvcpus * sizeof(*s->actions));
	memset(s->ranges, 0, s->nvcpus * sizeof(*s->ranges));
}

static void note_resumed(struct gdb_session *s)
{
	for (unsigned v = 0; v < s->nvcpus; v++) {
		if (gdb_action_runs(s->actions[v])) {
			s->resumed_vcpu = (int)v;
			return;
		}
	}
}

/* c [addr] | s [addr] | C sig[;addr] | S sig[;addr] */
static enum gdb_packet_result resume_one(struct gdb_session *s, bool step,
					 bool with_signal, const char *a,
					 const char *end, struct gdb_reply *r)
{
	uint64_t sig, addr;
	bool have_addr = false;
	int vcpu = s->hc >= 0 ? s->hc : s->hg;

	/* non-stop resumes are vCont's: these would have to say which
	 * vCPUs run on, which they cannot */
	if (s->non_stop) {
		reply_error(r, ENOTSUP);
		return GDB_PKT_REPLY;
	}
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

enum gdb_packet_result pkt_continue_c(struct gdb_session *s, const char *a,
				      const char *end, struct gdb_reply *r)
{
	return resume_one(s, false, false, a, end, r);
}

enum gdb_packet_result pkt_continue_sig(struct gdb_session *s, const char *a,
					const char *end, struct gdb_reply *r)
{
	return resume_one(s, false, true, a, end, r);
}

/* 's' and 'S' need a step method (their rows in packet_table.c). */
enum gdb_packet_result pkt_step_s(struct gdb_session *s, const char *a,
				  const char *end, struct gdb_reply *r)
{
	return resume_one(s, true, false, a, end, r);
}

enum gdb_packet_result pkt_step_sig(struct gdb_session *s, const char *a,
				    const char *end, struct gdb_reply *r)
{
	return resume_one(s, true, true, a, end, r);
}

/* The vCont actions we take: vCont? lists those whose need the target
 * meets, in this order, and vCont; refuses the others. Range stepping
 * ('r START,END') steps inside the vCPU's own thread until RIP leaves
 * [START, END) (vcpu_events.c): gdb's `next` and `step` then cost one
 * round trip per line instead of one per instruction. */
static const struct vcont_action {
	char letter;
	enum gdb_resume_action act;
	bool with_signal; /* a signal number follows (accepted, ignored) */
	bool with_range;  /* START,END follow */
	enum gdb_need need;
} vcont_actions[] = {
	{ 'c', GDB_ACT_CONTINUE, false, false, GDB_NEED_NOTHING },
	{ 'C', GDB_ACT_CONTINUE, true, false, GDB_NEED_NOTHING },
	{ 's', GDB_ACT_STEP, false, false, GDB_NEED_STEP },
	{ 'S', GDB_ACT_STEP, true, false, GDB_NEED_STEP },
	/* range stepping: gdb uses it in both modes */
	{ 'r', GDB_ACT_STEP, false, true, GDB_NEED_STEP },
	/* stop a thread: non-stop only (vCont? lists it only then, so the
	 * all-stop reply is what it always was) */
	{ 't', GDB_ACT_STOP, false, false, GDB_NEED_NON_STOP },
};

static const struct vcont_action *vcont_action(char letter)
{
	for (size_t i = 0; i < sizeof(vcont_actions) / sizeof(*vcont_actions);
	     i++)
		if (vcont_actions[i].letter == letter)
			return &vcont_actions[i];
	return NULL;
}

enum gdb_packet_result pkt_vcont_query(struct gdb_session *s, const char *a,
				       const char *end, struct gdb_reply *r)
{
	(void)a;
	(void)end;
	reply_str(r, "vCont");
	for (size_t i = 0; i < sizeof(vcont_actions) / sizeof(*vcont_actions);
	     i++)
		if (gdb_session_meets(s, vcont_actions[i].need))
			reply_fmt(r, ";%c", vcont_actions[i].letter);
	return GDB_PKT_REPLY;
}

/* vCont;action[:tid];... Each vCPU takes the leftmost action naming it; an
 * action without tid applies to every vCPU not yet named. vCPUs that no
 * action names stay stopped (scheduler-locking); in non-stop mode, as they
 * are. */
enum gdb_packet_result pkt_vcont(struct gdb_session *s, const char *a,
				 const char *end, struct gdb_reply *r)
{
	bool any = false;

	clear_actions(s);
	while (a < end) {
		const struct vcont_action *action = vcont_action(*a++);
		struct gdb_step_range range = { 0, 0 };
		uint64_t sig;

		/* t outside non-stop mode is malformed, as it always was */
		if (!action || (action->need == GDB_NEED_NON_STOP &&
				!gdb_session_meets(s, action->need)))
			goto bad;
		if (action->with_signal && hex_parse_u64(&a, end, &sig))
			goto bad;
		/* a range that ends before it starts is malformed; an empty
		 * one is a plain step (the manual says so) */
		if (action->with_range &&
		    (hex_parse_u64(&a, end, &range.start) || a == end ||
		     *a++ != ',' || hex_parse_u64(&a, end, &range.end) ||
		     range.end < range.start))
			goto bad;
		if (!gdb_session_meets(s, action->need)) {
			clear_actions(s);
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
				s->actions[v] = action->act;
				s->ranges[v] = range;
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
