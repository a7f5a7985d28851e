/*
 * Workarounds for the Unicorn 2.0.1 guest-store slow path.
 *
 * Unicorn 2 stubs out QEMU's dirty-memory tracking: every RAM page counts
 * as "clean", so every TLB entry for writable RAM carries TLB_NOTDIRTY and
 * every guest store leaves the generated code for notdirty_write(), the
 * self-modifying-code (SMC) check. QEMU drops the flag once a page holds
 * no translated code; Unicorn never does. Two fixes, both by interposition
 * (libunicorn calls these functions through its PLT, so definitions in the
 * executable replace them; only the x86_64 variants, with Unicorn's
 * mangled names and signatures):
 *
 * 1. page_collection_lock()/unlock() around the SMC check allocated a GTree
 *    and one node per page on every store (page locks are no-ops in
 *    Unicorn), which made stores ~40x slower than loads. They do nothing
 *    here, as in later Unicorn releases (unicorn-engine/unicorn#1838): the
 *    collection is only ever handed back to page_collection_unlock().
 *
 * 2. Stores to pages without translated code skip the check, as in QEMU.
 *    Each engine keeps a bitmap of the guest-physical pages that hold
 *    translated code ("code pages"). Unicorn announces the first block on
 *    a page with tlb_protect_code() and a page emptied of blocks with
 *    tlb_unprotect_code() (both do nothing in 2.0.1). After every TLB fill
 *    of a writable page that is not a code page, QEMU's own tlb_set_dirty()
 *    clears TLB_NOTDIRTY from the entry, and the page is remembered as
 *    "fast". When a fast page becomes a code page, QEMU's tlb_reset_dirty()
 *    puts TLB_NOTDIRTY back on every TLB entry (main and victim, all MMU
 *    modes) that maps it, before the new block can run. Measured on
 *    cpu-bench (one store per loop iteration): the SMC check was a third
 *    of the run time.
 *
 * The code-page bitmap is indexed by Unicorn's ram_addr, which equals the
 * guest-physical address only because guest RAM is the engine's one RAM
 * block, mapped first at 0. Engine set-up checks that with Unicorn's own
 * translation and leaves the fast path off (stores stay checked) if not.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vmm/tcg/tcg_internal.h"

#define GUEST_PAGE_SHIFT 12
#define GUEST_PAGE_SIZE (1ULL << GUEST_PAGE_SHIFT)
#define QEMU_PAGE_WRITE 2 /* QEMU's PAGE_WRITE protection bit */
#define BITS_PER_WORD 64

struct uc_struct;
struct page_collection;

/* ---- 1. No allocation around the SMC check ------------------------------- */

struct page_collection *page_collection_lock_x86_64(struct uc_struct *uc,
						     uint64_t start,
						     uint64_t end);
void page_collection_unlock_x86_64(struct page_collection *set);

struct page_collection *page_collection_lock_x86_64(struct uc_struct *uc,
						     uint64_t start,
						     uint64_t end)
{
	(void)uc;
	(void)start;
	(void)end;
	return NULL;
}

void page_collection_unlock_x86_64(struct page_collection *set)
{
	(void)set;
}

/* ---- 2. No SMC check for pages without code ------------------------------ */

/* MemTxAttrs is a 4-byte struct of bit-fields: passed like a uint32_t. */
typedef void set_page_fn(void *cpu, uint64_t vaddr, uint64_t paddr,
			 uint32_t attrs, int prot, int mmu_idx, uint64_t size);
typedef void code_page_fn(struct uc_struct *uc, uint64_t ram_addr);

void tlb_set_page_with_attrs_x86_64(void *cpu, uint64_t vaddr, uint64_t paddr,
				    uint32_t attrs, int prot, int mmu_idx,
				    uint64_t size);
void tlb_protect_code_x86_64(struct uc_struct *uc, uint64_t ram_addr);
void tlb_unprotect_code_x86_64(struct uc_struct *uc, uint64_t ram_addr);
/* Not interposed: QEMU's own TLB flag updates, called directly. */
void tlb_set_dirty_x86_64(void *cpu, uint64_t vaddr);
void tlb_reset_dirty_x86_64(void *cpu, uintptr_t host_start, uintptr_t len);
uint64_t qemu_ram_addr_from_host_x86_64(struct uc_struct *uc, void *host);

static set_page_fn *real_set_page;
static code_page_fn *real_protect_code;
static code_page_fn *real_unprotect_code;
static pthread_once_t real_fns_once = PTHREAD_ONCE_INIT;

/* Every engine, for calls made outside tcg_run (tcg_running_engine()). */
static pthread_mutex_t engines_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct tcg_vcpu *engines;

static void resolve_real_fns(void)
{
	real_set_page = (set_page_fn *)dlsym(RTLD_NEXT,
					     "tlb_set_page_with_attrs_x86_64");
	real_protect_code =
		(code_page_fn *)dlsym(RTLD_NEXT, "tlb_protect_code_x86_64");
	real_unprotect_code =
		(code_page_fn *)dlsym(RTLD_NEXT, "tlb_unprotect_code_x86_64");
}

static bool test_bit(const uint64_t *map, uint64_t bit)
{
	return map[bit / BITS_PER_WORD] & (1ULL << (bit % BITS_PER_WORD));
}

static void set_bit(uint64_t *map, uint64_t bit)
{
	map[bit / BITS_PER_WORD] |= 1ULL << (bit % BITS_PER_WORD);
}

static void clear_bit(uint64_t *map, uint64_t bit)
{
	map[bit / BITS_PER_WORD] &= ~(1ULL << (bit % BITS_PER_WORD));
}

/* Guest RAM pages: the bitmaps' length. */
static uint64_t ram_pages(const struct tcg_vcpu *t)
{
	return t->vcpu->vm->mem_size >> GUEST_PAGE_SHIFT;
}

static struct tcg_vcpu *engine_of(struct uc_struct *uc)
{
	struct tcg_vcpu *t = tcg_running_engine();
	if (t && (struct uc_struct *)t->uc == uc)
		return t;
	pthread_mutex_lock(&engines_mtx);
	for (t = engines; t && (struct uc_struct *)t->uc != uc;)
		t = t->next_engine;
	pthread_mutex_unlock(&engines_mtx);
	return t;
}

void tlb_set_page_with_attrs_x86_64(void *cpu, uint64_t vaddr, uint64_t paddr,
				    uint32_t attrs, int prot, int mmu_idx,
				    uint64_t size)
{
	pthread_once(&real_fns_once, resolve_real_fns);
	real_set_page(cpu, vaddr, paddr, attrs, prot, mmu_idx, size);
	struct tcg_vcpu *t = tcg_running_engine();
	if (!t || !t->fast_stores || !(prot & QEMU_PAGE_WRITE))
		return;
	uint64_t page = paddr >> GUEST_PAGE_SHIFT;
	if (page >= ram_pages(t) || test_bit(t->code_pages, page))
		return;
	t->qemu_cpu = cpu;
	set_bit(t->fast_pages, page);
	/* Clears the flag only from entries that are exactly "RAM page,
	 * not dirty": MMIO, watchpoint and invalid entries keep theirs. */
	tlb_set_dirty_x86_64(cpu, vaddr);
}

void tlb_protect_code_x86_64(struct uc_struct *uc, uint64_t ram_addr)
{
	struct tcg_vcpu *t = engine_of(uc);
	uint64_t page = ram_addr >> GUEST_PAGE_SHIFT;
	if (t && t->code_pages && page < ram_pages(t)) {
		set_bit(t->code_pages, page);
		if (test_bit(t->fast_pages, page)) {
			clear_bit(t->fast_pages, page);
			tlb_reset_dirty_x86_64(
				t->qemu_cpu,
				(uintptr_t)(t->vcpu->vm->ram +
					    (page << GUEST_PAGE_SHIFT)),
				GUEST_PAGE_SIZE);
		}
	}
	pthread_once(&real_fns_once, resolve_real_fns);
	real_protect_code(uc, ram_addr);
}

void tlb_unprotect_code_x86_64(struct uc_struct *uc, uint64_t ram_addr)
{
	struct tcg_vcpu *t = engine_of(uc);
	uint64_t page = ram_addr >> GUEST_PAGE_SHIFT;
	/* Entries filled from now on store directly; older ones keep the
	 * check until they are refilled, which is only slower. */
	if (t && t->code_pages && page < ram_pages(t))
		clear_bit(t->code_pages, page);
	pthread_once(&real_fns_once, resolve_real_fns);
	real_unprotect_code(uc, ram_addr);
}

/* Guest RAM must be Unicorn's RAM block at ram_addr 0 (see the top). */
static bool ram_addr_is_guest_physical(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	struct uc_struct *uc = (struct uc_struct *)t->uc;
	uint64_t last = v->vm->mem_size - 1;
	return qemu_ram_addr_from_host_x86_64(uc, v->vm->ram) == 0 &&
	       qemu_ram_addr_from_host_x86_64(uc, v->vm->ram + last) == last;
}

int tcg_store_fastpath_init(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	pthread_once(&real_fns_once, resolve_real_fns);
	if (!real_set_page || !real_protect_code || !real_unprotect_code)
		return -ENOSYS;
	size_t words = (ram_pages(t) + BITS_PER_WORD - 1) / BITS_PER_WORD;
	t->code_pages = calloc(words, sizeof(uint64_t));
	t->fast_pages = calloc(words, sizeof(uint64_t));
	if (!t->code_pages || !t->fast_pages)
		return -ENOMEM;
	pthread_mutex_lock(&engines_mtx);
	t->next_engine = engines;
	engines = t;
	pthread_mutex_unlock(&engines_mtx);
	t->fast_stores = ram_addr_is_guest_physical(v);
	return 0;
}

void tcg_store_fastpath_fini(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	pthread_mutex_lock(&engines_mtx);
	for (struct tcg_vcpu **p = &engines; *p; p = &(*p)->next_engine) {
		if (*p == t) {
			*p = t->next_engine;
			break;
		}
	}
	pthread_mutex_unlock(&engines_mtx);
	free(t->code_pages);
	free(t->fast_pages);
	t->code_pages = t->fast_pages = NULL;
}
