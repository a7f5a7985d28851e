/*
 * Guest events on a Unicorn engine, delivered inside the engine by QEMU's
 * own x86 code (tcg_cpu_internals.h says why):
 * - exceptions, `int n` and `int3` arrive at tcg_hook_intr, which delivers
 *   them through the guest's IDT (or real-mode IVT) on the spot; the engine
 *   runs on into the handler. Only a guest int3 that the VMM wants to see
 *   (VM_CAP_BPT_EXIT) stops the engine instead.
 * - events from outside (LAPIC interrupts, NMIs, exceptions the debugger
 *   injects) are chosen by the run loop before an entry and raised at the
 *   entry's first block, so that they too arrive at tcg_hook_intr, and a
 *   fault while delivering one goes through QEMU's double-fault rules.
 * - SYSCALL is emulated (tcg_syscall.c).
 */
#include <stdio.h>
#include <string.h>

#include "devices/lapic.h"
#include "vmm/sched_trace.h"
#include "vmm/tcg/tcg_internal.h"
#include "vmm/tcg/tcg_syscall.h"

#define CR0_PE 1ULL
#define QEMU_DESC_P (1u << 15)
#define QEMU_DESC_TYPE_SHIFT 8
#define DESC_ACCESS_L (1u << 13)
#define NMI_FRAME_BYTES 40
#define SYSCALL_OPCODE_0 0x0f
#define SYSCALL_OPCODE_1 0x05
#define X86_MAX_INSN_LEN 15
#define VECTOR_DB 1


/*
 * QEMU aborts the whole process (cpu_abort "invalid tss") when protected-
 * mode delivery meets a task register that is not present or not a TSS;
 * a CPU would raise #TS. Such a guest is stopped with a guest fault.
 */
static bool tss_usable(uc_engine *uc)
{
	if (!(tcg_uc_get(uc, UC_X86_REG_CR0) & CR0_PE))
		return true;
	uc_x86_mmr tr = { 0 };
	uc_reg_read(uc, UC_X86_REG_TR, &tr);
	if (!(tr.flags & QEMU_DESC_P))
		return false;
	if (tcg_in_long_mode(uc))
		return true; /* QEMU checks only presence in long mode */
	/* Legacy mode: a 16- or 32-bit TSS, which QEMU keeps marked
	 * available (ltr sets the busy bit only in the GDT). */
	unsigned type = (tr.flags >> QEMU_DESC_TYPE_SHIFT) & 0xf;
	return (type & 7) == 1;
}

static void stop_for_guest_fault(struct vcpu *v, uint32_t vector,
				 const char *why)
{
	struct vm_exit e = { .exitcode = VM_EXITCODE_GUEST_FAULT };
	e.rip = tcg_uc_get(tcg_of(v)->uc, UC_X86_REG_RIP);
	snprintf(e.u.fault.reason, sizeof(e.u.fault.reason),
		 "vCPU %d: vector %u: %s", v->id, vector, why);
	tcg_stop_with_exit(v, &e);
	uc_emu_stop(tcg_of(v)->uc);
}

/* Returns only if delivery succeeded (a fault leaves by longjmp). */
static bool deliver(struct vcpu *v, uint32_t vector)
{
	struct tcg_vcpu *t = tcg_of(v);
	if (!tss_usable(t->uc)) {
		stop_for_guest_fault(v, vector, "delivery through an invalid "
				     "TSS");
		return false;
	}
	tcg_deliver_raised_event(&t->cpu);
	return true;
}

/* The length of the guest's breakpoint instruction that just trapped
 * (RIP is past it), or 0 if it was neither int3 nor `int $3`. */
static int guest_int3_len(struct vcpu *v)
{
	uint64_t rip = tcg_uc_get(tcg_of(v)->uc, UC_X86_REG_RIP) + tcg_code_base(v);
	uint8_t b[2] = { 0, 0 };
	if (tcg_read_linear(v, rip - 1, &b[1], 1) == 0 && b[1] == 0xCC)
		return 1;
	if (tcg_read_linear(v, rip - 2, b, 2) == 0 && b[0] == 0xCD &&
	    b[1] == 3)
		return 2;
	return 0;
}

void tcg_raise_pending_injection(struct vcpu *v, uint64_t block_addr)
{
	struct tcg_vcpu *t = tcg_of(v);
	struct tcg_injection *in = &t->inject;
	in->pending = false;
	/* Only before the entry's first instruction: anywhere else (the
	 * first fetch faulted and a handler runs now) it would land at the
	 * wrong place, perhaps with interrupts off. */
	if (t->blocks_run != 1 || block_addr != in->rip) {
		in->unraised = true;
		return;
	}
	in->raised = true;
	if (in->source == TCG_INJECT_EXTINT)
		lapic_accept_intr(v->lapic, in->vector);
	SCHED_TRACE(vm_now_ns(v->vm), v->id, TRACE_INTERRUPT, in->vector,
		    block_addr);
	tcg_raise_event(&t->cpu, in->vector, in->soft, in->errcode,
			in->next_insn_len);
}

void tcg_hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct vcpu *v = user;
	struct tcg_vcpu *t = tcg_of(v);
	struct tcg_injection *in = &t->inject;
	/* A replayed instruction that faults did not complete: its watch
	 * hits do not count. A #DB is the guest's own single-step trap,
	 * after the instruction. */
	if (t->watch.replaying && intno != VECTOR_DB)
		t->watch.event_in_replay = true;
	if (in->raised && intno == (uint32_t)in->vector) {
		bool nmi = in->source == TCG_INJECT_NMI;
		in->raised = false;
		/* Something else waits: leave at the handler's first block
		 * so the run loop can raise it in the next entry. */
		if (lapic_has_wake_event(v->lapic, true)) {
			if (t->hook_stop == TCG_STOP_NONE)
				t->hook_stop = TCG_STOP_REEVAL;
			atomic_store(&t->stop_flag, true);
		}
		if (deliver(v, intno) && nmi) {
			t->nmi_blocked = true;
			t->nmi_stack_top = tcg_uc_get(uc, UC_X86_REG_RSP) +
					   NMI_FRAME_BYTES;
		}
		return;
	}
	if (intno == 3 && v->caps[VM_CAP_BPT_EXIT] && guest_int3_len(v) > 0) {
		t->intr_seen = true;
		t->intr_no = intno;
		tcg_disarm_step_hook(t);
		uc_emu_stop(uc);
		return;
	}
	deliver(v, intno);
}

bool tcg_hook_invalid_insn(uc_engine *uc, void *user)
{
	(void)uc;
	(void)user;
	return true;
}

/* Prefixes before 0f 05 count in the length Unicorn adds to RIP. */
static unsigned syscall_len(struct vcpu *v, uint64_t rip)
{
	uint8_t b[X86_MAX_INSN_LEN];
	if (tcg_read_linear(v, rip, b, 2) < 0)
		return 2;
	for (unsigned i = 0; i + 1 < sizeof(b); i++) {
		if (i > 0 && tcg_read_linear(v, rip + i, &b[i], 2) < 0)
			break;
		if (b[i] == SYSCALL_OPCODE_0 && b[i + 1] == SYSCALL_OPCODE_1)
			return i + 2;
	}
	return 2;
}

void tcg_hook_syscall(uc_engine *uc, void *user)
{
	struct vcpu *v = user;
	struct seg_desc cs;
	bool code64 = tcg_get_desc(v, VM_REG_GUEST_CS, &cs) == 0 &&
		      (cs.access & DESC_ACCESS_L);
	tcg_emulate_syscall(uc, &tcg_of(v)->cpu,
			    syscall_len(v, tcg_uc_get(uc, UC_X86_REG_RIP)), code64);
}
