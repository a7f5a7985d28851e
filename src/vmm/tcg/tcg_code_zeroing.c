/*
 * A code-buffer flush without touching every page of the buffer.
 *
 * Unicorn 2.1.1's flush (tb_flush -> tcg_region_reset_all ->
 * tcg_region_assign) zeroes the whole translation buffer with memset, a
 * step upstream QEMU does not have. tcg_code_buffer.c then gives the
 * zeroed pages back (MADV_DONTNEED), so the next flush writes all of them
 * again: with the default 128 MiB buffer that is 32,768 page faults on
 * fresh memory per flush. Measured on the development machines (a VM whose
 * page faults exit to its hypervisor): 0.9-1.4 s per flush, during which
 * the vCPU stands still. A debugging session flushes every few thousand
 * breakpoint hits (each hit leaves ~1.5 KiB of dropped blocks behind), so
 * gdb's `continue` loop lost a third of its rate to it.
 *
 * Zeroing a private anonymous mapping is what MADV_DONTNEED does anyway:
 * the next read of a dropped page is a zero page. So libunicorn's memset
 * is redirected (its GOT slot, which the dynamic linker filled with libc's
 * memset, now holds zero_or_drop) and a call that zeroes an engine's code
 * buffer during hvgdb's own flush drops the pages instead; every other
 * call goes to the memset the slot held before. Only the buffer's
 * page-aligned inside is dropped; the edges are zeroed by memset.
 *
 * The redirect is checked: installed only on a libunicorn whose PLT calls
 * memset through a JUMP_SLOT relocation holding the memset every other
 * object uses; tcg_code_zeroing_drops() counts the dropped buffers, and
 * unit.test_code_buffer fails if a flush stops going through it. Without
 * the redirect a flush is only slower: Unicorn's own memset runs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/tcg/tcg_internal.h"

typedef void *(*memset_fn)(void *, int, size_t);

static memset_fn libc_memset;
static atomic_ulong drops;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static const char *install_problem = "not installed yet";

/* The buffer the flush running on this thread may zero (NULL: none),
 * and whether that flush dropped it. */
static _Thread_local const struct tcg_code_buffer *flushing;
static _Thread_local bool flushing_dropped;

/* A zeroing of at least this much can be a code buffer's. */
#define SMALLEST_BUFFER (512u * 1024u)
/* Before its first block the buffer holds QEMU's prologue (a few hundred
 * bytes) and alignment: how far the buffer's start may lie before it. */
#define PROLOGUE_ROOM (64u * 1024u)

static bool zeroes_flushing_buffer(const void *p, int c, size_t n)
{
	const struct tcg_code_buffer *code = flushing;
	if (c != 0 || n < SMALLEST_BUFFER || !code || code->start == 0)
		return false;
	uintptr_t from = (uintptr_t)p;
	return from <= code->start && code->start - from <= PROLOGUE_ROOM &&
	       n <= code->capacity + PROLOGUE_ROOM;
}

static void *zero_or_drop(void *p, int c, size_t n)
{
	if (!zeroes_flushing_buffer(p, c, n))
		return libc_memset(p, c, n);
	uintptr_t from = (uintptr_t)p, to = from + n;
	struct page_run inner = tcg_drop_whole_pages(from, n);
	if (inner.to == inner.from)
		return libc_memset(p, c, n);
	libc_memset(p, 0, inner.from - from);
	libc_memset((void *)inner.to, 0, to - inner.to);
	flushing_dropped = true;
	atomic_fetch_add(&drops, 1);
	return p;
}

struct slot_search {
	memset_fn *slot;
	const char *problem;
};

/* The loader stores relocated addresses in the dynamic section on x86-64;
 * an offset below the object's base is relocated here. */
static uintptr_t dyn_addr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
	return v < info->dlpi_addr ? info->dlpi_addr + v : v;
}

static memset_fn *memset_slot_in(const struct dl_phdr_info *info,
				 const ElfW(Dyn) *dyn)
{
	uintptr_t jmprel = 0, symtab = 0, strtab = 0;
	size_t pltrelsz = 0;
	ElfW(Sxword) pltrel = 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL:
			jmprel = dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_PLTRELSZ:
			pltrelsz = dyn->d_un.d_val;
			break;
		case DT_PLTREL:
			pltrel = (ElfW(Sxword))dyn->d_un.d_val;
			break;
		case DT_SYMTAB:
			symtab = dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			strtab = dyn_addr(info, dyn->d_un.d_ptr);
			break;
		default:
			break;
		}
	}
	if (!jmprel || !symtab || !strtab || pltrel != DT_RELA)
		return NULL;
	const ElfW(Rela) *rel = (const ElfW(Rela) *)jmprel;
	const ElfW(Sym) *sym = (const ElfW(Sym) *)symtab;
	for (size_t i = 0; i < pltrelsz / sizeof(*rel); i++) {
		if (ELF64_R_TYPE(rel[i].r_info) != R_X86_64_JUMP_SLOT)
			continue;
		const char *name = (const char *)strtab +
				   sym[ELF64_R_SYM(rel[i].r_info)].st_name;
		if (strcmp(name, "memset") == 0)
			return (memset_fn *)(info->dlpi_addr +
					     rel[i].r_offset);
	}
	return NULL;
}

static int find_unicorn_slot(struct dl_phdr_info *info, size_t size,
			     void *data)
{
	(void)size;
	struct slot_search *search = data;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "libunicorn.so"))
		return 0;
	search->problem = "libunicorn calls no memset through its PLT";
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			search->slot = memset_slot_in(
				info, (const ElfW(Dyn) *)(info->dlpi_addr +
							  info->dlpi_phdr[i]
								  .p_vaddr));
	return 1;
}

static bool write_slot(memset_fn *slot, memset_fn value)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	void *at = (void *)((uintptr_t)slot & ~(page - 1));
	/* Full RELRO: the slot's page is read-only once the loader is done. */
	if (mprotect(at, page, PROT_READ | PROT_WRITE) != 0)
		return false;
	__atomic_store_n(slot, value, __ATOMIC_RELEASE);
	return mprotect(at, page, PROT_READ) == 0;
}

static void install(void)
{
	struct slot_search search = { NULL, "libunicorn not loaded" };
	dl_iterate_phdr(find_unicorn_slot, &search);
	if (!search.slot) {
		install_problem = search.problem;
		return;
	}
	memset_fn current = __atomic_load_n(search.slot, __ATOMIC_ACQUIRE);
	/* The slot must hold the memset every other caller gets (libc's,
	 * or a sanitizer's in front of it): anything else is not ours to
	 * replace. */
	if (current != (memset_fn)dlsym(RTLD_DEFAULT, "memset")) {
		install_problem = "libunicorn's memset slot holds an "
				  "unexpected function";
		return;
	}
	libc_memset = current;
	if (!write_slot(search.slot, zero_or_drop)) {
		install_problem = "libunicorn's memset slot is not writable";
		return;
	}
	install_problem = NULL;
}

const char *tcg_code_zeroing_install(void)
{
	pthread_once(&install_once, install);
	return install_problem;
}

void tcg_code_zeroing_begin(const struct tcg_code_buffer *code)
{
	flushing = code;
	flushing_dropped = false;
}

bool tcg_code_zeroing_end(void)
{
	flushing = NULL;
	return flushing_dropped;
}

unsigned long tcg_code_zeroing_drops(void)
{
	return atomic_load(&drops);
}
