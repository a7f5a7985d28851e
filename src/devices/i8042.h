/*
 * Intel 8042 keyboard controller at ports 0x60 (data) and 0x64 (status on
 * read, command on write), with no keyboard and no mouse behind it.
 *
 * Its job here is the CPU reset line: command 0xFE (pulse output port bit
 * 0 low), or command 0xD1 writing the output port with bit 0 clear, is
 * what Linux's reboot falls back to after ACPI (reboot=kbd, the default
 * chain) and what many small kernels use. i8042_write reports it; the
 * owner decides what a reset means (hvgdb ends the VM).
 *
 * The controller's own commands work as on the chip, so a driver that
 * probes it finds a healthy controller with nothing attached: read/write
 * the command byte and the other 31 bytes of RAM (0x20-0x3f, 0x60-0x7f),
 * self-test (0xAA: 0x55, sets the system flag), interface tests (0xA9,
 * 0xAB: 0x00), enable/disable either port (0xA7, 0xA8, 0xAD, 0xAE), read
 * the input port (0xC0) and test inputs (0xE0), read/write the output port
 * (0xD0/0xD1: bit 1 is the A20 gate, kept), write either output buffer
 * (0xD2/0xD3, which is how Linux tests the mouse port), pulse output lines
 * (0xF0-0xFF). A byte for a device (0x60 write, or 0xD4 then a byte for
 * the mouse) finds nobody: the controller answers 0xFE with the time-out
 * bit set, as after a transmit time-out.
 *
 * The output buffer drives ISA IRQ 1 (keyboard data, command byte bit 0)
 * or IRQ 12 (mouse data, bit 1) while full, through the router.
 *
 * Power-on state: as a BIOS leaves it: command byte 0x45 (keyboard
 * interrupt on, system flag, scan-code translation), output port 0xCF
 * (reset line high, A20 on), output buffer empty, keyboard not inhibited.
 *
 * Threading: one mutex; the router is called with it held (lock order
 * device -> router, as every platform device).
 */
#ifndef HVGDB_I8042_H
#define HVGDB_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq_router.h"

#define I8042_DATA_PORT 0x60
#define I8042_COMMAND_PORT 0x64
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

/* Status register bits. */
#define I8042_STR_OBF 0x01     /* output buffer full */
#define I8042_STR_IBF 0x02     /* input buffer full: never, writes complete at once */
#define I8042_STR_SYS 0x04     /* system flag */
#define I8042_STR_CMD 0x08     /* last write was to the command port */
#define I8042_STR_UNLOCK 0x10  /* keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20 /* the output buffer holds mouse data */
#define I8042_STR_TIMEOUT 0x40

/* What a write did beyond the controller's own state. */
enum i8042_effect {
	I8042_NOTHING,
	I8042_RESET, /* the CPU reset line was pulsed */
};

struct i8042;

/* router may be NULL (no interrupts). NULL when out of memory. */
struct i8042 *i8042_create(struct irq_router *router);
void i8042_destroy(struct i8042 *k);
/* port: I8042_DATA_PORT or I8042_COMMAND_PORT (others read 0xff). */
uint8_t i8042_read(struct i8042 *k, uint16_t port);
enum i8042_effect i8042_write(struct i8042 *k, uint16_t port, uint8_t val);
/* The output port's A20 gate (bit 1), for tests and a future A20 model. */
bool i8042_a20_enabled(struct i8042 *k);

#endif
