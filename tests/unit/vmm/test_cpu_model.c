/* The CPU model on the real engine: every CPUID feature hvgdb advertises
 * executes, and the guest sees hvgdb's CPUID table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "devices/lapic.h"
#include "vmm/tcg/tcg_cpuid.h"
#include "vmm/vm_internal.h"
#include "vmm_test_guest.h"

DECLARE_SNIP(cpuid);
DECLARE_SNIP(msr);
extern const uint8_t msr_rdmsr[], msr_wrmsr[], msr_gp_handler[];

#define PROBE_DECL(n) extern const uint8_t probe_##n##_start[], probe_##n##_end[]
PROBE_DECL(fpu); PROBE_DECL(de); PROBE_DECL(tsc); PROBE_DECL(msr);
PROBE_DECL(cx8); PROBE_DECL(pge); PROBE_DECL(cmov);
PROBE_DECL(pat); PROBE_DECL(clflush); PROBE_DECL(mmx); PROBE_DECL(fxsr);
PROBE_DECL(sse); PROBE_DECL(sse2); PROBE_DECL(pni); PROBE_DECL(pclmulqdq);
PROBE_DECL(ssse3); PROBE_DECL(cx16); PROBE_DECL(sse4_1); PROBE_DECL(sse4_2);
PROBE_DECL(movbe); PROBE_DECL(popcnt); PROBE_DECL(aes); PROBE_DECL(xsave);
PROBE_DECL(rdrand); PROBE_DECL(fsgsbase); PROBE_DECL(bmi1); PROBE_DECL(smep);
PROBE_DECL(bmi2); PROBE_DECL(erms); PROBE_DECL(adx); PROBE_DECL(smap);
PROBE_DECL(clflushopt); PROBE_DECL(clwb); PROBE_DECL(xsaveopt);
PROBE_DECL(xgetbv1); PROBE_DECL(lahf_lm); PROBE_DECL(abm);
PROBE_DECL(3dnowprefetch); PROBE_DECL(syscall); PROBE_DECL(nx);
PROBE_DECL(rdtscp);

#define NO_EXCEPTION 0xff
#define EXC_SLOT 0x100 /* TG_DATA index the exception stubs write */
#define STUBS 0x8000ULL
#define SCRATCH (TG_DATA + 0x2000)

struct probe {
	const char *feature;
	const uint8_t *start, *end; /* NULL: nothing to execute */
	int expect_vector;          /* NO_EXCEPTION unless stated */
	const char *why_no_insn;
};

#define P(n) { #n, probe_##n##_start, probe_##n##_end, NO_EXCEPTION, NULL }
#define NONE(n, why) { #n, NULL, NULL, NO_EXCEPTION, why }
static const struct probe probes[] = {
	P(fpu), P(de), P(tsc), P(msr), P(cx8),
	P(pge), P(cmov), P(pat), P(clflush), P(mmx), P(fxsr), P(sse),
	P(sse2), P(pni), P(pclmulqdq), P(ssse3), P(cx16), P(sse4_1),
	P(sse4_2), P(movbe), P(popcnt), P(aes), P(xsave), P(rdrand),
	P(fsgsbase), P(bmi1), P(smep), P(bmi2), P(erms), P(adx), P(smap),
	P(clflushopt), P(clwb), P(xsaveopt), P(xgetbv1), P(lahf_lm), P(abm),
	P(3dnowprefetch), P(syscall), P(nx), P(rdtscp),
	NONE(pse, "32-bit paging page size; no instruction"),
	NONE(pae, "every test guest runs with PAE (long-mode) paging"),
	NONE(apic, "the LAPIC at 0xfee00000: test_vmm_tcg's timer/IPI tests"),
	NONE(x2apic, "MSRs 0x800-0x8ff: test_x2apic_msrs, test_lapic_x2apic"),
	NONE(tsc_deadline_timer, "MSR 0x6e0: test_tsc_deadline_msr, "
				 "test_lapic_x2apic"),
	NONE(pse36, "32-bit paging address bits; no instruction"),
	NONE(arat, "LAPIC timer counts in hlt: test_hlt_wakes_on_timer"),
	NONE(pdpe1gb, "1 GiB pages: paging, no instruction"),
	NONE(lm, "every test guest runs in long mode"),
	NONE(constant_tsc, "rdtsc counts the VM clock: test_msr"),
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

static const struct probe *probe_for(const char *feature)
{
	for (size_t i = 0; i < NPROBES; i++)
		if (strcmp(probes[i].feature, feature) == 0)
			return &probes[i];
	return NULL;
}

static void test_every_feature_has_a_probe(void **state)
{
	(void)state;
	for (size_t i = 0; i < cpuid_nfeatures; i++) {
		if (!probe_for(cpuid_features[i].name))
			fail_msg("CPUID advertises %s, but no probe runs it",
				 cpuid_features[i].name);
	}
}

/* Each vector's stub records the vector and halts. */
static void install_exception_stubs(struct vm *vm)
{
	for (int vec = 0; vec < 32; vec++) {
		uint8_t stub[16] = { 0x48, 0xc7, 0x04, 0x25 };
		uint32_t addr = (uint32_t)(TG_DATA + 8 * EXC_SLOT);
		uint32_t val = (uint32_t)vec;
		memcpy(stub + 4, &addr, 4);
		memcpy(stub + 8, &val, 4);
		stub[12] = 0xf4; /* hlt */
		stub[13] = 0xeb; /* jmp . */
		stub[14] = 0xfe;
		assert_int_equal(vm_write_gpa(vm, STUBS + 16ULL * vec, stub, 16),
				 0);
		tg_set_gate(vm, vec, STUBS + 16ULL * vec);
	}
}

/* The vector the probe raised, or NO_EXCEPTION. */
static int run_probe(enum vm_cpu_vendor vendor, const struct probe *p)
{
	struct vm *vm = tg_create(1, vendor);
	install_exception_stubs(vm);
	tg_set_data(vm, EXC_SLOT, NO_EXCEPTION);
	tg_load(vm, p->start, p->end);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RBX, SCRATCH), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	struct vm_exit e;
	assert_int_equal(vm_run(vm, 0, &e), 0);
	if (e.exitcode != VM_EXITCODE_HLT)
		fail_msg("%s: exit %d, not hlt", p->feature, e.exitcode);
	int vec = (int)tg_data(vm, EXC_SLOT);
	vm_destroy(vm);
	return vec;
}

static void check_probes(enum vm_cpu_vendor vendor, unsigned vendor_bit)
{
	int failures = 0;
	for (size_t i = 0; i < cpuid_nfeatures; i++) {
		const struct cpuid_feature *f = &cpuid_features[i];
		const struct probe *p = probe_for(f->name);
		if (!(f->vendors & vendor_bit) || !p || !p->start)
			continue;
		int vec = run_probe(vendor, p);
		if (vec != p->expect_vector) {
			fprintf(stderr, "%s: advertised, raised vector %d%s\n",
				f->name, vec, vec == 6 ? " (#UD)" : "");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_advertised_features_execute_intel(void **state)
{
	(void)state;
	check_probes(VM_CPU_VENDOR_INTEL, CPUID_FOR_INTEL);
}

static void test_advertised_features_execute_amd(void **state)
{
	(void)state;
	check_probes(VM_CPU_VENDOR_AMD, CPUID_FOR_AMD);
}

/* The probes can fail: an instruction the engine does not decode is
 * reported as #UD through the guest IDT. */
static void test_probe_sees_ud(void **state)
{
	(void)state;
	static const uint8_t ud2[] = { 0x0f, 0x0b, 0xf4 };
	struct probe p = { "ud2", ud2, ud2 + sizeof(ud2), NO_EXCEPTION, NULL };
	assert_int_equal(run_probe(VM_CPU_VENDOR_INTEL, &p), 6);
}

/* ---- CPUID as the guest sees it ------------------------------------------ */

static void guest_cpuid(struct vm *vm, int vcpu, uint32_t leaf, uint32_t sub,
			uint32_t out[4])
{
	unsigned slot = (unsigned)vcpu * 32;
	tg_set_data(vm, slot, leaf);
	tg_set_data(vm, slot + 1, sub);
	assert_int_equal(vm_set_register(vm, vcpu, VM_REG_GUEST_RIP, SNIP_BASE),
			 0);
	struct vm_exit e;
	assert_int_equal(vm_run(vm, vcpu, &e), 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	for (int r = 0; r < 4; r++)
		out[r] = (uint32_t)tg_data(vm, slot + 2 + (unsigned)r);
}

static struct vm *cpuid_vm(unsigned ncpus, enum vm_cpu_vendor vendor)
{
	struct vm *vm = tg_create(ncpus, vendor);
	tg_load(vm, cpuid_start, cpuid_end);
	for (unsigned n = 0; n < ncpus; n++)
		assert_int_equal(vm_set_capability(vm, (int)n,
						   VM_CAP_HALT_EXIT, 1), 0);
	return vm;
}

static void check_vendor(enum vm_cpu_vendor vendor, const char *name,
			 uint32_t max_basic)
{
	struct vm *vm = cpuid_vm(1, vendor);
	uint32_t r[4];
	char got[13] = "";
	guest_cpuid(vm, 0, 0, 0, r);
	memcpy(got, &r[1], 4);
	memcpy(got + 4, &r[3], 4);
	memcpy(got + 8, &r[2], 4);
	assert_string_equal(got, name);
	assert_int_equal(r[0], max_basic);
	vm_destroy(vm);
}

static void test_vendor_strings(void **state)
{
	(void)state;
	check_vendor(VM_CPU_VENDOR_INTEL, "GenuineIntel", 0x16);
	check_vendor(VM_CPU_VENDOR_AMD, "AuthenticAMD", 0xd);
}

static void test_hypervisor_leaf(void **state)
{
	(void)state;
	struct vm *vm = cpuid_vm(1, VM_CPU_VENDOR_INTEL);
	uint32_t r[4];
	guest_cpuid(vm, 0, 1, 0, r);
	assert_true(r[2] & (1u << 31)); /* hypervisor present */
	guest_cpuid(vm, 0, 0x40000000, 0, r);
	assert_int_equal(r[0], 0x40000010);
	assert_memory_equal(&r[1], "hvgdbhvgdb\0\0", 12);
	guest_cpuid(vm, 0, 0x40000010, 0, r);
	assert_int_equal(r[0], 1000000); /* TSC kHz */
	assert_int_equal(r[1], 1000000); /* LAPIC bus kHz */
	/* KVM's signature one range up, with no paravirtual feature or
	 * hint: what Linux needs to use x2APIC without interrupt
	 * remapping. */
	guest_cpuid(vm, 0, 0x40000100, 0, r);
	assert_int_equal(r[0], 0x40000101);
	assert_memory_equal(&r[1], "KVMKVMKVM\0\0\0", 12);
	guest_cpuid(vm, 0, 0x40000101, 0, r);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r[i], 0);
	/* Leaf 1 offers x2APIC (ECX 21) and the TSC-deadline timer (24). */
	guest_cpuid(vm, 0, 1, 0, r);
	assert_true(r[2] & (1u << 21));
	assert_true(r[2] & (1u << 24));
	vm_destroy(vm);
}

/* Leaf 0x15: TSC = ECX * EBX / EAX = 1 GHz, and the crystal (ECX) is the
 * LAPIC timer's 1 GHz input; 0x16 says the same in MHz. */
static void test_tsc_frequency_leaves(void **state)
{
	(void)state;
	struct vm *vm = cpuid_vm(1, VM_CPU_VENDOR_INTEL);
	uint32_t r[4];
	guest_cpuid(vm, 0, 0x15, 0, r);
	assert_true(r[0] != 0 && r[1] != 0);
	assert_int_equal((uint64_t)r[2] * r[1] / r[0], 1000000000ULL);
	assert_int_equal(r[2], 1000000000u);
	guest_cpuid(vm, 0, 0x16, 0, r);
	assert_int_equal(r[0], 1000);
	assert_int_equal(r[2], 1000);
	vm_destroy(vm);
}

/* Leaf 1 EBX[31:24] and leaf 0xB EDX are each vCPU's APIC ID. */
static void test_apic_id_per_vcpu(void **state)
{
	(void)state;
	struct vm *vm = cpuid_vm(4, VM_CPU_VENDOR_INTEL);
	for (int n = 0; n < 4; n++) {
		uint32_t r[4];
		guest_cpuid(vm, n, 1, 0, r);
		assert_int_equal(r[1] >> 24, (uint32_t)n);
		assert_int_equal((r[1] >> 16) & 0xff, 4); /* logical count */
		assert_true(r[3] & (1u << 28));            /* HTT */
		guest_cpuid(vm, n, 0xb, 1, r);
		assert_int_equal(r[3], (uint32_t)n);
		assert_int_equal(r[1], 4);
		assert_int_equal((r[2] >> 8) & 0xff, 2); /* core level */
	}
	vm_destroy(vm);
}

/* The guest sees exactly the table: nothing Unicorn's own model would add
 * (it reports AVX-512, PKU and more for Skylake-Server). */
static void test_feature_leaves_are_the_table(void **state)
{
	(void)state;
	struct vm *vm = cpuid_vm(1, VM_CPU_VENDOR_INTEL);
	struct cpuid_ctx c = { VM_CPU_VENDOR_INTEL, 1, 0, 0x620 };
	static const uint32_t leaves[][2] = { { 1, 0 }, { 7, 0 }, { 0xd, 1 },
					      { 0x80000001, 0 } };
	for (size_t i = 0; i < 4; i++) {
		uint32_t got[4], want[4];
		guest_cpuid(vm, 0, leaves[i][0], leaves[i][1], got);
		cpuid_query(&c, leaves[i][0], leaves[i][1], want);
		assert_memory_equal(got + 2, want + 2, 8); /* ECX, EDX */
		assert_int_equal(got[1], want[1]);
	}
	uint32_t r[4];
	guest_cpuid(vm, 0, 7, 0, r);
	assert_int_equal(r[2], 0); /* no PKU, no LA57 */
	vm_destroy(vm);
}


/* ---- MSRs ---------------------------------------------------------------- */

struct msr_result {
	uint64_t first, after_write, gp_count, gp_rip, tsc;
};

/* RDMSR msr on vcpu; with write, WRMSR val and RDMSR again; with
 * apic_base, the vCPU's IA32_APIC_BASE is set to it first. */
static struct msr_result msr_access_with_base(unsigned ncpus, int vcpu,
					      enum vm_cpu_vendor vendor,
					      uint32_t msr, bool write,
					      uint64_t val, uint64_t apic_base)
{
	struct vm *vm = tg_create(ncpus, vendor);
	if (apic_base)
		assert_true(lapic_set_base(vm->vcpus[vcpu]->lapic, apic_base));
	tg_load(vm, msr_start, msr_end);
	tg_set_gate(vm, 13, SNIP_ADDR(msr, gp_handler));
	tg_set_data(vm, 0, msr);
	tg_set_data(vm, 1, 0x5a5a5a5a5a5a5a5aULL); /* untouched on #GP */
	tg_set_data(vm, 2, val);
	tg_set_data(vm, 3, write);
	assert_int_equal(vm_set_capability(vm, vcpu, VM_CAP_HALT_EXIT, 1), 0);
	struct vm_exit e;
	assert_int_equal(vm_run(vm, vcpu, &e), 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	struct msr_result r = { tg_data(vm, 1), tg_data(vm, 4), tg_data(vm, 7),
				tg_data(vm, 6), tg_data(vm, 9) };
	vm_destroy(vm);
	return r;
}

static struct msr_result msr_access(unsigned ncpus, int vcpu,
				    enum vm_cpu_vendor vendor, uint32_t msr,
				    bool write, uint64_t val)
{
	return msr_access_with_base(ncpus, vcpu, vendor, msr, write, val, 0);
}

static void test_apic_base_bsp_and_ap(void **state)
{
	(void)state;
	struct msr_result r = msr_access(2, 0, VM_CPU_VENDOR_INTEL, 0x1b,
					 false, 0);
	assert_int_equal(r.first, 0xfee00900);
	r = msr_access(2, 1, VM_CPU_VENDOR_INTEL, 0x1b, false, 0);
	assert_int_equal(r.first, 0xfee00800);
	assert_int_equal(r.gp_count, 0);
	/* Clearing the enable bit reads back; moving the LAPIC is refused. */
	r = msr_access(1, 0, VM_CPU_VENDOR_INTEL, 0x1b, true, 0xfee00100);
	assert_int_equal(r.after_write, 0xfee00100);
	r = msr_access(1, 0, VM_CPU_VENDOR_INTEL, 0x1b, true, 0xfec00900);
	assert_int_equal(r.gp_count, 1);
}

/* The x2APIC registers are the LAPIC's, through WRMSR/RDMSR on the
 * engine, and only in x2APIC mode; IA32_APIC_BASE switches the mode and
 * refuses the transitions hardware refuses. */
static void test_x2apic_msrs(void **state)
{
	(void)state;
	/* xAPIC -> x2APIC through WRMSR (BSP flag kept). */
	struct msr_result r = msr_access(1, 0, VM_CPU_VENDOR_INTEL, 0x1b, true,
					 0xfee00c00);
	assert_int_equal(r.gp_count, 0);
	assert_int_equal(r.after_write, 0xfee00d00);
	/* The invalid state (EXTD without EN): #GP, nothing changed. */
	r = msr_access(1, 0, VM_CPU_VENDOR_INTEL, 0x1b, true, 0xfee00500);
	assert_int_equal(r.gp_count, 1);
	/* x2APIC -> xAPIC: #GP. */
	r = msr_access_with_base(1, 0, VM_CPU_VENDOR_INTEL, 0x1b, true,
				 0xfee00900, 0xfee00c00);
	assert_int_equal(r.gp_count, 1);
	/* In x2APIC mode: vCPU 1's 32-bit ID, and TPR written and read
	 * back through the MSRs. */
	r = msr_access_with_base(2, 1, VM_CPU_VENDOR_INTEL, 0x802, false, 0,
				 0xfee00c00);
	assert_int_equal(r.gp_count, 0);
	assert_int_equal(r.first, 1);
	r = msr_access_with_base(1, 0, VM_CPU_VENDOR_AMD, 0x808, true, 0x30,
				 0xfee00c00);
	assert_int_equal(r.gp_count, 0);
	assert_int_equal(r.after_write, 0x30);
	/* A read-only register written: #GP on the WRMSR. */
	r = msr_access_with_base(1, 0, VM_CPU_VENDOR_INTEL, 0x802, true, 5,
				 0xfee00c00);
	assert_int_equal(r.gp_count, 1);
	assert_int_equal(r.gp_rip, SNIP_ADDR(msr, wrmsr));
}

/* IA32_TSC_DEADLINE: inert out of TSC-deadline mode (the LVT timer is
 * masked one-shot at reset): the write is dropped and it reads 0, with no
 * #GP. */
static void test_tsc_deadline_msr(void **state)
{
	(void)state;
	struct msr_result r = msr_access(1, 0, VM_CPU_VENDOR_INTEL, 0x6e0,
					 true, 123456789);
	assert_int_equal(r.gp_count, 0);
	assert_int_equal(r.first, 0);
	assert_int_equal(r.after_write, 0);
}

static void check_roundtrip(enum vm_cpu_vendor vendor, uint32_t msr,
			    uint64_t val)
{
	struct msr_result r = msr_access(1, 0, vendor, msr, true, val);
	if (r.gp_count != 0 || r.after_write != val)
		fail_msg("MSR %#x: wrote %#llx, read %#llx (%llu #GP)", msr,
			 (unsigned long long)val,
			 (unsigned long long)r.after_write,
			 (unsigned long long)r.gp_count);
}

static void test_msrs_read_back(void **state)
{
	(void)state;
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000080, 0xd01); /* EFER */
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000081, 0x0023001000000000ULL);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000082, 0xffffffff81000000ULL);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000083, 0xffffffff81000100ULL);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000084, 0x47700);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000100, 0x7f0000001000ULL);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000101, 0xffff888000001000ULL);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000102, 0xffff888000002000ULL);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0x277, 0x0007040600070406ULL);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0xc0000103, 3);
	check_roundtrip(VM_CPU_VENDOR_INTEL, 0x1a0, 0x1);
	check_roundtrip(VM_CPU_VENDOR_AMD, 0xc0000082, 0xffffffff81000000ULL);
	/* AMD NB_CFG: Linux sets EnableCf8ExtCfg */
	check_roundtrip(VM_CPU_VENDOR_AMD, 0xc001001f, 1ULL << 46);
}

/* AMD HWCR: the TSC counts at P0 (TscFreqSel, bit 24), a read-only 1 */
static void test_amd_hwcr(void **state)
{
	(void)state;
	struct msr_result r = msr_access(1, 0, VM_CPU_VENDOR_AMD, 0xc0010015,
					 true, 1ULL << 3);
	assert_int_equal(r.gp_count, 0);
	assert_int_equal(r.first, 1ULL << 24);
	assert_int_equal(r.after_write, (1ULL << 24) | (1ULL << 3));
}

/* Hardware's #GP cases: reserved EFER bit, non-canonical base, bad PAT
 * type, MISC_ENABLE on AMD, and any MSR hvgdb does not model. */
static void check_gp(enum vm_cpu_vendor vendor, uint32_t msr, bool write,
		     uint64_t val)
{
	struct msr_result r = msr_access(1, 0, vendor, msr, write, val);
	if (r.gp_count != 1)
		fail_msg("MSR %#x: %llu #GP, expected 1", msr,
			 (unsigned long long)r.gp_count);
	/* Delivered through the guest IDT with RIP on the instruction. */
	uint64_t at = write ? SNIP_ADDR(msr, wrmsr) : SNIP_ADDR(msr, rdmsr);
	assert_int_equal(r.gp_rip, at);
	if (!write) /* the instructions after RDMSR did not run */
		assert_int_equal(r.first, 0x5a5a5a5a5a5a5a5aULL);
}

static void test_bad_msr_access_raises_gp(void **state)
{
	(void)state;
	check_gp(VM_CPU_VENDOR_INTEL, 0x4b564d00, false, 0); /* unknown */
	check_gp(VM_CPU_VENDOR_INTEL, 0x12345, false, 0);
	check_gp(VM_CPU_VENDOR_INTEL, 0xfe, false, 0); /* MTRRcap: no MTRR */
	check_gp(VM_CPU_VENDOR_AMD, 0x1a0, false, 0);
	/* AMD's own MSRs on the Intel personality */
	check_gp(VM_CPU_VENDOR_INTEL, 0xc0010015, false, 0);
	check_gp(VM_CPU_VENDOR_INTEL, 0xc001001f, false, 0);
	check_gp(VM_CPU_VENDOR_INTEL, 0xc0000080, true, 0xd01 | (1 << 20));
	check_gp(VM_CPU_VENDOR_INTEL, 0xc0000082, true, 0x0000800000000000ULL);
	check_gp(VM_CPU_VENDOR_INTEL, 0x277, true, 0x0007040600070402ULL);
	/* x2APIC registers in xAPIC mode (the mode at reset). */
	check_gp(VM_CPU_VENDOR_INTEL, 0x802, false, 0);
	check_gp(VM_CPU_VENDOR_AMD, 0x830, false, 0);
}

/* RDTSC and IA32_TSC count the VM clock at 1 GHz (CPUID 0x15), and a
 * TSC write moves both. */
static void test_tsc_counts_vm_clock(void **state)
{
	(void)state;
	struct msr_result r = msr_access(1, 0, VM_CPU_VENDOR_INTEL, 0x10,
					 true, 1ULL << 50);
	assert_int_equal(r.gp_count, 0);
	assert_true(r.after_write >= 1ULL << 50);
	assert_true(r.tsc >= r.after_write);
	/* A second after the write would be 1e9 ticks: the guest runs a few
	 * instructions between the two reads, far less. */
	assert_true(r.tsc - (1ULL << 50) < 1000000000ULL);
	/* Without a write the TSC is the VM clock: well below a host TSC
	 * that counted since boot at GHz rates for more than a minute. */
	r = msr_access(1, 0, VM_CPU_VENDOR_INTEL, 0x10, false, 0);
	assert_true(r.first <= r.tsc);
	assert_true(r.tsc < 60ULL * 1000000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_feature_has_a_probe),
		cmocka_unit_test(test_probe_sees_ud),
		cmocka_unit_test(test_advertised_features_execute_intel),
		cmocka_unit_test(test_advertised_features_execute_amd),
		cmocka_unit_test(test_vendor_strings),
		cmocka_unit_test(test_hypervisor_leaf),
		cmocka_unit_test(test_tsc_frequency_leaves),
		cmocka_unit_test(test_apic_id_per_vcpu),
		cmocka_unit_test(test_feature_leaves_are_the_table),
		cmocka_unit_test(test_apic_base_bsp_and_ap),
		cmocka_unit_test(test_x2apic_msrs),
		cmocka_unit_test(test_tsc_deadline_msr),
		cmocka_unit_test(test_msrs_read_back),
		cmocka_unit_test(test_bad_msr_access_raises_gp),
		cmocka_unit_test(test_amd_hwcr),
		cmocka_unit_test(test_tsc_counts_vm_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
