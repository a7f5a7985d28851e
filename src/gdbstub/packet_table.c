/*
 * The packet table (packet_table.h).
 *
 * Adding a packet: write its handler (session.h lists them, one file per
 * family: packets_*.c), then add one row here: its prefix (with `exact`
 * if nothing may follow), the handler, what it needs of the target
 * (enum gdb_need; add a value and a case in gdb_session_meets for a new
 * capability), the refusal when that is missing, and the qSupported
 * feature it lets us advertise, if any. The longest matching prefix wins,
 * so "Z0," and "Z" can both be rows. Nothing else lists packets: there is
 * no switch to extend, and qSupported follows from the rows. A new vCont
 * action is a row of vcont_actions in packets_run.c, which vCont? follows.
 * unit.gdbstub_packets checks the rows' invariants.
 */
#include "gdbstub/packet_table.h"

#include <errno.h>
#include <string.h>

/* Rows with a feature are in the order qSupported has always listed them
 * (gdb and lldb do not care; the wire stays byte for byte the same). */
const struct gdb_packet_entry gdb_packet_table[] = {
	/* prefix, exact, handler, need, refuse_errno, feature */

	/* the target description */
	{ "qXfer:features:read:", false, pkt_xfer_features, GDB_NEED_NOTHING,
	  0, "qXfer:features:read+" },

	/* software breakpoints; without them an int3 would never reach us */
	{ "Z0,", false, pkt_insert_swbreak, GDB_NEED_SWBREAK, 0, "swbreak+" },
	{ "z0,", false, pkt_remove_swbreak, GDB_NEED_SWBREAK, 0, NULL },
	/* hardware breakpoints (hwbreak+: their stops may say so) and
	 * watchpoints, through the target's watch ops */
	{ "Z1,", false, pkt_insert_z1, GDB_NEED_WATCH, 0, "hwbreak+" },
	{ "z1,", false, pkt_remove_z1, GDB_NEED_WATCH, 0, NULL },
	{ "Z2,", false, pkt_insert_z2, GDB_NEED_WATCH, 0, NULL },
	{ "z2,", false, pkt_remove_z2, GDB_NEED_WATCH, 0, NULL },
	{ "Z3,", false, pkt_insert_z3, GDB_NEED_WATCH, 0, NULL },
	{ "z3,", false, pkt_remove_z3, GDB_NEED_WATCH, 0, NULL },
	{ "Z4,", false, pkt_insert_z4, GDB_NEED_WATCH, 0, NULL },
	{ "z4,", false, pkt_remove_z4, GDB_NEED_WATCH, 0, NULL },
	/* any other type (or one written "Z01,") */
	{ "Z", false, pkt_insert_other, GDB_NEED_NOTHING, 0, NULL },
	{ "z", false, pkt_remove_other, GDB_NEED_NOTHING, 0, NULL },

	/* run control */
	{ "vCont?", false, pkt_vcont_query, GDB_NEED_NOTHING, 0,
	  "vContSupported+" },
	{ "vCont;", false, pkt_vcont, GDB_NEED_NOTHING, 0, NULL },
	{ "c", false, pkt_continue_c, GDB_NEED_NOTHING, 0, NULL },
	{ "C", false, pkt_continue_sig, GDB_NEED_NOTHING, 0, NULL },
	{ "s", false, pkt_step_s, GDB_NEED_STEP, ENOTSUP, NULL },
	{ "S", false, pkt_step_sig, GDB_NEED_STEP, ENOTSUP, NULL },
	{ "?", false, pkt_stop_reason, GDB_NEED_NOTHING, 0, NULL },
	{ "D", false, pkt_detach, GDB_NEED_NOTHING, 0, NULL },
	{ "k", false, pkt_kill, GDB_NEED_NOTHING, 0, NULL },
	{ "vKill;", false, pkt_vkill, GDB_NEED_NOTHING, 0, NULL },

	/* the connection */
	{ "QStartNoAckMode", true, pkt_start_noack, GDB_NEED_NOTHING, 0,
	  "QStartNoAckMode+" },
	{ "qSupported", false, pkt_supported, GDB_NEED_NOTHING, 0, NULL },

	/* memory */
	{ "m", false, pkt_read_mem_hex, GDB_NEED_NOTHING, 0, NULL },
	{ "x", false, pkt_read_mem_bin, GDB_NEED_READ_PHYS, 0,
	  "binary-upload+" },
	{ "M", false, pkt_write_mem_hex, GDB_NEED_NOTHING, 0, NULL },
	{ "X", false, pkt_write_mem_bin, GDB_NEED_NOTHING, 0, NULL },

	/* registers */
	{ "g", false, pkt_read_regs, GDB_NEED_NOTHING, 0, NULL },
	{ "G", false, pkt_write_regs, GDB_NEED_NOTHING, 0, NULL },
	{ "p", false, pkt_read_reg, GDB_NEED_NOTHING, 0, NULL },
	{ "P", false, pkt_write_reg, GDB_NEED_NOTHING, 0, NULL },

	/* threads (one per vCPU) */
	{ "H", false, pkt_set_thread, GDB_NEED_NOTHING, 0, NULL },
	{ "T", false, pkt_thread_alive, GDB_NEED_NOTHING, 0, NULL },
	{ "qC", true, pkt_current_thread, GDB_NEED_NOTHING, 0, NULL },
	{ "qfThreadInfo", true, pkt_thread_list, GDB_NEED_NOTHING, 0, NULL },
	{ "qsThreadInfo", true, pkt_thread_list_end, GDB_NEED_NOTHING, 0,
	  NULL },
	{ "qThreadExtraInfo,", false, pkt_thread_extra_info, GDB_NEED_NOTHING,
	  0, NULL },
	{ "qAttached", false, pkt_attached, GDB_NEED_NOTHING, 0, NULL },
	{ "qXfer:threads:read:", false, pkt_xfer_threads, GDB_NEED_NOTHING, 0,
	  "qXfer:threads:read+" },
	{ "QThreadEvents:", false, pkt_thread_events, GDB_NEED_NOTHING, 0,
	  "QThreadEvents+" },
	{ "qThreadStopInfo", false, pkt_thread_stop_info, GDB_NEED_NOTHING, 0,
	  NULL },
	{ "jThreadsInfo", true, pkt_threads_info_json, GDB_NEED_NOTHING, 0,
	  NULL },

	/* LLDB's faster paths (packets_lldb.c) */
	{ "QThreadSuffixSupported", true, pkt_thread_suffix_supported,
	  GDB_NEED_NOTHING, 0, NULL },
	{ "QListThreadsInStopReply", true, pkt_list_threads_in_stop_reply,
	  GDB_NEED_NOTHING, 0, NULL },
	{ "QEnableErrorStrings", true, pkt_enable_error_strings,
	  GDB_NEED_NOTHING, 0, NULL },

	/* LLDB's question before it sets a watchpoint */
	{ "qWatchpointSupportInfo", true, pkt_watch_support, GDB_NEED_WATCH, 0,
	  NULL },
	{ "qWatchpointSupportInfo:", true, pkt_watch_support, GDB_NEED_WATCH,
	  0, NULL },

	/* the rest */
	{ "qOffsets", true, pkt_offsets, GDB_NEED_NOTHING, 0, NULL },
	{ "qSymbol:", false, pkt_symbol, GDB_NEED_NOTHING, 0, NULL },
	{ "qRcmd,", false, pkt_monitor, GDB_NEED_NOTHING, 0, NULL },
};

const size_t gdb_packet_table_len =
	sizeof(gdb_packet_table) / sizeof(gdb_packet_table[0]);

const struct gdb_packet_entry *gdb_packet_lookup(const char *pkt,
						 const char *end)
{
	const struct gdb_packet_entry *best = NULL;
	size_t best_len = 0, len = (size_t)(end - pkt);

	for (size_t i = 0; i < gdb_packet_table_len; i++) {
		const struct gdb_packet_entry *e = &gdb_packet_table[i];
		size_t n = strlen(e->prefix);
		if (n > len || (e->exact && n != len) ||
		    memcmp(pkt, e->prefix, n) != 0 || n <= best_len)
			continue;
		best = e;
		best_len = n;
	}
	return best;
}

bool gdb_session_meets(const struct gdb_session *s, enum gdb_need need)
{
	switch (need) {
	case GDB_NEED_NOTHING:
		return true;
	case GDB_NEED_SWBREAK:
		return gdb_session_has_swbreak(s);
	case GDB_NEED_STEP:
		return s->can_step;
	case GDB_NEED_READ_PHYS:
		return s->ops->read_phys != NULL;
	case GDB_NEED_WATCH:
		return gdb_session_has_watch(s);
	}
	return false;
}

enum gdb_packet_result gdb_packet_serve(struct gdb_session *s,
					const struct gdb_packet_entry *e,
					const char *args, const char *end,
					struct gdb_reply *r)
{
	if (gdb_session_meets(s, e->need))
		return e->handler(s, args, end, r);
	if (e->refuse_errno)
		reply_error(r, e->refuse_errno);
	return GDB_PKT_REPLY;
}
