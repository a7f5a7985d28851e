/*
 * Spinning instead of sleeping, for the few places where the thread waited
 * for usually comes back within microseconds: a host thread wake-up costs
 * ~60-100 us here, a large part of a debugger round trip.
 */
#ifndef HVGDB_GDBSTUB_SPIN_WAIT_H
#define HVGDB_GDBSTUB_SPIN_WAIT_H

#include <stdbool.h>

#include "sync/checked_mutex.h"

/* How long the server (after a resume) and the vCPU whose event stopped the
 * VM poll before they sleep: a debugger script's next round trip usually
 * comes within it, and a host thread wake-up costs ~60-100 us here. */
#define GDB_SPIN_NS 1500000LL
/* CLOCK_MONOTONIC in ns, for those spin bounds. */
long long gdb_monotonic_ns(void);
/* Whether the calling thread may spin at all: only while the host has a
 * CPU to spare, so the thread it waits for can run meanwhile. */
bool gdb_spin_pays(void);
/* Around every spin loop: gdb_spin_pays does not count our own spinners
 * as the host's load. */
void gdb_spin_begin(void);
void gdb_spin_end(void);
/* One pause of a spin loop (the CPU's hint, where there is one). */
void gdb_cpu_relax(void);
/* Takes `lock` without sleeping until `until` (then as usual): within a spin
 * window a holder keeps it for a microsecond or two, and a futex sleep
 * would cost the very wake-up the spin is there to avoid. */
void gdb_lock_spinning(struct checked_mutex *lock, long long until);

#endif
