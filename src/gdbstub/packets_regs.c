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

/* The Hg vCPU's current registers, as 'g' would send them. */
static void read_current(struct gdb_session *s,
			 uint8_t vals[GDB_REG_COUNT][GDB_REG_MAX_SIZE],
			 int rc[GDB_REG_COUNT])
{
	if (s->ops->read_all_regs) {
		s->ops->read_all_regs(s->ctx, s->hg, vals, rc);
		return;
	}
	for (int regno = 0; regno < GDB_REG_COUNT; regno++)
		rc[regno] = s->ops->read_reg
				    ? s->ops->read_reg(s->ctx, s->hg, regno,
						       vals[regno])
				    : -ENOENT;
}

/*
 * G carries every register, changed or not. Only the changed ones are
 * written: rewriting a selector reloads its hidden part from the GDT, and
 * rewriting cr0/cr3/efer flushes state, for registers the debugger never
 * meant to touch (QEMU too writes only what changed). Everything is
 * decoded and compared before the first write; the target is the judge of
 * a value, so if it refuses one, the registers already written are put
 * back and the E reply leaves the vCPU as it was.
 */
enum gdb_packet_result pkt_write_regs(struct gdb_session *s, const char *a,
				      const char *end, struct gdb_reply *r)
{
	uint8_t now[GDB_REG_COUNT][GDB_REG_MAX_SIZE];
	int now_rc[GDB_REG_COUNT];
	const uint8_t *want[GDB_REG_COUNT];
	uint8_t vals[GDB_X86_G_PACKET_BYTES];

	if ((size_t)(end - a) != 2 * sizeof(vals) || !s->ops->write_reg) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	if (hex_decode(a, sizeof(vals), vals)) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	read_current(s, now, now_rc);
	size_t off = 0;
	for (int regno = 0; regno < GDB_REG_COUNT; regno++) {
		unsigned size = gdb_x86_reg_size(regno);
		/* a register we cannot read (the target lacks it) cannot
		 * have been changed by the debugger either */
		bool changed = now_rc[regno] == 0 &&
			       memcmp(now[regno], vals + off, size) != 0;
		want[regno] = changed ? vals + off : NULL;
		off += size;
	}
	for (int regno = 0; regno < GDB_REG_COUNT; regno++) {
		if (!want[regno])
			continue;
		int rc = s->ops->write_reg(s->ctx, s->hg, regno, want[regno]);
		if (rc == 0)
			continue;
		while (--regno >= 0)
			if (want[regno])
				s->ops->write_reg(s->ctx, s->hg, regno,
						  now[regno]);
		reply_error(r, -rc);
		return GDB_PKT_REPLY;
	}
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
