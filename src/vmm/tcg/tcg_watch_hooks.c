/*
 * The two QEMU watchpoint functions Unicorn 2.1.1 stubs out, interposed
 * (libunicorn calls both through its PLT):
 * - cpu_watchpoint_address_matches: asked whenever a TLB entry is filled,
 *   for the entry's page of linear addresses; its answer flags the entry
 *   so that reads and/or writes of that page leave the fast path.
 * - cpu_check_watchpoint: called by the slow path of a flagged entry, for
 *   every access, before it is made, with the host return address into
 *   the translated block.
 * See tcg_watch.c for what a hit leads to. Only the engine this thread is
 * running takes part (the start-up self-test's scratch engine and any
 * other engine pass straight through).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdbool.h>

#include "vmm/tcg/tcg_internal.h"

/* QEMU's BP_MEM_READ and BP_MEM_WRITE. */
#define QEMU_BP_MEM_READ 0x01
#define QEMU_BP_MEM_WRITE 0x02
/* No single guest access is wider (16-byte SSE moves are two). */
#define MAX_ACCESS_LEN 8
#define PAGE_MASK_4K (~0xfffULL)

int cpu_watchpoint_address_matches_x86_64(void *cs, uint64_t addr,
					  uint64_t len);
void cpu_check_watchpoint_x86_64(void *cs, uint64_t addr, uint64_t len,
				 uint32_t attrs, int flags, uintptr_t ra);
bool cpu_restore_state_x86_64(void *cs, uintptr_t host_pc, bool will_exit);
_Noreturn void cpu_loop_exit_noexc_x86_64(void *cs);

static struct tcg_vcpu *engine_of(void *cs)
{
	struct tcg_vcpu *t = tcg_running_engine();
	return t && t->cpu.cs == cs ? t : NULL;
}

int cpu_watchpoint_address_matches_x86_64(void *cs, uint64_t addr,
					  uint64_t len)
{
	(void)len; /* a page */
	struct tcg_vcpu *t = engine_of(cs);
	if (!t || !tcg_watch_any_data(&t->watch))
		return 0;
	int f = tcg_watch_page_flags(&t->watch, addr & PAGE_MASK_4K);
	return ((f & TCG_WATCH_PAGE_READ) ? QEMU_BP_MEM_READ : 0) |
	       ((f & TCG_WATCH_PAGE_WRITE) ? QEMU_BP_MEM_WRITE : 0);
}

static void merge_hits(struct tcg_watch_hits *into,
		       const struct tcg_watch_hits *h)
{
	if (h->debugger && !into->debugger) {
		into->debugger = true;
		into->kind = h->kind;
		into->addr = h->addr;
		into->hit = h->hit;
	}
	into->guest_dr_bits |= h->guest_dr_bits;
}

/*
 * QEMU 5.0's store of an unaligned value that stays inside one page first
 * checks two bogus ranges, then stores byte by byte, checking each byte
 * exactly: (addr, len) with len "negative" (over 2^63), then (start of
 * the page, offset of the end of the store). The second would match a
 * watch on bytes before the store; both are skipped (the byte stores that
 * follow are checked).
 */
static bool bogus_unaligned_precheck(struct tcg_watch_state *w, uint64_t addr,
				     uint64_t len)
{
	if (len > MAX_ACCESS_LEN) {
		w->skip_next_check = true;
		w->skip_page = addr & PAGE_MASK_4K;
		return true;
	}
	if (w->skip_next_check) {
		w->skip_next_check = false;
		if (addr == w->skip_page)
			return true;
	}
	return false;
}

void cpu_check_watchpoint_x86_64(void *cs, uint64_t addr, uint64_t len,
				 uint32_t attrs, int flags, uintptr_t ra)
{
	(void)attrs;
	struct tcg_vcpu *t = engine_of(cs);
	if (!t || len == 0)
		return;
	struct tcg_watch_state *w = &t->watch;
	if (bogus_unaligned_precheck(w, addr, len))
		return;
	struct tcg_watch_hits h = { 0 };
	if (!tcg_watch_match(w, addr, len, flags & QEMU_BP_MEM_WRITE, &h))
		return;
	if (w->replaying) {
		merge_hits(&w->hits, &h);
		return;
	}
	/* No translated instruction to roll back (ra 0: QEMU delivering an
	 * event): the access completes with the delivery, and the hit is
	 * reported at the next block, the handler's first. */
	if (ra == 0 || !cpu_restore_state_x86_64(cs, ra, true)) {
		merge_hits(&w->hits, &h);
		w->hits_without_replay = true;
		atomic_store(&t->stop_flag, true);
		return;
	}
	/* Rolled back to the start of the instruction: stop there, and the
	 * next entry runs it alone (tcg_watch.c). */
	w->replay_pending = true;
	uc_emu_stop(t->uc);
	cpu_loop_exit_noexc_x86_64(cs);
}

int tcg_watch_hooks_init(void)
{
	/* Our definitions only matter if libunicorn calls these names. */
	return dlsym(RTLD_NEXT, "cpu_check_watchpoint_x86_64") &&
			       dlsym(RTLD_NEXT,
				     "cpu_watchpoint_address_matches_x86_64")
		       ? 0
		       : -1;
}
