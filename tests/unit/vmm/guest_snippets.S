/* Tiny guests for the vmm tests. Each loads at SNIP_BASE (0x100000) and
 * uses absolute data addresses in 0x300000.. (see vmm_test_guest.h). */
	.section .rodata
	.code64
#define SNIP(name) .globl name##_start, name##_end; name##_start:
#define END(name) name##_end:
#define SYM(name, label) .globl name##_##label; name##_##label:

/* lock inc a shared counter RCX times, then hlt */
SNIP(lockinc)
1:	lock incq 0x300000
	dec %rcx
	jnz 1b
	hlt
	jmp .
END(lockinc)

/* Five increments of RAX with a short forward jump among them, then hlt:
 * however it is stepped and run, RAX must end at 5 (a block left compiled
 * with a step's hook re-runs its first instructions). */
SNIP(count)
	inc %rax
	inc %rax
	jmp 1f
1:	inc %rax
	inc %rax
	inc %rax
	hlt
	jmp .
END(count)

/* int3, then record that we got past it; #BP handler stores return RIP */
SNIP(bpt)
	nop
SYM(bpt, int3)
	int3
	movq $1, 0x300010
	hlt
SYM(bpt, handler)
	mov (%rsp), %rax
	mov %rax, 0x300008
	incq 0x300018
	iretq
END(bpt)

/* LAPIC one-shot timer at vector 0x40, sleep in hlt, exit via port 0xf4.
 * The flag is tested with interrupts off and `sti; hlt` sleeps (sti's
 * shadow covers the hlt): an interrupt between the test and the hlt
 * would otherwise leave the vCPU asleep for good (a host that is slow
 * between the arming and the hlt lets the 200 us pass; seen: a hang). */
SNIP(timer)
	mov $0xfee00000, %esi
	movl $0x1ff, 0x0f0(%rsi)
	movl $0xb, 0x3e0(%rsi)
	movl $0x40, 0x320(%rsi)
	movl $200000, 0x380(%rsi)
1:	cli
	cmpq $0, 0x300000
	jne 2f
	sti
	hlt
	jmp 1b
2:	mov $0x21, %al
	out %al, $0xf4
	jmp .
SYM(timer, handler)
	mov $0xfee00000, %esi
	incq 0x300000
	movl $0, 0x0b0(%rsi)
	iretq
END(timer)

/* x2APIC mode through IA32_APIC_BASE, then the TSC-deadline timer
 * (vector 0x40) armed at rdtsc + 200 us (deadline in 0x300018), sleep in
 * hlt. The timer's handler counts (0x300000), stores its rdtsc (0x300020)
 * and IA32_TSC_DEADLINE (0x300010), EOIs through the EOI MSR and sends a
 * SELF IPI (vector 0x42); that one's handler counts (0x300008). Then exit
 * via port 0xf4. The same cli-test-sti;hlt loop as `timer`: the deadline
 * may pass before the hlt on a slow host. */
SNIP(x2timer)
	mov $0x1b, %ecx
	rdmsr
	or $0xc00, %eax
	wrmsr
	xor %edx, %edx
	mov $0x80f, %ecx /* SVR: enabled, spurious 0xff */
	mov $0x1ff, %eax
	wrmsr
	mov $0x832, %ecx /* LVT timer: TSC-deadline mode, vector 0x40 */
	mov $0x40040, %eax
	wrmsr
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	add $200000, %rdx
	mov %rdx, 0x300018
	mov %edx, %eax
	shr $32, %rdx
	mov $0x6e0, %ecx
	wrmsr
1:	cli
	cmpq $0, 0x300008
	jne 2f
	sti
	hlt
	jmp 1b
2:	mov $0x22, %al
	out %al, $0xf4
	jmp .
SYM(x2timer, handler)
	incq 0x300000
	rdtsc
	mov %eax, 0x300020
	mov %edx, 0x300024
	mov $0x6e0, %ecx
	rdmsr
	mov %eax, 0x300010
	mov %edx, 0x300014
	xor %eax, %eax
	xor %edx, %edx
	mov $0x80b, %ecx
	wrmsr
	mov $0x42, %eax
	mov $0x83f, %ecx
	wrmsr
	iretq
SYM(x2timer, ipi_handler)
	incq 0x300008
	xor %eax, %eax
	xor %edx, %edx
	mov $0x80b, %ecx
	wrmsr
	iretq
END(x2timer)

/* sti; hlt until an interrupt (vector 0x41) arrives, then hlt-exit */
SNIP(waitirq)
	mov $0xfee00000, %esi
	movl $0x1ff, 0x0f0(%rsi)
	/* logical ID bit 1 in the flat model, as Linux gives CPU 1 */
	movl $0x02000000, 0x0d0(%rsi)
	sti
1:	cmpq $0, 0x300000
	jne 2f
	hlt
	jmp 1b
2:	cli
	hlt
	jmp 2b
SYM(waitirq, handler)
	mov $0xfee00000, %esi
	incq 0x300000
	movl $0, 0x0b0(%rsi)
	iretq
END(waitirq)

/* With interrupts off, a self-IPI (vector 0x41) becomes pending; a long
 * loop runs, then sti and a counting loop: the handler stores how far the
 * count got (0x300008) and exits through the exit device. */
SNIP(irqafter)
	mov $0xfee00000, %esi
	movl $0x1ff, 0x0f0(%rsi)
	cli
	movl $0x00044041, 0x300(%rsi) /* fixed, vector 0x41, to self */
	mov $100000, %ecx
1:	dec %ecx
	jnz 1b
	xor %eax, %eax
	sti
2:	inc %rax
	mov %rax, 0x300010
	jmp 2b
SYM(irqafter, handler)
	mov 0x300010, %rax
	mov %rax, 0x300008
	mov $0xfee00000, %esi
	movl $0, 0x0b0(%rsi)
	cli
	hlt
	jmp .
END(irqafter)

/* send a fixed IPI, vector 0x41, to APIC ID 1 */
SNIP(sendipi)
	mov $0xfee00000, %esi
	movl $0x01000000, 0x310(%rsi)
	movl $0x41, 0x300(%rsi)
	hlt
END(sendipi)

/* The same IPI in logical destination mode (ICR bit 11) to logical ID
 * bit 1, as Linux's flat APIC driver sends every IPI to up to 8 CPUs. */
SNIP(sendipi_logical)
	mov $0xfee00000, %esi
	movl $0x02000000, 0x310(%rsi)
	movl $0x841, 0x300(%rsi)
	hlt
END(sendipi_logical)

/* unclaimed ports */
SNIP(ports)
	in $0x60, %al
	mov %rax, 0x300000
	mov $0x5a, %al
	out %al, $0x61
	hlt
END(ports)

/* more unclaimed port writes in one block than the exit queue holds
 * (TCG_EXITQ_LEN, 8), then hlt */
SNIP(many_ports)
	mov $0x5a, %al
	.rept 12
	out %al, $0x61
	.endr
	hlt
	ud2	/* reached only if the HLT exit was lost */
END(many_ports)

/* read outside RAM and outside any MMIO */
/* movabs: a plain `mov 0x80000000, %rax` is a sign-extended disp32 with
 * clang's assembler (0xffffffff80000000: a #PF, not an unmapped access). */
SNIP(unmapped)
	movabs 0x80000000, %rax
	hlt
END(unmapped)

/* Decoded as 32-bit code, 0x41 is `inc %ecx`; in 64-bit code it is a REX
 * prefix. Two of them, then hlt: ECX counts how the vCPU decoded them. */
SNIP(inc32)
	.byte 0x41, 0x41
	hlt
END(inc32)

/* The BSP's side of an AP start: INIT, then STARTUP with vector 0x10
 * (real-mode code at 0x10000) to APIC ID 1, then hlt. */
SNIP(sipi_sender)
	mov $0xfee00000, %esi
	movl $0x01000000, 0x310(%rsi)
	movl $0x00004500, 0x300(%rsi)
	movl $0x01000000, 0x310(%rsi)
	movl $0x00004610, 0x300(%rsi)
	hlt
	jmp .
END(sipi_sender)

/* ud2 with no usable IDT: #UD, #DF fail -> triple fault */
SNIP(ud)
	ud2
END(ud)

/* a patchable immediate */
SNIP(patch)
SYM(patch, imm)
	mov $1, %eax
	hlt
	jmp .
END(patch)

/* flags as the guest sees them across cli/sti/pushf/popf */
SNIP(flags)
	cli
	pushf
	pop %rax
	sti
	pushf
	pop %rbx
	push $0x202
	popf
	pushf
	pop %rdx
	nop
	hlt
END(flags)

/* each vCPU counts forever in its own slot, TG_DATA + 8 * (RDI = index) */
SNIP(percpu)
1:	incq 0x300000(,%rdi,8)
	jmp 1b
END(percpu)

/* counts forever: for suspend stress and masking */
SNIP(spin)
	sti
1:	incq 0x300000
	jmp 1b
SYM(spin, handler)
	mov $0xfee00000, %esi
	incq 0x300008
	movl $0, 0x0b0(%rsi)
	iretq
END(spin)

/* time-consuming compute loop: RCX iterations, then hlt */
SNIP(compute)
1:	imul $3, %rax, %rax
	add $7, %rax
	dec %rcx
	jnz 1b
	hlt
	jmp .
END(compute)

/* Self-modifying code: run a translated function, patch its immediate
 * with a guest store (same page), run it again; results at 0x300008/10. */
SNIP(smc)
	call 1f
	mov %rax, 0x300008
	movl $2, smc_imm(%rip)
	call 1f
	mov %rax, 0x300010
	hlt
	jmp .
1:	.byte 0xb8 /* mov $imm32, %eax */
SYM(smc, imm)
	.long 1
	ret
END(smc)

/* The same, with a data store into the code's page between the two calls
 * (code and data sharing a page, as in boot trampolines): the store goes
 * to bytes no block was translated from, and the patch after it must
 * still be seen. */
SNIP(smc_data)
	call 1f
	mov %rax, 0x300008
	movq $0x5a, smc_data_scratch(%rip)
	movl $2, smc_data_imm(%rip)
	call 1f
	mov %rax, 0x300010
	hlt
	jmp .
1:	.byte 0xb8 /* mov $imm32, %eax */
SYM(smc_data, imm)
	.long 1
	ret
	.balign 64
SYM(smc_data, scratch)
	.quad 0
END(smc_data)

/* Cross-modifying code (Linux's static keys and text_poke): the code at
 * 0x302000 (`mov $imm32, %eax; ret`, written by the test) is run by one
 * vCPU (xmod_caller: result to 0x300008, hlt, again to 0x300010) while
 * another vCPU rewrites its immediate (xmod_patcher). */
SNIP(xmod_caller)
	mov $0x302000, %rbx
	call *%rbx
	mov %rax, 0x300008
	hlt
	call *%rbx
	mov %rax, 0x300010
	hlt
	jmp .
END(xmod_caller)

SNIP(xmod_patcher)
	movl $2, 0x302001
	hlt
	jmp .
END(xmod_patcher)

/* Writes the immediate of the function at 0x302000 (1), halts, writes it
 * again (2): the first store finds a page no vCPU holds code from. */
SNIP(xmod_prewriter)
	movl $1, 0x302001
	hlt
	movl $2, 0x302001
	hlt
	jmp .
END(xmod_prewriter)

/* Code generated at run time: store a function into a data page (its TLB
 * entry then stores without the SMC check), call it, rewrite its
 * immediate through the same entry, call it again; results at
 * 0x300008/10. */
SNIP(jit)
	movb $0xb8, 0x301000 /* mov $imm32, %eax */
	movl $1, 0x301001
	movb $0xc3, 0x301005 /* ret */
	mov $0x301000, %rbx
	call *%rbx
	mov %rax, 0x300008
	movl $2, 0x301001
	call *%rbx
	mov %rax, 0x300010
	hlt
	jmp .
END(jit)

/* Spin with pause until 0x300020 is set, counting turns at 0x300028. */
SNIP(spinwait)
1:	incq 0x300028
	pause
	cmpq $0, 0x300020
	je 1b
	hlt
	jmp .
END(spinwait)

/* Mark 0x300030, RCX rounds of arithmetic, then set 0x300020 (releases
 * spinwait). */
SNIP(release)
	movq $1, 0x300030
1:	add $7, %rax
	imul %rax, %rax
	dec %rcx
	jnz 1b
	movq $1, 0x300020
	hlt
	jmp .
END(release)

/* RCX guest stores to a data page, then hlt. */
SNIP(stores)
1:	mov %rcx, 0x300000
	dec %rcx
	jnz 1b
	hlt
	jmp .
END(stores)

/* Idle with a 100 Hz periodic LAPIC timer (vector 0x40); ticks counted
 * at 0x300000 by every vCPU. */
SNIP(idle100)
	mov $0xfee00000, %esi
	movl $0x1ff, 0x0f0(%rsi)
	movl $0xb, 0x3e0(%rsi)
	movl $0x20040, 0x320(%rsi)
	movl $10000000, 0x380(%rsi)
1:	sti
	hlt
	jmp 1b
SYM(idle100, handler)
	mov $0xfee00000, %esi
	lock incq 0x300000
	movl $0, 0x0b0(%rsi)
	iretq
END(idle100)

/* CPUID with EAX/ECX from the vCPU's slot (0x300000 + 0x100 * vCPU index:
 * leaf, subleaf), EAX..EDX stored after them, then hlt. */
SNIP(cpuid)
	mov %rdi, %rsi
	shl $8, %rsi
	add $0x300000, %rsi
	mov (%rsi), %eax
	mov 8(%rsi), %ecx
	cpuid
	mov %rax, 16(%rsi)
	mov %rbx, 24(%rsi)
	mov %rcx, 32(%rsi)
	mov %rdx, 40(%rsi)
	hlt
	jmp .
END(cpuid)

/* MSR ECX = [0x300000]: RDMSR into [0x300008]; if [0x300018] != 0, WRMSR
 * [0x300010] and RDMSR again into [0x300020]; then rdtsc into [0x300048]
 * and hlt. The #GP handler stores the error code and RIP and counts. */
SNIP(msr)
	mov 0x300000, %ecx
SYM(msr, rdmsr)
	rdmsr
	mov %eax, 0x300008
	mov %edx, 0x30000c
	cmpq $0, 0x300018
	je 1f
	mov 0x300000, %ecx
	mov 0x300010, %eax
	mov 0x300014, %edx
SYM(msr, wrmsr)
	wrmsr
	rdmsr
	mov %eax, 0x300020
	mov %edx, 0x300024
1:	rdtsc
	mov %eax, 0x300048
	mov %edx, 0x30004c
	hlt
	jmp .
SYM(msr, gp_handler)
	pop %rax
	mov %rax, 0x300028
	mov (%rsp), %rax
	mov %rax, 0x300030
	incq 0x300038
	hlt
	jmp .
END(msr)

/* Code that keeps rewriting itself: each pass increments the immediate of
 * a function on the same page, so every pass drops and retranslates the
 * page's blocks. RCX passes; the last call's result is left in RAX. */
SNIP(garbage)
1:	call 2f
	incl garbage_imm(%rip)
	dec %rcx
	jnz 1b
	hlt
	jmp .
2:	.byte 0xb8 /* mov $imm32, %eax */
SYM(garbage, imm)
	.long 0
	ret
END(garbage)

.section .note.GNU-stack,"",@progbits

