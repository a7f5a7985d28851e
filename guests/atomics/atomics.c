/*
 * atomics: every vCPU updates shared counters with lock inc, lock xadd and a
 * lock cmpxchg retry loop; the BSP checks the exact totals. Lost updates mean
 * the hypervisor let two vCPUs interleave inside a locked instruction.
 * budget=N iterations per vCPU (default 200000).
 */
#include <stdint.h>

#include "barrier.h"
#include "cmdline.h"
#include "runtime.h"
#include "uart.h"

#define DEFAULT_ITERATIONS 200000
#define CMPXCHG_STEP 3

volatile uint64_t atomics_inc_counter;
volatile uint64_t atomics_xadd_counter;
volatile uint64_t atomics_cmpxchg_counter;
volatile uint64_t atomics_cmpxchg_retries[GUEST_MAX_CPUS];
static struct barrier atomics_barrier = BARRIER_ALL_CPUS;

static uint64_t xadd_amount(uint64_t i)
{
	return (i & 7) + 1;
}

static inline void locked_inc(volatile uint64_t *p)
{
	__asm__ volatile("lock incq %0" : "+m"(*p) : : "memory", "cc");
}

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

GUEST_NOINLINE void atomics_round(unsigned vcpu, uint64_t i)
{
	locked_inc(&atomics_inc_counter);
	locked_xadd(&atomics_xadd_counter, xadd_amount(i));
	for (;;) {
		uint64_t old = atomics_cmpxchg_counter;
		if (locked_cmpxchg(&atomics_cmpxchg_counter, old, old + CMPXCHG_STEP))
			break;
		atomics_cmpxchg_retries[vcpu]++;
	}
}

static int check(const char *what, uint64_t got, uint64_t want)
{
	uart_printf("atomics: %s %lu\n", what, got);
	if (got == want)
		return 1;
	uart_printf("atomics: %s expected %lu\n", what, want);
	return 0;
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	uint64_t iterations = DEFAULT_ITERATIONS;
	cmdline_get_u64(cmdline, "budget", &iterations);

	barrier_wait(&atomics_barrier);
	for (uint64_t i = 0; i < iterations; i++)
		atomics_round(vcpu, i);
	barrier_wait(&atomics_barrier);
	if (vcpu != 0)
		return 0;

	uint64_t xadd_per_cpu = 0, retries = 0;
	for (uint64_t i = 0; i < iterations; i++)
		xadd_per_cpu += xadd_amount(i);
	for (unsigned v = 0; v < ncpus; v++)
		retries += atomics_cmpxchg_retries[v];
	uart_printf("info: cmpxchg retries %lu\n", retries);
	uart_printf("atomics: %u vcpus x %lu iterations\n", ncpus, iterations);
	int ok = check("inc", atomics_inc_counter, iterations * ncpus);
	ok &= check("xadd", atomics_xadd_counter, xadd_per_cpu * ncpus);
	ok &= check("cmpxchg", atomics_cmpxchg_counter,
		    iterations * ncpus * CMPXCHG_STEP);
	uart_printf("atomics: %s\n", ok ? "PASS" : "FAIL");
	return ok ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
