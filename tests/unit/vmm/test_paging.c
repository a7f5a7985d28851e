/*
 * x86-64 paging on the real engine, in supervisor mode: the host builds
 * page tables in guest RAM (paging_tables.h), the guest accesses memory
 * through them (paging_snippets.S), and each test checks what the guest
 * read, wrote or ran, what it found in the page tables afterwards, or the
 * page fault it took. Expected values are the Intel SDM's (Vol. 3A, ch. 4).
 * CPL 3 and mode switches: test_cpu_modes.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "paging_probe.h"

/* #PF error code bits (SDM 4.7). */
#define PF_P 0x1u
#define PF_W 0x2u
#define PF_RSVD 0x8u
#define PF_ID 0x10u

#define CR0_WP (1ULL << 16)
#define EFER_NXE (1ULL << 11)

/* Guest-physical pages the tests map (free RAM in tg_create's layout). */
#define PA_DATA 0x501000ULL
#define PA_OTHER 0x502000ULL
#define PA_CODE 0x504000ULL
#define PA_CODE2 0x505000ULL

static void assert_fault(struct vm *vm, uint64_t error, uint64_t cr2,
			 uint64_t rip)
{
	struct pf_seen f = probe_fault(vm);
	assert_int_equal(f.error, error);
	assert_int_equal(f.cr2, cr2);
	assert_int_equal(f.rip, rip);
	assert_int_equal(f.cs, KERNEL_CS);
}

/* ---- Page sizes and aliases ---------------------------------------------- */

/* One page of each size at a virtual address far from its physical one,
 * used for a read, a write and a call. The offsets reach past what a
 * smaller page would cover (the 1 GiB offset is above 2 MiB), so a walk
 * that ignored PS, or took the wrong bits from the address, would read
 * somewhere else. */
static void test_pages_of_each_size_at_va_not_pa(void **state)
{
	(void)state;
	static const struct {
		enum pt_page_size size;
		uint64_t va, pa, offset;
	} pages[] = {
		{ PT_4K, VA_WINDOW + 0x3000, 0x503000, 0x10 },
		{ PT_2M, VA_WINDOW + 0x200000, 0x600000, 0x1ff010 },
		{ PT_1G, 0xffffffff80000000ULL, 0, 0xa01010 },
	};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		struct pt_space pt;
		struct vm *vm = probe_vm(&pt);
		uint64_t va = pages[i].va + pages[i].offset;
		uint64_t pa = pages[i].pa + pages[i].offset;
		uint64_t marker = 0x5a5a000000000000ULL | i;
		pt_map(&pt, pages[i].va, pages[i].pa, pages[i].size,
		       PTE_P | PTE_W);
		set_gpa_u64(vm, pa, marker);
		put_return_code(vm, pa + 0x100, 0xc0de0000u | (uint32_t)i);

		assert_int_equal(probe_read(vm, va), marker);
		probe_write(vm, va + 8, ~marker);
		assert_int_equal(gpa_u64(vm, pa + 8), ~marker);
		assert_int_equal(probe_call(vm, va + 0x100),
				 0xc0de0000u | (uint32_t)i);
		vm_destroy(vm);
	}
}

/* One physical page at three virtual addresses (writable data, read-only
 * code, code): what is written through one is read and run through the
 * others, and code rewritten through the data alias runs rewritten
 * through the code aliases (translated code is tracked by physical
 * address, whatever address it was reached through). */
static void test_aliases_share_one_page(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = probe_vm(&pt);
	const uint64_t data = VA_WINDOW + 0x10000, code = VA_WINDOW + 0x11000,
		       code2 = VA_WINDOW + 0x7f000;
	pt_map(&pt, data, PA_CODE, PT_4K, PTE_P | PTE_W | PTE_NX);
	pt_map(&pt, code, PA_CODE, PT_4K, PTE_P);
	pt_map(&pt, code2, PA_CODE, PT_4K, PTE_P | PTE_W);

	probe_write(vm, data + 0x40, 0x1111222233334444ULL);
	assert_int_equal(probe_read(vm, code + 0x40), 0x1111222233334444ULL);
	assert_int_equal(probe_read(vm, code2 + 0x40), 0x1111222233334444ULL);
	assert_int_equal(gpa_u64(vm, PA_CODE + 0x40), 0x1111222233334444ULL);

	put_return_code(vm, PA_CODE + 0x800, 1);
	assert_int_equal(probe_call(vm, code + 0x800), 1);
	assert_int_equal(probe_call(vm, code2 + 0x800), 1);
	/* Both translated now; the guest rewrites the code through `data`. */
	struct vm_exit e = probe_run(vm, PG(patch_through_alias), code + 0x800,
				     data + 0x800, return_code_u64(2));
	assert_int_equal(e.rip, PG(patch_through_alias_end));
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R8), 1);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R9), 2);
	assert_int_equal(probe_call(vm, code2 + 0x800), 2);
	vm_destroy(vm);
}

/* ---- Page faults --------------------------------------------------------- */

/* Not present: P = 0; W says whether it was a write; I/D (EFER.NXE is on
 * in tg_create) that it was a fetch, with RIP = CR2 = the target. */
static void test_pf_not_present(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = probe_vm(&pt);
	const uint64_t va = VA_WINDOW + 0x20000;
	pt_map(&pt, va, PA_DATA, PT_4K, 0); /* the PTE exists, P = 0 */

	probe_run(vm, PG(read), va + 8, 0, 0);
	assert_fault(vm, 0, va + 8, PG(read));
	probe_run(vm, PG(write), va + 16, 0, 1);
	assert_fault(vm, PF_W, va + 16, PG(write));
	probe_run(vm, PG(call), va + 0x100, 0, 0);
	assert_fault(vm, PF_ID, va + 0x100, va + 0x100);
	/* Nothing at all in PML4[2]: not present at the top level. */
	probe_run(vm, PG(read), 0x0000010000000000ULL, 0, 0);
	assert_fault(vm, 0, 0x0000010000000000ULL, PG(read));
	vm_destroy(vm);
}

/* A read-only page: with CR0.WP = 1 a supervisor write faults (P|W) and
 * changes nothing; with CR0.WP = 0 it is allowed. */
static void test_pf_write_to_read_only(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = probe_vm(&pt);
	const uint64_t va = VA_WINDOW + 0x21000;
	pt_map(&pt, va, PA_DATA, PT_4K, PTE_P | PTE_NX);
	set_gpa_u64(vm, PA_DATA, 0x0dd);
	assert_true(tg_reg(vm, 0, VM_REG_GUEST_CR0) & CR0_WP);

	assert_int_equal(probe_read(vm, va), 0x0dd);
	probe_run(vm, PG(write), va, 0, 0xbad);
	assert_fault(vm, PF_P | PF_W, va, PG(write));
	assert_int_equal(gpa_u64(vm, PA_DATA), 0x0dd);

	struct vm_exit e = probe_run(vm, PG(write_wp0), va, 0, 0x900d);
	assert_int_equal(tg_data(vm, PF_COUNT), 0);
	assert_int_equal(e.rip, PG(write_wp0_end));
	assert_int_equal(gpa_u64(vm, PA_DATA), 0x900d);
	assert_true(tg_reg(vm, 0, VM_REG_GUEST_CR0) & CR0_WP);
	/* WP is back: the page is read-only again. */
	probe_run(vm, PG(write), va, 0, 0xbad);
	assert_fault(vm, PF_P | PF_W, va, PG(write));
	vm_destroy(vm);
}

/* NX with EFER.NXE: the page reads, but a fetch from it faults with
 * P|I/D, CR2 and RIP at the target. The page holds code a CPU ignoring
 * NX would run (and return from). */
static void test_pf_nx_fetch(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = probe_vm(&pt);
	const uint64_t va = VA_WINDOW + 0x22000;
	pt_map(&pt, va, PA_CODE, PT_4K, PTE_P | PTE_NX);
	put_return_code(vm, PA_CODE + 0x20, 7);

	assert_int_equal(probe_read(vm, va + 0x20), return_code_u64(7));
	probe_run(vm, PG(call), va + 0x20, 0, 0);
	assert_fault(vm, PF_P | PF_ID, va + 0x20, va + 0x20);
	vm_destroy(vm);
}

/* Reserved bits (SDM 4.7: RSVD, and P since the entry is present): an
 * address bit above MAXPHYADDR (40, as CPUID says) in a PTE, bit 13 of a
 * 2 MiB PDE, PS in a PML4E. */
static void test_pf_reserved_bits(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = probe_vm(&pt);
	const uint64_t pte_va = VA_WINDOW + 0x23000;
	const uint64_t pde_va = VA_WINDOW + 0x400000;
	const uint64_t pml4e_va = 0x0000018000000000ULL; /* PML4[3] */
	uint64_t pte = pt_map(&pt, pte_va, PA_DATA, PT_4K, PTE_P | PTE_W);
	pt_set(&pt, pte, pt_get(&pt, pte) | (1ULL << 51));
	uint64_t pde = pt_map(&pt, pde_va, 0x600000, PT_2M, PTE_P | PTE_W);
	pt_set(&pt, pde, pt_get(&pt, pde) | (1ULL << 13));
	/* PML4[3]: present, PS set (reserved at this level); the walk
	 * stops there, so where it points does not matter. */
	pt_set(&pt, pt.root + 8 * 3, (PT_POOL_END - 0x1000) | PTE_P | PTE_PS);

	probe_run(vm, PG(read), pte_va, 0, 0);
	assert_fault(vm, PF_P | PF_RSVD, pte_va, PG(read));
	probe_run(vm, PG(write), pte_va + 8, 0, 1);
	assert_fault(vm, PF_P | PF_W | PF_RSVD, pte_va + 8, PG(write));
	probe_run(vm, PG(read), pde_va + 0x1234, 0, 0);
	assert_fault(vm, PF_P | PF_RSVD, pde_va + 0x1234, PG(read));
	probe_run(vm, PG(read), pml4e_va, 0, 0);
	assert_fault(vm, PF_P | PF_RSVD, pml4e_va, PG(read));
	vm_destroy(vm);
}

/* Without EFER.NXE, bit 63 (NX) is reserved: RSVD, and no I/D. */
static void test_pf_nx_bit_reserved_without_nxe(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = probe_vm(&pt);
	uint64_t efer = tg_reg(vm, 0, VM_REG_GUEST_EFER) & ~EFER_NXE;
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_EFER, efer), 0);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_EFER) & EFER_NXE, 0);
	const uint64_t va = VA_WINDOW + 0x24000;
	pt_map(&pt, va, PA_CODE, PT_4K, PTE_P | PTE_NX);
	pt_map(&pt, va + 0x1000, PA_CODE2, PT_4K, 0);
	put_return_code(vm, PA_CODE, 3);

	probe_run(vm, PG(read), va, 0, 0);
	assert_fault(vm, PF_P | PF_RSVD, va, PG(read));
	probe_run(vm, PG(call), va, 0, 0);
	assert_fault(vm, PF_P | PF_RSVD, va, va);
	/* I/D is reported only with NXE (or SMEP): not for this fetch. */
	probe_run(vm, PG(call), va + 0x1000, 0, 0);
	assert_fault(vm, 0, va + 0x1000, va + 0x1000);
	vm_destroy(vm);
}

/* MOV to CR3 in 64-bit mode: a 1 in a reserved bit (63:40, MAXPHYADDR
 * being 40 as CPUID says) is #GP(0) on the MOV, and CR3 keeps its value
 * (SDM Vol. 2B, MOV to control registers). Bits 11:0 are ignored or cache
 * attributes: loaded, and the same tables stay in use. */
static void test_mov_cr3_reserved_bits_gp(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = probe_vm(&pt);
	static const uint64_t reserved[] = { 1ULL << 40, 1ULL << 51,
					     1ULL << 62, 0xdead000000000000ULL };
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		probe_run(vm, PG(write_cr3), pt.root | reserved[i], 0, 0);
		assert_int_equal(tg_data(vm, EXC_VECTOR), 13);
		assert_int_equal(tg_data(vm, EXC_ERROR), 0);
		assert_int_equal(tg_data(vm, EXC_RIP), PG(write_cr3));
		assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_CR3), pt.root);
	}
	struct vm_exit e = probe_run(vm, PG(write_cr3), pt.root | 0xfff, 0, 0);
	assert_int_equal(tg_data(vm, EXC_VECTOR), 0);
	assert_int_equal(e.rip, PG(write_cr3_end));
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_CR3), pt.root | 0xfff);
	pt_map(&pt, VA_WINDOW, PA_DATA, PT_4K, PTE_P);
	set_gpa_u64(vm, PA_DATA, 0xc3c3);
	assert_int_equal(probe_read(vm, VA_WINDOW), 0xc3c3);
	vm_destroy(vm);
}

/* ---- What the CPU writes into the tables -------------------------------- */

/* A read sets A in every entry of the walk and leaves D clear; a write
 * then sets D in the leaf, for each page size. */
static void test_accessed_and_dirty_bits(void **state)
{
	(void)state;
	static const struct {
		enum pt_page_size size;
		enum pt_level leaf;
		uint64_t va, pa, offset;
	} pages[] = {
		{ PT_4K, PT_PTE, VA_WINDOW + 0x25000, PA_DATA, 0x10 },
		{ PT_2M, PT_PDE, VA_WINDOW + 0x600000, 0x800000, 0x2010 },
		{ PT_1G, PT_PDPTE, 0x0000020000000000ULL, 0, PA_OTHER + 0x10 },
	};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		struct pt_space pt;
		struct vm *vm = probe_vm(&pt);
		uint64_t leaf = pt_map(&pt, pages[i].va, pages[i].pa,
				       pages[i].size, PTE_P | PTE_W);
		const uint64_t va = pages[i].va + pages[i].offset;
		assert_int_equal(pt_get(&pt, leaf) & (PTE_A | PTE_D), 0);

		probe_read(vm, va);
		for (enum pt_level l = PT_PML4E; l >= pages[i].leaf; l--) {
			uint64_t e = pt_get(&pt, pt_entry_at(&pt, va, l));
			if (!(e & PTE_A))
				fail_msg("page %zu: level %d entry %#llx has no "
					 "A after a read", i, (int)l,
					 (unsigned long long)e);
		}
		assert_int_equal(pt_get(&pt, leaf) & PTE_D, 0);

		probe_write(vm, va, 1);
		assert_int_equal(pt_get(&pt, leaf) & (PTE_A | PTE_D),
				 PTE_A | PTE_D);
		vm_destroy(vm);
	}
}

/* ---- Stale translations -------------------------------------------------- */

/*
 * The guest reads (or runs) a page through va, points the PTE at another
 * page, reads again, drops the translation (INVLPG or a CR3 reload) and
 * reads a third time. The third access must see the new page. The second
 * is checked to see the OLD page: the SDM allows either, but this engine
 * caches translations (as hardware does), and that is what makes the
 * third check able to fail.
 */
static void check_remap(uint64_t entry, uint64_t end, bool code)
{
	struct pt_space pt;
	struct vm *vm = probe_vm(&pt);
	const uint64_t va = VA_WINDOW + 0x30000;
	const uint64_t flags = code ? PTE_P : PTE_P | PTE_NX;
	uint64_t pa_old = code ? PA_CODE : PA_DATA;
	uint64_t pa_new = code ? PA_CODE2 : PA_OTHER;
	uint64_t pte = pt_map(&pt, va, pa_old, PT_4K, flags);
	uint64_t old_value = code ? 0xc1 : 0xaaaa, new_value = code ? 0xc2 : 0xbbbb;
	if (code) {
		put_return_code(vm, pa_old, (uint32_t)old_value);
		put_return_code(vm, pa_new, (uint32_t)new_value);
	} else {
		set_gpa_u64(vm, pa_old, old_value);
		set_gpa_u64(vm, pa_new, new_value);
	}
	struct vm_exit e = probe_run(vm, entry, va, pte, pa_new | flags);
	assert_int_equal(tg_data(vm, PF_COUNT), 0);
	assert_int_equal(e.rip, end);
	assert_int_equal(pt_get(&pt, pte) & ~(PTE_A | PTE_D), pa_new | flags);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R8), old_value);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R9), old_value);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R10), new_value);
	vm_destroy(vm);
}

static void test_invlpg_drops_stale_data_translation(void **state)
{
	(void)state;
	check_remap(PG(remap_read_invlpg), PG(remap_read_invlpg_end), false);
}

static void test_cr3_reload_drops_stale_data_translation(void **state)
{
	(void)state;
	check_remap(PG(remap_read_cr3), PG(remap_read_cr3_end), false);
}

static void test_invlpg_drops_stale_code_translation(void **state)
{
	(void)state;
	check_remap(PG(remap_call_invlpg), PG(remap_call_invlpg_end), true);
}

static void test_cr3_reload_drops_stale_code_translation(void **state)
{
	(void)state;
	check_remap(PG(remap_call_cr3), PG(remap_call_cr3_end), true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_of_each_size_at_va_not_pa),
		cmocka_unit_test(test_aliases_share_one_page),
		cmocka_unit_test(test_pf_not_present),
		cmocka_unit_test(test_pf_write_to_read_only),
		cmocka_unit_test(test_pf_nx_fetch),
		cmocka_unit_test(test_pf_reserved_bits),
		cmocka_unit_test(test_pf_nx_bit_reserved_without_nxe),
		cmocka_unit_test(test_mov_cr3_reserved_bits_gp),
		cmocka_unit_test(test_accessed_and_dirty_bits),
		cmocka_unit_test(test_invlpg_drops_stale_data_translation),
		cmocka_unit_test(test_cr3_reload_drops_stale_data_translation),
		cmocka_unit_test(test_invlpg_drops_stale_code_translation),
		cmocka_unit_test(test_cr3_reload_drops_stale_code_translation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
