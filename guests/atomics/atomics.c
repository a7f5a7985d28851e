/*
 * atomics: every vCPU updates shared counters with lock inc, lock xadd and a
 * lock cmpxchg retry loop; the BSP checks the exact totals. Lost updates mean
 * the hypervisor let two vCPUs interleave inside a locked instruction.
 * budget=N iterations per vCPU (default 200000).
 */
#include <stdint.h>

#include "atomic_ops.h"
#include "barrier.h"
#include "check_total.h"
#include "cmdline.h"
#include "runtime.h"
#include "uart.h"

#define NAME "atomics" /* starts each line of the verdict */
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

GUEST_NOINLINE void atomics_round(unsigned vcpu, uint64_t i)
{
	locked_inc(&atomics_inc_counter);
	locked_xadd(&atomics_xadd_counter, xadd_amount(i));
	atomics_cmpxchg_retries[vcpu] +=
		cmpxchg_add(&atomics_cmpxchg_counter, CMPXCHG_STEP);
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
	int ok = check_total(NAME, "inc", atomics_inc_counter,
			     iterations * ncpus);
	ok &= check_total(NAME, "xadd", atomics_xadd_counter,
			  xadd_per_cpu * ncpus);
	ok &= check_total(NAME, "cmpxchg", atomics_cmpxchg_counter,
			  iterations * ncpus * CMPXCHG_STEP);
	uart_printf("atomics: %s\n", ok ? "PASS" : "FAIL");
	return ok ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
