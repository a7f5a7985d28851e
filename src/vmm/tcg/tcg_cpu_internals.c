/*
 * Unicorn internals for x86 event delivery (see tcg_cpu_internals.h).
 *
 * Why internals at all: Unicorn hands every guest exception, `int n` and
 * `int3` to a UC_HOOK_INTR callback and never vectors through the guest's
 * IDT itself, and its API has no way to inject an interrupt, to read the
 * exception's error code, or to change the privilege level. Delivering
 * events by hand from outside the engine (as hvgdb did on 2.0.1) got three
 * things wrong on 2.1, measured with Debian's Linux kernel:
 * - QEMU's record of the exception in flight (old_exception) is cleared
 *   only by QEMU's own delivery, so the next page fault arrived as #DF and
 *   the third one as a silent triple fault;
 * - error codes had to be guessed from a page walk (a write to a
 *   not-present page looks like a read);
 * - CS/SS writes from CPL 3 are refused by Unicorn's selector checks, so
 *   an interrupt taken in user mode could not switch to the kernel.
 * So events are delivered by QEMU's own x86 code (x86_cpu_do_interrupt),
 * called from inside the engine where a fault during delivery unwinds
 * into QEMU's CPU loop as on any other exception.
 *
 * Every function used here is exported by libunicorn and called through
 * its PLT; the pointers they take are learned by interposing helpers that
 * receive them (the RDMSR helper in tcg_msr.c, the TLB flush here). The self-test (tcg_cpu_selftest.c) checks the whole
 * chain on a scratch engine at start-up.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "vmm/tcg/tcg_cpu_internals.h"
#include "vmm/tcg/tcg_atomics.h"
#include "vmm/tcg/tcg_internal.h"

#define HF_CPL_MASK 3u
/* Bits of hflags that are set in 64-bit kernel and user code alike: CS32,
 * SS32, PE, LMA, CS64 (QEMU's HF_* constants). */
#define HF_LONG_MODE_BITS ((1u << 4) | (1u << 5) | (1u << 7) | (1u << 14) | \
			   (1u << 15))

/* libunicorn's x86_64 functions (QEMU names with Unicorn's suffix). */
void tlb_flush_x86_64(void *cs);
void qemu_system_reset_request(void *uc);
void x86_cpu_do_interrupt_x86_64(void *cs);
_Noreturn void raise_interrupt_x86_64(void *env, int intno, int is_int,
				      int error_code, int next_eip_addend);
int uc_check_cpu_x86_load_seg_x86_64(void *env, int seg_reg, int sel);
void cpu_x86_load_seg_x86_64(void *env, int seg_reg, int selector);

/* ---- Learning the pointers ----------------------------------------------- */

static _Thread_local void **capture_cs;
static void (*real_tlb_flush)(void *);
static void (*real_reset_request)(void *);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve_real_helpers(void)
{
	real_tlb_flush = (void (*)(void *))dlsym(RTLD_NEXT, "tlb_flush_x86_64");
	real_reset_request =
		(void (*)(void *))dlsym(RTLD_NEXT, "qemu_system_reset_request");
}

void tlb_flush_x86_64(void *cs)
{
	if (capture_cs) {
		*capture_cs = cs;
		capture_cs = NULL;
	}
	/* Unicorn flushes while it creates the CPU, before any hvgdb code
	 * has run: resolve here too. */
	pthread_once(&resolve_once, resolve_real_helpers);
	real_tlb_flush(cs);
}

int tcg_cpu_ptrs_learn(uc_engine *uc, struct tcg_cpu_ptrs *p)
{
	pthread_once(&resolve_once, resolve_real_helpers);
	p->env = p->cs = NULL;
	if (!real_tlb_flush || !real_reset_request)
		return -1;
	p->env = tcg_msr_learn_env(uc);
	capture_cs = &p->cs;
	uc_ctl_flush_tlb(uc);
	capture_cs = NULL;
	return p->env && p->cs ? 0 : -1;
}

/* ---- Triple faults ------------------------------------------------------- */

/* QEMU's check_exception asks for a reset on a triple fault, and Unicorn
 * then just stops the engine: uc_emu_start returns OK as if nothing had
 * happened. */
static _Thread_local bool triple_fault_seen;

void qemu_system_reset_request(void *uc)
{
	triple_fault_seen = true;
	pthread_once(&resolve_once, resolve_real_helpers);
	real_reset_request(uc);
}

bool tcg_take_triple_fault(void)
{
	bool seen = triple_fault_seen;
	triple_fault_seen = false;
	return seen;
}

/* ---- Delivery ------------------------------------------------------------ */

void tcg_deliver_raised_event(const struct tcg_cpu_ptrs *p)
{
	x86_cpu_do_interrupt_x86_64(p->cs);
}

_Noreturn void tcg_raise_event(const struct tcg_cpu_ptrs *p, int vector,
			       bool soft, uint32_t errcode,
			       unsigned next_insn_len)
{
	raise_interrupt_x86_64(p->env, vector, soft, (int)errcode,
			       (int)next_insn_len);
}

int tcg_load_segment(const struct tcg_cpu_ptrs *p, int seg, uint16_t sel)
{
	if (uc_check_cpu_x86_load_seg_x86_64(p->env, seg, sel) != 0)
		return -1;
	cpu_x86_load_seg_x86_64(p->env, seg, sel);
	return 0;
}

/* ---- The privilege level ------------------------------------------------- */

static size_t cpl_offset; /* 0: not found (hflags is never at offset 0) */

bool tcg_find_cpl_offset(const uint8_t *at_cpl0, const uint8_t *at_cpl3,
			 size_t len, size_t *offset)
{
	size_t found = 0;
	unsigned n = 0;
	for (size_t off = 4; off + 4 <= len; off += 4) {
		uint32_t a, b;
		memcpy(&a, at_cpl0 + off, 4);
		memcpy(&b, at_cpl3 + off, 4);
		if ((a & HF_CPL_MASK) == 0 && (b & HF_CPL_MASK) == 3 &&
		    (a ^ b) == 3 && (a & HF_LONG_MODE_BITS) == HF_LONG_MODE_BITS) {
			found = off;
			n++;
		}
	}
	if (n != 1)
		return false;
	*offset = found;
	return true;
}

void tcg_use_cpl_offset(size_t offset)
{
	cpl_offset = offset;
}

void tcg_set_cpl(const struct tcg_cpu_ptrs *p, unsigned cpl)
{
	uint32_t hflags;
	if (cpl_offset == 0)
		return; /* the self-test has not run: nothing to write */
	uint8_t *at = (uint8_t *)p->env + cpl_offset;
	memcpy(&hflags, at, 4);
	hflags = (hflags & ~HF_CPL_MASK) | (cpl & HF_CPL_MASK);
	memcpy(at, &hflags, 4);
}

/* CPUX86State: uint32_t hflags, hflags2; SegmentCache segs[6]; where
 * SegmentCache is { uint32_t selector; uint64_t base; uint32_t limit,
 * flags; } (Unicorn 2.1.1's qemu/target/i386/cpu.h), 24 bytes on x86-64. */
#define SEGS_AFTER_HFLAGS 8
#define SEGMENT_CACHE_BYTES 24
#define SEGMENT_CACHE_BASE 8
#define SEGMENT_CACHE_LIMIT 16
#define SEGMENT_CACHE_FLAGS 20
#define QEMU_SEGMENTS 6

static uint8_t *segment_cache_at(const struct tcg_cpu_ptrs *p, int seg)
{
	if (cpl_offset == 0 || seg < 0 || seg >= QEMU_SEGMENTS || !p->env)
		return NULL;
	return (uint8_t *)p->env + cpl_offset + SEGS_AFTER_HFLAGS +
	       (size_t)seg * SEGMENT_CACHE_BYTES;
}

int tcg_read_segment_cache(const struct tcg_cpu_ptrs *p, int seg,
			   struct tcg_segment_cache *out)
{
	const uint8_t *at = segment_cache_at(p, seg);
	if (!at)
		return -1;
	memcpy(&out->selector, at, sizeof(out->selector));
	memcpy(&out->base, at + SEGMENT_CACHE_BASE, sizeof(out->base));
	memcpy(&out->limit, at + SEGMENT_CACHE_LIMIT, sizeof(out->limit));
	memcpy(&out->flags, at + SEGMENT_CACHE_FLAGS, sizeof(out->flags));
	return 0;
}

int tcg_write_segment_cache(const struct tcg_cpu_ptrs *p, int seg,
			    const struct tcg_segment_cache *c)
{
	uint8_t *at = segment_cache_at(p, seg);
	if (!at)
		return -1;
	memcpy(at + SEGMENT_CACHE_BASE, &c->base, sizeof(c->base));
	memcpy(at + SEGMENT_CACHE_LIMIT, &c->limit, sizeof(c->limit));
	memcpy(at + SEGMENT_CACHE_FLAGS, &c->flags, sizeof(c->flags));
	return 0;
}

#define HF_INHIBIT_IRQ (1u << 3)

bool tcg_interrupt_shadow(const struct tcg_cpu_ptrs *p)
{
	uint32_t hflags;
	if (cpl_offset == 0)
		return false;
	memcpy(&hflags, (const uint8_t *)p->env + cpl_offset, 4);
	return hflags & HF_INHIBIT_IRQ;
}

size_t tcg_env_scan_len(uc_engine *uc)
{
	/* The CPU context Unicorn saves is CPUX86State's first bytes behind a
	 * small header; hflags is near the start, so a few KiB suffice. */
	size_t ctx = uc_context_size(uc);
	size_t len = 4096;
	return ctx > len + 256 ? len : 0;
}

/* ---- Start-up check ------------------------------------------------------ */

int tcg_cpu_selftest(char *err, size_t errlen);

static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static char check_error[320];
static int check_rc;

static void run_check(void)
{
	unsigned major = 0, minor = 0;
	unsigned combined = uc_version(&major, &minor);
	unsigned patch = (combined >> 8) & 0xff;
	bool validated = major == TCG_VALIDATED_UC_MAJOR &&
			 minor == TCG_VALIDATED_UC_MINOR &&
			 patch == TCG_VALIDATED_UC_PATCH;
	const char *no_zeroing = tcg_code_zeroing_install();
	if (no_zeroing)
		fprintf(stderr, "hvgdb: note: translation-cache flushes zero "
			"every page of the buffer (%s)\n", no_zeroing);
	check_rc = tcg_cpu_selftest(check_error, sizeof(check_error));
	if (check_rc == 0)
		check_rc = tcg_atomics_selftest(check_error,
						sizeof(check_error));
	if (check_rc == 0 && !validated)
		fprintf(stderr, "hvgdb: note: Unicorn %u.%u.%u, not the "
			"validated %d.%d.%d; its CPU internals passed hvgdb's "
			"self-test\n", major, minor, patch,
			TCG_VALIDATED_UC_MAJOR, TCG_VALIDATED_UC_MINOR,
			TCG_VALIDATED_UC_PATCH);
	if (check_rc != 0 && !validated) {
		char why[160];
		snprintf(why, sizeof(why), "%.159s", check_error);
		snprintf(check_error, sizeof(check_error),
			 "Unicorn %u.%u.%u (hvgdb was validated on %d.%d.%d): %s",
			 major, minor, patch, TCG_VALIDATED_UC_MAJOR,
			 TCG_VALIDATED_UC_MINOR, TCG_VALIDATED_UC_PATCH, why);
	}
}

int tcg_cpu_internals_check(char *err, size_t errlen)
{
	pthread_once(&check_once, run_check);
	if (check_rc != 0)
		snprintf(err, errlen, "%s", check_error);
	return check_rc;
}
