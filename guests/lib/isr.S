/*
 * One 16-byte stub per vector (isr_stubs + 16 * vector), each pushing a dummy
 * error code where the CPU pushes none, then the vector, so isr_common sees
 * one frame layout (struct trap_frame in idt.h).
 */
	.text
	.code64
	.balign 16
	.globl isr_stubs
isr_stubs:
	vec = 0
	.rept 256
	.balign 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	vec = vec + 1
	.endr

	.balign 16
	.type isr_common, @function
isr_common:
	push %rax
	push %rcx
	push %rdx
	push %rbx
	push %rbp
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov 15*8(%rsp), %rdi	/* vector */
	mov 16*8(%rsp), %rsi	/* error code */
	mov %rsp, %rdx		/* struct trap_frame */
	/* Re-align for C in case the delivering hypervisor did not. */
	mov %rsp, %rbx
	and $-16, %rsp
	cld
	call trap_dispatch
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rbp
	pop %rbx
	pop %rdx
	pop %rcx
	pop %rax
	add $16, %rsp
	iretq
	.size isr_common, . - isr_common

	.section .note.GNU-stack, "", @progbits
