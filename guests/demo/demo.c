/*
 * demo: the guest the debugger tests drive. Every vCPU runs a worker loop of
 * small named functions while a 100 Hz LAPIC timer ticks on each. With
 * budget=N every vCPU does N items and the BSP prints a checksum that depends
 * only on N and the vCPU count; without a budget it runs until stopped.
 * With hold_end the BSP then waits, before it exits, until a debugger sets
 * demo_release (tests that re-attach a debugger to the running guest: it
 * must not end first however slowly the debugger starts).
 */
#include <stdint.h>

#include "barrier.h"
#include "cmdline.h"
#include "cpu_vendor.h"
#include "idt.h"
#include "io.h"
#include "lapic.h"
#include "runtime.h"
#include "uart.h"

#define DEMO_TIMER_HZ 100
#define DEMO_MIX_ROUNDS 32

volatile unsigned long demo_ticks[GUEST_MAX_CPUS];
volatile unsigned long demo_items[GUEST_MAX_CPUS];
volatile unsigned long demo_state[GUEST_MAX_CPUS];
volatile unsigned long demo_release;
static struct barrier demo_barrier = BARRIER_ALL_CPUS;

static void demo_timer(struct trap_frame *frame)
{
	(void)frame;
	demo_ticks[cpu_self()]++;
	lapic_eoi();
}

GUEST_NOINLINE unsigned long demo_mix(unsigned long x)
{
	for (int r = 0; r < DEMO_MIX_ROUNDS; r++) {
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdul;
		x ^= x >> 29;
	}
	return x;
}

GUEST_NOINLINE void demo_record(unsigned vcpu, unsigned long value)
{
	demo_state[vcpu] = (demo_state[vcpu] << 7 | demo_state[vcpu] >> 57) ^ value;
	demo_items[vcpu]++;
}

GUEST_NOINLINE void demo_work_item(unsigned vcpu, unsigned long i)
{
	demo_record(vcpu, demo_mix(((unsigned long)vcpu << 40) + i));
}

/* `crash`: the BSP makes every exception undeliverable and faults, so the
 * hypervisor sees a triple fault (tests of how a crash reaches a debugger). */
static void demo_crash(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };
	uart_printf("demo: crashing on purpose\n");
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty_idt));
}

static void report_progress(unsigned vcpu, unsigned long *last_second)
{
	unsigned long second = demo_ticks[vcpu] / DEMO_TIMER_HZ;
	if (second == *last_second)
		return;
	*last_second = second;
	uart_printf("info: vcpu %u items %lu ticks %lu\n", vcpu,
		    demo_items[vcpu], demo_ticks[vcpu]);
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	uint64_t budget = 0;
	int bounded = cmdline_get_u64(cmdline, "budget", &budget) &&
		      !cmdline_has_flag(cmdline, "forever");

	idt_set_handler(GUEST_TIMER_VECTOR, demo_timer);
	if (vcpu == 0) {
		char vendor[13];

		cpu_vendor(vendor);
		uart_printf("info: demo on %u vcpus, %s, cpu %s\n", ncpus,
			    bounded ? "bounded" : "forever", vendor);
	}
	barrier_wait(&demo_barrier);
	lapic_timer_start_periodic(GUEST_TIMER_VECTOR, DEMO_TIMER_HZ);
	irq_enable();

	if (vcpu == 0 && cmdline_has_flag(cmdline, "crash"))
		demo_crash();

	unsigned long last_second = 0;
	for (unsigned long i = 0; !bounded || i < budget; i++) {
		demo_work_item(vcpu, i);
		report_progress(vcpu, &last_second);
	}

	lapic_timer_stop();
	irq_disable();
	uart_printf("info: vcpu %u finished, %lu ticks\n", vcpu, demo_ticks[vcpu]);
	barrier_wait(&demo_barrier);
	if (vcpu != 0)
		return 0;

	unsigned long checksum = 0, items = 0;
	for (unsigned v = 0; v < ncpus; v++) {
		checksum = demo_mix(checksum ^ demo_state[v]);
		items += demo_items[v];
	}
	uart_printf("demo: vcpus %u items %lu checksum 0x%016lx\n", ncpus, items,
		    checksum);
	uart_printf("demo: PASS\n");
	if (cmdline_has_flag(cmdline, "hold_end")) {
		uart_printf("info: holding until demo_release is set\n");
		while (!demo_release)
			cpu_relax();
	}
	return GUEST_EXIT_PASS;
}
