/* The PC platform through its port handler, as a vCPU would drive it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/i8254.h"
#include "devices/pc_platform.h"

/* A stand-in for the VM's port table: vm_register_pio records here. */
struct registered {
	uint16_t port, count;
	vm_pio_handler fn;
	void *opaque;
};
static struct registered ranges[32];
static unsigned nranges;
static int fail_at = -1; /* registration index that fails with -EEXIST */

int vm_register_pio(struct vm *vm, uint16_t port, uint16_t count,
		    vm_pio_handler fn, void *opaque)
{
	(void)vm;
	if ((int)nranges == fail_at)
		return -EEXIST;
	ranges[nranges++] = (struct registered){ port, count, fn, opaque };
	return 0;
}

static uint64_t guest_ns;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return guest_ns;
}

static const struct registered *lookup(uint16_t port)
{
	for (unsigned i = 0; i < nranges; i++)
		if (port >= ranges[i].port &&
		    port - ranges[i].port < ranges[i].count)
			return &ranges[i];
	return NULL;
}

static uint32_t in(uint16_t port, unsigned bytes)
{
	const struct registered *r = lookup(port);
	uint32_t val = 0;

	assert_non_null(r);
	assert_int_equal(r->fn(r->opaque, 0, true, port, bytes, &val), 0);
	return val;
}

static void out(uint16_t port, unsigned bytes, uint32_t val)
{
	const struct registered *r = lookup(port);

	assert_non_null(r);
	assert_int_equal(r->fn(r->opaque, 0, false, port, bytes, &val), 0);
}

static struct pc_platform *platform;
static int resets, reset_vcpu;

static void count_reset(void *ctx, int vcpu)
{
	(void)ctx;
	resets++;
	reset_vcpu = vcpu;
}

static int setup(void **state)
{
	struct pc_platform_config cfg = {
		.now_ns = fake_clock,
		.unix_time = 1709251198, /* 2024-02-29 23:59:58 UTC */
		.ram_below_4g = 64ULL << 20,
		.cpu_reset = count_reset,
	};

	(void)state;
	nranges = 0;
	fail_at = -1;
	resets = 0;
	reset_vcpu = -1;
	guest_ns = 1000000;
	platform = pc_platform_create(&cfg);
	if (!platform || pc_platform_register_ports(platform, NULL) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pc_platform_destroy(platform);
	return 0;
}

static void test_claims_exactly_the_legacy_ports(void **state)
{
	static const uint16_t ours[] = { 0x20, 0x21, 0x40, 0x41, 0x42, 0x43,
					 0x60, 0x61, 0x64, 0x70, 0x71, 0x80,
					 0xa0, 0xa1, 0x4d0, 0x4d1 };
	static const uint16_t not_ours[] = { 0x22, 0x3f, 0x44, 0x62, 0x63,
					     0x65, 0x72, 0x81, 0xa2, 0x3f8,
					     0x4d2, 0xf4, 0xcf9 };
	unsigned claimed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		assert_non_null(lookup(ours[i]));
	for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++)
		assert_null(lookup(not_ours[i]));
	for (unsigned i = 0; i < nranges; i++)
		claimed += ranges[i].count;
	assert_int_equal(claimed, sizeof(ours) / sizeof(ours[0]));
}

static void test_registration_error_is_returned(void **state)
{
	(void)state;
	nranges = 0;
	fail_at = 3;
	assert_int_equal(pc_platform_register_ports(platform, NULL), -EEXIST);
}

static void test_pic_mask_reads_back(void **state)
{
	(void)state;
	out(0xa1, 1, 0xff);
	out(0x21, 1, 0xfb);
	assert_int_equal(in(0x21, 1), 0xfb);
	assert_int_equal(in(0xa1, 1), 0xff);
}

static void test_pit_tick_reaches_the_pic(void **state)
{
	(void)state;
	struct i8259 *pic = pc_platform_pic(platform);

	out(0x20, 1, 0x11); /* Linux's init_8259A */
	out(0x21, 1, 0x30);
	out(0x21, 1, 0x04);
	out(0x21, 1, 0x01);
	out(0x21, 1, 0xfe); /* only IRQ 0 */
	out(0x43, 1, 0x34); /* channel 0, mode 2, HZ=250: 4773 */
	out(0x40, 1, 4773 & 0xff);
	out(0x40, 1, 4773 >> 8);
	uint64_t due = pc_platform_next_deadline(platform);
	assert_true(due > guest_ns && due <= guest_ns + 4000300);
	assert_true(due >= guest_ns + 3999000);
	pc_platform_update(platform, due - 1000);
	assert_false(i8259_has_interrupt(pic));
	guest_ns = due;
	pc_platform_update(platform, due);
	assert_true(i8259_has_interrupt(pic));
	assert_int_equal(i8259_intack(pic), 0x30);
}

static void test_rtc_irq8_through_the_slave(void **state)
{
	(void)state;
	struct i8259 *pic = pc_platform_pic(platform);

	out(0xa0, 1, 0x11);
	out(0xa1, 1, 0x38);
	out(0xa1, 1, 0x02);
	out(0xa1, 1, 0x01);
	out(0x20, 1, 0x11);
	out(0x21, 1, 0x30);
	out(0x21, 1, 0x04);
	out(0x21, 1, 0x01);
	out(0x21, 1, 0xfb);
	out(0xa1, 1, 0xfe);
	out(0x43, 1, 0x30); /* PIT one-shot far away: only the RTC counts */
	out(0x40, 1, 0xff);
	out(0x40, 1, 0xff);
	out(0x70, 1, 0x0b);
	out(0x71, 1, 0x42); /* PIE, 24 h */
	uint64_t due = pc_platform_next_deadline(platform);
	assert_int_equal(due, guest_ns + 976563); /* 1024 Hz */
	pc_platform_update(platform, due);
	assert_int_equal(i8259_intack(pic), 0x38);
	out(0x70, 1, 0x0c);
	assert_int_equal(in(0x71, 1), 0xc0);
}

static void test_pit_calibration_through_port_61(void **state)
{
	(void)state;
	out(0x61, 1, (in(0x61, 1) & ~0x02) | 0x01);
	out(0x43, 1, 0xb0);
	out(0x42, 1, 1193 & 0xff); /* 1 ms */
	out(0x42, 1, 1193 >> 8);
	assert_int_equal(in(0x61, 1) & 0x20, 0);
	guest_ns += 1000000;
	assert_int_equal(in(0x61, 1) & 0x20, 0x20);
}

static void test_cmos_and_wide_accesses(void **state)
{
	(void)state;
	/* A 16-bit out to 0x70 writes the index and then the data port. */
	out(0x70, 1, 0x40);
	out(0x71, 1, 0x5a);
	out(0x70, 2, 0x4141);
	out(0x70, 1, 0x41);
	assert_int_equal(in(0x71, 1), 0x41);
	out(0x70, 1, 0x17); /* extended memory: 63 MiB */
	assert_int_equal(in(0x71, 1), (63 * 1024) & 0xff);
	out(0x70, 1, 0x18);
	assert_int_equal(in(0x71, 1), (63 * 1024) >> 8);
	/* 16-bit read across 0x71 and 0x72 (not ours): high byte 0xff. */
	out(0x70, 1, 0x40);
	assert_int_equal(in(0x71, 2), 0xff5a);
	out(0x70, 1, 0x80 | 0x0d);
	assert_true(pc_platform_nmi_disabled(platform));
	assert_int_equal(in(0x71, 1), 0x80);
}

static void test_post_code_port(void **state)
{
	(void)state;
	out(0x80, 1, 0x42);
	assert_int_equal(pc_platform_post_code(platform), 0x42);
	assert_int_equal(in(0x80, 1), 0xff);
}

/* Linux's reboot: kb_wait() polls 0x64 for IBF clear, then 0xFE. The
 * owner hears of it from the vCPU that wrote it. */
static void test_keyboard_controller_reset_reaches_the_owner(void **state)
{
	const struct registered *r = lookup(0x64);
	uint32_t val = 0xfe;

	(void)state;
	assert_int_equal(in(0x64, 1) & 0x02, 0);
	assert_int_equal(resets, 0);
	assert_int_equal(r->fn(r->opaque, 3, false, 0x64, 1, &val), 0);
	assert_int_equal(resets, 1);
	assert_int_equal(reset_vcpu, 3);
	/* Other controller commands do not reset. */
	out(0x64, 1, 0xaa);
	assert_int_equal(in(0x60, 1), 0x55);
	assert_int_equal(resets, 1);
}

static void test_create_needs_a_clock(void **state)
{
	struct pc_platform_config no_clock = { 0 };

	(void)state;
	assert_null(pc_platform_create(&no_clock));
	assert_null(pc_platform_create(NULL));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_claims_exactly_the_legacy_ports),
		T(test_registration_error_is_returned),
		T(test_pic_mask_reads_back),
		T(test_pit_tick_reaches_the_pic),
		T(test_rtc_irq8_through_the_slave),
		T(test_pit_calibration_through_port_61),
		T(test_cmos_and_wide_accesses),
		T(test_post_code_port),
		T(test_keyboard_controller_reset_reaches_the_owner),
		cmocka_unit_test(test_create_needs_a_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
