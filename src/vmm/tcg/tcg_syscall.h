/*
 * SYSCALL, emulated: Unicorn 2.1 translates the instruction into a call of
 * its UC_HOOK_INSN hooks and skips it, so every system call of a guest
 * kernel would do nothing (tcg_syscall.c).
 */
#ifndef HVGDB_TCG_SYSCALL_H
#define HVGDB_TCG_SYSCALL_H

#include <stdbool.h>

#include "vmm/tcg/tcg_cpu_internals.h"

/* Inside the UC_HOOK_INSN (UC_X86_INS_SYSCALL) hook, with RIP on the
 * instruction: does what the CPU does (#UD without EFER.SCE). insn_len
 * counts any prefixes; code64: the caller runs 64-bit code (CS.L), so
 * LSTAR rather than CSTAR is the target in long mode. */
void tcg_emulate_syscall(uc_engine *uc, const struct tcg_cpu_ptrs *p,
			 unsigned insn_len, bool code64);

#endif
