/*
 * Watchpoints and hardware breakpoints on one engine (tcg_watch.h).
 *
 * Data watches use QEMU's own mechanism, which Unicorn 2.1.1 keeps in its
 * TLB code but stubs out above it: a TLB entry filled for a watched page
 * of linear addresses gets a flag that sends every access to that page
 * through the slow path, where each access is checked against the watched
 * ranges (tcg_watch_hooks.c interposes the two stubs). Pages nobody
 * watches keep their fast path, so a guest runs at full speed until it
 * touches a watched page. The TLB is keyed by linear address, so a watch
 * follows the vCPU's page tables at the time of the access, as a debug
 * register does (Unicorn's own memory hooks see physical addresses and
 * send every access of the engine through the slow path).
 *
 * x86 reports data breakpoints after the instruction (a trap), but the
 * check runs before the access. So the first hit rolls the instruction
 * back (QEMU restores the state from the translated block) and stops the
 * engine; the next entry runs that one instruction alone (the single-step
 * machinery of tcg_run.c) while the hits are collected, and the exit or
 * the guest's #DB comes after it completed. Hits made while an event is
 * delivered (a stack push of an interrupt frame) have no instruction to
 * roll back: they are collected as they happen and reported at the
 * handler's first instruction, as hardware would.
 *
 * EXEC watches are Unicorn code hooks on their address, added and removed
 * by each engine itself before it runs (blocks translated without the
 * hook are dropped by physical address, the whole cache when the address
 * does not translate now). A code hook stops before its instruction.
 */
#include "vmm/tcg/tcg_watch.h"

#include <string.h>

#include "vmm/tcg/tcg_internal.h"

#define PAGE_SIZE 4096ULL

void tcg_watch_init(struct tcg_watch_state *w)
{
	memset(w, 0, sizeof(*w));
	w->exec_skip = TCG_NO_ADDR;
	w->entry_pc = TCG_NO_ADDR;
}

bool tcg_watch_any_data(const struct tcg_watch_state *w)
{
	return w->ndbg > 0 || w->nguest > 0;
}

static bool overlaps(const struct tcg_watch_range *r, uint64_t first,
		     uint64_t last)
{
	return first < r->end && r->start <= last;
}

static int range_flags(const struct tcg_watch_range *r)
{
	return (r->on_read ? TCG_WATCH_PAGE_READ : 0) |
	       (r->on_write ? TCG_WATCH_PAGE_WRITE : 0);
}

int tcg_watch_page_flags(const struct tcg_watch_state *w, uint64_t page_start)
{
	uint64_t last = page_start + (PAGE_SIZE - 1);
	int flags = 0;
	for (unsigned i = 0; i < w->ndbg; i++)
		if (overlaps(&w->dbg[i], page_start, last))
			flags |= range_flags(&w->dbg[i]);
	for (unsigned i = 0; i < w->nguest; i++)
		if (overlaps(&w->guest[i], page_start, last))
			flags |= range_flags(&w->guest[i]);
	return flags;
}

bool tcg_watch_match(const struct tcg_watch_state *w, uint64_t addr,
		     uint64_t len, bool write, struct tcg_watch_hits *h)
{
	uint64_t last = addr + (len - 1);
	bool any = false;
	for (unsigned i = 0; i < w->ndbg; i++) {
		const struct tcg_watch_range *r = &w->dbg[i];
		if (!(write ? r->on_write : r->on_read) ||
		    !overlaps(r, addr, last))
			continue;
		any = true;
		if (!h->debugger) {
			h->debugger = true;
			h->kind = r->kind;
			h->addr = r->addr;
			h->hit = addr > r->start ? addr : r->start;
		}
	}
	for (unsigned i = 0; i < w->nguest; i++) {
		const struct tcg_watch_range *r = &w->guest[i];
		if ((write ? r->on_write : r->on_read) &&
		    overlaps(r, addr, last)) {
			any = true;
			h->guest_dr_bits |= 1u << r->dr_index;
		}
	}
	return any;
}

/* ---- Taking the debugger's changes -------------------------------------- */

static void fill_data_range(struct tcg_watch_range *r, const struct vm_watch *src)
{
	memset(r, 0, sizeof(*r));
	r->start = src->addr;
	/* VM_MAX_WATCH_LEN keeps this from wrapping but for the very top
	 * of the address space, where end 0 would mean "empty" */
	r->end = src->addr + src->len;
	if (r->end == 0)
		r->end = UINT64_MAX;
	r->on_read = src->kind == VM_WATCH_READ || src->kind == VM_WATCH_ACCESS;
	r->on_write = src->kind == VM_WATCH_WRITE ||
		      src->kind == VM_WATCH_ACCESS;
	r->kind = src->kind;
	r->addr = src->addr;
	r->dr_index = -1;
}

static bool same_ranges(const struct tcg_watch_range *a, unsigned na,
			const struct tcg_watch_range *b, unsigned nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

/* Drops the blocks that may hold the instruction at addr, translated with
 * or without an EXEC hook there. */
static void drop_exec_blocks(struct vcpu *v, uint64_t addr)
{
	uint64_t gpa;
	if (vcpu_gla2gpa(v, addr, VM_PROT_EXECUTE, &gpa) == 0)
		tcg_invalidate_phys(tcg_of(v), gpa, gpa + 1);
	else
		/* Blocks of another mapping of addr may still be cached. */
		tcg_code_buffer_flush(tcg_of(v));
}

static bool contains(const uint64_t *set, unsigned n, uint64_t addr)
{
	for (unsigned i = 0; i < n; i++)
		if (set[i] == addr)
			return true;
	return false;
}

static void sync_exec(struct vcpu *v, const uint64_t *want, unsigned nwant)
{
	struct tcg_vcpu *t = tcg_of(v);
	struct tcg_watch_state *w = &t->watch;
	for (unsigned i = 0; i < w->nexec;) {
		if (contains(want, nwant, w->exec[i])) {
			i++;
			continue;
		}
		uc_hook_del(t->uc, w->exec_hook[i]);
		drop_exec_blocks(v, w->exec[i]);
		w->nexec--;
		w->exec[i] = w->exec[w->nexec];
		w->exec_hook[i] = w->exec_hook[w->nexec];
	}
	for (unsigned i = 0; i < nwant; i++) {
		uint64_t a = want[i];
		if (contains(w->exec, w->nexec, a))
			continue;
		uc_hook h;
		if (uc_hook_add(t->uc, &h, UC_HOOK_CODE,
				(void *)tcg_watch_exec_hook, v, a,
				a) != UC_ERR_OK)
			continue; /* out of memory: this one stays unarmed */
		drop_exec_blocks(v, a);
		w->exec[w->nexec] = a;
		w->exec_hook[w->nexec] = h;
		w->nexec++;
	}
}

void tcg_watch_sync(struct vcpu *v, uint64_t entry_pc)
{
	struct tcg_vcpu *t = tcg_of(v);
	struct tcg_watch_state *w = &t->watch;
	w->entry_pc = entry_pc;
	if (w->exec_skip != entry_pc)
		w->exec_skip = TCG_NO_ADDR;

	struct vm_watch_table *table = &v->vm->watches;
	if (w->synced_once && atomic_load(&table->gen) == w->synced_gen)
		return;
	static _Thread_local struct vm_watch snap[VM_WATCH_SLOTS];
	static _Thread_local struct tcg_watch_range data[VM_MAX_WATCHPOINTS];
	static _Thread_local uint64_t exec[VM_MAX_HW_BREAKPOINTS];
	unsigned gen, ndata = 0, nexec = 0;
	unsigned n = vm_watch_snapshot(table, snap, &gen);
	for (unsigned i = 0; i < n; i++) {
		if (snap[i].kind == VM_WATCH_EXEC) {
			if (nexec < VM_MAX_HW_BREAKPOINTS)
				exec[nexec++] = snap[i].addr;
		} else if (ndata < VM_MAX_WATCHPOINTS) {
			fill_data_range(&data[ndata++], &snap[i]);
		}
	}
	w->synced_gen = gen;
	w->synced_once = true;
	/* gdb takes every watch out at each stop and puts it back at the
	 * resume: nothing changed then, and the TLB stays warm. */
	if (!same_ranges(w->dbg, w->ndbg, data, ndata)) {
		memcpy(w->dbg, data, ndata * sizeof(data[0]));
		w->ndbg = ndata;
		uc_ctl_flush_tlb(t->uc);
	}
	sync_exec(v, exec, nexec);
}

/* ---- EXEC watches -------------------------------------------------------- */

void tcg_watch_exec_hook(uc_engine *uc, uint64_t addr, uint32_t size,
			 void *user)
{
	(void)size;
	struct vcpu *v = user;
	struct tcg_vcpu *t = tcg_of(v);
	struct tcg_watch_state *w = &t->watch;
	/* A block translated while the watch existed may outlive it (with
	 * one code hook Unicorn compiles a direct call to it). */
	if (!contains(w->exec, w->nexec, addr))
		return;
	/* The replayed instruction already passed its breakpoint, and a
	 * step stops at the next instruction by itself. */
	bool first = t->blocks_run == 1 && addr == w->entry_pc;
	if (w->replaying || (t->single_instruction && !first))
		return;
	/* Like RF: the breakpoint just reported lets its instruction run
	 * (also after an interrupt taken first, as IRET restores RF). */
	if (addr == w->exec_skip) {
		w->exec_skip = TCG_NO_ADDR;
		return;
	}
	w->exec_hit = true;
	w->exec_hit_addr = addr;
	uc_emu_stop(uc);
}

/* ---- After an entry ------------------------------------------------------ */

static void fill_watch_exit(struct vcpu *v, struct vm_exit *exit,
			    enum vm_watch_kind kind, uint64_t addr,
			    uint64_t hit)
{
	memset(exit, 0, sizeof(*exit));
	exit->exitcode = VM_EXITCODE_WATCH;
	exit->rip = tcg_uc_get(tcg_of(v)->uc, UC_X86_REG_RIP);
	exit->u.watch.kind = kind;
	exit->u.watch.addr = addr;
	exit->u.watch.hit = hit;
}

bool tcg_watch_take_exit(struct vcpu *v, bool replayed, struct vm_exit *exit)
{
	struct tcg_vcpu *t = tcg_of(v);
	struct tcg_watch_state *w = &t->watch;
	if (w->exec_hit) {
		w->exec_hit = false;
		w->exec_skip = w->exec_hit_addr;
		fill_watch_exit(v, exit, VM_WATCH_EXEC, w->exec_hit_addr,
				w->exec_hit_addr);
		return true;
	}
	if (!replayed && !w->hits_without_replay)
		return false;
	struct tcg_watch_hits h = w->hits;
	memset(&w->hits, 0, sizeof(w->hits));
	w->hits_without_replay = false;
	/* A fault ended the replayed instruction: it did not complete. */
	if (replayed && w->event_in_replay)
		return false;
	if (h.guest_dr_bits)
		tcg_guest_debug_raise(t, h.guest_dr_bits);
	if (!h.debugger)
		return false;
	fill_watch_exit(v, exit, h.kind, h.addr, h.hit);
	return true;
}
