/*
 * MOV to CR3 as the SDM has it (Vol. 2B, "MOV—Move to/from Control
 * Registers", 64-bit mode exceptions): a 1 in a reserved bit, 63:40 here
 * (MAXPHYADDR is 40, CPUID 0x80000008), raises #GP(0) on the MOV and CR3
 * keeps its value. Unicorn 2.1.1's helper (QEMU 5.0's helper_write_crN)
 * loads any value, and the next page walk reads its tables from wherever
 * the bits point: bad-paging's cr3-reserved-bits triple-faulted one
 * instruction late (QEMU 7.2 hangs on the same guest). The helper is
 * interposed like the MSR helpers (tcg_msr.c): translated code calls it
 * through libunicorn's GOT, with RIP already on the MOV, so the #GP is
 * raised through Unicorn's own exception path and delivered through the
 * guest's IDT. The register API (a debugger's cr3 write) does not use
 * this helper.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>

#include "vmm/tcg/tcg_internal.h"

#define CR3_REG 3
#define MAXPHYADDR 40
#define VECTOR_GP 13

void helper_write_crN_x86_64(void *env, int reg, uint64_t val);
void raise_exception_err_x86_64(void *env, int vector, int error_code);

static void (*real_write_crn)(void *, int, uint64_t);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
	real_write_crn = (void (*)(void *, int, uint64_t))dlsym(
		RTLD_NEXT, "helper_write_crN_x86_64");
}

int tcg_cr_write_init(void)
{
	pthread_once(&resolve_once, resolve);
	return real_write_crn ? 0 : -1;
}

void helper_write_crN_x86_64(void *env, int reg, uint64_t val)
{
	pthread_once(&resolve_once, resolve);
	struct tcg_vcpu *t = tcg_running_engine();
	/* Outside long mode the MOV writes 32 bits: none is reserved. */
	if (t && reg == CR3_REG && (val >> MAXPHYADDR) != 0 &&
	    tcg_in_long_mode(t->uc))
		raise_exception_err_x86_64(env, VECTOR_GP, 0);
	real_write_crn(env, reg, val);
}
