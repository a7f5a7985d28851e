/*
 * The debug server's view of a VM: struct gdb_target_ops implemented over
 * the public VM API. ctx is the struct vm itself, so there is no state here.
 */
#include "cli/gdb_target.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hvgdb/vmm.h"

/* Where the VM keeps each GDB register: the place column of the register
 * table (hvgdb/gdb_x86_regs.h). */
enum reg_home {
	IN_VM_REG,   /* a VM register (vm_get_register) */
	IN_FP_BYTES, /* bytes of struct vm_fpregs, as they are */
	IN_FP_WORD,  /* a uint32_t of struct vm_fpregs, little-endian on
			the wire */
	IN_DESC,     /* a field of a hidden part (vm_get_desc) */
};

enum desc_field { DESC_BASE, DESC_LIMIT, DESC_ACCESS };

struct reg_place_def {
	enum reg_home home;
	enum vm_reg_name vm_reg; /* IN_VM_REG, IN_DESC */
	size_t fp_offset;        /* IN_FP_* */
	enum desc_field field;   /* IN_DESC */
};

#define VM(r) { .home = IN_VM_REG, .vm_reg = VM_REG_GUEST_##r }
#define FP_BYTES(f) \
	{ .home = IN_FP_BYTES, .fp_offset = offsetof(struct vm_fpregs, f) }
#define FP_WORD(f) \
	{ .home = IN_FP_WORD, .fp_offset = offsetof(struct vm_fpregs, f) }
#define DESC_FIELD_base DESC_BASE
#define DESC_FIELD_limit DESC_LIMIT
#define DESC_FIELD_access DESC_ACCESS
#define DESC(r, f)                                                  \
	{ .home = IN_DESC, .vm_reg = VM_REG_GUEST_##r,              \
	  .field = DESC_FIELD_##f }
static const struct reg_place_def reg_places[GDB_REG_COUNT] = {
#define GDB_X86_REG_PLACE(ID, name, bits, type, group, feature, place) \
	[GDB_REG_##ID] = place,
	GDB_X86_REGS(GDB_X86_REG_PLACE)
#undef GDB_X86_REG_PLACE
};
#undef VM
#undef FP_BYTES
#undef FP_WORD
#undef DESC

/* Where the VM keeps a register, it has room for all the table says it
 * holds (VM registers are 64-bit). */
#define VM(r) sizeof(uint64_t)
#define FP_BYTES(f) sizeof(((struct vm_fpregs *)0)->f)
#define FP_WORD(f) sizeof(((struct vm_fpregs *)0)->f)
#define DESC(r, f) sizeof(((struct seg_desc *)0)->f)
#define GDB_X86_REG_FITS_HOME(ID, name, bits, type, group, feature, place) \
	_Static_assert((bits) / 8 <= (place), name " fits its VM home");
GDB_X86_REGS(GDB_X86_REG_FITS_HOME)
#undef GDB_X86_REG_FITS_HOME
#undef VM
#undef FP_BYTES
#undef FP_WORD
#undef DESC
#undef DESC_FIELD_base
#undef DESC_FIELD_limit
#undef DESC_FIELD_access

static bool is_fp_reg(int regno)
{
	return reg_places[regno].home == IN_FP_BYTES ||
	       reg_places[regno].home == IN_FP_WORD;
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void fp_copy_out(const struct vm_fpregs *fp, int regno, uint8_t *val,
			unsigned size)
{
	const uint8_t *field = (const uint8_t *)fp + reg_places[regno].fp_offset;

	/* The 4-byte words are host integers; encode them explicitly. */
	if (reg_places[regno].home == IN_FP_WORD) {
		uint32_t word;
		memcpy(&word, field, sizeof(word));
		put_le(val, word, size);
	} else {
		memcpy(val, field, size);
	}
}

static void fp_copy_in(struct vm_fpregs *fp, int regno, const uint8_t *val,
		       unsigned size)
{
	uint8_t *field = (uint8_t *)fp + reg_places[regno].fp_offset;

	if (reg_places[regno].home == IN_FP_WORD) {
		uint32_t word = (uint32_t)get_le(val, size);
		memcpy(field, &word, sizeof(word));
	} else {
		memcpy(field, val, size);
	}
}

static unsigned target_vcpu_count(void *ctx)
{
	return vm_vcpu_count(ctx);
}

static bool valid_vcpu(struct vm *vm, int vcpu)
{
	return vcpu >= 0 && (unsigned)vcpu < vm_vcpu_count(vm);
}

/* Where a gdb register number lives for one vCPU: in the FPU state (then
 * read into fp_state already) or in a VM register. */
struct reg_place {
	unsigned size; /* on the wire */
	bool fp;
	struct vm_fpregs fp_state;
	enum vm_reg_name reg;
	bool desc; /* a field of reg's hidden part */
	enum desc_field field;
};

static int find_reg(struct vm *vm, int vcpu, int regno, struct reg_place *p)
{
	p->size = gdb_x86_reg_size(regno);
	if (!p->size || !valid_vcpu(vm, vcpu))
		return -EINVAL;
	p->fp = is_fp_reg(regno);
	if (p->fp)
		return vm_get_fpregs(vm, vcpu, &p->fp_state);
	p->reg = reg_places[regno].vm_reg;
	p->desc = reg_places[regno].home == IN_DESC;
	p->field = reg_places[regno].field;
	return 0;
}

static uint64_t desc_get(const struct seg_desc *d, enum desc_field f)
{
	switch (f) {
	case DESC_BASE:
		return d->base;
	case DESC_LIMIT:
		return d->limit;
	case DESC_ACCESS:
		break;
	}
	return d->access;
}

/*
 * The hidden part of a segment register with one field changed. Refused
 * (unless it is the value already there): the hidden parts of cs..gs,
 * whose attributes the vCPU's mode follows and which only a selector load
 * sets consistently, and the attributes of tr and ldtr (Unicorn aborts the
 * process on an event through a TSS that is not one). What is left: the
 * bases and limits of gdtr, idtr, tr and ldtr.
 */
static int desc_write(struct vm *vm, int vcpu, const struct reg_place *p,
		      uint64_t v)
{
	struct seg_desc d;
	int rc = vm_get_desc(vm, vcpu, p->reg, &d);

	if (rc)
		return rc;
	if (desc_get(&d, p->field) == v)
		return 0;
	bool segment = p->reg >= VM_REG_GUEST_ES && p->reg <= VM_REG_GUEST_GS;
	if (segment || p->field == DESC_ACCESS)
		return -EPERM;
	if (p->field == DESC_BASE)
		d.base = v;
	else
		d.limit = (uint32_t)v;
	return vm_set_desc(vm, vcpu, p->reg, &d);
}

static int target_read_reg(void *ctx, int vcpu, int regno, uint8_t *val)
{
	struct vm *vm = ctx;
	struct reg_place p;
	uint64_t v;
	int rc = find_reg(vm, vcpu, regno, &p);

	if (rc)
		return rc;
	if (p.fp) {
		fp_copy_out(&p.fp_state, regno, val, p.size);
		return 0;
	}
	if (p.desc) {
		struct seg_desc d;
		rc = vm_get_desc(vm, vcpu, p.reg, &d);
		if (rc)
			return rc;
		put_le(val, desc_get(&d, p.field), p.size);
		return 0;
	}
	rc = vm_get_register(vm, vcpu, p.reg, &v);
	if (rc)
		return rc;
	put_le(val, v, p.size);
	return 0;
}

/* One FPU read for all its registers: reading it per register made a 'g'
 * about 900 engine register reads (~8 us of each breakpoint stop); and
 * one read of each hidden part for its base, limit and attributes. */
static void target_read_all_regs(void *ctx, int vcpu,
				 uint8_t vals[GDB_REG_COUNT][GDB_REG_MAX_SIZE],
				 int rc[GDB_REG_COUNT])
{
	struct vm *vm = ctx;
	struct vm_fpregs fp;
	int fp_rc = valid_vcpu(vm, vcpu) ? vm_get_fpregs(vm, vcpu, &fp)
					 : -EINVAL;
	struct seg_desc desc[VM_REG_LAST];
	int desc_rc[VM_REG_LAST];
	bool desc_read[VM_REG_LAST] = { false };

	for (int regno = 0; regno < GDB_REG_COUNT; regno++) {
		const struct reg_place_def *place = &reg_places[regno];
		if (place->home == IN_DESC && valid_vcpu(vm, vcpu)) {
			enum vm_reg_name r = place->vm_reg;
			if (!desc_read[r]) {
				desc_rc[r] = vm_get_desc(vm, vcpu, r, &desc[r]);
				desc_read[r] = true;
			}
			rc[regno] = desc_rc[r];
			if (desc_rc[r] == 0)
				put_le(vals[regno],
				       desc_get(&desc[r], place->field),
				       gdb_x86_reg_size(regno));
			continue;
		}
		if (!is_fp_reg(regno)) {
			rc[regno] = target_read_reg(ctx, vcpu, regno,
						    vals[regno]);
			continue;
		}
		rc[regno] = fp_rc;
		if (fp_rc == 0)
			fp_copy_out(&fp, regno, vals[regno],
				    gdb_x86_reg_size(regno));
	}
}

#define CR0_PE (1ULL << 0)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LMA (1ULL << 10)

/* What the CPU would refuse with #GP in long mode (SDM 2.5, 9.8.5):
 * turning paging or protection off from 64-bit code, or PAE off. Unicorn
 * takes such writes and leaves a vCPU that is neither in nor out of long
 * mode; we refuse them instead. */
static bool leaves_long_mode(struct vm *vm, int vcpu, enum vm_reg_name reg,
			     uint64_t v)
{
	uint64_t efer;

	if (reg != VM_REG_GUEST_CR0 && reg != VM_REG_GUEST_CR4)
		return false;
	if (vm_get_register(vm, vcpu, VM_REG_GUEST_EFER, &efer) ||
	    !(efer & EFER_LMA))
		return false;
	if (reg == VM_REG_GUEST_CR0)
		return !(v & CR0_PG) || !(v & CR0_PE);
	return !(v & CR4_PAE);
}

static bool is_system_reg(enum vm_reg_name reg)
{
	return reg == VM_REG_GUEST_CR0 || reg == VM_REG_GUEST_CR4 ||
	       reg == VM_REG_GUEST_CR8 || reg == VM_REG_GUEST_EFER;
}

/* Control registers and EFER hold bits the CPU model fixes or derives
 * (EFER.LMA follows CR0.PG and LME; NXE may not stick): a write that does
 * not read back as written is undone and refused, so the debugger is never
 * told OK for a value the vCPU does not have. */
static int write_system_reg(struct vm *vm, int vcpu, enum vm_reg_name reg,
			    uint64_t v)
{
	uint64_t old, now;
	int rc;

	if (leaves_long_mode(vm, vcpu, reg, v))
		return -EINVAL;
	rc = vm_get_register(vm, vcpu, reg, &old);
	if (rc)
		return rc;
	rc = vm_set_register(vm, vcpu, reg, v);
	if (rc)
		return rc;
	rc = vm_get_register(vm, vcpu, reg, &now);
	if (rc == 0 && now == v)
		return 0;
	vm_set_register(vm, vcpu, reg, old);
	return -EINVAL;
}

static int target_write_reg(void *ctx, int vcpu, int regno,
			    const uint8_t *val)
{
	struct vm *vm = ctx;
	struct reg_place p;
	int rc = find_reg(vm, vcpu, regno, &p);

	if (rc)
		return rc;
	if (p.fp) {
		fp_copy_in(&p.fp_state, regno, val, p.size);
		return vm_set_fpregs(vm, vcpu, &p.fp_state);
	}
	uint64_t v = get_le(val, p.size);
	if (p.desc)
		return desc_write(vm, vcpu, &p, v);
	/* eflags and the selectors are 4 bytes on the wire: keep the upper
	 * bits the register really has (all reserved zero today). */
	if (p.size < 8) {
		uint64_t old;

		rc = vm_get_register(vm, vcpu, p.reg, &old);
		if (rc)
			return rc;
		v |= old & ~((1ULL << (8 * p.size)) - 1);
	}
	if (is_system_reg(p.reg))
		return write_system_reg(vm, vcpu, p.reg, v);
	return vm_set_register(vm, vcpu, p.reg, v);
}

/*
 * The debugger sees what the kernel sees: translate with supervisor rights
 * and read-only intent whatever the access, so a breakpoint can go into
 * read-only text and user-mode stops still show kernel memory. Only a
 * missing mapping fails.
 */
static int target_translate(void *ctx, int vcpu, uint64_t gla, int prot,
			    uint64_t *gpa)
{
	struct vm *vm = ctx;
	struct vm_guest_paging pg;
	enum vm_gla_fault fault;
	int rc;

	(void)prot;
	if (!valid_vcpu(vm, vcpu))
		return -EINVAL;
	rc = vm_get_guest_paging(vm, vcpu, &pg);
	if (rc)
		return rc;
	pg.cpl = 0;
	rc = vm_gla2gpa(vm, vcpu, &pg, gla, VM_PROT_READ, gpa, &fault);
	if (rc)
		return rc;
	return fault == VM_GLA_OK ? 0 : -EFAULT;
}

static int target_read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vm_read_gpa(ctx, gpa, buf, len);
}

static int target_write_phys(void *ctx, uint64_t gpa, const void *buf,
			     size_t len)
{
	return vm_write_gpa(ctx, gpa, buf, len);
}

static int target_peek_device(void *ctx, int vcpu, uint64_t gpa, void *buf,
			      size_t len)
{
	return vm_peek_device(ctx, vcpu, gpa, buf, len);
}

static int target_in_paging_structures(void *ctx, uint64_t gpa)
{
	return vm_gpa_in_paging_structures(ctx, gpa);
}

static int vm_cap_for(enum gdb_cap cap, enum vm_cap_type *out)
{
	switch (cap) {
	case GDB_CAP_BPT_EXIT:
		*out = VM_CAP_BPT_EXIT;
		return 0;
	case GDB_CAP_MTRAP_EXIT:
		*out = VM_CAP_MTRAP_EXIT;
		return 0;
	case GDB_CAP_RFLAGS_TF:
		*out = VM_CAP_RFLAGS_TF;
		return 0;
	case GDB_CAP_MASK_HWINTR:
		*out = VM_CAP_MASK_HWINTR;
		return 0;
	}
	return -ENOENT;
}

static int target_set_cap(void *ctx, int vcpu, enum gdb_cap cap, bool on)
{
	struct vm *vm = ctx;
	enum vm_cap_type vcap;
	int rc = vm_cap_for(cap, &vcap);

	if (rc)
		return rc;
	if (vcpu == -1) {
		for (unsigned i = 0; i < vm_vcpu_count(vm); i++) {
			rc = vm_set_capability(vm, (int)i, vcap, on);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!valid_vcpu(vm, vcpu))
		return -EINVAL;
	return vm_set_capability(vm, vcpu, vcap, on);
}

static bool target_has_cap(void *ctx, enum gdb_cap cap)
{
	enum vm_cap_type vcap;
	int val;

	if (vm_cap_for(cap, &vcap))
		return false;
	return vm_get_capability(ctx, 0, vcap, &val) != -ENOENT;
}

static void target_suspend(void *ctx, int vcpu)
{
	vm_suspend_cpu(ctx, vcpu);
}

static void target_resume(void *ctx, int vcpu)
{
	vm_resume_cpu(ctx, vcpu);
}

static int target_get_entry_inst_length(void *ctx, int vcpu, int *len)
{
	uint64_t v;
	int rc = vm_get_register(ctx, vcpu, VM_REG_GUEST_ENTRY_INST_LENGTH,
				 &v);

	if (rc)
		return rc;
	*len = (int)v;
	return 0;
}

static int target_set_entry_inst_length(void *ctx, int vcpu, int len)
{
	if (len < 0)
		return -EINVAL;
	return vm_set_register(ctx, vcpu, VM_REG_GUEST_ENTRY_INST_LENGTH,
			       (uint64_t)len);
}

/* Only #BP is re-injected: a trap, so the return RIP is past the int3. */
static int target_inject_exception(void *ctx, int vcpu, int vector)
{
	return vm_inject_exception(ctx, vcpu, vector, 0, 0, 0);
}

static const char *mode_name(enum vm_cpu_mode mode)
{
	switch (mode) {
	case CPU_MODE_REAL:
		return "real";
	case CPU_MODE_PROTECTED:
		return "protected";
	case CPU_MODE_COMPATIBILITY:
		return "compat";
	case CPU_MODE_64BIT:
		return "64-bit";
	}
	return "unknown";
}

static int target_vcpu_status(void *ctx, int vcpu, struct gdb_vcpu_status *st)
{
	struct vm *vm = ctx;
	struct vm_vcpu_info info;
	struct vm_guest_paging pg;
	int rc;

	if (!valid_vcpu(vm, vcpu))
		return -EINVAL;
	rc = vm_get_vcpu_info(vm, vcpu, &info);
	if (rc)
		return rc;
	rc = vm_get_guest_paging(vm, vcpu, &pg);
	if (rc)
		return rc;
	st->halted = info.halted;
	st->waiting_for_sipi = info.waiting_for_sipi;
	st->mode = mode_name(pg.cpu_mode);
	return 0;
}

static void target_kill(void *ctx)
{
	vm_request_shutdown(ctx, VM_SHUTDOWN_REQUESTED, 0);
}

static enum vm_watch_kind watch_kind(enum gdb_watch_type type)
{
	switch (type) {
	case GDB_HW_BREAKPOINT:
		return VM_WATCH_EXEC;
	case GDB_WATCH_WRITE:
		return VM_WATCH_WRITE;
	case GDB_WATCH_READ:
		return VM_WATCH_READ;
	case GDB_WATCH_ACCESS:
		break;
	}
	return VM_WATCH_ACCESS;
}

static int target_insert_watch(void *ctx, enum gdb_watch_type type,
			       uint64_t addr, uint64_t len)
{
	return vm_watch_insert(ctx, watch_kind(type), addr, len);
}

static int target_remove_watch(void *ctx, enum gdb_watch_type type,
			       uint64_t addr, uint64_t len)
{
	return vm_watch_remove(ctx, watch_kind(type), addr, len);
}

static void target_watch_limits(void *ctx, unsigned *hw_breakpoints,
				unsigned *watchpoints, uint64_t *max_len)
{
	(void)ctx;
	*hw_breakpoints = VM_MAX_HW_BREAKPOINTS;
	*watchpoints = VM_MAX_WATCHPOINTS;
	*max_len = VM_MAX_WATCH_LEN;
}

const struct gdb_target_ops gdb_target_vm_ops = {
	.vcpu_count = target_vcpu_count,
	.read_reg = target_read_reg,
	.write_reg = target_write_reg,
	.read_all_regs = target_read_all_regs,
	.translate = target_translate,
	.read_phys = target_read_phys,
	.write_phys = target_write_phys,
	.peek_device = target_peek_device,
	.in_paging_structures = target_in_paging_structures,
	.set_cap = target_set_cap,
	.has_cap = target_has_cap,
	.suspend = target_suspend,
	.resume = target_resume,
	.get_entry_inst_length = target_get_entry_inst_length,
	.set_entry_inst_length = target_set_entry_inst_length,
	.inject_exception = target_inject_exception,
	.vcpu_status = target_vcpu_status,
	.kill = target_kill,
	.insert_watch = target_insert_watch,
	.remove_watch = target_remove_watch,
	.watch_limits = target_watch_limits,
};
