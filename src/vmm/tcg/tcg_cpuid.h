/*
 * The CPU model: what CPUID reports (tcg_cpuid.c). One table lists every
 * feature bit hvgdb advertises; tests/unit/vmm/test_cpu_model.c executes an
 * instruction for each one on the real engine, so the table cannot claim
 * what Unicorn does not execute. docs/cpu-model.md says why each is in or out.
 */
#ifndef HVGDB_TCG_CPUID_H
#define HVGDB_TCG_CPUID_H

#include <stddef.h>
#include <stdint.h>

#include "hvgdb/vmm.h"

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

#define CPUID_FOR_INTEL 1u
#define CPUID_FOR_AMD 2u
#define CPUID_FOR_BOTH (CPUID_FOR_INTEL | CPUID_FOR_AMD)

struct cpuid_feature {
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	unsigned bit;
	unsigned vendors; /* CPUID_FOR_* */
	const char *name; /* as in Linux's /proc/cpuinfo */
};

extern const struct cpuid_feature cpuid_features[];
extern const size_t cpuid_nfeatures;

/* What one vCPU's CPUID depends on besides the table. */
struct cpuid_ctx {
	enum vm_cpu_vendor vendor;
	unsigned ncpus;
	unsigned apic_id; /* = vCPU index */
	uint64_t cr4;     /* OSXSAVE is reported from CR4, as on hardware */
};

/* Guest TSC and LAPIC timer input clock, both 1 GHz (see tcg_msr.c). */
#define CPU_MODEL_TSC_HZ 1000000000u
#define CPU_MODEL_BUS_HZ 1000000000u
#define CPU_MODEL_SIGNATURE "hvgdbhvgdb\0\0"
#define CPU_MODEL_HV_MAX_LEAF 0x40000010u
/* KVM's signature, with no paravirtual features (tcg_cpuid.c says why). */
#define CPU_MODEL_KVM_BASE 0x40000100u
#define CPU_MODEL_KVM_SIGNATURE "KVMKVMKVM\0\0\0"

void cpuid_query(const struct cpuid_ctx *c, uint32_t leaf, uint32_t subleaf,
		 uint32_t out[4]);

#endif
