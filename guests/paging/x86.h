/*
 * The x86 architectural constants and privileged-instruction wrappers the
 * paging guest uses. Bit names follow the Intel SDM, volume 3, chapter 4
 * ("Paging") and chapter 5 ("Protection").
 */
#ifndef PAGING_X86_H
#define PAGING_X86_H

#include <stdint.h>

/* Page-table entry bits (all four levels of 4-level paging). */
#define PTE_P (1ull << 0)   /* present */
#define PTE_RW (1ull << 1)  /* writable */
#define PTE_US (1ull << 2)  /* user-accessible (CPL 3) */
#define PTE_A (1ull << 5)   /* accessed: set by the CPU on any use */
#define PTE_D (1ull << 6)   /* dirty: set by the CPU on a write (leaf only) */
#define PTE_PS (1ull << 7)  /* page size: 2 MiB in a PDE, 1 GiB in a PDPTE */
#define PTE_NX (1ull << 63) /* no execute (needs EFER.NXE) */
/* Bit 51 lies above MAXPHYADDR on every CPU with fewer than 52 physical
 * address bits (QEMU and Unicorn: 40), so it is a reserved bit. */
#define PTE_RESERVED_51 (1ull << 51)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define PAGE_SIZE 4096ull
#define PAGE_2M (2ull << 20)
#define PAGE_1G (1ull << 30)

/* #PF error code bits. */
#define PF_P 0x01    /* 0: page not present; 1: protection violation */
#define PF_W 0x02    /* the access was a write */
#define PF_U 0x04    /* the access came from CPL 3 */
#define PF_RSVD 0x08 /* a reserved bit was set in a paging entry */
#define PF_ID 0x10   /* the access was an instruction fetch */

#define VECTOR_PF 14

#define CR0_WP (1ul << 16)

#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define EFER_SCE (1ull << 0)
#define EFER_NXE (1ull << 11)

#define RFLAGS_TF 0x100ul
#define RFLAGS_IF 0x200ul
#define RFLAGS_DF 0x400ul
#define RFLAGS_AC 0x40000ul

#ifndef __ASSEMBLER__
static inline uint64_t read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

/* Loading CR3 (even with the same value) drops every non-global
 * translation this CPU cached. */
static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

/* Drops the cached translation of the page holding va. */
static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
			 uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

static inline uint16_t read_cs(void)
{
	uint16_t v;
	__asm__ volatile("mov %%cs, %0" : "=r"(v));
	return v;
}
#endif

#endif
