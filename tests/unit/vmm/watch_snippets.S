/* Tiny guests for the watchpoint and debug-register tests (test_watch.c,
 * test_guest_debug.c). They load at SNIP_BASE (0x100000) and use data at
 * 0x300000.. (vmm_test_guest.h). */
	.section .rodata
	.code64
#define SNIP(name) .globl name##_start, name##_end; name##_start:
#define END(name) name##_end:
#define SYM(name, label) .globl name##_##label; name##_##label:

/* lock inc of 0x300008, RCX times. Compiled for parallel vCPUs a locked
 * access goes straight to a host atomic, past QEMU's watch check. */
SNIP(wlocked)
1:	lock incq 0x300008
SYM(wlocked, after)
	dec %rcx
	jnz 1b
	hlt
	jmp .
END(wlocked)

/* Three stores in a row; the tests watch the second. */
SNIP(wstore)
	movq $1, 0x300000
SYM(wstore, second)
	movq $2, 0x300008
SYM(wstore, after)
	movq $3, 0x300010
	hlt
	jmp .
END(wstore)

/* A load of 0x300008 into RAX, kept at 0x300010; then a store to it. */
SNIP(wload)
	mov 0x300008, %rax
SYM(wload, after)
	mov %rax, 0x300010
	movq $7, 0x300008
SYM(wload, after_store)
	hlt
	jmp .
END(wload)

/* A 4-byte store to 0x300001..0x300004 (unaligned, inside one page). */
SNIP(wunaligned)
	movl $0x11223344, 0x300001
SYM(wunaligned, after)
	hlt
	jmp .
END(wunaligned)

/* RAX counts the instructions at `mid` and after it ran; a backward loop
 * (RCX times) runs `mid` again and again. */
SNIP(wexec)
	inc %rax
SYM(wexec, mid)
	inc %rax
	inc %rax
	dec %rcx
	jnz wexec_mid
	hlt
	jmp .
END(wexec)

/* Two blocks that jump to each other RCX times, each counting: RAX and
 * RBX must both end at the count, however often the engine stops. */
SNIP(pingpong)
1:	inc %rax
	jmp 2f
	.skip 32, 0x90
2:	inc %rbx
	dec %rcx
	jnz 1b
	hlt
	jmp .
END(pingpong)

/* vCPU n (RDI) stores RCX times to its own slot 0x300000 + 8n. */
SNIP(wpercpu)
1:	mov %rcx, 0x300000(,%rdi,8)
SYM(wpercpu, after)
	dec %rcx
	jnz 1b
	hlt
	jmp .
END(wpercpu)

/* A store through the alias at 4 GiB + 0x300000 of 0x300000. */
SNIP(walias)
	movabs $0x100300000, %rbx
	movq $5, (%rbx)
SYM(walias, after)
	movq $6, 0x300000
SYM(walias, after_direct)
	hlt
	jmp .
END(walias)

/* A push whose stack slot the tests watch (RSP is set to 0x300030). */
SNIP(wpush)
	push $9
SYM(wpush, after)
	hlt
	jmp .
END(wpush)

/* int3 into a handler: the interrupt frame is pushed by the delivery, not
 * by an instruction (RSP is set to 0x300040). */
SNIP(wdeliver)
	int3
	hlt
	jmp .
SYM(wdeliver, handler)
	nop
	iretq
END(wdeliver)

/* movsq from 0x300000 (the tests watch its reads) to 0x600000, whose
 * 2 MiB page the test makes not present: the load, then #PF on the store;
 * the handler maps the page again (PDE 3 at 0x4018) and counts at
 * 0x300100, and the movsq runs again. */
SNIP(wfault)
	movabs $0x1122334455667788, %rax
	mov %rax, 0x300000
	mov $0x300000, %esi
	mov $0x600000, %edi
	cld
	movsq
SYM(wfault, after)
	hlt
	jmp .
SYM(wfault, pf_handler)
	movq $0x600083, 0x4018
	invlpg 0x600000
	incq 0x300100
	add $8, %rsp		/* the error code */
	iretq
END(wfault)

/* ---- The guest's own debug registers -------------------------------------- */

/* #DB handler for the DR snippets: counts at 0x300100, keeps each return
 * RIP at 0x300108 + 16n and DR6 at 0x300110 + 16n (n < 4), clears DR6's
 * B bits, and sets RF in the frame after an instruction breakpoint (B0:
 * DR0 is the one programmed for execution) so its instruction runs. */
#define DB_HANDLER(name)		\
SYM(name, db_handler);			\
	push %rax;			\
	push %rbx;			\
	mov 0x300100, %rbx;		\
	shl $4, %rbx;			\
	mov 16(%rsp), %rax;		\
	mov %rax, 0x300108(%rbx);	\
	mov %dr6, %rax;			\
	mov %rax, 0x300110(%rbx);	\
	incq 0x300100;			\
	test $1, %al;			\
	jz 1f;				\
	orq $0x10000, 32(%rsp);		\
1:	and $~0xf, %rax;		\
	mov %rax, %dr6;			\
	pop %rbx;			\
	pop %rax;			\
	iretq

/* DR0 = `target` (execute), then the code through it: `target` must run
 * once, after one #DB at it. */
SNIP(drexec)
	movabs $0x100000 + (drexec_target - drexec_start), %rax
	mov %rax, %dr0
	mov $0x1, %eax		/* L0, R/W0 00 (execute), LEN0 00 */
	mov %rax, %dr7
	nop
SYM(drexec, target)
	incq 0x300000
	incq 0x300000
	hlt
	jmp .
	DB_HANDLER(drexec)
END(drexec)

/* DR1 = 0x300040, write, 4 bytes: a #DB after the store, before `after`. */
SNIP(drwrite)
	mov $0x300040, %eax
	mov %rax, %dr1
	mov $0x00d00004, %eax	/* L1, R/W1 01 (write), LEN1 11 (4) */
	mov %rax, %dr7
	movq $0, 0x300048	/* outside the 4 bytes: no #DB */
	movl $0xabcd, 0x300040
SYM(drwrite, after)
	mov 0x300040, %rax	/* a read: no #DB for a write breakpoint */
	hlt
	jmp .
	DB_HANDLER(drwrite)
END(drwrite)
/* No debug register set by the guest: the test, as a debugger, arms DR0
 * on `target` and DR1 on the store between runs, after the code was
 * translated. */
SNIP(drlate)
SYM(drlate, target)
	incq 0x300000
	movl $0xabcd, 0x300040
SYM(drlate, after_store)
	hlt
	jmp drlate_target
	DB_HANDLER(drlate)
END(drlate)
	.section .note.GNU-stack,"",@progbits
