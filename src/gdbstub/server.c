/*
 * The server thread: waits in poll() on the listening socket, the debugger
 * connection and an eventfd that vCPU threads signal, so an idle session
 * costs no CPU. Everything but the poll runs under the stub lock, and
 * nothing under it blocks on the debugger: replies are queued and sent with
 * non-blocking writes as the peer takes them (out_queue.h), and no input
 * is served while a reply is still owed, so the queue holds one reply (plus
 * a stop or exit reply) whatever the peer does.
 */
#include "gdbstub/stub_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long a non-stop pause waits for the running vCPUs to park. */
#define PAUSE_TIMEOUT_NS (5 * 1000000000LL)

int server_pause(void *arg)
{
	struct gdbstub *stub = arg;
	return events_pause_all_locked(&stub->ev, PAUSE_TIMEOUT_NS);
}

void server_unpause(void *arg)
{
	struct gdbstub *stub = arg;
	events_unpause_all_locked(&stub->ev);
}

void server_notify(void *arg)
{
	struct gdbstub *stub = arg;
	uint64_t one = 1;
	/* eventfd counters cannot overflow in practice; EAGAIN is harmless */
	if (write(stub->event_fd, &one, sizeof(one)) < 0)
		return;
}

static void log_line(struct gdbstub *stub, const char *msg)
{
	fprintf(stub->log, "gdbstub: %s\n", msg);
	fflush(stub->log);
}

/* The one place the connection state changes: an edge not listed in
 * conn_state.c is a bug, stopped at in debug builds, refused and counted
 * (`monitor info stats`) in release builds. */
static void set_conn_state_locked(struct gdbstub *stub, enum conn_state to)
{
	lock_assert_held(&stub->ev.lock);
	enum conn_state from = stub->state;
	if (from == to)
		return;
	if (checked_state_take(&conn_state_machine, -1, from, to,
			       &stub->ev.illegal_conn_transitions))
		stub->state = to;
}

static void close_connection_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	if (stub->conn_fd >= 0)
		close(stub->conn_fd);
	stub->conn_fd = -1;
	stub->input_len = stub->input_off = 0;
	stub->last_frame_len = 0;
	out_queue_clear(&stub->out);
}

/* Ends a connection whose last reply was sent: the peer sees EOF after
 * it, and whatever it still sends is read and dropped. */
static void finish_connection_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	if (stub->conn_fd < 0)
		return;
	/* the last reply goes now or never: this runs when the session or
	 * the VM ends, and nobody waits for a peer that does not read */
	if (out_queue_pending(&stub->out) &&
	    out_queue_flush(&stub->out, stub->conn_fd) > 0) {
		fprintf(stub->log, "gdbstub: closing the connection with %zu "
			"bytes of replies the debugger did not read\n",
			stub->out.len);
		fflush(stub->log);
	}
	out_queue_clear(&stub->out);
	if (stub->drain_fd >= 0)
		close(stub->drain_fd);
	shutdown(stub->conn_fd, SHUT_WR);
	stub->drain_fd = stub->conn_fd;
	stub->conn_fd = -1;
	stub->input_len = stub->input_off = 0;
	stub->last_frame_len = 0;
}

/* Breakpoints and watches out, caps and events cleared (each vCPU turns its caps off
 * as it wakes), guest resumed. The world is stopped when this runs. */
static void cleanup_session_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	gdb_bp_remove_all(&stub->session);
	gdb_watch_remove_all(&stub->session);
	finish_connection_locked(stub);
	set_conn_state_locked(stub, CONN_NONE);
	/* the next debugger starts in all-stop mode */
	stub->session.non_stop = false;
	stop_queue_reset(&stub->session.stops);
	events_set_non_stop_locked(&stub->ev, false);
	if (stub->session.hold_when_detached) {
		/* like QEMU's -S: the early-boot window waits for the next
		 * debugger */
		events_reset_held_locked(&stub->ev);
		log_line(stub, "debugger detached; guest stays paused until "
			 "a debugger continues it");
		return;
	}
	events_reset_locked(&stub->ev);
	log_line(stub, "debugger detached; guest resumed");
}

/* --wait holds the guest until some debugger lets it run freely: a
 * resume that continues a vCPU and steps none ends the hold. A step does
 * not, even though gdb's stepi lets the other vCPUs run meanwhile
 * (vCont;s:1;c), nor a non-stop vCont;t. */
static void end_hold_at_continue(struct gdb_session *s)
{
	bool cont = false;
	for (unsigned v = 0; v < s->nvcpus; v++) {
		if (s->actions[v] == GDB_ACT_STEP)
			return;
		cont = cont || s->actions[v] == GDB_ACT_CONTINUE;
	}
	if (cont)
		s->hold_when_detached = false;
}

/* Non-stop: vCPUs may run while the session ends, and memory may only
 * change while every vCPU is parked: stop them all first (the session is
 * cleaned up once they are). True when that is under way. */
static bool stop_all_before_cleanup_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	if (!stub->session.non_stop || !gdb_any_vcpu_runs(&stub->session))
		return false;
	set_conn_state_locked(stub, CONN_DETACHING);
	events_stop_all_locked(&stub->ev, false);
	return true;
}

static void connection_lost_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	switch (stub->state) {
	case CONN_STOPPED:
		if (stub->session.non_stop && gdb_any_vcpu_runs(&stub->session)) {
			close_connection_locked(stub);
			stop_all_before_cleanup_locked(stub);
			break;
		}
		cleanup_session_locked(stub);
		break;
	case CONN_RUNNING:
	case CONN_STOPPING:
		/* memory may only change while every vCPU is parked */
		close_connection_locked(stub);
		set_conn_state_locked(stub, CONN_DETACHING);
		events_stop_all_locked(&stub->ev, false);
		break;
	default:
		close_connection_locked(stub);
		break;
	}
}

/* Queues bytes for the debugger and sends what the socket takes now
 * (usually all of it). */
static void queue_output_locked(struct gdbstub *stub, const uint8_t *data,
				size_t len)
{
	lock_assert_held(&stub->ev.lock);
	if (stub->conn_fd < 0 || len == 0)
		return;
	if (out_queue_append(&stub->out, data, len)) {
		/* cannot happen: input waits while a reply is owed */
		log_line(stub, "output queue full; dropping the connection");
		connection_lost_locked(stub);
		return;
	}
	if (out_queue_flush(&stub->out, stub->conn_fd) < 0)
		connection_lost_locked(stub);
}

/* Queues '+' (if acking) and the encoded reply. */
static void send_reply_locked(struct gdbstub *stub, bool ack, bool has_reply)
{
	lock_assert_held(&stub->ev.lock);
	size_t off = 0;

	if (stub->conn_fd < 0)
		return;
	if (ack)
		stub->frame[off++] = '+';
	if (has_reply) {
		size_t n = rsp_encode(stub->reply.buf, stub->reply.len,
				      stub->frame + off, stub->frame_cap - off);
		if (n == 0) /* cannot happen with the sizes used; be safe */
			n = rsp_encode((const uint8_t *)"E0c", 3,
				       stub->frame + off, stub->frame_cap - off);
		stub->last_frame_off = off;
		stub->last_frame_len = n;
		stub->resends = 0;
		off += n;
	}
	queue_output_locked(stub, stub->frame, off);
}

/* A NAK: the last reply again, a few times at most (then the link or the
 * peer is broken, and re-sending would only multiply the output). */
static void resend_last_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	if (stub->conn_fd < 0 || stub->last_frame_len == 0)
		return;
	if (stub->resends >= MAX_RESENDS_PER_REPLY) {
		fprintf(stub->log, "gdbstub: debugger NAKed one reply %u "
			"times; dropping the connection\n",
			stub->resends + 1);
		fflush(stub->log);
		connection_lost_locked(stub);
		return;
	}
	stub->resends++;
	queue_output_locked(stub, stub->frame + stub->last_frame_off,
			    stub->last_frame_len);
}

static void send_nak_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	queue_output_locked(stub, (const uint8_t *)"-", 1);
}

/* A %Stop notification (non-stop) with payload "Stop:<text>". */
static void send_notification_locked(struct gdbstub *stub,
				     const struct gdb_reply *text)
{
	lock_assert_held(&stub->ev.lock);
	uint8_t payload[1024];
	uint8_t frame[2 * sizeof(payload) + 4];
	static const char name[] = "Stop:";
	size_t n = sizeof(name) - 1;

	if (text->overflow || text->len > sizeof(payload) - n)
		return; /* a stop reply is far shorter */
	memcpy(payload, name, n);
	memcpy(payload + n, text->buf, text->len);
	n = rsp_encode_notification(payload, n + text->len, frame,
				    sizeof(frame));
	if (n)
		queue_output_locked(stub, frame, n);
}

/* Non-stop: queues the stops not reported yet and notifies the first
 * unless a notification is in flight (the rest go out as vStopped
 * replies). */
static void report_non_stop_stops_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	int vcpu = nonstop_collect_stops_locked(&stub->ev, &stub->session);
	if (vcpu < 0)
		return;
	uint8_t buf[512];
	struct gdb_reply r = { .buf = buf, .cap = sizeof(buf) };
	gdb_build_vcpu_stop_reply(&stub->session, vcpu, &r);
	send_notification_locked(stub, &r);
}

/* ^C in non-stop (gdb sends vCtrlC; a raw 0x03 is taken the same way). */
static void interrupt_non_stop_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	uint8_t buf[16];
	struct gdb_reply r = { .buf = buf, .cap = sizeof(buf) };
	if (gdb_handle_packet(&stub->session, (const uint8_t *)"vCtrlC", 6,
			      &r) == GDB_PKT_RESUME)
		nonstop_apply_actions_locked(&stub->ev, &stub->session);
}

static void send_stop_reply_locked(struct gdbstub *stub, int fallback)
{
	lock_assert_held(&stub->ev.lock);
	struct gdb_stop_info st;
	events_take_stop_locked(&stub->ev, fallback, &st);
	gdb_build_stop_reply(&stub->session, &st, &stub->reply);
	set_conn_state_locked(stub, CONN_STOPPED);
	send_reply_locked(stub, false, true);
}

static void handle_packet_locked(struct gdbstub *stub, const uint8_t *pkt,
				 size_t len)
{
	lock_assert_held(&stub->ev.lock);
	bool ack = !stub->session.noack;

	if (!conn_state_serves_packets(stub->state)) {
		/* all-stop: nothing but ^C is expected while the guest runs;
		 * touching running vCPUs is not allowed */
		reply_error(&stub->reply, EBUSY);
		send_reply_locked(stub, ack, true);
		return;
	}
	enum gdb_packet_result res =
		gdb_handle_packet(&stub->session, pkt, len, &stub->reply);
	/* QNonStop switched it, with every vCPU parked */
	events_set_non_stop_locked(&stub->ev, stub->session.non_stop);
	if (res == GDB_PKT_RESUME && stub->session.non_stop) {
		/* vCont (and vCtrlC) answer OK at once; the stops follow as
		 * notifications */
		end_hold_at_continue(&stub->session);
		nonstop_apply_actions_locked(&stub->ev, &stub->session);
		reply_reset(&stub->reply);
		reply_str(&stub->reply, "OK");
		res = GDB_PKT_REPLY;
	}
	switch (res) {
	case GDB_PKT_REPLY:
		send_reply_locked(stub, ack, true);
		/* a stop '?' left owed goes out once its sequence is over */
		if (stub->session.non_stop)
			report_non_stop_stops_locked(stub);
		break;
	case GDB_PKT_NOACK:
		send_reply_locked(stub, ack, true);
		stub->session.noack = true;
		break;
	case GDB_PKT_RESUME:
		send_reply_locked(stub, ack, false);
		if (stub->conn_fd < 0)
			break;
		set_conn_state_locked(stub, CONN_RUNNING);
		end_hold_at_continue(&stub->session);
		stub->spin_until = gdb_spin_pays()
					   ? gdb_monotonic_ns() + GDB_SPIN_NS
					   : 0;
		events_resume_locked(&stub->ev, stub->session.actions,
				     stub->session.ranges);
		break;
	case GDB_PKT_DETACH:
		send_reply_locked(stub, ack, true);
		if (stub->state != CONN_STOPPED)
			break;
		if (stub->session.non_stop && gdb_any_vcpu_runs(&stub->session)) {
			finish_connection_locked(stub);
			stop_all_before_cleanup_locked(stub);
			break;
		}
		cleanup_session_locked(stub);
		break;
	case GDB_PKT_KILL:
		/* 'k' has no reply, vKill an OK */
		send_reply_locked(stub, ack, stub->reply.len > 0);
		/* vCPUs must leave our hooks to see the VM's end; the W
		 * reply then comes through gdbstub_vm_ended */
		gdb_bp_remove_all(&stub->session);
		gdb_watch_remove_all(&stub->session);
		events_reset_locked(&stub->ev);
		set_conn_state_locked(stub, CONN_RUNNING);
		break;
	}
}

/* Decodes buffered input while the state allows serving it and no reply
 * is still owed (a peer that sends without reading gets back-pressure,
 * not an ever-growing queue). */
static void process_input_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	while (stub->conn_fd >= 0 && stub->input_off < stub->input_len &&
	       (stub->state == CONN_STOPPED || stub->state == CONN_RUNNING) &&
	       !out_queue_pending(&stub->out)) {
		enum rsp_event ev;
		size_t used = rsp_decode(&stub->dec,
					 stub->input + stub->input_off,
					 stub->input_len - stub->input_off, &ev);
		stub->input_off += used;
		bool ack = !stub->session.noack;
		switch (ev) {
		case RSP_EV_NONE:
		case RSP_EV_ACK:
			break;
		case RSP_EV_NAK:
			if (ack)
				resend_last_locked(stub);
			break;
		case RSP_EV_INTERRUPT:
			if (stub->state == CONN_RUNNING &&
			    !events_interrupted(&stub->ev))
				events_stop_all_locked(&stub->ev, true);
			else if (stub->state == CONN_STOPPED &&
				 stub->session.non_stop)
				interrupt_non_stop_locked(stub);
			break;
		case RSP_EV_BAD_CHECKSUM:
			if (ack) {
				send_nak_locked(stub);
				break;
			}
			/* no-ack mode: checksums are not binding */
			handle_packet_locked(stub, stub->dec.buf,
					     stub->dec.len);
			break;
		case RSP_EV_PACKET:
			handle_packet_locked(stub, stub->dec.buf,
					     stub->dec.len);
			break;
		case RSP_EV_OVERSIZE:
			if (ack) {
				send_nak_locked(stub);
			} else {
				reply_error(&stub->reply, EMSGSIZE);
				send_reply_locked(stub, false, true);
			}
			break;
		}
	}
	if (stub->input_off >= stub->input_len)
		stub->input_off = stub->input_len = 0;
}

static void read_connection_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	ssize_t n = recv(stub->conn_fd, stub->input, sizeof(stub->input),
			 MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		connection_lost_locked(stub);
		return;
	}
	if (n < 0)
		return;
	stub->input_off = 0;
	stub->input_len = (size_t)n;
	process_input_locked(stub);
}

/* The attached debugger has closed its side (its EOF may still sit behind
 * unread input). */
static bool peer_hung_up_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	if (stub->conn_fd < 0)
		return true;
	if (!stub->peer_hung_up) {
		struct pollfd p = { .fd = stub->conn_fd, .events = POLLRDHUP };
		if (poll(&p, 1, 0) > 0 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			stub->peer_hung_up = true;
	}
	return stub->peer_hung_up;
}

/*
 * A debugger that connects while the last session is still being torn
 * down (its EOF not yet read, the attach stop or the detach under way) is
 * left in the backlog and accepted once the server is free: a quick
 * reconnect is not a second debugger. Only a connection arriving while a
 * live debugger is attached is refused.
 */
static void accept_connection_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	if (stub->state != CONN_NONE && !events_vm_over(&stub->ev) &&
	    peer_hung_up_locked(stub))
		return; /* the listener is not polled until the session ends */
	int fd = accept4(stub->listener.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (stub->state != CONN_NONE || events_vm_over(&stub->ev)) {
		/* one debugger at a time; the live session is untouched.
		 * Whatever it sent already is read so the close is a FIN. */
		char junk[4096];
		while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		shutdown(fd, SHUT_RDWR);
		close(fd);
		log_line(stub, "refused a second debugger connection");
		return;
	}
	connection_configure(fd);
	stub->conn_fd = fd;
	stub->peer_hung_up = false;
	stub->input_len = stub->input_off = 0;
	stub->last_frame_len = 0;
	out_queue_clear(&stub->out);
	rsp_decoder_init(&stub->dec, stub->dec_buf, RSP_DECODE_CAPACITY);
	gdb_session_reset(&stub->session);
	set_conn_state_locked(stub, CONN_STOPPING);
	log_line(stub, "debugger attached; stopping the guest");
	events_stop_all_locked(&stub->ev, false);
}

static void send_vm_end_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	stub->end_pending = false;
	if (stub->conn_fd >= 0) {
		reply_reset(&stub->reply);
		if (stub->end_signal)
			reply_fmt(&stub->reply, "X%02x", stub->end_signal & 0xff);
		else
			reply_fmt(&stub->reply, "W%02x", stub->end_status & 0xff);
		/* non-stop: the end is a stop like any other, notified */
		if (stub->session.non_stop && stub->state == CONN_STOPPED)
			send_notification_locked(stub, &stub->reply);
		else
			send_reply_locked(stub, false, true);
		finish_connection_locked(stub);
	}
	/* the VM is gone: nothing to restore, nobody to resume */
	bp_table_clear(&stub->session.bps);
	watch_table_init(&stub->session.watches);
	set_conn_state_locked(stub, CONN_NONE);
	stub->end_sent = true;
	pthread_cond_broadcast(&stub->end_cond);
}

static void drain_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	char junk[4096];
	ssize_t n = recv(stub->drain_fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(stub->drain_fd);
		stub->drain_fd = -1;
	}
}

static void handle_wakeup_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	uint64_t count;
	if (read(stub->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	if (stub->end_pending) {
		send_vm_end_locked(stub);
		return;
	}
	if (stub->state == CONN_STOPPED && stub->session.non_stop)
		report_non_stop_stops_locked(stub);
	if (!events_stop_wanted(&stub->ev) ||
	    !events_stop_complete_locked(&stub->ev))
		return;
	switch (stub->state) {
	case CONN_STOPPING: {
		/* attach stop: GDB asks with '?' */
		struct gdb_stop_info st;
		events_take_stop_locked(&stub->ev, stub->session.hg, &st);
		stub->session.last_stop = st;
		set_conn_state_locked(stub, CONN_STOPPED);
		break;
	}
	case CONN_RUNNING:
		send_stop_reply_locked(stub, stub->session.resumed_vcpu);
		break;
	case CONN_DETACHING:
		events_stop_seen_locked(&stub->ev);
		cleanup_session_locked(stub);
		break;
	default:
		events_stop_seen_locked(&stub->ev);
		break;
	}
}

/*
 * After a resume the stop usually comes back within tens of microseconds,
 * sooner than a sleeping thread is woken on this kind of host (~40 us). So
 * until spin_until, poll without sleeping and without the lock (the vCPU
 * that stops takes it to report), and then take the lock spinning too: a
 * futex sleep on it costs the same wake-up (measured: 42-57 us from the
 * vCPU's eventfd write to the stop reply, against ~1 us). Then sleep.
 */
static int wait_ready(struct pollfd *pfd, nfds_t n, long long spin_until,
		      int timeout_ms)
{
	if (gdb_monotonic_ns() < spin_until) {
		gdb_spin_begin();
		while (gdb_monotonic_ns() < spin_until) {
			int rc = poll(pfd, n, 0);
			if (rc != 0) {
				gdb_spin_end();
				return rc;
			}
		}
		gdb_spin_end();
	}
	return poll(pfd, n, timeout_ms);
}

/* Until a peer that owes us reading is given up on; -1 when none does. */
static int stall_timeout_ms(const struct gdbstub *stub)
{
	if (stub->conn_fd < 0 || !out_queue_pending(&stub->out))
		return -1;
	long long left = stub->out.progress_ns + PEER_STALL_DROP_NS -
			 gdb_monotonic_ns();
	return left <= 0 ? 0 : (int)(left / 1000000 + 1);
}

static void flush_output_locked(struct gdbstub *stub)
{
	lock_assert_held(&stub->ev.lock);
	int rc = out_queue_flush(&stub->out, stub->conn_fd);
	if (rc < 0) {
		connection_lost_locked(stub);
	} else if (rc > 0 && gdb_monotonic_ns() - stub->out.progress_ns >=
				     PEER_STALL_DROP_NS) {
		fprintf(stub->log, "gdbstub: the debugger has not read its "
			"replies for %lld s (%zu bytes waiting); dropping the "
			"connection\n", PEER_STALL_DROP_NS / 1000000000LL,
			stub->out.len);
		fflush(stub->log);
		connection_lost_locked(stub);
	}
}

void *server_main(void *arg)
{
	struct gdbstub *stub = arg;

	checked_mutex_lock(&stub->ev.lock);
	while (!stub->quit) {
		struct pollfd pfd[4];
		int n = 0;
		int conn_idx = -1, listen_idx = -1, drain_idx = -1;

		/* input left over from before a stop is served first */
		process_input_locked(stub);
		pfd[n++] = (struct pollfd){ .fd = stub->event_fd,
					    .events = POLLIN };
		/* A session that is starting or ending finishes before the
		 * next one starts (connections wait in the backlog); while
		 * one is live, a newcomer is refused. */
		bool live = (stub->state == CONN_STOPPED ||
			     stub->state == CONN_RUNNING) &&
			    !stub->peer_hung_up;
		if (stub->state == CONN_NONE || events_vm_over(&stub->ev) ||
		    live) {
			listen_idx = n;
			pfd[n++] = (struct pollfd){ .fd = stub->listener.fd,
						    .events = POLLIN };
		}
		/* while the vCPUs are being stopped, or a reply is owed,
		 * input waits */
		bool owed = stub->conn_fd >= 0 && out_queue_pending(&stub->out);
		bool want_input = stub->conn_fd >= 0 && stub->input_len == 0 &&
				  !owed &&
				  (stub->state == CONN_STOPPED ||
				   stub->state == CONN_RUNNING);
		if (want_input || owed) {
			conn_idx = n;
			pfd[n++] = (struct pollfd){
				.fd = stub->conn_fd,
				.events = (short)((want_input ? POLLIN | POLLRDHUP
							      : 0) |
						  (owed ? POLLOUT : 0)) };
		}
		if (stub->drain_fd >= 0) {
			drain_idx = n;
			pfd[n++] = (struct pollfd){ .fd = stub->drain_fd,
						    .events = POLLIN };
		}
		/* only this thread changes state and spin_until */
		long long spin_until =
			stub->state == CONN_RUNNING ? stub->spin_until : 0;
		int timeout_ms = stall_timeout_ms(stub);
		checked_mutex_unlock(&stub->ev.lock);
		int rc = wait_ready(pfd, (nfds_t)n, spin_until, timeout_ms);
		gdb_lock_spinning(&stub->ev.lock, spin_until);
		if (rc < 0)
			continue;
		if (pfd[0].revents)
			handle_wakeup_locked(stub);
		if (conn_idx >= 0 &&
		    (pfd[conn_idx].revents & (POLLRDHUP | POLLHUP)))
			stub->peer_hung_up = true;
		/* on a time-out too: that is how a stalled peer is dropped */
		if (owed && stub->conn_fd >= 0 && out_queue_pending(&stub->out))
			flush_output_locked(stub);
		if (want_input && pfd[conn_idx].revents && stub->conn_fd >= 0 &&
		    stub->input_len == 0 && !out_queue_pending(&stub->out) &&
		    (stub->state == CONN_STOPPED || stub->state == CONN_RUNNING))
			read_connection_locked(stub);
		if (drain_idx >= 0 && pfd[drain_idx].revents &&
		    stub->drain_fd >= 0)
			drain_locked(stub);
		if (listen_idx >= 0 && pfd[listen_idx].revents)
			accept_connection_locked(stub);
	}
	checked_mutex_unlock(&stub->ev.lock);
	return NULL;
}
