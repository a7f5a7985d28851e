/*
 * Common 64-bit entry, reached by every vCPU: directly from hvgdb, or from the
 * PVH path under QEMU (pvh.S), with rdi = vCPU index, rsi = vCPU count,
 * rdx = RAM size, rcx = command line (or 0), interrupts off.
 */
#include "config.h"

	.section .text.entry, "ax"
	.code64
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	cmp $GUEST_MAX_CPUS, %rdi
	jae .Lpark		/* no stack for it: park before touching memory */

	/* Stacks live outside the BSS so the BSP can zero it while APs run. */
	mov %rdi, %rax
	inc %rax
	imul $GUEST_STACK_SIZE, %rax
	lea guest_stacks(%rip), %rsp
	add %rax, %rsp
	xor %ebp, %ebp

	test %rdi, %rdi
	jnz .Lcall_c
	mov %rdi, %r12
	mov %rcx, %r13
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	mov %r12, %rdi
	mov %r13, %rcx
.Lcall_c:
	call runtime_start
.Lpark:
	cli
	hlt
	jmp .Lpark
	.size _start, . - _start

	.section .guest_stacks, "aw", @nobits
	.balign 4096
	.globl guest_stacks
guest_stacks:
	.skip GUEST_MAX_CPUS * GUEST_STACK_SIZE
	.globl guest_stacks_end
guest_stacks_end:

	.section .note.GNU-stack, "", @progbits
