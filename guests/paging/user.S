/*
 * The user task (CPL 3) and the kernel's doors into and out of it.
 *
 * user_text_page is one page of the image, mapped for user access at
 * VA_USER_CODE; the task never runs at its linked address. It reports what it
 * sees through SYS_NOTE system calls and touches three pages it may not, each
 * at a *_insn label the kernel's #PF handler knows (faults.c).
 */
#include "layout.h"

	.section .text.user, "ax"
	.code64
	.balign 4096
	.globl user_text_page
user_text_page:
	.type user_main, @function
user_main:
	/* Which segments did iretq give us? CS and SS with RPL 3. */
	mov %cs, %esi
	mov $NOTE_CS, %edi
	mov $SYS_NOTE, %eax
	syscall
	mov %ss, %esi
	mov $NOTE_SS, %edi
	mov $SYS_NOTE, %eax
	syscall

	/* The GS base is ours (the kernel put a marker at VA_USER_DATA + 0),
	 * although the kernel's entry ran swapgs in between. */
	mov %gs:0, %rsi
	mov $NOTE_GS_BEFORE, %edi
	mov $SYS_NOTE, %eax
	syscall

	/* A system call with DF set: SFMASK clears DF for the kernel, R11
	 * carries our RFLAGS, and sysret puts them back. */
	std
	mov $NOTE_DF_CALL, %edi
	xor %esi, %esi
	mov $SYS_NOTE, %eax
	syscall
	.globl user_after_df_syscall
user_after_df_syscall:
	pushfq
	pop %rsi
	cld
	mov $NOTE_RFLAGS_AFTER, %edi
	mov $SYS_NOTE, %eax
	syscall
	mov %gs:0, %rsi
	mov $NOTE_GS_AFTER, %edi
	mov $SYS_NOTE, %eax
	syscall

	/* A supervisor page: #PF with U set; the kernel skips the load. */
	movabs $VA_USER_SUPER, %rbx
	.globl user_read_super_insn, user_read_super_fixup
user_read_super_insn:
	mov (%rbx), %rax
user_read_super_fixup:
	/* Still in user mode after the kernel's iretq? */
	mov %cs, %esi
	mov $NOTE_CS_AFTER_PF, %edi
	mov $SYS_NOTE, %eax
	syscall

	/* A read-only user page: #PF with P, W and U. */
	movabs $VA_USER_RO, %rbx
	.globl user_write_ro_insn, user_write_ro_fixup
user_write_ro_insn:
	movq $1, (%rbx)
user_write_ro_fixup:

	/* A not-present page: #PF with U only. */
	movabs $VA_USER_NP, %rbx
	.globl user_read_np_insn, user_read_np_fixup
user_read_np_insn:
	mov (%rbx), %rax
user_read_np_fixup:

	/* Our own data page works (the kernel put a value at +8). */
	movabs $VA_USER_DATA, %rbx
	mov 8(%rbx), %rsi
	mov $NOTE_USER_DATA, %edi
	mov $SYS_NOTE, %eax
	syscall

	mov $SYS_EXIT, %eax
	syscall
	ud2			/* SYS_EXIT never returns */
	.size user_main, . - user_main
	.if . - user_text_page > 4096
	.error "the user task must fit in its one page"
	.endif

	.text
	/*
	 * void enter_user(uint64_t rip, uint64_t rsp, struct percpu *pc):
	 * runs the task at CPL 3 until it makes SYS_EXIT, then returns.
	 * Kernel entries from user mode (syscall here, #PF through TSS.RSP0)
	 * run on this vCPU's stack below the registers saved here.
	 */
	.globl enter_user
	.type enter_user, @function
enter_user:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, PERCPU_SAVED_RSP(%rdx)
	mov %rsp, PERCPU_KERNEL_RSP(%rdx)
	mov PERCPU_TSS_RSP0(%rdx), %rax
	mov %rsp, (%rax)
	/* The frame an interrupt from user mode would have pushed. */
	pushq $SEL_USER_DATA	/* ss */
	push %rsi		/* rsp */
	pushq $0x2		/* rflags: IF clear */
	pushq $SEL_USER_CODE	/* cs */
	push %rdi		/* rip */
	iretq
	.size enter_user, . - enter_user

	/*
	 * LSTAR. syscall left RCX = the user's RIP, R11 = the user's RFLAGS,
	 * RFLAGS &= ~SFMASK, CS/SS from STAR, and RSP untouched: the user's
	 * stack must not be used, so swapgs first to reach this vCPU's
	 * struct percpu through GS.
	 */
	.globl syscall_entry
	.type syscall_entry, @function
syscall_entry:
	swapgs
	mov %rsp, %gs:PERCPU_USER_RSP
	mov %gs:PERCPU_KERNEL_RSP, %rsp
	pushfq
	pop %r9			/* entry RFLAGS (after SFMASK) */
	push %rcx
	push %r11
	sub $8, %rsp		/* 16-byte alignment for C */
	/* syscall_dispatch(nr, arg0, arg1, user_rip, user_rflags, entry_rflags) */
	mov %rsi, %rdx
	mov %rdi, %rsi
	mov %rax, %rdi
	mov %r11, %r8
	call syscall_dispatch
	add $8, %rsp
	pop %r11
	pop %rcx
	test %rax, %rax
	jnz 1f
	mov %gs:PERCPU_USER_RSP, %rsp
	swapgs
	sysretq
1:	/* SYS_EXIT: back into enter_user's frame, on to its caller. */
	mov %gs:PERCPU_SAVED_RSP, %rsp
	swapgs
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size syscall_entry, . - syscall_entry

	.section .note.GNU-stack, "", @progbits
