/*
 * 8042 keyboard controller without devices (see i8042.h). Command and
 * register semantics from the IBM PC/AT technical reference and the
 * 8042-compatible controllers' data sheets.
 */
#include "devices/i8042.h"

#include <pthread.h>
#include <stdlib.h>

#include "sync/checked_mutex.h"

/* Command byte (RAM byte 0). */
#define CCB_KBD_INT 0x01
#define CCB_AUX_INT 0x02
#define CCB_SYS 0x04
#define CCB_KBD_DISABLE 0x10
#define CCB_AUX_DISABLE 0x20
#define CCB_XLATE 0x40
#define CCB_POWER_ON (CCB_KBD_INT | CCB_SYS | CCB_XLATE)

/* Output port. */
#define OUT_RESET_HIGH 0x01 /* bit 0 low resets the CPU */
#define OUT_A20 0x02
/* Bits 2-3 unused (high), 4-7: buffer-full and clock/data lines, high
 * when idle. */
#define OUT_POWER_ON 0xCF

enum {
	CMD_READ_RAM = 0x20,   /* 0x20-0x3f: RAM byte n - 0x20 */
	CMD_WRITE_RAM = 0x60,  /* 0x60-0x7f */
	CMD_AUX_DISABLE = 0xA7,
	CMD_AUX_ENABLE = 0xA8,
	CMD_AUX_TEST = 0xA9,
	CMD_SELF_TEST = 0xAA,
	CMD_KBD_TEST = 0xAB,
	CMD_KBD_DISABLE = 0xAD,
	CMD_KBD_ENABLE = 0xAE,
	CMD_READ_INPUT = 0xC0,
	CMD_READ_OUTPUT = 0xD0,
	CMD_WRITE_OUTPUT = 0xD1,
	CMD_WRITE_KBD_BUF = 0xD2,
	CMD_WRITE_AUX_BUF = 0xD3,
	CMD_WRITE_AUX = 0xD4,
	CMD_READ_TEST = 0xE0,
	CMD_PULSE = 0xF0,      /* 0xF0-0xFF: pulse output bits 0-3 where 0 */
};

#define SELF_TEST_OK 0x55
#define PORT_TEST_OK 0x00
/* Input port: bit 7 high, keyboard not inhibited (no key lock). */
#define INPUT_PORT 0x80
/* What an absent device "answers" after a transmit time-out. */
#define NO_DEVICE_REPLY 0xFE

struct i8042 {
	struct checked_mutex lock;
	struct irq_router *router;
	uint8_t ram[32]; /* ram[0] is the command byte */
	uint8_t outport;
	uint8_t status;
	uint8_t out;       /* output buffer, valid with STR_OBF */
	uint8_t pending;   /* command waiting for its data byte, or 0 */
	bool kbd_irq, aux_irq;
};

struct i8042 *i8042_create(struct irq_router *router)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	if (checked_mutex_init(&k->lock, LOCK_RANK_I8042)) {
		free(k);
		return NULL;
	}
	k->router = router;
	k->ram[0] = CCB_POWER_ON;
	k->outport = OUT_POWER_ON;
	k->status = I8042_STR_SYS | I8042_STR_UNLOCK;
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	checked_mutex_destroy(&k->lock);
	free(k);
}

/* The IRQ lines follow a full output buffer, by source, if enabled. */
static void update_irqs_locked(struct i8042 *k)
{
	lock_assert_held(&k->lock);
	bool full = k->status & I8042_STR_OBF;
	bool aux = k->status & I8042_STR_AUXDATA;
	bool kbd_irq = full && !aux && (k->ram[0] & CCB_KBD_INT);
	bool aux_irq = full && aux && (k->ram[0] & CCB_AUX_INT);

	if (kbd_irq != k->kbd_irq && k->router)
		irq_router_set_isa_irq(k->router, I8042_KBD_IRQ, kbd_irq);
	if (aux_irq != k->aux_irq && k->router)
		irq_router_set_isa_irq(k->router, I8042_AUX_IRQ, aux_irq);
	k->kbd_irq = kbd_irq;
	k->aux_irq = aux_irq;
}

/* A byte into the output buffer; a full one is overwritten, which only
 * a driver ignoring OBF could see. */
static void output_locked(struct i8042 *k, uint8_t val, bool from_aux)
{
	lock_assert_held(&k->lock);
	k->out = val;
	k->status |= I8042_STR_OBF;
	if (from_aux)
		k->status |= I8042_STR_AUXDATA;
	else
		k->status &= (uint8_t)~I8042_STR_AUXDATA;
}

static void no_device_locked(struct i8042 *k, bool aux)
{
	lock_assert_held(&k->lock);
	k->status |= I8042_STR_TIMEOUT;
	output_locked(k, NO_DEVICE_REPLY, aux);
}

static void write_ccb_locked(struct i8042 *k, uint8_t val)
{
	lock_assert_held(&k->lock);
	k->ram[0] = val;
	if (val & CCB_SYS)
		k->status |= I8042_STR_SYS;
	else
		k->status &= (uint8_t)~I8042_STR_SYS;
}

static enum i8042_effect write_outport_locked(struct i8042 *k, uint8_t val)
{
	lock_assert_held(&k->lock);
	k->outport = val | OUT_RESET_HIGH; /* the reset is a pulse */
	return (val & OUT_RESET_HIGH) ? I8042_NOTHING : I8042_RESET;
}

static enum i8042_effect command_locked(struct i8042 *k, uint8_t cmd)
{
	lock_assert_held(&k->lock);
	k->status &= (uint8_t)~I8042_STR_TIMEOUT;
	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
		output_locked(k, k->ram[cmd - CMD_READ_RAM], false);
		return I8042_NOTHING;
	}
	if (cmd >= CMD_PULSE)
		return (cmd & OUT_RESET_HIGH) ? I8042_NOTHING : I8042_RESET;
	switch (cmd) {
	case CMD_AUX_DISABLE:
		k->ram[0] |= CCB_AUX_DISABLE;
		break;
	case CMD_AUX_ENABLE:
		k->ram[0] &= (uint8_t)~CCB_AUX_DISABLE;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		output_locked(k, PORT_TEST_OK, false);
		break;
	case CMD_SELF_TEST:
		k->status |= I8042_STR_SYS;
		output_locked(k, SELF_TEST_OK, false);
		break;
	case CMD_KBD_DISABLE:
		k->ram[0] |= CCB_KBD_DISABLE;
		break;
	case CMD_KBD_ENABLE:
		k->ram[0] &= (uint8_t)~CCB_KBD_DISABLE;
		break;
	case CMD_READ_INPUT:
		output_locked(k, INPUT_PORT, false);
		break;
	case CMD_READ_OUTPUT:
		output_locked(k, k->outport, false);
		break;
	case CMD_READ_TEST:
		output_locked(k, 0, false);
		break;
	default:
		/* Commands with a data byte, and unknown ones (ignored, as
		 * the chip does). */
		if ((cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) ||
		    (cmd >= CMD_WRITE_OUTPUT && cmd <= CMD_WRITE_AUX))
			k->pending = cmd;
		break;
	}
	return I8042_NOTHING;
}

static enum i8042_effect data_locked(struct i8042 *k, uint8_t val)
{
	lock_assert_held(&k->lock);
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
		if (cmd == CMD_WRITE_RAM)
			write_ccb_locked(k, val);
		else
			k->ram[cmd - CMD_WRITE_RAM] = val;
		return I8042_NOTHING;
	}
	switch (cmd) {
	case CMD_WRITE_OUTPUT:
		return write_outport_locked(k, val);
	case CMD_WRITE_KBD_BUF:
		output_locked(k, val, false);
		break;
	case CMD_WRITE_AUX_BUF:
		output_locked(k, val, true);
		break;
	case CMD_WRITE_AUX:
		no_device_locked(k, true);
		break;
	default: /* a byte for the keyboard */
		no_device_locked(k, false);
		break;
	}
	return I8042_NOTHING;
}

uint8_t i8042_read(struct i8042 *k, uint16_t port)
{
	uint8_t val = 0xff;

	checked_mutex_lock(&k->lock);
	if (port == I8042_COMMAND_PORT) {
		val = k->status;
	} else if (port == I8042_DATA_PORT) {
		/* An empty buffer reads its last byte again. */
		val = k->out;
		k->status &= (uint8_t)~(I8042_STR_OBF | I8042_STR_AUXDATA);
		update_irqs_locked(k);
	}
	checked_mutex_unlock(&k->lock);
	return val;
}

enum i8042_effect i8042_write(struct i8042 *k, uint16_t port, uint8_t val)
{
	enum i8042_effect effect = I8042_NOTHING;

	checked_mutex_lock(&k->lock);
	if (port == I8042_COMMAND_PORT) {
		k->status |= I8042_STR_CMD;
		k->pending = 0;
		effect = command_locked(k, val);
	} else if (port == I8042_DATA_PORT) {
		k->status &= (uint8_t)~I8042_STR_CMD;
		effect = data_locked(k, val);
	}
	update_irqs_locked(k);
	checked_mutex_unlock(&k->lock);
	return effect;
}

bool i8042_a20_enabled(struct i8042 *k)
{
	checked_mutex_lock(&k->lock);
	bool on = k->outport & OUT_A20;
	checked_mutex_unlock(&k->lock);
	return on;
}
