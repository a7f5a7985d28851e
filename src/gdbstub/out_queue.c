/* The debugger's output queue (see out_queue.h). */
#include "gdbstub/out_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gdbstub/vcpu_events.h"

int out_queue_init(struct out_queue *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->buf = malloc(cap);
	if (!q->buf)
		return -ENOMEM;
	q->cap = cap;
	return 0;
}

void out_queue_free(struct out_queue *q)
{
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

void out_queue_clear(struct out_queue *q)
{
	q->head = q->len = 0;
}

int out_queue_append(struct out_queue *q, const uint8_t *data, size_t len)
{
	if (len > q->cap - q->len)
		return -ENOBUFS;
	if (q->len == 0) {
		q->head = 0;
		q->progress_ns = gdb_monotonic_ns();
	} else if (len > q->cap - q->head - q->len) {
		memmove(q->buf, q->buf + q->head, q->len);
		q->head = 0;
	}
	memcpy(q->buf + q->head + q->len, data, len);
	q->len += len;
	return 0;
}

int out_queue_flush(struct out_queue *q, int fd)
{
	while (q->len) {
		ssize_t n = send(fd, q->buf + q->head, q->len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -errno;
		}
		q->head += (size_t)n;
		q->len -= (size_t)n;
		q->progress_ns = gdb_monotonic_ns();
	}
	q->head = 0;
	return 0;
}
