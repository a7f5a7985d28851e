/* Public API: creation, teardown and the vCPU hooks (include/hvgdb/gdbstub.h). */
#include "gdbstub/stub_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* How long gdbstub_vm_ended waits for the exit reply to leave. */
#define END_REPLY_TIMEOUT_SECONDS 2

static void free_stub(struct gdbstub *stub)
{
	listen_socket_close(&stub->listener);
	if (stub->event_fd >= 0)
		close(stub->event_fd);
	gdb_session_free(&stub->session);
	free(stub->dec_buf);
	free(stub->reply.buf);
	free(stub->frame);
	out_queue_free(&stub->out);
	free(stub);
}

int gdbstub_create(const struct gdbstub_config *cfg, struct gdbstub **out,
		   char *err, size_t errlen)
{
	char dummy[8];
	int rc;

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*out = NULL;
	err[0] = 0;
	if (!cfg || !cfg->ops || !cfg->listen) {
		snprintf(err, errlen, "gdbstub: missing ops or listen address");
		return -EINVAL;
	}
	struct gdbstub *stub = calloc(1, sizeof(*stub));
	if (!stub) {
		snprintf(err, errlen, "gdbstub: out of memory");
		return -ENOMEM;
	}
	stub->log = cfg->log ? cfg->log : stderr;
	stub->wait = cfg->wait;
	stub->conn_fd = -1;
	stub->drain_fd = -1;
	stub->listener.fd = -1;
	stub->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	stub->dec_buf = malloc(RSP_DECODE_CAPACITY);
	stub->reply.cap = RSP_PACKET_SIZE;
	stub->reply.buf = malloc(stub->reply.cap);
	stub->frame_cap = 1 + rsp_encode_bound(stub->reply.cap);
	stub->frame = malloc(stub->frame_cap);
	rc = gdb_session_init(&stub->session, cfg->ops, cfg->ctx);
	/* room for a reply not yet taken plus the stop or exit reply after
	 * it; input is not served while anything is owed */
	int out_rc = out_queue_init(&stub->out, 2 * stub->frame_cap);
	if (stub->event_fd < 0 || !stub->dec_buf || !stub->reply.buf ||
	    !stub->frame || rc || out_rc) {
		snprintf(err, errlen, "gdbstub: out of resources");
		free_stub(stub);
		return -ENOMEM;
	}
	struct gdb_events_config ecfg = {
		.ops = cfg->ops,
		.ctx = cfg->ctx,
		.nvcpus = stub->session.nvcpus,
		.bps = &stub->session.bps,
		.watches = &stub->session.watches,
		.can_step = stub->session.can_step,
		.step_cap = stub->session.step_cap,
		.hold_new_vcpus = cfg->wait,
		.notify = server_notify,
		.notify_arg = stub,
	};
	rc = events_init(&stub->ev, &ecfg);
	if (rc) {
		snprintf(err, errlen, "gdbstub: out of resources");
		free_stub(stub);
		return rc;
	}
	stub->session.ev = &stub->ev;
	stub->session.pause = (struct gdb_pause_ops){
		.pause = server_pause, .unpause = server_unpause, .arg = stub };
	stub->session.hold_when_detached = cfg->wait;
	pthread_cond_init(&stub->end_cond, NULL);
	rc = listen_socket_open(&stub->listener, cfg->listen, err, errlen);
	if (rc) {
		events_destroy(&stub->ev);
		pthread_cond_destroy(&stub->end_cond);
		free_stub(stub);
		return rc;
	}
	if (stub->listener.all_interfaces)
		/* as QEMU and gdbserver users expect: the stub has no
		 * authentication and can read, write and stop everything */
		fprintf(stub->log,
			"gdbstub: warning: listening on all interfaces (port "
			"%d): anyone who can reach this port gets full "
			"control of the VM\n",
			stub->listener.port);
	rsp_decoder_init(&stub->dec, stub->dec_buf, RSP_DECODE_CAPACITY);
	rc = pthread_create(&stub->thread, NULL, server_main, stub);
	if (rc) {
		snprintf(err, errlen, "gdbstub: cannot start thread");
		events_destroy(&stub->ev);
		pthread_cond_destroy(&stub->end_cond);
		free_stub(stub);
		return -rc;
	}
	stub->thread_running = true;
	*out = stub;
	return 0;
}

void gdbstub_destroy(struct gdbstub *stub)
{
	if (!stub)
		return;
	checked_mutex_lock(&stub->ev.lock);
	stub->quit = true;
	/* nobody may stay parked once the server is gone */
	events_vm_over_locked(&stub->ev);
	server_notify(stub);
	checked_mutex_unlock(&stub->ev.lock);
	if (stub->thread_running)
		pthread_join(stub->thread, NULL);
	if (stub->conn_fd >= 0)
		close(stub->conn_fd);
	if (stub->drain_fd >= 0)
		close(stub->drain_fd);
	events_destroy(&stub->ev);
	pthread_cond_destroy(&stub->end_cond);
	free_stub(stub);
}

int gdbstub_port(const struct gdbstub *stub)
{
	return stub ? stub->listener.port : 0;
}

void gdbstub_vcpu_add(struct gdbstub *stub, int vcpu)
{
	if (stub)
		events_vcpu_add(&stub->ev, vcpu);
}

void gdbstub_vcpu_suspended(struct gdbstub *stub, int vcpu)
{
	if (stub)
		events_vcpu_suspended(&stub->ev, vcpu);
}

void gdbstub_vcpu_breakpoint(struct gdbstub *stub, int vcpu, int inst_length)
{
	if (stub)
		events_vcpu_breakpoint(&stub->ev, vcpu, inst_length);
}

void gdbstub_vcpu_step_trap(struct gdbstub *stub, int vcpu)
{
	if (stub)
		events_vcpu_step_trap(&stub->ev, vcpu);
}

void gdbstub_vcpu_watch(struct gdbstub *stub, int vcpu,
			enum gdb_watch_type type, uint64_t addr)
{
	if (stub)
		events_vcpu_watch(&stub->ev, vcpu, type, addr);
}

bool gdbstub_vcpu_crashed(struct gdbstub *stub, int vcpu, int signal,
			  const char *what)
{
	if (!stub)
		return false;
	checked_mutex_lock(&stub->ev.lock);
	/* Without a debugger the VM ends at once, as it always did. */
	bool attached = stub->state != CONN_NONE && !events_vm_over(&stub->ev);
	if (attached)
		events_vcpu_crashed_locked(&stub->ev, vcpu, signal, what);
	checked_mutex_unlock(&stub->ev.lock);
	return attached;
}

void gdbstub_vm_ended(struct gdbstub *stub, int status, int signal)
{
	if (!stub)
		return;
	checked_mutex_lock(&stub->ev.lock);
	if (events_vm_over(&stub->ev)) {
		checked_mutex_unlock(&stub->ev.lock);
		return;
	}
	events_vm_over_locked(&stub->ev);
	stub->end_status = status;
	stub->end_signal = signal;
	stub->end_pending = true;
	stub->end_sent = false;
	server_notify(stub);
	/* the process usually exits next: let the debugger hear why first */
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += END_REPLY_TIMEOUT_SECONDS;
	while (!stub->end_sent && stub->thread_running && !stub->quit) {
		if (checked_cond_timedwait(&stub->end_cond, &stub->ev.lock,
					   &deadline))
			break;
	}
	checked_mutex_unlock(&stub->ev.lock);
}
