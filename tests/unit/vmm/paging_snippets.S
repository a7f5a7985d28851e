/* Guest code for the paging and CPL 3 tests (test_paging.c,
 * test_cpu_modes.c): one snippet, `pg`, loaded at SNIP_BASE, with an entry
 * point per probe. The test sets the registers a probe reads, points RIP
 * at it and runs to the hlt (or to a handler's hlt). Slots: paging_test.h. */
#include "paging_test.h"

	.section .rodata
	.code64
#define SNIP(name) .globl name##_start, name##_end; name##_start:
#define END(name) name##_end:
#define SYM(name, label) .globl name##_##label; name##_##label:

SNIP(pg)
/* ---- Supervisor probes: each ends in hlt; *_end is the RIP after it. */

/* RAX = the u64 at RSI. */
SYM(pg, read)
	mov (%rsi), %rax
	hlt
SYM(pg, read_end)

/* The u64 at RSI = RDX. */
SYM(pg, write)
	mov %rdx, (%rsi)
	hlt
SYM(pg, write_end)

/* Call RSI (code the test wrote: mov $imm, %eax; ret). */
SYM(pg, call)
	call *%rsi
	hlt
SYM(pg, call_end)

/* The u64 at RSI = RDX with CR0.WP cleared for that one store. */
SYM(pg, write_wp0)
	mov %cr0, %rax
	btr $16, %rax
	mov %rax, %cr0
	mov %rdx, (%rsi)
	bts $16, %rax
	mov %rax, %cr0
	hlt
SYM(pg, write_wp0_end)

/* CR3 = RSI. */
SYM(pg, write_cr3)
	mov %rsi, %cr3
	hlt
SYM(pg, write_cr3_end)

/* Remaps: the PTE at RDI (a guest-physical address, identity-mapped) is
 * set to RDX between the first and second access to RSI, and the
 * translation dropped before the third: R8, R9, R10 = the three values. */
SYM(pg, remap_read_invlpg)
	mov (%rsi), %r8
	mov %rdx, (%rdi)
	mov (%rsi), %r9
	invlpg (%rsi)
	mov (%rsi), %r10
	hlt
SYM(pg, remap_read_invlpg_end)

SYM(pg, remap_read_cr3)
	mov (%rsi), %r8
	mov %rdx, (%rdi)
	mov (%rsi), %r9
	mov %cr3, %rbx
	mov %rbx, %cr3
	mov (%rsi), %r10
	hlt
SYM(pg, remap_read_cr3_end)

SYM(pg, remap_call_invlpg)
	call *%rsi
	mov %rax, %r8
	mov %rdx, (%rdi)
	call *%rsi
	mov %rax, %r9
	invlpg (%rsi)
	call *%rsi
	mov %rax, %r10
	hlt
SYM(pg, remap_call_invlpg_end)

SYM(pg, remap_call_cr3)
	call *%rsi
	mov %rax, %r8
	mov %rdx, (%rdi)
	call *%rsi
	mov %rax, %r9
	mov %cr3, %rbx
	mov %rbx, %cr3
	call *%rsi
	mov %rax, %r10
	hlt
SYM(pg, remap_call_cr3_end)

/* Code rewritten through another alias: call RSI (R8), store RDX (eight
 * bytes of new code) at RDI, call RSI again (R9). */
SYM(pg, patch_through_alias)
	call *%rsi
	mov %rax, %r8
	mov %rdx, (%rdi)
	call *%rsi
	mov %rax, %r9
	hlt
SYM(pg, patch_through_alias_end)

/* ---- Handlers (interrupt gates): record, then hlt. RAX is kept. ---- */

/* Frame after the push: error code 8(%rsp), RIP 16, CS 24, RFLAGS 32,
 * RSP 40, SS 48. */
SYM(pg, pf_handler)
	push %rax
	incq SLOT(PF_COUNT)
	mov 8(%rsp), %rax
	mov %rax, SLOT(PF_ERROR)
	mov %cr2, %rax
	mov %rax, SLOT(PF_CR2)
	mov 16(%rsp), %rax
	mov %rax, SLOT(PF_RIP)
	mov 24(%rsp), %rax
	mov %rax, SLOT(PF_CS)
	mov 48(%rsp), %rax
	mov %rax, SLOT(PF_SS)
	lea 8(%rsp), %rax
	mov %rax, SLOT(PF_FRAME)
	pop %rax
	hlt
	jmp .

SYM(pg, gp_handler)
	movq $13, SLOT(EXC_VECTOR)
	popq SLOT(EXC_ERROR)
	jmp 1f
SYM(pg, ud_handler)
	movq $6, SLOT(EXC_VECTOR)
1:	push %rax
	mov 8(%rsp), %rax
	mov %rax, SLOT(EXC_RIP)
	mov 16(%rsp), %rax
	mov %rax, SLOT(EXC_CS)
	pop %rax
	hlt
	jmp .

/* ---- CPL 3 ---------------------------------------------------------- */

/* iretq to CPL 3 at RSI with RSP = R12 and RFLAGS = 2; the other
 * registers reach the user code as they are. */
SYM(pg, enter_user)
	pushq $USER_SS
	pushq %r12
	pushq $2
	pushq $USER_CS
	pushq %rsi
	iretq

/* The system call set-up (STAR, LSTAR, SFMASK), then enter_user. EFER.SCE
 * and the GS bases are the test's to set. */
SYM(pg, syscall_setup)
	mov $MSR_STAR, %ecx
	xor %eax, %eax
	mov $((USER_BASE << 16) | KERNEL_CS), %edx
	wrmsr
	mov $MSR_LSTAR, %ecx
	lea pg_syscall_entry(%rip), %rax
	mov %rax, %rdx
	shr $32, %rdx
	wrmsr
	mov $MSR_SFMASK, %ecx
	mov $SFMASK_TF_IF_DF, %eax
	xor %edx, %edx
	wrmsr
	jmp pg_enter_user

/* LSTAR. The first call (RAX = 1) records what the CPU handed over and
 * returns with sysret; the second (RAX = 2) stops. Every record goes
 * through %gs after swapgs: without the swap it would land in the user's
 * page, not in the test's slots. */
SYM(pg, syscall_entry)
	swapgs
	incq %gs:KPC_CALLS
	cmp $2, %rax
	je 2f
	mov %rcx, %gs:KPC_RCX
	mov %r11, %gs:KPC_R11
	mov %rsp, %gs:KPC_USER_RSP
	mov %gs:KPC_STACK, %rsp
	pushfq
	popq %gs:KPC_RFLAGS
	mov %cs, %rbx
	mov %rbx, %gs:KPC_CS
	mov %ss, %rbx
	mov %rbx, %gs:KPC_SS
	mov %gs:KPC_USER_RSP, %rsp
	swapgs
	sysretq
2:	incq %gs:KPC_EXITS
	hlt
	jmp .

/* The rest runs at CPL 3, through a user alias of this snippet's pages. */

/* RAX = the u64 at RDI, then #UD (ud_handler stops). */
SYM(pg, user_read)
	mov (%rdi), %rax
	ud2
/* The u64 at RDI = RDX, then #UD. */
SYM(pg, user_write)
	mov %rdx, (%rdi)
	ud2
/* RAX = CS, RBX = SS as the task sees them; then hlt, privileged: #GP. */
SYM(pg, user_hlt)
	mov %cs, %rax
	mov %ss, %rbx
SYM(pg, user_hlt_insn)
	hlt
	jmp .
/* Two system calls: R12 = %gs:0 before, R13 = RFLAGS after the sysret,
 * R14 = CS after it, R15 = %gs:0 after it (the user's GS base again). */
SYM(pg, user_syscalls)
	mov %gs:0, %r12
	std
	mov $1, %eax
SYM(pg, user_syscall)
	syscall
SYM(pg, user_after_syscall)
	pushfq
	pop %r13
	cld
	mov %cs, %r14
	mov %gs:0, %r15
	mov $2, %eax
	syscall
	jmp .
END(pg)

	.section .note.GNU-stack,"",@progbits
