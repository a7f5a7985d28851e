/* g/G/p/P: registers of the Hg vCPU in enum gdb_x86_reg order. */
#include "gdbstub/session.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"

static void reply_reg_value(int regno, const uint8_t *val, int rc,
			    struct gdb_reply *r)
{
	unsigned size = gdb_x86_reg_size(regno);

	if (rc == 0) {
		reply_hex(r, val, size);
		return;
	}
	/* "unavailable": GDB shows <unavailable> instead of failing */
	for (unsigned i = 0; i < size; i++)
		reply_str(r, "xx");
}

static void reply_reg(struct gdb_session *s, int regno, struct gdb_reply *r)
{
	uint8_t val[GDB_REG_MAX_SIZE];
	int rc = s->ops->read_reg ? s->ops->read_reg(s->ctx, s->hg, regno, val)
				  : -ENOENT;
	reply_reg_value(regno, val, rc, r);
}

enum gdb_packet_result pkt_read_regs(struct gdb_session *s, const char *a,
				     const char *end, struct gdb_reply *r)
{
	(void)a;
	(void)end;
	if (s->ops->read_all_regs) {
		uint8_t vals[GDB_REG_COUNT][GDB_REG_MAX_SIZE];
		int rc[GDB_REG_COUNT];
		s->ops->read_all_regs(s->ctx, s->hg, vals, rc);
		for (int regno = 0; regno < GDB_REG_COUNT; regno++)
			reply_reg_value(regno, vals[regno], rc[regno], r);
		return GDB_PKT_REPLY;
	}
	for (int regno = 0; regno < GDB_REG_COUNT; regno++)
		reply_reg(s, regno, r);
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_write_regs(struct gdb_session *s, const char *a,
				      const char *end, struct gdb_reply *r)
{
	size_t total = 0;
	for (int regno = 0; regno < GDB_REG_COUNT; regno++)
		total += gdb_x86_reg_size(regno);
	if ((size_t)(end - a) != 2 * total || !s->ops->write_reg) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	/* Decode everything first so a bad digit writes nothing. */
	uint8_t vals[2 * GDB_REG_COUNT * GDB_REG_MAX_SIZE];
	if (hex_decode(a, total, vals)) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	size_t off = 0;
	int failed = 0;
	for (int regno = 0; regno < GDB_REG_COUNT; regno++) {
		int rc = s->ops->write_reg(s->ctx, s->hg, regno, vals + off);
		/* a register the target does not have is not an error here:
		 * G carries every register whether it changed or not */
		if (rc && rc != -ENOENT)
			failed = -rc;
		off += gdb_x86_reg_size(regno);
	}
	if (failed)
		reply_error(r, failed);
	else
		reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

static int parse_regno(const char **p, const char *end, int *regno)
{
	uint64_t v;
	if (hex_parse_u64(p, end, &v) || v >= GDB_REG_COUNT)
		return -1;
	*regno = (int)v;
	return 0;
}

enum gdb_packet_result pkt_read_reg(struct gdb_session *s, const char *a,
				    const char *end, struct gdb_reply *r)
{
	int regno;
	if (parse_regno(&a, end, &regno) || a != end) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	reply_reg(s, regno, r);
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_write_reg(struct gdb_session *s, const char *a,
				     const char *end, struct gdb_reply *r)
{
	int regno;
	uint8_t val[GDB_REG_MAX_SIZE];

	if (parse_regno(&a, end, &regno) || a == end || *a != '=') {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	a++;
	unsigned size = gdb_x86_reg_size(regno);
	if ((size_t)(end - a) != 2 * size || hex_decode(a, size, val)) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	if (!s->ops->write_reg) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	int rc = s->ops->write_reg(s->ctx, s->hg, regno, val);
	if (rc)
		reply_error(r, -rc);
	else
		reply_str(r, "OK");
	return GDB_PKT_REPLY;
}
