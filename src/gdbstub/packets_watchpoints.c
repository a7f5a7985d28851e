/*
 * Z1-Z4 / z1-z4: hardware breakpoints and watchpoints. The target does the
 * work, on every vCPU and on guest-virtual addresses, as x86 debug
 * registers would; the session keeps what it inserted, so that insert and
 * remove are idempotent (as Z0/z0) and everything comes out when the
 * debugger leaves.
 */
#include "gdbstub/session.h"

#include <errno.h>

#include "gdbstub/rsp_codec.h"

int gdb_watch_insert(struct gdb_session *s, enum gdb_watch_type type,
		     uint64_t addr, uint64_t len)
{
	if (!gdb_session_has_watch(s))
		return -ENOTSUP;
	if (watch_table_has(&s->watches, type, addr, len))
		return 0;
	int rc = s->ops->insert_watch(s->ctx, type, addr, len);
	if (rc)
		return rc;
	rc = watch_table_add(&s->watches, type, addr, len);
	if (rc)
		s->ops->remove_watch(s->ctx, type, addr, len);
	return rc;
}

int gdb_watch_remove(struct gdb_session *s, enum gdb_watch_type type,
		     uint64_t addr, uint64_t len)
{
	if (!gdb_session_has_watch(s))
		return -ENOTSUP;
	if (!watch_table_has(&s->watches, type, addr, len))
		return 0; /* never inserted, or already removed */
	int rc = s->ops->remove_watch(s->ctx, type, addr, len);
	if (rc && rc != -ENOENT)
		return rc;
	watch_table_remove(&s->watches, type, addr, len);
	return 0;
}

void gdb_watch_remove_all(struct gdb_session *s)
{
	if (gdb_session_has_watch(s)) {
		for (unsigned i = 0; i < s->watches.n; i++) {
			const struct gdb_watch *w = &s->watches.w[i];
			s->ops->remove_watch(s->ctx, w->type, w->addr, w->len);
		}
	}
	watch_table_init(&s->watches);
}

/* Z1-Z4/z1-z4 "addr,kind[;cond...]", once the row's need (the watch ops)
 * was met. */
static enum gdb_packet_result watch_packet(struct gdb_session *s, bool insert,
					   enum gdb_watch_type type,
					   const char *a, const char *end,
					   struct gdb_reply *r)
{
	uint64_t addr, kind;

	if (hex_parse_u64(&a, end, &addr) || a == end || *a++ != ',' ||
	    hex_parse_u64(&a, end, &kind)) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	/* Conditions/commands were not advertised: we cannot honour them. */
	if (a != end && *a == ';')
		return GDB_PKT_REPLY;
	/* A breakpoint's kind is its length in bytes (1 on x86, as for
	 * Z0); a watchpoint's is the length of the range, which may not
	 * run past the top of the address space. */
	if (a != end || kind == 0 || addr + (kind - 1) < addr ||
	    (type == GDB_HW_BREAKPOINT && kind != 1)) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	/* Debug registers match virtual addresses: with `monitor phys on`
	 * the address would be taken for what it is not. */
	if (s->phys_mode) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	int rc = insert ? gdb_watch_insert(s, type, addr, kind)
			: gdb_watch_remove(s, type, addr, kind);
	if (rc)
		reply_error(r, -rc);
	else
		reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

/* One handler per row (packet_table.c): Z<n> and z<n>, n the type. */
#define WATCH_ROW_HANDLERS(n, type)                                          \
	enum gdb_packet_result pkt_insert_z##n(struct gdb_session *s,        \
					       const char *a, const char *end, \
					       struct gdb_reply *r)           \
	{                                                                    \
		return watch_packet(s, true, type, a, end, r);               \
	}                                                                    \
	enum gdb_packet_result pkt_remove_z##n(struct gdb_session *s,        \
					       const char *a, const char *end, \
					       struct gdb_reply *r)           \
	{                                                                    \
		return watch_packet(s, false, type, a, end, r);              \
	}
WATCH_ROW_HANDLERS(1, GDB_HW_BREAKPOINT)
WATCH_ROW_HANDLERS(2, GDB_WATCH_WRITE)
WATCH_ROW_HANDLERS(3, GDB_WATCH_READ)
WATCH_ROW_HANDLERS(4, GDB_WATCH_ACCESS)
