/*
 * Privilege levels and CPU modes on the real engine: a CPL 3 task entered
 * with iretq, its page faults (U bit, the TSS.RSP0 stack), syscall/sysret
 * with EFER.SCE and swapgs, and one guest that switches itself between
 * real, 32-bit protected and long mode. Guest code: paging_snippets.S,
 * mode_switch.S. Supervisor paging: test_paging.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "paging_probe.h"

#define PF_P 0x1u
#define PF_W 0x2u
#define PF_U 0x4u

#define VEC_UD 6
#define VEC_GP 13
#define CR0_PE 1ULL
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define EFER_SCE 1ULL
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define RFLAGS_TF (1ULL << 8)
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_DF (1ULL << 10)

/* The user's address space (PML4[1], U at every level above the PTEs). */
#define USER_CODE_VA (VA_WINDOW + 0x100000) /* the pg snippet, read-only */
#define USER_STACK_VA (VA_WINDOW + 0x110000)
#define USER_DATA_VA (VA_WINDOW + 0x111000)
#define SUPER_VA (VA_WINDOW + 0x112000)    /* the data page, U = 0 */
#define USER_RO_VA (VA_WINDOW + 0x113000)
#define USER_NP_VA (VA_WINDOW + 0x114000)
#define SUPER_PDE_VA (VA_WINDOW + 0x200000) /* U in the PTE, not the PDE */
#define PA_USER_STACK 0x510000ULL
#define PA_USER_DATA 0x511000ULL
#define PA_USER_RO 0x512000ULL
#define USER(label) (USER_CODE_VA + (uint64_t)(pg_##label - pg_start))
#define USER_STACK_TOP (USER_STACK_VA + 0x1000)
/* tg_create's TSS.RSP0: where a fault from CPL 3 puts its frame. */
#define TSS_RSP0 0x280000ULL
#define PF_FRAME_BYTES 48 /* error code, RIP, CS, RFLAGS, RSP, SS */
#define KERNEL_STACK_TOP 0x2f0000ULL

static void put_gdt_entry(struct vm *vm, uint16_t sel, uint64_t desc)
{
	assert_int_equal(vm_write_gpa(vm, 0x1000 + sel, &desc, 8), 0);
}

/* probe_vm plus DPL 3 segments behind tg_create's GDT and a user
 * address space holding an alias of the pg snippet. */
static struct vm *user_vm(struct pt_space *pt)
{
	struct vm *vm = probe_vm(pt);
	put_gdt_entry(vm, USER_SS & ~3, 0x00cff3000000ffffULL);
	put_gdt_entry(vm, USER_CS & ~3, 0x00affb000000ffffULL);
	struct seg_desc gdtr = { 0x1000, (USER_CS & ~3) + 7, 0 };
	assert_int_equal(vm_set_desc(vm, 0, VM_REG_GUEST_GDTR, &gdtr), 0);
	/* A null GS: iretq to CPL 3 would null a DPL 0 one, and its base. */
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_GS, 0), 0);

	assert_true(pg_end - pg_start <= 0x2000);
	for (uint64_t p = 0; p < 0x2000; p += 0x1000)
		pt_map(pt, USER_CODE_VA + p, SNIP_BASE + p, PT_4K,
		       PTE_P | PTE_U);
	const uint64_t data = PTE_P | PTE_W | PTE_NX;
	pt_map(pt, USER_STACK_VA, PA_USER_STACK, PT_4K, data | PTE_U);
	pt_map(pt, USER_DATA_VA, PA_USER_DATA, PT_4K, data | PTE_U);
	pt_map(pt, SUPER_VA, PA_USER_DATA, PT_4K, data);
	pt_map(pt, USER_RO_VA, PA_USER_RO, PT_4K, PTE_P | PTE_U | PTE_NX);
	pt_map(pt, USER_NP_VA, PA_USER_DATA, PT_4K, 0);
	pt_map(pt, SUPER_PDE_VA, PA_USER_DATA, PT_4K, data | PTE_U);
	uint64_t pde = pt_entry_at(pt, SUPER_PDE_VA, PT_PDE);
	pt_set(pt, pde, pt_get(pt, pde) & ~PTE_U);
	pt_activate(pt, 0);
	return vm;
}

/* Enters user code at `user_rip` through enter_user (RDI, RDX passed on)
 * and runs to the hlt of whichever handler stops it. */
static void run_user(struct vm *vm, uint64_t user_rip, uint64_t rdi,
		     uint64_t rdx)
{
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_R12,
					 USER_STACK_TOP), 0);
	probe_run(vm, PG(enter_user), user_rip, rdi, rdx);
}

static void assert_user_fault(struct vm *vm, uint64_t error, uint64_t cr2,
			      uint64_t rip)
{
	struct pf_seen f = probe_fault(vm);
	assert_int_equal(f.error, error);
	assert_int_equal(f.cr2, cr2);
	assert_int_equal(f.rip, rip);
	assert_int_equal(f.cs, USER_CS);
	assert_int_equal(f.ss, USER_SS);
	/* Delivered on the stack TSS.RSP0 names, not the user's. */
	assert_int_equal(f.frame, TSS_RSP0 - PF_FRAME_BYTES);
}

/* The task ended in ud2 (its accesses went through) at `rip`. */
static void assert_user_ud_at(struct vm *vm, uint64_t rip)
{
	assert_int_equal(tg_data(vm, PF_COUNT), 0);
	assert_int_equal(tg_data(vm, EXC_VECTOR), VEC_UD);
	assert_int_equal(tg_data(vm, EXC_RIP), rip);
	assert_int_equal(tg_data(vm, EXC_CS), USER_CS);
}

/* ---- CPL 3 --------------------------------------------------------------- */

/* iretq with an RPL 3 CS enters CPL 3: the task sees its own selectors,
 * and hlt, privileged, raises #GP(0) there. */
static void test_iretq_enters_cpl3(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = user_vm(&pt);
	run_user(vm, USER(user_hlt), 0, 0);
	assert_int_equal(tg_data(vm, EXC_VECTOR), VEC_GP);
	assert_int_equal(tg_data(vm, EXC_ERROR), 0);
	assert_int_equal(tg_data(vm, EXC_RIP), USER(user_hlt_insn));
	assert_int_equal(tg_data(vm, EXC_CS), USER_CS);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX) & 0xffff, USER_CS);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RBX) & 0xffff, USER_SS);
	/* The handler runs at CPL 0 again. */
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_CS), KERNEL_CS);
	vm_destroy(vm);
}

/* The task reads and writes its own pages; U = 0 in the PTE or in any
 * entry above it, a read-only page (even with CR0.WP = 0), and a page
 * not present each fault with U set in the error code, on the RSP0
 * stack. */
static void test_user_page_faults(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = user_vm(&pt);
	set_gpa_u64(vm, PA_USER_DATA, 0x05e7da7a);
	set_gpa_u64(vm, PA_USER_RO, 0x0dd);

	run_user(vm, USER(user_read), USER_DATA_VA, 0);
	assert_user_ud_at(vm, USER(user_read) + 3);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 0x05e7da7a);
	run_user(vm, USER(user_write), USER_DATA_VA + 8, 0x77);
	assert_user_ud_at(vm, USER(user_write) + 3);
	assert_int_equal(gpa_u64(vm, PA_USER_DATA + 8), 0x77);
	run_user(vm, USER(user_read), USER_RO_VA, 0);
	assert_user_ud_at(vm, USER(user_read) + 3);

	run_user(vm, USER(user_read), SUPER_VA + 8, 0);
	assert_user_fault(vm, PF_P | PF_U, SUPER_VA + 8, USER(user_read));
	run_user(vm, USER(user_read), SUPER_PDE_VA, 0);
	assert_user_fault(vm, PF_P | PF_U, SUPER_PDE_VA, USER(user_read));
	run_user(vm, USER(user_write), USER_RO_VA, 0xbad);
	assert_user_fault(vm, PF_P | PF_W | PF_U, USER_RO_VA, USER(user_write));
	uint64_t cr0 = tg_reg(vm, 0, VM_REG_GUEST_CR0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_CR0,
					 cr0 & ~CR0_WP), 0);
	run_user(vm, USER(user_write), USER_RO_VA, 0xbad);
	assert_user_fault(vm, PF_P | PF_W | PF_U, USER_RO_VA, USER(user_write));
	assert_int_equal(gpa_u64(vm, PA_USER_RO), 0x0dd);
	run_user(vm, USER(user_read), USER_NP_VA + 16, 0);
	assert_user_fault(vm, PF_U, USER_NP_VA + 16, USER(user_read));
	vm_destroy(vm);
}

static uint64_t kpc(struct vm *vm, unsigned offset)
{
	return tg_data(vm, (unsigned)(KPC_BASE - TG_DATA + offset) / 8);
}

/* Two system calls from CPL 3 (paging_snippets.S, syscall_entry): the
 * first records what SYSCALL handed the kernel and returns with SYSRET,
 * the second stops. swapgs gives the kernel its own GS base (the records
 * go through it) and the task its own back. */
static void test_syscall_sysret_swapgs(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = user_vm(&pt);
	const uint64_t user_gs_marker = 0x6565656500000001ULL;
	set_gpa_u64(vm, PA_USER_DATA, user_gs_marker);
	tg_set_data(vm, (unsigned)(KPC_BASE - TG_DATA + KPC_STACK) / 8,
		    KERNEL_STACK_TOP);
	uint64_t efer = tg_reg(vm, 0, VM_REG_GUEST_EFER);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_EFER,
					 efer | EFER_SCE), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_GS_BASE,
					 USER_DATA_VA), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_KGS_BASE,
					 KPC_BASE), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_R12,
					 USER_STACK_TOP), 0);

	probe_run(vm, PG(syscall_setup), USER(user_syscalls), 0, 0);
	assert_int_equal(tg_data(vm, EXC_VECTOR), 0);
	assert_int_equal(tg_data(vm, PF_COUNT), 0);
	assert_int_equal(kpc(vm, KPC_CALLS), 2);
	assert_int_equal(kpc(vm, KPC_EXITS), 1);
	/* SYSCALL: RCX = the next RIP, R11 = RFLAGS, CS/SS from STAR, RSP
	 * untouched, SFMASK's bits cleared. */
	assert_int_equal(kpc(vm, KPC_RCX), USER(user_after_syscall));
	uint64_t user_rflags = kpc(vm, KPC_R11);
	assert_true(user_rflags & RFLAGS_DF);
	assert_int_equal(kpc(vm, KPC_CS), KERNEL_CS);
	assert_int_equal(kpc(vm, KPC_SS), KERNEL_SS);
	assert_int_equal(kpc(vm, KPC_USER_RSP), USER_STACK_TOP);
	assert_int_equal(kpc(vm, KPC_RFLAGS) & (RFLAGS_TF | RFLAGS_IF |
						 RFLAGS_DF), 0);
	/* SYSRET: back at CPL 3 with R11's RFLAGS; the user GS base both
	 * before and after. */
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R13), user_rflags);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R14) & 0xffff, USER_CS);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R12), user_gs_marker);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R15), user_gs_marker);
	/* Stopped in the kernel, after its swapgs. */
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_GS_BASE), KPC_BASE);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_KGS_BASE), USER_DATA_VA);
	vm_destroy(vm);
}

/* Without EFER.SCE, SYSCALL is #UD (RIP on it) and the kernel never
 * runs. */
static void test_syscall_without_sce_is_ud(void **state)
{
	(void)state;
	struct pt_space pt;
	struct vm *vm = user_vm(&pt);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_EFER) & EFER_SCE, 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_GS_BASE,
					 USER_DATA_VA), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_KGS_BASE,
					 KPC_BASE), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_R12,
					 USER_STACK_TOP), 0);
	probe_run(vm, PG(syscall_setup), USER(user_syscalls), 0, 0);
	assert_int_equal(tg_data(vm, EXC_VECTOR), VEC_UD);
	assert_int_equal(tg_data(vm, EXC_RIP), USER(user_syscall));
	assert_int_equal(tg_data(vm, EXC_CS), USER_CS);
	assert_int_equal(kpc(vm, KPC_CALLS), 0);
	vm_destroy(vm);
}

/* ---- Mode switches ------------------------------------------------------- */

extern const uint8_t modes_start[], modes_end[], modes_hlt_end[];

#define PA_LEGACY_PAGE 0x520000ULL

static void set_gpa_u32(struct vm *vm, uint64_t gpa, uint32_t val)
{
	assert_int_equal(vm_write_gpa(vm, gpa, &val, 4), 0);
}

static uint16_t gpa_u16(struct vm *vm, uint64_t gpa)
{
	uint16_t v = 0;
	assert_int_equal(vm_read_gpa(vm, gpa, &v, 2), 0);
	return v;
}

/* mode_switch.S, loaded and set up to start in real mode at
 * 0x1000:0000, as after a STARTUP IPI. */
static struct vm *modes_vm(enum vm_cpu_vendor vendor)
{
	struct vm *vm = tg_create(1, vendor);
	assert_int_equal(vm_write_gpa(vm, MODES_PHYS, modes_start,
				      (size_t)(modes_end - modes_start)), 0);
	set_gpa_u32(vm, LEGACY_PD, 0x83);             /* 4 MiB at 0, PS */
	set_gpa_u32(vm, LEGACY_PD + 4, LEGACY_PT | 3); /* 4-8 MiB */
	set_gpa_u32(vm, LEGACY_PT, (uint32_t)PA_LEGACY_PAGE | 3);
	set_gpa_u32(vm, PA_LEGACY_PAGE + 0x10, 0x32107654);

	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_CR0, 0x10), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_EFER, 0), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_CR4, 0), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_CS,
					 MODES_PHYS >> 4), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DS, 0), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_SS, 0), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, 0), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	return vm;
}

/* Every stage's mark, and the vCPU back in real mode after the hlt. */
static void check_modes_done(struct vm *vm, const struct vm_exit *e)
{
	if (e->exitcode != VM_EXITCODE_HLT)
		fail_msg("exit %d at rip %#llx (%s); stages: pm32 %llu, paged "
			 "%#llx, long %#llx", e->exitcode,
			 (unsigned long long)e->rip, e->u.fault.reason,
			 (unsigned long long)tg_data(vm, MODE_PM32_ECX),
			 (unsigned long long)tg_data(vm, MODE_PAGED32_READ),
			 (unsigned long long)tg_data(vm, MODE_LONG64));
	assert_int_equal(gpa_u16(vm, 0x20010), 0x1234);
	assert_int_equal(tg_data(vm, MODE_PM32_ECX), 2);
	assert_int_equal(tg_data(vm, MODE_PAGED32_READ), 0x32107654);
	assert_int_equal(tg_data(vm, MODE_LONG64), 0x6464646464646464ULL);
	assert_int_equal(tg_data(vm, MODE_EFER_AFTER) & (EFER_LME | EFER_LMA),
			 0);
	assert_int_equal(gpa_u16(vm, 0x30020), 0x5678);
	assert_int_equal(e->rip, (uint64_t)(modes_hlt_end - modes_start));
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_CS), MODES_PHYS >> 4);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_CR0) & (CR0_PE | CR0_PG),
			 0);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_EFER) & EFER_LMA, 0);
}

/* mode_switch.S from real mode to long mode and back to real mode, by
 * itself: CR0.PE and far jumps, 32-bit paging (a 4 MiB page and a 4 KiB
 * page at VA != PA), PAE + EFER.LME + CR0.PG and a far jump to 64-bit
 * code, a far return to 32-bit code, paging off, a 16-bit segment, PE
 * off. Real-mode segment bases are the selector * 16 both times. */
static void test_mode_switches_real_protected_long_and_back(void **state)
{
	(void)state;
	struct vm *vm = modes_vm(VM_CPU_VENDOR_INTEL);
	struct vm_exit e;
	assert_int_equal(vm_run(vm, 0, &e), 0);
	check_modes_done(vm, &e);
	vm_destroy(vm);
}

/* The same trip one instruction at a time. Each step stops the engine at
 * the next block and takes RIP back from the block's linear address,
 * which is CS's base as loaded plus RIP: right after `mov %eax, %cr0`
 * sets PE, CS still holds the real-mode selector 0x100 with base 0x1000
 * until the far jump reloads it (the selector would index garbage in the
 * GDT). Any stop there (a step, or in a Linux AP's trampoline a kick from
 * another vCPU) once subtracted the GDT's idea of the base instead, and
 * the vCPU resumed 0x1000 bytes off, in garbage. */
static void check_mode_switches_stepped(enum vm_cpu_vendor vendor)
{
	struct vm *vm = modes_vm(vendor);
	/* Steps by MTRAP (Intel) or by RFLAGS.TF with a #DB exit (AMD). */
	bool intel = vendor == VM_CPU_VENDOR_INTEL;
	assert_int_equal(vm_set_capability(vm, 0, intel ? VM_CAP_MTRAP_EXIT
							: VM_CAP_RFLAGS_TF,
					   1), 0);
	enum vm_exitcode step_exit = intel ? VM_EXITCODE_MTRAP
					  : VM_EXITCODE_DB;
	/* A stepped hlt ends its step after the hlt, without sleeping. */
	const uint64_t hlt_end = (uint64_t)(modes_hlt_end - modes_start);
	struct vm_exit e;
	unsigned steps = 0;
	do {
		assert_int_equal(vm_run(vm, 0, &e), 0);
		if (e.exitcode != step_exit)
			break;
		assert_true(++steps < 1000);
	} while (e.rip != hlt_end ||
		 tg_reg(vm, 0, VM_REG_GUEST_CS) != MODES_PHYS >> 4);
	assert_true(steps > 20);
	/* Arriving after the hlt by steps stands for the plain run's exit. */
	if (e.exitcode == step_exit)
		e.exitcode = VM_EXITCODE_HLT;
	check_modes_done(vm, &e);
	vm_destroy(vm);
}

static void test_mode_switches_stepped_intel(void **state)
{
	(void)state;
	check_mode_switches_stepped(VM_CPU_VENDOR_INTEL);
}

static void test_mode_switches_stepped_amd(void **state)
{
	(void)state;
	check_mode_switches_stepped(VM_CPU_VENDOR_AMD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iretq_enters_cpl3),
		cmocka_unit_test(test_user_page_faults),
		cmocka_unit_test(test_syscall_sysret_swapgs),
		cmocka_unit_test(test_syscall_without_sce_is_ud),
		cmocka_unit_test(test_mode_switches_real_protected_long_and_back),
		cmocka_unit_test(test_mode_switches_stepped_intel),
		cmocka_unit_test(test_mode_switches_stepped_amd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
