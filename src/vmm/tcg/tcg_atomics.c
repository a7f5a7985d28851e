/*
 * Guest atomics that stay atomic when engines run at once.
 *
 * Unicorn translates every block without QEMU's CF_PARALLEL (its
 * curr_cflags() is 0), so a `lock`-prefixed instruction becomes a plain
 * load, modify and store: two engines executing at the same time lose
 * updates. QEMU's translator already knows the parallel form: under
 * CF_PARALLEL, locked read-modify-writes call host atomics (guest RAM is
 * one host mapping shared by every engine, so host atomics are guest
 * atomics), cmpxchg8b/16b call helpers doing a host `lock cmpxchg8b/16b`,
 * and mfence becomes a host barrier (without CF_PARALLEL it is nothing).
 * Measured on 2.1.1, two engines on two threads over one RAM: `lock
 * inc/xadd/cmpxchg` and `cmpxchg16b` exact only with CF_PARALLEL, and a
 * Peterson lock lost updates without the mfence.
 *
 * What is interposed (all called through libunicorn's PLT or GOT):
 * - tb_gen_code: CF_PARALLEL is ORed into the flags of every translation
 *   (the translator reads them from the block and from the TCG context).
 * - tcg_gen_code, called by tb_gen_code once the block's code exists and
 *   before the block is hashed: the flag is cleared from the block again.
 *   Lookups probe with curr_cflags() = 0; a block hashed with the flag
 *   was never found again by the jump cache or the hash table (an
 *   indirect branch cost ~14 ns more: a call/ret loop went from 0.28 to
 *   1.0 s). The generated code keeps its atomics.
 * - helper_atomic_xchg{b,w_le,l_le,q_le}: Unicorn's are a plain load and
 *   store (atomic_template.h), so `xchg` with memory, the x86 spinlock
 *   primitive, stayed non-atomic. Replaced by a compare-and-swap loop on
 *   QEMU's own cmpxchg helper (host `lock cmpxchg`), given the caller's
 *   return address so that a fault restores the guest state as usual.
 * - cpu_loop_exit_atomic: a locked access QEMU cannot do with a host
 *   atomic (misaligned, or on MMIO) asks for an exclusive step, which
 *   Unicorn does not have (no cpu_exec_step_atomic): the engine re-ran
 *   the instruction forever. Here the engine is stopped with RIP on the
 *   instruction and tcg_run.c runs it alone, translated serially
 *   (tcg_atomics_serial_begin), with every other vCPU out of guest code.
 *
 * TranslationBlock's layout (pc at 0, cflags at 24) is read here: the
 * start-up self-test checks it against the translation it asked for, and
 * checks each interposition's effect (tcg_atomics_selftest).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "vmm/tcg/tcg_atomics.h"
#include "vmm/tcg/tcg_internal.h"

/* QEMU 5.0's flag (include/exec/exec-all.h). */
#define QEMU_CF_PARALLEL 0x00080000u
/* struct TranslationBlock: pc and cs_base (target_ulong), flags (u32),
 * size and icount (u16), cflags. */
#define TB_PC_OFFSET 0
#define TB_CFLAGS_OFFSET 24
/* Blocks a serial step may translate: the one at RIP, and the handler's
 * first block if the instruction faults. */
#define SERIAL_BLOCKS_MAX 8

struct TCGContext;
void *tb_gen_code_x86_64(void *cpu, uint64_t pc, uint64_t cs_base,
			 uint32_t flags, int cflags);
int tcg_gen_code_x86_64(struct TCGContext *s, void *tb);
_Noreturn void cpu_loop_exit_atomic_x86_64(void *cpu, uintptr_t pc);
void tb_phys_invalidate_x86_64(struct TCGContext *s, void *tb,
			       uint64_t page_addr);

uint32_t helper_atomic_cmpxchgb_mmu_x86_64(void *env, uint64_t addr,
					   uint32_t cmpv, uint32_t newv,
					   uint32_t oi, uintptr_t ra);
uint32_t helper_atomic_cmpxchgw_le_mmu_x86_64(void *env, uint64_t addr,
					      uint32_t cmpv, uint32_t newv,
					      uint32_t oi, uintptr_t ra);
uint32_t helper_atomic_cmpxchgl_le_mmu_x86_64(void *env, uint64_t addr,
					      uint32_t cmpv, uint32_t newv,
					      uint32_t oi, uintptr_t ra);
uint64_t helper_atomic_cmpxchgq_le_mmu_x86_64(void *env, uint64_t addr,
					      uint64_t cmpv, uint64_t newv,
					      uint32_t oi, uintptr_t ra);

static void *(*real_tb_gen_code)(void *, uint64_t, uint64_t, uint32_t, int);
static int (*real_tcg_gen_code)(struct TCGContext *, void *);
static void (*real_exit_atomic)(void *, uintptr_t);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
	real_tb_gen_code = (void *(*)(void *, uint64_t, uint64_t, uint32_t,
				      int))dlsym(RTLD_NEXT,
						 "tb_gen_code_x86_64");
	real_tcg_gen_code = (int (*)(struct TCGContext *, void *))dlsym(
		RTLD_NEXT, "tcg_gen_code_x86_64");
	real_exit_atomic = (void (*)(void *, uintptr_t))dlsym(
		RTLD_NEXT, "cpu_loop_exit_atomic_x86_64");
}

/* ---- Translation --------------------------------------------------------- */

struct serial_block {
	struct TCGContext *ctx;
	void *tb;
};

/* Per thread: an engine runs on one thread at a time. */
static _Thread_local bool serial_step;
static _Thread_local struct serial_block serial_blocks[SERIAL_BLOCKS_MAX];
static _Thread_local unsigned serial_count;
static _Thread_local bool serial_overflow;
static _Thread_local unsigned long translations, parallel_translations;
/* The last block translated, and the flags it had while its code was
 * generated (the self-test's layout check). */
static _Thread_local void *last_tb;
static _Thread_local uint64_t last_requested_pc;
static _Thread_local uint32_t last_cflags_at_gen;

/* Serially: during an exclusive step, for an engine with data watches,
 * and for every engine of a VM whose vCPUs execute one at a time (its
 * locked accesses need no host atomics). Engines outside any VM (the
 * self-test's, the unit tests' bare engines) translate in parallel. */
static bool translate_serially(void)
{
	if (serial_step)
		return true;
	struct tcg_vcpu *t = tcg_running_engine();
	return t && t->translate_serial;
}

void *tb_gen_code_x86_64(void *cpu, uint64_t pc, uint64_t cs_base,
			 uint32_t flags, int cflags)
{
	pthread_once(&resolve_once, resolve);
	if (!translate_serially())
		cflags = (int)((uint32_t)cflags | QEMU_CF_PARALLEL);
	last_requested_pc = pc;
	return real_tb_gen_code(cpu, pc, cs_base, flags, cflags);
}

static uint32_t tb_cflags(const void *tb)
{
	uint32_t cf;
	memcpy(&cf, (const uint8_t *)tb + TB_CFLAGS_OFFSET, sizeof(cf));
	return cf;
}

int tcg_gen_code_x86_64(struct TCGContext *s, void *tb)
{
	pthread_once(&resolve_once, resolve);
	int size = real_tcg_gen_code(s, tb);
	/* Negative: tb_gen_code translates again, with the block's flags
	 * as they are, so they stay until the code exists. */
	if (size < 0)
		return size;
	uint32_t cf = tb_cflags(tb);
	translations++;
	if (cf & QEMU_CF_PARALLEL)
		parallel_translations++;
	last_tb = tb;
	last_cflags_at_gen = cf;
	cf &= ~QEMU_CF_PARALLEL;
	memcpy((uint8_t *)tb + TB_CFLAGS_OFFSET, &cf, sizeof(cf));
	if (serial_step) {
		if (serial_count < SERIAL_BLOCKS_MAX)
			serial_blocks[serial_count++] =
				(struct serial_block){ s, tb };
		else
			serial_overflow = true;
	}
	return size;
}

unsigned long tcg_atomics_translations(void)
{
	return translations;
}

unsigned long tcg_atomics_parallel_translations(void)
{
	return parallel_translations;
}

void tcg_atomics_serial_begin(void)
{
	serial_step = true;
	serial_count = 0;
	serial_overflow = false;
}

void tcg_atomics_serial_end(void)
{
	serial_step = false;
	struct tcg_vcpu *t = tcg_running_engine();
	if (serial_overflow && t) {
		tcg_code_buffer_flush(t);
	} else {
		/* Dropping a block twice (the step's own clean-up may have)
		 * is harmless: QEMU finds it no longer hashed. */
		for (unsigned i = 0; i < serial_count; i++)
			tb_phys_invalidate_x86_64(serial_blocks[i].ctx,
						  serial_blocks[i].tb,
						  (uint64_t)-1);
	}
	serial_count = 0;
	serial_overflow = false;
}

void tcg_atomics_before_entry(struct tcg_vcpu *t)
{
	bool serial = !t->vcpu->vm->sched.parallel ||
		      tcg_watch_any_data(&t->watch);
	if (serial == t->translate_serial)
		return;
	/* Under CF_PARALLEL a locked access goes straight to a host atomic
	 * and skips QEMU's watchpoint check (atomic_mmu_lookup has none in
	 * QEMU 5.0): a watch on a spinlock or a reference count would never
	 * fire. Blocks of the other mode must go. */
	t->translate_serial = serial;
	/* Nothing translated yet: nothing to drop (and a flush would zero,
	 * and so make resident, the whole buffer). */
	if (t->code.ctx)
		tcg_code_buffer_flush(t);
}

/* ---- Unicorn's atomic store into code ------------------------------------ */

/*
 * A locked access through a TLB entry marked "not dirty" goes through
 * QEMU's notdirty_write. Unicorn 2.1.1 never marks RAM dirty
 * (cpu_physical_memory_is_clean is `return true`), so that is the first
 * locked write through every newly filled TLB entry, and from
 * atomic_mmu_lookup it passes no memory region: notdirty_write looks one up
 * by the access's VIRTUAL address (uc->memory_mapping) and dereferences
 * the result. A virtual address that is no guest-physical one (a kernel
 * address, or a user heap above the end of RAM: busybox's at 0x39977e90 in
 * 512 MiB) gets NULL, and the process died with SIGSEGV.
 * uc->memory_mapping is find_memory_mapping, whose address libunicorn
 * takes through its GOT: interposed. notdirty_write only reads the
 * region's permissions and priority, and a "not dirty" entry is always
 * guest RAM (the RAM address comes from the TLB), so a lookup made from
 * that call site answers guest RAM's region (mapped at 0, every
 * permission, as every RAM page) whatever the address.
 * The call site is a return address inside libunicorn, learned by the
 * start-up self-test (a locked write through an alias far above its
 * scratch RAM, which only notdirty_write looks up by that address); with
 * none learned hvgdb does not start. Every other lookup (Unicorn's check
 * for unmapped memory after a page walk, by physical address) is left
 * alone: a guest touching memory that does not exist still gets its fault.
 */
struct uc_struct;
void *find_memory_mapping_x86_64(struct uc_struct *uc, uint64_t address);
static void *(*real_find_mapping)(struct uc_struct *, uint64_t);
static pthread_once_t mapping_once = PTHREAD_ONCE_INIT;
/* Written once by the self-test, before any vCPU thread exists. */
static const void *notdirty_lookup_site;
/* The self-test's alias address while it runs (0: not learning). */
static _Thread_local uint64_t learning_alias;
static unsigned long notdirty_lookups;

static void resolve_mapping(void)
{
	real_find_mapping = (void *(*)(struct uc_struct *, uint64_t))dlsym(
		RTLD_NEXT, "find_memory_mapping_x86_64");
}

void *find_memory_mapping_x86_64(struct uc_struct *uc, uint64_t address)
{
	pthread_once(&mapping_once, resolve_mapping);
	const void *site = __builtin_return_address(0);
	if (site == notdirty_lookup_site) {
		__atomic_fetch_add(&notdirty_lookups, 1, __ATOMIC_RELAXED);
		return real_find_mapping(uc, 0);
	}
	void *mr = real_find_mapping(uc, address);
	if (mr || !learning_alias)
		return mr;
	/* The self-test's run: RAM's region whatever the address, so that a
	 * site it does not learn makes a failed check, not a crash. */
	if (address == learning_alias)
		notdirty_lookup_site = site;
	return real_find_mapping(uc, 0);
}

unsigned long tcg_atomics_notdirty_lookups(void)
{
	return __atomic_load_n(&notdirty_lookups, __ATOMIC_RELAXED);
}

/* ---- xchg ---------------------------------------------------------------- */

static _Thread_local unsigned long xchg_calls;

/* The compare-and-swap loop: the first guess is 0 (a free lock), then
 * whatever memory held. */
#define XCHG_BY_CAS(name, cas, type, abi)                                   \
	abi name(void *env, uint64_t addr, abi val, uint32_t oi);           \
	abi name(void *env, uint64_t addr, abi val, uint32_t oi)            \
	{                                                                   \
		uintptr_t ra = (uintptr_t)__builtin_return_address(0);      \
		xchg_calls++;                                               \
		type guess = 0;                                             \
		for (;;) {                                                  \
			type old = (type)cas(env, addr, guess, (type)val, oi, \
					     ra);                           \
			if (old == guess)                                   \
				return old;                                 \
			guess = old;                                        \
		}                                                           \
	}

XCHG_BY_CAS(helper_atomic_xchgb_x86_64, helper_atomic_cmpxchgb_mmu_x86_64,
	    uint8_t, uint32_t)
XCHG_BY_CAS(helper_atomic_xchgw_le_x86_64,
	    helper_atomic_cmpxchgw_le_mmu_x86_64, uint16_t, uint32_t)
XCHG_BY_CAS(helper_atomic_xchgl_le_x86_64,
	    helper_atomic_cmpxchgl_le_mmu_x86_64, uint32_t, uint32_t)
XCHG_BY_CAS(helper_atomic_xchgq_le_x86_64,
	    helper_atomic_cmpxchgq_le_mmu_x86_64, uint64_t, uint64_t)

/* ---- Exclusive steps ----------------------------------------------------- */

/* The self-test's scratch engine, which is no running vCPU. */
static _Thread_local uc_engine *probe_engine;
static _Thread_local bool probe_exit_atomic_seen;

_Noreturn void cpu_loop_exit_atomic_x86_64(void *cpu, uintptr_t pc)
{
	pthread_once(&resolve_once, resolve);
	struct tcg_vcpu *t = tcg_running_engine();
	if (t && t->cpu.cs == cpu) {
		t->atomic_step_pending = true;
		t->atomic_steps++;
		uc_emu_stop(t->uc);
	} else if (probe_engine) {
		probe_exit_atomic_seen = true;
		uc_emu_stop(probe_engine);
	}
	/* QEMU's: EXCP_ATOMIC, the guest state restored to the start of the
	 * instruction, and a longjmp out of the block. */
	real_exit_atomic(cpu, pc);
	__builtin_unreachable();
}

/* ---- The self-test ------------------------------------------------------- */

extern const uint8_t tcg_atomics_guest_start[], tcg_atomics_guest_end[],
	tcg_atomics_guest_misaligned[], tcg_atomics_guest_alias[];

#define PROBE_RAM 0x10000
#define PROBE_CODE 0x1000
/* 4-level tables for the alias part: VA 0 and VA 1 GiB both map the
 * 2 MiB at PA 0 (of which PROBE_RAM exists). */
#define PROBE_PML4 0x2000
#define PROBE_PDPT 0x3000
#define PROBE_PD_LOW 0x4000
#define PROBE_PD_HIGH 0x5000
#define PROBE_ALIAS_OFFSET 0x40000000ULL
#define PROBE_DATA 0x8000
#define PROBE_CODE_BUFFER (1u << 20)

static uint64_t probe_u64(uc_engine *uc, uint64_t addr)
{
	uint64_t v = 0;
	uc_mem_read(uc, addr, &v, sizeof(v));
	return v;
}

static int probe_fail(char *err, size_t errlen, const char *what,
		      unsigned long got, unsigned long want)
{
	snprintf(err, errlen, "atomics self-test: %s: got %#lx, want %#lx",
		 what, got, want);
	return -1;
}

#define PROBE_EXPECT(what, got, want)                                        \
	do {                                                                 \
		unsigned long g_ = (unsigned long)(got),                     \
			      w_ = (unsigned long)(want);                    \
		if (g_ != w_)                                                \
			return probe_fail(err, errlen, what, g_, w_);        \
	} while (0)

/* count: at most that many instructions (0: no limit). The misaligned
 * run has a limit: without the interposition it would re-run its
 * instruction forever. */
static int probe_run(uc_engine *uc, uint64_t start, size_t count)
{
	uint64_t rbx = PROBE_DATA;
	uc_reg_write(uc, UC_X86_REG_RBX, &rbx);
	return uc_emu_start(uc, start, 0, 0, count) == UC_ERR_OK ? 0 : -1;
}

static int probe_paging_on(uc_engine *uc)
{
	static const struct { uint64_t gpa, val; } entries[] = {
		{ PROBE_PML4, PROBE_PDPT | 3 },
		{ PROBE_PDPT, PROBE_PD_LOW | 3 },
		{ PROBE_PDPT + 8, PROBE_PD_HIGH | 3 },
		{ PROBE_PD_LOW, 0x83 },  /* 2 MiB at PA 0, present, writable */
		{ PROBE_PD_HIGH, 0x83 },
	};
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (uc_mem_write(uc, entries[i].gpa, &entries[i].val, 8))
			return -1;
	uc_x86_msr efer = { .rid = 0xC0000080, .value = 0x500 }; /* LME, LMA */
	uint64_t cr3 = PROBE_PML4, cr4 = 0x20 /* PAE */,
		 cr0 = 0x80000011 /* PG, ET, PE */;
	return uc_reg_write(uc, UC_X86_REG_MSR, &efer) ||
			       uc_reg_write(uc, UC_X86_REG_CR3, &cr3) ||
			       uc_reg_write(uc, UC_X86_REG_CR4, &cr4) ||
			       uc_reg_write(uc, UC_X86_REG_CR0, &cr0)
		       ? -1
		       : 0;
}

/* A locked write through a virtual address no physical one matches:
 * notdirty_write's lookup by that address is the failing one, and its
 * call site is learned (find_memory_mapping_x86_64 above). */
static int probe_alias(uc_engine *uc, char *err, size_t errlen)
{
	uint64_t alias = PROBE_CODE + (uint64_t)(tcg_atomics_guest_alias -
						 tcg_atomics_guest_start);
	if (probe_paging_on(uc) < 0) {
		snprintf(err, errlen, "atomics self-test: paging set-up");
		return -1;
	}
	learning_alias = PROBE_ALIAS_OFFSET + PROBE_DATA + 48;
	int rc = probe_run(uc, alias, 0);
	learning_alias = 0;
	if (rc < 0)
		return probe_fail(err, errlen, "locked write through an alias",
				  1, 0);
	PROBE_EXPECT("locked write through an alias",
		     probe_u64(uc, PROBE_DATA + 48), 1);
	PROBE_EXPECT("notdirty_write looks the region up by virtual address",
		     notdirty_lookup_site != NULL, 1);
	return 0;
}

static int probe_checks(uc_engine *uc, char *err, size_t errlen)
{
	size_t len = (size_t)(tcg_atomics_guest_end - tcg_atomics_guest_start);
	uint64_t misaligned =
		PROBE_CODE +
		(uint64_t)(tcg_atomics_guest_misaligned - tcg_atomics_guest_start);
	uint64_t seven = 7;
	if (uc_mem_write(uc, PROBE_CODE, tcg_atomics_guest_start, len) ||
	    uc_mem_write(uc, PROBE_DATA + 8, &seven, 8)) {
		snprintf(err, errlen, "atomics self-test: engine set-up");
		return -1;
	}
	unsigned long gen0 = translations, par0 = parallel_translations;
	unsigned long xchg0 = xchg_calls;
	last_tb = NULL;
	if (probe_run(uc, PROBE_CODE, 0) < 0)
		return probe_fail(err, errlen, "first run", 1, 0);
	PROBE_EXPECT("libunicorn calls tcg_gen_code through its PLT",
		     translations - gen0 >= 1, 1);
	PROBE_EXPECT("blocks translated with CF_PARALLEL",
		     parallel_translations - par0, translations - gen0);
	uint64_t tb_pc;
	memcpy(&tb_pc, (const uint8_t *)last_tb + TB_PC_OFFSET, 8);
	PROBE_EXPECT("TranslationBlock.pc", tb_pc, last_requested_pc);
	PROBE_EXPECT("TranslationBlock.cflags while translated",
		     last_cflags_at_gen & QEMU_CF_PARALLEL, QEMU_CF_PARALLEL);
	PROBE_EXPECT("TranslationBlock.cflags once hashed",
		     tb_cflags(last_tb) & QEMU_CF_PARALLEL, 0);
	PROBE_EXPECT("lock inc", probe_u64(uc, PROBE_DATA), 1);
	PROBE_EXPECT("xchg's store", probe_u64(uc, PROBE_DATA + 8), 5);
	PROBE_EXPECT("xchg's load", probe_u64(uc, PROBE_DATA + 16), 7);
	PROBE_EXPECT("xchg through hvgdb's helper", xchg_calls - xchg0 >= 1,
		     1);

	/* Again: every block is found, none translated anew (a block
	 * hashed with CF_PARALLEL would never be found). */
	unsigned long gen1 = translations;
	if (probe_run(uc, PROBE_CODE, 0) < 0)
		return probe_fail(err, errlen, "second run", 1, 0);
	PROBE_EXPECT("blocks translated again", translations - gen1, 0);
	PROBE_EXPECT("lock inc, twice", probe_u64(uc, PROBE_DATA), 2);

	probe_exit_atomic_seen = false;
	if (probe_run(uc, misaligned, 1000) < 0)
		return probe_fail(err, errlen, "misaligned run", 1, 0);
	PROBE_EXPECT("misaligned locked access stops for an exclusive step",
		     probe_exit_atomic_seen, 1);
	PROBE_EXPECT("RIP on the misaligned access",
		     tcg_uc_get(uc, UC_X86_REG_RIP), misaligned);
	PROBE_EXPECT("misaligned access not done yet",
		     probe_u64(uc, PROBE_DATA + 32), 0);
	return probe_alias(uc, err, errlen);
}

int tcg_atomics_selftest(char *err, size_t errlen)
{
	pthread_once(&resolve_once, resolve);
	pthread_once(&mapping_once, resolve_mapping);
	if (!real_tb_gen_code || !real_tcg_gen_code || !real_exit_atomic ||
	    !real_find_mapping) {
		snprintf(err, errlen, "atomics self-test: libunicorn lacks "
			 "the translator functions hvgdb interposes");
		return -1;
	}
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK) {
		snprintf(err, errlen, "atomics self-test: uc_open failed");
		return -1;
	}
	int rc = -1;
	/* A small code buffer: Unicorn's default one (1 GiB, zeroed on
	 * flush) put ~15 MiB on every hvgdb's peak RSS (cli.errors). */
	if (uc_ctl_set_tcg_buffer_size(uc, PROBE_CODE_BUFFER) != UC_ERR_OK ||
	    uc_mem_map(uc, 0, PROBE_RAM, UC_PROT_ALL) != UC_ERR_OK) {
		snprintf(err, errlen, "atomics self-test: uc_mem_map failed");
	} else {
		probe_engine = uc;
		rc = probe_checks(uc, err, errlen);
		probe_engine = NULL;
	}
	uc_close(uc);
	return rc;
}
