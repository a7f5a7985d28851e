/* Guests of test_atomics.c: loaded at SNIP_BASE (0x100000), data at
 * 0x300000 (vmm_test_guest.h), R8 iterations. They run on hvgdb's VMs and
 * on bare Unicorn engines alike (64-bit code, absolute addresses). */
	.section .rodata
	.code64
#define SNIP(name) .globl name##_start, name##_end; name##_start:
#define END(name) name##_end:

/* Every kind of atomic update, R8 times each:
 * 0x300000 lock inc; 0x300008 lock xadd; 0x300010 a lock cmpxchg loop;
 * 0x300020 a plain increment under an xchg spinlock at 0x300018;
 * 0x300030/0x300038 both halves of a cmpxchg16b. */
SNIP(atomix)
1:	lock incq 0x300000
	mov $1, %eax
	lock xaddq %rax, 0x300008
	mov 0x300010, %rax
2:	lea 1(%rax), %rdx
	lock cmpxchgq %rdx, 0x300010
	jnz 2b
3:	mov $1, %eax
	xchgq %rax, 0x300018
	test %rax, %rax
	jz 4f
	pause
	jmp 3b
4:	incq 0x300020
	movq $0, 0x300018	/* release: a plain store (x86 TSO) */
	mov 0x300030, %rax
	mov 0x300038, %rdx
5:	lea 1(%rax), %rbx
	lea 1(%rdx), %rcx
	lock cmpxchg16b 0x300030
	jnz 5b
	dec %r8
	jnz 1b
	hlt
	jmp .
END(atomix)

/* Peterson's lock between two engines, RSI = me (0 or 1), RDI = the
 * other: flags at 0x300080 + 8 * id, turn at 0x300090, a plain counter
 * at 0x300098 incremented in the critical section. Without mfence
 * between the flag store and the other's flag load the host's store
 * buffer lets both in. */
SNIP(peterson)
1:	movq $1, 0x300080(,%rsi,8)
	mov %rdi, 0x300090
	mfence
2:	cmpq $0, 0x300080(,%rdi,8)
	je 3f
	cmp %rdi, 0x300090
	jne 3f
	pause
	jmp 2b
3:	incq 0x300098
	movq $0, 0x300080(,%rsi,8)
	dec %r8
	jnz 1b
	hlt
	jmp .
END(peterson)

/* Locked increments QEMU cannot make with a host atomic (misaligned: a
 * 4-byte counter at 0x300101), next to aligned ones (0x300000). */
SNIP(misaligned)
1:	lock incl 0x300101
	lock incq 0x300000
	dec %r8
	jnz 1b
	hlt
	jmp .
END(misaligned)

/* Tokens passed around by xchg: RAX starts as 1 << RSI (1 or 2), the
 * slot at 0x300300 holds 4 (the test puts it there); R8 times `xchg %rax,
 * 0x300300`, then RAX into 0x300320 + 8 * RSI. An atomic exchange only
 * moves tokens: at the end the slot and both registers hold 1, 2 and 4 in
 * some order. A load and a store that another vCPU's exchange falls
 * between hands one token to both and loses another, for good. Each vCPU
 * raises its flag (0x300310 + 8 * RSI) and waits for the other's first,
 * so that the two loops overlap. */
SNIP(xchg_tokens)
	movq $1, 0x300310(,%rsi,8)
0:	pause
	cmpq $0, 0x300310(,%rdi,8)
	je 0b
	mov $1, %eax
	mov %esi, %ecx
	shl %cl, %rax
1:	xchgq %rax, 0x300300
	dec %r8
	jnz 1b
	mov %rax, 0x300320(,%rsi,8)
	hlt
	jmp .
END(xchg_tokens)

/* A locked access to MMIO (QEMU cannot make it with a host atomic: an
 * exclusive step) while the other vCPU counts. RSI 0: waits for the other's
 * flag at 0x300210, then R8 times `lock incl` at 0xc0000000 (the test's
 * MMIO handler), then 1 into 0x300200. RSI 1: raises the flag, then
 * increments 0x300208 until 0x300200 is set. The handler watches that
 * counter: it must not move while the locked access is in progress. */
SNIP(mmio_lock)
	test %rsi, %rsi
	jnz 2f
0:	pause
	cmpq $0, 0x300210
	je 0b
	mov $0xc0000000, %ebx
1:	lock incl (%rbx)
	dec %r8
	jnz 1b
	movq $1, 0x300200
	hlt
	jmp .
2:	movq $1, 0x300210
3:	incq 0x300208
	cmpq $0, 0x300200
	je 3b
	hlt
	jmp .
END(mmio_lock)

/* lock inc through two aliases of 0x300000's page the test maps, R8 times:
 * (%r9) and (%r10), virtual addresses no physical one matches. */
SNIP(alias_inc)
1:	lock incq (%r9)
	lock incq (%r10)
	dec %r8
	jnz 1b
	hlt
	jmp .
END(alias_inc)

	.section .note.GNU-stack,"",@progbits
