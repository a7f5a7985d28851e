/*
 * A walk over every entry of x86 page tables (SDM vol. 3, chapter 4): the
 * four paging modes, large pages at each level that allows them, and the
 * access rights of a leaf as the intersection of all levels above it (U/S
 * and R/W must be set at every level; XD at any level forbids execution
 * when EFER.NXE is on).
 */
#include "page_table_dump.h"

#include <errno.h>
#include <string.h>

#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_G (1ULL << 8)
#define PTE_XD (1ULL << 63)
#define ADDR_MASK_64 0x000ffffffffff000ULL

enum pt_mode pt_mode_of(const struct pt_regs *r)
{
	if (!(r->cr0 & CR0_PG))
		return PT_PAGING_OFF;
	if (r->efer & EFER_LMA)
		return (r->cr4 & CR4_LA57) ? PT_5LEVEL : PT_4LEVEL;
	return (r->cr4 & CR4_PAE) ? PT_PAE : PT_32BIT;
}

const char *pt_mode_name(enum pt_mode m)
{
	switch (m) {
	case PT_PAGING_OFF:
		return "paging off";
	case PT_32BIT:
		return "32-bit paging";
	case PT_PAE:
		return "PAE paging";
	case PT_4LEVEL:
		return "4-level paging";
	case PT_5LEVEL:
		return "5-level paging";
	}
	return "?";
}

struct walk {
	const struct pt_regs *regs;
	enum pt_mode mode;
	pt_read_phys read;
	void *ctx;
	pt_emit emit;
	void *arg;
	int unreadable;
	unsigned va_bits; /* 48 or 57 in long mode: sign extension */
};

/* Rights granted so far on the way down. */
struct rights {
	bool user, write, exec;
};

static unsigned entry_size(const struct walk *w)
{
	return w->mode == PT_32BIT ? 4 : 8;
}

static unsigned entries_per_table(const struct walk *w)
{
	return w->mode == PT_32BIT ? 1024 : 512;
}

/* Bits of VA one entry at `level` covers (level 1 maps 4 KiB pages). */
static unsigned level_shift(const struct walk *w, int level)
{
	return w->mode == PT_32BIT ? 12 + 10 * (unsigned)(level - 1)
				   : 12 + 9 * (unsigned)(level - 1);
}

static bool large_page_allowed(const struct walk *w, int level)
{
	switch (w->mode) {
	case PT_32BIT:
		return level == 2 && (w->regs->cr4 & CR4_PSE);
	case PT_PAE:
		return level == 2;
	default:
		return level == 2 || level == 3;
	}
}

static uint64_t canonical(const struct walk *w, uint64_t va)
{
	if (w->mode != PT_4LEVEL && w->mode != PT_5LEVEL)
		return va;
	unsigned top = w->va_bits - 1;
	if (va & (1ULL << top))
		va |= ~0ULL << w->va_bits;
	return va;
}

static uint64_t large_page_base(const struct walk *w, uint64_t e,
				unsigned shift)
{
	if (w->mode == PT_32BIT) /* PSE-36: bits 20:13 are PA bits 39:32 */
		return (e & 0xffc00000ULL) | ((e >> 13) & 0xffULL) << 32;
	return e & ADDR_MASK_64 & ~((1ULL << shift) - 1);
}

static void walk_table(struct walk *w, uint64_t table, int level,
		       uint64_t va_base, struct rights up)
{
	uint8_t buf[4096];
	unsigned n = entries_per_table(w), esz = entry_size(w);
	/* PAE's top level is 4 entries of 8 bytes, 32-byte aligned. */
	if (w->mode == PT_PAE && level == 3)
		n = 4;
	if (w->read(w->ctx, table, buf, (size_t)n * esz) != 0) {
		w->unreadable++;
		return;
	}
	unsigned shift = level_shift(w, level);
	bool nxe = w->regs->efer & EFER_NXE;
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = 0;
		memcpy(&e, buf + (size_t)i * esz, esz);
		if (!(e & PTE_P))
			continue;
		uint64_t va = va_base + ((uint64_t)i << shift);
		struct rights r = up;
		/* PAE's PDPTEs carry no rights. */
		if (!(w->mode == PT_PAE && level == 3)) {
			r.user = r.user && (e & PTE_US);
			r.write = r.write && (e & PTE_RW);
			if (nxe && w->mode != PT_32BIT && (e & PTE_XD))
				r.exec = false;
		}
		bool leaf = level == 1 ||
			    ((e & PTE_PS) && large_page_allowed(w, level));
		if (!leaf) {
			uint64_t next = w->mode == PT_32BIT ? e & 0xfffff000ULL
							    : e & ADDR_MASK_64;
			walk_table(w, next, level - 1, va, r);
			continue;
		}
		struct pt_mapping m = {
			.va = canonical(w, va),
			.size = 1ULL << shift,
			.user = r.user, .write = r.write, .exec = r.exec,
			.global = e & PTE_G, .accessed = e & PTE_A,
			.dirty = e & PTE_D,
		};
		m.pa = level == 1 ? (w->mode == PT_32BIT ? e & 0xfffff000ULL
							 : e & ADDR_MASK_64)
				  : large_page_base(w, e, shift);
		w->emit(&m, w->arg);
	}
}

int pt_walk(const struct pt_regs *r, pt_read_phys read, void *ctx,
	    pt_emit emit, void *arg)
{
	struct walk w = { .regs = r, .mode = pt_mode_of(r), .read = read,
			  .ctx = ctx, .emit = emit, .arg = arg };
	struct rights all = { true, true, true };
	switch (w.mode) {
	case PT_PAGING_OFF:
		return -EINVAL;
	case PT_32BIT:
		walk_table(&w, r->cr3 & 0xfffff000ULL, 2, 0, all);
		break;
	case PT_PAE:
		walk_table(&w, r->cr3 & 0xffffffe0ULL, 3, 0, all);
		break;
	case PT_4LEVEL:
		w.va_bits = 48;
		walk_table(&w, r->cr3 & ADDR_MASK_64, 4, 0, all);
		break;
	case PT_5LEVEL:
		w.va_bits = 57;
		walk_table(&w, r->cr3 & ADDR_MASK_64, 5, 0, all);
		break;
	}
	return w.unreadable;
}
