/*
 * range-step: source lines that cost many instructions each, for a
 * debugger's `next` and `step` (range stepping, vCont;r). Every vCPU calls
 * rs_line in a loop while a 1 kHz LAPIC timer ticks on each, so interrupts
 * come due while a line is being stepped; vCPUs other than 0 also call
 * rs_other, where a test puts a breakpoint that fires while vCPU 0 steps.
 * The tests find the lines by the markers in their comments. Runs until
 * stopped.
 */
#include <stdint.h>

#include "barrier.h"
#include "idt.h"
#include "io.h"
#include "lapic.h"
#include "runtime.h"
#include "uart.h"

#define RS_TIMER_HZ 1000
/* 8 instructions an iteration: the loop's line runs ~200. */
#define RS_LOOP 25

/* Written at start-up, so the compiler cannot fold the loop. */
unsigned long rs_data[RS_LOOP];
volatile unsigned long rs_ticks[GUEST_MAX_CPUS];
volatile unsigned long rs_results[GUEST_MAX_CPUS];
volatile unsigned long rs_other_calls[GUEST_MAX_CPUS];
static struct barrier rs_barrier = BARRIER_ALL_CPUS;

static void rs_timer(struct trap_frame *frame)
{
	(void)frame;
	rs_ticks[cpu_self()]++;
	lapic_eoi();
}

GUEST_NOINLINE unsigned long rs_callee(unsigned long x)
{
	return x * 3 + 1; /* rs-callee-line */
}

GUEST_NOINLINE unsigned long rs_line(unsigned long seed)
{
	unsigned long acc = rs_callee(seed); /* rs-call-line */
	for (int i = 0; i < RS_LOOP; i++) acc = acc * 31 + rs_data[i]; /* rs-loop-line */
	acc ^= acc >> 7; /* rs-after-line */
	return acc;
}

GUEST_NOINLINE void rs_other(unsigned vcpu)
{
	rs_other_calls[vcpu]++;
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	(void)cmdline;
	idt_set_handler(GUEST_TIMER_VECTOR, rs_timer);
	if (vcpu == 0) {
		for (int i = 0; i < RS_LOOP; i++)
			rs_data[i] = 0x9e3779b97f4a7c15ul * (unsigned long)(i + 1);
		uart_printf("info: range-step on %u vcpus\n", ncpus);
	}
	barrier_wait(&rs_barrier);
	lapic_timer_start_periodic(GUEST_TIMER_VECTOR, RS_TIMER_HZ);
	irq_enable();
	for (unsigned long i = 0;; i++) {
		rs_results[vcpu] = rs_line(rs_results[vcpu] + i);
		if (vcpu != 0)
			rs_other(vcpu);
	}
	return GUEST_EXIT_PASS;
}
