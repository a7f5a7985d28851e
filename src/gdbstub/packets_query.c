/* q/Q packets: capabilities, threads, offsets, symbols, target XML. */
#include "gdbstub/session.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"
#include "gdbstub/target_xml.h"

static bool is(const char *a, const char *end, const char *name)
{
	size_t n = strlen(name);
	return (size_t)(end - a) == n && memcmp(a, name, n) == 0;
}

static bool has_prefix(const char *a, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - a) >= n && memcmp(a, prefix, n) == 0;
}

/* Does the ';'-separated feature list a..end hold exactly feature? */
static bool offers(const char *a, const char *end, const char *feature)
{
	while (a < end) {
		const char *sep = memchr(a, ';', (size_t)(end - a));
		const char *item_end = sep ? sep : end;

		if (is(a, item_end, feature))
			return true;
		a = item_end + 1;
	}
	return false;
}

/* "qSupported[:features]". What we advertise does not depend on what the
 * debugger offered (features whose ops are missing are left out), but
 * stop replies may use swbreak only if it offered swbreak+. */
static void reply_supported(struct gdb_session *s, const char *a,
			    const char *end, struct gdb_reply *r)
{
	s->peer_swbreak = a != end && *a == ':' &&
			  offers(a + 1, end, "swbreak+");
	s->peer_hwbreak = a != end && *a == ':' &&
			  offers(a + 1, end, "hwbreak+");
	reply_fmt(r, "PacketSize=%x;qXfer:features:read+", RSP_PACKET_SIZE);
	if (gdb_session_has_swbreak(s))
		reply_str(r, ";swbreak+");
	if (gdb_session_has_watch(s))
		reply_str(r, ";hwbreak+");
	reply_str(r, ";vContSupported+;QStartNoAckMode+");
	if (s->ops->read_phys)
		reply_str(r, ";binary-upload+");
}

static void reply_thread_list(struct gdb_session *s, struct gdb_reply *r)
{
	/* all ids in one reply: one round trip however many vCPUs */
	reply_str(r, "m");
	for (unsigned v = 0; v < s->nvcpus; v++)
		reply_fmt(r, v ? ",%x" : "%x", v + 1);
}

static void reply_extra_info(struct gdb_session *s, const char *a,
			     const char *end, struct gdb_reply *r)
{
	uint64_t tid;
	char text[128];

	if (hex_parse_u64(&a, end, &tid) || a != end || tid == 0 ||
	    tid > s->nvcpus) {
		reply_error(r, ESRCH);
		return;
	}
	gdb_describe_vcpu(s, (int)tid - 1, text, sizeof(text));
	reply_hex(r, (const uint8_t *)text, strlen(text));
}

/* LLDB asks how many watchpoints it may set before it sets one. */
static void reply_watch_support(struct gdb_session *s, struct gdb_reply *r)
{
	unsigned hw = 0, wp = 0;
	uint64_t max_len = 0;
	if (!gdb_session_has_watch(s))
		return;
	s->ops->watch_limits(s->ctx, &hw, &wp, &max_len);
	reply_fmt(r, "num:%u;", wp);
}

enum gdb_packet_result pkt_query(struct gdb_session *s, const char *a,
				 const char *end, struct gdb_reply *r)
{
	if (has_prefix(a, end, "qSupported")) {
		reply_supported(s, a + 10, end, r);
	} else if (is(a, end, "QStartNoAckMode")) {
		reply_str(r, "OK");
		return GDB_PKT_NOACK;
	} else if (has_prefix(a, end, "qAttached")) {
		reply_str(r, "1");
	} else if (is(a, end, "qC")) {
		reply_fmt(r, "QC%x", s->hg + 1);
	} else if (is(a, end, "qfThreadInfo")) {
		reply_thread_list(s, r);
	} else if (is(a, end, "qsThreadInfo")) {
		reply_str(r, "l");
	} else if (has_prefix(a, end, "qThreadExtraInfo,")) {
		reply_extra_info(s, a + 17, end, r);
	} else if (is(a, end, "qOffsets")) {
		/* guests are loaded at their link addresses */
		reply_str(r, "Text=0;Data=0;Bss=0");
	} else if (has_prefix(a, end, "qSymbol:")) {
		reply_str(r, "OK");
	} else if (has_prefix(a, end, "qXfer:features:read:")) {
		return pkt_xfer_features(s, a + 20, end, r);
	} else if (has_prefix(a, end, "qRcmd,")) {
		return pkt_monitor(s, a + 6, end, r);
	} else if (is(a, end, "qWatchpointSupportInfo") ||
		   is(a, end, "qWatchpointSupportInfo:")) {
		reply_watch_support(s, r);
	}
	/* anything else (qTStatus, qHostInfo, ...): empty = unsupported */
	return GDB_PKT_REPLY;
}

/* "target.xml:off,len" -> 'm'/'l' + data, offsets bounded safely. */
enum gdb_packet_result pkt_xfer_features(struct gdb_session *s, const char *a,
					 const char *end, struct gdb_reply *r)
{
	static const char annex[] = "target.xml:";
	uint64_t off, len;
	size_t xml_len;
	const char *xml = gdb_target_xml(&xml_len);

	(void)s;
	if (!has_prefix(a, end, annex)) {
		reply_error(r, ENOENT);
		return GDB_PKT_REPLY;
	}
	a += sizeof(annex) - 1;
	if (hex_parse_u64(&a, end, &off) || a == end || *a++ != ',' ||
	    hex_parse_u64(&a, end, &len) || a != end) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	if (off >= xml_len) {
		reply_str(r, "l");
		return GDB_PKT_REPLY;
	}
	size_t avail = xml_len - (size_t)off;
	size_t max = RSP_PACKET_SIZE / 2 - 16; /* room for escapes */
	size_t n = len < avail ? (size_t)len : avail;
	if (n > max)
		n = max;
	reply_str(r, n == avail ? "l" : "m");
	reply_bytes(r, xml + off, n);
	return GDB_PKT_REPLY;
}
