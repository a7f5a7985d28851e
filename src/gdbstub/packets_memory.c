/* m/x reads and M/X writes of guest memory. */
#include "gdbstub/session.h"

#include <errno.h>

#include "gdbstub/rsp_codec.h"

/* "addr,len" -> values; *p left after len. */
static int parse_addr_len(const char **p, const char *end, uint64_t *addr,
			  uint64_t *len)
{
	if (hex_parse_u64(p, end, addr) || *p == end || **p != ',')
		return -1;
	(*p)++;
	return hex_parse_u64(p, end, len);
}

/* Replies must fit PacketSize: hex doubles, binary escapes may double. */
static size_t clamp_read(const struct gdb_session *s, uint64_t len)
{
	size_t max = s->scratch_cap / 2 - 16;
	return len > max ? max : (size_t)len;
}

static enum gdb_packet_result read_mem(struct gdb_session *s, const char *a,
				       const char *end, struct gdb_reply *r,
				       bool binary)
{
	uint64_t addr, len;
	if (parse_addr_len(&a, end, &addr, &len) || a != end) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	size_t want = clamp_read(s, len);
	if (want == 0) {
		/* LLDB probes x0,0 and GDB m..,0: nothing to read is fine */
		reply_str(r, binary ? "b" : "");
		return GDB_PKT_REPLY;
	}
	size_t got = gdb_mem_read(s, addr, s->scratch, want);
	if (got == 0) {
		reply_error(r, EFAULT);
		return GDB_PKT_REPLY;
	}
	if (binary) {
		reply_str(r, "b");
		reply_bytes(r, s->scratch, got);
	} else {
		reply_hex(r, s->scratch, got);
	}
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_read_mem_hex(struct gdb_session *s, const char *a,
					const char *end, struct gdb_reply *r)
{
	return read_mem(s, a, end, r, false);
}

enum gdb_packet_result pkt_read_mem_bin(struct gdb_session *s, const char *a,
					const char *end, struct gdb_reply *r)
{
	return read_mem(s, a, end, r, true);
}

/* The bytes of an M (hex) or X (binary) packet's payload after the ':',
 * or NULL if they are not len bytes. */
static const uint8_t *write_data(struct gdb_session *s, const char *a,
				 const char *end, uint64_t len, bool binary)
{
	if (binary) /* the decoder already removed the escapes */
		return (uint64_t)(end - a) == len ? (const uint8_t *)a : NULL;
	if (len > s->scratch_cap || (uint64_t)(end - a) != 2 * len ||
	    hex_decode(a, (size_t)len, s->scratch))
		return NULL;
	return s->scratch;
}

static enum gdb_packet_result write_mem(struct gdb_session *s, const char *a,
					const char *end, struct gdb_reply *r,
					bool binary)
{
	uint64_t addr, len;
	const uint8_t *data = NULL;
	if (!parse_addr_len(&a, end, &addr, &len) && a != end && *a == ':')
		data = write_data(s, a + 1, end, len, binary);
	if (!data)
		reply_error(r, EINVAL);
	else if (len && gdb_mem_write(s, addr, data, (size_t)len))
		reply_error(r, EFAULT);
	else
		reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_write_mem_hex(struct gdb_session *s, const char *a,
					 const char *end, struct gdb_reply *r)
{
	return write_mem(s, a, end, r, false);
}

enum gdb_packet_result pkt_write_mem_bin(struct gdb_session *s, const char *a,
					 const char *end, struct gdb_reply *r)
{
	return write_mem(s, a, end, r, true);
}
