/*
 * Every vCPU's thread state in one round trip: qXfer:threads:read (gdb's
 * thread list with each thread's description), qThreadStopInfo and
 * jThreadsInfo (LLDB's stop state of one or of every thread), and
 * QThreadEvents (vCPUs never come or go: there is nothing to report).
 */
#include "gdbstub/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"
#include "gdbstub/vcpu_events.h"

/* A description (gdb_describe_vcpu) is shorter than this. */
#define THREAD_TEXT_MAX 160
/* It may hold anything a crash report said (a kernel's panic line): each
 * byte escaped ("&quot;" is the longest) plus the element around it. */
#define THREAD_XML_LINE_MAX (6 * THREAD_TEXT_MAX + 64)

/* Plain printable ASCII, or '?': a parser (gdb's expat, LLDB's JSON)
 * rejects control bytes and bytes that are not UTF-8. */
static char printable(char c)
{
	return c >= 0x20 && c < 0x7f ? c : '?';
}

static void xml_add(char *xml, size_t cap, size_t *len, const char *text)
{
	for (; *text && *len + 7 < cap; text++) {
		const char *esc = NULL;
		switch (*text) {
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '&': esc = "&amp;"; break;
		case '"': esc = "&quot;"; break;
		}
		if (esc) {
			size_t n = strlen(esc);
			memcpy(xml + *len, esc, n);
			*len += n;
		} else {
			xml[(*len)++] = printable(*text);
		}
	}
	xml[*len] = 0;
}

/* Markup, as it is (the buffer is sized for it: never truncated). */
static void raw_add(char *xml, size_t cap, size_t *len, const char *markup)
{
	size_t n = strlen(markup);
	if (*len + n >= cap)
		n = cap - 1 - *len;
	memcpy(xml + *len, markup, n);
	*len += n;
	xml[*len] = 0;
}

/* The document, built afresh for each chunk: it only changes while the
 * guest runs, and chunks are read while it is stopped. NULL on ENOMEM. */
static char *threads_xml(const struct gdb_session *s, size_t *len)
{
	size_t cap = 64 + (size_t)s->nvcpus * THREAD_XML_LINE_MAX;
	char *xml = malloc(cap);
	size_t n = 0;
	if (!xml)
		return NULL;
	raw_add(xml, cap, &n, "<?xml version=\"1.0\"?>\n<threads>\n");
	for (unsigned v = 0; v < s->nvcpus; v++) {
		char text[THREAD_TEXT_MAX], head[64];
		gdb_describe_vcpu(s, (int)v, text, sizeof(text));
		/* core: the guest CPU the thread is (the vCPU itself) */
		snprintf(head, sizeof(head), "<thread id=\"%x\" core=\"%u\">",
			 v + 1, v);
		raw_add(xml, cap, &n, head);
		xml_add(xml, cap, &n, text);
		raw_add(xml, cap, &n, "</thread>\n");
	}
	raw_add(xml, cap, &n, "</threads>\n");
	*len = n;
	return xml;
}

/* qXfer:threads:read::OFF,LEN (the annex is empty) */
GDB_PACKET_HANDLER(pkt_xfer_threads)
{
	uint64_t off, want;
	size_t len;

	if (a == end || *a++ != ':' || hex_parse_u64(&a, end, &off) ||
	    a == end || *a++ != ',' || hex_parse_u64(&a, end, &want) ||
	    a != end) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	char *xml = threads_xml(s, &len);
	if (!xml) {
		reply_error(r, ENOMEM);
		return GDB_PKT_REPLY;
	}
	reply_xfer_chunk(r, xml, len, off, want);
	free(xml);
	return GDB_PKT_REPLY;
}

/* QThreadEvents:0|1 */
GDB_PACKET_HANDLER(pkt_thread_events)
{
	if (end - a != 1 || (*a != '0' && *a != '1')) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	s->thread_events = *a == '1';
	reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

/* The stop of one stopped vCPU. All-stop: as the last stop reply saw it,
 * the reported vCPU has its reason, every other one none (signal 0: it
 * was only stopped along; an event of its own waits for a later resume).
 * Non-stop: each stopped vCPU has its own (the one its %Stop said). */
static struct gdb_stop_info stop_of(const struct gdb_session *s, int vcpu)
{
	struct gdb_stop_info st = { .vcpu = vcpu, .signal = 0 };

	if (s->non_stop && s->ev)
		events_stop_info_locked(s->ev, vcpu, &st);
	else if (vcpu == s->last_stop.vcpu)
		st = s->last_stop;
	return st;
}

/* qThreadStopInfoTID: that thread's stop reply. */
GDB_PACKET_HANDLER(pkt_thread_stop_info)
{
	uint64_t tid;

	if (hex_parse_u64(&a, end, &tid) || a != end || tid == 0 ||
	    tid > s->nvcpus) {
		reply_error(r, ESRCH);
		return GDB_PKT_REPLY;
	}
	/* a running vCPU (non-stop) has no stop to tell: E10, as
	 * lldb-server answers for a running thread */
	if (!gdb_vcpu_parked(s, (int)tid - 1)) {
		reply_error(r, EBUSY);
		return GDB_PKT_REPLY;
	}
	struct gdb_stop_info st = stop_of(s, (int)tid - 1);
	gdb_append_stop_reply(s, &st, r);
	return GDB_PKT_REPLY;
}

static void json_string(struct gdb_reply *r, const char *text)
{
	reply_str(r, "\"");
	for (; *text; text++) {
		if (*text == '"' || *text == '\\')
			reply_fmt(r, "\\%c", *text);
		else
			reply_fmt(r, "%c", printable(*text));
	}
	reply_str(r, "\"");
}

/* jThreadsInfo: every thread's stop state, name and general registers
 * (rax..r15, rip, eflags: LLDB reads the argument registers to show a
 * frame), in one reply instead of a qThreadStopInfo and a `p` per
 * register and thread. LLDB asks for it at every stop. Register numbers
 * are decimal, as in the target description; values in target byte
 * order, as in `p`. */
GDB_PACKET_HANDLER(pkt_threads_info_json)
{
	(void)a;
	(void)end;
	reply_str(r, "[");
	for (unsigned v = 0; v < s->nvcpus; v++) {
		struct gdb_stop_info st = stop_of(s, (int)v);
		char name[THREAD_TEXT_MAX];
		gdb_describe_vcpu(s, (int)v, name, sizeof(name));
		reply_fmt(r, "%s{\"tid\":%u,\"name\":", v ? "," : "", v + 1);
		json_string(r, name);
		/* a running vCPU (non-stop): its name says so; it has no
		 * stop, and its registers are its engine's */
		if (!gdb_vcpu_parked(s, (int)v)) {
			reply_str(r, "}");
			continue;
		}
		reply_fmt(r, ",\"signal\":%d", st.signal & 0xff);
		/* a watchpoint as LLDB turns the T packet's watch:ADDR into
		 * one: "watchpoint" and the address, decimal */
		if (st.watch_type > GDB_HW_BREAKPOINT)
			reply_fmt(r, ",\"reason\":\"watchpoint\","
				  "\"description\":\"%llu\"",
				  (unsigned long long)st.watch_addr);
		reply_str(r, ",\"registers\":{");
		bool first = true;
		for (int reg = GDB_REG_RAX; reg <= GDB_REG_EFLAGS; reg++) {
			uint8_t val[GDB_REG_MAX_SIZE];
			if (!s->ops->read_reg ||
			    s->ops->read_reg(s->ctx, (int)v, reg, val))
				continue;
			reply_fmt(r, "%s\"%d\":\"", first ? "" : ",", reg);
			reply_hex(r, val, gdb_x86_reg_size(reg));
			reply_str(r, "\"");
			first = false;
		}
		reply_str(r, "}}");
	}
	reply_str(r, "]");
	return GDB_PKT_REPLY;
}
