/*
 * timer-storm: a 20 kHz periodic LAPIC timer on every vCPU while each runs a
 * loop of storm_body calls. Interrupt delivery must neither lose the ticks nor
 * disturb the interrupted code: the BSP recomputes every vCPU's result with
 * interrupts off and compares. budget=N iterations per vCPU (default
 * 100000); "forever" never stops.
 */
#include <stdint.h>

#include "barrier.h"
#include "cmdline.h"
#include "idt.h"
#include "io.h"
#include "lapic.h"
#include "runtime.h"
#include "uart.h"

#define STORM_HZ 20000
#define DEFAULT_ITERATIONS 100000
/* After the budget, wait until each vCPU has seen this many ticks. */
#define MIN_TICKS 20
#define TICK_WAIT_SPINS 500000000ul

volatile unsigned long storm_ticks[GUEST_MAX_CPUS];
volatile unsigned long storm_result[GUEST_MAX_CPUS];
static volatile int storm_tick_timeout[GUEST_MAX_CPUS];
static struct barrier storm_barrier = BARRIER_ALL_CPUS;

static void on_timer(struct trap_frame *frame)
{
	(void)frame;
	storm_ticks[cpu_self()]++;
	lapic_eoi();
}

/* Keeps values live in many registers so a corrupted interrupt frame or a
 * clobbered register shows up in the result. */
GUEST_NOINLINE unsigned long storm_body(unsigned vcpu, unsigned long i,
					unsigned long acc)
{
	unsigned long a = acc + i, b = acc ^ (i << 3), c = vcpu * 0x9e3779b9ul;
	unsigned long d = a * 31 + b, e = (b >> 7) | (c << 5), f = d ^ e ^ i;
	return (a ^ b) + (c ^ d) + (e * 3) + (f << 1) + (acc >> 11);
}

static unsigned long run(unsigned vcpu, uint64_t iterations, int forever)
{
	unsigned long acc = vcpu, second = 0;
	for (unsigned long i = 0; forever || i < iterations; i++) {
		acc = storm_body(vcpu, i, acc);
		if (forever && storm_ticks[vcpu] / STORM_HZ != second) {
			second = storm_ticks[vcpu] / STORM_HZ;
			uart_printf("info: vcpu %u iterations %lu ticks %lu\n",
				    vcpu, i, storm_ticks[vcpu]);
		}
	}
	return acc;
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	uint64_t iterations = DEFAULT_ITERATIONS;
	cmdline_get_u64(cmdline, "budget", &iterations);
	int forever = cmdline_has_flag(cmdline, "forever");

	idt_set_handler(GUEST_TIMER_VECTOR, on_timer);
	barrier_wait(&storm_barrier);
	lapic_timer_start_periodic(GUEST_TIMER_VECTOR, STORM_HZ);
	irq_enable();

	storm_result[vcpu] = run(vcpu, iterations, forever);
	for (unsigned long spins = 0; storm_ticks[vcpu] < MIN_TICKS; spins++) {
		if (spins == TICK_WAIT_SPINS) {
			storm_tick_timeout[vcpu] = 1;
			break;
		}
		cpu_relax();
	}

	irq_disable();
	lapic_timer_stop();
	barrier_wait(&storm_barrier);
	if (vcpu != 0)
		return 0;

	int ok = 1;
	uart_printf("timer-storm: %u vcpus x %lu iterations at %u Hz\n", ncpus,
		    iterations, STORM_HZ);
	for (unsigned v = 0; v < ncpus; v++) {
		uart_printf("info: vcpu %u ticks %lu\n", v, storm_ticks[v]);
		if (storm_tick_timeout[v]) {
			uart_printf("timer-storm: vcpu %u got only %lu ticks\n", v,
				    storm_ticks[v]);
			ok = 0;
		}
		if (storm_result[v] != run(v, iterations, 0)) {
			uart_printf("timer-storm: vcpu %u result corrupted\n", v);
			ok = 0;
		}
	}
	uart_printf("timer-storm: %s\n", ok ? "PASS" : "FAIL");
	return ok ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
