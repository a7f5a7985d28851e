/*
 * CPUID leaf 0's vendor string. Guests print it on an "info:" line ending
 * in "cpu <vendor>", which the e2e tests check to know the guest really
 * ran under the CPU personality (--cpu-vendor) they asked for.
 */
#ifndef GUEST_CPU_VENDOR_H
#define GUEST_CPU_VENDOR_H

#include <stdint.h>

static inline void cpu_vendor(char out[13])
{
	uint32_t a, regs[3];

	/* The string comes in EBX, EDX, ECX. */
	__asm__ volatile("cpuid"
			 : "=a"(a), "=b"(regs[0]), "=d"(regs[1]), "=c"(regs[2])
			 : "a"(0), "c"(0));
	(void)a;
	for (int i = 0; i < 12; i++)
		out[i] = (char)(regs[i / 4] >> (8 * (i % 4)));
	out[12] = 0;
}

#endif
