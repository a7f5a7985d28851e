/* The debug server's target ops over a real VM (booted, never run). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/gdb_target.h"
#include "hvgdb/vmm.h"
#include "vmm/boot.h"

#define MEM (4ULL << 20)

static const struct gdb_target_ops *ops = &gdb_target_vm_ops;

static struct vm *booted_vm(unsigned ncpus, enum vm_cpu_vendor vendor)
{
	struct vm_config cfg = { .ncpus = ncpus, .mem_size = MEM, .vendor = vendor,
				 .backend = VM_BACKEND_TCG };
	struct vm *vm = NULL;
	char err[128] = "";

	assert_int_equal(vm_create(&cfg, &vm, err, sizeof(err)), 0);
	assert_int_equal(boot_setup(vm, 0x100000, NULL, err, sizeof(err)), 0);
	return vm;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void general_registers(void **state)
{
	struct vm *vm = booted_vm(2, VM_CPU_VENDOR_INTEL);
	uint8_t val[16];
	uint64_t v;

	(void)state;
	assert_int_equal(ops->vcpu_count(vm), 2);
	/* RDI is the vCPU index: proves the vcpu argument is honoured. */
	assert_int_equal(ops->read_reg(vm, 1, GDB_REG_RDI, val), 0);
	assert_int_equal(le(val, 8), 1);
	memcpy(val, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
	assert_int_equal(ops->write_reg(vm, 1, GDB_REG_R13, val), 0);
	assert_int_equal(vm_get_register(vm, 1, VM_REG_GUEST_R13, &v), 0);
	assert_int_equal(v, 0x1122334455667788ULL);
	assert_int_equal(vm_get_register(vm, 0, VM_REG_GUEST_R13, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_RIP, val), 0);
	assert_int_equal(le(val, 8), 0x100000);
	memset(val, 0xee, sizeof(val));
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_EFLAGS, val), 0);
	assert_int_equal(le(val, 4), 2);
	assert_int_equal(val[4], 0xee); /* exactly 4 bytes written */
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_CS, val), 0);
	assert_int_equal(le(val, 4), 8);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_SS, val), 0);
	assert_int_equal(le(val, 4), 0x10);
	memcpy(val, "\x46\x02\x00\x00", 4); /* ZF, PF, IF */
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_EFLAGS, val), 0);
	assert_int_equal(vm_get_register(vm, 0, VM_REG_GUEST_RFLAGS, &v), 0);
	assert_int_equal(v, 0x246);
	vm_destroy(vm);
}

static void system_registers(void **state)
{
	struct vm *vm = booted_vm(1, VM_CPU_VENDOR_INTEL);
	uint8_t val[16];
	uint64_t v;

	(void)state;
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_CR0, val), 0);
	assert_int_equal(le(val, 8), BOOT_CR0);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_CR3, val), 0);
	assert_int_equal(le(val, 8), 0x2000);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_CR4, val), 0);
	assert_int_equal(le(val, 8), BOOT_CR4);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_EFER, val), 0);
	assert_int_equal(le(val, 8) & 0x500, 0x500); /* LME LMA (see test_boot) */
	memcpy(val, "\x00\x10\x00\x00\x00\x00\x00\x00", 8);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_GS_BASE, val), 0);
	assert_int_equal(vm_get_register(vm, 0, VM_REG_GUEST_GS_BASE, &v), 0);
	assert_int_equal(v, 0x1000);
	memcpy(val, "\x00\x20\x00\x00\x00\x00\x00\x00", 8);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_K_GS_BASE, val), 0);
	assert_int_equal(vm_get_register(vm, 0, VM_REG_GUEST_KGS_BASE, &v),
			 0);
	assert_int_equal(v, 0x2000);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_COUNT, val), -EINVAL);
	assert_int_equal(ops->read_reg(vm, 0, -1, val), -EINVAL);
	assert_int_equal(ops->read_reg(vm, 5, GDB_REG_RAX, val), -EINVAL);
	vm_destroy(vm);
}

static void fpu_registers(void **state)
{
	struct vm *vm = booted_vm(1, VM_CPU_VENDOR_INTEL);
	struct vm_fpregs fp;
	uint8_t val[16], back[16];

	(void)state;
	for (int i = 0; i < 16; i++)
		val[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_XMM0 + 3, val), 0);
	assert_int_equal(vm_get_fpregs(vm, 0, &fp), 0);
	assert_memory_equal(fp.xmm[3], val, 16);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_XMM0 + 3, back), 0);
	assert_memory_equal(back, val, 16);

	memcpy(val, "\xa0\x1f\x00\x00", 4); /* default MXCSR | 0x20 */
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_MXCSR, val), 0);
	assert_int_equal(vm_get_fpregs(vm, 0, &fp), 0);
	assert_int_equal(fp.mxcsr, 0x1fa0);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_FCTRL, back), 0);
	assert_int_equal(le(back, 4), fp.fctrl);
	/* st0 = 1.0 in 80-bit extended precision. */
	memcpy(val, "\x00\x00\x00\x00\x00\x00\x00\x80\xff\x3f", 10);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_ST0, val), 0);
	assert_int_equal(ops->read_reg(vm, 0, GDB_REG_ST0, back), 0);
	assert_memory_equal(back, val, 10);
	vm_destroy(vm);
}

/* 'g' reads everything at once; it must see exactly what p sees. */
static void all_registers_match_single_reads(void **state)
{
	struct vm *vm = booted_vm(2, VM_CPU_VENDOR_INTEL);
	uint8_t vals[GDB_REG_COUNT][GDB_REG_MAX_SIZE];
	int rc[GDB_REG_COUNT];
	uint8_t one[GDB_REG_MAX_SIZE], x[16];

	(void)state;
	for (int i = 0; i < 16; i++)
		x[i] = (uint8_t)(0x30 + i);
	assert_int_equal(ops->write_reg(vm, 1, GDB_REG_XMM0 + 7, x), 0);
	assert_int_equal(ops->write_reg(vm, 1, GDB_REG_R13, x), 0);
	memcpy(x, "\x00\x00\x00\x00\x00\x00\x00\x80\xff\x3f", 10);
	assert_int_equal(ops->write_reg(vm, 1, GDB_REG_ST0, x), 0);
	ops->read_all_regs(vm, 1, vals, rc);
	for (int regno = 0; regno < GDB_REG_COUNT; regno++) {
		int want = ops->read_reg(vm, 1, regno, one);
		assert_int_equal(rc[regno], want);
		if (want == 0)
			assert_memory_equal(vals[regno], one,
					    gdb_x86_reg_size(regno));
	}
	assert_memory_equal(vals[GDB_REG_XMM0 + 7], "\x30\x31\x32", 3);
	assert_memory_equal(vals[GDB_REG_ST0] + 7, "\x80\xff\x3f", 3);
	/* vCPU 0 has its own values */
	ops->read_all_regs(vm, 0, vals, rc);
	assert_int_equal(rc[GDB_REG_XMM0 + 7], 0);
	assert_memory_not_equal(vals[GDB_REG_XMM0 + 7], "\x30\x31\x32", 3);
	ops->read_all_regs(vm, 5, vals, rc);
	for (int regno = 0; regno < GDB_REG_COUNT; regno++)
		assert_int_equal(rc[regno], -EINVAL);
	vm_destroy(vm);
}

/* Every row of the register table has a home in the VM: each register
 * reads, and takes back the value it read (a write of what is there
 * changes nothing, so even control registers accept it). */
static void every_register_has_a_home(void **state)
{
	struct vm *vm = booted_vm(1, VM_CPU_VENDOR_AMD);
	uint8_t val[GDB_REG_MAX_SIZE], back[GDB_REG_MAX_SIZE];

	(void)state;
	for (int regno = 0; regno < GDB_REG_COUNT; regno++) {
		unsigned size = gdb_x86_reg_size(regno);
		assert_true(size > 0);
		if (ops->read_reg(vm, 0, regno, val) != 0)
			fail_msg("register %d does not read", regno);
		if (ops->write_reg(vm, 0, regno, val) != 0)
			fail_msg("register %d does not take its own value",
				 regno);
		assert_int_equal(ops->read_reg(vm, 0, regno, back), 0);
		assert_memory_equal(back, val, size);
	}
	vm_destroy(vm);
}

static void memory_and_translation(void **state)
{
	struct vm *vm = booted_vm(1, VM_CPU_VENDOR_INTEL);
	uint8_t buf[4];
	uint64_t gpa;

	(void)state;
	assert_int_equal(ops->translate(vm, 0, 0x300010, 2, &gpa), 0);
	assert_int_equal(gpa, 0x300010);
	assert_int_equal(ops->translate(vm, 0, 1ULL << 32, 1, &gpa), -EFAULT);
	assert_int_equal(ops->translate(vm, 0, 0x8000000000000000ULL, 1,
					&gpa), -EFAULT);
	assert_int_equal(ops->write_phys(vm, 0x300010, "\xde\xad\xbe\xef", 4),
			 0);
	assert_int_equal(ops->read_phys(vm, 0x300010, buf, 4), 0);
	assert_memory_equal(buf, "\xde\xad\xbe\xef", 4);
	assert_int_equal(ops->read_phys(vm, MEM - 2, buf, 4), -EFAULT);
	assert_int_equal(ops->write_phys(vm, MEM, buf, 1), -EFAULT);
	vm_destroy(vm);
}

/* The boot tables (PML4, PDPT, four PDs) at every level, and a second
 * vCPU's own tables, are paging structures; code and data are not. */
static void paging_structures_of_every_vcpu(void **state)
{
	struct vm *vm = booted_vm(2, VM_CPU_VENDOR_INTEL);
	const uint64_t own_pml4 = 0x200000;
	uint8_t pml4[4096];

	(void)state;
	assert_non_null(ops->in_paging_structures);
	assert_int_equal(ops->in_paging_structures(vm, BOOT_PML4_GPA), 1);
	assert_int_equal(ops->in_paging_structures(vm, BOOT_PDPT_GPA + 9), 1);
	assert_int_equal(ops->in_paging_structures(vm, BOOT_PD_GPA + 0x3fff),
			 1);
	assert_int_equal(ops->in_paging_structures(vm, BOOT_PD_GPA + 0x4000),
			 0);
	assert_int_equal(ops->in_paging_structures(vm, 0x100000), 0);
	/* vCPU 1 switches to a copy of the PML4: only its CR3 leads there */
	assert_int_equal(ops->in_paging_structures(vm, own_pml4 + 8), 0);
	assert_int_equal(vm_read_gpa(vm, BOOT_PML4_GPA, pml4, sizeof(pml4)),
			 0);
	assert_int_equal(vm_write_gpa(vm, own_pml4, pml4, sizeof(pml4)), 0);
	assert_int_equal(vm_set_register(vm, 1, VM_REG_GUEST_CR3, own_pml4),
			 0);
	assert_int_equal(ops->in_paging_structures(vm, own_pml4 + 8), 1);
	assert_int_equal(ops->in_paging_structures(vm, BOOT_PML4_GPA), 1);
	vm_destroy(vm);
}

static void put64(uint8_t *val, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		val[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t reg64(struct vm *vm, int regno)
{
	uint8_t val[16];

	assert_int_equal(ops->read_reg(vm, 0, regno, val), 0);
	return le(val, 8);
}

/* A write either takes effect exactly (reads back as written) or is
 * refused with nothing changed: never OK for a value the vCPU lacks. */
static void system_register_writes_take_or_refuse(void **state)
{
	struct vm *vm = booted_vm(1, VM_CPU_VENDOR_INTEL);
	uint64_t cr0 = reg64(vm, GDB_REG_CR0), cr4 = reg64(vm, GDB_REG_CR4);
	uint64_t efer = reg64(vm, GDB_REG_EFER);
	uint8_t val[16];

	(void)state;
	/* cr8 is the TPR: 0-15 read back, larger refused */
	put64(val, 9);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_CR8, val), 0);
	assert_int_equal(reg64(vm, GDB_REG_CR8), 9);
	put64(val, 16);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_CR8, val), -EINVAL);
	assert_int_equal(reg64(vm, GDB_REG_CR8), 9);
	/* leaving long mode by a register write: refused, nothing moves */
	put64(val, 0);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_CR0, val), -EINVAL);
	put64(val, cr0 & ~(1ULL << 31));
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_CR0, val), -EINVAL);
	put64(val, cr4 & ~(1ULL << 5));
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_CR4, val), -EINVAL);
	assert_int_equal(reg64(vm, GDB_REG_CR0), cr0);
	assert_int_equal(reg64(vm, GDB_REG_CR4), cr4);
	assert_int_equal(reg64(vm, GDB_REG_EFER), efer);
	/* EFER: LMA is the CPU's to set; clearing it or LME is refused */
	put64(val, 0);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_EFER, val), -EINVAL);
	put64(val, efer & ~(1ULL << 10));
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_EFER, val), -EINVAL);
	assert_int_equal(reg64(vm, GDB_REG_EFER), efer);
	/* a bit that sticks (SCE) is kept exactly */
	put64(val, efer | 1);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_EFER, val), 0);
	assert_int_equal(reg64(vm, GDB_REG_EFER), efer | 1);
	/* and a cr0 that stays in long mode (WP off) is taken */
	put64(val, cr0 & ~(1ULL << 16));
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_CR0, val), 0);
	assert_int_equal(reg64(vm, GDB_REG_CR0), cr0 & ~(1ULL << 16));
	vm_destroy(vm);
}

static uint64_t reg_n(struct vm *vm, int regno)
{
	uint8_t val[16];

	assert_int_equal(ops->read_reg(vm, 0, regno, val), 0);
	return le(val, gdb_x86_reg_size(regno));
}

#define ATTR_L (1u << 13)
#define ATTR_P (1u << 7)
#define ATTR_S (1u << 4)
#define ATTR_UNUSABLE (1u << 16)

/* The descriptor-table registers and hidden parts the boot protocol sets,
 * as the vCPU holds them (not re-read from the GDT), and which of them a
 * debugger may change. */
static void descriptor_registers(void **state)
{
	struct vm *vm = booted_vm(1, VM_CPU_VENDOR_INTEL);
	uint8_t val[16];
	struct seg_desc d;

	(void)state;
	assert_int_equal(reg_n(vm, GDB_REG_GDTR_BASE), BOOT_GDT_GPA);
	assert_int_equal(reg_n(vm, GDB_REG_GDTR_LIMIT), 0x17);
	assert_int_equal(gdb_x86_reg_size(GDB_REG_GDTR_LIMIT), 2);
	assert_int_equal(reg_n(vm, GDB_REG_IDTR_LIMIT), 0);
	/* 64-bit code and flat data, present */
	uint64_t cs_attr = reg_n(vm, GDB_REG_CS_ATTR);
	assert_int_equal(cs_attr & (ATTR_L | ATTR_P | ATTR_S | 0xf),
			 ATTR_L | ATTR_P | ATTR_S | 0xb);
	assert_int_equal(reg_n(vm, GDB_REG_CS_BASE), 0);
	assert_int_equal(reg_n(vm, GDB_REG_SS_ATTR) & (ATTR_P | 0xf),
			 ATTR_P | 0x3);
	assert_int_equal(reg_n(vm, GDB_REG_DS_LIMIT), 0xffffffffULL);
	/* a busy 64-bit TSS; no LDT */
	assert_int_equal(reg_n(vm, GDB_REG_TR_ATTR) & (ATTR_P | 0xf),
			 ATTR_P | 0xb);
	assert_int_equal(reg_n(vm, GDB_REG_TR_LIMIT), 0xffff);
	assert_true(reg_n(vm, GDB_REG_LDTR_ATTR) & ATTR_UNUSABLE);
	/* the hidden part is the loaded one: a GDT entry rewritten since
	 * does not change it */
	uint8_t zero[8] = { 0 };
	assert_int_equal(vm_write_gpa(vm, BOOT_GDT_GPA + 8, zero, 8), 0);
	assert_int_equal(reg_n(vm, GDB_REG_CS_ATTR), cs_attr);
	/* bases and limits of the tables, tr and ldtr are written... */
	put64(val, 0x5000);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_IDTR_BASE, val), 0);
	put64(val, 0xfff);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_IDTR_LIMIT, val), 0);
	assert_int_equal(vm_get_desc(vm, 0, VM_REG_GUEST_IDTR, &d), 0);
	assert_int_equal(d.base, 0x5000);
	assert_int_equal(d.limit, 0xfff);
	put64(val, 0x7000);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_TR_BASE, val), 0);
	assert_int_equal(reg_n(vm, GDB_REG_TR_BASE), 0x7000);
	assert_int_equal(reg_n(vm, GDB_REG_TR_ATTR) & 0xf, 0xb);
	/* ...attributes and the hidden parts of cs..gs are not, unless
	 * the value is the one there */
	put64(val, 0x1000);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_CS_BASE, val), -EPERM);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_DS_LIMIT, val), -EPERM);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_TR_ATTR, val), -EPERM);
	put64(val, cs_attr);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_CS_ATTR, val), 0);
	assert_int_equal(reg_n(vm, GDB_REG_CS_BASE), 0);
	vm_destroy(vm);
}

/* The guest's DR0-DR3, DR6, DR7: reset values, writes read back, and
 * what a CPU refuses with #GP is refused. */
static void debug_registers(void **state)
{
	struct vm *vm = booted_vm(1, VM_CPU_VENDOR_INTEL);
	uint8_t val[16];
	uint64_t v;

	(void)state;
	assert_int_equal(reg_n(vm, GDB_REG_DR7), 0x400);
	assert_int_equal(reg_n(vm, GDB_REG_DR6), 0xffff0ff0);
	put64(val, 0xffffffff81000000ULL);
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_DR2, val), 0);
	assert_int_equal(vm_get_register(vm, 0, VM_REG_GUEST_DR2, &v), 0);
	assert_int_equal(v, 0xffffffff81000000ULL);
	put64(val, 0x401 | (1ULL << 32));
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_DR7, val), -EINVAL);
	assert_int_equal(reg_n(vm, GDB_REG_DR7), 0x400);
	put64(val, 0x410); /* L2 */
	assert_int_equal(ops->write_reg(vm, 0, GDB_REG_DR7, val), 0);
	assert_int_equal(reg_n(vm, GDB_REG_DR7), 0x410);
	vm_destroy(vm);
}

static void capabilities_per_personality(void **state)
{
	struct vm *intel = booted_vm(2, VM_CPU_VENDOR_INTEL);
	struct vm *amd = booted_vm(1, VM_CPU_VENDOR_AMD);
	struct gdb_vcpu_status st;
	int v, len;

	(void)state;
	assert_true(ops->has_cap(intel, GDB_CAP_MTRAP_EXIT));
	assert_false(ops->has_cap(intel, GDB_CAP_RFLAGS_TF));
	assert_true(ops->has_cap(intel, GDB_CAP_BPT_EXIT));
	assert_true(ops->has_cap(intel, GDB_CAP_MASK_HWINTR));
	assert_false(ops->has_cap(amd, GDB_CAP_MTRAP_EXIT));
	assert_true(ops->has_cap(amd, GDB_CAP_RFLAGS_TF));

	assert_int_equal(ops->set_cap(intel, 1, GDB_CAP_BPT_EXIT, true), 0);
	assert_int_equal(vm_get_capability(intel, 1, VM_CAP_BPT_EXIT, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(vm_get_capability(intel, 0, VM_CAP_BPT_EXIT, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ops->set_cap(intel, -1, GDB_CAP_MASK_HWINTR, true),
			 0);
	assert_int_equal(vm_get_capability(intel, 0, VM_CAP_MASK_HWINTR, &v),
			 0);
	assert_int_equal(v, 1);
	assert_int_equal(ops->set_cap(amd, 0, GDB_CAP_MTRAP_EXIT, true),
			 -ENOENT);

	assert_int_equal(ops->set_entry_inst_length(intel, 0, 1), 0);
	assert_int_equal(ops->get_entry_inst_length(intel, 0, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(ops->set_entry_inst_length(amd, 0, 1), 0);
	assert_int_equal(ops->get_entry_inst_length(amd, 0, &len), -ENOENT);

	assert_int_equal(ops->vcpu_status(intel, 1, &st), 0);
	assert_false(st.halted);
	assert_false(st.waiting_for_sipi);
	assert_string_equal(st.mode, "64-bit");
	assert_int_equal(ops->vcpu_status(intel, 2, &st), -EINVAL);
	/* An application processor of a kernel boot, before its SIPI. */
	assert_int_equal(vm_set_wait_for_sipi(intel, 1), 0);
	assert_int_equal(ops->vcpu_status(intel, 1, &st), 0);
	assert_true(st.waiting_for_sipi);
	assert_string_equal(st.mode, "real");
	vm_destroy(intel);
	vm_destroy(amd);
}

/* Z1-Z4 become the VM's watches of the matching kind; the limits are the
 * VM's own. */
static void watches_map_to_vm_kinds(void **state)
{
	struct vm *vm = booted_vm(1, VM_CPU_VENDOR_INTEL);
	unsigned hw, wp;
	uint64_t max_len;

	(void)state;
	ops->watch_limits(vm, &hw, &wp, &max_len);
	assert_int_equal(hw, VM_MAX_HW_BREAKPOINTS);
	assert_int_equal(wp, VM_MAX_WATCHPOINTS);
	assert_int_equal(max_len, VM_MAX_WATCH_LEN);
	static const struct { enum gdb_watch_type t; enum vm_watch_kind k;
			      uint64_t len; } map[] = {
		{ GDB_HW_BREAKPOINT, VM_WATCH_EXEC, 1 },
		{ GDB_WATCH_WRITE, VM_WATCH_WRITE, 8 },
		{ GDB_WATCH_READ, VM_WATCH_READ, 2 },
		{ GDB_WATCH_ACCESS, VM_WATCH_ACCESS, 4 },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		assert_int_equal(ops->insert_watch(vm, map[i].t, 0x2000,
						   map[i].len), 0);
		/* the VM has it under its own kind: removing that works once */
		assert_int_equal(vm_watch_remove(vm, map[i].k, 0x2000,
						 map[i].len), 0);
		assert_int_equal(ops->remove_watch(vm, map[i].t, 0x2000,
						   map[i].len), -ENOENT);
	}
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(general_registers),
		cmocka_unit_test(system_registers),
		cmocka_unit_test(fpu_registers),
		cmocka_unit_test(all_registers_match_single_reads),
		cmocka_unit_test(every_register_has_a_home),
		cmocka_unit_test(memory_and_translation),
		cmocka_unit_test(paging_structures_of_every_vcpu),
		cmocka_unit_test(system_register_writes_take_or_refuse),
		cmocka_unit_test(descriptor_registers),
		cmocka_unit_test(debug_registers),
		cmocka_unit_test(capabilities_per_personality),
		cmocka_unit_test(watches_map_to_vm_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
