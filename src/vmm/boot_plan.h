/*
 * What a kernel loader produces: the guest memory contents and the boot
 * vCPU's initial state, as plain data. Building a plan touches no VM, so
 * every loader is unit-tested against a RAM buffer; boot_plan_write puts a
 * plan into RAM and boot_entry.c (through the VM API) loads the registers.
 *
 * Guest-physical layout shared by the bzImage, PVH and Multiboot loaders
 * (docs/booting.md): everything hvgdb generates lives in the "low area"
 * [0, BOOT_LOW_END), written from one buffer; kernels load at or above
 * 1 MiB, initrds and modules at the top of RAM.
 */
#ifndef HVGDB_BOOT_PLAN_H
#define HVGDB_BOOT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define BOOT_LOW_GDT 0x1000ULL      /* GDT, one page */
#define BOOT_LOW_PML4 0x2000ULL     /* long mode: PML4, PDPT, four PDs */
#define BOOT_LOW_PDPT 0x3000ULL
#define BOOT_LOW_PD 0x4000ULL       /* up to 0x8000 */
#define BOOT_LOW_INFO 0x8000ULL     /* zero page / start info / MBI */
#define BOOT_LOW_INFO_SIZE 0x2000ULL
#define BOOT_LOW_CMDLINE 0xa000ULL  /* NUL-terminated command line */
#define BOOT_LOW_END 0x10000ULL
/* Longest command line the low area holds, without the NUL. */
#define BOOT_LOW_CMDLINE_MAX (BOOT_LOW_END - BOOT_LOW_CMDLINE - 1)

#define BOOT_KERNEL_MIN_PADDR 0x100000ULL /* kernels load at >= 1 MiB */
#define BOOT_MAX_INITRDS 16
#define BOOT_MAX_CHUNKS 64

/* e820 / Multiboot / PVH memory types. */
#define BOOT_MEM_RAM 1
#define BOOT_MEM_RESERVED 2

enum kernel_format {
	KERNEL_FORMAT_UNKNOWN,
	KERNEL_FORMAT_HVGDB_ELF,  /* hvgdb's own ELF64 protocol (boot.c) */
	KERNEL_FORMAT_BZIMAGE,    /* Linux, 64-bit boot protocol */
	KERNEL_FORMAT_PVH_ELF,    /* ELF with XEN_ELFNOTE_PHYS32_ENTRY */
	KERNEL_FORMAT_MULTIBOOT1,
	KERNEL_FORMAT_MULTIBOOT2,
};

const char *kernel_format_name(enum kernel_format f);

struct boot_initrd {
	const uint8_t *data;
	uint64_t size;
	const char *name; /* Multiboot module string; may be NULL */
};

/* Everything a loader needs. The plan points into kernel and initrd data:
 * they must outlive it. */
struct boot_inputs {
	const uint8_t *kernel;
	size_t kernel_size;
	const struct boot_initrd *initrds;
	unsigned ninitrds;
	const char *cmdline; /* NULL or "" for none */
	uint64_t ram_size;
	unsigned ncpus;
	/* Guest-physical address of the ACPI RSDP the caller puts in RAM,
	 * or 0 for none (bzImage: acpi_rsdp_addr, PVH: rsdp_paddr). */
	uint64_t rsdp_addr;
};

/* Bytes to copy to gpa, then zeros up to memsz. */
struct boot_chunk {
	uint64_t gpa;
	const uint8_t *src;
	uint64_t filesz, memsz;
};

enum boot_cpu_mode {
	BOOT_CPU_PROTECTED32, /* CR0.PE, paging off, flat 32-bit segments */
	BOOT_CPU_LONG64,      /* long mode on the plan's identity map */
};

struct boot_cpu_state {
	enum boot_cpu_mode mode;
	uint64_t rip, rax, rbx, rsi;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t code_sel, data_sel;
	uint64_t cr3; /* BOOT_CPU_LONG64 only */
};

struct boot_plan {
	enum kernel_format format;
	uint8_t low[BOOT_LOW_END]; /* contents of [0, BOOT_LOW_END) */
	unsigned nchunks;
	struct boot_chunk chunks[BOOT_MAX_CHUNKS];
	struct boot_cpu_state cpu;
	/* For docs, tests and error messages. */
	uint64_t kernel_start, kernel_end; /* what the kernel occupies */
	uint64_t initrd_start, initrd_end; /* 0, 0 without initrds */
};

/* A region of the memory map handed to the kernel. */
struct boot_mem_range {
	uint64_t addr, size;
	uint32_t type;
};
#define BOOT_MAX_MEM_RANGES 4

/*
 * The guest's memory map for ram_size bytes: RAM below 640 KiB, the
 * 640 KiB-1 MiB hole reserved, RAM from 1 MiB, and the 3-4 GiB MMIO hole
 * (LAPIC) reserved when RAM reaches it. Returns the number of ranges.
 */
unsigned boot_memory_map(uint64_t ram_size,
			 struct boot_mem_range out[BOOT_MAX_MEM_RANGES]);

/* Append a chunk; -E2BIG when the plan is full. */
int boot_plan_add_chunk(struct boot_plan *p, uint64_t gpa, const uint8_t *src,
			uint64_t filesz, uint64_t memsz);

/* The loadable segments of an ELF kernel (image: its file, e: its
 * checked segments, end: where the last ends) as chunks, and
 * [kernel_start, kernel_end) around them. -EINVAL when the plan is full. */
struct elf_info;
int boot_plan_add_elf_loads(struct boot_plan *p, const struct elf_info *e,
			    const uint8_t *image, uint64_t end);

/*
 * Place the initrds one after another at the top of RAM, each page-aligned
 * (so every Multiboot module starts on a page), the whole below limit (an
 * exclusive address) and above floor (the end of the kernel). Adds their
 * chunks and records [initrd_start, initrd_end). starts[i] receives each
 * initrd's address. 0, or -ENOSPC when they do not fit (err says so).
 */
int boot_plan_place_initrds(struct boot_plan *p, const struct boot_inputs *in,
			    uint64_t floor, uint64_t limit, uint64_t *starts,
			    char *err, size_t errlen);

/* Copy the command line into the low area (NUL-terminated); -E2BIG when
 * longer than max bytes. Returns its length otherwise. */
int boot_plan_put_cmdline(struct boot_plan *p, const char *cmdline,
			  size_t max);

/* Put the plan into guest RAM (host pointer of GPA 0, ram_size bytes).
 * -EFAULT if a chunk lies outside RAM (loaders never produce one). */
int boot_plan_write(const struct boot_plan *p, uint8_t *ram,
		    uint64_t ram_size);

#endif
