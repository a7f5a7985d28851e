/*
 * 8259A pair. Register semantics from the Intel 8259A data sheet (order no.
 * 231468), ELCR from the PIIX/ICH data sheets.
 *
 * Priorities: each chip keeps `lowest_plus_one`, the IR number with the
 * highest priority (0 after initialisation; rotation moves it). The
 * priority level of IR i is (i - lowest_plus_one) mod 8, level 0 the
 * highest.
 *
 * The cascade: the slave's INT output is a level on the master's IR2 input
 * (it stays high while the slave has a request to give), so the master's
 * IRR bit 2 simply follows it, whatever the ELCR says.
 */
#include "devices/i8259.h"

#include <pthread.h>
#include <stdlib.h>

#include "sync/checked_mutex.h"

#define NO_IRQ 8

/* ELCR bits that can be set: IRQ 0, 1, 2 (master) and 8, 13 (slave) are
 * hard-wired edge-triggered on PIIX. */
#define ELCR_MASTER_WRITABLE 0xf8
#define ELCR_SLAVE_WRITABLE 0xde

/* Command-port writes. */
#define ICW1_SELECT 0x10
#define ICW1_IC4 0x01
#define ICW1_SINGLE 0x02
#define OCW3_SELECT 0x08
#define OCW3_POLL 0x04
#define OCW3_READ_REG 0x02
#define OCW3_READ_ISR 0x01
#define OCW3_SET_SMM 0x40
#define OCW3_SMM 0x20
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10

/* OCW2 commands (bits 7:5: R, SL, EOI). */
enum ocw2 {
	OCW2_CLEAR_ROTATE_AEOI = 0,
	OCW2_NONSPECIFIC_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_SET_ROTATE_AEOI = 4,
	OCW2_ROTATE_NONSPECIFIC_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

struct chip {
	uint8_t irr, isr, imr, elcr, elcr_writable;
	uint8_t lines; /* input levels, for edge detection */
	uint8_t base;  /* vector of IR0 */
	uint8_t lowest_plus_one;
	uint8_t expect_icw; /* 0: none; 2, 3 or 4: next data-port write */
	bool is_master, icw4_expected, single, auto_eoi, rotate_in_aeoi;
	bool special_mask, special_fully_nested, read_isr, poll;
};

struct i8259 {
	struct checked_mutex lock;
	struct chip master, slave;
	bool output; /* last INT level reported through intr_changed */
	struct i8259_ops ops;
};

/* Priority level (0 highest) of the highest-priority IR in `mask`, or
 * NO_IRQ. */
static unsigned best_level(const struct chip *c, uint8_t mask)
{
	for (unsigned level = 0; level < 8; level++)
		if (mask & (1u << ((level + c->lowest_plus_one) & 7)))
			return level;
	return NO_IRQ;
}

static unsigned level_to_irq(const struct chip *c, unsigned level)
{
	return (level + c->lowest_plus_one) & 7;
}

/* The IR this chip would raise INT for now, or -1. */
static int chip_pending(const struct chip *c)
{
	unsigned req = best_level(c, c->irr & ~c->imr);

	if (req == NO_IRQ)
		return -1;
	uint8_t blocking = c->isr;
	/* Special mask mode: a masked in-service level inhibits nothing. */
	if (c->special_mask)
		blocking &= ~c->imr;
	/* Special fully nested: the slave's further requests get through
	 * while one of its interrupts is in service. */
	if (c->is_master && c->special_fully_nested && !c->single)
		blocking &= ~(1u << I8259_CASCADE_IRQ);
	return req < best_level(c, blocking) ? (int)level_to_irq(c, req) : -1;
}

static void chip_set_input(struct chip *c, unsigned ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);

	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= (uint8_t)~bit;
}

/* The master's IR2 follows the slave's INT output. */
static void update_cascade(struct i8259 *p)
{
	uint8_t bit = 1u << I8259_CASCADE_IRQ;

	if (p->master.single)
		return;
	if (chip_pending(&p->slave) >= 0) {
		p->master.irr |= bit;
		p->master.lines |= bit;
	} else {
		p->master.irr &= (uint8_t)~bit;
		p->master.lines &= (uint8_t)~bit;
	}
}

/* Returns true if the INT output changed, for the caller to notify once
 * the lock is released. */
static bool update_output_locked(struct i8259 *p)
{
	lock_assert_held(&p->lock);
	update_cascade(p);
	bool out = chip_pending(&p->master) >= 0;
	bool changed = out != p->output;

	p->output = out;
	return changed;
}

static void unlock_and_notify(struct i8259 *p, bool changed)
{
	checked_mutex_unlock(&p->lock);
	if (changed && p->ops.intr_changed)
		p->ops.intr_changed(p->ops.ctx);
}

/* ICW1 resets the chip (data sheet: mask cleared, IR7 lowest priority,
 * special mask off, status read = IRR, edge sense reset). */
static void chip_init(struct chip *c, uint8_t icw1)
{
	c->imr = 0;
	c->isr = 0;
	/* Edge-triggered inputs need a new rising edge; level-triggered ones
	 * still request while high. */
	c->irr = c->lines & c->elcr;
	c->lowest_plus_one = 0;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->icw4_expected = icw1 & ICW1_IC4;
	c->single = icw1 & ICW1_SINGLE;
	if (!c->icw4_expected) {
		c->auto_eoi = false;
		c->special_fully_nested = false;
	}
	c->rotate_in_aeoi = false;
	c->expect_icw = 2;
}

static void chip_power_on(struct chip *c, bool master, uint8_t base)
{
	*c = (struct chip){ 0 };
	c->is_master = master;
	c->elcr_writable = master ? ELCR_MASTER_WRITABLE : ELCR_SLAVE_WRITABLE;
	c->base = base;
	c->imr = 0xff;
}

struct i8259 *i8259_create(const struct i8259_ops *ops)
{
	struct i8259 *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (checked_mutex_init(&p->lock, LOCK_RANK_PIC) != 0) {
		free(p);
		return NULL;
	}
	if (ops)
		p->ops = *ops;
	/* The BIOS's vector bases. */
	chip_power_on(&p->master, true, 0x08);
	chip_power_on(&p->slave, false, 0x70);
	return p;
}

void i8259_destroy(struct i8259 *p)
{
	if (!p)
		return;
	checked_mutex_destroy(&p->lock);
	free(p);
}

static void router_set_line(void *ctx, unsigned pin, bool level)
{
	/* IRQ 2 is the cascade input, not a bus line. */
	if (pin != I8259_CASCADE_IRQ)
		i8259_set_irq(ctx, pin, level);
}

int i8259_attach(struct i8259 *p, struct irq_router *r)
{
	struct irq_sink_ops ops = { router_set_line, p };

	return irq_router_attach(r, IRQ_SINK_ISA, &ops);
}

void i8259_set_irq(struct i8259 *p, unsigned irq, bool level)
{
	if (irq >= 16)
		return;
	checked_mutex_lock(&p->lock);
	if (irq < 8)
		chip_set_input(&p->master, irq, level);
	else
		chip_set_input(&p->slave, irq - 8, level);
	unlock_and_notify(p, update_output_locked(p));
}

/* Acknowledge IR `ir` of one chip (INTA or poll). */
static void chip_ack(struct chip *c, unsigned ir)
{
	uint8_t bit = (uint8_t)(1u << ir);

	/* An edge request is consumed; a level request stays while the line
	 * is high, and is held back by the in-service bit until the EOI. */
	if (!(c->elcr & bit))
		c->irr &= (uint8_t)~bit;
	if (!c->auto_eoi)
		c->isr |= bit;
	else if (c->rotate_in_aeoi)
		c->lowest_plus_one = (uint8_t)((ir + 1) & 7);
}

bool i8259_has_interrupt(struct i8259 *p)
{
	checked_mutex_lock(&p->lock);
	update_cascade(p);
	bool pending = chip_pending(&p->master) >= 0;
	checked_mutex_unlock(&p->lock);
	return pending;
}

uint8_t i8259_intack(struct i8259 *p)
{
	uint8_t vector;

	checked_mutex_lock(&p->lock);
	update_cascade(p);
	int ir = chip_pending(&p->master);
	if (ir < 0) {
		vector = p->master.base + 7;
	} else if (ir == I8259_CASCADE_IRQ && !p->master.single) {
		/* The master takes IR2 in service and lets the slave put its
		 * vector on the bus. */
		chip_ack(&p->master, (unsigned)ir);
		int sir = chip_pending(&p->slave);
		if (sir < 0) {
			vector = p->slave.base + 7;
		} else {
			chip_ack(&p->slave, (unsigned)sir);
			vector = (uint8_t)(p->slave.base + sir);
		}
	} else {
		chip_ack(&p->master, (unsigned)ir);
		vector = (uint8_t)(p->master.base + ir);
	}
	unlock_and_notify(p, update_output_locked(p));
	return vector;
}

/* OCW3 poll: the read that follows acknowledges the best request. */
static uint8_t chip_poll(struct chip *c)
{
	int ir = chip_pending(c);

	c->poll = false;
	if (ir < 0)
		return 0;
	chip_ack(c, (unsigned)ir);
	return (uint8_t)(0x80 | ir);
}

static void chip_ocw2(struct chip *c, uint8_t val)
{
	unsigned ir = val & 7;
	unsigned level;

	switch ((enum ocw2)(val >> 5)) {
	case OCW2_CLEAR_ROTATE_AEOI:
		c->rotate_in_aeoi = false;
		break;
	case OCW2_SET_ROTATE_AEOI:
		c->rotate_in_aeoi = true;
		break;
	case OCW2_NONSPECIFIC_EOI:
	case OCW2_ROTATE_NONSPECIFIC_EOI:
		/* Clears the highest-priority in-service bit. */
		level = best_level(c, c->isr);
		if (level == NO_IRQ)
			break;
		ir = level_to_irq(c, level);
		c->isr &= (uint8_t)~(1u << ir);
		if ((val >> 5) == OCW2_ROTATE_NONSPECIFIC_EOI)
			c->lowest_plus_one = (uint8_t)((ir + 1) & 7);
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (uint8_t)~(1u << ir);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= (uint8_t)~(1u << ir);
		c->lowest_plus_one = (uint8_t)((ir + 1) & 7);
		break;
	case OCW2_SET_PRIORITY: /* IR `ir` becomes the lowest priority */
		c->lowest_plus_one = (uint8_t)((ir + 1) & 7);
		break;
	case OCW2_NOP:
		break;
	}
}

static void chip_write_command(struct chip *c, uint8_t val)
{
	if (val & ICW1_SELECT) {
		chip_init(c, val);
	} else if (val & OCW3_SELECT) {
		if (val & OCW3_POLL)
			c->poll = true;
		if (val & OCW3_READ_REG)
			c->read_isr = val & OCW3_READ_ISR;
		if (val & OCW3_SET_SMM)
			c->special_mask = val & OCW3_SMM;
	} else {
		chip_ocw2(c, val);
	}
}

static void chip_write_data(struct chip *c, uint8_t val)
{
	switch (c->expect_icw) {
	case 2:
		c->base = val & 0xf8;
		c->expect_icw = c->single ? (c->icw4_expected ? 4 : 0) : 3;
		break;
	case 3: /* the cascade is wired on IR2 whatever ICW3 says */
		c->expect_icw = c->icw4_expected ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = val & ICW4_AEOI;
		c->special_fully_nested = val & ICW4_SFNM;
		c->expect_icw = 0;
		break;
	default:
		c->imr = val;
		break;
	}
}

static void chip_write_elcr(struct chip *c, uint8_t val)
{
	c->elcr = val & c->elcr_writable;
	/* Lines now level-triggered request while high. */
	c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
}

uint8_t i8259_read(struct i8259 *p, uint16_t port)
{
	struct chip *c;
	uint8_t val = 0xff;

	checked_mutex_lock(&p->lock);
	update_cascade(p);
	switch (port) {
	case I8259_MASTER_PORT:
	case I8259_MASTER_PORT + 1:
	case I8259_SLAVE_PORT:
	case I8259_SLAVE_PORT + 1:
		c = (port & 0xf0) == I8259_MASTER_PORT ? &p->master : &p->slave;
		if (c->poll)
			val = chip_poll(c);
		else if (port & 1)
			val = c->imr;
		else
			val = c->read_isr ? c->isr : c->irr;
		break;
	case I8259_ELCR_PORT:
		val = p->master.elcr;
		break;
	case I8259_ELCR_PORT + 1:
		val = p->slave.elcr;
		break;
	default:
		break;
	}
	unlock_and_notify(p, update_output_locked(p));
	return val;
}

void i8259_write(struct i8259 *p, uint16_t port, uint8_t val)
{
	checked_mutex_lock(&p->lock);
	switch (port) {
	case I8259_MASTER_PORT:
		chip_write_command(&p->master, val);
		break;
	case I8259_MASTER_PORT + 1:
		chip_write_data(&p->master, val);
		break;
	case I8259_SLAVE_PORT:
		chip_write_command(&p->slave, val);
		break;
	case I8259_SLAVE_PORT + 1:
		chip_write_data(&p->slave, val);
		break;
	case I8259_ELCR_PORT:
		chip_write_elcr(&p->master, val);
		break;
	case I8259_ELCR_PORT + 1:
		chip_write_elcr(&p->slave, val);
		break;
	default:
		break;
	}
	unlock_and_notify(p, update_output_locked(p));
}
