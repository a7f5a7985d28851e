/*
 * x86 atomic read-modify-write instructions on shared guest memory, as the
 * atomics guests exercise them: each is one instruction a hypervisor must
 * keep atomic across vCPUs running at once.
 */
#ifndef GUEST_ATOMIC_OPS_H
#define GUEST_ATOMIC_OPS_H

#include <stdint.h>

static inline void locked_inc(volatile uint64_t *p)
{
	__asm__ volatile("lock incq %0" : "+m"(*p) : : "memory", "cc");
}

/* Adds v; returns the value before. */
static inline uint64_t locked_xadd(volatile uint64_t *p, uint64_t v)
{
	__asm__ volatile("lock xaddq %0, %1" : "+r"(v), "+m"(*p) : : "memory", "cc");
	return v;
}

/* Returns true if *p was old and is now new_value. */
static inline int locked_cmpxchg(volatile uint64_t *p, uint64_t old,
				 uint64_t new_value)
{
	uint64_t seen = old;
	__asm__ volatile("lock cmpxchgq %2, %1"
			 : "+a"(seen), "+m"(*p)
			 : "r"(new_value)
			 : "memory", "cc");
	return seen == old;
}

/* Adds step with a lock cmpxchg retry loop; returns the retries (another
 * vCPU changed *p between the read and the cmpxchg). */
static inline uint64_t cmpxchg_add(volatile uint64_t *p, uint64_t step)
{
	uint64_t retries = 0;

	for (;;) {
		uint64_t old = *p;
		if (locked_cmpxchg(p, old, old + step))
			return retries;
		retries++;
	}
}

#endif
