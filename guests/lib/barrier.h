/* Sense-reversing barrier for a fixed number of vCPUs (reusable). */
#ifndef GUEST_BARRIER_H
#define GUEST_BARRIER_H

struct barrier {
	volatile unsigned arrived;
	volatile unsigned generation;
	unsigned total;
};

/* A zero total means "every vCPU" (cpu_count()), so a statically
 * zero-initialised barrier works without a setup race. */
#define BARRIER_ALL_CPUS { 0, 0, 0 }

/* Must run before any vCPU waits on b. */
void barrier_init(struct barrier *b, unsigned total);
void barrier_wait(struct barrier *b);

#endif
