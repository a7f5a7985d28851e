/*
 * The paging guest's "debug" mode: no checks, but a loop for a debugger to
 * work on (tests/e2e/gdb/debug_paging.py). It runs code through virtual
 * addresses whose physical address differs, keeps one code page at two
 * virtual addresses, remaps a code address when the debugger asks, and
 * maps one of its own page tables so that a debugger write can rewrite the
 * very translation it goes through.
 */
#ifndef PAGING_DEBUG_TARGET_H
#define PAGING_DEBUG_TARGET_H

#include "address_space.h"

/* Never returns. vCPU 0 runs the loop; the others idle. */
void debug_target_run(unsigned vcpu, struct address_space *as);

#endif
