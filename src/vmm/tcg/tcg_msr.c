/*
 * MSRs and the TSC as hardware has them.
 *
 * Unicorn 2.1.1 has no RDMSR/WRMSR/RDTSC hooks (UC_HOOK_INSN takes only
 * IN, OUT, SYSCALL, SYSENTER and CPUID), and its own helpers read 0 for
 * any MSR they do not know, ignore writes to them, read 0 from
 * IA32_APIC_BASE and return the host's TSC. So the x86_64 helpers are
 * interposed, as tcg_tlb_sizing.c already did for RDMSR: libunicorn calls
 * them through its PLT/GOT, so these definitions win (checked by
 * test_msr.c: an unknown MSR must raise #GP).
 *
 * - MSRs Unicorn implements correctly (EFER, STAR/LSTAR/CSTAR/SFMASK,
 *   FS/GS/KERNEL_GS base, PAT, TSC_AUX, SYSENTER_*, MISC_ENABLE on intel)
 *   go to Unicorn's helper after the checks hardware makes (reserved
 *   bits, canonical addresses) and so stay the engine's real state.
 * - IA32_TSC is kept here, per vCPU (an offset to the VM clock); on AMD
 *   also HWCR and NB_CFG, which Linux reads and writes without a #GP
 *   handler.
 * - IA32_APIC_BASE, the x2APIC registers (0x800-0x8ff) and
 *   IA32_TSC_DEADLINE are the vCPU's LAPIC's (devices/lapic.c); this file
 *   converts TSC-deadline values between the guest's TSC and the VM
 *   clock the LAPIC runs on.
 * - Anything else raises #GP(0) in the guest, through Unicorn's own
 *   exception path: the engine stops with UC_HOOK_INTR vector 13 and RIP
 *   on the RDMSR/WRMSR (Unicorn stores RIP before calling the helper),
 *   and the run loop delivers it through the guest IDT like any #GP.
 *   (RDMSR does not end a translation block in 2.1.1, so a flag checked
 *   at the next block would let the following instructions run first.)
 * - RDTSC and RDTSCP (whose helper calls RDTSC's through the PLT) count
 *   the VM clock in nanoseconds: a 1 GHz TSC, as CPUID 0x15 says.
 *
 * Only calls made while this thread runs guest code are emulated: the
 * register API (tcg_regs.c reads KERNEL_GS_BASE and EFER through
 * UC_X86_REG_MSR) calls the same RDMSR helper from libunicorn's own text,
 * and is passed through unchanged.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/lapic.h"
#include "vmm/tcg/tcg_internal.h"

#define MSR_TSC 0x10u
#define MSR_APIC_BASE 0x1bu
#define MSR_UCODE_REV 0x8bu
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_MISC_ENABLE 0x1a0u
#define MSR_PAT 0x277u
#define MSR_TSC_DEADLINE 0x6e0u
#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX 0xc0000103u
/* AMD's hardware configuration register; bit 24 (TscFreqSel): the TSC
 * counts at the P0 frequency, as on every family 10h+ part (Linux warns
 * "[Firmware Bug]: TSC doesn't count with P0 frequency!" when clear). */
#define MSR_AMD_HWCR 0xc0010015u
#define AMD_HWCR_TSC_FREQ_SEL (1ULL << 24)
/* AMD's northbridge configuration: Linux sets EnableCf8ExtCfg (bit 46) at
 * boot. Kept and read back; there is no PCI configuration space here. */
#define MSR_AMD_NB_CFG 0xc001001fu

/* SCE, LME, LMA (ignored on write by hardware), NXE. */
#define EFER_WRITABLE 0xd01ULL
#define CR4_TSD (1ULL << 2)
#define VECTOR_GP 13

void helper_rdmsr_x86_64(void *env);
void helper_wrmsr_x86_64(void *env);
void helper_rdtsc_x86_64(void *env);
void raise_exception_err_x86_64(void *env, int vector, int error_code);

static void (*real_rdmsr)(void *);
static void (*real_wrmsr)(void *);
static void (*real_rdtsc)(void *);
static void (*raise_exception)(void *, int, int);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static _Thread_local void **capture_env;

static void resolve(void)
{
	real_rdmsr = (void (*)(void *))dlsym(RTLD_NEXT, "helper_rdmsr_x86_64");
	real_wrmsr = (void (*)(void *))dlsym(RTLD_NEXT, "helper_wrmsr_x86_64");
	real_rdtsc = (void (*)(void *))dlsym(RTLD_NEXT, "helper_rdtsc_x86_64");
	raise_exception = (void (*)(void *, int, int))dlsym(
		RTLD_NEXT, "raise_exception_err_x86_64");
}

int tcg_msr_init(struct vcpu *v)
{
	pthread_once(&resolve_once, resolve);
	if (!real_rdmsr || !real_wrmsr || !real_rdtsc || !raise_exception)
		return -ENOSYS;
	struct tcg_vcpu *t = tcg_of(v);
	t->tsc_offset = 0;
	t->amd_hwcr = AMD_HWCR_TSC_FREQ_SEL;
	t->amd_nb_cfg = 0;
	return 0;
}

void *tcg_msr_learn_env(uc_engine *uc)
{
	void *env = NULL;
	uc_x86_msr msr = { .rid = MSR_EFER };
	pthread_once(&resolve_once, resolve);
	capture_env = &env;
	uc_reg_read(uc, UC_X86_REG_MSR, &msr);
	capture_env = NULL;
	return env;
}

static uint64_t reg(struct tcg_vcpu *t, int r)
{
	uint64_t x = 0;
	uc_reg_read(t->uc, r, &x);
	return x;
}

static void set_reg(struct tcg_vcpu *t, int r, uint64_t x)
{
	uc_reg_write(t->uc, r, &x);
}

/* The engine whose guest code made this call, or NULL for the register
 * API: translated code lives outside every loaded object. */
static struct tcg_vcpu *guest_caller(void *return_address)
{
	/* The register API calls from one site in libunicorn; dladdr takes
	 * the loader's lock, and an idle guest went from 2% to 20% of a
	 * core when every such read paid for it. */
	static _Atomic(void *) host_call_site;
	struct tcg_vcpu *t = tcg_running_engine();
	Dl_info info;
	if (!t || capture_env || return_address == atomic_load(&host_call_site))
		return NULL;
	if (dladdr(return_address, &info) != 0) {
		atomic_store(&host_call_site, return_address);
		return NULL;
	}
	return t;
}

static uint64_t guest_tsc(struct tcg_vcpu *t)
{
	return vm_now_ns(t->vcpu->vm) + (uint64_t)t->tsc_offset;
}

/* IA32_TSC_DEADLINE as the guest reads it: the TSC value at the LAPIC's
 * deadline, 0 when disarmed. */
static uint64_t tsc_deadline(struct tcg_vcpu *t)
{
	uint64_t ns;
	if (!lapic_tsc_deadline(t->vcpu->lapic, &ns))
		return 0;
	return ns + (uint64_t)t->tsc_offset;
}

/* The timer fires when the TSC reaches val: at that VM-clock instant, or
 * at once if the TSC is already there. 0 disarms. */
static void set_tsc_deadline(struct tcg_vcpu *t, uint64_t val)
{
	uint64_t now = vm_now_ns(t->vcpu->vm);
	uint64_t tsc_now = now + (uint64_t)t->tsc_offset;
	uint64_t at = now;
	if (val > tsc_now)
		at = val - tsc_now > UINT64_MAX - now ? UINT64_MAX
						      : now + (val - tsc_now);
	lapic_set_tsc_deadline(t->vcpu->lapic, val != 0, at);
}

static bool x2apic_msr(uint32_t msr)
{
	return msr >= LAPIC_X2APIC_MSR_FIRST && msr <= LAPIC_X2APIC_MSR_LAST;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool valid_pat(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned type = (pat >> (8 * i)) & 0xff;
		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

static bool amd(const struct tcg_vcpu *t)
{
	return t->vcpu->vm->vendor == VM_CPU_VENDOR_AMD;
}

/* MSRs Unicorn keeps (after our checks), per vendor. */
static bool unicorn_msr(const struct tcg_vcpu *t, uint32_t msr)
{
	switch (msr) {
	case MSR_UCODE_REV:
	case MSR_PAT:
	case MSR_EFER:
	case MSR_STAR:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_SFMASK:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_TSC_AUX:
		return true;
	case MSR_MISC_ENABLE: /* Intel's; AMD has none */
		return t->vcpu->vm->vendor == VM_CPU_VENDOR_INTEL;
	default:
		return msr >= MSR_SYSENTER_CS && msr <= MSR_SYSENTER_EIP;
	}
}

/* false: the write raises #GP, as on hardware. */
static bool write_allowed(struct tcg_vcpu *t, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_EFER:
		return (val & ~EFER_WRITABLE) == 0;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
		return canonical(val);
	case MSR_PAT:
		return valid_pat(val);
	case MSR_TSC_AUX:
		return (val >> 32) == 0;
	default:
		return unicorn_msr(t, msr);
	}
}

__attribute__((noinline)) void helper_rdmsr_x86_64(void *env)
{
	/* The start-up self-test writes MSRs before any engine is set up. */
	pthread_once(&resolve_once, resolve);
	if (capture_env) { /* tcg_msr_learn_env */
		*capture_env = env;
		capture_env = NULL;
	}
	struct tcg_vcpu *t = guest_caller(__builtin_return_address(0));
	if (!t) {
		real_rdmsr(env);
		return;
	}
	uint32_t msr = (uint32_t)reg(t, UC_X86_REG_RCX);
	struct lapic *apic = t->vcpu->lapic;
	uint64_t val = 0;
	if (msr == MSR_TSC) {
		val = guest_tsc(t);
	} else if (msr == MSR_APIC_BASE) {
		val = lapic_get_base(apic);
	} else if (msr == MSR_TSC_DEADLINE) {
		val = tsc_deadline(t);
	} else if (x2apic_msr(msr)) {
		if (!lapic_msr_read(apic, msr, &val, vm_now_ns(t->vcpu->vm)))
			raise_exception(env, VECTOR_GP, 0); /* no return */
	} else if (msr == MSR_AMD_HWCR && amd(t)) {
		val = t->amd_hwcr;
	} else if (msr == MSR_AMD_NB_CFG && amd(t)) {
		val = t->amd_nb_cfg;
	} else if (unicorn_msr(t, msr)) {
		real_rdmsr(env);
		return;
	} else {
		raise_exception(env, VECTOR_GP, 0); /* does not return */
		return;
	}
	set_reg(t, UC_X86_REG_RAX, (uint32_t)val);
	set_reg(t, UC_X86_REG_RDX, val >> 32);
}

__attribute__((noinline)) void helper_wrmsr_x86_64(void *env)
{
	pthread_once(&resolve_once, resolve);
	struct tcg_vcpu *t = guest_caller(__builtin_return_address(0));
	if (!t) {
		real_wrmsr(env);
		return;
	}
	uint32_t msr = (uint32_t)reg(t, UC_X86_REG_RCX);
	uint64_t val = (uint32_t)reg(t, UC_X86_REG_RAX) |
		       reg(t, UC_X86_REG_RDX) << 32;
	struct vcpu *v = t->vcpu;
	if (msr == MSR_TSC) {
		/* The deadline is a TSC value: it moves with the TSC. */
		uint64_t deadline = tsc_deadline(t);
		t->tsc_offset = (int64_t)(val - vm_now_ns(v->vm));
		if (deadline)
			set_tsc_deadline(t, deadline);
		tcg_lapic_written(v);
	} else if (msr == MSR_APIC_BASE) {
		/* A new base, reserved bits and the forbidden mode changes
		 * (lapic_set_base) raise #GP. */
		if (!lapic_set_base(v->lapic, val))
			raise_exception(env, VECTOR_GP, 0);
		tcg_lapic_written(v);
	} else if (msr == MSR_TSC_DEADLINE) {
		set_tsc_deadline(t, val);
		tcg_lapic_written(v);
	} else if (x2apic_msr(msr)) {
		if (!lapic_msr_write(v->lapic, msr, val, vm_now_ns(v->vm)))
			raise_exception(env, VECTOR_GP, 0);
		tcg_lapic_written(v);
	} else if (msr == MSR_AMD_HWCR && amd(t)) {
		t->amd_hwcr = val | AMD_HWCR_TSC_FREQ_SEL; /* read-only 1 */
	} else if (msr == MSR_AMD_NB_CFG && amd(t)) {
		t->amd_nb_cfg = val;
	} else if (write_allowed(t, msr, val)) {
		real_wrmsr(env);
	} else {
		raise_exception(env, VECTOR_GP, 0);
	}
}

__attribute__((noinline)) void helper_rdtsc_x86_64(void *env)
{
	pthread_once(&resolve_once, resolve);
	struct tcg_vcpu *t = tcg_running_engine();
	/* CR4.TSD at CPL > 0: Unicorn's helper raises the #GP. */
	if (!t || ((reg(t, UC_X86_REG_CR4) & CR4_TSD) &&
		   (reg(t, UC_X86_REG_CS) & 3))) {
		real_rdtsc(env);
		return;
	}
	uint64_t tsc = guest_tsc(t);
	set_reg(t, UC_X86_REG_RAX, (uint32_t)tsc);
	set_reg(t, UC_X86_REG_RDX, tsc >> 32);
}
