/*
 * The guest's own debug registers, as hardware has them.
 *
 * Unicorn 2.1.1 keeps QEMU's x86 debug-register code: a MOV to DR7 or
 * DR0-DR3 goes through helper_set_dr, which registers instruction
 * breakpoints in QEMU's breakpoint list (translated blocks then raise #DB
 * before the instruction, with DR6 set by QEMU) and data breakpoints as
 * QEMU watchpoints, which Unicorn stubs out (they never fire). Two things
 * are done here:
 * - Registering or removing an instruction breakpoint flushes the whole
 *   translation cache at once, from inside the block that executes the
 *   MOV; Unicorn then returns into freed code and crashes (measured: a
 *   guest that enables DR0 killed the process). That flush is not done:
 *   the engine stops at the next block (the MOV ends its block) and the
 *   run loop drops the blocks holding the breakpoint's instruction, by
 *   physical address through the vCPU's page tables (the whole cache only
 *   if the address does not translate: a whole flush costs about a
 *   second here).
 * - Data breakpoints (DR7 R/W 01 and 11) are this engine's guest ranges
 *   in tcg_watch.c, re-read from DR7 and DR0-DR3 after every DR write; a
 *   hit sets DR6.B0-B3 and raises #DB after the instruction completed.
 * The debugger's watches live apart (vm_watch_insert): the guest never
 * sees them in its registers, nor their hits. A debugger that writes the
 * guest's DRn (tcg_guest_debug_set_dr) goes through the same helper and
 * the same deferred invalidation as the guest's MOV, from its own thread
 * while the vCPU is parked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "vmm/tcg/tcg_internal.h"

#define DR7_TYPE_SHIFT 16
#define DR7_LEN_SHIFT 18
#define DR7_TYPE_WRITE 1
#define DR7_TYPE_ACCESS 3
#define DR6_B_BITS 0xfULL

void helper_set_dr_x86_64(void *env, int reg, uint64_t val);
int cpu_breakpoint_insert_x86_64(void *cs, uint64_t pc, int flags, void **bp);
void cpu_breakpoint_remove_by_ref_x86_64(void *cs, void *bp);
void tb_flush_x86_64(void *cs);
void tlb_flush_x86_64(void *cs);

static void (*real_set_dr)(void *, int, uint64_t);
static int (*real_bp_insert)(void *, uint64_t, int, void **);
static void (*real_bp_remove)(void *, void *);
static void (*real_tb_flush)(void *);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
/* Set while QEMU adds or removes a guest instruction breakpoint. */
static _Thread_local bool defer_tb_flush;
/* The engine uc_close is taking apart on this thread. */
static _Thread_local void *closing_cs;
/* The parked engine whose DRn a debugger writes from this thread. */
static _Thread_local struct tcg_vcpu *debugger_engine;

static void resolve(void)
{
	real_set_dr = (void (*)(void *, int, uint64_t))dlsym(
		RTLD_NEXT, "helper_set_dr_x86_64");
	real_bp_insert = (int (*)(void *, uint64_t, int, void **))dlsym(
		RTLD_NEXT, "cpu_breakpoint_insert_x86_64");
	real_bp_remove = (void (*)(void *, void *))dlsym(
		RTLD_NEXT, "cpu_breakpoint_remove_by_ref_x86_64");
	real_tb_flush = (void (*)(void *))dlsym(RTLD_NEXT, "tb_flush_x86_64");
}

int tcg_guest_debug_init(void)
{
	pthread_once(&resolve_once, resolve);
	return real_set_dr && real_bp_insert && real_bp_remove &&
			       real_tb_flush
		       ? 0
		       : -1;
}

/* The engine of QEMU CPU cs if this thread runs it, or writes its debug
 * registers for a debugger; else NULL. */
static struct tcg_vcpu *engine_of(void *cs)
{
	struct tcg_vcpu *t = tcg_running_engine();
	if (!t)
		t = debugger_engine;
	return t && t->cpu.cs == cs ? t : NULL;
}

/* Called by libunicorn through its PLT (the cache is full, Unicorn's API,
 * QEMU's breakpoint list): only the breakpoint list's flush, made while a
 * block runs, is left out (tcg_guest_debug_apply does what it was for). */
void tb_flush_x86_64(void *cs)
{
	pthread_once(&resolve_once, resolve);
	/* uc_close drops the guest's breakpoints, each with a flush of a
	 * cache it has half freed (measured: a crash in every vm_destroy
	 * after the guest had set DR0); nothing is left to flush. */
	if (cs && cs == closing_cs)
		return;
	struct tcg_vcpu *t = engine_of(cs);
	if (defer_tb_flush && t) {
		atomic_store(&t->stop_flag, true);
		return;
	}
	real_tb_flush(cs);
}

static void note_changed(struct tcg_vcpu *t, uint64_t pc)
{
	struct tcg_watch_state *w = &t->watch;
	if (w->nbp_changed < sizeof(w->bp_changed) / sizeof(w->bp_changed[0]))
		w->bp_changed[w->nbp_changed++] = pc;
	else
		w->bp_changed_overflow = true;
}

int cpu_breakpoint_insert_x86_64(void *cs, uint64_t pc, int flags, void **bp)
{
	pthread_once(&resolve_once, resolve);
	struct tcg_vcpu *t = engine_of(cs);
	defer_tb_flush = true;
	int rc = real_bp_insert(cs, pc, flags, bp);
	defer_tb_flush = false;
	if (!t)
		return rc;
	note_changed(t, pc);
	for (int i = 0; i < TCG_GUEST_DR_SLOTS && bp && *bp; i++) {
		if (!t->watch.guest_bp[i]) {
			t->watch.guest_bp[i] = *bp;
			t->watch.guest_bp_pc[i] = pc;
			return rc;
		}
	}
	/* more than the four QEMU's DR code makes: no address to drop */
	t->watch.bp_changed_overflow = true;
	return rc;
}

void cpu_breakpoint_remove_by_ref_x86_64(void *cs, void *bp)
{
	pthread_once(&resolve_once, resolve);
	struct tcg_vcpu *t = engine_of(cs);
	defer_tb_flush = true;
	real_bp_remove(cs, bp);
	defer_tb_flush = false;
	if (!t)
		return;
	for (int i = 0; i < TCG_GUEST_DR_SLOTS; i++) {
		if (t->watch.guest_bp[i] == bp) {
			t->watch.guest_bp[i] = NULL;
			note_changed(t, t->watch.guest_bp_pc[i]);
			return;
		}
	}
	t->watch.bp_changed_overflow = true;
}

void tcg_guest_debug_apply(struct vcpu *v)
{
	struct tcg_watch_state *w = &tcg_of(v)->watch;
	bool all = w->bp_changed_overflow;
	for (unsigned i = 0; i < w->nbp_changed && !all; i++) {
		uint64_t gpa;
		if (vcpu_gla2gpa(v, w->bp_changed[i], VM_PROT_EXECUTE, &gpa) == 0)
			tcg_invalidate_phys(tcg_of(v), gpa, gpa + 1);
		else
			all = true; /* blocks of another mapping may hold it */
	}
	if (all)
		tcg_code_buffer_flush(tcg_of(v));
	w->nbp_changed = 0;
	w->bp_changed_overflow = false;
}

/* Every MOV to a debug register (generated code calls the helper through
 * libunicorn's GOT). */
void helper_set_dr_x86_64(void *env, int reg, uint64_t val)
{
	pthread_once(&resolve_once, resolve);
	real_set_dr(env, reg, val);
	struct tcg_vcpu *t = tcg_running_engine();
	if (t && t->cpu.env == env)
		tcg_guest_debug_reload(t);
}

#define DR_UPPER_BITS 0xffffffff00000000ULL

int tcg_guest_debug_set_dr(struct tcg_vcpu *t, int n, uint64_t val)
{
	bool valid = (n >= 0 && n <= 3) || n == 6 || n == 7;
	if (!valid || ((n == 6 || n == 7) && (val & DR_UPPER_BITS)))
		return -EINVAL;
	pthread_once(&resolve_once, resolve);
	if (!real_set_dr)
		return -ENOSYS;
	debugger_engine = t;
	real_set_dr(t->cpu.env, n, val);
	debugger_engine = NULL;
	tcg_guest_debug_reload(t);
	return 0;
}

void tcg_guest_debug_close(struct tcg_vcpu *t)
{
	closing_cs = t->cpu.cs;
	uc_close(t->uc);
	closing_cs = NULL;
}

static unsigned dr7_len(uint64_t dr7, int i)
{
	static const unsigned len[4] = { 1, 2, 8, 4 }; /* SDM LENn */
	return len[(dr7 >> (DR7_LEN_SHIFT + 4 * i)) & 3];
}

void tcg_guest_debug_reload(struct tcg_vcpu *t)
{
	static const int dr_reg[TCG_GUEST_DR_SLOTS] = {
		UC_X86_REG_DR0, UC_X86_REG_DR1, UC_X86_REG_DR2, UC_X86_REG_DR3
	};
	struct tcg_watch_range now[TCG_GUEST_DR_SLOTS];
	unsigned n = 0;
	uint64_t dr7 = tcg_uc_get(t->uc, UC_X86_REG_DR7);
	memset(now, 0, sizeof(now));
	for (int i = 0; i < TCG_GUEST_DR_SLOTS; i++) {
		unsigned type = (dr7 >> (DR7_TYPE_SHIFT + 4 * i)) & 3;
		bool enabled = (dr7 >> (2 * i)) & 3; /* Ln or Gn */
		if (!enabled ||
		    (type != DR7_TYPE_WRITE && type != DR7_TYPE_ACCESS))
			continue;
		unsigned len = dr7_len(dr7, i);
		/* the processor ignores the address bits below the length */
		uint64_t start = tcg_uc_get(t->uc, dr_reg[i]) &
				 ~(uint64_t)(len - 1);
		struct tcg_watch_range *r = &now[n++];
		r->start = start;
		r->end = start + len;
		r->on_write = true;
		r->on_read = type == DR7_TYPE_ACCESS;
		r->dr_index = i;
		r->addr = start;
	}
	if (n == t->watch.nguest &&
	    memcmp(now, t->watch.guest, n * sizeof(now[0])) == 0)
		return;
	memcpy(t->watch.guest, now, sizeof(now));
	t->watch.nguest = n;
	/* Entries filled before carry the old pages' flags. */
	tlb_flush_x86_64(t->cpu.cs);
}

void tcg_guest_debug_raise(struct tcg_vcpu *t, unsigned bits)
{
	uint64_t dr6 = tcg_uc_get(t->uc, UC_X86_REG_DR6);
	tcg_uc_set(t->uc, UC_X86_REG_DR6, (dr6 & ~DR6_B_BITS) | bits);
	t->watch.guest_db_pending = true;
}
