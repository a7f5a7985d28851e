/*
 * What the CPU writes into the page tables (accessed and dirty bits), and
 * what it caches from them: a CPU may keep using a translation after the
 * PTE changed, until INVLPG drops that page's translation or a CR3 load
 * drops them all (non-global ones). Each remap below changes a PTE, drops
 * the stale translation one of the two ways, and must see the new page.
 */
#include "checks.h"

#include "faults.h"
#include "layout.h"
#include "report.h"
#include "x86.h"

static void reload_cr3(void)
{
	write_cr3(read_cr3());
}

static void check_accessed_dirty(unsigned vcpu, struct address_space *as)
{
	volatile uint64_t *pte = test_pte(as, VA_AD);
	*pte &= ~(PTE_A | PTE_D);
	invlpg(VA_AD);
	uint64_t before = *pte & (PTE_A | PTE_D);
	fault_log_reset(vcpu);
	probe_read(VA_AD);
	uint64_t after_read = *pte & (PTE_A | PTE_D);
	probe_write(VA_AD, 1);
	uint64_t after_write = *pte & (PTE_A | PTE_D);
	check(vcpu, "accessed-dirty",
	      before == 0 && after_read == PTE_A &&
		      after_write == (PTE_A | PTE_D) && fault_log(vcpu)->count == 0,
	      "PTE A|D bits: 0x%lx, after a read 0x%lx, after a write 0x%lx",
	      before, after_read, after_write);
}

static void map(struct address_space *as, uint64_t va, uint64_t pte)
{
	*(volatile uint64_t *)test_pte(as, va) = pte;
}

static void check_data_remap(unsigned vcpu, struct address_space *as)
{
	uint64_t in_a = 0xaaaa000000000000 | vcpu, in_b = 0xbbbb000000000000 | vcpu;
	*phys(as->page_a) = in_a;
	*phys(as->page_b) = in_b;
	const uint64_t flags = PTE_P | PTE_NX;
	fault_log_reset(vcpu);

	map(as, VA_REMAP_DATA, as->page_a | flags);
	invlpg(VA_REMAP_DATA);
	uint64_t first = probe_read(VA_REMAP_DATA); /* now cached */
	map(as, VA_REMAP_DATA, as->page_b | flags);
	invlpg(VA_REMAP_DATA);
	uint64_t second = probe_read(VA_REMAP_DATA);
	check(vcpu, "invlpg-data", first == in_a && second == in_b,
	      "read 0x%lx, remapped to page B, invlpg, read 0x%lx", first, second);

	map(as, VA_REMAP_DATA, as->page_a | flags);
	reload_cr3();
	uint64_t third = probe_read(VA_REMAP_DATA);
	check(vcpu, "cr3-reload-data", third == in_a && fault_log(vcpu)->count == 0,
	      "remapped to page A, CR3 reload, read 0x%lx", third);
}

static void check_code_remap(unsigned vcpu, struct address_space *as)
{
	uint32_t in_c1 = 0xc1c10000u | vcpu, in_c2 = 0xc2c20000u | vcpu;
	write_return_value_code(as->page_c1, in_c1);
	write_return_value_code(as->page_c2, in_c2);
	fault_log_reset(vcpu);

	map(as, VA_REMAP_CODE, as->page_c1 | PTE_P);
	invlpg(VA_REMAP_CODE);
	uint64_t first = probe_call(VA_REMAP_CODE); /* now cached, translated */
	map(as, VA_REMAP_CODE, as->page_c2 | PTE_P);
	invlpg(VA_REMAP_CODE);
	uint64_t second = probe_call(VA_REMAP_CODE);
	check(vcpu, "invlpg-code", first == in_c1 && second == in_c2,
	      "ran 0x%lx, remapped to page C2, invlpg, ran 0x%lx", first, second);

	map(as, VA_REMAP_CODE, as->page_c1 | PTE_P);
	reload_cr3();
	uint64_t third = probe_call(VA_REMAP_CODE);
	check(vcpu, "cr3-reload-code", third == in_c1 && fault_log(vcpu)->count == 0,
	      "remapped to page C1, CR3 reload, ran 0x%lx", third);
}

void checks_tlb(unsigned vcpu, struct address_space *as)
{
	check_accessed_dirty(vcpu, as);
	check_data_remap(vcpu, as);
	check_code_remap(vcpu, as);
}
