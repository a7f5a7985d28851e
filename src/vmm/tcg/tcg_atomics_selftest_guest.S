/*
 * The guest of the atomics self-test (tcg_atomics.c), run on a scratch
 * engine in 64-bit mode, RBX pointing at 64 zeroed bytes of data except
 * 8(%rbx), which the harness sets to 7. Without paging but for the last
 * part (tcg_atomics_guest_alias).
 */
	.section .rodata
	.code64
	.globl tcg_atomics_guest_start, tcg_atomics_guest_end
	.globl tcg_atomics_guest_misaligned, tcg_atomics_guest_alias

tcg_atomics_guest_start:
	lock incq (%rbx)	/* (%rbx) = 1 */
	mov $5, %eax
	xchg %rax, 8(%rbx)	/* 8(%rbx) = 5, RAX = 7: the xchg helper */
	mov %rax, 16(%rbx)	/* 16(%rbx) = 7 */
	mfence
	hlt
tcg_atomics_guest_misaligned:
	/* A locked access across a 4-byte boundary: QEMU cannot do it with
	 * a host atomic and asks for an exclusive step (EXCP_ATOMIC). */
	lock incl 33(%rbx)
	hlt
tcg_atomics_guest_alias:
	/* With paging on (the harness builds it): 48(%rbx) through its alias
	 * 1 GiB higher, far above the scratch RAM, so that no physical
	 * address matches the virtual one. */
	lea 48(%rbx), %rcx
	add $0x40000000, %rcx
	lock incq (%rcx)
	hlt
tcg_atomics_guest_end:

	.section .note.GNU-stack,"",@progbits
