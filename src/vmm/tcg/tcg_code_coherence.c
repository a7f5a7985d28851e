/*
 * Translated code that stays in step with guest memory, without flushing
 * whole translation caches.
 *
 * Unicorn's own API drops translations by guest-VIRTUAL address
 * (uc_ctl_remove_cache), walking the guest's page tables to find the page:
 * useless for the guest-physical ranges hvgdb holds (a breakpoint keyed by
 * physical address, a page mapped at several addresses or at none), and
 * the walk leaves CR2 and QEMU's exception record behind when it faults.
 * QEMU's tb_invalidate_phys_range (exported by libunicorn) drops every
 * block translated from a range of RAM addresses, which are guest-physical
 * addresses here because guest RAM is the engine's only RAM block, mapped
 * first at 0: checked per engine at set-up.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "vmm/tcg/tcg_internal.h"

struct uc_struct;
void tb_invalidate_phys_range_x86_64(struct uc_struct *uc, uint64_t start,
				     uint64_t end);
uint64_t qemu_ram_addr_from_host_x86_64(struct uc_struct *uc, void *host);

int tcg_code_sharing_init(void);

int tcg_code_coherence_init(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	struct uc_struct *uc = (struct uc_struct *)t->uc;
	uint8_t *ram = v->vm->ram;
	uint64_t last = v->vm->mem_size - 1;
	if (qemu_ram_addr_from_host_x86_64(uc, ram) != 0 ||
	    qemu_ram_addr_from_host_x86_64(uc, ram + last) != last ||
	    tcg_code_sharing_init() < 0)
		return -1;
	uint64_t pages = v->vm->mem_size >> VM_PAGE_SHIFT;
	t->code_pages = calloc((pages + 63) / 64, sizeof(uint64_t));
	return t->code_pages ? 0 : -1;
}

void tcg_invalidate_phys(struct tcg_vcpu *t, uint64_t start, uint64_t end)
{
	if (end > start)
		tb_invalidate_phys_range_x86_64((struct uc_struct *)t->uc, start,
						end);
}

/* ---- Stores into pages that hold code ------------------------------------ */

/*
 * QEMU sees a guest store into translated code through the TLB: a
 * writable entry for a page holding code is marked "not dirty", so every
 * store through it takes the slow path (notdirty_write), which drops the
 * blocks the bytes belong to. QEMU keeps the mark for as long as the page
 * holds code, and sets it on EVERY entry for the page, whatever virtual
 * address it maps, when the page gets its first block (tlb_protect_code).
 * Unicorn 2.1.1 stubs QEMU's dirty tracking out: it clears the mark after
 * the first store through an entry (even one that hit no code), and sets
 * it again only on the entries of the virtual page a block was just
 * translated through. Measured, each ran the old code:
 * - a store to a code page's data, then a patch of its code
 *   (test_guest_smc_after_data_store_retranslates);
 * - code patched through a writable alias of its page
 *   (test_paging's test_aliases_share_one_page);
 * - a vCPU that had written a page before another vCPU ran code from it
 *   (test_cross_vcpu_code_write_after_earlier_store_seen).
 * QEMU's rules are put back through the hooks below: an entry keeps its
 * mark while the page holds code in this engine; an engine's first block
 * on a page marks this engine's entries for the page (by host address,
 * with QEMU's own tlb_reset_dirty); and the other engines mark all their
 * RAM entries before they run again, so that their stores into the page
 * reach the cross-vCPU check (next section).
 */
void tlb_reset_dirty_x86_64(void *cpu, uint64_t host_start, uint64_t length);

static void mark_stores_checked(struct tcg_vcpu *t, uint64_t gpa,
				uint64_t len)
{
	tlb_reset_dirty_x86_64(t->cpu.cs,
			       (uint64_t)(uintptr_t)(t->vcpu->vm->ram + gpa),
			       len);
}

static void others_check_all_stores(struct tcg_vcpu *t)
{
	struct vm *vm = t->vcpu->vm;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct tcg_vcpu *o = tcg_of(vm->vcpus[i]);
		if (o && o != t) {
			atomic_store(&o->check_all_stores, true);
			/* One executing now (parallel mode) re-marks its TLB
			 * at its next entry: make that soon. */
			vcpu_stop_soon(vm->vcpus[i]);
		}
	}
}

/* Before an engine entry, on the engine's own thread (nobody else
 * touches its TLB). */
void tcg_code_coherence_before_entry(struct tcg_vcpu *t)
{
	if (atomic_load_explicit(&t->check_all_stores, memory_order_relaxed) &&
	    atomic_exchange(&t->check_all_stores, false))
		mark_stores_checked(t, 0, t->vcpu->vm->mem_size);
}

/* ---- Code written by one vCPU, translated by another -------------------- */

/*
 * Each vCPU has its own engine and translation cache, and Unicorn checks a
 * guest store only against its own engine's blocks. QEMU's hooks for that
 * check are interposed (libunicorn calls them through its PLT):
 * - tlb_protect_code / tlb_unprotect_code: an engine's first block on a
 *   guest page, and its last one gone. They keep, per page, how many
 *   engines hold code from it (vm->code_engines; the engine's own bit in
 *   code_pages makes the count exact).
 * - tb_invalidate_phys_page_fast: a store through a TLB entry still marked
 *   "not dirty". When another engine holds code from that page, the
 *   written bytes are queued for every other vCPU (applied before it runs
 *   again, as host writes are), and the following tlb_set_dirty is skipped
 *   so that the entry stays checked: every later store to the page is seen
 *   too, as long as other engines (or this one) hold code from it.
 * Only engines running on this thread (tcg_running_engine) take part; the
 * start-up self-test's scratch engine passes straight through.
 */
void tlb_protect_code_x86_64(struct uc_struct *uc, uint64_t ram_addr);
void tlb_unprotect_code_x86_64(struct uc_struct *uc, uint64_t ram_addr);
void tb_invalidate_phys_page_fast_x86_64(struct uc_struct *uc, void *pages,
					 uint64_t start, int len,
					 uintptr_t retaddr);
void tlb_set_dirty_x86_64(void *cpu, uint64_t vaddr);

static void (*real_protect)(struct uc_struct *, uint64_t);
static void (*real_unprotect)(struct uc_struct *, uint64_t);
static void (*real_page_fast)(struct uc_struct *, void *, uint64_t, int,
			      uintptr_t);
static void (*real_set_dirty)(void *, uint64_t);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static _Thread_local bool keep_checked;

static void resolve(void)
{
	real_protect = (void (*)(struct uc_struct *, uint64_t))dlsym(
		RTLD_NEXT, "tlb_protect_code_x86_64");
	real_unprotect = (void (*)(struct uc_struct *, uint64_t))dlsym(
		RTLD_NEXT, "tlb_unprotect_code_x86_64");
	real_page_fast = (void (*)(struct uc_struct *, void *, uint64_t, int,
				   uintptr_t))dlsym(
		RTLD_NEXT, "tb_invalidate_phys_page_fast_x86_64");
	real_set_dirty = (void (*)(void *, uint64_t))dlsym(
		RTLD_NEXT, "tlb_set_dirty_x86_64");
}

int tcg_code_sharing_init(void)
{
	pthread_once(&resolve_once, resolve);
	return real_protect && real_unprotect && real_page_fast &&
			       real_set_dirty
		       ? 0
		       : -1;
}

/* The engine of this thread if it is uc, with a page inside guest RAM. */
static struct tcg_vcpu *engine_for(struct uc_struct *uc, uint64_t ram_addr)
{
	struct tcg_vcpu *t = tcg_running_engine();
	if (!t || (struct uc_struct *)t->uc != uc || !t->code_pages ||
	    ram_addr >= t->vcpu->vm->mem_size)
		return NULL;
	return t;
}

static bool own_has(const struct tcg_vcpu *t, uint64_t page)
{
	return t->code_pages[page / 64] & (1ULL << (page % 64));
}

static bool own_bit(struct tcg_vcpu *t, uint64_t page, bool set)
{
	uint64_t mask = 1ULL << (page % 64);
	bool was = t->code_pages[page / 64] & mask;
	if (set)
		t->code_pages[page / 64] |= mask;
	else
		t->code_pages[page / 64] &= ~mask;
	return was;
}

void tlb_protect_code_x86_64(struct uc_struct *uc, uint64_t ram_addr)
{
	pthread_once(&resolve_once, resolve);
	struct tcg_vcpu *t = engine_for(uc, ram_addr);
	if (t) {
		uint64_t page = ram_addr >> VM_PAGE_SHIFT;
		if (!own_bit(t, page, true)) {
			atomic_fetch_add(&t->vcpu->vm->code_engines[page], 1);
			mark_stores_checked(t, page << VM_PAGE_SHIFT,
					    1ULL << VM_PAGE_SHIFT);
			others_check_all_stores(t);
		}
	}
	real_protect(uc, ram_addr);
}

void tlb_unprotect_code_x86_64(struct uc_struct *uc, uint64_t ram_addr)
{
	pthread_once(&resolve_once, resolve);
	struct tcg_vcpu *t = engine_for(uc, ram_addr);
	if (t) {
		uint64_t page = ram_addr >> VM_PAGE_SHIFT;
		if (own_bit(t, page, false))
			atomic_fetch_sub(&t->vcpu->vm->code_engines[page], 1);
	}
	real_unprotect(uc, ram_addr);
}

void tb_invalidate_phys_page_fast_x86_64(struct uc_struct *uc, void *pages,
					 uint64_t start, int len,
					 uintptr_t retaddr)
{
	pthread_once(&resolve_once, resolve);
	keep_checked = false;
	struct tcg_vcpu *t = engine_for(uc, start);
	if (t) {
		uint64_t page = start >> VM_PAGE_SHIFT;
		unsigned others = atomic_load(&t->vcpu->vm->code_engines[page]) -
				  (own_has(t, page) ? 1u : 0u);
		if (others > 0) {
			vcpu_queue_code_write(t->vcpu, start,
					      start + (uint64_t)len);
			keep_checked = true;
		}
	}
	real_page_fast(uc, pages, start, len, retaddr);
	/* Code left on the page (the store hit none, or other blocks):
	 * stores through this entry stay checked, as in QEMU. */
	if (t && own_has(t, start >> VM_PAGE_SHIFT))
		keep_checked = true;
}

void tlb_set_dirty_x86_64(void *cpu, uint64_t vaddr)
{
	pthread_once(&resolve_once, resolve);
	if (keep_checked) {
		keep_checked = false;
		return;
	}
	real_set_dirty(cpu, vaddr);
}

/* A whole-cache flush leaves no code anywhere in this engine. */
void tcg_code_pages_forget(struct tcg_vcpu *t)
{
	struct vm *vm = t->vcpu->vm;
	uint64_t pages = vm->mem_size >> VM_PAGE_SHIFT;
	for (uint64_t w = 0; w < (pages + 63) / 64; w++) {
		uint64_t bits = t->code_pages[w];
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			atomic_fetch_sub(&vm->code_engines[w * 64 + b], 1);
		}
		t->code_pages[w] = 0;
	}
}
