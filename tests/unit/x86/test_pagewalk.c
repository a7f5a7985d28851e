/*
 * x86_pagewalk against page tables built in a fake guest RAM: every paging
 * mode x page size, and every fault kind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/x86_pagewalk.h"

#define RAM_SIZE (512u * 1024u)
#define PAGE 4096u

#define P (1ULL << 0)
#define RW (1ULL << 1)
#define US (1ULL << 2)
#define PS (1ULL << 7)
#define PAT_LARGE (1ULL << 12)
#define NX (1ULL << 63)
#define FRAME 0x000ffffffffff000ULL

#define SIZE_4K (1ULL << 12)
#define SIZE_2M (1ULL << 21)
#define SIZE_4M (1ULL << 22)
#define SIZE_1G (1ULL << 30)

#define NOT_SET ((enum vm_gla_fault)99)

struct fake_ram {
	uint8_t bytes[RAM_SIZE];
	uint64_t next_free; /* bump allocator for page tables */
	unsigned reads;
};

/* Where each mode takes its indices from; mirrors the SDM, not the code. */
struct mode_shape {
	unsigned entry_size;
	unsigned nlevels;
	unsigned shift[5];
	unsigned bits[5];
	uint64_t root_mask;
};

static struct mode_shape shape_of(enum vm_paging_mode mode)
{
	switch (mode) {
	case PAGING_MODE_32:
		return (struct mode_shape){ 4, 2, { 22, 12 }, { 10, 10 },
					    0xfffff000ULL };
	case PAGING_MODE_PAE:
		return (struct mode_shape){ 8, 3, { 30, 21, 12 }, { 2, 9, 9 },
					    0xffffffe0ULL };
	case PAGING_MODE_64:
		return (struct mode_shape){ 8, 4, { 39, 30, 21, 12 },
					    { 9, 9, 9, 9 }, FRAME };
	case PAGING_MODE_64_LA57:
		return (struct mode_shape){ 8, 5, { 48, 39, 30, 21, 12 },
					    { 9, 9, 9, 9, 9 }, FRAME };
	default:
		fail_msg("no shape for mode %d", mode);
		return (struct mode_shape){ 0 };
	}
}

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t size)
{
	struct fake_ram *r = ctx;

	if (gpa >= RAM_SIZE || size > RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, r->bytes + gpa, size);
	r->reads++;
	return 0;
}

static uint64_t alloc_table(struct fake_ram *r)
{
	uint64_t gpa = r->next_free;

	r->next_free += PAGE;
	assert_true(r->next_free <= RAM_SIZE);
	return gpa;
}

static uint64_t get_entry(struct fake_ram *r, uint64_t gpa, unsigned size)
{
	uint64_t v = 0;

	memcpy(&v, r->bytes + gpa, size);
	return v;
}

static void set_entry(struct fake_ram *r, uint64_t gpa, unsigned size,
		      uint64_t v)
{
	if (size == 4)
		assert_true(v <= 0xffffffffULL);
	memcpy(r->bytes + gpa, &v, size);
}

static struct vm_guest_paging paging(struct fake_ram *r,
				     enum vm_paging_mode mode)
{
	return (struct vm_guest_paging){
		.cr3 = alloc_table(r),
		.cpl = 0,
		.cpu_mode = mode >= PAGING_MODE_64 ? CPU_MODE_64BIT :
						     CPU_MODE_PROTECTED,
		.paging_mode = mode,
		.wp = true,
		.nxe = true,
	};
}

/* Address of gla's entry at depth (0 = root table), creating the tables
 * above it with full rights so the entries under test decide the outcome. */
static uint64_t entry_addr(struct fake_ram *r, const struct vm_guest_paging *pg,
			   uint64_t gla, unsigned depth)
{
	struct mode_shape s = shape_of(pg->paging_mode);
	uint64_t table = pg->cr3 & s.root_mask;

	for (unsigned d = 0;; d++) {
		uint64_t idx = (gla >> s.shift[d]) & ((1ULL << s.bits[d]) - 1);
		uint64_t addr = table + idx * s.entry_size;
		uint64_t e;

		if (d == depth)
			return addr;
		e = get_entry(r, addr, s.entry_size);
		if (!(e & P)) {
			bool pae_pdpte = pg->paging_mode == PAGING_MODE_PAE &&
					 d == 0;
			e = alloc_table(r) | (pae_pdpte ? P : P | RW | US);
			set_entry(r, addr, s.entry_size, e);
		}
		table = e & FRAME;
	}
}

static void set_at(struct fake_ram *r, const struct vm_guest_paging *pg,
		   uint64_t gla, unsigned depth, uint64_t value)
{
	set_entry(r, entry_addr(r, pg, gla, depth),
		  shape_of(pg->paging_mode).entry_size, value);
}

static void or_at(struct fake_ram *r, const struct vm_guest_paging *pg,
		  uint64_t gla, unsigned depth, uint64_t bits)
{
	unsigned size = shape_of(pg->paging_mode).entry_size;
	uint64_t addr = entry_addr(r, pg, gla, depth);

	set_entry(r, addr, size, get_entry(r, addr, size) | bits);
}

static void clear_at(struct fake_ram *r, const struct vm_guest_paging *pg,
		     uint64_t gla, unsigned depth, uint64_t bits)
{
	unsigned size = shape_of(pg->paging_mode).entry_size;
	uint64_t addr = entry_addr(r, pg, gla, depth);

	set_entry(r, addr, size, get_entry(r, addr, size) & ~bits);
}

static unsigned leaf_depth(const struct vm_guest_paging *pg, uint64_t size)
{
	unsigned n = shape_of(pg->paging_mode).nlevels;

	switch (size) {
	case SIZE_4K:
		return n - 1;
	case SIZE_2M:
	case SIZE_4M:
		return n - 2;
	case SIZE_1G:
		return n - 3;
	}
	fail_msg("bad page size");
	return 0;
}

/* A 32-bit 4 MiB PDE keeps physical bits 39:32 in entry bits 20:13. */
static uint64_t pde_4m(uint64_t phys)
{
	return (phys & 0xffc00000ULL) | ((phys >> 32) << 13);
}

/* Map one page of size at gla -> phys with the given leaf flags. */
static void map(struct fake_ram *r, const struct vm_guest_paging *pg,
		uint64_t gla, uint64_t phys, uint64_t size, uint64_t flags)
{
	uint64_t addr_bits = size == SIZE_4M ? pde_4m(phys) : phys;

	set_at(r, pg, gla, leaf_depth(pg, size),
	       addr_bits | flags | (size == SIZE_4K ? 0 : PS));
}

static enum vm_gla_fault xlate(struct fake_ram *r,
			       const struct vm_guest_paging *pg, uint64_t gla,
			       int prot, uint64_t *gpa)
{
	enum vm_gla_fault fault = NOT_SET;
	uint64_t ignored;

	assert_int_equal(x86_pagewalk(pg, gla, prot, ram_read, r,
				      gpa ? gpa : &ignored, &fault),
			 0);
	return fault;
}

static int setup(void **state)
{
	struct fake_ram *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	r->next_free = PAGE; /* keep page 0 unused, like real guests */
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Fresh RAM for table-driven tests that need several independent cases. */
static void reset(struct fake_ram *r)
{
	memset(r, 0, sizeof(*r));
	r->next_free = PAGE;
}

/* ---- Translation in every mode and page size ------------------------- */

struct page_case {
	enum vm_paging_mode mode;
	uint64_t size;
	uint64_t gla; /* page-aligned */
	uint64_t phys;
	uint64_t offset;
};

static const struct page_case page_cases[] = {
	{ PAGING_MODE_32, SIZE_4K, 0x80403000, 0x00123000, 0xabc },
	{ PAGING_MODE_32, SIZE_4M, 0x80400000, 0x0c000000, 0x2bcdef },
	/* PSE-36: a 4 MiB page above 4 GiB */
	{ PAGING_MODE_32, SIZE_4M, 0xffc00000, 0x30c000000ULL, 0x3fffff },
	{ PAGING_MODE_PAE, SIZE_4K, 0xc0123000, 0x123456000ULL, 0x7 },
	{ PAGING_MODE_PAE, SIZE_2M, 0xc0600000, 0x400200000ULL, 0x1f0123 },
	{ PAGING_MODE_64, SIZE_4K, 0xffff800012345000ULL, 0x76543000, 0xfff },
	{ PAGING_MODE_64, SIZE_2M, 0xffffffff80200000ULL, 0x100600000ULL,
	  0x12345 },
	{ PAGING_MODE_64, SIZE_1G, 0x00007f8040000000ULL, 0x80c0000000ULL,
	  0x3abcdef1 },
	{ PAGING_MODE_64_LA57, SIZE_4K, 0x00c0123456789000ULL, 0x20000000,
	  0x10 },
	{ PAGING_MODE_64_LA57, SIZE_2M, 0xff80000000200000ULL, 0x200000000ULL,
	  0x1fffff },
	{ PAGING_MODE_64_LA57, SIZE_1G, 0x0040000040000000ULL, 0x4000000000ULL,
	  0x00054321 },
};

static void test_translates_every_mode_and_page_size(void **state)
{
	struct fake_ram *r = *state;

	for (size_t i = 0; i < sizeof(page_cases) / sizeof(page_cases[0]);
	     i++) {
		const struct page_case *c = &page_cases[i];
		struct vm_guest_paging pg;
		uint64_t gpa = 0;

		reset(r);
		pg = paging(r, c->mode);
		map(r, &pg, c->gla, c->phys, c->size, P | RW | US);

		assert_int_equal(xlate(r, &pg, c->gla + c->offset,
				       VM_PROT_READ, &gpa),
				 VM_GLA_OK);
		assert_int_equal(gpa, c->phys + c->offset);
		/* First and last byte of the page land in the same page. */
		assert_int_equal(xlate(r, &pg, c->gla, VM_PROT_WRITE, &gpa),
				 VM_GLA_OK);
		assert_int_equal(gpa, c->phys);
		assert_int_equal(xlate(r, &pg, c->gla + c->size - 1,
				       VM_PROT_EXECUTE, &gpa),
				 VM_GLA_OK);
		assert_int_equal(gpa, c->phys + c->size - 1);
		/* The page after it is not mapped. */
		assert_int_equal(xlate(r, &pg, c->gla + c->size, VM_PROT_READ,
				       NULL),
				 VM_GLA_NOT_PRESENT);
	}
}

static void test_flat_is_identity(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = { .paging_mode = PAGING_MODE_FLAT };
	uint64_t gpa = 0;

	assert_int_equal(xlate(r, &pg, 0x123456789aULL, VM_PROT_WRITE, &gpa),
			 VM_GLA_OK);
	assert_int_equal(gpa, 0x123456789aULL);
	assert_int_equal(r->reads, 0);
}

static void test_large_page_pat_bit_is_not_address(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);
	uint64_t gpa = 0;

	set_at(r, &pg, 0x40000000, leaf_depth(&pg, SIZE_2M),
	       0x40000000 | PAT_LARGE | PS | P | RW);
	assert_int_equal(xlate(r, &pg, 0x40000234, VM_PROT_READ, &gpa),
			 VM_GLA_OK);
	assert_int_equal(gpa, 0x40000234);
}

/* PAE CR3 holds a 32-byte-aligned PDPT, not necessarily page-aligned. */
static void test_pae_pdpt_32_byte_aligned(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_PAE);
	uint64_t gpa = 0;

	pg.cr3 += 0x60;
	map(r, &pg, 0x80001000, 0xb000, SIZE_4K, P | RW);
	assert_int_equal(xlate(r, &pg, 0x80001010, VM_PROT_READ, &gpa),
			 VM_GLA_OK);
	assert_int_equal(gpa, 0xb010);
	/* The same index from the page start finds nothing. */
	pg.cr3 -= 0x60;
	assert_int_equal(xlate(r, &pg, 0x80001010, VM_PROT_READ, NULL),
			 VM_GLA_NOT_PRESENT);
}

static void test_32bit_ignores_high_gla_bits(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_32);
	uint64_t gpa = 0;

	map(r, &pg, 0x00401000, 0x9000, SIZE_4K, P | RW);
	assert_int_equal(xlate(r, &pg, 0x100401234ULL, VM_PROT_READ, &gpa),
			 VM_GLA_OK);
	assert_int_equal(gpa, 0x9234);
}

static void test_cr3_low_bits_ignored(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);
	uint64_t gpa = 0;

	map(r, &pg, 0x1000, 0x5000, SIZE_4K, P | RW);
	pg.cr3 |= 0x18 | (1ULL << 63); /* PWT/PCD, PCID no-flush bit */
	assert_int_equal(xlate(r, &pg, 0x1008, VM_PROT_READ, &gpa), VM_GLA_OK);
	assert_int_equal(gpa, 0x5008);
}

/* ---- Not present at every level -------------------------------------- */

static void test_not_present_at_every_level(void **state)
{
	static const enum vm_paging_mode modes[] = {
		PAGING_MODE_32, PAGING_MODE_PAE, PAGING_MODE_64,
		PAGING_MODE_64_LA57
	};
	struct fake_ram *r = *state;
	const uint64_t gla = 0x54321000;

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		unsigned n = shape_of(modes[m]).nlevels;

		for (unsigned depth = 0; depth < n; depth++) {
			struct vm_guest_paging pg;

			reset(r);
			pg = paging(r, modes[m]);
			map(r, &pg, gla, 0x3000, SIZE_4K, P | RW | US);
			assert_int_equal(xlate(r, &pg, gla, VM_PROT_READ,
					       NULL),
					 VM_GLA_OK);
			/* Other bits of a non-present entry mean nothing. */
			clear_at(r, &pg, gla, depth, P);
			or_at(r, &pg, gla, depth,
			      shape_of(modes[m]).entry_size == 8 ? NX : PS);
			assert_int_equal(xlate(r, &pg, gla, VM_PROT_READ,
					       NULL),
					 VM_GLA_NOT_PRESENT);
		}
	}
}

/* ---- Canonical addresses --------------------------------------------- */

static void test_noncanonical_4level(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);
	const uint64_t bad[] = { 0x0000800000000000ULL, 0xffff7fffffffffffULL,
				 0x00c0123456789000ULL, 0x8000000000000000ULL };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xlate(r, &pg, bad[i], VM_PROT_READ, NULL),
				 VM_GLA_NONCANONICAL);
	assert_int_equal(r->reads, 0);

	/* The edges of both canonical halves walk the tables. */
	map(r, &pg, 0x00007ffffffff000ULL, 0x6000, SIZE_4K, P);
	map(r, &pg, 0xffff800000000000ULL, 0x7000, SIZE_4K, P);
	assert_int_equal(xlate(r, &pg, 0x00007fffffffffffULL, VM_PROT_READ,
			       NULL),
			 VM_GLA_OK);
	assert_int_equal(xlate(r, &pg, 0xffff800000000000ULL, VM_PROT_READ,
			       NULL),
			 VM_GLA_OK);
}

static void test_noncanonical_la57(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64_LA57);
	const uint64_t bad[] = { 0x0100000000000000ULL, 0xfeffffffffffffffULL,
				 0x7f00000000000000ULL };
	uint64_t gpa = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xlate(r, &pg, bad[i], VM_PROT_READ, NULL),
				 VM_GLA_NONCANONICAL);
	assert_int_equal(r->reads, 0);

	/* 48-bit non-canonical but 57-bit canonical: a real address. */
	map(r, &pg, 0x00ff800000000000ULL, 0x8000, SIZE_4K, P);
	assert_int_equal(xlate(r, &pg, 0x00ff800000000123ULL, VM_PROT_READ,
			       &gpa),
			 VM_GLA_OK);
	assert_int_equal(gpa, 0x8123);
}

/* ---- Reserved bits --------------------------------------------------- */

struct rsvd_case {
	const char *what;
	enum vm_paging_mode mode;
	uint64_t size; /* page mapped before the bit is set */
	bool nxe;
	int depth;     /* -1: the leaf */
	uint64_t bits;
	enum vm_gla_fault expect;
};

static const struct rsvd_case rsvd_cases[] = {
	{ "PS in PML4E", PAGING_MODE_64, SIZE_4K, true, 0, PS,
	  VM_GLA_RESERVED_BIT },
	{ "PS in PML5E", PAGING_MODE_64_LA57, SIZE_4K, true, 0, PS,
	  VM_GLA_RESERVED_BIT },
	{ "PS in LA57 PML4E", PAGING_MODE_64_LA57, SIZE_4K, true, 1, PS,
	  VM_GLA_RESERVED_BIT },
	{ "NX in PTE without NXE", PAGING_MODE_64, SIZE_4K, false, -1, NX,
	  VM_GLA_RESERVED_BIT },
	{ "NX in PML4E without NXE", PAGING_MODE_64, SIZE_4K, false, 0, NX,
	  VM_GLA_RESERVED_BIT },
	{ "NX in PTE with NXE", PAGING_MODE_64, SIZE_4K, true, -1, NX,
	  VM_GLA_OK },
	{ "bit 13 in 2M PDE", PAGING_MODE_64, SIZE_2M, true, -1, 1ULL << 13,
	  VM_GLA_RESERVED_BIT },
	{ "bit 29 in 1G PDPTE", PAGING_MODE_64, SIZE_1G, true, -1, 1ULL << 29,
	  VM_GLA_RESERVED_BIT },
	{ "ignored bits 58:52 in PTE", PAGING_MODE_64, SIZE_4K, true, -1,
	  0x7fULL << 52, VM_GLA_OK },
	{ "NX in PAE PTE without NXE", PAGING_MODE_PAE, SIZE_4K, false, -1, NX,
	  VM_GLA_RESERVED_BIT },
	{ "NX in PAE PDPTE even with NXE", PAGING_MODE_PAE, SIZE_4K, true, 0,
	  NX, VM_GLA_RESERVED_BIT },
	{ "R/W in PAE PDPTE", PAGING_MODE_PAE, SIZE_4K, true, 0, RW,
	  VM_GLA_RESERVED_BIT },
	{ "bit 52 in PAE PDE", PAGING_MODE_PAE, SIZE_4K, true, 1, 1ULL << 52,
	  VM_GLA_RESERVED_BIT },
	{ "bit 20 in PAE 2M PDE", PAGING_MODE_PAE, SIZE_2M, true, -1,
	  1ULL << 20, VM_GLA_RESERVED_BIT },
	{ "bit 21 in 32-bit 4M PDE", PAGING_MODE_32, SIZE_4M, true, -1,
	  1ULL << 21, VM_GLA_RESERVED_BIT },
	{ "PAT bit in 32-bit PTE", PAGING_MODE_32, SIZE_4K, true, -1, PS,
	  VM_GLA_OK },
};

static void test_reserved_bits(void **state)
{
	struct fake_ram *r = *state;
	const uint64_t gla = 0x40000000;

	for (size_t i = 0; i < sizeof(rsvd_cases) / sizeof(rsvd_cases[0]);
	     i++) {
		const struct rsvd_case *c = &rsvd_cases[i];
		struct vm_guest_paging pg;
		unsigned depth;

		reset(r);
		pg = paging(r, c->mode);
		pg.nxe = c->nxe;
		map(r, &pg, gla, 0x40000000, c->size, P | RW | US);
		depth = c->depth < 0 ? leaf_depth(&pg, c->size) :
				       (unsigned)c->depth;
		or_at(r, &pg, gla, depth, c->bits);
		if (xlate(r, &pg, gla, VM_PROT_READ, NULL) != c->expect)
			fail_msg("%s: expected fault %d", c->what, c->expect);
	}
}

/* ---- Protection ------------------------------------------------------ */

struct prot_case {
	const char *what;
	enum vm_paging_mode mode;
	uint64_t leaf_flags;
	int cpl;
	bool wp;
	int prot;
	enum vm_gla_fault expect;
};

static const struct prot_case prot_cases[] = {
	{ "user write to RO", PAGING_MODE_64, P | US, 3, false, VM_PROT_WRITE,
	  VM_GLA_PROTECTION },
	{ "user read of RO", PAGING_MODE_64, P | US, 3, false, VM_PROT_READ,
	  VM_GLA_OK },
	{ "kernel write to RO, WP", PAGING_MODE_64, P, 0, true, VM_PROT_WRITE,
	  VM_GLA_PROTECTION },
	{ "kernel write to RO, no WP", PAGING_MODE_64, P, 0, false,
	  VM_PROT_WRITE, VM_GLA_OK },
	{ "user read of supervisor page", PAGING_MODE_64, P | RW, 3, true,
	  VM_PROT_READ, VM_GLA_PROTECTION },
	{ "kernel read of supervisor page", PAGING_MODE_64, P | RW, 0, true,
	  VM_PROT_READ, VM_GLA_OK },
	{ "kernel read of user page", PAGING_MODE_64, P | RW | US, 0, true,
	  VM_PROT_READ, VM_GLA_OK },
	{ "execute NX", PAGING_MODE_64, P | RW | NX, 0, true, VM_PROT_EXECUTE,
	  VM_GLA_PROTECTION },
	{ "read NX", PAGING_MODE_64, P | RW | NX, 0, true, VM_PROT_READ,
	  VM_GLA_OK },
	{ "read+write RO", PAGING_MODE_64, P | US, 3, true,
	  VM_PROT_READ | VM_PROT_WRITE, VM_GLA_PROTECTION },
	{ "PAE execute NX", PAGING_MODE_PAE, P | RW | NX, 0, true,
	  VM_PROT_EXECUTE, VM_GLA_PROTECTION },
	{ "32-bit user write to RO", PAGING_MODE_32, P | US, 3, true,
	  VM_PROT_WRITE, VM_GLA_PROTECTION },
	{ "32-bit user read of supervisor", PAGING_MODE_32, P | RW, 3, true,
	  VM_PROT_READ, VM_GLA_PROTECTION },
	{ "LA57 user write to RO", PAGING_MODE_64_LA57, P | US, 3, true,
	  VM_PROT_WRITE, VM_GLA_PROTECTION },
};

static void test_leaf_protection(void **state)
{
	struct fake_ram *r = *state;
	const uint64_t gla = 0x00201000;

	for (size_t i = 0; i < sizeof(prot_cases) / sizeof(prot_cases[0]);
	     i++) {
		const struct prot_case *c = &prot_cases[i];
		struct vm_guest_paging pg;
		uint64_t gpa = 0;

		reset(r);
		pg = paging(r, c->mode);
		pg.cpl = c->cpl;
		pg.wp = c->wp;
		map(r, &pg, gla, 0x9000, SIZE_4K, c->leaf_flags);
		if (xlate(r, &pg, gla + 4, c->prot, &gpa) != c->expect)
			fail_msg("%s: expected fault %d", c->what, c->expect);
		if (c->expect == VM_GLA_OK)
			assert_int_equal(gpa, 0x9004);
	}
}

/* Rights are the most restrictive over all levels, not just the leaf. */
static void test_upper_level_rights_restrict(void **state)
{
	struct fake_ram *r = *state;
	const uint64_t gla = 0x00007f0000402000ULL;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);

	map(r, &pg, gla, 0xa000, SIZE_4K, P | RW | US);
	pg.cpl = 3;
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_WRITE, NULL), VM_GLA_OK);

	clear_at(r, &pg, gla, 1, RW); /* PDPTE read-only */
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_WRITE, NULL),
			 VM_GLA_PROTECTION);
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_READ, NULL), VM_GLA_OK);
	or_at(r, &pg, gla, 1, RW);

	clear_at(r, &pg, gla, 0, US); /* PML4E supervisor-only */
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_READ, NULL),
			 VM_GLA_PROTECTION);
	pg.cpl = 0;
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_READ, NULL), VM_GLA_OK);

	or_at(r, &pg, gla, 2, NX); /* PDE no-execute */
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_EXECUTE, NULL),
			 VM_GLA_PROTECTION);
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_WRITE, NULL), VM_GLA_OK);
}

/* Protection on a large-page leaf, with the rights of the level above. */
static void test_large_page_protection(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);

	map(r, &pg, 0x80000000, 0x80000000, SIZE_1G, P | US);
	pg.cpl = 3;
	assert_int_equal(xlate(r, &pg, 0x80000010, VM_PROT_READ, NULL),
			 VM_GLA_OK);
	assert_int_equal(xlate(r, &pg, 0x80000010, VM_PROT_WRITE, NULL),
			 VM_GLA_PROTECTION);
}

/* ---- Paging structures outside RAM ----------------------------------- */

static void test_tables_outside_ram(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);
	const uint64_t gla = 0x1000;

	map(r, &pg, gla, 0x2000, SIZE_4K, P | RW);
	set_at(r, &pg, gla, 2, 0x10000000 | P | RW); /* PDE -> no RAM */
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_READ, NULL),
			 VM_GLA_BAD_PHYS);

	pg.cr3 = 0x40000000;
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_READ, NULL),
			 VM_GLA_BAD_PHYS);

	reset(r);
	pg = paging(r, PAGING_MODE_32);
	pg.cr3 = 0xfffff000;
	assert_int_equal(xlate(r, &pg, gla, VM_PROT_READ, NULL),
			 VM_GLA_BAD_PHYS);

	/* The final page itself need not be RAM (it may be MMIO). */
	reset(r);
	pg = paging(r, PAGING_MODE_64);
	map(r, &pg, 0xfee00000, 0xfee00000, SIZE_4K, P | RW);
	assert_int_equal(xlate(r, &pg, 0xfee00020, VM_PROT_READ, NULL),
			 VM_GLA_OK);
}

/* ---- Bad arguments --------------------------------------------------- */

static void test_bad_arguments(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);
	enum vm_gla_fault fault;
	uint64_t gpa;

	pg.paging_mode = (enum vm_paging_mode)42;
	assert_int_equal(x86_pagewalk(&pg, 0, VM_PROT_READ, ram_read, r, &gpa,
				      &fault),
			 -EINVAL);
	pg.paging_mode = PAGING_MODE_64;
	assert_int_equal(x86_pagewalk(NULL, 0, VM_PROT_READ, ram_read, r, &gpa,
				      &fault),
			 -EINVAL);
	assert_int_equal(x86_pagewalk(&pg, 0, VM_PROT_READ, NULL, r, &gpa,
				      &fault),
			 -EINVAL);
	assert_int_equal(x86_pagewalk(&pg, 0, VM_PROT_READ, ram_read, r, NULL,
				      &fault),
			 -EINVAL);
	assert_int_equal(x86_pagewalk(&pg, 0, VM_PROT_READ, ram_read, r, &gpa,
				      NULL),
			 -EINVAL);
}

/* A self-referencing table (a common recursive-mapping trick) terminates. */
static void test_recursive_mapping_terminates(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);
	const uint64_t slot = 511;
	const uint64_t gla = 0xffffff8000000000ULL | (slot << 30) |
			     (slot << 21) | (slot << 12);
	uint64_t gpa = 0;

	set_entry(r, pg.cr3 + slot * 8, 8, pg.cr3 | P | RW);
	assert_int_equal(xlate(r, &pg, gla + 0x18, VM_PROT_READ, &gpa),
			 VM_GLA_OK);
	assert_int_equal(gpa, pg.cr3 + 0x18);
}

static int holds(struct fake_ram *r, const struct vm_guest_paging *pg,
		 uint64_t gpa)
{
	return x86_paging_structure_holds(pg, gpa, ram_read, r);
}

/* Every byte of every table a walk reads, at every level and in every
 * mode, is a paging structure; the mapped pages themselves are not. */
static void test_paging_structures_every_level(void **state)
{
	static const enum vm_paging_mode modes[] = {
		PAGING_MODE_32, PAGING_MODE_PAE, PAGING_MODE_64,
		PAGING_MODE_64_LA57,
	};
	struct fake_ram *r = *state;

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		memset(r->bytes, 0, RAM_SIZE);
		r->next_free = 0;
		struct vm_guest_paging pg = paging(r, modes[m]);
		struct mode_shape s = shape_of(modes[m]);
		const uint64_t gla = 0x40403000ULL, data = 0x70000;
		const uint64_t big = modes[m] == PAGING_MODE_32 ? SIZE_4M
								: SIZE_2M;

		map(r, &pg, gla, data, SIZE_4K, P | RW);
		map(r, &pg, 0x80000000ULL, 0, big, P | RW); /* phys 0.. */
		for (unsigned d = 0; d < s.nlevels; d++) {
			uint64_t e = entry_addr(r, &pg, gla, d);
			uint64_t size = (uint64_t)s.entry_size << s.bits[d];
			uint64_t table = e & ~(size - 1);

			assert_int_equal(holds(r, &pg, e), 1);
			assert_int_equal(holds(r, &pg, table), 1);
			assert_int_equal(holds(r, &pg, table + size - 1), 1);
			if (size < PAGE) /* PAE's 32-byte root: only that */
				assert_int_equal(holds(r, &pg, table + size),
						 0);
		}
		assert_int_equal(holds(r, &pg, data), 0);
		assert_int_equal(holds(r, &pg, data + PAGE - 1), 0);
		/* a large page's frame is mapped memory, not a table */
		assert_int_equal(holds(r, &pg, big - 1), 0);
		pg.paging_mode = PAGING_MODE_FLAT;
		assert_int_equal(holds(r, &pg, pg.cr3), 0);
	}
}

/* Every entry pointing back at its own table (what a hostile guest can
 * build) is searched once per table and level, not once per path. */
static void test_paging_structures_self_references(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64_LA57);

	for (unsigned i = 0; i < 512; i++)
		set_entry(r, pg.cr3 + i * 8, 8, pg.cr3 | P | RW);
	r->reads = 0;
	assert_int_equal(holds(r, &pg, 0x70000), 0);
	assert_true(r->reads <= 4); /* one read per non-leaf level */
	assert_int_equal(holds(r, &pg, pg.cr3 + 0x123), 1);
}

/* More tables than the search visits: it cannot tell, and says so. */
static void test_paging_structures_too_many(void **state)
{
	struct fake_ram *r = *state;
	struct vm_guest_paging pg = paging(r, PAGING_MODE_64);
	const unsigned pdpts = X86_PAGING_SEARCH_MAX_TABLES / 512 + 1;

	for (unsigned i = 0; i < pdpts; i++) {
		uint64_t pdpt = alloc_table(r);

		set_entry(r, pg.cr3 + i * 8, 8, pdpt | P | RW);
		for (unsigned j = 0; j < 512; j++) /* PDs past the RAM */
			set_entry(r, pdpt + j * 8, 8,
				  (0x100000000ULL + (i * 512 + j) * PAGE) |
					  P | RW);
	}
	assert_int_equal(holds(r, &pg, 0x70000), -E2BIG);
	/* found before the limit: still a clear yes */
	assert_int_equal(holds(r, &pg, pg.cr3 + 0x10), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_translates_every_mode_and_page_size),
		T(test_flat_is_identity),
		T(test_large_page_pat_bit_is_not_address),
		T(test_pae_pdpt_32_byte_aligned),
		T(test_32bit_ignores_high_gla_bits),
		T(test_cr3_low_bits_ignored),
		T(test_not_present_at_every_level),
		T(test_noncanonical_4level),
		T(test_noncanonical_la57),
		T(test_reserved_bits),
		T(test_leaf_protection),
		T(test_upper_level_rights_restrict),
		T(test_large_page_protection),
		T(test_tables_outside_ram),
		T(test_bad_arguments),
		T(test_recursive_mapping_terminates),
		T(test_paging_structures_every_level),
		T(test_paging_structures_self_references),
		T(test_paging_structures_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
