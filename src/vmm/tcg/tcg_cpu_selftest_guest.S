/*
 * The guest of the start-up self-test (tcg_cpu_selftest.c): a few
 * instructions that exercise every Unicorn internal hvgdb relies on for
 * event delivery. Copied to SELFTEST_CODE in a scratch engine; the harness
 * sets up the GDT, page tables, IDT, TSS and MSRs and checks the results
 * this code leaves at SELFTEST_RESULTS (offsets R_* below, shared with the
 * C side through tcg_cpu_selftest.h).
 */
#include "vmm/tcg/tcg_cpu_selftest.h"

	.section .rodata
	.code64
	.globl tcg_selftest_guest_start, tcg_selftest_guest_end
	.globl tcg_selftest_pf, tcg_selftest_ext, tcg_selftest_int31
	.globl tcg_selftest_df, tcg_selftest_gp, tcg_selftest_syscall
	.globl tcg_selftest_after_syscall, tcg_selftest_triple

#define R(x) (SELFTEST_RESULTS + (x))

tcg_selftest_guest_start:
	/* The harness raises vector 0x30 before this first instruction. */
	movq $1, R(R_STARTED)
	/* Two page faults in a row: a write and a read of not-present
	 * pages. With QEMU's exception record left behind, the second
	 * would arrive as #DF. */
	movq $0x1234, SELFTEST_FAULT_VA
	movq SELFTEST_FAULT_VA + 0x1000, %rax
	/* To user mode and back through an interrupt gate and syscall. */
	pushq $SELFTEST_USER_DS
	pushq $SELFTEST_USER_STACK
	pushq $2
	pushq $SELFTEST_USER_CS
	lea user_code(%rip), %rax
	pushq %rax
	iretq
user_code:
	int $0x31
	mov $1, %eax
	syscall
tcg_selftest_after_syscall:
	mov %cs, %ax
	movw %ax, R(R_USER_CS_AFTER_SYSRET)
	mov $2, %eax
	syscall

/* SYSCALL entry (LSTAR): rax 1 returns with sysret, rax 2 halts. */
tcg_selftest_syscall:
	mov %cs, %bx
	movw %bx, R(R_SYSCALL_CS)
	mov %ss, %bx
	movw %bx, R(R_SYSCALL_SS)
	incq R(R_SYSCALLS)
	cmp $2, %eax
	je 1f
	mov %rcx, R(R_SYSCALL_RCX)
	sysretq
1:	hlt

/* #PF: record error code and CR2, map the page, retry. */
tcg_selftest_pf:
	pop %rax
	mov R(R_PF_COUNT), %rbx
	mov %rax, R(R_PF_ERR)(,%rbx,8)
	mov %cr2, %rax
	mov %rax, R(R_PF_CR2)(,%rbx,8)
	incq R(R_PF_COUNT)
	shr $12, %rax
	and $511, %rax
	mov %rax, %rcx
	shl $12, %rcx
	add $SELFTEST_FAULT_BACKING | 7, %rcx
	mov %rcx, SELFTEST_PT(,%rax,8)
	iretq

/* The injected external interrupt. */
tcg_selftest_ext:
	incq R(R_EXT)
	iretq

/* int $0x31 from CPL 3: the frame's CS, and ours. */
tcg_selftest_int31:
	mov 8(%rsp), %rax
	mov %rax, R(R_INT31_FRAME_CS)
	mov %cs, %ax
	movw %ax, R(R_INT31_CS)
	iretq

tcg_selftest_df:
	incq R(R_DF)
	hlt

tcg_selftest_gp:
	incq R(R_GP)
	hlt

/* Run with an empty IDT: #UD, then #GP, then #DF cannot be delivered. */
tcg_selftest_triple:
	ud2
tcg_selftest_guest_end:

	.section .note.GNU-stack,"",@progbits
