/* GDT and identity page tables in a boot plan (see boot_tables.h). */
#include "vmm/boot_tables.h"

#include "vmm/le_bytes.h"

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PWT 0x8ULL
#define PTE_PCD 0x10ULL
#define PTE_PS 0x80ULL
#define LARGE_PAGE (2ULL << 20)
#define MMIO_HOLE_START (3ULL << 30)

void boot_tables_gdt_entry(struct boot_plan *p, uint16_t sel, uint64_t desc)
{
	le_put(p->low + BOOT_LOW_GDT + (sel & ~7u), desc, 8);
}

void boot_tables_flat32_entry(struct boot_plan *p, uint16_t code_sel,
			      uint16_t data_sel, uint64_t entry, uint32_t eax)
{
	uint16_t top_sel = code_sel > data_sel ? code_sel : data_sel;

	boot_tables_gdt_entry(p, code_sel, GDT_FLAT_CODE32);
	boot_tables_gdt_entry(p, data_sel, GDT_FLAT_DATA);
	p->cpu = (struct boot_cpu_state){
		.mode = BOOT_CPU_PROTECTED32,
		.rip = entry,
		.rax = eax,
		.rbx = BOOT_LOW_INFO,
		.gdt_base = BOOT_LOW_GDT,
		.gdt_limit = (uint16_t)(top_sel + 7),
		.code_sel = code_sel,
		.data_sel = data_sel,
	};
}

uint64_t boot_tables_identity_4g(struct boot_plan *p)
{
	le_put(p->low + BOOT_LOW_PML4, BOOT_LOW_PDPT | PTE_P | PTE_RW, 8);
	for (uint64_t gib = 0; gib < 4; gib++) {
		uint64_t pd = BOOT_LOW_PD + gib * 0x1000;

		le_put(p->low + BOOT_LOW_PDPT + gib * 8, pd | PTE_P | PTE_RW,
		       8);
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t pa = (gib << 30) + j * LARGE_PAGE;
			uint64_t pte = pa | PTE_P | PTE_RW | PTE_PS;

			/* Device memory (LAPIC, IO-APIC): uncached, as
			 * firmware would map it. */
			if (pa >= MMIO_HOLE_START)
				pte |= PTE_PCD | PTE_PWT;
			le_put(p->low + pd + j * 8, pte, 8);
		}
	}
	return BOOT_LOW_PML4;
}
