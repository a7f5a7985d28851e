#include "usermode.h"

#include <stddef.h>

#include "config.h"
#include "gdt.h"
#include "runtime.h"
#include "x86.h"

_Static_assert(offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "user.S");
_Static_assert(offsetof(struct percpu, kernel_rsp) == PERCPU_KERNEL_RSP, "user.S");
_Static_assert(offsetof(struct percpu, saved_rsp) == PERCPU_SAVED_RSP, "user.S");
_Static_assert(offsetof(struct percpu, tss_rsp0) == PERCPU_TSS_RSP0, "user.S");

extern const char syscall_entry[];
void enter_user(uint64_t rip, uint64_t rsp, struct percpu *pc);
uint64_t syscall_dispatch(uint64_t nr, uint64_t arg0, uint64_t arg1,
			  uint64_t user_rip, uint64_t user_rflags,
			  uint64_t entry_rflags);

static struct percpu percpus[GUEST_MAX_CPUS];

void usermode_setup_cpu(unsigned vcpu)
{
	gdt_load(vcpu);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* syscall: CS = 0x08, SS = 0x10; sysret: CS = 0x18 + 16, SS = 0x18 + 8. */
	wrmsr(MSR_STAR, ((uint64_t)SEL_USER_BASE << 48) |
				((uint64_t)SEL_KERNEL_CODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
	wrmsr(MSR_SFMASK, SYSCALL_FLAG_MASK);
}

uint64_t syscall_dispatch(uint64_t nr, uint64_t arg0, uint64_t arg1,
			  uint64_t user_rip, uint64_t user_rflags,
			  uint64_t entry_rflags)
{
	struct percpu *pc = &percpus[cpu_self()];
	pc->syscalls++;
	if (nr != SYS_NOTE)
		return 1; /* SYS_EXIT, or nonsense: end the task */
	if (arg0 < NOTE_COUNT) {
		pc->noted[arg0] = true;
		pc->notes[arg0] = arg1;
	}
	if (arg0 == NOTE_DF_CALL) {
		pc->df_user_rip = user_rip;
		pc->df_user_rflags = user_rflags;
		pc->df_entry_rflags = entry_rflags;
		pc->df_gs_base = rdmsr(MSR_GS_BASE);
		pc->df_kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
		pc->df_cs = read_cs();
	}
	return 0;
}

struct percpu *usermode_run(unsigned vcpu, uint64_t user_gs_base)
{
	struct percpu *pc = &percpus[vcpu];
	pc->self = pc;
	pc->tss_rsp0 = gdt_tss_rsp0_address(vcpu);
	/* A null GS selector: iretq to CPL 3 would null a DPL 0 selector and
	 * with it the base. Then the bases: the user's now, the kernel's
	 * parked for swapgs. */
	__asm__ volatile("mov %0, %%gs" : : "r"(0) : "memory");
	wrmsr(MSR_GS_BASE, user_gs_base);
	wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)(uintptr_t)pc);

	enter_user(VA_USER_CODE, VA_USER_STACK + 4096, pc);

	/* iretq to CPL 3 nulled DS and ES (DPL 0 descriptors). */
	__asm__ volatile("mov %0, %%ds\n\tmov %0, %%es"
			 :
			 : "r"(SEL_KERNEL_DATA)
			 : "memory");
	return pc;
}
