/* 8042 keyboard controller: the reset line, the controller's commands as
 * Linux's i8042 driver and reboot code use them, and IRQ 1/12. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/i8042.h"
#include "devices/irq_router.h"

#define DATA I8042_DATA_PORT
#define CMD I8042_COMMAND_PORT

struct fixture {
	struct irq_router *router;
	struct i8042 *k;
};

static int setup(void **state)
{
	static struct fixture f;

	f.router = irq_router_create();
	f.k = f.router ? i8042_create(f.router) : NULL;
	if (!f.k)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	i8042_destroy(f->k);
	irq_router_destroy(f->router);
	return 0;
}

static bool line(struct fixture *f, unsigned irq)
{
	return irq_router_isa_levels(f->router) & (1u << irq);
}

/* A command with a one-byte answer, read back as a driver does: wait for
 * OBF, then read the data port. */
static uint8_t ask(struct i8042 *k, uint8_t cmd)
{
	assert_int_equal(i8042_write(k, CMD, cmd), I8042_NOTHING);
	assert_true(i8042_read(k, CMD) & I8042_STR_OBF);
	return i8042_read(k, DATA);
}

static void test_power_on_state_lets_linux_write(void **state)
{
	struct fixture *f = *state;
	uint8_t st = i8042_read(f->k, CMD);

	/* kb_wait() in Linux's reboot polls for IBF clear before 0xFE. */
	assert_int_equal(st & I8042_STR_IBF, 0);
	assert_int_equal(st & I8042_STR_OBF, 0);
	assert_int_equal(st, I8042_STR_SYS | I8042_STR_UNLOCK);
	assert_true(i8042_a20_enabled(f->k));
	assert_int_equal(line(f, 1) || line(f, 12), 0);
	/* Not ours. */
	assert_int_equal(i8042_read(f->k, 0x61), 0xff);
	assert_int_equal(i8042_write(f->k, 0x61, 0xfe), I8042_NOTHING);
}

static void test_pulse_command_resets(void **state)
{
	struct fixture *f = *state;

	/* Linux's BOOT_KBD: outb(0xfe, 0x64). */
	assert_int_equal(i8042_write(f->k, CMD, 0xfe), I8042_RESET);
	/* Pulses that leave bit 0 (the reset line) alone do nothing. */
	assert_int_equal(i8042_write(f->k, CMD, 0xff), I8042_NOTHING);
	assert_int_equal(i8042_write(f->k, CMD, 0xfd), I8042_NOTHING);
	assert_int_equal(i8042_write(f->k, CMD, 0xf0), I8042_RESET);
	/* The status still lets a driver write after it. */
	assert_int_equal(i8042_read(f->k, CMD) & I8042_STR_IBF, 0);
}

static void test_output_port_write_resets_and_gates_a20(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ask(f->k, 0xd0), 0xcf);
	/* A20 off, reset line high: no reset. */
	assert_int_equal(i8042_write(f->k, CMD, 0xd1), I8042_NOTHING);
	assert_int_equal(i8042_write(f->k, DATA, 0xcd), I8042_NOTHING);
	assert_false(i8042_a20_enabled(f->k));
	assert_int_equal(ask(f->k, 0xd0), 0xcd);
	/* Bit 0 low: the CPU is reset (the line comes back high). */
	assert_int_equal(i8042_write(f->k, CMD, 0xd1), I8042_NOTHING);
	assert_int_equal(i8042_write(f->k, DATA, 0xce), I8042_RESET);
	assert_int_equal(ask(f->k, 0xd0), 0xcf);
	/* A data byte with no command pending goes to the keyboard. */
	assert_int_equal(i8042_write(f->k, DATA, 0xce), I8042_NOTHING);
}

/* Linux's i8042 probe: flush, self-test, command byte round trip, the
 * mouse port's loopback test (0xD3), port tests. */
static void test_linux_probe_sequence(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(i8042_read(f->k, CMD) & I8042_STR_OBF, 0);
	assert_int_equal(ask(f->k, 0xaa), 0x55);
	assert_true(i8042_read(f->k, CMD) & I8042_STR_SYS);
	uint8_t ctr = ask(f->k, 0x20);
	assert_int_equal(ctr, 0x45);
	/* Interrupts off while probing, as the driver does. */
	i8042_write(f->k, CMD, 0x60);
	i8042_write(f->k, DATA, (uint8_t)(ctr & ~0x03));
	assert_int_equal(ask(f->k, 0x20), 0x44);
	/* Loopback through the mouse port's output buffer. */
	i8042_write(f->k, CMD, 0xd3);
	i8042_write(f->k, DATA, 0x5a);
	uint8_t st = i8042_read(f->k, CMD);
	assert_true(st & I8042_STR_OBF);
	assert_true(st & I8042_STR_AUXDATA);
	assert_int_equal(i8042_read(f->k, DATA), 0x5a);
	assert_int_equal(i8042_read(f->k, CMD) &
			 (I8042_STR_OBF | I8042_STR_AUXDATA), 0);
	assert_int_equal(ask(f->k, 0xa9), 0x00);
	assert_int_equal(ask(f->k, 0xab), 0x00);
	/* Disabling the ports shows in the command byte. */
	i8042_write(f->k, CMD, 0xad);
	i8042_write(f->k, CMD, 0xa7);
	assert_int_equal(ask(f->k, 0x20), 0x44 | 0x30);
	i8042_write(f->k, CMD, 0xae);
	i8042_write(f->k, CMD, 0xa8);
	assert_int_equal(ask(f->k, 0x20), 0x44);
	/* The other RAM bytes keep what is written. */
	i8042_write(f->k, CMD, 0x65);
	i8042_write(f->k, DATA, 0x99);
	assert_int_equal(ask(f->k, 0x25), 0x99);
	assert_int_equal(ask(f->k, 0xc0), 0x80);
	assert_int_equal(ask(f->k, 0xe0), 0x00);
}

static void test_absent_devices_time_out(void **state)
{
	struct fixture *f = *state;

	/* atkbd's reset (0xFF) to a keyboard that is not there. */
	i8042_write(f->k, DATA, 0xff);
	uint8_t st = i8042_read(f->k, CMD);
	assert_true(st & I8042_STR_TIMEOUT);
	assert_true(st & I8042_STR_OBF);
	assert_int_equal(i8042_read(f->k, DATA), 0xfe);
	/* The same for the mouse, through 0xD4. */
	i8042_write(f->k, CMD, 0xd4);
	i8042_write(f->k, DATA, 0xf2);
	st = i8042_read(f->k, CMD);
	assert_true(st & I8042_STR_TIMEOUT);
	assert_true(st & I8042_STR_AUXDATA);
	assert_int_equal(i8042_read(f->k, DATA), 0xfe);
	/* The next command clears the time-out. */
	i8042_write(f->k, CMD, 0xae);
	assert_int_equal(i8042_read(f->k, CMD) & I8042_STR_TIMEOUT, 0);
}

static void test_output_buffer_drives_irq1_and_irq12(void **state)
{
	struct fixture *f = *state;

	/* Keyboard interrupt enabled at power-on: a controller answer
	 * raises IRQ 1 until it is read. */
	i8042_write(f->k, CMD, 0xd2);
	i8042_write(f->k, DATA, 0x1c);
	assert_true(line(f, 1));
	assert_false(line(f, 12));
	assert_int_equal(i8042_read(f->k, DATA), 0x1c);
	assert_false(line(f, 1));
	/* Mouse data needs the mouse interrupt enabled (bit 1). */
	i8042_write(f->k, CMD, 0xd3);
	i8042_write(f->k, DATA, 0x08);
	assert_false(line(f, 12));
	i8042_read(f->k, DATA);
	i8042_write(f->k, CMD, 0x60);
	i8042_write(f->k, DATA, 0x47);
	i8042_write(f->k, CMD, 0xd3);
	i8042_write(f->k, DATA, 0x08);
	assert_true(line(f, 12));
	assert_false(line(f, 1));
	/* Turning the interrupt off drops the line. */
	i8042_write(f->k, CMD, 0x60);
	i8042_write(f->k, DATA, 0x45);
	assert_false(line(f, 12));
	/* Clearing the system flag shows in the status. */
	assert_int_equal(i8042_read(f->k, CMD) & I8042_STR_SYS, I8042_STR_SYS);
	i8042_write(f->k, CMD, 0x60);
	i8042_write(f->k, DATA, 0x41);
	assert_int_equal(i8042_read(f->k, CMD) & I8042_STR_SYS, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_power_on_state_lets_linux_write),
		T(test_pulse_command_resets),
		T(test_output_port_write_resets_and_gates_a20),
		T(test_linux_probe_sequence),
		T(test_absent_devices_time_out),
		T(test_output_buffer_drives_irq1_and_irq12),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
