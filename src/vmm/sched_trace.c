/* The scheduling trace (see sched_trace.h). */
#include "vmm/sched_trace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct trace_record {
	uint64_t t;
	int64_t a;
	uint64_t b;
	int16_t vcpu;
	uint16_t ev;
};

bool sched_trace_on;
static const char *trace_path;
static struct trace_record *ring;
static atomic_ulong next_slot;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static const char *const event_names[] = {
	[TRACE_ACQUIRE] = "acquire", [TRACE_RELEASE] = "release",
	[TRACE_HALT] = "halt",       [TRACE_WAKE] = "wake",
	[TRACE_IPI] = "ipi",         [TRACE_INTERRUPT] = "intr",
	[TRACE_SIPI_START] = "sipi",
};

static void init_from_env(void)
{
	const char *p = getenv("HVGDB_SCHED_TRACE");
	if (!p || !*p)
		return;
	ring = calloc(SCHED_TRACE_RECORDS, sizeof(*ring));
	if (!ring)
		return;
	trace_path = p;
	sched_trace_on = true;
}

void sched_trace_init(void)
{
	pthread_once(&init_once, init_from_env);
}

void sched_trace_record(uint64_t now_ns, int vcpu, enum sched_trace_event ev,
			int64_t a, uint64_t b)
{
	unsigned long slot = atomic_fetch_add(&next_slot, 1);
	struct trace_record *r = &ring[slot % SCHED_TRACE_RECORDS];
	r->t = now_ns;
	r->vcpu = (int16_t)vcpu;
	r->ev = (uint16_t)ev;
	r->a = a;
	r->b = b;
}

void sched_trace_flush(void)
{
	if (!sched_trace_on)
		return;
	FILE *f = fopen(trace_path, "w");
	if (!f) {
		perror(trace_path);
		return;
	}
	unsigned long end = atomic_load(&next_slot);
	unsigned long start =
		end > SCHED_TRACE_RECORDS ? end - SCHED_TRACE_RECORDS : 0;
	for (unsigned long i = start; i < end; i++) {
		const struct trace_record *r = &ring[i % SCHED_TRACE_RECORDS];
		fprintf(f, "%llu %d %s %lld %#llx\n", (unsigned long long)r->t,
			r->vcpu, event_names[r->ev], (long long)r->a,
			(unsigned long long)r->b);
	}
	fclose(f);
	atomic_store(&next_slot, 0);
}
