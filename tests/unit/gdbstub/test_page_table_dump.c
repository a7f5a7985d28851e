/*
 * The page-table walk behind `monitor info mem` / `info tlb`
 * (src/gdbstub/page_table_dump.c), on tables built in a buffer standing for
 * guest-physical memory: every paging mode, large pages, rights combined
 * over the levels, canonical high-half addresses, unreadable tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gdbstub/page_table_dump.h"

#define MEM_SIZE (64 * 4096)
#define P 0x1ULL
#define RW 0x2ULL
#define US 0x4ULL
#define A 0x20ULL
#define D 0x40ULL
#define PS 0x80ULL
#define G 0x100ULL
#define XD (1ULL << 63)

static uint8_t mem[MEM_SIZE];

static int read_mem(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa > MEM_SIZE || len > MEM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, mem + gpa, len);
	return 0;
}

static void put64(uint64_t table, unsigned i, uint64_t e)
{
	memcpy(mem + table + 8 * i, &e, 8);
}

static void put32(uint64_t table, unsigned i, uint32_t e)
{
	memcpy(mem + table + 4 * i, &e, 4);
}

struct seen {
	struct pt_mapping m[16];
	int n;
};

static void collect(const struct pt_mapping *m, void *arg)
{
	struct seen *s = arg;
	assert_true(s->n < 16);
	s->m[s->n++] = *m;
}

static void expect(const struct pt_mapping *m, uint64_t va, uint64_t pa,
		   uint64_t size, const char *rights)
{
	assert_int_equal(m->va, va);
	assert_int_equal(m->pa, pa);
	assert_int_equal(m->size, size);
	assert_int_equal(m->user, rights[0] == 'u');
	assert_int_equal(m->write, rights[2] == 'w');
	assert_int_equal(m->exec, rights[3] == 'x');
}

#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

/* Long mode: a 4 KiB user page, a 2 MiB read-only page, a 1 GiB page in
 * the high half, NX from a middle level, one entry pointing past RAM. */
static void test_four_level(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	const uint64_t pml4 = 0x1000, pdpt_lo = 0x2000, pd = 0x3000,
		       pt = 0x4000, pdpt_hi = 0x5000;
	put64(pml4, 0, pdpt_lo | P | RW | US);
	put64(pdpt_lo, 0, pd | P | RW | US);
	put64(pd, 0, pt | P | RW | US);
	put64(pt, 1, 0x123000 | P | RW | US | A | D);  /* va 0x1000 */
	put64(pd, 2, 0x40000000ULL | P | PS | G);       /* va 4 MiB, 2M, ro */
	put64(pd, 3, pt | P | RW | XD);                  /* NX above a PT */
	put64(pml4, 511, pdpt_hi | P | RW);
	put64(pdpt_hi, 510, 0x80000000ULL | P | RW | PS | XD); /* 1G data */
	put64(pml4, 300, 0x7fff000ULL | P | RW);          /* past RAM */
	struct pt_regs r = { .cr0 = CR0_PG, .cr3 = pml4, .cr4 = CR4_PAE,
			     .efer = EFER_LMA | EFER_NXE };
	struct seen s = { .n = 0 };
	assert_int_equal(pt_walk(&r, read_mem, NULL, collect, &s), 1);
	assert_int_equal(s.n, 4);
	expect(&s.m[0], 0x1000, 0x123000, 4096, "urwx");
	assert_true(s.m[0].accessed && s.m[0].dirty && !s.m[0].global);
	expect(&s.m[1], 4ULL << 20, 0x40000000ULL, 2ULL << 20, "-r-x");
	assert_true(s.m[1].global);
	expect(&s.m[2], (6ULL << 20) + 0x1000, 0x123000, 4096, "-rw-");
	expect(&s.m[3], 0xffffffff80000000ULL, 0x80000000ULL, 1ULL << 30,
	       "-rw-");
	/* Without EFER.NXE the XD bit means nothing. */
	r.efer = EFER_LMA;
	s.n = 0;
	pt_walk(&r, read_mem, NULL, collect, &s);
	expect(&s.m[2], (6ULL << 20) + 0x1000, 0x123000, 4096, "-rwx");
}

/* PAE: four PDPTEs without rights, 2 MiB pages. */
static void test_pae(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	const uint64_t pdpt = 0x1020, pd = 0x2000;
	put64(pdpt, 3, pd | P);
	put64(pd, 1, 0x600000 | P | RW | US | PS);
	struct pt_regs r = { .cr0 = CR0_PG, .cr3 = pdpt, .cr4 = CR4_PAE };
	struct seen s = { .n = 0 };
	assert_int_equal(pt_walk(&r, read_mem, NULL, collect, &s), 0);
	assert_int_equal(s.n, 1);
	expect(&s.m[0], 0xc0200000ULL, 0x600000, 2ULL << 20, "urwx");
}

/* 32-bit paging: 4-byte entries, a 4 MiB page only with CR4.PSE (and its
 * PSE-36 high address bits), a 4 KiB page under a read-only PDE. */
static void test_32bit(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	const uint64_t pdir = 0x1000, pt = 0x2000;
	put32(pdir, 0, (uint32_t)(pt | P | US));
	put32(pt, 2, 0x9000 | P | RW | US);
	put32(pdir, 768, (uint32_t)(0x00400000 | (0x3 << 13) | P | RW | PS));
	struct pt_regs r = { .cr0 = CR0_PG, .cr3 = pdir, .cr4 = CR4_PSE };
	struct seen s = { .n = 0 };
	pt_walk(&r, read_mem, NULL, collect, &s);
	assert_int_equal(s.n, 2);
	expect(&s.m[0], 0x2000, 0x9000, 4096, "ur-x");
	expect(&s.m[1], 0xc0000000ULL, 0x300400000ULL, 4ULL << 20, "-rwx");
	assert_int_equal(pt_mode_of(&r), PT_32BIT);
	r.cr0 = 0;
	assert_int_equal(pt_walk(&r, read_mem, NULL, collect, &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_four_level),
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_32bit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
