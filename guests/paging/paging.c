/*
 * paging: the guest builds its own 4-level page tables and checks x86-64
 * paging end to end: pages of all three sizes at virtual != physical
 * addresses, aliases, #PF error codes and CR2, accessed/dirty bits, TLB
 * invalidation after remapping data and code, and a CPL 3 task with
 * syscall/sysret and its own page faults. Every vCPU runs every check in an
 * address space of its own; the BSP prints all results in vCPU order.
 *
 * Arguments: "live" prints each result at once too, as an info: line;
 * "skip-mappings", "skip-faults", "skip-tlb", "skip-user" leave out a group;
 * "debug" runs no checks but a loop for a debugger (debug_target.h).
 *
 * Reading order: layout.h (the address space), address_space.c (building
 * it), then checks_mappings.c, checks_faults.c, checks_tlb.c, checks_user.c.
 */
#include <stdint.h>

#include "address_space.h"
#include "barrier.h"
#include "checks.h"
#include "cmdline.h"
#include "cpu_vendor.h"
#include "debug_target.h"
#include "faults.h"
#include "report.h"
#include "runtime.h"
#include "uart.h"
#include "usermode.h"
#include "x86.h"

#define CPUID_EXT_FEATURES 0x80000001u
#define EXT_EDX_SYSCALL (1u << 11)
#define EXT_EDX_NX (1u << 20)
#define EXT_EDX_1G_PAGES (1u << 26)

/* In order: later groups rely on nothing earlier ones did, so each can be
 * skipped, e.g. to see how the others fare on a hypervisor that hangs in
 * one of them. */
static const struct {
	const char *skip_flag;
	void (*run)(unsigned vcpu, struct address_space *as);
} groups[] = {
	{ "skip-mappings", checks_mappings },
	{ "skip-faults", checks_faults },
	{ "skip-tlb", checks_tlb },
	{ "skip-user", checks_user },
};

static struct barrier paging_barrier = BARRIER_ALL_CPUS;
static struct address_space spaces[GUEST_MAX_CPUS];

/* A kernel must not use what CPUID does not advertise. */
static void check_cpuid(unsigned vcpu)
{
	uint32_t a, b, c, d;
	cpuid(CPUID_EXT_FEATURES, &a, &b, &c, &d);
	unsigned nx = !!(d & EXT_EDX_NX), sc = !!(d & EXT_EDX_SYSCALL);
	unsigned gb = !!(d & EXT_EDX_1G_PAGES);
	check(vcpu, "cpuid", nx && sc && gb, "NX %u SYSCALL %u 1 GiB pages %u",
	      nx, sc, gb);
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	if (vcpu == 0) {
		char vendor[13];

		cpu_vendor(vendor);
		uart_printf("info: paging on %u vcpus, cpu %s\n", ncpus, vendor);
		faults_install();
		report_set_live(cmdline_has_flag(cmdline, "live"));
	}
	barrier_wait(&paging_barrier);

	check_cpuid(vcpu);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	usermode_setup_cpu(vcpu);
	struct address_space *as = &spaces[vcpu];
	address_space_build(as, vcpu);
	write_cr3(as->cr3);
	if (cmdline_has_flag(cmdline, "debug"))
		debug_target_run(vcpu, as);

	for (unsigned i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (!cmdline_has_flag(cmdline, groups[i].skip_flag))
			groups[i].run(vcpu, as);

	barrier_wait(&paging_barrier);
	if (vcpu != 0)
		return 0;
	unsigned failed = report_print_all(ncpus);
	uart_printf("paging: %s\n", failed ? "FAIL" : "PASS");
	return failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
