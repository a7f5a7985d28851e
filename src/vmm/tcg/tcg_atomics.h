/*
 * Guest atomics that stay atomic when several engines run at once
 * (tcg_atomics.c): lock-prefixed instructions, xchg with memory,
 * cmpxchg8b/16b and mfence compiled as QEMU compiles them for a parallel
 * (multi-threaded TCG) context.
 */
#ifndef HVGDB_TCG_ATOMICS_H
#define HVGDB_TCG_ATOMICS_H

#include <stdbool.h>
#include <stddef.h>

struct tcg_vcpu;

/* The start-up self-test, on a scratch engine (tcg_cpu_internals_check
 * runs it): 0, or -1 with one line in err. */
int tcg_atomics_selftest(char *err, size_t errlen);

/* Before each engine entry: an engine with data watches (the debugger's
 * or the guest's own debug registers) translates serially, so that its
 * locked accesses go through the watch checks; a change of mode drops
 * the engine's translations. */
void tcg_atomics_before_entry(struct tcg_vcpu *t);

/* Around the entry that runs, alone, the one instruction an EXCP_ATOMIC
 * stopped at (a misaligned or MMIO locked access): blocks translated
 * meanwhile are serial, and dropped at the end. */
void tcg_atomics_serial_begin(void);
void tcg_atomics_serial_end(void);

/* Translations made so far on this thread, and how many of them with
 * CF_PARALLEL (for tests and the self-test). */
unsigned long tcg_atomics_translations(void);
unsigned long tcg_atomics_parallel_translations(void);
/* Lookups answered for notdirty_write's call site (guest RAM's region). */
unsigned long tcg_atomics_notdirty_lookups(void);

#endif
