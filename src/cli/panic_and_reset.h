/*
 * How a kernel boot ends when the guest itself says so, other than by
 * powering off (ACPI S5, status 0):
 *
 *   a reset (the 8042's reset line)   the VM ends with status 0, as QEMU's
 *                                     -no-reboot: hvgdb does not reboot
 *   a reset after a kernel panic      a crash, status 3 (Linux's panic=N,
 *   (Linux's panic=N, N != 0)         N != 0, reboots after the panic)
 *   "---[ end Kernel panic" on the    a crash, status 3 (Linux's panic=0
 *   console (Linux's panic=0)         spins with interrupts on for ever)
 *
 * The panic is read from the console output (panic_watch.h). A crash goes
 * through vm_declare_guest_dead on the vCPU that printed or reset: one line
 * on stderr, and with a debugger attached a SIGSEGV stop there first.
 *
 * Lock order: serial port -> UART -> this module's lock (a leaf but for
 * vm_declare_guest_dead, which takes the vCPU mutex: last in the chain).
 */
#ifndef HVGDB_CLI_PANIC_AND_RESET_H
#define HVGDB_CLI_PANIC_AND_RESET_H

#include <pthread.h>

#include "cli/panic_watch.h"
#include "hvgdb/vmm.h"
#include "sync/checked_mutex.h"

struct serial_port;

struct panic_and_reset {
	struct vm *vm;
	struct serial_port *serial;
	struct checked_mutex lock; /* the watch: console output and resets race */
	struct panic_watch watch;
	bool ready;
};

/* Start reading sp's output for vm. 0 or -errno. */
int panic_and_reset_start(struct panic_and_reset *pr, struct vm *vm,
			  struct serial_port *sp);
/* Stop reading the output. Safe on a zeroed or stopped one. */
void panic_and_reset_stop(struct panic_and_reset *pr);
/* pc_platform's cpu_reset: the guest pulsed the reset line. */
void panic_and_reset_cpu_reset(void *ctx, int vcpu);

#endif
