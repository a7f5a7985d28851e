/*
 * What CPUID reports: hvgdb's own table, not Unicorn's CPU model.
 *
 * Unicorn decodes instructions according to the CPU model it was opened
 * with (tcg_engine.c picks Skylake-Server for intel, EPYC-Rome for amd, so
 * that every feature below is decoded), but the CPUID it would report
 * from that model claims more than it executes (AVX-512, PKU, ...). A
 * UC_HOOK_INSN hook on CPUID answers from here instead; in Unicorn 2.1.1
 * a non-zero return from that hook skips Unicorn's own CPUID
 * (qemu/target/i386/misc_helper.c, helper_cpuid).
 *
 * Rules: a feature is listed only if Unicorn 2.1.1 executes it (every bit
 * has a probe in tests/unit/vmm/test_cpu_model.c that fails on #UD) and
 * hvgdb supports what it implies (MSRs, paging bits). Leaves not listed
 * read as zero; reasons for what is left out are in docs/cpu-model.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vmm/tcg/tcg_cpuid.h"
#include "vmm/tcg/tcg_internal.h"

#define B CPUID_FOR_BOTH

const struct cpuid_feature cpuid_features[] = {
	/* Leaf 1 EDX. */
	{ 1, 0, CPUID_EDX, 0, B, "fpu" },
	{ 1, 0, CPUID_EDX, 2, B, "de" },
	{ 1, 0, CPUID_EDX, 3, B, "pse" },
	{ 1, 0, CPUID_EDX, 4, B, "tsc" },
	{ 1, 0, CPUID_EDX, 5, B, "msr" },
	{ 1, 0, CPUID_EDX, 6, B, "pae" },
	{ 1, 0, CPUID_EDX, 8, B, "cx8" },
	{ 1, 0, CPUID_EDX, 9, B, "apic" },
	{ 1, 0, CPUID_EDX, 13, B, "pge" },
	{ 1, 0, CPUID_EDX, 15, B, "cmov" },
	{ 1, 0, CPUID_EDX, 16, B, "pat" },
	{ 1, 0, CPUID_EDX, 17, B, "pse36" },
	{ 1, 0, CPUID_EDX, 19, B, "clflush" },
	{ 1, 0, CPUID_EDX, 23, B, "mmx" },
	{ 1, 0, CPUID_EDX, 24, B, "fxsr" },
	{ 1, 0, CPUID_EDX, 25, B, "sse" },
	{ 1, 0, CPUID_EDX, 26, B, "sse2" },
	/* Leaf 1 ECX. OSXSAVE (27) follows CR4; HYPERVISOR (31) always. */
	{ 1, 0, CPUID_ECX, 0, B, "pni" },
	{ 1, 0, CPUID_ECX, 1, B, "pclmulqdq" },
	{ 1, 0, CPUID_ECX, 9, B, "ssse3" },
	{ 1, 0, CPUID_ECX, 13, B, "cx16" },
	{ 1, 0, CPUID_ECX, 19, B, "sse4_1" },
	{ 1, 0, CPUID_ECX, 20, B, "sse4_2" },
	/* The LAPIC's MSR interface and TSC-deadline timer (lapic.c). */
	{ 1, 0, CPUID_ECX, 21, B, "x2apic" },
	{ 1, 0, CPUID_ECX, 22, B, "movbe" },
	{ 1, 0, CPUID_ECX, 23, B, "popcnt" },
	{ 1, 0, CPUID_ECX, 24, B, "tsc_deadline_timer" },
	{ 1, 0, CPUID_ECX, 25, B, "aes" },
	{ 1, 0, CPUID_ECX, 26, B, "xsave" },
	{ 1, 0, CPUID_ECX, 30, B, "rdrand" },
	/* Leaf 6 EAX: the LAPIC timer keeps counting in hlt. */
	{ 6, 0, CPUID_EAX, 2, B, "arat" },
	/* Leaf 7.0 EBX. */
	{ 7, 0, CPUID_EBX, 0, B, "fsgsbase" },
	{ 7, 0, CPUID_EBX, 3, B, "bmi1" },
	{ 7, 0, CPUID_EBX, 7, B, "smep" },
	{ 7, 0, CPUID_EBX, 8, B, "bmi2" },
	{ 7, 0, CPUID_EBX, 9, B, "erms" },
	{ 7, 0, CPUID_EBX, 19, B, "adx" },
	{ 7, 0, CPUID_EBX, 20, B, "smap" },
	{ 7, 0, CPUID_EBX, 23, B, "clflushopt" },
	{ 7, 0, CPUID_EBX, 24, B, "clwb" },
	/* Leaf 0xD.1 EAX. */
	{ 0xd, 1, CPUID_EAX, 0, B, "xsaveopt" },
	{ 0xd, 1, CPUID_EAX, 2, B, "xgetbv1" },
	/* Leaf 0x80000001 ECX / EDX. */
	{ 0x80000001, 0, CPUID_ECX, 0, B, "lahf_lm" },
	{ 0x80000001, 0, CPUID_ECX, 5, B, "abm" },
	{ 0x80000001, 0, CPUID_ECX, 8, B, "3dnowprefetch" },
	{ 0x80000001, 0, CPUID_EDX, 11, B, "syscall" },
	{ 0x80000001, 0, CPUID_EDX, 20, B, "nx" },
	{ 0x80000001, 0, CPUID_EDX, 26, B, "pdpe1gb" },
	{ 0x80000001, 0, CPUID_EDX, 27, B, "rdtscp" },
	{ 0x80000001, 0, CPUID_EDX, 29, B, "lm" },
	/* Leaf 0x80000007 EDX: the TSC runs at one rate (tcg_msr.c). */
	{ 0x80000007, 0, CPUID_EDX, 8, B, "constant_tsc" },
};
const size_t cpuid_nfeatures = sizeof(cpuid_features) / sizeof(cpuid_features[0]);

#undef B

#define INTEL_MAX_BASIC 0x16u
#define AMD_MAX_BASIC 0xdu
#define MAX_EXTENDED 0x80000008u
/* Family/model/stepping of the Unicorn model that decodes for us:
 * Skylake-Server (6/85/4) and EPYC-Rome (0x17/49/0). */
#define INTEL_SIGNATURE 0x00050654u
#define AMD_SIGNATURE 0x00830f10u
#define LEAF1_ECX_OSXSAVE (1u << 27)
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_EDX_HTT (1u << 28)
#define CR4_OSXSAVE (1ULL << 18)
/* Leaf 1 EDX bits AMD repeats in 0x80000001 EDX. */
#define AMD_EDX_ALIASES 0x0183f3ffu
/* 40 physical address bits (Unicorn's, for reserved-bit checks), 48
 * linear. */
#define ADDRESS_SIZES 0x3028u
/* XSAVE components: x87 and SSE only; the area is 512 + 64 bytes. */
#define XSAVE_COMPONENTS 0x3u
#define XSAVE_AREA_SIZE 576u

static const char intel_vendor[12] = "GenuineIntel";
static const char amd_vendor[12] = "AuthenticAMD";
static const char brand[48] = "hvgdb virtual CPU";

static unsigned vendor_bit(enum vm_cpu_vendor v)
{
	return v == VM_CPU_VENDOR_AMD ? CPUID_FOR_AMD : CPUID_FOR_INTEL;
}

/* The table's bits for one register of one leaf. */
static uint32_t table_bits(enum vm_cpu_vendor v, uint32_t leaf, uint32_t sub,
			   enum cpuid_reg reg)
{
	uint32_t bits = 0;
	for (size_t i = 0; i < cpuid_nfeatures; i++) {
		const struct cpuid_feature *f = &cpuid_features[i];
		if (f->leaf == leaf && f->subleaf == sub && f->reg == reg &&
		    (f->vendors & vendor_bit(v)))
			bits |= 1u << f->bit;
	}
	return bits;
}

static void fill_table_leaf(const struct cpuid_ctx *c, uint32_t leaf,
			    uint32_t sub, uint32_t out[4])
{
	for (int r = CPUID_EAX; r <= CPUID_EDX; r++)
		out[r] = table_bits(c->vendor, leaf, sub, (enum cpuid_reg)r);
}

/* Vendor strings go EBX, EDX, ECX. */
static void put_vendor(const char name[12], uint32_t out[4])
{
	memcpy(&out[CPUID_EBX], name, 4);
	memcpy(&out[CPUID_EDX], name + 4, 4);
	memcpy(&out[CPUID_ECX], name + 8, 4);
}

/* Smallest power of two >= n: the width APIC IDs are counted in. */
static unsigned pow2_at_least(unsigned n)
{
	unsigned p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static unsigned log2_of_pow2(unsigned p)
{
	unsigned s = 0;
	while ((1u << s) < p)
		s++;
	return s;
}

static void leaf1(const struct cpuid_ctx *c, uint32_t out[4])
{
	fill_table_leaf(c, 1, 0, out);
	out[CPUID_EAX] = c->vendor == VM_CPU_VENDOR_AMD ? AMD_SIGNATURE
							: INTEL_SIGNATURE;
	/* APIC ID, addressable logical CPUs, CLFLUSH line in 8-byte units. */
	out[CPUID_EBX] = (c->apic_id << 24) |
			 (pow2_at_least(c->ncpus) << 16) | (64 / 8) << 8;
	out[CPUID_ECX] |= LEAF1_ECX_HYPERVISOR;
	if (c->cr4 & CR4_OSXSAVE)
		out[CPUID_ECX] |= LEAF1_ECX_OSXSAVE;
	if (c->ncpus > 1)
		out[CPUID_EDX] |= LEAF1_EDX_HTT;
}

/* Intel deterministic cache parameters: L1d, L1i, L2 per core, one L3. */
static void leaf4(const struct cpuid_ctx *c, uint32_t sub, uint32_t out[4])
{
	static const struct {
		unsigned type, level, ways, sets;
		bool shared;
	} caches[] = {
		{ 1, 1, 8, 64, false },     /* 32 KiB data */
		{ 2, 1, 8, 64, false },     /* 32 KiB instruction */
		{ 3, 2, 16, 1024, false },  /* 1 MiB unified */
		{ 3, 3, 16, 16384, true },  /* 16 MiB unified, shared */
	};
	unsigned width = pow2_at_least(c->ncpus);
	if (sub >= sizeof(caches) / sizeof(caches[0]))
		return;
	out[CPUID_EAX] = caches[sub].type | caches[sub].level << 5 |
			 1u << 8 /* self-initialising */ |
			 (caches[sub].shared ? width - 1 : 0) << 14 |
			 (width - 1) << 26;
	out[CPUID_EBX] = (caches[sub].ways - 1) << 22 | (64 - 1);
	out[CPUID_ECX] = caches[sub].sets - 1;
}

/* Extended topology: one thread per core, every vCPU a core of one
 * package. */
static void leaf_b(const struct cpuid_ctx *c, uint32_t sub, uint32_t out[4])
{
	out[CPUID_EDX] = c->apic_id;
	out[CPUID_ECX] = sub & 0xff;
	if (sub == 0) {
		out[CPUID_EAX] = 0;
		out[CPUID_EBX] = 1;
		out[CPUID_ECX] |= 1u << 8; /* SMT level */
	} else if (sub == 1) {
		out[CPUID_EAX] = log2_of_pow2(pow2_at_least(c->ncpus));
		out[CPUID_EBX] = c->ncpus;
		out[CPUID_ECX] |= 2u << 8; /* core level */
	}
}

static void leaf_d(const struct cpuid_ctx *c, uint32_t sub, uint32_t out[4])
{
	if (sub == 0) {
		out[CPUID_EAX] = XSAVE_COMPONENTS;
		out[CPUID_EBX] = XSAVE_AREA_SIZE;
		out[CPUID_ECX] = XSAVE_AREA_SIZE;
	} else if (sub == 1) {
		fill_table_leaf(c, 0xd, 1, out);
	}
	/* x87 and SSE live in the legacy area: no component leaves. */
}

static void put_text(const char *s, uint32_t out[4])
{
	memcpy(out, s, 16);
}

static void extended_leaf(const struct cpuid_ctx *c, uint32_t leaf,
			  uint32_t out[4])
{
	bool amd = c->vendor == VM_CPU_VENDOR_AMD;
	unsigned width = pow2_at_least(c->ncpus);
	switch (leaf) {
	case 0x80000000:
		out[CPUID_EAX] = MAX_EXTENDED;
		if (amd)
			put_vendor(amd_vendor, out);
		break;
	case 0x80000001: {
		fill_table_leaf(c, leaf, 0, out);
		if (amd) {
			uint32_t l1[4] = { 0 };
			leaf1(c, l1);
			out[CPUID_EAX] = l1[CPUID_EAX];
			out[CPUID_EDX] |= l1[CPUID_EDX] & AMD_EDX_ALIASES;
		}
		break;
	}
	case 0x80000002:
	case 0x80000003:
	case 0x80000004:
		put_text(brand + 16 * (leaf - 0x80000002), out);
		break;
	case 0x80000005:
		if (amd) { /* L1d and L1i: 32 KiB, 8-way, 64-byte lines */
			out[CPUID_ECX] = 32u << 24 | 8u << 16 | 1u << 8 | 64;
			out[CPUID_EDX] = out[CPUID_ECX];
		}
		break;
	case 0x80000006:
		/* L2 1 MiB 16-way (AMD's code 8); L3 16 MiB on AMD. */
		out[CPUID_ECX] = 1024u << 16 | 8u << 12 | 64;
		if (amd)
			out[CPUID_EDX] = 32u << 18 | 8u << 12 | 64;
		break;
	case 0x80000007:
		fill_table_leaf(c, leaf, 0, out);
		break;
	case 0x80000008:
		out[CPUID_EAX] = ADDRESS_SIZES;
		if (amd)
			out[CPUID_ECX] = (c->ncpus - 1) |
					 log2_of_pow2(width) << 12;
		break;
	default:
		break;
	}
}

/*
 * Two hypervisor leaf ranges, as KVM with Hyper-V enlightenments has: hvgdb's
 * own at 0x40000000, and at 0x40000100 KVM's signature with no
 * paravirtual feature and no hint (0x40000101 all zero). Linux allows x2APIC
 * without interrupt remapping only under a hypervisor that says so
 * (x86_init.hyper.x2apic_available; for KVM, the signature is enough);
 * there is nothing else it can use from that range.
 */
static void hypervisor_leaf(uint32_t leaf, uint32_t out[4])
{
	if (leaf == CPU_MODEL_KVM_BASE) {
		out[CPUID_EAX] = CPU_MODEL_KVM_BASE + 1;
		memcpy(&out[CPUID_EBX], CPU_MODEL_KVM_SIGNATURE, 12);
	} else if (leaf == 0x40000000) {
		out[CPUID_EAX] = CPU_MODEL_HV_MAX_LEAF;
		memcpy(&out[CPUID_EBX], CPU_MODEL_SIGNATURE, 12);
	} else if (leaf == 0x40000010) {
		/* The timing leaf VMware introduced: TSC and LAPIC bus in
		 * kHz, for kernels that look here rather than at 0x15. */
		out[CPUID_EAX] = CPU_MODEL_TSC_HZ / 1000;
		out[CPUID_EBX] = CPU_MODEL_BUS_HZ / 1000;
	}
}

static void basic_leaf(const struct cpuid_ctx *c, uint32_t leaf, uint32_t sub,
		       uint32_t out[4])
{
	bool amd = c->vendor == VM_CPU_VENDOR_AMD;
	switch (leaf) {
	case 0:
		out[CPUID_EAX] = amd ? AMD_MAX_BASIC : INTEL_MAX_BASIC;
		put_vendor(amd ? amd_vendor : intel_vendor, out);
		break;
	case 1:
		leaf1(c, out);
		break;
	case 2: /* one round; descriptor 0xff: "see leaf 4" */
		if (!amd)
			out[CPUID_EAX] = 0x0000ff01;
		break;
	case 4:
		if (!amd)
			leaf4(c, sub, out);
		break;
	case 6:
		fill_table_leaf(c, 6, 0, out);
		break;
	case 7:
		if (sub == 0)
			fill_table_leaf(c, 7, 0, out);
		break;
	case 0xb:
		if (!amd)
			leaf_b(c, sub, out);
		break;
	case 0xd:
		leaf_d(c, sub, out);
		break;
	case 0x15: /* TSC = crystal * EBX / EAX; the crystal also drives the
		    * LAPIC timer, which counts at 1 GHz before its divider. */
		out[CPUID_EAX] = 1;
		out[CPUID_EBX] = CPU_MODEL_TSC_HZ / CPU_MODEL_BUS_HZ;
		out[CPUID_ECX] = CPU_MODEL_BUS_HZ;
		break;
	case 0x16: /* base, maximum and bus frequency in MHz */
		out[CPUID_EAX] = CPU_MODEL_TSC_HZ / 1000000;
		out[CPUID_EBX] = CPU_MODEL_TSC_HZ / 1000000;
		out[CPUID_ECX] = CPU_MODEL_BUS_HZ / 1000000;
		break;
	default:
		break;
	}
}

void cpuid_query(const struct cpuid_ctx *c, uint32_t leaf, uint32_t sub,
		 uint32_t out[4])
{
	bool amd = c->vendor == VM_CPU_VENDOR_AMD;
	uint32_t max_basic = amd ? AMD_MAX_BASIC : INTEL_MAX_BASIC;
	memset(out, 0, 4 * sizeof(out[0]));
	if (leaf >= 0x40000000 && leaf <= CPU_MODEL_KVM_BASE + 0xff) {
		hypervisor_leaf(leaf, out);
		return;
	}
	bool extended = leaf >= 0x80000000;
	bool out_of_range = extended ? leaf > MAX_EXTENDED : leaf > max_basic;
	if (out_of_range) {
		/* Intel answers with its highest basic leaf, AMD with 0. */
		if (!amd)
			basic_leaf(c, max_basic, sub, out);
		return;
	}
	if (extended)
		extended_leaf(c, leaf, out);
	else
		basic_leaf(c, leaf, sub, out);
}

/* ---- The engine hook ----------------------------------------------------- */

static int hook_cpuid(uc_engine *uc, void *user)
{
	struct vcpu *v = user;
	uint64_t rax = 0, rcx = 0, cr4 = 0;
	uc_reg_read(uc, UC_X86_REG_RAX, &rax);
	uc_reg_read(uc, UC_X86_REG_RCX, &rcx);
	uc_reg_read(uc, UC_X86_REG_CR4, &cr4);
	struct cpuid_ctx c = { v->vm->vendor, v->vm->ncpus, (unsigned)v->id,
			       cr4 };
	uint32_t r[4];
	cpuid_query(&c, (uint32_t)rax, (uint32_t)rcx, r);
	static const int regs[4] = { UC_X86_REG_RAX, UC_X86_REG_RBX,
				     UC_X86_REG_RCX, UC_X86_REG_RDX };
	for (int i = 0; i < 4; i++) {
		uint64_t x = r[i]; /* CPUID zero-extends into RAX..RDX */
		uc_reg_write(uc, regs[i], &x);
	}
	return 1; /* skip Unicorn's own CPUID */
}

int tcg_cpuid_init(struct vcpu *v)
{
	uc_hook h;
	uc_err e = uc_hook_add(tcg_of(v)->uc, &h, UC_HOOK_INSN,
			       (void *)hook_cpuid, v, 1, 0, UC_X86_INS_CPUID);
	return e == UC_ERR_OK ? 0 : -EINVAL;
}
