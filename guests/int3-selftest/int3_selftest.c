/*
 * int3-selftest: the guest owns #BP. Every vCPU executes int3 from three
 * functions; the handler checks the saved RIP is the byte after the int3
 * (global labels int3_ret_a/b/c) and counts per vCPU. A hypervisor that
 * swallows, duplicates or mis-returns a guest #BP fails here.
 * Arguments: budget=N rounds (3 int3 each; default 1000), timer=HZ to run a
 * LAPIC timer at the same time (default off).
 */
#include <stdint.h>

#include "barrier.h"
#include "cmdline.h"
#include "idt.h"
#include "io.h"
#include "lapic.h"
#include "runtime.h"
#include "uart.h"

#define DEFAULT_ROUNDS 1000
#define SITES 3
#define RFLAGS_IF 0x200ul

extern const char int3_ret_a[], int3_ret_b[], int3_ret_c[];

volatile unsigned long selftest_hits[GUEST_MAX_CPUS];
volatile unsigned long selftest_bad[GUEST_MAX_CPUS];
volatile unsigned long selftest_bad_rip[GUEST_MAX_CPUS];
volatile unsigned long selftest_ticks[GUEST_MAX_CPUS];
/* The label the next #BP on this vCPU must return to. */
static const char *volatile expected_return[GUEST_MAX_CPUS];
static volatile unsigned long expected_if[GUEST_MAX_CPUS];
static struct barrier selftest_barrier = BARRIER_ALL_CPUS;

static void on_breakpoint(struct trap_frame *frame)
{
	unsigned v = cpu_self();
	selftest_hits[v]++;
	if (frame->rip != (uintptr_t)expected_return[v] ||
	    frame->cs != GUEST_CS64 ||
	    (frame->rflags & RFLAGS_IF) != expected_if[v]) {
		if (!selftest_bad[v])
			selftest_bad_rip[v] = frame->rip;
		selftest_bad[v]++;
	}
	expected_return[v] = 0; /* a second #BP for the same int3 is an error */
}

static void on_timer(struct trap_frame *frame)
{
	(void)frame;
	selftest_ticks[cpu_self()]++;
	lapic_eoi();
}

GUEST_NOINLINE void selftest_site_a(unsigned vcpu)
{
	expected_return[vcpu] = int3_ret_a;
	__asm__ volatile("int3\n.globl int3_ret_a\nint3_ret_a:" ::: "memory");
}

GUEST_NOINLINE void selftest_site_b(unsigned vcpu)
{
	expected_return[vcpu] = int3_ret_b;
	__asm__ volatile("int3\n.globl int3_ret_b\nint3_ret_b:" ::: "memory");
}

GUEST_NOINLINE void selftest_site_c(unsigned vcpu)
{
	expected_return[vcpu] = int3_ret_c;
	/* A nop after the label: the return RIP must not land past it. */
	__asm__ volatile("int3\n.globl int3_ret_c\nint3_ret_c:\n\tnop" ::: "memory");
}

static int check_results(unsigned ncpus, uint64_t rounds)
{
	int ok = 1;
	for (unsigned v = 0; v < ncpus; v++) {
		uart_printf("info: vcpu %u hits %lu ticks %lu\n", v,
			    selftest_hits[v], selftest_ticks[v]);
		if (selftest_hits[v] != rounds * SITES) {
			uart_printf("int3-selftest: vcpu %u took %lu #BP, expected %lu\n",
				    v, selftest_hits[v], rounds * SITES);
			ok = 0;
		}
		if (selftest_bad[v]) {
			uart_printf("int3-selftest: vcpu %u had %lu bad #BP frames "
				    "(first rip 0x%lx)\n",
				    v, selftest_bad[v], selftest_bad_rip[v]);
			ok = 0;
		}
	}
	return ok;
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	uint64_t rounds = DEFAULT_ROUNDS, timer_hz = 0;
	cmdline_get_u64(cmdline, "budget", &rounds);
	cmdline_get_u64(cmdline, "timer", &timer_hz);

	idt_set_handler(VECTOR_BP, on_breakpoint);
	idt_set_handler(GUEST_TIMER_VECTOR, on_timer);
	barrier_wait(&selftest_barrier);
	if (timer_hz) {
		expected_if[vcpu] = RFLAGS_IF;
		lapic_timer_start_periodic(GUEST_TIMER_VECTOR, (unsigned)timer_hz);
		irq_enable();
	}

	for (uint64_t i = 0; i < rounds; i++) {
		selftest_site_a(vcpu);
		selftest_site_b(vcpu);
		selftest_site_c(vcpu);
	}

	irq_disable();
	lapic_timer_stop();
	barrier_wait(&selftest_barrier);
	if (vcpu != 0)
		return 0;
	uart_printf("int3-selftest: %u vcpus x %lu int3\n", ncpus, rounds * SITES);
	if (!check_results(ncpus, rounds)) {
		uart_printf("int3-selftest: FAIL\n");
		return GUEST_EXIT_FAIL;
	}
	uart_printf("int3-selftest: PASS\n");
	return GUEST_EXIT_PASS;
}
