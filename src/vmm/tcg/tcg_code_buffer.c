/*
 * Each engine's translation-code buffer: bounded, and never allowed to
 * fill up inside the engine.
 *
 * QEMU allocates translated code from one buffer by bumping a pointer;
 * a block dropped from the cache (a guest store into code, a breakpoint
 * inserted or removed, a single step's hooked block) leaves its space
 * behind, and only a whole-cache flush gives space back. A debugging
 * session retranslates about two blocks per breakpoint hit (bench row 10:
 * +6 MiB per vCPU over 20,000 hits), so the buffer grows without end.
 * When it is full, Unicorn 2.1.1 flushes from inside the translator and
 * then crashes linking the next block to a block of the flushed cache
 * (tb_set_jmp_target on freed code: measured with an 8 MiB buffer while
 * Linux boots, SIGSEGV; upstream Unicorn issues 1923 and 2048).
 *
 * So hvgdb flushes an engine's cache itself, between entries
 * (UC_CTL_TB_FLUSH, the path already used for a full invalidation queue):
 * - when more than half of the blocks translated since the last flush
 *   were dropped again and the code takes at least CODE_SOFT_FLOOR: the
 *   live code is then at most as large as the garbage, so rebuilding it
 *   costs no more than the translations that made the garbage (the
 *   buffer stays within about twice the live code);
 * - when less than the headroom is left, whatever the garbage: then the
 *   translator's own flush can never be reached. A translation that
 *   leaves less than that asks the engine to stop at once (the block
 *   hook's stop flag), so the flush comes before the next translation.
 *
 * The numbers come from QEMU itself, through two of its exported
 * functions: tcg_tb_alloc (called through libunicorn's PLT for every
 * block: interposed here to learn the engine's TCGContext and to count
 * blocks) and tcg_code_size / tcg_code_capacity /
 * tcg_tb_phys_invalidate_count, called on that context. The start-up
 * self-test checks that the interposition sees the scratch engine's
 * context and that its capacity matches the buffer size Unicorn reports
 * (tcg_code_buffer_selfcheck).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "vmm/tcg/tcg_internal.h"

#define MIB (1024u * 1024u)
#define CODE_SOFT_FLOOR (4u * MIB)
/* Far more than one block can take (QEMU caps a block's code at 64 KiB),
 * a quarter of a small buffer. */
#define CODE_HEADROOM (2u * MIB)

struct TCGContext;
size_t tcg_code_size_x86_64(struct TCGContext *s);
size_t tcg_code_capacity_x86_64(struct TCGContext *s);
size_t tcg_tb_phys_invalidate_count_x86_64(struct TCGContext *s);

static void *(*real_tb_alloc)(struct TCGContext *);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
/* The context of the last block translated on this thread (self-test). */
static _Thread_local struct TCGContext *last_ctx;

static void resolve(void)
{
	real_tb_alloc = (void *(*)(struct TCGContext *))dlsym(
		RTLD_NEXT, "tcg_tb_alloc_x86_64");
}

static size_t headroom(const struct tcg_vcpu *t)
{
	size_t quarter = t->code.capacity / 4;
	return quarter < CODE_HEADROOM ? quarter : CODE_HEADROOM;
}

void *tcg_tb_alloc_x86_64(struct TCGContext *s);

void *tcg_tb_alloc_x86_64(struct TCGContext *s)
{
	pthread_once(&resolve_once, resolve);
	void *tb = real_tb_alloc(s);
	last_ctx = s;
	struct tcg_vcpu *t = tcg_running_engine();
	if (!t || !tb)
		return tb;
	if (!t->code.ctx) {
		/* The first block sits at the start of the engine's region,
		 * where every flush starts again. */
		t->code.ctx = s;
		t->code.capacity = tcg_code_capacity_x86_64(s);
		t->code.start = (uintptr_t)tb;
	}
	if (t->code.ctx != s)
		return tb; /* not this engine's (cannot happen: one per thread) */
	t->code.blocks++;
	if (t->code.capacity - tcg_code_size_x86_64(s) < headroom(t)) {
		t->code.stop_wanted = true;
		atomic_store(&t->stop_flag, true);
	}
	return tb;
}

/*
 * Unicorn's flush zeroes the whole region (a memset in tcg_region_assign
 * that upstream QEMU does not have), which makes every page of the buffer
 * resident: +1 GiB per vCPU with Unicorn's default buffer. The buffer is
 * a private anonymous mapping, so dropping the pages gives the same zeroes
 * back on demand, without the memory. tcg_code_zeroing.c normally turns
 * that memset itself into the drop (then the flush skips this: the pages
 * are gone already); this one keeps the memory bounded when it could not.
 */
static void give_back_zeroed_pages(struct tcg_vcpu *t)
{
	tcg_drop_whole_pages(t->code.start, t->code.capacity);
	t->code.given_back++;
}

static bool worth_flushing(struct tcg_vcpu *t)
{
	struct TCGContext *s = t->code.ctx;
	size_t used = tcg_code_size_x86_64(s);
	if (t->code.capacity - used < headroom(t) || t->code.stop_wanted)
		return true;
	uint64_t dropped = tcg_tb_phys_invalidate_count_x86_64(s) -
			   t->code.dropped_at_flush;
	return used >= CODE_SOFT_FLOOR && 2 * dropped >= t->code.blocks;
}

bool tcg_code_buffer_maintain(struct tcg_vcpu *t)
{
	if (!t->code.ctx)
		return false; /* nothing translated yet */
	if (!worth_flushing(t))
		return false;
	tcg_code_buffer_flush(t);
	return true;
}

void tcg_code_buffer_flush(struct tcg_vcpu *t)
{
	tcg_code_zeroing_begin(&t->code);
	uc_ctl(t->uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));
	bool dropped = tcg_code_zeroing_end();
	tcg_code_pages_forget(t);
	t->code.flushes++;
	t->code.blocks = 0;
	t->code.stop_wanted = false;
	if (!t->code.ctx)
		return; /* nothing translated: nothing resident either */
	if (!dropped)
		give_back_zeroed_pages(t);
	t->code.dropped_at_flush =
		tcg_tb_phys_invalidate_count_x86_64(t->code.ctx);
}

/* uc_ctl_get_tcg_buffer_size, without its UC_CTL_READ: that macro shifts
 * UC_CTL_IO_READ (2) into bit 31 of an int, which UBSan stops every
 * sanitized test on. The same control word, computed unsigned. */
static uc_err get_tcg_buffer_size(uc_engine *uc, uint32_t *size)
{
	uint32_t ctl = (uint32_t)UC_CTL_TCG_BUFFER_SIZE | (1u << 26) |
		       ((uint32_t)UC_CTL_IO_READ << 30);
	return uc_ctl(uc, (uc_control_type)ctl, size);
}

int tcg_code_buffer_selfcheck(uc_engine *uc, char *err, size_t errlen)
{
	uint32_t size = 0;
	struct TCGContext *s = last_ctx;
	if (!s || get_tcg_buffer_size(uc, &size) != UC_ERR_OK) {
		snprintf(err, errlen, "CPU self-test: libunicorn no longer "
			 "calls tcg_tb_alloc through its PLT");
		return -1;
	}
	size_t cap = tcg_code_capacity_x86_64(s);
	size_t used = tcg_code_size_x86_64(s);
	if (cap > size || cap < size / 2 || used == 0 || used > cap) {
		snprintf(err, errlen, "CPU self-test: code buffer of %u bytes "
			 "reads capacity %zu, %zu used", size, cap, used);
		return -1;
	}
	return 0;
}
