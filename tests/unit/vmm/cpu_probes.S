/* One probe per advertised CPUID feature (tcg_cpuid.c): instructions that
 * need the feature, then hlt. Run at SNIP_BASE with RBX pointing at a
 * 64-byte aligned scratch area (see test_cpu_model.c). */
	.section .rodata
	.code64
#define PROBE(n) .globl probe_##n##_start, probe_##n##_end; probe_##n##_start:
#define PEND(n) hlt; probe_##n##_end:
/* Set a CR4 bit: Unicorn refuses (#GP) bits its model lacks. */
#define CR4_SET(bit) mov %cr4, %rax; bts $bit, %rax; mov %rax, %cr4
#define MSR_OR(msr, bits) mov $msr, %ecx; rdmsr; or $bits, %eax; wrmsr

PROBE(fpu) fld1; fstp %st(0); PEND(fpu)
PROBE(de) CR4_SET(3); PEND(de)
PROBE(tsc) rdtsc; PEND(tsc)
PROBE(msr) mov $0xc0000080, %ecx; rdmsr; wrmsr; PEND(msr)
PROBE(cx8) xor %eax, %eax; xor %edx, %edx; cmpxchg8b (%rbx); PEND(cx8)
PROBE(pge) CR4_SET(7); PEND(pge)
PROBE(cmov) cmove %ecx, %eax; cmovne %ecx, %eax; PEND(cmov)
PROBE(pat) mov $0x277, %ecx; rdmsr; wrmsr; PEND(pat)
PROBE(clflush) clflush (%rbx); PEND(clflush)
PROBE(mmx) paddb %mm1, %mm0; pshufw $0x1b, %mm1, %mm0; emms; PEND(mmx)
PROBE(fxsr) fxsave (%rbx); fxrstor (%rbx); PEND(fxsr)
PROBE(sse) addps %xmm1, %xmm0; movaps %xmm0, (%rbx); PEND(sse)
PROBE(sse2) addpd %xmm1, %xmm0; paddq %xmm1, %xmm0; PEND(sse2)
PROBE(pni) addsubpd %xmm1, %xmm0; lddqu (%rbx), %xmm0; PEND(pni)
PROBE(pclmulqdq) pclmulqdq $0, %xmm1, %xmm0; PEND(pclmulqdq)
PROBE(ssse3) pshufb %xmm1, %xmm0; palignr $3, %xmm1, %xmm0; PEND(ssse3)
PROBE(cx16) xor %eax, %eax; xor %edx, %edx; cmpxchg16b (%rbx); PEND(cx16)
PROBE(sse4_1) ptest %xmm1, %xmm0; pblendw $1, %xmm1, %xmm0; PEND(sse4_1)
PROBE(sse4_2) crc32 %ecx, %eax; pcmpistri $0, %xmm1, %xmm0; PEND(sse4_2)
PROBE(movbe) movbe (%rbx), %eax; movbe %eax, (%rbx); PEND(movbe)
PROBE(popcnt) popcnt %ecx, %eax; PEND(popcnt)
PROBE(aes) aesenc %xmm1, %xmm0; aesdeclast %xmm1, %xmm0;
	aeskeygenassist $1, %xmm1, %xmm0; PEND(aes)
PROBE(xsave) CR4_SET(18); xor %ecx, %ecx; mov $3, %eax; xor %edx, %edx;
	xsetbv; xgetbv; mov $3, %eax; xor %edx, %edx; xsave (%rbx);
	xrstor (%rbx); PEND(xsave)
PROBE(rdrand) rdrand %eax; rdrand %rax; PEND(rdrand)
PROBE(fsgsbase) CR4_SET(16); rdfsbase %rax; wrfsbase %rax; rdgsbase %rax;
	wrgsbase %rax; PEND(fsgsbase)
PROBE(bmi1) andn %edx, %ecx, %eax; tzcnt %ecx, %eax; blsr %ecx, %eax;
	PEND(bmi1)
PROBE(smep) CR4_SET(20); PEND(smep)
PROBE(bmi2) pdep %edx, %ecx, %eax; shlx %edx, %ecx, %eax;
	bzhi %edx, %ecx, %eax; mulx %ecx, %eax, %esi; PEND(bmi2)
PROBE(erms) mov %rbx, %rdi; lea 64(%rbx), %rsi; mov $16, %ecx; rep movsb;
	PEND(erms)
PROBE(adx) adcx %ecx, %eax; adox %ecx, %eax; PEND(adx)
PROBE(smap) CR4_SET(21); stac; clac; PEND(smap)
PROBE(clflushopt) clflushopt (%rbx); PEND(clflushopt)
PROBE(clwb) clwb (%rbx); PEND(clwb)
PROBE(xsaveopt) CR4_SET(18); mov $3, %eax; xor %edx, %edx;
	xsaveopt (%rbx); PEND(xsaveopt)
PROBE(xgetbv1) CR4_SET(18); mov $1, %ecx; xgetbv; PEND(xgetbv1)
PROBE(lahf_lm) lahf; sahf; PEND(lahf_lm)
PROBE(abm) lzcnt %ecx, %eax; PEND(abm)
PROBE(3dnowprefetch) prefetchw (%rbx); PEND(3dnowprefetch)
/* STAR and LSTAR first, so an emulated SYSCALL lands on the hlt with
 * the boot selectors. */
PROBE(syscall) MSR_OR(0xc0000080, 1);
	mov $0xc0000081, %ecx; xor %eax, %eax; mov $8, %edx; wrmsr;
	mov $0xc0000082, %ecx; lea 1f(%rip), %rax; xor %edx, %edx; wrmsr;
	syscall; 1: PEND(syscall)
PROBE(nx) MSR_OR(0xc0000080, 0x800); PEND(nx)
PROBE(rdtscp) rdtscp; PEND(rdtscp)
	.section .note.GNU-stack,"",@progbits
