#include "address_space.h"

#include "layout.h"
#include "runtime.h"
#include "x86.h"

/* Pages each vCPU takes from the pool: 7 tables and 9 test pages fit. */
#define POOL_PAGES 32

/* Entries of the non-leaf levels: present, writable, user-accessible. The
 * effective rights are the most restrictive of all levels, so leaving the
 * upper levels open lets each test PTE decide on its own. */
#define TABLE_ENTRY (PTE_P | PTE_RW | PTE_US)

extern const char paging_code_page[], user_text_page[];

struct pool {
	uint64_t next, end;
};

static uint64_t pool_page(struct pool *pool)
{
	uint64_t pa = pool->next;
	pool->next += PAGE_SIZE;
	if (pa >= pool->end)
		guest_exit(GUEST_EXIT_BOOT); /* POOL_PAGES is too small */
	volatile uint64_t *p = phys(pa);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		p[i] = 0;
	return pa;
}

static unsigned index_at(uint64_t va, unsigned level_shift)
{
	return (unsigned)((va >> level_shift) & 511);
}

void address_space_build(struct address_space *as, unsigned vcpu)
{
	struct pool pool;
	pool.next = guest_free_memory() + (uint64_t)vcpu * POOL_PAGES * PAGE_SIZE;
	pool.end = pool.next + POOL_PAGES * PAGE_SIZE;

	uint64_t pml4 = pool_page(&pool);
	uint64_t test_pdpt = pool_page(&pool), test_pd = pool_page(&pool);
	uint64_t test_pt = pool_page(&pool);
	uint64_t high_pdpt = pool_page(&pool), high_pd = pool_page(&pool);

	/* The low 512 GiB: whatever the boot code identity-mapped. */
	phys(pml4)[0] = *phys(read_cr3() & PTE_ADDR_MASK);

	phys(pml4)[index_at(TEST_WINDOW, 39)] = test_pdpt | TABLE_ENTRY;
	phys(test_pdpt)[index_at(TEST_WINDOW, 30)] = test_pd | TABLE_ENTRY;
	phys(test_pd)[index_at(TEST_WINDOW, 21)] = test_pt | TABLE_ENTRY;

	/* Higher half: one 1 GiB page and one 2 MiB page, both of physical
	 * address 0, so HIGH_1G + x and HIGH_2M + x alias physical x. */
	phys(pml4)[index_at(HIGH_1G, 39)] = high_pdpt | PTE_P | PTE_RW;
	phys(high_pdpt)[index_at(HIGH_1G, 30)] = 0 | PTE_PS | PTE_P | PTE_RW;
	phys(high_pdpt)[index_at(HIGH_2M, 30)] = high_pd | PTE_P | PTE_RW;
	phys(high_pd)[index_at(HIGH_2M, 21)] = 0 | PTE_PS | PTE_P | PTE_RW;

	as->cr3 = pml4;
	as->test_pt = (uint64_t *)(uintptr_t)test_pt;
	as->page_a = pool_page(&pool);
	as->page_b = pool_page(&pool);
	as->page_r = pool_page(&pool);
	as->page_x = pool_page(&pool);
	as->page_d = pool_page(&pool);
	as->page_c1 = pool_page(&pool);
	as->page_c2 = pool_page(&pool);
	as->page_u = pool_page(&pool);
	as->page_s = pool_page(&pool);

	const uint64_t kernel = PTE_P, user = PTE_P | PTE_US;
	*test_pte(as, VA_CODE_4K) = (uint64_t)(uintptr_t)paging_code_page | kernel;
	*test_pte(as, VA_DATA) = as->page_a | kernel | PTE_RW | PTE_NX;
	*test_pte(as, VA_DATA_ALIAS) = as->page_a | kernel | PTE_RW | PTE_NX;
	*test_pte(as, VA_NOT_PRESENT) = as->page_a & ~PTE_P; /* P=0: the rest is ignored */
	*test_pte(as, VA_READ_ONLY) = as->page_r | kernel | PTE_NX;
	*test_pte(as, VA_NX) = as->page_x | kernel | PTE_NX;
	*test_pte(as, VA_RESERVED) = as->page_r | kernel | PTE_RESERVED_51;
	*test_pte(as, VA_AD) = as->page_d | kernel | PTE_RW | PTE_NX;
	*test_pte(as, VA_REMAP_DATA) = as->page_a | kernel | PTE_NX;
	*test_pte(as, VA_REMAP_CODE) = as->page_c1 | kernel;
	*test_pte(as, VA_CODE_ALIAS) = as->page_c1 | kernel;

	*test_pte(as, VA_USER_CODE) = (uint64_t)(uintptr_t)user_text_page | user;
	*test_pte(as, VA_USER_DATA) = as->page_u | user | PTE_RW | PTE_NX;
	*test_pte(as, VA_USER_STACK) = as->page_s | user | PTE_RW | PTE_NX;
	*test_pte(as, VA_USER_RO) = as->page_r | user | PTE_NX;
	*test_pte(as, VA_USER_SUPER) = as->page_u | kernel | PTE_RW | PTE_NX;
	*test_pte(as, VA_USER_NP) = 0;
}

uint64_t *test_pte(struct address_space *as, uint64_t va)
{
	return &as->test_pt[(va - TEST_WINDOW) / PAGE_SIZE];
}
