/*
 * Ends a guest that can never run again: every vCPU asleep in hlt with
 * interrupts off (cli; hlt), which only an NMI or an INIT could wake, and
 * none of hvgdb's devices sends those unbidden; an application processor
 * still waiting for its STARTUP IPI counts as asleep too (only another
 * vCPU could start it: a kernel that never starts it and dies). A kernel's last resort
 * after a fatal error, Linux's `halt`, and a test guest's end without the
 * exit device all look so; without this the VM would sleep for ever.
 *
 * A thread samples the vCPUs every HALT_WATCH_PERIOD_MS (vm_get_vcpu_info)
 * and declares the guest dead (vm_declare_guest_dead on vCPU 0: status 3,
 * or a SIGSEGV stop when a debugger is attached) when two samples in a row
 * find every vCPU so, none of them having run in between (an NMI that
 * woke one would show). vCPUs a debugger holds are not asleep in hlt:
 * nothing is declared while it holds any. Not considered: an IO-APIC pin
 * programmed for NMI delivery, which no PC kernel uses to wake a halted
 * CPU.
 */
#ifndef HVGDB_CLI_HALT_WATCH_H
#define HVGDB_CLI_HALT_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "hvgdb/vmm.h"
#include "sync/timer_thread.h"

#define HALT_WATCH_PERIOD_MS 200

struct halt_watch {
	struct vm *vm;
	/* The thread's own: the next sample (monotonic ns; UINT64_MAX once
	 * the guest is declared dead) and what the last one found. */
	uint64_t next_sample_ns;
	bool seen_dead;
	uint64_t seen_runs;
	struct timer_thread thread;
};

/* 0 or -errno. */
int halt_watch_start(struct halt_watch *w, struct vm *vm);
/* Ends and joins the thread (no-op if not running). Before vm_destroy. */
void halt_watch_stop(struct halt_watch *w);

#endif
