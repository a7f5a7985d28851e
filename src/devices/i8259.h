/*
 * The PC's 8259A programmable interrupt controller pair: master at ports
 * 0x20/0x21 (ISA IRQs 0-7), slave at 0xa0/0xa1 (IRQs 8-15) cascaded on the
 * master's IR2, and the edge/level control registers (ELCR) at
 * 0x4d0/0x4d1 as in the PIIX/ICH south bridges.
 *
 * Modelled: ICW1-ICW4, OCW1 (mask, read back on the data port), OCW2
 * (non-specific, specific and rotating EOI, set priority, rotate in
 * auto-EOI), OCW3 (IRR/ISR read-back, poll, special mask), auto-EOI,
 * special fully nested mode, edge and level triggering per line through
 * the ELCR (IRQ 0, 1, 2, 8 and 13 are always edge-triggered, as the ELCR
 * of the PIIX has them), the spurious IRQ 7 when a request vanishes
 * before the acknowledge. (The slave's spurious IRQ 15 needs its request
 * to vanish between the master's and the slave's part of one acknowledge,
 * which i8259_intack does atomically: it cannot happen here.) Not modelled: 8080/8085 mode, buffered mode and
 * ICW1.LTIM (the ELCR decides the trigger mode, as on PIIX), other cascade
 * wirings than slave-on-IR2 (ICW3 is accepted and ignored).
 *
 * Power-on state: as a BIOS leaves it (bases 0x08 / 0x70) with every line
 * masked, so nothing is delivered before the guest programs the pair.
 *
 * The pair's INT output goes to the CPU (LINT0 of the LAPIC in ExtINT
 * virtual-wire mode); the CPU takes an interrupt with i8259_intack.
 *
 * Threading: one mutex. intr_changed is called after it is released, so
 * its receiver may call i8259_has_interrupt / i8259_intack; it may run
 * under the irq_router's lock (input changes come through the router), so
 * it must not call the router or a device: set a flag, kick a vCPU.
 */
#ifndef HVGDB_I8259_H
#define HVGDB_I8259_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq_router.h"

#define I8259_MASTER_PORT 0x20
#define I8259_SLAVE_PORT 0xa0
#define I8259_ELCR_PORT 0x4d0
#define I8259_CASCADE_IRQ 2

struct i8259;

struct i8259_ops {
	/* The INT output may have changed level: re-read it with
	 * i8259_has_interrupt. A notification, not a level: calls from two
	 * threads may arrive in either order. */
	void (*intr_changed)(void *ctx);
	void *ctx;
};

/* ops may be NULL (the output is then only polled). */
struct i8259 *i8259_create(const struct i8259_ops *ops);
void i8259_destroy(struct i8259 *p);

/* Attach the pair's inputs to the router's ISA lines (IRQ 2 is the
 * cascade: the router's line 2 is not connected, as on a PC/AT). */
int i8259_attach(struct i8259 *p, struct irq_router *r);

/* Input pin `irq` (0-15) is now at `level` (what the router calls). */
void i8259_set_irq(struct i8259 *p, unsigned irq, bool level);

/* Port access: 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 (others read 0xff
 * and ignore writes). */
uint8_t i8259_read(struct i8259 *p, uint16_t port);
void i8259_write(struct i8259 *p, uint16_t port, uint8_t val);

/* The INT output to the CPU: an unmasked request of a priority above every
 * in-service one. */
bool i8259_has_interrupt(struct i8259 *p);
/* The CPU's interrupt acknowledge (INTA): marks the request in service
 * (unless auto-EOI) and returns its vector. Always a vector: a request
 * that is gone by now gives the spurious vector of IR7 (master base + 7)
 * with no bit set in service, as the hardware does. */
uint8_t i8259_intack(struct i8259 *p);

#endif
