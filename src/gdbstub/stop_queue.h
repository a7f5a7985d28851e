/*
 * Non-stop mode's queue of stops owed to the debugger (GDB manual, "Remote
 * Non-Stop" and "Notification Packets"). The stub sends the first stop as a
 * %Stop notification; the debugger acknowledges it with vStopped, and each
 * vStopped is answered with the next queued stop, or OK once the queue is
 * empty. Only then may a new notification go out. '?' restarts the
 * sequence with every stopped vCPU.
 *
 * Entries are vCPU indices, each queued at most once. A vCPU counts as
 * running for the debugger until its stop was acknowledged: while queued,
 * resume and stop requests for it are ignored. Pure data: no locks, no
 * I/O; the caller (the session, under the stub lock) builds the replies.
 */
#ifndef HVGDB_GDBSTUB_STOP_QUEUE_H
#define HVGDB_GDBSTUB_STOP_QUEUE_H

#include <stdbool.h>

struct stop_queue {
	unsigned nvcpus;
	int *fifo;        /* nvcpus slots, a ring */
	unsigned head, len;
	bool *queued;     /* in fifo: owed, not yet acknowledged */
	bool *reported;   /* queued since it last ran: its stop is not owed
			     again until it is resumed */
	/* The head was sent (notification, '?' or vStopped reply) and waits
	 * for its vStopped. */
	bool in_flight;
};

/* 0 or -ENOMEM. */
int stop_queue_init(struct stop_queue *q, unsigned nvcpus);
void stop_queue_free(struct stop_queue *q);
/* Empty, nothing reported, nothing in flight (a new session). */
void stop_queue_reset(struct stop_queue *q);

/* Queues the stop of vcpu unless it was reported since it last ran.
 * Returns true when the caller must send it now as a notification (the
 * queue was idle); it is then in flight. */
bool stop_queue_push(struct stop_queue *q, int vcpu);
/* vStopped: the head in flight is acknowledged and dropped. Returns the
 * next vCPU, to be sent as the reply and now in flight, or -1 (reply OK;
 * the sequence is over). A vStopped with nothing in flight is -1 too. */
int stop_queue_ack(struct stop_queue *q);
/* '?': drop the sequence under way; the caller pushes every stopped vCPU
 * with stop_queue_push_for_query and sends the head. */
void stop_queue_restart(struct stop_queue *q);
/* As stop_queue_push, but a vCPU reported before is queued again (the
 * debugger asked for every stopped thread). Returns the head to send as
 * the '?' reply when this made the queue non-empty, else -1. */
int stop_queue_push_for_query(struct stop_queue *q, int vcpu);
/* vcpu is resumed: it is owed nothing (must not be queued). */
void stop_queue_forget(struct stop_queue *q, int vcpu);
bool stop_queue_has(const struct stop_queue *q, int vcpu);
bool stop_queue_was_reported(const struct stop_queue *q, int vcpu);
/* The vCPU whose stop is in flight, or -1. */
int stop_queue_in_flight(const struct stop_queue *q);

#endif
