/*
 * The start-up self-test of the Unicorn internals in tcg_cpu_internals.c,
 * on a scratch engine with 4 MiB of its own RAM. Its guest
 * (tcg_cpu_selftest_guest.S), with the hooks below doing what the real
 * backend's hooks do:
 * 1. takes an interrupt raised before its first instruction (vector 0x30);
 * 2. writes, then reads, two not-present pages: #PF with error codes 2 and
 *    0 and the right CR2 each time (no #DF: QEMU's exception record is
 *    cleared by its own delivery);
 * 3. goes to CPL 3 with iretq, takes `int $0x31` through a DPL-3 gate back
 *    to CPL 0 (the privilege switch is QEMU's), and makes two system calls
 *    through the emulated SYSCALL (the first returns with sysret). The CPL
 *    offset is found between 2 and 3 by comparing the CPU state at CPL 0
 *    and CPL 3, and used by the SYSCALL emulation;
 * 4. runs `ud2` with an empty IDT: #UD, #GP and #DF cannot be delivered,
 *    and the triple fault must be seen.
 * Between 3 and 4, the code-buffer accounting (tcg_code_buffer.c) must have
 * seen the engine's translations, and the segment caches read through the
 * CPL offset (what a debugger shows as hidden parts) must agree with the
 * register API: the selectors, an FS base written through it, and the
 * 64-bit kernel CS the SYSCALL loaded.
 * Any difference is reported in one line and hvgdb does not start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/tcg/tcg_cpu_internals.h"
#include "vmm/tcg/tcg_cpu_selftest.h"
#include "vmm/tcg/tcg_internal.h"
#include "vmm/tcg/tcg_syscall.h"

extern const uint8_t tcg_selftest_guest_start[], tcg_selftest_guest_end[];
extern const uint8_t tcg_selftest_pf[], tcg_selftest_ext[],
	tcg_selftest_int31[], tcg_selftest_df[], tcg_selftest_gp[],
	tcg_selftest_syscall[], tcg_selftest_after_syscall[],
	tcg_selftest_triple[];

#define EXT_VECTOR 0x30
#define USER_INT_VECTOR 0x31
#define SYSCALL_LEN 2

struct selftest {
	uc_engine *uc;
	uint8_t *ram;
	struct tcg_cpu_ptrs cpu;
	bool inject_ext;
	uint8_t *state_cpl0, *state_cpl3;
	size_t scan_len;
	bool cpl_found;
};

static uint64_t guest_addr(const uint8_t *sym)
{
	return SELFTEST_CODE + (uint64_t)(sym - tcg_selftest_guest_start);
}

static void put64(struct selftest *s, uint64_t gpa, uint64_t v)
{
	memcpy(s->ram + gpa, &v, 8);
}

static uint64_t result(const struct selftest *s, unsigned off)
{
	uint64_t v;
	memcpy(&v, s->ram + SELFTEST_RESULTS + off, 8);
	return v;
}

static void set_gate(struct selftest *s, int vector, const uint8_t *handler,
		     unsigned dpl)
{
	uint64_t h = guest_addr(handler);
	uint64_t lo = (h & 0xffff) | ((uint64_t)SELFTEST_KERNEL_CS << 16) |
		      ((uint64_t)(0x8e | (dpl << 5)) << 40) |
		      (((h >> 16) & 0xffff) << 48);
	put64(s, SELFTEST_IDT + (uint64_t)vector * 16, lo);
	put64(s, SELFTEST_IDT + (uint64_t)vector * 16 + 8, h >> 32);
}

static void build_machine(struct selftest *s)
{
	/* GDT: kernel code/data, user data/code (sysret's order), TSS. */
	put64(s, SELFTEST_GDT + 0x08, 0x00af9b000000ffffULL);
	put64(s, SELFTEST_GDT + 0x10, 0x00cf93000000ffffULL);
	put64(s, SELFTEST_GDT + 0x18, 0x00cff3000000ffffULL);
	put64(s, SELFTEST_GDT + 0x20, 0x00affb000000ffffULL);
	put64(s, SELFTEST_GDT + SELFTEST_TSS_SEL,
	      0x0000890000000067ULL | ((uint64_t)SELFTEST_TSS << 16));
	put64(s, SELFTEST_TSS + 4, SELFTEST_RSP0);
	/* 0-2 MiB one user-accessible large page; 2-4 MiB through a page
	 * table with nothing present. */
	put64(s, SELFTEST_PML4, SELFTEST_PDPT | 7);
	put64(s, SELFTEST_PDPT, SELFTEST_PD | 7);
	put64(s, SELFTEST_PD, 0x87);
	put64(s, SELFTEST_PD + 8, SELFTEST_PT | 7);
	set_gate(s, 8, tcg_selftest_df, 0);
	set_gate(s, 13, tcg_selftest_gp, 0);
	set_gate(s, 14, tcg_selftest_pf, 0);
	set_gate(s, EXT_VECTOR, tcg_selftest_ext, 0);
	set_gate(s, USER_INT_VECTOR, tcg_selftest_int31, 3);
	memcpy(s->ram + SELFTEST_CODE, tcg_selftest_guest_start,
	       (size_t)(tcg_selftest_guest_end - tcg_selftest_guest_start));
}

static int set_cpu(struct selftest *s)
{
	uc_engine *uc = s->uc;
	uc_x86_mmr gdtr = { 0, SELFTEST_GDT, 0x2f, 0 };
	uc_x86_mmr idtr = { 0, SELFTEST_IDT, 0xfff, 0 };
	/* QEMU's descriptor flags: type 0xb (busy 64-bit TSS), present. */
	uc_x86_mmr tr = { SELFTEST_TSS_SEL, SELFTEST_TSS, 0x67, 0x8b00 };
	struct { int reg; uint64_t val; } regs[] = {
		{ UC_X86_REG_CR3, SELFTEST_PML4 },
		{ UC_X86_REG_CR4, 0x620 },
		{ UC_X86_REG_CR0, 0x80050033 },
		{ UC_X86_REG_CS, SELFTEST_KERNEL_CS },
		{ UC_X86_REG_SS, SELFTEST_KERNEL_DS },
		{ UC_X86_REG_DS, SELFTEST_KERNEL_DS },
		{ UC_X86_REG_ES, SELFTEST_KERNEL_DS },
		{ UC_X86_REG_RSP, SELFTEST_KERNEL_STACK },
		{ UC_X86_REG_RFLAGS, 2 },
	};
	struct { uint32_t id; uint64_t val; } msrs[] = {
		{ 0xC0000080, 0xd01 }, /* EFER: SCE, LME, LMA, NXE */
		{ 0xC0000081, (0x10ULL << 48) | (0x08ULL << 32) }, /* STAR */
		{ 0xC0000082, guest_addr(tcg_selftest_syscall) }, /* LSTAR */
		{ 0xC0000084, 0x300 }, /* SFMASK: IF, TF */
	};
	if (uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr) != UC_ERR_OK ||
	    uc_reg_write(uc, UC_X86_REG_IDTR, &idtr) != UC_ERR_OK ||
	    uc_reg_write(uc, UC_X86_REG_TR, &tr) != UC_ERR_OK)
		return -1;
	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		uc_x86_msr m = { .rid = msrs[i].id, .value = msrs[i].val };
		if (uc_reg_write(uc, UC_X86_REG_MSR, &m) != UC_ERR_OK)
			return -1;
	}
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (uc_reg_write(uc, regs[i].reg, &regs[i].val) != UC_ERR_OK)
			return -1;
	return 0;
}

/* ---- Hooks: what the backend's hooks do ---------------------------------- */

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size,
		       void *user)
{
	(void)uc;
	(void)addr;
	(void)size;
	struct selftest *s = user;
	if (s->inject_ext) {
		s->inject_ext = false;
		tcg_raise_event(&s->cpu, EXT_VECTOR, false, 0, 0);
	}
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	(void)uc;
	struct selftest *s = user;
	if (intno == 14 && s->scan_len)
		memcpy(s->state_cpl0, s->cpu.env, s->scan_len);
	if (intno == USER_INT_VECTOR && s->scan_len) {
		size_t off;
		memcpy(s->state_cpl3, s->cpu.env, s->scan_len);
		if (tcg_find_cpl_offset(s->state_cpl0, s->state_cpl3,
					s->scan_len, &off)) {
			tcg_use_cpl_offset(off);
			s->cpl_found = true;
		}
	}
	tcg_deliver_raised_event(&s->cpu);
}

static bool hook_invalid(uc_engine *uc, void *user)
{
	(void)uc;
	(void)user;
	return true; /* #UD goes to hook_intr like any other exception */
}

static void hook_syscall(uc_engine *uc, void *user)
{
	struct selftest *s = user;
	if (!s->cpl_found) {
		uc_emu_stop(uc);
		return;
	}
	tcg_emulate_syscall(uc, &s->cpu, SYSCALL_LEN, true);
}

/* ---- The checks ---------------------------------------------------------- */

static int check(bool ok, char *err, size_t errlen, const char *what,
		 uint64_t got, uint64_t want)
{
	if (!ok)
		snprintf(err, errlen, "CPU self-test: %s: got %#llx, want "
			 "%#llx", what, (unsigned long long)got,
			 (unsigned long long)want);
	return ok ? 0 : -1;
}

#define EXPECT(what, got, want)                                                \
	do {                                                                   \
		uint64_t g_ = (got), w_ = (want);                              \
		if (check(g_ == w_, err, errlen, what, g_, w_) < 0)            \
			return -1;                                             \
	} while (0)

#define SEG_FLAGS_P (1u << 15)
#define SEG_FLAGS_L (1u << 21)
#define SEG_FLAGS_DPL_SHIFT 13
#define SELFTEST_FS_BASE 0x123456789abc000ULL
/* What QEMU's own load of the flat data descriptor (GDT 0x10) leaves:
 * its high dword, and the limit 0xfffff in pages. */
#define KERNEL_DS_FLAGS 0x00cf9300u
#define KERNEL_DS_LIMIT 0xffffffffu
#define QEMU_CS 1
#define QEMU_FS 4

/* The CPU stopped in the SYSCALL handler (CPL 0): CS as the emulation
 * wrote it; FS loaded by QEMU from the GDT, then its base set through
 * the register API; every selector as the register API reads it. */
static int check_segment_caches(struct selftest *s, char *err,
				size_t errlen)
{
	static const int uc_seg[] = { UC_X86_REG_ES, UC_X86_REG_CS,
				      UC_X86_REG_SS, UC_X86_REG_DS,
				      UC_X86_REG_FS, UC_X86_REG_GS };
	struct tcg_segment_cache c;
	tcg_uc_set(s->uc, UC_X86_REG_FS, SELFTEST_KERNEL_DS);
	EXPECT("segment cache readable",
	       tcg_read_segment_cache(&s->cpu, QEMU_FS, &c), 0);
	EXPECT("FS limit in its segment cache", c.limit, KERNEL_DS_LIMIT);
	EXPECT("FS flags in its segment cache", c.flags, KERNEL_DS_FLAGS);
	tcg_uc_set(s->uc, UC_X86_REG_FS_BASE, SELFTEST_FS_BASE);
	tcg_read_segment_cache(&s->cpu, QEMU_FS, &c);
	EXPECT("FS base in its segment cache", c.base, SELFTEST_FS_BASE);
	for (int i = 0; i < 6; i++) {
		tcg_read_segment_cache(&s->cpu, i, &c);
		EXPECT("segment cache selector", c.selector,
		       tcg_uc_get(s->uc, uc_seg[i]) & 0xffff);
	}
	tcg_read_segment_cache(&s->cpu, QEMU_CS, &c);
	EXPECT("kernel CS selector in its cache", c.selector,
	       SELFTEST_KERNEL_CS);
	EXPECT("kernel CS cache after SYSCALL: present, 64-bit, DPL 0",
	       c.flags & (SEG_FLAGS_P | SEG_FLAGS_L | 3u << SEG_FLAGS_DPL_SHIFT),
	       SEG_FLAGS_P | SEG_FLAGS_L);
	tcg_uc_set(s->uc, UC_X86_REG_FS_BASE, 0);
	return 0;
}

static int run_checks(struct selftest *s, char *err, size_t errlen)
{
	uc_engine *uc = s->uc;
	uc_hook h;
	if (uc_ctl_exits_enable(uc) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)hook_block, s, 1, 0) ||
	    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)hook_intr, s, 1, 0) ||
	    uc_hook_add(uc, &h, UC_HOOK_INSN_INVALID, (void *)hook_invalid, s,
			1, 0) ||
	    uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)hook_syscall, s, 1, 0,
			UC_X86_INS_SYSCALL)) {
		snprintf(err, errlen, "CPU self-test: hooks refused");
		return -1;
	}
	s->inject_ext = true;
	uc_err e = uc_emu_start(uc, SELFTEST_CODE, 0, 0, 0);
	EXPECT("first run's end (uc_err)", e, UC_ERR_OK);
	EXPECT("injected interrupt taken", result(s, R_EXT), 1);
	EXPECT("guest started after it", result(s, R_STARTED), 1);
	EXPECT("page faults", result(s, R_PF_COUNT), 2);
	EXPECT("double faults", result(s, R_DF), 0);
	EXPECT("#PF error code of a write", result(s, R_PF_ERR), 2);
	EXPECT("#PF error code of a read", result(s, R_PF_ERR + 8), 0);
	EXPECT("CR2 of the write", result(s, R_PF_CR2), SELFTEST_FAULT_VA);
	EXPECT("CR2 of the read", result(s, R_PF_CR2 + 8),
	       SELFTEST_FAULT_VA + 0x1000);
	EXPECT("CPL offset found", s->cpl_found, 1);
	EXPECT("CS saved by int $0x31 from CPL 3",
	       result(s, R_INT31_FRAME_CS), SELFTEST_USER_CS);
	EXPECT("CS in the int $0x31 handler", result(s, R_INT31_CS) & 0xffff,
	       SELFTEST_KERNEL_CS);
	EXPECT("system calls", result(s, R_SYSCALLS), 2);
	EXPECT("CS in the SYSCALL handler", result(s, R_SYSCALL_CS) & 0xffff,
	       SELFTEST_KERNEL_CS);
	EXPECT("SS in the SYSCALL handler", result(s, R_SYSCALL_SS) & 0xffff,
	       SELFTEST_KERNEL_DS);
	EXPECT("RCX in the SYSCALL handler", result(s, R_SYSCALL_RCX),
	       guest_addr(tcg_selftest_after_syscall));
	EXPECT("CS after sysret", result(s, R_USER_CS_AFTER_SYSRET) & 0xffff,
	       SELFTEST_USER_CS);
	if (tcg_code_buffer_selfcheck(uc, err, errlen) < 0)
		return -1;
	if (check_segment_caches(s, err, errlen) < 0)
		return -1;

	uc_x86_mmr no_idt = { 0, SELFTEST_IDT, 0, 0 };
	uc_reg_write(uc, UC_X86_REG_IDTR, &no_idt);
	tcg_take_triple_fault();
	e = uc_emu_start(uc, guest_addr(tcg_selftest_triple), 0, 0, 0);
	EXPECT("triple fault run's end (uc_err)", e, UC_ERR_OK);
	EXPECT("triple fault seen", tcg_take_triple_fault(), 1);
	return 0;
}

int tcg_cpu_selftest(char *err, size_t errlen);

int tcg_cpu_selftest(char *err, size_t errlen)
{
	struct selftest s = { 0 };
	int rc = -1;
	/* Zero pages on demand: the guest touches a few dozen of them. */
	s.ram = mmap(NULL, SELFTEST_RAM, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.ram == MAP_FAILED) {
		snprintf(err, errlen, "CPU self-test: out of memory");
		return -1;
	}
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &s.uc) != UC_ERR_OK) {
		snprintf(err, errlen, "CPU self-test: uc_open failed");
		munmap(s.ram, SELFTEST_RAM);
		return -1;
	}
	build_machine(&s);
	s.scan_len = tcg_env_scan_len(s.uc);
	s.state_cpl0 = calloc(1, s.scan_len + 1);
	s.state_cpl3 = calloc(1, s.scan_len + 1);
	if (!s.state_cpl0 || !s.state_cpl3)
		snprintf(err, errlen, "CPU self-test: out of memory");
	else if (uc_mem_map_ptr(s.uc, 0, SELFTEST_RAM, UC_PROT_ALL, s.ram) !=
		 UC_ERR_OK || set_cpu(&s) < 0)
		snprintf(err, errlen, "CPU self-test: engine set-up failed");
	else if (tcg_cpu_ptrs_learn(s.uc, &s.cpu) < 0)
		snprintf(err, errlen, "CPU self-test: libunicorn no longer "
			 "calls the helpers hvgdb interposes through its PLT");
	else
		rc = run_checks(&s, err, errlen);
	uc_close(s.uc);
	free(s.state_cpl0);
	free(s.state_cpl3);
	munmap(s.ram, SELFTEST_RAM);
	return rc;
}
