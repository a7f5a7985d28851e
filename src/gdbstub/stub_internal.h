/* struct gdbstub: one debug server, its session and vCPU event machine. */
#ifndef HVGDB_GDBSTUB_STUB_INTERNAL_H
#define HVGDB_GDBSTUB_STUB_INTERNAL_H

#include <pthread.h>
#include <stdio.h>

#include "gdbstub/conn_state.h"
#include "gdbstub/listen_socket.h"
#include "gdbstub/out_queue.h"
#include "gdbstub/rsp_codec.h"
#include "gdbstub/session.h"
#include "gdbstub/vcpu_events.h"
#include "hvgdb/gdbstub.h"


#define INPUT_BUFFER_SIZE 65536
/* A peer with replies owed that takes no byte of them for this long is
 * dropped (it stopped reading; the session's guest is resumed). */
#define PEER_STALL_DROP_NS (10 * 1000000000LL)
/* NAKs ('-') of one reply answered with a re-send; the next one drops the
 * connection (each re-send may be 256 KiB: a NAK storm must not turn into
 * unbounded output). */
#define MAX_RESENDS_PER_REPLY 4

struct gdbstub {
	FILE *log;
	bool wait;
	struct listen_socket listener;
	int event_fd; /* vCPU threads and hooks wake the server through it */
	pthread_t thread;
	bool thread_running;

	/* All below guarded by ev.lock. */
	struct gdb_events ev;
	struct gdb_session session;
	enum conn_state state; /* changed only by set_conn_state_locked */
	/* After a resume, poll without sleeping until then
	 * (gdb_monotonic_ns): the stop comes back within microseconds when a
	 * script steps or hits a hot breakpoint. */
	long long spin_until;
	int conn_fd;
	/* The debugger closed its side: a new connection waits in the
	 * backlog until this session is torn down, it is not a second
	 * debugger. */
	bool peer_hung_up;
	/* A finished connection (after D or W/X): half-closed, read until
	 * the debugger closes it, so its last '+' never turns into a RST. */
	int drain_fd;
	bool quit;
	bool end_pending; /* VM ended: W/X to send */
	bool end_sent;
	int end_status;
	int end_signal;
	pthread_cond_t end_cond;

	/* Server thread only. */
	struct rsp_decoder dec;
	uint8_t *dec_buf;
	uint8_t input[INPUT_BUFFER_SIZE];
	size_t input_len;
	size_t input_off;
	struct gdb_reply reply;
	uint8_t *frame;     /* '+' and the encoded reply: one write */
	size_t frame_cap;
	size_t last_frame_off; /* resend starts here (after the '+') */
	size_t last_frame_len;
	unsigned resends; /* of the last frame */
	struct out_queue out; /* sent from the poll loop, never blocking */
};

/* server.c */
void *server_main(void *arg);
void server_notify(void *arg);
/* The session's pause ops (non-stop), stub lock held. */
int server_pause(void *arg);
void server_unpause(void *arg);

#endif
