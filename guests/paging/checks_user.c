/*
 * CPL 3. The kernel enters the user task with iretq; the task comes back
 * with syscall (EFER.SCE; STAR gives the selectors, LSTAR the entry point,
 * SFMASK the RFLAGS bits to clear) and returns with sysret; the entry point
 * swaps GS bases with swapgs so it can find its per-CPU data without
 * trusting anything of the user's. The task's page faults arrive in the
 * kernel on the TSS.RSP0 stack with U set in the error code, and the
 * handler's iretq returns to CPL 3.
 */
#include "checks.h"

#include "faults.h"
#include "layout.h"
#include "report.h"
#include "usermode.h"
#include "x86.h"

extern const char user_text_page[], user_after_df_syscall[];
extern const char user_read_super_insn[], user_write_ro_insn[],
	user_read_np_insn[];

#define USER_SYSCALLS 9 /* the SYS_NOTEs and SYS_EXIT in user.S */
#define USER_FAULTS 3

/* Where the task sees a label of user.S. */
static uint64_t user_va(const char *label)
{
	return VA_USER_CODE + (uint64_t)(label - user_text_page);
}

static uint64_t note(const struct percpu *pc, unsigned key)
{
	return pc->noted[key] ? pc->notes[key] : 0xdeadull;
}

static void check_user_fault(unsigned vcpu, const char *name, unsigned index,
			     const struct percpu *pc, uint64_t cr2,
			     uint64_t error, const char *insn)
{
	const struct fault_log *log = fault_log(vcpu);
	struct fault_record none = { 0 };
	const struct fault_record *f =
		index < log->count ? &log->records[index] : &none;
	/* The frame must sit on the kernel stack TSS.RSP0 named, just below
	 * the registers enter_user saved there. */
	bool on_rsp0 = f->frame < pc->saved_rsp && f->frame > pc->saved_rsp - 512;
	bool ok = f->cr2 == cr2 && f->error == error && f->rip == user_va(insn) &&
		  f->cs == SEL_USER_CODE && f->ss == SEL_USER_DATA && on_rsp0;
	check(vcpu, name, ok,
	      "cr2 0x%lx error 0x%lx rip 0x%lx cs 0x%lx ss 0x%lx, frame %s TSS.RSP0%s",
	      f->cr2, f->error, f->rip, f->cs, f->ss, on_rsp0 ? "at" : "not at",
	      ok ? "" : " (see checks_user.c for the expected values)");
}

void checks_user(unsigned vcpu, struct address_space *as)
{
	uint64_t gs_marker = 0x6565000000000000 | vcpu;
	uint64_t user_data = 0xd0d0000000000000 | vcpu;
	phys(as->page_u)[0] = gs_marker; /* %gs:0 for the task */
	phys(as->page_u)[1] = user_data;

	fault_log_reset(vcpu);
	struct percpu *pc = usermode_run(vcpu, VA_USER_DATA);
	const struct fault_log *log = fault_log(vcpu);

	check(vcpu, "user-task-ran",
	      pc->syscalls == USER_SYSCALLS && log->count == USER_FAULTS,
	      "%u system calls, %u page faults", pc->syscalls, log->count);
	check(vcpu, "iretq-to-cpl3",
	      note(pc, NOTE_CS) == SEL_USER_CODE && note(pc, NOTE_SS) == SEL_USER_DATA,
	      "user cs 0x%lx ss 0x%lx", note(pc, NOTE_CS), note(pc, NOTE_SS));

	bool entry_ok = pc->df_cs == SEL_KERNEL_CODE &&
			pc->df_user_rip == user_va(user_after_df_syscall) &&
			(pc->df_user_rflags & RFLAGS_DF) &&
			!(pc->df_entry_rflags & SYSCALL_FLAG_MASK);
	/* Only SFMASK's bits are printed from the kernel's RFLAGS: the SDM
	 * keeps the arithmetic flags through SYSCALL, while QEMU 7.2's TCG
	 * hands the kernel cleared ones (0x2 where hvgdb has 0x46). */
	check(vcpu, "syscall-entry", entry_ok,
	      "kernel cs 0x%lx, rcx 0x%lx, r11 0x%lx, SFMASK bits in kernel "
	      "0x%lx", pc->df_cs, pc->df_user_rip, pc->df_user_rflags,
	      pc->df_entry_rflags & SYSCALL_FLAG_MASK);
	uint64_t after = note(pc, NOTE_RFLAGS_AFTER);
	check(vcpu, "sysret", after == pc->df_user_rflags && (after & RFLAGS_DF),
	      "user rflags after sysret 0x%lx", after);

	bool swapped = pc->df_gs_base == (uint64_t)(uintptr_t)pc &&
		       pc->df_kernel_gs_base == VA_USER_DATA;
	check(vcpu, "swapgs-in-kernel", swapped,
	      "GS base is this vCPU's percpu: %s, KERNEL_GS_BASE 0x%lx",
	      pc->df_gs_base == (uint64_t)(uintptr_t)pc ? "yes" : "no",
	      pc->df_kernel_gs_base);
	check(vcpu, "swapgs-user-gs",
	      note(pc, NOTE_GS_BEFORE) == gs_marker &&
		      note(pc, NOTE_GS_AFTER) == gs_marker,
	      "user %%gs:0 0x%lx before, 0x%lx after system calls",
	      note(pc, NOTE_GS_BEFORE), note(pc, NOTE_GS_AFTER));

	check_user_fault(vcpu, "user-pf-supervisor-page", 0, pc, VA_USER_SUPER,
			 PF_P | PF_U, user_read_super_insn);
	check(vcpu, "user-pf-returns-to-cpl3",
	      note(pc, NOTE_CS_AFTER_PF) == SEL_USER_CODE,
	      "user cs 0x%lx after the handler's iretq",
	      note(pc, NOTE_CS_AFTER_PF));
	check_user_fault(vcpu, "user-pf-write-read-only", 1, pc, VA_USER_RO,
			 PF_P | PF_W | PF_U, user_write_ro_insn);
	check_user_fault(vcpu, "user-pf-not-present", 2, pc, VA_USER_NP, PF_U,
			 user_read_np_insn);
	check(vcpu, "user-data", note(pc, NOTE_USER_DATA) == user_data,
	      "the task read 0x%lx from its data page",
	      note(pc, NOTE_USER_DATA));
}
