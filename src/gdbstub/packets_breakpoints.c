/*
 * Z0/z0 software breakpoints (Z1-Z4 go to packets_watchpoints.c). A
 * breakpoint lives at a guest-physical address (found through the Hg
 * vCPU's paging at insert time), so it fires for every vCPU and every
 * virtual alias of that byte. Insert and remove
 * are idempotent: a repeated insert never records the int3 as the original
 * byte. Removal finds the record by the address it was inserted at, so it
 * restores the original physical byte even after the guest remapped that
 * address.
 */
#include "gdbstub/session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/packet_table.h"
#include "gdbstub/rsp_codec.h"

#define INT3 0xcc

int gdb_bp_insert(struct gdb_session *s, uint64_t addr)
{
	uint64_t gpa;
	uint8_t orig, int3 = INT3;

	if (!s->ops->read_phys || !s->ops->write_phys)
		return -EINVAL;
	if (gdb_addr_to_gpa(s, addr, &gpa))
		return -EFAULT;
	if (bp_table_find(&s->bps, gpa))
		return 0;
	/* An int3 in a page table breaks every translation through it (the
	 * guest's and ours: reads, this very removal): refused, as is a
	 * byte we cannot prove is not one. */
	if (s->ops->in_paging_structures) {
		int rc = s->ops->in_paging_structures(s->ctx, gpa);
		if (rc)
			return rc > 0 ? -EPERM : rc;
	}
	if (s->ops->read_phys(s->ctx, gpa, &orig, 1))
		return -EFAULT;
	struct breakpoint bp = { .gpa = gpa, .gva = addr, .phys = s->phys_mode,
				 .saved_byte = orig };
	int rc = bp_table_insert(&s->bps, &bp);
	if (rc)
		return rc;
	if (s->ops->write_phys(s->ctx, gpa, &int3, 1)) {
		bp_table_remove(&s->bps, gpa);
		return -EFAULT;
	}
	return 0;
}

static bool inserted_at(const struct gdb_session *s,
			const struct breakpoint *bp, uint64_t addr)
{
	return bp->gva == addr && bp->phys == s->phys_mode;
}

struct addr_search {
	const struct gdb_session *s;
	uint64_t addr;
	bool found;
	uint64_t gpa;
};

static void match_addr(const struct breakpoint *bp, void *arg)
{
	struct addr_search *q = arg;
	if (!q->found && inserted_at(q->s, bp, q->addr)) {
		q->found = true;
		q->gpa = bp->gpa;
	}
}

/*
 * The record z0 at addr removes. gdb removes a breakpoint at the address it
 * inserted it at, and expects that breakpoint gone whatever the guest did
 * to its page tables since: so first the record inserted at addr (where
 * addr translates to now, or, after a remap, wherever it was), and only
 * then one that addr reaches through an alias (the int3 is on the byte,
 * shared by every virtual address of it).
 */
static struct breakpoint *record_to_remove(struct gdb_session *s,
					   uint64_t addr, bool *translates)
{
	uint64_t gpa;
	struct breakpoint *here = NULL;

	*translates = gdb_addr_to_gpa(s, addr, &gpa) == 0;
	if (*translates) {
		here = bp_table_find(&s->bps, gpa);
		if (here && inserted_at(s, here, addr))
			return here;
	}
	if (bp_table_count(&s->bps) == 0)
		return NULL;
	/* Linear, but only when the fast path above missed: the guest
	 * remapped addr, or it is an alias. */
	struct addr_search q = { .s = s, .addr = addr };
	bp_table_foreach(&s->bps, match_addr, &q);
	if (q.found)
		return bp_table_find(&s->bps, q.gpa);
	return here;
}

int gdb_bp_remove(struct gdb_session *s, uint64_t addr)
{
	if (!s->ops->write_phys)
		return -EINVAL;
	bool translates;
	struct breakpoint *bp = record_to_remove(s, addr, &translates);
	if (!bp) /* never inserted, or already removed */
		return translates ? 0 : -EFAULT;
	uint64_t gpa = bp->gpa;
	/* Restore first: forgetting a breakpoint whose byte could not be
	 * put back would leave an int3 nobody knows about, which the guest
	 * would then take as its own. */
	if (s->ops->write_phys(s->ctx, gpa, &bp->saved_byte, 1))
		return -EFAULT;
	bp_table_remove(&s->bps, gpa);
	return 0;
}

static void restore_one(const struct breakpoint *bp, void *arg)
{
	struct gdb_session *s = arg;
	s->ops->write_phys(s->ctx, bp->gpa, &bp->saved_byte, 1);
}

void gdb_bp_remove_all(struct gdb_session *s)
{
	if (s->ops->write_phys)
		bp_table_foreach(&s->bps, restore_one, s);
	bp_table_clear(&s->bps);
}

/* "addr,kind" -> values; *p left after kind. */
static int parse_addr_kind(const char **p, const char *end, uint64_t *addr,
			   uint64_t *kind)
{
	if (hex_parse_u64(p, end, addr) || *p == end || *(*p)++ != ',')
		return -1;
	return hex_parse_u64(p, end, kind);
}

/* Z0/z0 "addr,kind[;cond...]", once the row's need (the memory and
 * register ops an int3 needs to reach us) was met. */
static enum gdb_packet_result swbreak(struct gdb_session *s, bool insert,
				      const char *a, const char *end,
				      struct gdb_reply *r)
{
	uint64_t addr, kind;

	if (parse_addr_kind(&a, end, &addr, &kind)) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	/* Conditions/commands were not advertised: we cannot honour them. */
	if (a != end && *a == ';')
		return GDB_PKT_REPLY;
	if (a != end || kind != 1) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	int rc = insert ? gdb_bp_insert(s, addr) : gdb_bp_remove(s, addr);
	if (rc)
		reply_error(r, -rc);
	else
		reply_str(r, "OK");
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_insert_swbreak(struct gdb_session *s, const char *a,
					  const char *end, struct gdb_reply *r)
{
	return swbreak(s, true, a, end, r);
}

enum gdb_packet_result pkt_remove_swbreak(struct gdb_session *s, const char *a,
					  const char *end, struct gdb_reply *r)
{
	return swbreak(s, false, a, end, r);
}

/*
 * A Z/z packet no "Zn," row took: "type,addr,kind". A type written with
 * leading zeros ("Z00,...") goes to its type's row after all; any other
 * is malformed or a type nobody serves.
 */
static enum gdb_packet_result other_type(struct gdb_session *s, bool insert,
					 const char *a, const char *end,
					 struct gdb_reply *r)
{
	uint64_t type;

	if (hex_parse_u64(&a, end, &type)) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	char prefix[24];
	snprintf(prefix, sizeof(prefix), "%c%llx,", insert ? 'Z' : 'z',
		 (unsigned long long)type);
	const struct gdb_packet_entry *row =
		gdb_packet_lookup(prefix, prefix + strlen(prefix));
	if (row && strcmp(row->prefix, prefix) == 0 && a != end && *a == ',')
		return gdb_packet_serve(s, row, a + 1, end, r);
	reply_error(r, EINVAL);
	return GDB_PKT_REPLY;
}

enum gdb_packet_result pkt_insert_other(struct gdb_session *s, const char *a,
					const char *end, struct gdb_reply *r)
{
	return other_type(s, true, a, end, r);
}

enum gdb_packet_result pkt_remove_other(struct gdb_session *s, const char *a,
					const char *end, struct gdb_reply *r)
{
	return other_type(s, false, a, end, r);
}
