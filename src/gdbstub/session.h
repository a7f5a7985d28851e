/*
 * One debugger session as the packet handlers see it: the target ops, the
 * selected threads, modes, breakpoints and the reply being built. Packet
 * handlers are pure functions over this struct (no sockets, no threads);
 * the server holds the stub lock around them and applies what they ask for
 * (resume, detach, kill) to the vCPU event machine.
 */
#ifndef HVGDB_GDBSTUB_SESSION_H
#define HVGDB_GDBSTUB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub/breakpoints.h"
#include "gdbstub/stop_queue.h"
#include "gdbstub/watchpoints.h"
#include "hvgdb/gdbstub.h"

struct gdb_events;

/* What a run-control packet asks of one vCPU. */
enum gdb_resume_action {
	GDB_ACT_NONE,     /* stays as it is (all-stop: stopped) */
	GDB_ACT_CONTINUE,
	GDB_ACT_STEP,
	GDB_ACT_STOP,      /* non-stop vCont;t: stop it, report signal 0 */
	GDB_ACT_INTERRUPT, /* non-stop vCtrlC: stop it, report SIGINT */
};

/* vCont;r: after a step, keep stepping while RIP is in [start, end).
 * start == end: a plain step (what every other step action is). */
struct gdb_step_range {
	uint64_t start;
	uint64_t end;
};

static inline bool gdb_action_runs(enum gdb_resume_action a)
{
	return a == GDB_ACT_CONTINUE || a == GDB_ACT_STEP;
}

enum gdb_packet_result {
	GDB_PKT_REPLY,   /* send reply */
	GDB_PKT_RESUME,  /* no reply now: apply session->actions; the stop
			    reply comes later */
	GDB_PKT_DETACH,  /* send reply, then end the session */
	GDB_PKT_KILL,    /* no reply: ops->kill was called */
	GDB_PKT_NOACK,   /* send reply, then stop acknowledging */
};

/* Pauses every running vCPU around a packet that must not race running
 * engines (non-stop); the server's, or NULL (such packets are refused
 * while a vCPU runs). pause returns 0 or -errno. */
struct gdb_pause_ops {
	int (*pause)(void *arg);
	void (*unpause)(void *arg);
	void *arg;
};

struct gdb_reply {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool overflow; /* something did not fit: reply is replaced by E */
};

struct gdb_stop_info {
	int vcpu;
	int signal; /* 5 trap, 2 interrupt */
	bool swbreak;
	/* A hardware breakpoint or watchpoint fired (0: none), at addr. */
	int watch_type;
	uint64_t watch_addr;
};

struct gdb_session {
	const struct gdb_target_ops *ops;
	void *ctx;
	unsigned nvcpus;
	int hg;          /* vCPU for registers, memory and breakpoints */
	int hc;          /* vCPU for c/s; -1 = all */
	bool phys_mode;  /* monitor phys on: addresses are guest-physical */
	bool noack;
	/* The debugger offered swbreak+ in qSupported: only then may stop
	 * replies say "swbreak:" (lldb never offers it). */
	bool peer_swbreak;
	bool peer_hwbreak; /* the same for hwbreak+ */
	/* LLDB's extensions, each switched on by its Q packet:
	 * `;thread:N;` after g/G/p/P selects the thread (QThreadSuffixSupported),
	 * stop replies list every thread and its PC (QListThreadsInStopReply),
	 * E replies carry their reason as text (QEnableErrorStrings). */
	bool thread_suffix;
	bool threads_in_stop;
	bool error_strings;
	/* QThreadEvents:1 asked for thread create/exit events; vCPUs never
	 * come or go, so there are none to send. */
	bool thread_events;
	bool can_step;
	enum gdb_cap step_cap;
	/* A debugger that leaves keeps the guest paused (--wait until some
	 * debugger continues it; `monitor hold on|off`). Kept across
	 * sessions: gdb_session_reset leaves it alone. */
	bool hold_when_detached;
	struct bp_table bps;
	struct watch_table watches; /* Z1-Z4 */
	/* For thread state in qThreadExtraInfo / info vcpus; may be NULL.
	 * Read under the same lock as the session. */
	const struct gdb_events *ev;
	struct gdb_stop_info last_stop;
	enum gdb_resume_action *actions; /* nvcpus entries, for GDB_PKT_RESUME */
	struct gdb_step_range *ranges;   /* nvcpus entries, beside actions */
	int resumed_vcpu; /* a vCPU the last resume ran: Ctrl-C reports it */
	/* Non-stop mode (QNonStop:1): vCPUs stop and run one by one, stops
	 * go out as %Stop notifications through this queue. */
	bool non_stop;
	struct stop_queue stops;
	/* After non-stop '?': vCPUs stopped for no reason of their own (by
	 * the attach) that '?' did not name are owed as notifications. */
	bool quiet_stops_owed;
	struct gdb_pause_ops pause;
	uint8_t *scratch;                /* memory transfer buffer */
	size_t scratch_cap;
};

/* 0 or -ENOMEM. Chooses the step method once from ops->has_cap. */
int gdb_session_init(struct gdb_session *s, const struct gdb_target_ops *ops,
		     void *ctx);
void gdb_session_free(struct gdb_session *s);
/* New connection: selections and modes back to defaults. Breakpoints are
 * not touched (see gdb_bp_remove_all). */
void gdb_session_reset(struct gdb_session *s);

/* Software breakpoints need these ops; qSupported follows from it. */
bool gdb_session_has_swbreak(const struct gdb_session *s);
/* Hardware breakpoints and watchpoints (Z1-Z4) need these. */
bool gdb_session_has_watch(const struct gdb_session *s);

/* Dispatches one packet payload (already unescaped). */
enum gdb_packet_result gdb_handle_packet(struct gdb_session *s,
					 const uint8_t *pkt, size_t len,
					 struct gdb_reply *r);
/* Builds "T<sig>thread:N;[swbreak:;]10:..;07:..;06:..;" (swbreak only if
 * the debugger offered swbreak+) and makes the stopped thread the Hg and Hc
 * thread. */
void gdb_build_stop_reply(struct gdb_session *s, const struct gdb_stop_info *st,
			  struct gdb_reply *r);
/* The same reply with no side effect (qThreadStopInfo). */
void gdb_append_stop_reply(const struct gdb_session *s,
			   const struct gdb_stop_info *st, struct gdb_reply *r);
/* RIP of vcpu, 0 when it cannot be read. */
uint64_t gdb_vcpu_rip(const struct gdb_session *s, int vcpu);
/* One chunk [off, off+want) of an object for qXfer: 'm' + bytes, or 'l' +
 * the last bytes (nothing left: "l"). */
void reply_xfer_chunk(struct gdb_reply *r, const char *data, size_t len,
		      uint64_t off, uint64_t want);

/* ---- shared by the packet families (packets_*.c) ---------------------- */

void reply_reset(struct gdb_reply *r);
void reply_bytes(struct gdb_reply *r, const void *data, size_t len);
void reply_str(struct gdb_reply *r, const char *s);
void reply_fmt(struct gdb_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void reply_hex(struct gdb_reply *r, const uint8_t *data, size_t len);
void reply_error(struct gdb_reply *r, int errnum); /* "E%02x" */

/* Thread id text -> vCPU index. "-1" -> -1 (all), "0" -> 0 (any). Leading
 * zeros accepted. -1 return on syntax error or unknown id. */
int parse_thread_id(const struct gdb_session *s, const char **p,
		    const char *end, int *vcpu);

/* Guest memory through the Hg vCPU's paging (or physical in phys mode),
 * showing original bytes under our breakpoints. Returns the number of bytes
 * read before the first unreadable one (0 if the first fails). */
size_t gdb_mem_read(struct gdb_session *s, uint64_t addr, uint8_t *buf,
		    size_t len);
/* All or nothing: every page is checked before a byte is written. Bytes
 * under our breakpoints update the saved byte and keep the int3.
 * 0 or -EFAULT. */
int gdb_mem_write(struct gdb_session *s, uint64_t addr, const uint8_t *buf,
		  size_t len);
/* Address as the debugger sees it -> guest-physical. 0 or -EFAULT. */
int gdb_addr_to_gpa(struct gdb_session *s, uint64_t addr, uint64_t *gpa);

/* Breakpoints (packets_breakpoints.c). 0 or -errno. */
int gdb_bp_insert(struct gdb_session *s, uint64_t addr);
int gdb_bp_remove(struct gdb_session *s, uint64_t addr);
/* Restores every original byte and empties the table. */
void gdb_bp_remove_all(struct gdb_session *s);

/* Hardware breakpoints and watchpoints (packets_watchpoints.c), addresses
 * guest-virtual. Idempotent as Z0/z0. 0 or -errno. */
int gdb_watch_insert(struct gdb_session *s, enum gdb_watch_type type,
		     uint64_t addr, uint64_t len);
int gdb_watch_remove(struct gdb_session *s, enum gdb_watch_type type,
		     uint64_t addr, uint64_t len);
/* Takes every one out of the target and empties the table. */
void gdb_watch_remove_all(struct gdb_session *s);

/* Packet handlers, one per row of the packet table (packet_table.c). Each
 * gets the payload after its row's prefix, [a, end), and returns the
 * result for the server. */
#define GDB_PACKET_HANDLER(name)                                          \
	enum gdb_packet_result name(struct gdb_session *s, const char *a, \
				    const char *end, struct gdb_reply *r)
/* registers (packets_regs.c) */
GDB_PACKET_HANDLER(pkt_read_regs);
GDB_PACKET_HANDLER(pkt_write_regs);
GDB_PACKET_HANDLER(pkt_read_reg);
GDB_PACKET_HANDLER(pkt_write_reg);
/* memory (packets_memory.c) */
GDB_PACKET_HANDLER(pkt_read_mem_hex);
GDB_PACKET_HANDLER(pkt_read_mem_bin);
GDB_PACKET_HANDLER(pkt_write_mem_hex);
GDB_PACKET_HANDLER(pkt_write_mem_bin);
/* breakpoints (packets_breakpoints.c): Z0/z0, and every other type */
GDB_PACKET_HANDLER(pkt_insert_swbreak);
GDB_PACKET_HANDLER(pkt_remove_swbreak);
GDB_PACKET_HANDLER(pkt_insert_other);
GDB_PACKET_HANDLER(pkt_remove_other);
/* hardware breakpoints and watchpoints (packets_watchpoints.c): Z1-Z4,
 * z1-z4 */
GDB_PACKET_HANDLER(pkt_insert_z1);
GDB_PACKET_HANDLER(pkt_remove_z1);
GDB_PACKET_HANDLER(pkt_insert_z2);
GDB_PACKET_HANDLER(pkt_remove_z2);
GDB_PACKET_HANDLER(pkt_insert_z3);
GDB_PACKET_HANDLER(pkt_remove_z3);
GDB_PACKET_HANDLER(pkt_insert_z4);
GDB_PACKET_HANDLER(pkt_remove_z4);
/* run control and threads (packets_run.c) */
GDB_PACKET_HANDLER(pkt_continue_c);
GDB_PACKET_HANDLER(pkt_continue_sig);
GDB_PACKET_HANDLER(pkt_step_s);
GDB_PACKET_HANDLER(pkt_step_sig);
GDB_PACKET_HANDLER(pkt_vcont);
GDB_PACKET_HANDLER(pkt_vcont_query);
GDB_PACKET_HANDLER(pkt_set_thread);
GDB_PACKET_HANDLER(pkt_thread_alive);
/* stop reason, detach, kill (packets.c) */
GDB_PACKET_HANDLER(pkt_stop_reason);
GDB_PACKET_HANDLER(pkt_detach);
GDB_PACKET_HANDLER(pkt_kill);
GDB_PACKET_HANDLER(pkt_vkill);
/* queries (packets_query.c) */
GDB_PACKET_HANDLER(pkt_supported);
GDB_PACKET_HANDLER(pkt_start_noack);
GDB_PACKET_HANDLER(pkt_current_thread);
GDB_PACKET_HANDLER(pkt_thread_list);
GDB_PACKET_HANDLER(pkt_thread_list_end);
GDB_PACKET_HANDLER(pkt_thread_extra_info);
GDB_PACKET_HANDLER(pkt_attached);
GDB_PACKET_HANDLER(pkt_offsets);
GDB_PACKET_HANDLER(pkt_symbol);
GDB_PACKET_HANDLER(pkt_watch_support);
GDB_PACKET_HANDLER(pkt_xfer_features);
/* the thread list and per-thread stop state (packets_threads.c) */
GDB_PACKET_HANDLER(pkt_xfer_threads);
GDB_PACKET_HANDLER(pkt_thread_events);
GDB_PACKET_HANDLER(pkt_thread_stop_info);
GDB_PACKET_HANDLER(pkt_threads_info_json);
/* LLDB's extensions (packets_lldb.c) */
GDB_PACKET_HANDLER(pkt_thread_suffix_supported);
GDB_PACKET_HANDLER(pkt_list_threads_in_stop_reply);
GDB_PACKET_HANDLER(pkt_enable_error_strings);
/* monitor commands (packets_monitor.c) */
GDB_PACKET_HANDLER(pkt_monitor);
/* non-stop mode (packets_nonstop.c) */
GDB_PACKET_HANDLER(pkt_non_stop);
GDB_PACKET_HANDLER(pkt_vstopped);
GDB_PACKET_HANDLER(pkt_vctrlc);

/* Non-stop: is vcpu stopped as the debugger knows it (parked and its stop
 * acknowledged)? Without the event machine (s->ev NULL), every vCPU is. */
bool gdb_vcpu_stopped(const struct gdb_session *s, int vcpu);
/* Parked (its registers may be touched), acknowledged or not. */
bool gdb_vcpu_parked(const struct gdb_session *s, int vcpu);
bool gdb_any_vcpu_runs(const struct gdb_session *s);
/* Non-stop, server side (ev->lock held). Applies session->actions of a
 * vCont or vCtrlC: stopped vCPUs with c/s run, running ones with t stop;
 * the rest are left alone. */
void nonstop_apply_actions_locked(struct gdb_events *ev,
				  struct gdb_session *s);
/* Queues the stops not reported yet (events, and after '?' any stopped
 * vCPU it did not name); returns the vCPU whose stop must go out now as a
 * %Stop notification, or -1. */
int nonstop_collect_stops_locked(struct gdb_events *ev,
				 struct gdb_session *s);
/* Non-stop: the stop reply of a stopped vcpu ("T..thread:N;...", no
 * selection change: non-stop gdb selects threads itself). */
void gdb_build_vcpu_stop_reply(struct gdb_session *s, int vcpu,
			       struct gdb_reply *r);

/* Thread description for qThreadExtraInfo and info vcpus. */
void gdb_describe_vcpu(const struct gdb_session *s, int vcpu, char *out,
		       size_t outlen);

#endif
