/*
 * The guest runtime: what every test guest sees. The runtime's 64-bit entry
 * (entry64.S, reached directly under hvgdb and through the PVH path under
 * QEMU) sets a per-vCPU stack, zeroes the BSS once on the BSP, installs the
 * IDT, enables the local APIC and calls guest_main on every vCPU.
 */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdint.h>

#include "config.h"

/* Keeps a function a real, separately named symbol (gdb tests break on it). */
#if defined(__clang__)
#define GUEST_NOINLINE __attribute__((noinline, used))
#else
#define GUEST_NOINLINE __attribute__((noinline, noclone, used))
#endif

/* Vector the guests use for their periodic LAPIC timer. */
#define GUEST_TIMER_VECTOR 0x40

/* Exit values for guest_exit: hvgdb and QEMU exit with (v << 1) | 1. */
#define GUEST_EXIT_PASS 0
#define GUEST_EXIT_FAIL 1
#define GUEST_EXIT_FAULT 2 /* unexpected exception or interrupt */
#define GUEST_EXIT_BOOT 3  /* the runtime itself could not start */

/*
 * Provided by each guest. Runs on every vCPU (vcpu 0 = BSP) with interrupts
 * off. The BSP's return value is the exit value; APs that return halt.
 */
int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline);

/* Index of the calling vCPU, derived from its stack (valid in handlers). */
unsigned cpu_self(void);
unsigned cpu_count(void);

/* First byte of RAM past the image, free for the guest (page aligned). */
uintptr_t guest_free_memory(void);
uint64_t guest_ram_size(void);

/* Ends the VM through the exit device; never returns. */
_Noreturn void guest_exit(unsigned value);
/* Stops this vCPU for good (interrupts off). */
_Noreturn void cpu_halt_forever(void);

#endif
