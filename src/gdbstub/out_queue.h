/*
 * Bytes owed to the debugger: replies are queued here and written with
 * non-blocking sends, so a peer that reads slowly (or not at all) never
 * blocks the server thread, and never while it holds the stub lock.
 */
#ifndef HVGDB_GDBSTUB_OUT_QUEUE_H
#define HVGDB_GDBSTUB_OUT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct out_queue {
	uint8_t *buf;
	size_t cap;
	size_t head; /* first unsent byte */
	size_t len;  /* unsent bytes from head */
	/* gdb_monotonic_ns of the last time the peer took bytes (or of the
	 * first queued byte): how long the peer has not been reading */
	long long progress_ns;
};

/* 0 or -ENOMEM. */
int out_queue_init(struct out_queue *q, size_t cap);
void out_queue_free(struct out_queue *q);
void out_queue_clear(struct out_queue *q);
static inline bool out_queue_pending(const struct out_queue *q)
{
	return q->len != 0;
}
/* 0, or -ENOBUFS when it does not fit (nothing is queued then). */
int out_queue_append(struct out_queue *q, const uint8_t *data, size_t len);
/* Sends what the socket takes without blocking: 0 when everything left,
 * 1 when bytes remain, -errno when the connection failed. */
int out_queue_flush(struct out_queue *q, int fd);

#endif
