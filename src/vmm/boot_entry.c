/* Entry states of the kernel loaders, through the VM API (boot_entry.h). */
#include "vmm/boot_entry.h"
#include "vmm/reg_plan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* VMX access-rights layout (vmm.h): type, S, DPL, P, AVL, L, D/B, G. */
#define ACCESS_CODE32 0xc09bU  /* exec/read accessed, S, P, D/B, G */
#define ACCESS_CODE64 0xa09bU  /* exec/read accessed, S, P, L, G */
#define ACCESS_DATA 0xc093U    /* read/write accessed, S, P, D/B, G */
#define ACCESS_TSS32_BUSY 0x8bU
#define ACCESS_UNUSABLE 0x10000U
#define TSS32_LIMIT 0x67U      /* PVH: "TR: 32-bit TSS, limit 0x67" */
#define RFLAGS_RESERVED 0x2ULL /* IF clear: interrupts off */

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Control registers in an order a CPU would accept from any prior state:
 * into protected mode, paging goes off (CR0) before EFER.LME and CR4 are
 * cleared; into long mode, EFER.LME and CR4.PAE and CR3 come before CR0.PG.
 */
static int set_control(struct vm *vm, int vcpu,
		       const struct boot_cpu_state *st, char *err,
		       size_t errlen)
{
	const struct reg_value to32[] = {
		{ VM_REG_GUEST_CR0, BOOT_ENTRY32_CR0, "cr0" },
		{ VM_REG_GUEST_EFER, 0, "efer" },
		{ VM_REG_GUEST_CR4, 0, "cr4" },
		{ VM_REG_GUEST_CR3, 0, "cr3" },
		{ VM_REG_GUEST_CR2, 0, "cr2" },
		{ VM_REG_GUEST_CR8, 0, "cr8" },
	};
	const struct reg_value to64[] = {
		{ VM_REG_GUEST_EFER, BOOT_ENTRY64_EFER, "efer" },
		{ VM_REG_GUEST_CR4, BOOT_ENTRY64_CR4, "cr4" },
		{ VM_REG_GUEST_CR3, st->cr3, "cr3" },
		{ VM_REG_GUEST_CR0, BOOT_ENTRY64_CR0, "cr0" },
		{ VM_REG_GUEST_CR2, 0, "cr2" },
		{ VM_REG_GUEST_CR8, 0, "cr8" },
	};

	if (st->mode == BOOT_CPU_LONG64)
		return reg_plan_set_regs(vm, vcpu, to64, N(to64), err, errlen);
	return reg_plan_set_regs(vm, vcpu, to32, N(to32), err, errlen);
}

static int set_segments(struct vm *vm, int vcpu,
			const struct boot_cpu_state *st, char *err,
			size_t errlen)
{
	const struct seg_desc code = {
		0, 0xffffffffU,
		st->mode == BOOT_CPU_LONG64 ? ACCESS_CODE64 : ACCESS_CODE32 };
	const struct seg_desc data = { 0, 0xffffffffU, ACCESS_DATA };
	const struct reg_value selectors[] = {
		{ VM_REG_GUEST_CS, st->code_sel, "cs" },
		{ VM_REG_GUEST_DS, st->data_sel, "ds" },
		{ VM_REG_GUEST_ES, st->data_sel, "es" },
		{ VM_REG_GUEST_SS, st->data_sel, "ss" },
		{ VM_REG_GUEST_FS, st->data_sel, "fs" },
		{ VM_REG_GUEST_GS, st->data_sel, "gs" },
	};
	const struct desc_value hidden[] = {
		{ VM_REG_GUEST_CS, code, "cs descriptor", true },
		{ VM_REG_GUEST_DS, data, "ds descriptor", true },
		{ VM_REG_GUEST_ES, data, "es descriptor", true },
		{ VM_REG_GUEST_SS, data, "ss descriptor", true },
		{ VM_REG_GUEST_FS, data, "fs descriptor", true },
		{ VM_REG_GUEST_GS, data, "gs descriptor", true },
		{ VM_REG_GUEST_LDTR, { 0, 0, ACCESS_UNUSABLE }, "ldtr",
		  false },
		{ VM_REG_GUEST_TR, { 0, TSS32_LIMIT, ACCESS_TSS32_BUSY }, "tr",
		  false },
	};
	int rc = reg_plan_set_regs(vm, vcpu, selectors, N(selectors), err,
				   errlen);

	return rc ? rc
		  : reg_plan_set_descs(vm, vcpu, hidden, N(hidden), err,
				       errlen);
}

int boot_entry_setup(struct vm *vm, int vcpu, const struct boot_cpu_state *st,
		     char *err, size_t errlen)
{
	const struct desc_value tables[] = {
		{ VM_REG_GUEST_GDTR, { st->gdt_base, st->gdt_limit, 0 },
		  "gdtr", false },
		{ VM_REG_GUEST_IDTR, { 0, 0, 0 }, "idtr", false },
	};
	const struct reg_value general[] = {
		{ VM_REG_GUEST_RAX, st->rax, "rax" },
		{ VM_REG_GUEST_RBX, st->rbx, "rbx" },
		{ VM_REG_GUEST_RCX, 0, "rcx" },
		{ VM_REG_GUEST_RDX, 0, "rdx" },
		{ VM_REG_GUEST_RSI, st->rsi, "rsi" },
		{ VM_REG_GUEST_RDI, 0, "rdi" },
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
		{ VM_REG_GUEST_RFLAGS, RFLAGS_RESERVED, "rflags" },
		{ VM_REG_GUEST_RIP, st->rip, "rip" },
	};
	int rc;

	if ((rc = reg_plan_set_descs(vm, vcpu, tables, N(tables), err, errlen)) ||
	    (rc = set_control(vm, vcpu, st, err, errlen)) ||
	    (rc = set_segments(vm, vcpu, st, err, errlen)) ||
	    (rc = reg_plan_set_regs(vm, vcpu, general, N(general), err, errlen)))
		return rc;
	return 0;
}
