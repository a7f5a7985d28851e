#include "debug_target.h"

#include <stdint.h>

#include "checks.h"
#include "layout.h"
#include "x86.h"

/* Two slots at the top of TEST_WINDOW's page table: the PTE of the last
 * one is the last 8 bytes of the page mapped at the one before, so a
 * 16-byte debugger write at VA_DBG_PT + 0xff8 rewrites the translation of
 * its own second half. */
#define VA_DBG_PT SLOT(510)   /* the test page table itself, writable */
#define VA_DBG_AFTER SLOT(511) /* page B */

/* What the debugger may ask for through dbg_request. */
#define DBG_REMAP_TO_C2 1
#define DBG_REMAP_TO_C1 2

extern uint64_t where_am_i(void);
extern const char paging_code_page[];

/* Read by the debugger (identity-mapped, so at their link addresses). */
struct dbg_info {
	uint64_t marker_va;      /* VA_DATA: each vCPU's page A starts with */
	uint64_t page_a, page_b; /* vCPU 0's, physical */
	uint64_t page_c1, page_c2;
	uint64_t test_pt; /* physical address of the page table at VA_DBG_PT */
	uint64_t high_where;  /* where_am_i through the 1 GiB higher-half page */
	uint64_t alias_where; /* where_am_i through VA_CODE_4K */
	uint64_t remap_va;    /* VA_REMAP_CODE */
	uint64_t pt_va, after_va;
};
volatile struct dbg_info dbg_info;
volatile uint64_t dbg_request;  /* written by the debugger */
volatile uint64_t dbg_rounds;   /* loop iterations */
volatile uint64_t dbg_last_where, dbg_last_remap;

/* The debugger's synchronisation point: a breakpoint here stops the loop
 * at a known place, between requests. */
__attribute__((noinline)) void dbg_sync(void)
{
	__asm__ volatile("" ::: "memory");
}

static uint64_t call_at(uint64_t va)
{
	return ((uint64_t(*)(void))(uintptr_t)va)();
}

static void map(struct address_space *as, uint64_t va, uint64_t pte)
{
	*(volatile uint64_t *)test_pte(as, va) = pte;
	invlpg(va);
}

void debug_target_run(unsigned vcpu, struct address_space *as)
{
	/* Each vCPU's VA_DATA shows its own index: which tables a debugger
	 * read went through. */
	*phys(as->page_a) = 0xda7a0000u | vcpu;
	if (vcpu != 0)
		for (;;)
			__asm__ volatile("pause");

	uint64_t off = (uint64_t)(uintptr_t)where_am_i -
		       (uint64_t)(uintptr_t)paging_code_page;
	write_return_value_code(as->page_c1, 0xc1);
	write_return_value_code(as->page_c2, 0xc2);
	map(as, VA_REMAP_CODE, as->page_c1 | PTE_P);
	map(as, VA_DBG_PT, (uint64_t)(uintptr_t)as->test_pt | PTE_P | PTE_RW |
				   PTE_NX);
	map(as, VA_DBG_AFTER, as->page_b | PTE_P | PTE_RW | PTE_NX);

	dbg_info.marker_va = VA_DATA;
	dbg_info.page_a = as->page_a;
	dbg_info.page_b = as->page_b;
	dbg_info.page_c1 = as->page_c1;
	dbg_info.page_c2 = as->page_c2;
	dbg_info.test_pt = (uint64_t)(uintptr_t)as->test_pt;
	dbg_info.high_where = HIGH_1G + (uint64_t)(uintptr_t)where_am_i;
	dbg_info.alias_where = VA_CODE_4K + off;
	dbg_info.remap_va = VA_REMAP_CODE;
	dbg_info.pt_va = VA_DBG_PT;
	dbg_info.after_va = VA_DBG_AFTER;

	for (;;) {
		if (dbg_request == DBG_REMAP_TO_C2 ||
		    dbg_request == DBG_REMAP_TO_C1) {
			uint64_t page = dbg_request == DBG_REMAP_TO_C2
						? as->page_c2
						: as->page_c1;
			map(as, VA_REMAP_CODE, page | PTE_P);
			dbg_request = 0;
		}
		dbg_sync();
		dbg_last_where = call_at(dbg_info.high_where);
		dbg_last_remap = call_at(VA_REMAP_CODE);
		dbg_rounds++;
	}
}
