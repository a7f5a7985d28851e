/* HPET: registers, the counter, comparator matches and their interrupts,
 * and the sequence Linux's hpet_enable() runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/hpet.h"

enum {
	CAP = 0x000, CFG = 0x010, STS = 0x020, CNT = 0x0f0,
	T0_CFG = 0x100, T0_CMP = 0x108, T1_CFG = 0x120, T1_CMP = 0x128,
	T2_CFG = 0x140, T2_CMP = 0x148,
};
#define ENABLE 1u
#define LEGACY 2u
#define TN_LEVEL (1u << 1)
#define TN_INT (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_PER_CAP (1u << 4)
#define TN_64_CAP (1u << 5)
#define TN_SETVAL (1u << 6)
#define TN_32BIT (1u << 8)
#define ROUTE(g) ((uint64_t)(g) << 9)
#define US 1000ull
#define MS 1000000ull

/* The IO-APIC inputs as the owner sees them. */
struct lines {
	bool level[32];
	int rises[32];
};

static void set_gsi(void *ctx, unsigned gsi, bool level)
{
	struct lines *l = ctx;

	if (level && !l->level[gsi])
		l->rises[gsi]++;
	l->level[gsi] = level;
}

struct fixture {
	struct lines lines;
	struct hpet *h;
};

static int setup(void **state)
{
	static struct fixture f;

	f = (struct fixture){ 0 };
	struct hpet_ops ops = { set_gsi, &f.lines };
	f.h = hpet_create(&ops);
	*state = &f;
	return f.h ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hpet_destroy(f->h);
	return 0;
}

static uint64_t rd(struct fixture *f, uint32_t off, uint64_t now)
{
	return hpet_read(f->h, off, 8, now);
}

static void wr(struct fixture *f, uint32_t off, uint64_t val, uint64_t now)
{
	hpet_write(f->h, off, 8, val, now);
}

static void test_capabilities(void **state)
{
	struct fixture *f = *state;
	uint64_t cap = rd(f, CAP, 0);

	assert_int_equal(cap >> 32, 10000000u);   /* 10 ns */
	assert_int_equal(cap & 0xff, 1);          /* revision */
	assert_int_equal((cap >> 8) & 0x1f, 2);   /* three comparators */
	assert_true(cap & (1u << 13));            /* 64-bit counter */
	assert_false(cap & (1u << 15));           /* no legacy routing */
	assert_int_equal((cap >> 16) & 0xffff, 0x8086);
	assert_int_equal(cap & 0xffffffffu, HPET_ID_LOW);
	/* Linux reads the period as the high dword alone. */
	assert_int_equal(hpet_read(f->h, CAP + 4, 4, 0), 10000000u);
	assert_int_equal(hpet_read(f->h, CAP, 4, 0), HPET_ID_LOW);
	/* Comparator 0 alone can be periodic; all are 64-bit and route to
	 * IO-APIC inputs 20-23. */
	const uint32_t cfgs[3] = { T0_CFG, T1_CFG, T2_CFG };
	for (int i = 0; i < 3; i++) {
		uint64_t c = rd(f, cfgs[i], 0);
		assert_int_equal(!!(c & TN_PER_CAP), i == 0);
		assert_true(c & TN_64_CAP);
		assert_int_equal(c >> 32, 0x00f00000u);
		assert_int_equal(c & (TN_INT | TN_PERIODIC | TN_LEVEL), 0);
		assert_int_equal(rd(f, cfgs[i] + 8, 0), UINT64_MAX);
	}
	/* Capabilities are read-only; odd sizes and misaligned accesses
	 * read 0. */
	wr(f, CAP, 0, 0);
	assert_int_equal(rd(f, CAP, 0), cap);
	assert_int_equal(hpet_read(f->h, CAP, 2, 0), 0);
	assert_int_equal(hpet_read(f->h, CAP + 4, 8, 0), 0);
	assert_int_equal(hpet_read(f->h, 0x1000, 4, 0), 0);
}

static void test_counter_runs_at_100mhz_while_enabled(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, CNT, 5 * MS), 0); /* halted at reset */
	wr(f, CFG, ENABLE, 1 * MS);
	assert_int_equal(rd(f, CFG, 1 * MS), ENABLE);
	assert_int_equal(rd(f, CNT, 1 * MS), 0);
	assert_int_equal(rd(f, CNT, 1 * MS + 9), 0);
	assert_int_equal(rd(f, CNT, 1 * MS + 10), 1);
	assert_int_equal(rd(f, CNT, 2 * MS), 100000);
	/* Halted, it keeps its value; enabled again, it goes on from it. */
	wr(f, CFG, 0, 3 * MS);
	assert_int_equal(rd(f, CNT, 50 * MS), 200000);
	wr(f, CFG, ENABLE, 60 * MS);
	assert_int_equal(rd(f, CNT, 61 * MS), 300000);
	/* Written (halted, as the spec asks), in halves too. */
	wr(f, CFG, 0, 62 * MS);
	hpet_write(f->h, CNT + 4, 4, 0x12, 62 * MS);
	hpet_write(f->h, CNT, 4, 0x34, 62 * MS);
	assert_int_equal(rd(f, CNT, 63 * MS), 0x1200000034ull);
	assert_int_equal(hpet_read(f->h, CNT + 4, 4, 63 * MS), 0x12);
	/* The legacy replacement bit is not offered: it stays clear. */
	wr(f, CFG, ENABLE | LEGACY, 64 * MS);
	assert_int_equal(rd(f, CFG, 64 * MS), ENABLE);
}

/* What arch/x86/kernel/hpet.c does at boot, then its counting check. */
static void test_linux_hpet_enable_sequence(void **state)
{
	struct fixture *f = *state;
	uint64_t now = 7 * MS;

	assert_int_equal(hpet_read(f->h, CAP + 4, 4, now), 10000000u);
	uint32_t cfg = (uint32_t)hpet_read(f->h, CFG, 4, now);
	assert_int_not_equal(cfg, 0xffffffffu);
	hpet_write(f->h, CFG, 4, cfg & ~(ENABLE | LEGACY), now);
	for (uint32_t t = T0_CFG; t <= T2_CFG; t += 0x20) {
		uint32_t c = (uint32_t)hpet_read(f->h, t, 4, now);
		hpet_write(f->h, t, 4, c & ~(TN_INT | TN_LEVEL | (1u << 14)),
			   now);
		/* No bit Linux would call "unrecognized". */
		c &= ~(TN_INT | TN_LEVEL | TN_PERIODIC | TN_PER_CAP |
		       TN_64_CAP | TN_32BIT | (0x1fu << 9) | (3u << 14));
		assert_int_equal(c, 0);
	}
	/* hpet_restart_counter: halt, zero, enable; then it must count. */
	hpet_write(f->h, CFG, 4, 0, now);
	hpet_write(f->h, CNT, 4, 0, now);
	hpet_write(f->h, CNT + 4, 4, 0, now);
	hpet_write(f->h, CFG, 4, ENABLE, now);
	uint32_t t1 = (uint32_t)hpet_read(f->h, CNT, 4, now);
	assert_int_not_equal(hpet_read(f->h, CNT, 4, now + 200 * US), t1);
	assert_int_equal(hpet_next_deadline(f->h), UINT64_MAX);
}

static void test_one_shot_edge_interrupt(void **state)
{
	struct fixture *f = *state;

	wr(f, CFG, ENABLE, 0);
	wr(f, T1_CFG, TN_INT | ROUTE(21), 0);
	wr(f, T1_CMP, 1000, 0); /* 10 us */
	assert_int_equal(hpet_next_deadline(f->h), 10 * US);
	hpet_update(f->h, 10 * US - 1);
	assert_int_equal(f->lines.rises[21], 0);
	hpet_update(f->h, 10 * US);
	assert_int_equal(f->lines.rises[21], 1);
	assert_false(f->lines.level[21]); /* a pulse */
	/* 64 bits: the next match is after the counter wraps. */
	assert_int_equal(hpet_next_deadline(f->h), UINT64_MAX);
	hpet_update(f->h, 100 * MS);
	assert_int_equal(f->lines.rises[21], 1);
	/* A comparator already passed does not fire. */
	wr(f, T1_CMP, 5, 100 * MS);
	hpet_update(f->h, 200 * MS);
	assert_int_equal(f->lines.rises[21], 1);
	/* A route the comparator cannot take raises nothing. */
	wr(f, T1_CFG, TN_INT | ROUTE(5), 200 * MS);
	wr(f, T1_CMP, 20000001, 200 * MS);
	hpet_update(f->h, 201 * MS);
	for (int g = 0; g < 32; g++)
		assert_int_equal(f->lines.rises[g], g == 21 ? 1 : 0);
}

static void test_periodic_comparator(void **state)
{
	struct fixture *f = *state;

	wr(f, CFG, ENABLE, 0);
	/* Start as Linux's hpet_set_periodic does: VAL_SET, the first
	 * match, then the period alone. */
	wr(f, T0_CFG, TN_INT | TN_PERIODIC | TN_SETVAL | ROUTE(20), 0);
	wr(f, T0_CMP, 400000, 0);   /* first match at 4 ms */
	wr(f, T0_CMP, 100000, 0);   /* then every 1 ms */
	assert_false(rd(f, T0_CFG, 0) & TN_SETVAL);
	assert_int_equal(rd(f, T0_CMP, 0), 400000);
	assert_int_equal(hpet_next_deadline(f->h), 4 * MS);
	hpet_update(f->h, 4 * MS);
	assert_int_equal(f->lines.rises[20], 1);
	assert_int_equal(rd(f, T0_CMP, 4 * MS), 500000);
	assert_int_equal(hpet_next_deadline(f->h), 5 * MS);
	hpet_update(f->h, 5 * MS);
	assert_int_equal(f->lines.rises[20], 2);
	/* Matches missed by a late update count once; the comparator
	 * moves past the counter on the period's grid. */
	hpet_update(f->h, 9 * MS + 500 * US);
	assert_int_equal(f->lines.rises[20], 3);
	assert_int_equal(rd(f, T0_CMP, 9 * MS + 500 * US), 1000000);
	assert_int_equal(hpet_next_deadline(f->h), 10 * MS);
	/* Comparator 1 has no periodic mode: the bit does not stick. */
	wr(f, T1_CFG, TN_PERIODIC, 9 * MS + 600 * US);
	assert_false(rd(f, T1_CFG, 9 * MS + 600 * US) & TN_PERIODIC);
	/* Halting the counter stops the interrupts. */
	wr(f, CFG, 0, 9 * MS + 700 * US);
	assert_int_equal(hpet_next_deadline(f->h), UINT64_MAX);
	hpet_update(f->h, 50 * MS);
	assert_int_equal(f->lines.rises[20], 3);
}

static void test_level_interrupt_and_status(void **state)
{
	struct fixture *f = *state;

	wr(f, CFG, ENABLE, 0);
	wr(f, T2_CFG, TN_INT | TN_LEVEL | ROUTE(23), 0);
	wr(f, T2_CMP, 100, 0);
	hpet_update(f->h, 1 * US);
	assert_int_equal(rd(f, STS, 1 * US), 1u << 2);
	assert_true(f->lines.level[23]);
	/* Held until the status bit is written with 1 (0s do nothing). */
	wr(f, STS, 0, 2 * US);
	assert_true(f->lines.level[23]);
	wr(f, STS, 1u << 2, 2 * US);
	assert_int_equal(rd(f, STS, 2 * US), 0);
	assert_false(f->lines.level[23]);
	/* With the interrupt off the status bit is still set, the line
	 * stays low; turning the interrupt on raises it. */
	wr(f, T2_CFG, TN_LEVEL | ROUTE(23), 2 * US);
	wr(f, T2_CMP, 1000, 2 * US);
	assert_int_equal(hpet_next_deadline(f->h), 10 * US);
	hpet_update(f->h, 10 * US);
	assert_int_equal(rd(f, STS, 10 * US), 1u << 2);
	assert_false(f->lines.level[23]);
	wr(f, T2_CFG, TN_INT | TN_LEVEL | ROUTE(23), 11 * US);
	assert_true(f->lines.level[23]);
	/* Halting the counter drops the line; the status stays. */
	wr(f, CFG, 0, 12 * US);
	assert_false(f->lines.level[23]);
	assert_int_equal(rd(f, STS, 12 * US), 1u << 2);
	/* Back to edge mode: the status bit means nothing and is gone. */
	wr(f, T2_CFG, TN_INT | ROUTE(23), 13 * US);
	assert_int_equal(rd(f, STS, 13 * US), 0);
}

static void test_32bit_mode(void **state)
{
	struct fixture *f = *state;
	const uint64_t wrap_ns = (1ull << 32) * 10;

	wr(f, CFG, ENABLE, 0);
	wr(f, T1_CMP, 0x123456789ull, 0);
	wr(f, T1_CFG, TN_INT | TN_32BIT | ROUTE(22), 0);
	/* The comparator keeps its low half only; writes to the high half
	 * are dropped. */
	assert_int_equal(rd(f, T1_CMP, 0), 0x23456789u);
	hpet_write(f->h, T1_CMP + 4, 4, 0xffffffffu, 0);
	assert_int_equal(rd(f, T1_CMP, 0), 0x23456789u);
	assert_int_equal(hpet_next_deadline(f->h), 0x23456789ull * 10);
	hpet_update(f->h, 0x23456789ull * 10);
	assert_int_equal(f->lines.rises[22], 1);
	/* One-shot in 32 bits: again when the low half comes round. */
	assert_int_equal(hpet_next_deadline(f->h),
			 0x23456789ull * 10 + wrap_ns);
	hpet_update(f->h, 0x23456789ull * 10 + wrap_ns);
	assert_int_equal(f->lines.rises[22], 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_capabilities),
		T(test_counter_runs_at_100mhz_while_enabled),
		T(test_linux_hpet_enable_sequence),
		T(test_one_shot_edge_interrupt),
		T(test_periodic_comparator),
		T(test_level_interrupt_and_status),
		T(test_32bit_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
