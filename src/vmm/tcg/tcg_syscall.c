/*
 * SYSCALL as the SDM describes it (Vol. 2B, "SYSCALL"), done through the
 * register API from inside Unicorn's hook. Unicorn adds the instruction's
 * length to RIP after its hooks return, so RIP is set that much short of
 * the target. A 64-bit engine's CS/SS writes store the selectors only
 * (after the CPL is 0: tcg_set_cpl); their hidden parts get the fixed flat
 * values the SDM gives (every kernel's GDT has exactly those at
 * STAR[47:32] and +8), in the segment caches (tcg_write_segment_cache),
 * so that a debugger sees the kernel's CS and SS, not the caller's.
 */
#include "vmm/tcg/tcg_syscall.h"

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define EFER_SCE (1ULL << 0)
#define EFER_LMA (1ULL << 10)
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_RF (1ULL << 16)
#define RFLAGS_VM (1ULL << 17)
#define UD_VECTOR 6
#define QEMU_CS 1
#define QEMU_SS 2
/* QEMU's descriptor flags: type 11 (code, execute/read, accessed) or 3
 * (data, read/write, accessed), S, DPL 0, P, G; CS gets L in IA-32e mode,
 * D outside it; SS gets B. */
#define SYSCALL_CS_FLAGS 0x00809b00u
#define SYSCALL_SS_FLAGS 0x00c09300u
#define FLAGS_L (1u << 21)
#define FLAGS_DB (1u << 22)

static uint64_t msr(uc_engine *uc, uint32_t id)
{
	uc_x86_msr m = { .rid = id };
	uc_reg_read(uc, UC_X86_REG_MSR, &m);
	return m.value;
}


void tcg_emulate_syscall(uc_engine *uc, const struct tcg_cpu_ptrs *p,
			 unsigned insn_len, bool code64)
{
	uint64_t efer = msr(uc, MSR_EFER);
	if (!(efer & EFER_SCE))
		tcg_raise_event(p, UD_VECTOR, false, 0, 0);
	uint64_t star = msr(uc, MSR_STAR);
	uint64_t rip = tcg_uc_get(uc, UC_X86_REG_RIP);
	uint64_t rflags = tcg_uc_get(uc, UC_X86_REG_RFLAGS);
	uint64_t next = rip + insn_len;
	uint64_t target, new_rflags;
	bool long_mode = efer & EFER_LMA;
	if (long_mode) {
		target = msr(uc, code64 ? MSR_LSTAR : MSR_CSTAR);
		tcg_uc_set(uc, UC_X86_REG_RCX, next);
		tcg_uc_set(uc, UC_X86_REG_R11, rflags);
		new_rflags = rflags & ~msr(uc, MSR_SFMASK) & ~RFLAGS_RF;
	} else {
		target = (uint32_t)star;
		tcg_uc_set(uc, UC_X86_REG_RCX, (uint32_t)next);
		new_rflags = rflags & ~(RFLAGS_IF | RFLAGS_VM | RFLAGS_RF);
	}
	uint16_t cs = (uint16_t)((star >> 32) & 0xfffc);
	tcg_set_cpl(p, 0);
	tcg_uc_set(uc, UC_X86_REG_CS, cs);
	tcg_uc_set(uc, UC_X86_REG_SS, (uint16_t)(cs + 8));
	struct tcg_segment_cache flat = { .base = 0, .limit = 0xffffffffu };
	flat.flags = SYSCALL_CS_FLAGS | (long_mode ? FLAGS_L : FLAGS_DB);
	tcg_write_segment_cache(p, QEMU_CS, &flat);
	flat.flags = SYSCALL_SS_FLAGS;
	tcg_write_segment_cache(p, QEMU_SS, &flat);
	tcg_uc_set(uc, UC_X86_REG_RFLAGS, new_rflags | 2);
	if (!long_mode)
		target = (uint32_t)target;
	tcg_uc_set(uc, UC_X86_REG_RIP, target - insn_len);
}
