/* Per-vCPU GDT and 64-bit TSS. Each vCPU needs a TSS of its own (RSP0 is
 * its kernel stack) and ltr marks the descriptor busy, so the GDTs are
 * per vCPU too. */
#include "gdt.h"

#include <stddef.h>

#include "config.h"
#include "layout.h"

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3]; /* stack for entries from CPL 3 (rsp[0]) */
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

#define GDT_ENTRIES 8
#define TSS_TYPE_AVAILABLE 0x9ull
#define DESC_PRESENT (1ull << 47)

static uint64_t gdts[GUEST_MAX_CPUS][GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss64 tsses[GUEST_MAX_CPUS] __attribute__((aligned(16)));

static void fill_gdt(uint64_t *gdt, struct tss64 *tss)
{
	uint64_t base = (uint64_t)(uintptr_t)tss, limit = sizeof(*tss) - 1;
	gdt[0] = 0;
	gdt[SEL_KERNEL_CODE / 8] = 0x00af9b000000ffffull; /* L, DPL 0, code */
	gdt[SEL_KERNEL_DATA / 8] = 0x00cf93000000ffffull; /* DPL 0, data */
	gdt[SEL_USER_BASE / 8] = 0x00cffb000000ffffull;   /* 32-bit DPL 3 code: unused, STAR's layout */
	gdt[SEL_USER_DATA / 8] = 0x00cff3000000ffffull;   /* DPL 3, data */
	gdt[SEL_USER_CODE / 8] = 0x00affb000000ffffull;   /* L, DPL 3, code */
	gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
			   (TSS_TYPE_AVAILABLE << 40) | DESC_PRESENT |
			   ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[SEL_TSS / 8 + 1] = base >> 32;
	tss->iomap_base = sizeof(*tss); /* no I/O bitmap */
}

void gdt_load(unsigned vcpu)
{
	fill_gdt(gdts[vcpu], &tsses[vcpu]);
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(gdts[vcpu]) - 1,
					  (uint64_t)(uintptr_t)gdts[vcpu] };
	__asm__ volatile("lgdt %0\n\t"
			 /* Reload CS through a far return, then the data
			  * segments, so no register keeps the old GDT's
			  * descriptors. */
			 "pushq %1\n\t"
			 "lea 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\tmov %2, %%eax\n\t"
			 "mov %%eax, %%ss\n\t"
			 "mov %%eax, %%ds\n\t"
			 "mov %%eax, %%es\n\t"
			 "ltr %w3"
			 :
			 : "m"(ptr), "i"(SEL_KERNEL_CODE), "i"(SEL_KERNEL_DATA),
			   "r"(SEL_TSS)
			 : "rax", "memory");
}

uint64_t gdt_tss_rsp0_address(unsigned vcpu)
{
	/* Architecturally at offset 4: misaligned, so no C pointer to it. */
	return (uint64_t)(uintptr_t)&tsses[vcpu] + offsetof(struct tss64, rsp);
}
