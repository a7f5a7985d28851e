/*
 * Keeps Unicorn's software TLB sized to what the guest uses.
 *
 * QEMU's (and so Unicorn 2.0.1's) TLB resizes itself only when it is
 * flushed: it doubles when more than 70% of it filled since the last flush
 * and shrinks to fit when less than 30% was used in the last 100 ms. A
 * guest that stops flushing keeps whatever size its last flush chose.
 * Measured: a guest held at its first instruction by a debugger (--wait)
 * booted with a window long expired, its boot-time CR3 loads shrank the
 * TLB to 64 entries, and since it never loaded CR3 again it then ran 3x
 * slower than the same guest started without a debugger (the profile is
 * all tlb_fill and page walks).
 *
 * 2.0.1 offers no way to flush the TLB from outside (its CR3 register
 * write only stores the value), so we call QEMU's own CR3 update, which
 * flushes. Growth takes one flush per doubling, so the first flushes come
 * 10 ms apart; each flush refills the TLB, which cost 12% of a 4-vCPU
 * memory-bound run at a fixed 10 ms, so the period then doubles up to
 * 320 ms (about 0.4%). A debugger stop starts the series over: the stop
 * is what leaves a stale window behind.
 *
 * The CPU state pointer is learned once per engine through the interposed
 * x86_64 RDMSR helper (tcg_msr.c, libunicorn reaches it through its PLT
 * and GOT, as with tcg_store_fastpath.c) during one MSR read.
 */
#include <stddef.h>

#include "vmm/tcg/tcg_internal.h"

#define TLB_RESIZE_MIN_NS 10000000ULL
#define TLB_RESIZE_MAX_NS 320000000ULL

void cpu_x86_update_cr3_x86_64(void *env, uint64_t new_cr3);

void tcg_tlb_sizing_init(struct tcg_vcpu *t)
{
	t->tlb_period = TLB_RESIZE_MIN_NS;
	t->cpu_env = tcg_msr_learn_env(t->uc);
}

void tcg_tlb_sizing_restart(struct tcg_vcpu *t)
{
	t->tlb_period = TLB_RESIZE_MIN_NS;
}

void tcg_keep_tlb_sized(struct tcg_vcpu *t, uint64_t now)
{
	if (!t->cpu_env || now - t->tlb_sized_at < t->tlb_period)
		return;
	t->tlb_sized_at = now;
	if (t->tlb_period < TLB_RESIZE_MAX_NS)
		t->tlb_period *= 2;
	uint64_t cr3 = 0;
	uc_reg_read(t->uc, UC_X86_REG_CR3, &cr3);
	cpu_x86_update_cr3_x86_64(t->cpu_env, cr3);
}
