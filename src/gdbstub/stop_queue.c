/* Non-stop's queue of stops owed to the debugger (stop_queue.h). */
#include "gdbstub/stop_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int stop_queue_init(struct stop_queue *q, unsigned nvcpus)
{
	memset(q, 0, sizeof(*q));
	q->nvcpus = nvcpus ? nvcpus : 1;
	q->fifo = calloc(q->nvcpus, sizeof(*q->fifo));
	q->queued = calloc(q->nvcpus, sizeof(*q->queued));
	q->reported = calloc(q->nvcpus, sizeof(*q->reported));
	if (!q->fifo || !q->queued || !q->reported) {
		stop_queue_free(q);
		return -ENOMEM;
	}
	return 0;
}

void stop_queue_free(struct stop_queue *q)
{
	free(q->fifo);
	free(q->queued);
	free(q->reported);
	q->fifo = NULL;
	q->queued = q->reported = NULL;
}

static bool valid(const struct stop_queue *q, int vcpu)
{
	return q->fifo && vcpu >= 0 && (unsigned)vcpu < q->nvcpus;
}

void stop_queue_reset(struct stop_queue *q)
{
	if (!q->fifo)
		return;
	q->head = q->len = 0;
	q->in_flight = false;
	memset(q->queued, 0, q->nvcpus * sizeof(*q->queued));
	memset(q->reported, 0, q->nvcpus * sizeof(*q->reported));
}

static void append(struct stop_queue *q, int vcpu)
{
	/* each vCPU is queued at most once, so nvcpus slots suffice */
	q->fifo[(q->head + q->len) % q->nvcpus] = vcpu;
	q->len++;
	q->queued[vcpu] = true;
	q->reported[vcpu] = true;
}

bool stop_queue_push(struct stop_queue *q, int vcpu)
{
	if (!valid(q, vcpu) || q->queued[vcpu] || q->reported[vcpu])
		return false;
	append(q, vcpu);
	if (q->in_flight)
		return false;
	q->in_flight = true;
	return true;
}

static void drop_head(struct stop_queue *q)
{
	q->queued[q->fifo[q->head]] = false;
	q->head = (q->head + 1) % q->nvcpus;
	q->len--;
}

int stop_queue_ack(struct stop_queue *q)
{
	if (!q->fifo || !q->in_flight || q->len == 0) {
		q->in_flight = false;
		return -1;
	}
	drop_head(q);
	if (q->len == 0) {
		q->in_flight = false;
		return -1;
	}
	return q->fifo[q->head];
}

void stop_queue_restart(struct stop_queue *q)
{
	if (!q->fifo)
		return;
	while (q->len > 0)
		drop_head(q);
	q->head = 0;
	q->in_flight = false;
}

int stop_queue_push_for_query(struct stop_queue *q, int vcpu)
{
	if (!valid(q, vcpu) || q->queued[vcpu])
		return -1;
	append(q, vcpu);
	if (q->in_flight)
		return -1;
	q->in_flight = true;
	return q->fifo[q->head];
}

void stop_queue_forget(struct stop_queue *q, int vcpu)
{
	if (valid(q, vcpu) && !q->queued[vcpu])
		q->reported[vcpu] = false;
}

bool stop_queue_has(const struct stop_queue *q, int vcpu)
{
	return valid(q, vcpu) && q->queued[vcpu];
}

bool stop_queue_was_reported(const struct stop_queue *q, int vcpu)
{
	return valid(q, vcpu) && q->reported[vcpu];
}

int stop_queue_in_flight(const struct stop_queue *q)
{
	return q->fifo && q->in_flight && q->len ? q->fifo[q->head] : -1;
}
