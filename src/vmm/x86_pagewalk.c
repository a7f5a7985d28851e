/*
 * Software page walk for the debugger (Intel SDM vol. 3A, chapter 4).
 *
 * Every mode is described as a list of levels, so one loop walks them all.
 * The walk never sets accessed/dirty bits: a debugger looking at memory must
 * not change what the guest later observes.
 */
#include "vmm/x86_pagewalk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)

#define BITS(hi, lo) ((~0ULL >> (63 - (hi))) & ~((1ULL << (lo)) - 1))

/*
 * MAXPHYADDR is taken as the architectural maximum (52): a debugger must not
 * refuse a translation that a CPU with wide physical addresses accepts, so
 * only the bits reserved on every CPU are checked.
 */
#define FRAME_MASK_64 BITS(51, 12)
#define FRAME_MASK_32 BITS(31, 12)
#define PAE_CR3_MASK BITS(31, 5)

#define MAX_LEVELS 5

struct walk_level {
	unsigned shift;      /* lowest gla bit of this level's index */
	unsigned index_bits;
	bool large_ok;       /* PS=1 maps a page at this level */
	bool has_rights;     /* PAE PDPTEs carry no R/W, U/S or XD */
	uint64_t rsvd;       /* reserved in every entry of this level */
	uint64_t large_rsvd; /* also reserved when PS=1 */
};

struct walk_mode {
	unsigned entry_size; /* 4 or 8 bytes */
	uint64_t root;
	unsigned nlevels;
	struct walk_level levels[MAX_LEVELS];
};

/* Rights are the AND (R/W, U/S) or OR (XD) over every level of the walk. */
struct walk_rights {
	bool writable;
	bool user;
	bool no_exec;
};

static bool is_canonical(uint64_t gla, unsigned va_bits)
{
	int64_t sign_extended = (int64_t)(gla << (64 - va_bits)) >>
				(64 - va_bits);
	return (uint64_t)sign_extended == gla;
}

static void describe_32bit(uint64_t cr3, struct walk_mode *m)
{
	*m = (struct walk_mode){
		.entry_size = 4,
		.root = cr3 & FRAME_MASK_32,
		.nlevels = 2,
		.levels = {
			/* 4 MiB PDE: bits 20:13 are PSE-36 address bits 39:32 */
			{ 22, 10, true, true, 0, 1ULL << 21 },
			{ 12, 10, false, true, 0, 0 },
		},
	};
}

static void describe_pae(uint64_t cr3, bool nxe, struct walk_mode *m)
{
	uint64_t nx_rsvd = nxe ? 0 : PTE_NX;

	*m = (struct walk_mode){
		.entry_size = 8,
		.root = cr3 & PAE_CR3_MASK,
		.nlevels = 3,
		.levels = {
			{ 30, 2, false, false,
			  BITS(2, 1) | BITS(8, 5) | BITS(63, 52), 0 },
			{ 21, 9, true, true, BITS(62, 52) | nx_rsvd,
			  BITS(20, 13) },
			{ 12, 9, false, true, BITS(62, 52) | nx_rsvd, 0 },
		},
	};
}

static void describe_long(uint64_t cr3, bool nxe, bool la57,
			  struct walk_mode *m)
{
	uint64_t nx_rsvd = nxe ? 0 : PTE_NX;
	const struct walk_level pml5 = { 48, 9, false, true,
					 PTE_PS | nx_rsvd, 0 };
	const struct walk_level lower[] = {
		{ 39, 9, false, true, PTE_PS | nx_rsvd, 0 },
		{ 30, 9, true, true, nx_rsvd, BITS(29, 13) },
		{ 21, 9, true, true, nx_rsvd, BITS(20, 13) },
		{ 12, 9, false, true, nx_rsvd, 0 },
	};
	unsigned n = 0;

	m->entry_size = 8;
	m->root = cr3 & FRAME_MASK_64;
	if (la57)
		m->levels[n++] = pml5;
	for (unsigned i = 0; i < sizeof(lower) / sizeof(lower[0]); i++)
		m->levels[n++] = lower[i];
	m->nlevels = n;
}

static int read_entry(x86_read_phys_fn read_phys, void *ctx, uint64_t gpa,
		      unsigned size, uint64_t *entry)
{
	uint32_t e32;

	if (size == 4) {
		if (read_phys(ctx, gpa, &e32, 4) != 0)
			return -EFAULT;
		*entry = e32;
		return 0;
	}
	return read_phys(ctx, gpa, entry, 8) != 0 ? -EFAULT : 0;
}

/* Physical base of the page a leaf entry maps. */
static uint64_t leaf_base(const struct walk_mode *m, uint64_t entry,
			  uint64_t page_size)
{
	if (m->entry_size == 4 && page_size > 4096)
		return (entry & BITS(31, 22)) | (((entry >> 13) & 0xff) << 32);
	/* For large pages bit 12 is PAT, dropped by the size mask. */
	return entry & (m->entry_size == 4 ? FRAME_MASK_32 : FRAME_MASK_64) &
	       ~(page_size - 1);
}

static enum vm_gla_fault check_rights(const struct vm_guest_paging *pg,
				      const struct walk_rights *r, int prot)
{
	bool user_mode = pg->cpl == 3;

	if (user_mode && !r->user)
		return VM_GLA_PROTECTION;
	if ((prot & VM_PROT_WRITE) && !r->writable && (user_mode || pg->wp))
		return VM_GLA_PROTECTION;
	if ((prot & VM_PROT_EXECUTE) && r->no_exec)
		return VM_GLA_PROTECTION;
	return VM_GLA_OK;
}

static enum vm_gla_fault walk(const struct walk_mode *m,
			      const struct vm_guest_paging *pg, uint64_t gla,
			      int prot, x86_read_phys_fn read_phys, void *ctx,
			      uint64_t *gpa)
{
	struct walk_rights rights = { true, true, false };
	uint64_t table = m->root;

	for (unsigned i = 0; i < m->nlevels; i++) {
		const struct walk_level *lv = &m->levels[i];
		uint64_t index = (gla >> lv->shift) &
				 ((1ULL << lv->index_bits) - 1);
		uint64_t entry, rsvd;
		bool large;

		if (read_entry(read_phys, ctx, table + index * m->entry_size,
			       m->entry_size, &entry) != 0)
			return VM_GLA_BAD_PHYS;
		if (!(entry & PTE_P))
			return VM_GLA_NOT_PRESENT;
		large = lv->large_ok && (entry & PTE_PS);
		rsvd = lv->rsvd | (large ? lv->large_rsvd : 0);
		if (entry & rsvd)
			return VM_GLA_RESERVED_BIT;
		if (lv->has_rights) {
			rights.writable &= (entry & PTE_RW) != 0;
			rights.user &= (entry & PTE_US) != 0;
			/* XD is reserved (checked above) without NXE. */
			if (m->entry_size == 8 && (entry & PTE_NX))
				rights.no_exec = true;
		}
		if (large || i + 1 == m->nlevels) {
			uint64_t page_size = 1ULL << lv->shift;
			enum vm_gla_fault f = check_rights(pg, &rights, prot);

			if (f == VM_GLA_OK)
				*gpa = leaf_base(m, entry, page_size) |
				       (gla & (page_size - 1));
			return f;
		}
		table = entry & (m->entry_size == 4 ? FRAME_MASK_32 :
						      FRAME_MASK_64);
	}
	return VM_GLA_NOT_PRESENT; /* not reached: the last level is a leaf */
}

int x86_pagewalk(const struct vm_guest_paging *pg, uint64_t gla, int prot,
		 x86_read_phys_fn read_phys, void *ctx, uint64_t *gpa,
		 enum vm_gla_fault *fault)
{
	struct walk_mode mode;

	if (!pg || !read_phys || !gpa || !fault)
		return -EINVAL;

	switch (pg->paging_mode) {
	case PAGING_MODE_FLAT:
		*gpa = gla;
		*fault = VM_GLA_OK;
		return 0;
	case PAGING_MODE_32:
		/* Linear addresses are 32 bits wide outside IA-32e mode. */
		gla &= 0xffffffffULL;
		describe_32bit(pg->cr3, &mode);
		break;
	case PAGING_MODE_PAE:
		gla &= 0xffffffffULL;
		describe_pae(pg->cr3, pg->nxe, &mode);
		break;
	case PAGING_MODE_64:
	case PAGING_MODE_64_LA57: {
		bool la57 = pg->paging_mode == PAGING_MODE_64_LA57;

		if (!is_canonical(gla, la57 ? 57 : 48)) {
			*fault = VM_GLA_NONCANONICAL;
			return 0;
		}
		describe_long(pg->cr3, pg->nxe, la57, &mode);
		break;
	}
	default:
		return -EINVAL;
	}
	*fault = walk(&mode, pg, gla, prot, read_phys, ctx, gpa);
	return 0;
}

/* ---- Which bytes are paging structures ---------------------------------- */

/* The tables already searched, as (table address | level) keys in an
 * open-addressing set: a guest may point many entries at one table (a
 * recursive map, or a hostile guest), and the tree must still be searched
 * in time bounded by the number of distinct tables. The set starts small
 * and doubles: every Z0 searches the tables of each distinct paging root,
 * and zeroing room for X86_PAGING_SEARCH_MAX_TABLES each time (64 KiB)
 * was most of a breakpoint insertion's cost. */
#define TABLE_SET_MIN_SLOTS 64

struct table_set {
	uint64_t *keys; /* 0 = empty */
	unsigned nslots;
	unsigned count;
};

static void table_set_put(uint64_t *keys, unsigned nslots, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;
	unsigned i = (unsigned)(h >> 40) % nslots;
	while (keys[i] != 0)
		i = (i + 1) % nslots;
	keys[i] = key;
}

static bool table_set_contains(const struct table_set *set, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;
	for (unsigned i = (unsigned)(h >> 40) % set->nslots;;
	     i = (i + 1) % set->nslots) {
		if (set->keys[i] == key)
			return true;
		if (set->keys[i] == 0)
			return false;
	}
}

/* Room for one more key at a load of at most 1/2; false if none. */
static bool table_set_reserve(struct table_set *set)
{
	if (set->keys && 2 * (set->count + 1) <= set->nslots)
		return true;
	unsigned nslots = set->keys ? 2 * set->nslots : TABLE_SET_MIN_SLOTS;
	uint64_t *keys = calloc(nslots, sizeof(*keys));
	if (!keys)
		return false;
	for (unsigned i = 0; set->keys && i < set->nslots; i++)
		if (set->keys[i])
			table_set_put(keys, nslots, set->keys[i]);
	free(set->keys);
	set->keys = keys;
	set->nslots = nslots;
	return true;
}

/* true if newly added; false if already there. *full when no room. */
static bool table_set_add(struct table_set *set, uint64_t table,
			  unsigned level, bool *full)
{
	/* Tables are at least 32-byte aligned: the level fits below. */
	uint64_t key = (table | level) + 1;

	if (set->keys && table_set_contains(set, key))
		return false;
	if (set->count == X86_PAGING_SEARCH_MAX_TABLES ||
	    !table_set_reserve(set)) {
		*full = true; /* unproven either way: the caller refuses */
		return false;
	}
	table_set_put(set->keys, set->nslots, key);
	set->count++;
	return true;
}

struct structure_search {
	const struct walk_mode *mode;
	uint64_t gpa;
	x86_read_phys_fn read_phys;
	void *ctx;
	struct table_set seen;
	bool full;
	uint8_t table[MAX_LEVELS][4096];
};

static uint64_t table_bytes(const struct walk_mode *m, unsigned level)
{
	return (uint64_t)m->entry_size << m->levels[level].index_bits;
}

/* 1 if search->gpa is in the table at `table` (level `level`) or below. */
static int search_table(struct structure_search *s, uint64_t table,
			unsigned level)
{
	const struct walk_mode *m = s->mode;
	const struct walk_level *lv = &m->levels[level];
	uint64_t size = table_bytes(m, level);

	if (s->gpa >= table && s->gpa - table < size)
		return 1;
	/* The last level's tables hold only leaves: found above or not. */
	if (level + 1 == m->nlevels)
		return 0;
	if (!table_set_add(&s->seen, table, level, &s->full))
		return 0;
	uint8_t *buf = s->table[level];
	if (s->read_phys(s->ctx, table, buf, (size_t)size) != 0)
		return 0;
	for (uint64_t off = 0; off < size && !s->full; off += m->entry_size) {
		uint64_t entry = 0;

		memcpy(&entry, buf + off, m->entry_size); /* little-endian */
		if (!(entry & PTE_P) || (lv->large_ok && (entry & PTE_PS)))
			continue;
		uint64_t next = entry & (m->entry_size == 4 ? FRAME_MASK_32
							    : FRAME_MASK_64);
		if (search_table(s, next, level + 1))
			return 1;
	}
	return 0;
}

int x86_paging_structure_holds(const struct vm_guest_paging *pg, uint64_t gpa,
			       x86_read_phys_fn read_phys, void *ctx)
{
	struct walk_mode mode;

	if (!pg || !read_phys)
		return -EINVAL;
	switch (pg->paging_mode) {
	case PAGING_MODE_FLAT:
		return 0;
	case PAGING_MODE_32:
		describe_32bit(pg->cr3, &mode);
		break;
	case PAGING_MODE_PAE:
		describe_pae(pg->cr3, pg->nxe, &mode);
		break;
	case PAGING_MODE_64:
	case PAGING_MODE_64_LA57:
		describe_long(pg->cr3, pg->nxe,
			      pg->paging_mode == PAGING_MODE_64_LA57, &mode);
		break;
	default:
		return -EINVAL;
	}
	/* not calloc: the table buffers need no zeroing */
	struct structure_search *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->seen = (struct table_set){ 0 };
	s->full = false;
	s->mode = &mode;
	s->gpa = gpa;
	s->read_phys = read_phys;
	s->ctx = ctx;
	int found = search_table(s, mode.root, 0);
	bool full = s->full;
	free(s->seen.keys);
	free(s);
	if (found)
		return 1;
	return full ? -E2BIG : 0;
}
