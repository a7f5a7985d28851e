/* q/Q packets: capabilities, threads, offsets, symbols, target XML. */
#include "gdbstub/session.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/packet_table.h"
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
 * debugger offered: the features of the packet table's rows whose needs
 * the target meets, in table order. Stop replies may use swbreak only if
 * the debugger offered swbreak+. */
enum gdb_packet_result pkt_supported(struct gdb_session *s, const char *a,
				     const char *end, struct gdb_reply *r)
{
	s->peer_swbreak = a != end && *a == ':' &&
			  offers(a + 1, end, "swbreak+");
	s->peer_hwbreak = a != end && *a == ':' &&
			  offers(a + 1, end, "hwbreak+");
	reply_fmt(r, "PacketSize=%x", RSP_PACKET_SIZE);
	for (size_t i = 0; i < gdb_packet_table_len; i++) {
		const struct gdb_packet_entry *e = &gdb_packet_table[i];
		if (e->feature && gdb_session_meets(s, e->need))
			reply_fmt(r, ";%s", e->feature);
	}
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_start_noack(struct gdb_session *s, const char *a,
				       const char *end, struct gdb_reply *r)
{
	(void)s;
	(void)a;
	(void)end;
	reply_str(r, "OK");
	return GDB_PKT_NOACK;
}

enum gdb_packet_result pkt_attached(struct gdb_session *s, const char *a,
				    const char *end, struct gdb_reply *r)
{
	(void)s;
	(void)a;
	(void)end;
	reply_str(r, "1"); /* to an existing process: detach, do not kill */
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_current_thread(struct gdb_session *s,
					  const char *a, const char *end,
					  struct gdb_reply *r)
{
	(void)a;
	(void)end;
	reply_fmt(r, "QC%x", s->hg + 1);
	return GDB_PKT_REPLY;
}

/* qfThreadInfo: all ids in one reply, one round trip however many vCPUs */
enum gdb_packet_result pkt_thread_list(struct gdb_session *s, const char *a,
				       const char *end, struct gdb_reply *r)
{
	(void)a;
	(void)end;
	reply_str(r, "m");
	for (unsigned v = 0; v < s->nvcpus; v++)
		reply_fmt(r, v ? ",%x" : "%x", v + 1);
	return GDB_PKT_REPLY;
}

/* qsThreadInfo: the list ended in the first reply */
enum gdb_packet_result pkt_thread_list_end(struct gdb_session *s,
					   const char *a, const char *end,
					   struct gdb_reply *r)
{
	(void)s;
	(void)a;
	(void)end;
	reply_str(r, "l");
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_thread_extra_info(struct gdb_session *s,
					     const char *a, const char *end,
					     struct gdb_reply *r)
{
	uint64_t tid;
	char text[128];

	if (hex_parse_u64(&a, end, &tid) || a != end || tid == 0 ||
	    tid > s->nvcpus) {
		reply_error(r, ESRCH);
		return GDB_PKT_REPLY;
	}
	gdb_describe_vcpu(s, (int)tid - 1, text, sizeof(text));
	reply_hex(r, (const uint8_t *)text, strlen(text));
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_offsets(struct gdb_session *s, const char *a,
				   const char *end, struct gdb_reply *r)
{
	(void)s;
	(void)a;
	(void)end;
	/* guests are loaded at their link addresses */
	reply_str(r, "Text=0;Data=0;Bss=0");
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_symbol(struct gdb_session *s, const char *a,
				  const char *end, struct gdb_reply *r)
{
	(void)s;
	(void)a;
	(void)end;
	reply_str(r, "OK"); /* no symbols wanted */
	return GDB_PKT_REPLY;
}

/* qWatchpointSupportInfo[:]: LLDB asks how many watchpoints it may set
 * before it sets one (its row needs the watch ops). */
enum gdb_packet_result pkt_watch_support(struct gdb_session *s, const char *a,
					 const char *end, struct gdb_reply *r)
{
	unsigned hw = 0, wp = 0;
	uint64_t max_len = 0;

	(void)a;
	(void)end;
	s->ops->watch_limits(s->ctx, &hw, &wp, &max_len);
	reply_fmt(r, "num:%u;", wp);
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
	reply_xfer_chunk(r, xml, xml_len, off, len);
	return GDB_PKT_REPLY;
}

void reply_xfer_chunk(struct gdb_reply *r, const char *data, size_t len,
		      uint64_t off, uint64_t want)
{
	if (off >= len) {
		reply_str(r, "l");
		return;
	}
	size_t avail = len - (size_t)off;
	size_t max = RSP_PACKET_SIZE / 2 - 16; /* room for escapes */
	size_t n = want < avail ? (size_t)want : avail;
	if (n > max)
		n = max;
	reply_str(r, n == avail ? "l" : "m");
	reply_bytes(r, data + off, n);
}
