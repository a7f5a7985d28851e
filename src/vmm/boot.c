/* The hvgdb boot protocol; docs/booting.md is the contract. */
#include "vmm/boot.h"
#include "vmm/reg_plan.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PWT 0x8ULL
#define PTE_PCD 0x10ULL
#define PTE_PS 0x80ULL

#define PAGE_SIZE 0x1000ULL
#define LARGE_PAGE (2ULL << 20)
#define MMIO_HOLE_START (3ULL << 30)

/* VMX access-rights layout (vmm.h): type, S, DPL, P, AVL, L, D/B, G. */
#define ACCESS_CODE64 0xa09bU  /* exec/read accessed, S, P, L, G */
#define ACCESS_DATA 0xc093U    /* read/write accessed, S, P, D/B, G */
#define ACCESS_TSS64_BUSY 0x8bU
#define ACCESS_UNUSABLE 0x10000U

/* The same descriptors in GDT format, for a guest that reloads them. */
#define GDT_CODE64 0x00af9b000000ffffULL
#define GDT_DATA 0x00cf93000000ffffULL
#define GDT_ENTRIES 3

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int boot_build_cmdline(int argc, char *const argv[], char *buf)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		size_t need = n + (i ? 1 : 0);

		if (need > BOOT_CMDLINE_MAX - len)
			return -ENAMETOOLONG;
		if (i)
			buf[len++] = ' ';
		memcpy(buf + len, argv[i], n);
		len += n;
	}
	buf[len] = '\0';
	return (int)len;
}

static int write_gdt(struct vm *vm)
{
	uint8_t gdt[GDT_ENTRIES * 8];

	put_le64(gdt, 0);
	put_le64(gdt + BOOT_CODE_SEL, GDT_CODE64);
	put_le64(gdt + BOOT_DATA_SEL, GDT_DATA);
	return vm_write_gpa(vm, BOOT_GDT_GPA, gdt, sizeof(gdt));
}

/* PML4 -> one PDPT -> four PDs of 2 MiB pages: identity 0-4 GiB. */
static int write_page_tables(struct vm *vm)
{
	enum { PML4_OFF = 0, PDPT_OFF = 0x1000, PD_OFF = 0x2000,
	       TABLES_SIZE = 0x6000 };
	static_assert(BOOT_PDPT_GPA - BOOT_PML4_GPA == PDPT_OFF, "layout");
	static_assert(BOOT_PD_GPA - BOOT_PML4_GPA == PD_OFF, "layout");
	uint8_t tables[TABLES_SIZE];

	memset(tables, 0, sizeof(tables));
	put_le64(tables + PML4_OFF, BOOT_PDPT_GPA | PTE_P | PTE_RW);
	for (uint64_t gib = 0; gib < 4; gib++) {
		put_le64(tables + PDPT_OFF + gib * 8,
			 (BOOT_PD_GPA + gib * PAGE_SIZE) | PTE_P | PTE_RW);
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t pa = (gib << 30) + j * LARGE_PAGE;
			uint64_t pte = pa | PTE_P | PTE_RW | PTE_PS;

			/* The MMIO hole (LAPIC) is device memory: uncached,
			 * as firmware would map it. */
			if (pa >= MMIO_HOLE_START)
				pte |= PTE_PCD | PTE_PWT;
			put_le64(tables + PD_OFF + (gib * 512 + j) * 8, pte);
		}
	}
	return vm_write_gpa(vm, BOOT_PML4_GPA, tables, sizeof(tables));
}

static int write_cmdline(struct vm *vm, const char *cmdline)
{
	uint8_t page[PAGE_SIZE];
	size_t n = cmdline ? strlen(cmdline) : 0;

	if (n > BOOT_CMDLINE_MAX)
		return -ENAMETOOLONG;
	memset(page, 0, sizeof(page));
	if (n)
		memcpy(page, cmdline, n);
	return vm_write_gpa(vm, BOOT_CMDLINE_GPA, page, sizeof(page));
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* x87 and SSE as the SDM's power-up/INIT state leaves them (Vol. 3A,
 * table 9-1): every FP exception masked, round to nearest, 64-bit
 * precision; every x87 register empty; status word 0. A backend starts
 * with zeros instead, which unmasks every exception. */
#define RESET_FCW 0x037fU
#define RESET_FTW_ALL_EMPTY 0xffffU /* full tag word: 11b per register */
#define RESET_MXCSR 0x1f80U

static int set_fpu_reset_state(struct vm *vm, int vcpu, char *err,
			       size_t errlen)
{
	struct vm_fpregs fp;
	int rc = vm_get_fpregs(vm, vcpu, &fp);

	if (!rc) {
		memset(&fp, 0, sizeof(fp));
		fp.fctrl = RESET_FCW;
		fp.ftag = RESET_FTW_ALL_EMPTY;
		fp.mxcsr = RESET_MXCSR;
		rc = vm_set_fpregs(vm, vcpu, &fp);
	}
	if (rc)
		snprintf(err, errlen, "cannot set the x87/SSE state: %s",
			 strerror(-rc));
	return rc;
}

/*
 * Order matters to a backend that behaves like a CPU: the descriptor
 * tables before anything that could load from them, EFER.LME and CR4.PAE
 * before CR0.PG, selectors before their hidden parts so the hidden parts
 * we choose are the ones that stay.
 */
static int setup_vcpu(struct vm *vm, int vcpu, uint64_t entry, uint64_t rcx,
		      char *err, size_t errlen)
{
	const struct seg_desc code = { 0, 0xffffffffU, ACCESS_CODE64 };
	const struct seg_desc data = { 0, 0xffffffffU, ACCESS_DATA };
	const struct desc_value tables[] = {
		{ VM_REG_GUEST_GDTR, { BOOT_GDT_GPA, GDT_ENTRIES * 8 - 1, 0 },
		  "gdtr", false },
		{ VM_REG_GUEST_IDTR, { 0, 0, 0 }, "idtr", false },
	};
	const struct reg_value control[] = {
		{ VM_REG_GUEST_EFER, BOOT_EFER, "efer" },
		{ VM_REG_GUEST_CR4, BOOT_CR4, "cr4" },
		{ VM_REG_GUEST_CR3, BOOT_PML4_GPA, "cr3" },
		{ VM_REG_GUEST_CR0, BOOT_CR0, "cr0" },
		{ VM_REG_GUEST_CR2, 0, "cr2" },
		{ VM_REG_GUEST_CR8, 0, "cr8" },
	};
	const struct reg_value selectors[] = {
		{ VM_REG_GUEST_CS, BOOT_CODE_SEL, "cs" },
		{ VM_REG_GUEST_DS, BOOT_DATA_SEL, "ds" },
		{ VM_REG_GUEST_ES, BOOT_DATA_SEL, "es" },
		{ VM_REG_GUEST_SS, BOOT_DATA_SEL, "ss" },
		{ VM_REG_GUEST_FS, BOOT_DATA_SEL, "fs" },
		{ VM_REG_GUEST_GS, BOOT_DATA_SEL, "gs" },
	};
	const struct desc_value segments[] = {
		{ VM_REG_GUEST_CS, code, "cs descriptor", true },
		{ VM_REG_GUEST_DS, data, "ds descriptor", true },
		{ VM_REG_GUEST_ES, data, "es descriptor", true },
		{ VM_REG_GUEST_SS, data, "ss descriptor", true },
		{ VM_REG_GUEST_FS, data, "fs descriptor", true },
		{ VM_REG_GUEST_GS, data, "gs descriptor", true },
		/* No LDT; TR is a placeholder until the guest loads a TSS. */
		{ VM_REG_GUEST_LDTR, { 0, 0, ACCESS_UNUSABLE }, "ldtr", false },
		{ VM_REG_GUEST_TR, { 0, 0xffff, ACCESS_TSS64_BUSY }, "tr",
		  false },
	};
	const struct reg_value general[] = {
		{ VM_REG_GUEST_RAX, 0, "rax" },
		{ VM_REG_GUEST_RBX, 0, "rbx" },
		{ VM_REG_GUEST_RCX, rcx, "rcx" },
		{ VM_REG_GUEST_RDX, vm_mem_size(vm), "rdx" },
		{ VM_REG_GUEST_RSI, vm_vcpu_count(vm), "rsi" },
		{ VM_REG_GUEST_RDI, (uint64_t)vcpu, "rdi" },
		{ VM_REG_GUEST_RBP, 0, "rbp" },
		{ VM_REG_GUEST_RSP, 0, "rsp" },
		{ VM_REG_GUEST_R8, 0, "r8" },
		{ VM_REG_GUEST_R9, 0, "r9" },
		{ VM_REG_GUEST_R10, 0, "r10" },
		{ VM_REG_GUEST_R11, 0, "r11" },
		{ VM_REG_GUEST_R12, 0, "r12" },
		{ VM_REG_GUEST_R13, 0, "r13" },
		{ VM_REG_GUEST_R14, 0, "r14" },
		{ VM_REG_GUEST_R15, 0, "r15" },
		{ VM_REG_GUEST_FS_BASE, 0, "fs_base" },
		{ VM_REG_GUEST_GS_BASE, 0, "gs_base" },
		{ VM_REG_GUEST_KGS_BASE, 0, "kernel_gs_base" },
		{ VM_REG_GUEST_RFLAGS, 0x2, "rflags" },
		{ VM_REG_GUEST_RIP, entry, "rip" },
	};
	int rc;

	if ((rc = reg_plan_set_descs(vm, vcpu, tables, N(tables), err,
				     errlen)) ||
	    (rc = reg_plan_set_regs(vm, vcpu, control, N(control), err,
				    errlen)) ||
	    (rc = reg_plan_set_regs(vm, vcpu, selectors, N(selectors), err,
				    errlen)) ||
	    (rc = reg_plan_set_descs(vm, vcpu, segments, N(segments), err,
				     errlen)) ||
	    (rc = reg_plan_set_regs(vm, vcpu, general, N(general), err,
				    errlen)) ||
	    (rc = set_fpu_reset_state(vm, vcpu, err, errlen)))
		return rc;
	return 0;
}

int boot_setup(struct vm *vm, uint64_t entry, const char *cmdline, char *err,
	       size_t errlen)
{
	uint64_t rcx = cmdline && *cmdline ? BOOT_CMDLINE_GPA : 0;
	unsigned ncpus = vm_vcpu_count(vm);
	int rc;

	if (vm_mem_size(vm) < BOOT_RESERVED_END) {
		snprintf(err, errlen, "guest RAM too small for the boot "
			 "tables");
		return -EINVAL;
	}
	if ((rc = write_gdt(vm)) || (rc = write_page_tables(vm)) ||
	    (rc = write_cmdline(vm, cmdline))) {
		snprintf(err, errlen, "cannot write the boot tables: %s",
			 strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < ncpus; i++) {
		rc = setup_vcpu(vm, (int)i, entry, rcx, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}
