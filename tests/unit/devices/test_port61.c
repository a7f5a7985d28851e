/* Port 0x61: channel 2 gate and output, as Linux's PIT calibration uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/i8254.h"
#include "devices/port61.h"

static uint64_t at(uint64_t ticks)
{
	return (ticks * 1000000000ULL + I8254_HZ - 1) / I8254_HZ;
}

struct fixture {
	struct i8254 *pit;
	struct port61 *p61;
};

static int setup(void **state)
{
	static struct fixture f;

	f.pit = i8254_create(NULL, 0);
	f.p61 = port61_create(f.pit);
	if (!f.pit || !f.p61)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	port61_destroy(f->p61);
	i8254_destroy(f->pit);
	return 0;
}

/* pit_calibrate_tsc(): gate on, speaker off, channel 2 mode 0, poll bit 5. */
static void test_linux_calibration_sequence(void **state)
{
	struct fixture *f = *state;
	uint64_t t = at(0);

	port61_write(f->p61, (port61_read(f->p61, t) & ~0x02) | 0x01, t);
	i8254_write(f->pit, 3, 0xb0, t);
	i8254_write(f->pit, 2, 11932 & 0xff, t);
	i8254_write(f->pit, 2, 11932 >> 8, t);
	assert_int_equal(port61_read(f->p61, at(11931)) & 0x21, 0x01);
	assert_int_equal(port61_read(f->p61, at(11932)) & 0x21, 0x21);
}

static void test_gate_off_stops_channel2(void **state)
{
	struct fixture *f = *state;

	port61_write(f->p61, 0x01, at(0));
	i8254_write(f->pit, 3, 0xb0, at(0));
	i8254_write(f->pit, 2, 100, at(0));
	i8254_write(f->pit, 2, 0, at(0));
	port61_write(f->p61, 0x00, at(50));
	assert_int_equal(port61_read(f->p61, at(500)) & 0x21, 0);
}

static void test_only_low_nibble_is_writable(void **state)
{
	struct fixture *f = *state;

	port61_write(f->p61, 0xfe, at(0));
	uint8_t v = port61_read(f->p61, at(0));
	assert_int_equal(v & 0x0f, 0x0e);
	assert_int_equal(v & 0xc0, 0); /* no NMI source */
}

static void test_refresh_bit_toggles_with_guest_time(void **state)
{
	struct fixture *f = *state;

	uint8_t a = port61_read(f->p61, 0) & 0x10;
	uint8_t b = port61_read(f->p61, 15085) & 0x10;
	uint8_t c = port61_read(f->p61, 2 * 15085) & 0x10;
	assert_int_not_equal(a, b);
	assert_int_equal(a, c);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_linux_calibration_sequence),
		T(test_gate_off_stops_channel2),
		T(test_only_low_nibble_is_writable),
		T(test_refresh_bit_toggles_with_guest_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
