/*
 * Register access on a Unicorn engine.
 *
 * Measured on Unicorn 2.0.1: writing a segment selector loads the hidden
 * part from the GDT in guest memory (and fails rather than faulting when the
 * descriptor is bad), so vm_set_desc cannot set a hidden part independently
 * for ES..GS; on 2.1.1 a 64-bit engine's selector write stores the
 * selector alone. So vm_get_desc and vm_set_desc use QEMU's segment cache
 * (the part the CPU uses; tcg_cpu_internals.h) directly, and rebuild the
 * hidden part from the GDT entry where that cache was never loaded or
 * cannot be read. EFER and KERNEL_GS_BASE go through UC_X86_REG_MSR;
 * GDTR/IDTR/LDTR/TR through uc_x86_mmr. (2.0.1 also dropped EFER.NXE on
 * every write; on 2.1.1 it sticks and NX pages fault on fetch:
 * test_paging.) The CPUID vendor follows the personality through the CPU
 * model (tcg_engine.c).
 * Debug registers: reads are Unicorn's; writes go through QEMU's MOV-to-DR
 * helper, as the guest's own (tcg_guest_debug.c), since Unicorn's register
 * API only stores the value and arms nothing.
 */
#include <errno.h>
#include <string.h>

#include "devices/lapic.h"
#include "vmm/tcg/tcg_internal.h"
#include "vmm/x86_pagewalk.h"

#define MSR_EFER 0xC0000080u
#define MSR_KERNEL_GS_BASE 0xC0000102u

static int uc_reg_of(enum vm_reg_name r)
{
	static const int map[] = {
		[VM_REG_GUEST_RAX] = UC_X86_REG_RAX,
		[VM_REG_GUEST_RBX] = UC_X86_REG_RBX,
		[VM_REG_GUEST_RCX] = UC_X86_REG_RCX,
		[VM_REG_GUEST_RDX] = UC_X86_REG_RDX,
		[VM_REG_GUEST_RSI] = UC_X86_REG_RSI,
		[VM_REG_GUEST_RDI] = UC_X86_REG_RDI,
		[VM_REG_GUEST_RBP] = UC_X86_REG_RBP,
		[VM_REG_GUEST_RSP] = UC_X86_REG_RSP,
		[VM_REG_GUEST_R8] = UC_X86_REG_R8,
		[VM_REG_GUEST_R9] = UC_X86_REG_R9,
		[VM_REG_GUEST_R10] = UC_X86_REG_R10,
		[VM_REG_GUEST_R11] = UC_X86_REG_R11,
		[VM_REG_GUEST_R12] = UC_X86_REG_R12,
		[VM_REG_GUEST_R13] = UC_X86_REG_R13,
		[VM_REG_GUEST_R14] = UC_X86_REG_R14,
		[VM_REG_GUEST_R15] = UC_X86_REG_R15,
		[VM_REG_GUEST_RIP] = UC_X86_REG_RIP,
		[VM_REG_GUEST_RFLAGS] = UC_X86_REG_RFLAGS,
		[VM_REG_GUEST_CR0] = UC_X86_REG_CR0,
		[VM_REG_GUEST_CR2] = UC_X86_REG_CR2,
		[VM_REG_GUEST_CR3] = UC_X86_REG_CR3,
		[VM_REG_GUEST_CR4] = UC_X86_REG_CR4,
		[VM_REG_GUEST_ES] = UC_X86_REG_ES,
		[VM_REG_GUEST_CS] = UC_X86_REG_CS,
		[VM_REG_GUEST_SS] = UC_X86_REG_SS,
		[VM_REG_GUEST_DS] = UC_X86_REG_DS,
		[VM_REG_GUEST_FS] = UC_X86_REG_FS,
		[VM_REG_GUEST_GS] = UC_X86_REG_GS,
		[VM_REG_GUEST_FS_BASE] = UC_X86_REG_FS_BASE,
		[VM_REG_GUEST_GS_BASE] = UC_X86_REG_GS_BASE,
	};
	if ((unsigned)r >= sizeof(map) / sizeof(map[0]))
		return UC_X86_REG_INVALID;
	return map[r];
}

static int mmr_reg_of(enum vm_reg_name r)
{
	switch (r) {
	case VM_REG_GUEST_LDTR: return UC_X86_REG_LDTR;
	case VM_REG_GUEST_TR: return UC_X86_REG_TR;
	case VM_REG_GUEST_IDTR: return UC_X86_REG_IDTR;
	case VM_REG_GUEST_GDTR: return UC_X86_REG_GDTR;
	default: return UC_X86_REG_INVALID;
	}
}

static int msr_read(uc_engine *uc, uint32_t id, uint64_t *val)
{
	uc_x86_msr m = { .rid = id };
	if (uc_reg_read(uc, UC_X86_REG_MSR, &m) != UC_ERR_OK)
		return -EIO;
	*val = m.value;
	return 0;
}

static int msr_write(uc_engine *uc, uint32_t id, uint64_t val)
{
	uc_x86_msr m = { .rid = id, .value = val };
	return uc_reg_write(uc, UC_X86_REG_MSR, &m) == UC_ERR_OK ? 0 : -EINVAL;
}

/* CR8 is the LAPIC's task priority (TPR bits 7:4), as on hardware, in
 * xAPIC and x2APIC mode alike. Unicorn 2.1 refuses CR8 in its register
 * API, and its guest `mov %cr8` reads 0 (QEMU's APIC hook is cut out), so
 * the LAPIC model holds the value. */
static int cr8_read(struct vcpu *v, uint64_t *val)
{
	*val = (lapic_tpr(v->lapic) >> 4) & 0xf;
	return 0;
}

static int cr8_write(struct vcpu *v, uint64_t val)
{
	if (val > 0xf)
		return -EINVAL; /* reserved bits: #GP on hardware */
	lapic_set_tpr(v->lapic, (uint8_t)(val << 4));
	return 0;
}

/* Unicorn 2.1's CR2 write goes through its CR3 update (the same case label
 * serves CR1-CR3), so it also sets CR3 to the value and flushes the TLB:
 * CR3 is put back afterwards. */
static int cr2_write(uc_engine *uc, uint64_t val)
{
	uint64_t cr3 = 0;
	if (uc_reg_read(uc, UC_X86_REG_CR3, &cr3) != UC_ERR_OK ||
	    uc_reg_write(uc, UC_X86_REG_CR2, &val) != UC_ERR_OK)
		return -EIO;
	return uc_reg_write(uc, UC_X86_REG_CR3, &cr3) == UC_ERR_OK ? 0 : -EIO;
}

/* DR0-DR3, DR6, DR7: the index n of DRn, or -1. */
static int debug_reg_index(enum vm_reg_name r)
{
	switch (r) {
	case VM_REG_GUEST_DR0: return 0;
	case VM_REG_GUEST_DR1: return 1;
	case VM_REG_GUEST_DR2: return 2;
	case VM_REG_GUEST_DR3: return 3;
	case VM_REG_GUEST_DR6: return 6;
	case VM_REG_GUEST_DR7: return 7;
	default: return -1;
	}
}

int tcg_get_reg(struct vcpu *v, enum vm_reg_name r, uint64_t *val)
{
	uc_engine *uc = tcg_of(v)->uc;
	int dr = debug_reg_index(r);
	if (dr >= 0) {
		*val = tcg_uc_get(uc, UC_X86_REG_DR0 + dr);
		return 0;
	}
	if (r == VM_REG_GUEST_CR8)
		return cr8_read(v, val);
	if (r == VM_REG_GUEST_EFER)
		return msr_read(uc, MSR_EFER, val);
	if (r == VM_REG_GUEST_KGS_BASE)
		return msr_read(uc, MSR_KERNEL_GS_BASE, val);
	if (r == VM_REG_GUEST_LDTR || r == VM_REG_GUEST_TR) {
		uc_x86_mmr m = { 0 };
		if (uc_reg_read(uc, mmr_reg_of(r), &m) != UC_ERR_OK)
			return -EIO;
		*val = m.selector;
		return 0;
	}
	int ur = uc_reg_of(r);
	if (ur == UC_X86_REG_INVALID)
		return -EINVAL;
	uint64_t x = 0;
	if (uc_reg_read(uc, ur, &x) != UC_ERR_OK)
		return -EIO;
	if (r >= VM_REG_GUEST_ES && r <= VM_REG_GUEST_GS)
		x &= 0xffff;
	*val = x;
	return 0;
}

#define EFER_LMA (1ULL << 10)
#define CR0_PE 1ULL
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define GDT_ENTRY_BYTES 8


bool tcg_in_long_mode(uc_engine *uc)
{
	uint64_t efer = 0;
	return msr_read(uc, MSR_EFER, &efer) == 0 && (efer & EFER_LMA);
}

/*
 * EFER.LMA is not writable (QEMU's WRMSR keeps it) and follows CR0.PG as on
 * a CPU; a fresh 64-bit Unicorn engine even starts with LMA set and paging
 * off. To leave long mode with paging off (a 32-bit or real-mode entry:
 * PVH, Multiboot, INIT/SIPI), paging is turned on and off again through
 * QEMU's CR0 update, whose "exit long mode" path clears LMA; nothing is
 * translated in between.
 */
static int efer_write(uc_engine *uc, uint64_t val)
{
	if (msr_write(uc, MSR_EFER, val) < 0)
		return -EINVAL;
	uint64_t cr0 = tcg_uc_get(uc, UC_X86_REG_CR0);
	bool lma = tcg_in_long_mode(uc);
	if (lma && !(val & EFER_LMA)) {
		if (cr0 & CR0_PG)
			return -EINVAL; /* long mode with paging: #GP */
		uint64_t cr4 = tcg_uc_get(uc, UC_X86_REG_CR4);
		tcg_uc_set(uc, UC_X86_REG_CR4, cr4 | CR4_PAE);
		tcg_uc_set(uc, UC_X86_REG_CR0, cr0 | CR0_PE | CR0_PG);
		tcg_uc_set(uc, UC_X86_REG_CR0, cr0);
		tcg_uc_set(uc, UC_X86_REG_CR4, cr4);
		return tcg_in_long_mode(uc) ? -EINVAL : 0;
	}
	return 0;
}

static int qemu_seg_index(enum vm_reg_name r)
{
	switch (r) {
	case VM_REG_GUEST_ES: return 0;
	case VM_REG_GUEST_CS: return 1;
	case VM_REG_GUEST_SS: return 2;
	case VM_REG_GUEST_DS: return 3;
	case VM_REG_GUEST_FS: return 4;
	case VM_REG_GUEST_GS: return 5;
	default: return -1;
	}
}

/*
 * Outside long mode a selector write loads the hidden part as `mov` does
 * (tcg_load_segment): that is how a vCPU gets into 32-bit protected or real
 * mode. The descriptor is read through hvgdb's own walk first, so that
 * QEMU never faults on it outside guest execution. In long mode only the
 * selector is stored (Unicorn's 64-bit register API), as before.
 */
static int segment_write(struct vcpu *v, enum vm_reg_name r, uint16_t sel)
{
	uc_engine *uc = tcg_of(v)->uc;
	if (tcg_in_long_mode(uc)) {
		uint64_t x = sel;
		return uc_reg_write(uc, uc_reg_of(r), &x) == UC_ERR_OK ? 0
								       : -EINVAL;
	}
	if (tcg_uc_get(uc, UC_X86_REG_CR0) & CR0_PE) {
		if (r == VM_REG_GUEST_CS && (sel & ~3u) == 0)
			return -EINVAL;
		if (sel & ~3u) {
			uc_x86_mmr table = { 0 };
			uint64_t raw;
			uc_reg_read(uc, (sel & 4) ? UC_X86_REG_LDTR
						  : UC_X86_REG_GDTR, &table);
			if ((uint32_t)(sel & ~7u) + GDT_ENTRY_BYTES - 1 >
				    table.limit ||
			    tcg_read_linear(v, table.base + (sel & ~7u), &raw,
					    sizeof(raw)) < 0)
				return -EINVAL;
		}
	}
	return tcg_load_segment(&tcg_of(v)->cpu, qemu_seg_index(r), sel) == 0
		       ? 0 : -EINVAL;
}

int tcg_set_reg(struct vcpu *v, enum vm_reg_name r, uint64_t val)
{
	uc_engine *uc = tcg_of(v)->uc;
	int dr = debug_reg_index(r);
	if (dr >= 0)
		return tcg_guest_debug_set_dr(tcg_of(v), dr, val);
	if (r == VM_REG_GUEST_CR8)
		return cr8_write(v, val);
	if (r == VM_REG_GUEST_CR2)
		return cr2_write(uc, val);
	if (r == VM_REG_GUEST_EFER)
		return efer_write(uc, val);
	if (r == VM_REG_GUEST_KGS_BASE)
		return msr_write(uc, MSR_KERNEL_GS_BASE, val);
	if (qemu_seg_index(r) >= 0) {
		if (val > 0xffff)
			return -EINVAL;
		return segment_write(v, r, (uint16_t)val);
	}
	if (r == VM_REG_GUEST_LDTR || r == VM_REG_GUEST_TR) {
		uc_x86_mmr m = { 0 };
		if (uc_reg_read(uc, mmr_reg_of(r), &m) != UC_ERR_OK)
			return -EIO;
		m.selector = (uint16_t)val;
		return uc_reg_write(uc, mmr_reg_of(r), &m) == UC_ERR_OK
			       ? 0 : -EINVAL;
	}
	int ur = uc_reg_of(r);
	if (ur == UC_X86_REG_INVALID)
		return -EINVAL;
	/* A debugger that moves a halted vCPU means to run it from there. */
	if (r == VM_REG_GUEST_RIP && tcg_of(v)->in_hlt) {
		tcg_of(v)->in_hlt = false;
		vcpu_set_halted(v, false);
	}
	/* The guest's RFLAGS bit 1 always reads as one. */
	if (r == VM_REG_GUEST_RFLAGS)
		val |= 2;
	return uc_reg_write(uc, ur, &val) == UC_ERR_OK ? 0 : -EINVAL;
}

/* ---- Linear memory ------------------------------------------------------- */

static int linear_copy(struct vcpu *v, uint64_t gla, void *buf,
		       const void *src, size_t len)
{
	while (len > 0) {
		uint64_t gpa;
		int rc = vcpu_gla2gpa(v, gla, src ? VM_PROT_WRITE : VM_PROT_READ,
				      &gpa);
		if (rc < 0)
			return -EFAULT;
		size_t chunk = 4096 - (gla & 4095);
		if (chunk > len)
			chunk = len;
		/* Writes here are event frames on the guest stack, never
		 * code: skip vm_write_gpa's translation-cache bookkeeping. */
		uint8_t *host = vm_map_gpa(v->vm, gpa, chunk);
		if (!host)
			return -EFAULT;
		if (src)
			memcpy(host, src, chunk);
		else
			memcpy(buf, host, chunk);
		gla += chunk;
		len -= chunk;
		if (src)
			src = (const uint8_t *)src + chunk;
		else
			buf = (uint8_t *)buf + chunk;
	}
	return 0;
}

int tcg_read_linear(struct vcpu *v, uint64_t gla, void *buf, size_t len)
{
	return linear_copy(v, gla, buf, NULL, len);
}

int tcg_write_linear(struct vcpu *v, uint64_t gla, const void *buf, size_t len)
{
	return linear_copy(v, gla, NULL, buf, len);
}

/* ---- Descriptors --------------------------------------------------------- */

/* uc_x86_mmr.flags is QEMU's SegmentCache.flags: the descriptor's high
 * dword (type bits 8-11, S 12, DPL 13-14, P 15, AVL 20, L 21, D/B 22, G
 * 23); seg_desc.access is VMX access rights (the same fields from bit 0
 * and bit 12). QEMU aborts the process when it delivers an event through
 * a TR whose flags say not present, so the formats must not be mixed. */
static uint32_t qemu_flags_of_access(uint32_t access)
{
	return ((access & 0xff) << 8) | ((access & 0xf000) << 8);
}

#define ACCESS_UNUSABLE (1u << 16)
#define QEMU_FLAGS_P (1u << 15)

/* QEMU keeps the loaded TSS's type "available" (ltr marks it busy only in
 * the GDT) and its 32-bit delivery aborts on any other type. */
#define TSS_TYPE_BUSY_BIT 0x2u

static uint32_t qemu_tr_flags_of_access(uint32_t access)
{
	return qemu_flags_of_access(access & ~TSS_TYPE_BUSY_BIT);
}

/* Hidden part rebuilt from the descriptor table entry of the selector. */
static void desc_from_table(struct vcpu *v, uint16_t sel, struct seg_desc *d)
{
	uc_engine *uc = tcg_of(v)->uc;
	memset(d, 0, sizeof(*d));
	if ((sel & ~3u) == 0) {
		d->access = 1u << 16; /* unusable */
		return;
	}
	uc_x86_mmr table = { 0 };
	uc_reg_read(uc, (sel & 4) ? UC_X86_REG_LDTR : UC_X86_REG_GDTR, &table);
	uint64_t raw = 0;
	if ((uint32_t)(sel & ~7u) + 7 > table.limit ||
	    tcg_read_linear(v, table.base + (sel & ~7u), &raw, 8) < 0) {
		d->access = 1u << 16;
		return;
	}
	uint32_t limit = (uint32_t)((raw & 0xffff) | ((raw >> 32) & 0xf0000));
	if (raw & (1ULL << 55))
		limit = (limit << 12) | 0xfff;
	d->limit = limit;
	d->base = ((raw >> 16) & 0xffffff) | (((raw >> 56) & 0xff) << 24);
	d->access = (uint32_t)(((raw >> 40) & 0xff) | (((raw >> 52) & 0xf) << 12));
}

/*
 * What QEMU adds to RIP for a block's linear address (a block hook's
 * `addr`, tb->pc): CS's base as loaded, from the segment cache, in every
 * mode. Not the descriptor the selector names now: right after a mode
 * switch (mov %cr0 setting PE, before the far jump that reloads CS) the
 * selector is still the real-mode one and the GDT has nothing for it,
 * and a stop there resumed the vCPU at the wrong place (a Linux AP in its
 * trampoline, kicked by another vCPU, ran into garbage). The read cannot
 * fail: no engine starts before the start-up self-test has found the
 * cache (tcg_cpu_internals_check in tcg_vcpu_init).
 */
uint64_t tcg_code_base(struct vcpu *v)
{
	struct tcg_segment_cache c = { 0 };
	tcg_read_segment_cache(&tcg_of(v)->cpu, qemu_seg_index(VM_REG_GUEST_CS),
			       &c);
	return c.base;
}

/* QEMU's descriptor flags to VMX access rights; not present reads as
 * unusable (a null selector's load leaves P clear, as VMX marks it). */
static uint32_t access_of_qemu_flags(uint32_t flags)
{
	uint32_t access = ((flags >> 8) & 0xff) | ((flags >> 8) & 0xf000);
	if (!(access & 0x80))
		access |= ACCESS_UNUSABLE;
	return access;
}

/* TSS types: available 1 (16-bit) and 9 (32/64-bit); busy adds bit 1. */
#define TSS16_AVAILABLE 0x1u
#define TSS_AVAILABLE 0x9u

int tcg_get_desc(struct vcpu *v, enum vm_reg_name r, struct seg_desc *d)
{
	uc_engine *uc = tcg_of(v)->uc;
	int mr = mmr_reg_of(r);
	if (mr != UC_X86_REG_INVALID) {
		uc_x86_mmr m = { 0 };
		if (uc_reg_read(uc, mr, &m) != UC_ERR_OK)
			return -EIO;
		d->base = m.base;
		d->limit = m.limit;
		d->access = 0;
		if (r == VM_REG_GUEST_LDTR)
			d->access = access_of_qemu_flags(m.flags);
		/* a loaded TSS is busy, as the CPU has it; QEMU keeps it
		 * "available" (see qemu_tr_flags_of_access) */
		if (r == VM_REG_GUEST_TR) {
			d->access = access_of_qemu_flags(m.flags);
			uint32_t type = d->access & 0xf;
			if (type == TSS16_AVAILABLE || type == TSS_AVAILABLE)
				d->access |= TSS_TYPE_BUSY_BIT;
		}
		return 0;
	}
	uint64_t sel;
	int rc = tcg_get_reg(v, r, &sel);
	if (rc < 0)
		return rc;
	/* A cache never loaded (a 64-bit engine starts with zeros, and its
	 * selector writes store the selector alone) holds a selector that
	 * is not null with P clear, which no load leaves: its descriptor in
	 * the table is what the vCPU would load. */
	struct tcg_segment_cache c;
	if (tcg_read_segment_cache(&tcg_of(v)->cpu, qemu_seg_index(r), &c) == 0 &&
	    ((c.flags & QEMU_FLAGS_P) || (sel & ~3u) == 0)) {
		d->base = c.base;
		d->limit = c.limit;
		d->access = access_of_qemu_flags(c.flags);
	} else {
		desc_from_table(v, (uint16_t)sel, d);
	}
	uint64_t efer = 0;
	msr_read(uc, MSR_EFER, &efer);
	if (efer & (1u << 10)) { /* IA-32e: bases are flat but FS/GS */
		if (r == VM_REG_GUEST_FS)
			tcg_get_reg(v, VM_REG_GUEST_FS_BASE, &d->base);
		else if (r == VM_REG_GUEST_GS)
			tcg_get_reg(v, VM_REG_GUEST_GS_BASE, &d->base);
		else
			d->base = 0;
	}
	return 0;
}

int tcg_set_desc(struct vcpu *v, enum vm_reg_name r, const struct seg_desc *d)
{
	uc_engine *uc = tcg_of(v)->uc;
	int mr = mmr_reg_of(r);
	if (mr == UC_X86_REG_INVALID) {
		/* a 64-bit engine's selector writes leave the cache as it was:
		 * the hidden part goes there directly */
		struct tcg_segment_cache c = {
			.base = d->base, .limit = d->limit,
			.flags = (d->access & ACCESS_UNUSABLE)
					 ? 0 : qemu_flags_of_access(d->access),
		};
		return tcg_write_segment_cache(&tcg_of(v)->cpu,
					       qemu_seg_index(r), &c) == 0
			       ? 0 : -ENOTSUP;
	}
	if ((r == VM_REG_GUEST_GDTR || r == VM_REG_GUEST_IDTR) &&
	    d->limit > 0xffff)
		return -EINVAL; /* a 16-bit limit */
	uc_x86_mmr m = { 0 };
	if (uc_reg_read(uc, mr, &m) != UC_ERR_OK)
		return -EIO;
	m.base = d->base;
	m.limit = d->limit;
	if (r == VM_REG_GUEST_TR)
		m.flags = qemu_tr_flags_of_access(d->access);
	else if (r == VM_REG_GUEST_LDTR)
		m.flags = qemu_flags_of_access(d->access);
	return uc_reg_write(uc, mr, &m) == UC_ERR_OK ? 0 : -EINVAL;
}

/* ---- x87 / SSE ----------------------------------------------------------- */

/* UC_X86_REG_FPn is physical register n; GDB's st(i) is relative to TOP. */
int tcg_get_fpregs(struct vcpu *v, struct vm_fpregs *fp)
{
	uc_engine *uc = tcg_of(v)->uc;
	memset(fp, 0, sizeof(*fp));
	uint64_t x = 0;
	uc_reg_read(uc, UC_X86_REG_FPCW, &x);
	fp->fctrl = (uint32_t)(x & 0xffff);
	x = 0;
	uc_reg_read(uc, UC_X86_REG_FPSW, &x);
	fp->fstat = (uint32_t)(x & 0xffff);
	x = 0;
	uc_reg_read(uc, UC_X86_REG_FPTAG, &x);
	fp->ftag = (uint32_t)(x & 0xffff);
	unsigned top = (fp->fstat >> 11) & 7;
	for (unsigned i = 0; i < 8; i++) {
		uint8_t raw[16] = { 0 };
		uc_reg_read(uc, UC_X86_REG_FP0 + (int)((top + i) & 7), raw);
		memcpy(fp->st[i], raw, 10);
	}
	for (int i = 0; i < 16; i++)
		uc_reg_read(uc, UC_X86_REG_XMM0 + i, fp->xmm[i]);
	x = 0;
	uc_reg_read(uc, UC_X86_REG_MXCSR, &x);
	fp->mxcsr = (uint32_t)x;
	return 0;
}

int tcg_set_fpregs(struct vcpu *v, const struct vm_fpregs *fp)
{
	uc_engine *uc = tcg_of(v)->uc;
	uint64_t x = fp->fctrl & 0xffff;
	if (uc_reg_write(uc, UC_X86_REG_FPCW, &x) != UC_ERR_OK)
		return -EINVAL;
	x = fp->fstat & 0xffff;
	uc_reg_write(uc, UC_X86_REG_FPSW, &x);
	x = fp->ftag & 0xffff;
	uc_reg_write(uc, UC_X86_REG_FPTAG, &x);
	unsigned top = (fp->fstat >> 11) & 7;
	for (unsigned i = 0; i < 8; i++) {
		uint8_t raw[16] = { 0 };
		memcpy(raw, fp->st[i], 10);
		uc_reg_write(uc, UC_X86_REG_FP0 + (int)((top + i) & 7), raw);
	}
	for (int i = 0; i < 16; i++)
		uc_reg_write(uc, UC_X86_REG_XMM0 + i, fp->xmm[i]);
	x = fp->mxcsr;
	return uc_reg_write(uc, UC_X86_REG_MXCSR, &x) == UC_ERR_OK ? 0
								   : -EINVAL;
}
