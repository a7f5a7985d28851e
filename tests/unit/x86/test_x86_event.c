/*
 * x86_deliver_event against a fake linear memory holding a GDT, an IDT, a
 * TSS and stacks: gates, stack switches, frames and the #DF/triple-fault
 * escalation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/x86_event.h"

#define MEM_SIZE 0x10000u

#define GDT_BASE 0x1000u
#define IDT_BASE 0x2000u
#define TSS_BASE 0x3000u
#define USER_STACK 0x5000u
#define RSP0_TOP 0x8000u
#define IST1_TOP 0x9000u
#define IST2_TOP 0xa008u /* deliberately not 16-byte aligned */
#define IST3_TOP 0xb000u

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x18
#define SEL_UDATA 0x20
#define SEL_CODE32 0x28
#define SEL_CONFORMING 0x30
#define SEL_RING1_CODE 0x38
#define SEL_BEYOND_GDT 0x40
#define RSP1_TOP 0x7000u

#define TYPE_INT 0xe
#define TYPE_TRAP 0xf
#define TYPE_CALL 0xc

#define RFLAGS_CF (1ULL << 0)
#define RFLAGS_FIXED (1ULL << 1)
#define RFLAGS_TF (1ULL << 8)
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_NT (1ULL << 14)
#define RFLAGS_RF (1ULL << 16)

#define HANDLER(v) (0xffffffff81000000ULL + 0x100ULL * (uint64_t)(v))

struct fake_mem {
	uint8_t bytes[MEM_SIZE];
	uint64_t ro_lo, ro_hi; /* writes touching [ro_lo, ro_hi) fail */
	unsigned writes;
};

static int mem_read(void *ctx, uint64_t gla, void *buf, size_t len)
{
	struct fake_mem *m = ctx;

	if (gla >= MEM_SIZE || len > MEM_SIZE - gla)
		return -EFAULT;
	memcpy(buf, m->bytes + gla, len);
	return 0;
}

static int mem_write(void *ctx, uint64_t gla, const void *buf, size_t len)
{
	struct fake_mem *m = ctx;

	if (gla >= MEM_SIZE || len > MEM_SIZE - gla)
		return -EFAULT;
	if (gla < m->ro_hi && gla + len > m->ro_lo)
		return -EFAULT;
	memcpy(m->bytes + gla, buf, len);
	m->writes++;
	return 0;
}

struct fixture {
	struct fake_mem mem;
	struct x86_event_mem ops;
	struct x86_event_cpu cpu;
};

static void put64(struct fake_mem *m, uint64_t gla, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		m->bytes[gla + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const struct fake_mem *m, uint64_t gla)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | m->bytes[gla + i];
	return v;
}

static void set_gate_at(struct fake_mem *m, uint64_t idt_base, int vector,
			uint16_t selector, unsigned ist, unsigned type,
			unsigned dpl, bool present)
{
	uint8_t *g = m->bytes + idt_base + 16 * vector;
	uint64_t off = HANDLER(vector);

	memset(g, 0, 16);
	g[0] = (uint8_t)off;
	g[1] = (uint8_t)(off >> 8);
	g[2] = (uint8_t)selector;
	g[3] = (uint8_t)(selector >> 8);
	g[4] = (uint8_t)ist;
	g[5] = (uint8_t)(type | dpl << 5 | (present ? 0x80 : 0));
	for (int i = 0; i < 6; i++)
		g[6 + i] = (uint8_t)(off >> (16 + 8 * i));
}

static void set_gate(struct fake_mem *m, int vector, uint16_t selector,
		     unsigned ist, unsigned type, unsigned dpl, bool present)
{
	set_gate_at(m, IDT_BASE, vector, selector, ist, type, dpl, present);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	/* null, 64-bit code DPL0, data, 64-bit code DPL3, data DPL3,
	 * 32-bit code DPL0, conforming 64-bit code DPL0, 64-bit code DPL1;
	 * then a valid code descriptor just past the GDT limit. */
	put64(&f->mem, GDT_BASE + SEL_KCODE, 0x00209a0000000000ULL);
	put64(&f->mem, GDT_BASE + SEL_KDATA, 0x0000920000000000ULL);
	put64(&f->mem, GDT_BASE + SEL_UCODE, 0x0020fa0000000000ULL);
	put64(&f->mem, GDT_BASE + SEL_UDATA, 0x0000f20000000000ULL);
	put64(&f->mem, GDT_BASE + SEL_CODE32, 0x00cf9a000000ffffULL);
	put64(&f->mem, GDT_BASE + SEL_CONFORMING, 0x00209e0000000000ULL);
	put64(&f->mem, GDT_BASE + SEL_RING1_CODE, 0x0020ba0000000000ULL);
	put64(&f->mem, GDT_BASE + SEL_BEYOND_GDT, 0x00209a0000000000ULL);

	put64(&f->mem, TSS_BASE + 0x04, RSP0_TOP);
	put64(&f->mem, TSS_BASE + 0x0c, RSP1_TOP);
	put64(&f->mem, TSS_BASE + 0x24, IST1_TOP);
	put64(&f->mem, TSS_BASE + 0x2c, IST2_TOP);
	put64(&f->mem, TSS_BASE + 0x34, IST3_TOP);

	for (int v = 0; v < 256; v++)
		set_gate(&f->mem, v, SEL_KCODE, 0, TYPE_INT, 0, true);
	set_gate(&f->mem, 8, SEL_KCODE, 3, TYPE_INT, 0, true);

	f->ops = (struct x86_event_mem){ mem_read, mem_write, &f->mem };
	f->cpu = (struct x86_event_cpu){
		.rip = 0xffffffff80001234ULL,
		.rsp = 0x600b,
		.rflags = RFLAGS_FIXED | RFLAGS_CF | RFLAGS_IF,
		.cs = SEL_KCODE,
		.ss = SEL_KDATA,
		.idt_base = IDT_BASE,
		.idt_limit = 256 * 16 - 1,
		.gdt_base = GDT_BASE,
		.gdt_limit = 8 * 8 - 1,
		.tss_base = TSS_BASE,
		.tss_limit = 0x67,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void to_user_mode(struct fixture *f)
{
	f->cpu.cs = SEL_UCODE | 3;
	f->cpu.ss = SEL_UDATA | 3;
	f->cpu.rsp = USER_STACK - 8;
}

/* The five-word frame at rsp (after an optional error code). */
static void assert_frame(const struct fixture *f, uint64_t rsp,
			 const struct x86_event_cpu *old)
{
	assert_int_equal(get64(&f->mem, rsp + 0), old->rip);
	assert_int_equal(get64(&f->mem, rsp + 8), old->cs);
	assert_int_equal(get64(&f->mem, rsp + 16), old->rflags);
	assert_int_equal(get64(&f->mem, rsp + 24), old->rsp);
	assert_int_equal(get64(&f->mem, rsp + 32), old->ss);
}

static enum x86_deliver_result deliver(struct fixture *f, int vector,
				       enum x86_event_kind kind, bool has_err,
				       uint32_t err)
{
	return x86_deliver_event(&f->cpu, &f->ops, vector, kind, has_err, err);
}

/* ---- Successful delivery --------------------------------------------- */

static void test_interrupt_gate_same_cpl(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	f->cpu.rflags |= RFLAGS_TF | RFLAGS_NT | RFLAGS_RF;
	old = f->cpu;
	assert_int_equal(deliver(f, 0x30, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_OK);

	/* 0x600b aligned down to 0x6000, then five words. */
	assert_int_equal(f->cpu.rsp, 0x6000 - 40);
	assert_frame(f, f->cpu.rsp, &old);
	assert_int_equal(f->cpu.rip, HANDLER(0x30));
	assert_int_equal(f->cpu.cs, SEL_KCODE);
	assert_int_equal(f->cpu.ss, SEL_KDATA);
	assert_int_equal(f->cpu.rflags, RFLAGS_FIXED | RFLAGS_CF);
	assert_int_equal(f->mem.writes, 1);
}

static void test_trap_gate_keeps_if_and_pushes_error_code(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old = f->cpu;

	set_gate(&f->mem, 13, SEL_KCODE, 0, TYPE_TRAP, 0, true);
	assert_int_equal(deliver(f, 13, X86_EVENT_HW_EXCEPTION, true, 0x1234),
			 X86_DELIVER_OK);

	assert_int_equal(f->cpu.rsp, 0x6000 - 48);
	assert_int_equal(get64(&f->mem, f->cpu.rsp), 0x1234);
	assert_frame(f, f->cpu.rsp + 8, &old);
	assert_int_equal(f->cpu.rip, HANDLER(13));
	assert_true(f->cpu.rflags & RFLAGS_IF);
}

static void test_aligned_stack_not_moved(void **state)
{
	struct fixture *f = *state;

	f->cpu.rsp = 0x6000;
	assert_int_equal(deliver(f, 0x20, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rsp, 0x6000 - 40);
	assert_int_equal(get64(&f->mem, f->cpu.rsp + 24), 0x6000);
}

static void test_full_64bit_handler_offset(void **state)
{
	struct fixture *f = *state;
	uint8_t *g = f->mem.bytes + IDT_BASE + 16 * 0x41;

	/* Offset 0x0000_7654_3210_fedc split over the three gate fields. */
	set_gate(&f->mem, 0x41, SEL_KCODE, 0, TYPE_INT, 0, true);
	g[0] = 0xdc, g[1] = 0xfe, g[6] = 0x10, g[7] = 0x32;
	g[8] = 0x54, g[9] = 0x76, g[10] = 0x00, g[11] = 0x00;
	assert_int_equal(deliver(f, 0x41, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rip, 0x76543210fedcULL);
}

static void test_ist_stack_used(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old = f->cpu;

	set_gate(&f->mem, 2, SEL_KCODE, 2, TYPE_INT, 0, true);
	assert_int_equal(deliver(f, 2, X86_EVENT_NMI, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rsp, (IST2_TOP & ~0xfu) - 40);
	assert_frame(f, f->cpu.rsp, &old);
	/* No privilege change: SS is kept. */
	assert_int_equal(f->cpu.ss, SEL_KDATA);
}

static void test_user_to_kernel_switches_to_rsp0(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	to_user_mode(f);
	old = f->cpu;
	assert_int_equal(deliver(f, 14, X86_EVENT_HW_EXCEPTION, true, 0x7),
			 X86_DELIVER_OK);

	assert_int_equal(f->cpu.rsp, RSP0_TOP - 48);
	assert_int_equal(get64(&f->mem, f->cpu.rsp), 0x7);
	assert_frame(f, f->cpu.rsp + 8, &old);
	assert_int_equal(get64(&f->mem, f->cpu.rsp + 8 + 32), SEL_UDATA | 3);
	assert_int_equal(f->cpu.cs, SEL_KCODE);
	assert_int_equal(f->cpu.ss, 0); /* null selector, RPL 0 */
	assert_int_equal(f->cpu.rip, HANDLER(14));
}

static void test_ist_wins_over_rsp0(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	to_user_mode(f);
	old = f->cpu;
	set_gate(&f->mem, 1, SEL_KCODE, 1, TYPE_INT, 0, true);
	assert_int_equal(deliver(f, 1, X86_EVENT_HW_EXCEPTION, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rsp, IST1_TOP - 40);
	assert_frame(f, f->cpu.rsp, &old);
	assert_int_equal(f->cpu.ss, 0);
}

static void test_user_gate_to_user_code_no_switch(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	to_user_mode(f);
	old = f->cpu;
	set_gate(&f->mem, 0x80, SEL_UCODE | 3, 0, TYPE_TRAP, 3, true);
	assert_int_equal(deliver(f, 0x80, X86_EVENT_SW_INT, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rsp, ((USER_STACK - 8) & ~0xfu) - 40);
	assert_frame(f, f->cpu.rsp, &old);
	assert_int_equal(f->cpu.cs, SEL_UCODE | 3);
	assert_int_equal(f->cpu.ss, SEL_UDATA | 3);
}

static void test_user_to_ring1_switches_to_rsp1(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	to_user_mode(f);
	old = f->cpu;
	set_gate(&f->mem, 0x60, SEL_RING1_CODE, 0, TYPE_INT, 0, true);
	assert_int_equal(deliver(f, 0x60, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rsp, RSP1_TOP - 40);
	assert_frame(f, f->cpu.rsp, &old);
	assert_int_equal(f->cpu.cs, SEL_RING1_CODE | 1);
	assert_int_equal(f->cpu.ss, 1); /* null selector, RPL 1 */
}

/* Bits 7:3 of the IST byte are not part of the IST index. */
static void test_ist_byte_high_bits_ignored(void **state)
{
	struct fixture *f = *state;

	set_gate(&f->mem, 0x61, SEL_KCODE, 0, TYPE_INT, 0, true);
	f->mem.bytes[IDT_BASE + 16 * 0x61 + 4] = 0xf8;
	assert_int_equal(deliver(f, 0x61, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rsp, 0x6000 - 40);
}

static void test_conforming_segment_keeps_cpl(void **state)
{
	struct fixture *f = *state;

	to_user_mode(f);
	set_gate(&f->mem, 0x81, SEL_CONFORMING, 0, TYPE_INT, 3, true);
	assert_int_equal(deliver(f, 0x81, X86_EVENT_SW_INT, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.cs, SEL_CONFORMING | 3);
	assert_int_equal(f->cpu.ss, SEL_UDATA | 3);
	assert_int_equal(f->cpu.rsp, ((USER_STACK - 8) & ~0xfu) - 40);
}

static void test_hw_exception_ignores_gate_dpl(void **state)
{
	struct fixture *f = *state;

	to_user_mode(f);
	/* Gate DPL 0, CPL 3: fine for the CPU's own exceptions. */
	assert_int_equal(deliver(f, 6, X86_EVENT_HW_EXCEPTION, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rip, HANDLER(6));
}

static void test_sw_int_allowed_by_gate_dpl(void **state)
{
	struct fixture *f = *state;

	to_user_mode(f);
	set_gate(&f->mem, 3, SEL_KCODE, 0, TYPE_INT, 3, true);
	assert_int_equal(deliver(f, 3, X86_EVENT_SW_EXCEPTION, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rip, HANDLER(3));
	assert_int_equal(f->cpu.rsp, RSP0_TOP - 40);
}

static void test_idt_limit_inclusive(void **state)
{
	struct fixture *f = *state;

	f->cpu.idt_limit = 16 * 0x30 + 15; /* last byte of gate 0x30 */
	assert_int_equal(deliver(f, 0x30, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rip, HANDLER(0x30));
}

/* ---- Escalation to #DF ----------------------------------------------- */

/* #DF arrived: handler, IST3 stack, error code 0, state from `old`. */
static void assert_double_fault(const struct fixture *f,
				const struct x86_event_cpu *old)
{
	assert_int_equal(f->cpu.rip, HANDLER(8));
	assert_int_equal(f->cpu.cs, SEL_KCODE);
	assert_int_equal(f->cpu.rsp, IST3_TOP - 48);
	assert_int_equal(get64(&f->mem, f->cpu.rsp), 0);
	assert_frame(f, f->cpu.rsp + 8, old);
	assert_false(f->cpu.rflags & RFLAGS_IF);
}

static void test_sw_int_dpl_violation_double_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	to_user_mode(f);
	old = f->cpu;
	/* Gate 0x80 has DPL 0; int 0x80 from CPL 3 is a #GP. */
	assert_int_equal(deliver(f, 0x80, X86_EVENT_SW_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
	assert_double_fault(f, &old);
	assert_int_equal(f->cpu.ss, 0);
}

static void test_sw_exception_dpl_violation_double_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	to_user_mode(f);
	old = f->cpu;
	assert_int_equal(deliver(f, 3, X86_EVENT_SW_EXCEPTION, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
	assert_double_fault(f, &old);
}

static void test_not_present_gate_double_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old = f->cpu;

	set_gate(&f->mem, 0x40, SEL_KCODE, 0, TYPE_INT, 0, false);
	assert_int_equal(deliver(f, 0x40, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
	assert_double_fault(f, &old);
}

static void test_idt_limit_exceeded_double_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old = f->cpu;

	f->cpu.idt_limit = 16 * 14 - 1; /* gates 0..13 only */
	old.idt_limit = f->cpu.idt_limit;
	assert_int_equal(deliver(f, 14, X86_EVENT_HW_EXCEPTION, true, 2),
			 X86_DELIVER_DOUBLE_FAULT);
	assert_double_fault(f, &old);

	/* A gate that straddles the limit is outside it too. */
	f->cpu = old;
	f->cpu.idt_limit = 16 * 14 + 14;
	assert_int_equal(deliver(f, 14, X86_EVENT_HW_EXCEPTION, true, 2),
			 X86_DELIVER_DOUBLE_FAULT);
}

static void test_bad_gate_types_double_fault(void **state)
{
	struct fixture *f = *state;
	static const unsigned types[] = { TYPE_CALL, 0x0, 0x5, 0x6, 0x7 };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct x86_event_cpu old = f->cpu;

		set_gate(&f->mem, 0x50, SEL_KCODE, 0, types[i], 0, true);
		assert_int_equal(deliver(f, 0x50, X86_EVENT_EXT_INT, false, 0),
				 X86_DELIVER_DOUBLE_FAULT);
		assert_double_fault(f, &old);
		f->cpu = old;
	}
}

static void test_bad_target_segments_double_fault(void **state)
{
	struct fixture *f = *state;
	static const uint16_t selectors[] = {
		0,              /* null */
		SEL_KDATA,      /* not code */
		SEL_CODE32,     /* not a 64-bit code segment */
		SEL_BEYOND_GDT, /* past the GDT limit */
		SEL_KCODE | 4,  /* LDT */
	};

	for (size_t i = 0; i < sizeof(selectors) / sizeof(selectors[0]);
	     i++) {
		struct x86_event_cpu old = f->cpu;

		set_gate(&f->mem, 0x51, selectors[i], 0, TYPE_INT, 0, true);
		if (deliver(f, 0x51, X86_EVENT_EXT_INT, false, 0) !=
		    X86_DELIVER_DOUBLE_FAULT)
			fail_msg("selector %#x delivered", selectors[i]);
		assert_double_fault(f, &old);
		f->cpu = old;
	}
}

/* The whole 8-byte descriptor must lie within the GDT limit. */
static void test_gdt_limit_exact(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old = f->cpu;

	set_gate(&f->mem, 0x54, SEL_BEYOND_GDT, 0, TYPE_INT, 0, true);
	f->cpu.gdt_limit = SEL_BEYOND_GDT + 6;
	assert_int_equal(deliver(f, 0x54, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
	f->cpu = old;
	f->cpu.gdt_limit = SEL_BEYOND_GDT + 7;
	assert_int_equal(deliver(f, 0x54, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.cs, SEL_BEYOND_GDT);
}

static void test_not_present_code_segment_double_faults(void **state)
{
	struct fixture *f = *state;

	put64(&f->mem, GDT_BASE + SEL_CONFORMING, 0x00201a0000000000ULL);
	set_gate(&f->mem, 0x52, SEL_CONFORMING, 0, TYPE_INT, 0, true);
	assert_int_equal(deliver(f, 0x52, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
}

static void test_less_privileged_target_double_faults(void **state)
{
	struct fixture *f = *state;

	/* CPL 0 interrupted into a DPL 3 code segment: not allowed. */
	set_gate(&f->mem, 0x53, SEL_UCODE | 3, 0, TYPE_INT, 0, true);
	assert_int_equal(deliver(f, 0x53, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
}

static void test_stack_write_fault_double_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old = f->cpu;

	f->mem.ro_lo = 0x5000;
	f->mem.ro_hi = 0x7000;
	assert_int_equal(deliver(f, 0x30, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
	assert_double_fault(f, &old);
}

static void test_vector_out_of_range_double_faults(void **state)
{
	struct fixture *f = *state;

	/* A maximal IDT limit would reach a valid-looking 257th gate. */
	f->cpu.idt_base = 0xc000;
	f->cpu.idt_limit = 0xffff;
	set_gate_at(&f->mem, 0xc000, 8, SEL_KCODE, 3, TYPE_INT, 0, true);
	set_gate_at(&f->mem, 0xc000, 256, SEL_KCODE, 0, TYPE_INT, 0, true);
	assert_int_equal(deliver(f, 256, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
	assert_int_equal(f->cpu.rip, HANDLER(8));
	assert_int_equal(deliver(f, -1, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
}

static void test_noncanonical_handler_double_faults(void **state)
{
	struct fixture *f = *state;

	set_gate(&f->mem, 0x62, SEL_KCODE, 0, TYPE_INT, 0, true);
	f->mem.bytes[IDT_BASE + 16 * 0x62 + 11] = 0x01; /* offset bit 56 */
	f->mem.bytes[IDT_BASE + 16 * 0x62 + 10] = 0x00;
	assert_int_equal(deliver(f, 0x62, X86_EVENT_EXT_INT, false, 0),
			 X86_DELIVER_DOUBLE_FAULT);
}

/* ---- Triple fault ---------------------------------------------------- */

static void assert_cpu_equal(const struct x86_event_cpu *a,
			     const struct x86_event_cpu *b)
{
	assert_int_equal(a->rip, b->rip);
	assert_int_equal(a->rsp, b->rsp);
	assert_int_equal(a->rflags, b->rflags);
	assert_int_equal(a->cs, b->cs);
	assert_int_equal(a->ss, b->ss);
	assert_int_equal(a->idt_base, b->idt_base);
	assert_int_equal(a->idt_limit, b->idt_limit);
}

static void test_df_not_present_triple_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	to_user_mode(f);
	old = f->cpu;
	set_gate(&f->mem, 8, SEL_KCODE, 3, TYPE_INT, 0, false);
	assert_int_equal(deliver(f, 0x80, X86_EVENT_SW_INT, false, 0),
			 X86_DELIVER_TRIPLE_FAULT);
	assert_cpu_equal(&f->cpu, &old);
	assert_int_equal(f->mem.writes, 0);
}

static void test_df_stack_fault_triple_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old = f->cpu;

	/* #DF without IST uses the same broken stack. */
	set_gate(&f->mem, 8, SEL_KCODE, 0, TYPE_INT, 0, true);
	f->mem.ro_lo = 0x5000;
	f->mem.ro_hi = 0x7000;
	assert_int_equal(deliver(f, 14, X86_EVENT_HW_EXCEPTION, true, 0),
			 X86_DELIVER_TRIPLE_FAULT);
	assert_cpu_equal(&f->cpu, &old);
}

static void test_failing_df_itself_triple_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old = f->cpu;

	set_gate(&f->mem, 8, SEL_KCODE, 3, TYPE_INT, 0, false);
	assert_int_equal(deliver(f, 8, X86_EVENT_HW_EXCEPTION, true, 0),
			 X86_DELIVER_TRIPLE_FAULT);
	assert_cpu_equal(&f->cpu, &old);
}

static void test_short_tss_triple_faults(void **state)
{
	struct fixture *f = *state;
	struct x86_event_cpu old;

	to_user_mode(f);
	f->cpu.tss_limit = 0x0a; /* RSP0 at 0x04..0x0b does not fit */
	old = f->cpu;
	/* The event needs RSP0; #DF needs IST3: neither is readable. */
	assert_int_equal(deliver(f, 14, X86_EVENT_HW_EXCEPTION, true, 0),
			 X86_DELIVER_TRIPLE_FAULT);
	assert_cpu_equal(&f->cpu, &old);

	f->cpu.tss_limit = 0x0b;
	assert_int_equal(deliver(f, 14, X86_EVENT_HW_EXCEPTION, true, 0),
			 X86_DELIVER_OK);
	assert_int_equal(f->cpu.rsp, RSP0_TOP - 48);
}

static void test_null_arguments_do_not_crash(void **state)
{
	struct fixture *f = *state;
	struct x86_event_mem no_write = { mem_read, NULL, &f->mem };

	assert_int_equal(x86_deliver_event(NULL, &f->ops, 3,
					   X86_EVENT_HW_EXCEPTION, false, 0),
			 X86_DELIVER_TRIPLE_FAULT);
	assert_int_equal(x86_deliver_event(&f->cpu, NULL, 3,
					   X86_EVENT_HW_EXCEPTION, false, 0),
			 X86_DELIVER_TRIPLE_FAULT);
	assert_int_equal(x86_deliver_event(&f->cpu, &no_write, 3,
					   X86_EVENT_HW_EXCEPTION, false, 0),
			 X86_DELIVER_TRIPLE_FAULT);
}

/* ---- Error-code table ------------------------------------------------ */

static void test_exception_error_codes(void **state)
{
	(void)state;
	for (int v = -1; v < 256; v++) {
		bool expect = v == 8 || (v >= 10 && v <= 14) || v == 17 ||
			      v == 21 || v == 29 || v == 30;

		if (x86_exception_has_error_code(v) != expect)
			fail_msg("vector %d", v);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_interrupt_gate_same_cpl),
		T(test_trap_gate_keeps_if_and_pushes_error_code),
		T(test_aligned_stack_not_moved),
		T(test_full_64bit_handler_offset),
		T(test_ist_stack_used),
		T(test_user_to_kernel_switches_to_rsp0),
		T(test_ist_wins_over_rsp0),
		T(test_user_gate_to_user_code_no_switch),
		T(test_user_to_ring1_switches_to_rsp1),
		T(test_ist_byte_high_bits_ignored),
		T(test_conforming_segment_keeps_cpl),
		T(test_hw_exception_ignores_gate_dpl),
		T(test_sw_int_allowed_by_gate_dpl),
		T(test_idt_limit_inclusive),
		T(test_sw_int_dpl_violation_double_faults),
		T(test_sw_exception_dpl_violation_double_faults),
		T(test_not_present_gate_double_faults),
		T(test_idt_limit_exceeded_double_faults),
		T(test_bad_gate_types_double_fault),
		T(test_bad_target_segments_double_fault),
		T(test_gdt_limit_exact),
		T(test_not_present_code_segment_double_faults),
		T(test_less_privileged_target_double_faults),
		T(test_stack_write_fault_double_faults),
		T(test_vector_out_of_range_double_faults),
		T(test_noncanonical_handler_double_faults),
		T(test_df_not_present_triple_faults),
		T(test_df_stack_fault_triple_faults),
		T(test_failing_df_itself_triple_faults),
		T(test_short_tss_triple_faults),
		T(test_null_arguments_do_not_crash),
		T(test_exception_error_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
