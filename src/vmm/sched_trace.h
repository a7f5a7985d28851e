/*
 * A scheduling trace for diagnosing SMP guests: who held the execution
 * lock when and why it was given up, halts and wake-ups, IPIs and the
 * interrupts taken. Off unless HVGDB_SCHED_TRACE names a file; then each
 * event is a record in an in-memory ring (the newest SCHED_TRACE_RECORDS
 * are kept), written out as text when the VM is destroyed.
 * scripts/sched-trace-report.py sums it up and names guest RIPs from a
 * symbol list (System.map or a guest's /proc/kallsyms). The cost when off is one predictable branch per event.
 */
#ifndef HVGDB_SCHED_TRACE_H
#define HVGDB_SCHED_TRACE_H

#include <stdbool.h>
#include <stdint.h>

enum sched_trace_event {
	TRACE_ACQUIRE,     /* a: microseconds waited for the lock, b: rip */
	TRACE_RELEASE,     /* a: why (TRACE_WHY_*), b: rip */
	TRACE_HALT,        /* b: rip */
	TRACE_WAKE,        /* a: microseconds halted */
	/* a: the ICR's destination field, or -1 self, -2 all, -3 all but
	 * self; b: lapic_delivery << 8 | vector */
	TRACE_IPI,
	TRACE_INTERRUPT,   /* a: vector, b: rip */
	TRACE_SIPI_START,  /* a: vector */
};

/* TRACE_RELEASE reasons (bits). */
#define TRACE_WHY_HALT 1u
#define TRACE_WHY_STOP_REQ 2u
#define TRACE_WHY_PAUSE 4u
#define TRACE_WHY_SLICE 8u
#define TRACE_WHY_EXIT 16u

#define SCHED_TRACE_RECORDS (1u << 20)

extern bool sched_trace_on;

/* Reads HVGDB_SCHED_TRACE once; idempotent. */
void sched_trace_init(void);
void sched_trace_record(uint64_t now_ns, int vcpu, enum sched_trace_event ev,
			int64_t a, uint64_t b);
/* Writes the ring to the file (if tracing) and empties it. */
void sched_trace_flush(void);

#define SCHED_TRACE(now, vcpu, ev, a, b)                                     \
	do {                                                                 \
		if (__builtin_expect(sched_trace_on, 0))                     \
			sched_trace_record((now), (vcpu), (ev), (int64_t)(a), \
					   (uint64_t)(b));                   \
	} while (0)

#endif
