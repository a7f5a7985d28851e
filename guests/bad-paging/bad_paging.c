/*
 * bad-paging: a guest that breaks its own paging on purpose, to check how a
 * hypervisor ends it (tests/cli/test_guest_faults.py). The command line
 * names one scenario; the BSP prints "bad-paging: <scenario>", then:
 *
 *   cr3-beyond-ram     CR3 = a page 64 MiB past the end of RAM (a hole)
 *   cr3-above-4g       CR3 = a page at 16 GiB (nothing there)
 *   cr3-reserved-bits  CR3 = the current PML4 with bit 51 set: reserved
 *                      (bits 63:40, CPUID's MAXPHYADDR), #GP(0) (SDM, MOV
 *                      to CR3 in 64-bit mode)
 *   cr3-ignored-bits   CR3 = the current PML4 | 0xfff: bits 11:0 are
 *                      ignored or cache attributes, so the guest goes on
 *                      and exits with PASS
 *   tables-over-lapic  CR3 = 0xfee00000: the LAPIC's registers as a PML4
 *   tables-in-mmio     CR3 = 0xd0000000, in the 3-4 GiB MMIO hole
 *   pml4e-beyond-ram   PML4[1] points 8 GiB up, then a read through it
 *   pdpte-over-lapic   PML4[1] -> a PDPT whose entry 0 is the LAPIC page
 *                      as a page directory, then a read through it
 *   unmap-code         PML4[0], which maps this code, cleared
 *   unmap-idt          the runtime's IDT kept, its page made not present,
 *                      then ud2: #UD, #PF and #DF cannot be delivered
 *
 * Every scenario but the last two loads an empty IDT first (limit 0, as a
 * kernel before it set one up), so the first fault escalates to a triple
 * fault: a CPU then shuts down (QEMU resets, or exits with -no-reboot).
 * Only cr3-ignored-bits returns. Under QEMU, run with -no-reboot: `-d
 * int,cpu_reset` logs each exception with its RIP, then "Triple fault".
 */
#include <stdint.h>

#include "cmdline.h"
#include "runtime.h"
#include "uart.h"

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_PS 0x80ULL
#define ADDR_MASK 0x000ffffffffff000ULL
#define PAGE 4096ULL
#define LAPIC_PAGE 0xfee00000ULL
#define MMIO_HOLE_PAGE 0xd0000000ULL
#define VA_PML4_1 0x0000008000000000ULL /* the first address PML4[1] maps */

static uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static uint64_t *table(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & ADDR_MASK);
}

static void load_empty_idt(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { 0, 0 };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static uint64_t read_through(uint64_t va)
{
	return *(volatile uint64_t *)(uintptr_t)va;
}

/* A zeroed page of free RAM past the image. */
static uint64_t *free_page(unsigned n)
{
	uint64_t *p = (uint64_t *)(guest_free_memory() + n * PAGE);
	for (unsigned i = 0; i < PAGE / 8; i++)
		p[i] = 0;
	return p;
}

/* Splits the 2 MiB identity page at 0 (PML4[0] -> PDPT[0] -> PD[0]) into
 * 4 KiB pages and returns the new page table. */
static uint64_t *split_first_2m(void)
{
	uint64_t *pd = table(table(table(read_cr3())[0])[0]);
	uint64_t *pt = free_page(0);
	for (uint64_t i = 0; i < 512; i++)
		pt[i] = (i * PAGE) | PTE_P | PTE_W;
	pd[0] = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W;
	write_cr3(read_cr3());
	return pt;
}

static void unmap_idt(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr;
	__asm__ volatile("sidt %0" : "=m"(idtr));
	uint64_t first = idtr.base / PAGE, last = (idtr.base + idtr.limit) / PAGE;
	uint64_t code = (uint64_t)(uintptr_t)unmap_idt / PAGE;
	uint64_t stack = (uint64_t)(uintptr_t)&idtr / PAGE;
	if (last >= 512 || (code >= first && code <= last) ||
	    (stack >= first && stack <= last)) {
		uart_printf("bad-paging: IDT page shared with code or stack\n");
		guest_exit(GUEST_EXIT_BOOT);
	}
	uint64_t *pt = split_first_2m();
	for (uint64_t p = first; p <= last; p++)
		pt[p] = 0;
	write_cr3(read_cr3());
	__asm__ volatile("ud2");
}

static void run(const char *name)
{
	uint64_t cr3 = read_cr3();
	uint64_t *pml4 = table(cr3);
	if (cmdline_has_flag(name, "cr3-beyond-ram")) {
		write_cr3((guest_ram_size() + (64ULL << 20)) & ADDR_MASK);
	} else if (cmdline_has_flag(name, "cr3-above-4g")) {
		write_cr3(16ULL << 30);
	} else if (cmdline_has_flag(name, "cr3-reserved-bits")) {
		write_cr3(cr3 | (1ULL << 51));
	} else if (cmdline_has_flag(name, "cr3-ignored-bits")) {
		write_cr3(cr3 | 0xfff);
		uart_printf("bad-paging: still running, CR3 0x%lx\n", read_cr3());
		guest_exit(GUEST_EXIT_PASS);
	} else if (cmdline_has_flag(name, "tables-over-lapic")) {
		write_cr3(LAPIC_PAGE);
	} else if (cmdline_has_flag(name, "tables-in-mmio")) {
		write_cr3(MMIO_HOLE_PAGE);
	} else if (cmdline_has_flag(name, "pml4e-beyond-ram")) {
		pml4[1] = (8ULL << 30) | PTE_P | PTE_W;
		read_through(VA_PML4_1);
	} else if (cmdline_has_flag(name, "pdpte-over-lapic")) {
		uint64_t *pdpt = free_page(0);
		pdpt[0] = LAPIC_PAGE | PTE_P | PTE_W;
		pml4[1] = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_W;
		read_through(VA_PML4_1);
	} else if (cmdline_has_flag(name, "unmap-code")) {
		pml4[0] = 0;
		write_cr3(cr3);
	} else if (cmdline_has_flag(name, "unmap-idt")) {
		unmap_idt();
	} else {
		uart_printf("bad-paging: no scenario named\n");
		guest_exit(GUEST_EXIT_FAIL);
	}
	/* Reached only if the hypervisor let the guest go on. */
	uart_printf("bad-paging: survived\n");
	guest_exit(GUEST_EXIT_FAIL);
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	(void)ncpus;
	if (vcpu != 0)
		return 0;
	uart_printf("bad-paging: %s\n", cmdline);
	if (!cmdline_has_flag(cmdline, "unmap-idt"))
		load_empty_idt();
	run(cmdline);
	return GUEST_EXIT_FAIL;
}
