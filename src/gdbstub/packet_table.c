/*
 * The packet table (packet_table.h).
 *
 * Adding a packet: write its handler (session.h lists them, one file per
 * family: packets_*.c), then add one row here: its prefix (with `exact`
 * if nothing may follow), the handler, what it needs of the target
 * (enum gdb_need; add a value and a case in gdb_session_meets for a new
 * capability), the refusal when that is missing, the qSupported feature
 * it lets us advertise, if any, and what it needs of running vCPUs in
 * non-stop mode (enum gdb_while_running). The longest matching prefix
 * wins, so "Z0," and "Z" can both be rows. Nothing else lists packets: there is
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
	/* prefix, exact, handler, need, refuse_errno, feature, running */

	/* the target description */
	{ "qXfer:features:read:", false, pkt_xfer_features, GDB_NEED_NOTHING,
	  0, "qXfer:features:read+", GDB_RUNNING_OK },

	/* software breakpoints; without them an int3 would never reach us */
	{ "Z0,", false, pkt_insert_swbreak, GDB_NEED_SWBREAK, 0, "swbreak+",
	  GDB_PAUSE_ALL },
	{ "z0,", false, pkt_remove_swbreak, GDB_NEED_SWBREAK, 0, NULL,
	  GDB_PAUSE_ALL },
	/* hardware breakpoints (hwbreak+: their stops may say so) and
	 * watchpoints, through the target's watch ops */
	{ "Z1,", false, pkt_insert_z1, GDB_NEED_WATCH, 0, "hwbreak+",
	  GDB_PAUSE_ALL },
	{ "z1,", false, pkt_remove_z1, GDB_NEED_WATCH, 0, NULL, GDB_PAUSE_ALL },
	{ "Z2,", false, pkt_insert_z2, GDB_NEED_WATCH, 0, NULL, GDB_PAUSE_ALL },
	{ "z2,", false, pkt_remove_z2, GDB_NEED_WATCH, 0, NULL, GDB_PAUSE_ALL },
	{ "Z3,", false, pkt_insert_z3, GDB_NEED_WATCH, 0, NULL, GDB_PAUSE_ALL },
	{ "z3,", false, pkt_remove_z3, GDB_NEED_WATCH, 0, NULL, GDB_PAUSE_ALL },
	{ "Z4,", false, pkt_insert_z4, GDB_NEED_WATCH, 0, NULL, GDB_PAUSE_ALL },
	{ "z4,", false, pkt_remove_z4, GDB_NEED_WATCH, 0, NULL, GDB_PAUSE_ALL },
	/* any other type (or one written "Z01,") */
	{ "Z", false, pkt_insert_other, GDB_NEED_NOTHING, 0, NULL,
	  GDB_PAUSE_ALL },
	{ "z", false, pkt_remove_other, GDB_NEED_NOTHING, 0, NULL,
	  GDB_PAUSE_ALL },

	/* run control */
	{ "vCont?", false, pkt_vcont_query, GDB_NEED_NOTHING, 0,
	  "vContSupported+", GDB_RUNNING_OK },
	{ "vCont;", false, pkt_vcont, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "c", false, pkt_continue_c, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "C", false, pkt_continue_sig, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "s", false, pkt_step_s, GDB_NEED_STEP, ENOTSUP, NULL,
	  GDB_RUNNING_OK },
	{ "S", false, pkt_step_sig, GDB_NEED_STEP, ENOTSUP, NULL,
	  GDB_RUNNING_OK },
	{ "?", false, pkt_stop_reason, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "D", false, pkt_detach, GDB_NEED_NOTHING, 0, NULL, GDB_RUNNING_OK },
	{ "k", false, pkt_kill, GDB_NEED_NOTHING, 0, NULL, GDB_RUNNING_OK },
	/* as k: the VM ends, whoever runs */
	{ "vKill;", false, pkt_vkill, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },

	/* the connection */
	{ "QStartNoAckMode", true, pkt_start_noack, GDB_NEED_NOTHING, 0,
	  "QStartNoAckMode+", GDB_RUNNING_OK },
	{ "qSupported", false, pkt_supported, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },

	/* memory */
	{ "m", false, pkt_read_mem_hex, GDB_NEED_NOTHING, 0, NULL,
	  GDB_PAUSE_IF_HG_RUNS },
	{ "x", false, pkt_read_mem_bin, GDB_NEED_READ_PHYS, 0,
	  "binary-upload+", GDB_PAUSE_IF_HG_RUNS },
	{ "M", false, pkt_write_mem_hex, GDB_NEED_NOTHING, 0, NULL,
	  GDB_PAUSE_ALL },
	{ "X", false, pkt_write_mem_bin, GDB_NEED_NOTHING, 0, NULL,
	  GDB_PAUSE_ALL },

	/* registers */
	{ "g", false, pkt_read_regs, GDB_NEED_NOTHING, 0, NULL,
	  GDB_HG_STOPPED },
	{ "G", false, pkt_write_regs, GDB_NEED_NOTHING, 0, NULL,
	  GDB_HG_STOPPED },
	{ "p", false, pkt_read_reg, GDB_NEED_NOTHING, 0, NULL, GDB_HG_STOPPED },
	{ "P", false, pkt_write_reg, GDB_NEED_NOTHING, 0, NULL,
	  GDB_HG_STOPPED },

	/* threads (one per vCPU) */
	{ "H", false, pkt_set_thread, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "T", false, pkt_thread_alive, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "qC", true, pkt_current_thread, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "qfThreadInfo", true, pkt_thread_list, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "qsThreadInfo", true, pkt_thread_list_end, GDB_NEED_NOTHING, 0,
	  NULL, GDB_RUNNING_OK },
	{ "qThreadExtraInfo,", false, pkt_thread_extra_info, GDB_NEED_NOTHING,
	  0, NULL, GDB_RUNNING_OK },
	{ "qAttached", false, pkt_attached, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	/* gdb reads the thread list while threads run (non-stop), as
	 * gdbserver serves it: a running vCPU is described, not read */
	{ "qXfer:threads:read:", false, pkt_xfer_threads, GDB_NEED_NOTHING, 0,
	  "qXfer:threads:read+", GDB_RUNNING_OK },
	{ "QThreadEvents:", false, pkt_thread_events, GDB_NEED_NOTHING, 0,
	  "QThreadEvents+", GDB_RUNNING_OK },
	/* a stopped thread's own stop, E10 for a running one (as
	 * lldb-server); jThreadsInfo reads no running vCPU's registers */
	{ "qThreadStopInfo", false, pkt_thread_stop_info, GDB_NEED_NOTHING, 0,
	  NULL, GDB_RUNNING_OK },
	{ "jThreadsInfo", true, pkt_threads_info_json, GDB_NEED_NOTHING, 0,
	  NULL, GDB_RUNNING_OK },

	/* LLDB's faster paths (packets_lldb.c): session switches only */
	{ "QThreadSuffixSupported", true, pkt_thread_suffix_supported,
	  GDB_NEED_NOTHING, 0, NULL, GDB_RUNNING_OK },
	{ "QListThreadsInStopReply", true, pkt_list_threads_in_stop_reply,
	  GDB_NEED_NOTHING, 0, NULL, GDB_RUNNING_OK },
	{ "QEnableErrorStrings", true, pkt_enable_error_strings,
	  GDB_NEED_NOTHING, 0, NULL, GDB_RUNNING_OK },

	/* LLDB's question before it sets a watchpoint */
	{ "qWatchpointSupportInfo", true, pkt_watch_support, GDB_NEED_WATCH, 0,
	  NULL, GDB_RUNNING_OK },
	{ "qWatchpointSupportInfo:", true, pkt_watch_support, GDB_NEED_WATCH,
	  0, NULL, GDB_RUNNING_OK },

	/* non-stop mode: its feature comes last (all-stop's qSupported
	 * reply is what it always was, plus this) */
	{ "QNonStop:", false, pkt_non_stop, GDB_NEED_SUSPEND, 0, "QNonStop+",
	  GDB_RUNNING_OK },
	{ "vStopped", true, pkt_vstopped, GDB_NEED_NON_STOP, 0, NULL,
	  GDB_RUNNING_OK },
	{ "vCtrlC", true, pkt_vctrlc, GDB_NEED_NON_STOP, 0, NULL,
	  GDB_RUNNING_OK },

	/* the rest */
	{ "qOffsets", true, pkt_offsets, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "qSymbol:", false, pkt_symbol, GDB_NEED_NOTHING, 0, NULL,
	  GDB_RUNNING_OK },
	{ "qRcmd,", false, pkt_monitor, GDB_NEED_NOTHING, 0, NULL,
	  GDB_PAUSE_ALL },
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
	case GDB_NEED_SUSPEND:
		return s->ops->suspend && s->ops->resume;
	case GDB_NEED_NON_STOP:
		return s->non_stop;
	}
	return false;
}

enum gdb_packet_result gdb_packet_serve(struct gdb_session *s,
					const struct gdb_packet_entry *e,
					const char *args, const char *end,
					struct gdb_reply *r)
{
	if (!gdb_session_meets(s, e->need)) {
		if (e->refuse_errno)
			reply_error(r, e->refuse_errno);
		return GDB_PKT_REPLY;
	}
	if (!s->non_stop || e->running == GDB_RUNNING_OK)
		return e->handler(s, args, end, r);
	bool hg_runs = !gdb_vcpu_parked(s, s->hg);
	bool pause = e->running == GDB_PAUSE_ALL ? gdb_any_vcpu_runs(s)
		     : e->running == GDB_PAUSE_IF_HG_RUNS && hg_runs;
	if (e->running == GDB_HG_STOPPED && hg_runs) {
		reply_error(r, EBUSY); /* E10, as all-stop while running */
		return GDB_PKT_REPLY;
	}
	if (!pause)
		return e->handler(s, args, end, r);
	if (!s->pause.pause || s->pause.pause(s->pause.arg)) {
		reply_error(r, EBUSY);
		return GDB_PKT_REPLY;
	}
	enum gdb_packet_result res = e->handler(s, args, end, r);
	s->pause.unpause(s->pause.arg);
	return res;
}
