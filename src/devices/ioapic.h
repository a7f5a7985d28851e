/*
 * I/O APIC model (82093AA / ICH register set, version 0x20, 24 pins), MMIO
 * page at 0xFEC00000: IOREGSEL (0x00), IOWIN (0x10) and the EOI register
 * (0x40) of version-0x20 parts. Registers behind IOWIN: ID, version,
 * arbitration ID and 24 64-bit redirection entries.
 *
 * Inputs: ioapic_set_irq(pin, asserted) from the interrupt router (logical
 * levels: true = asserted, whatever the pin's polarity bit says, as in
 * QEMU). Output: an interrupt message per delivery, through ops.deliver; the
 * owner resolves the destination on the APIC bus (lapic_matches_destination)
 * and latches the vector with its trigger mode (lapic_set_irr_trigger).
 * The LAPIC's EOI broadcast comes back through ioapic_eoi(vector).
 *
 * Thread-safe: one mutex per IO-APIC. ops.deliver is called with that mutex
 * held (so messages leave in the order the pin changes happened); it must
 * not call back into the same IO-APIC. Lock order: ioapic, then lapic.
 */
#ifndef HVGDB_IOAPIC_H
#define HVGDB_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_BASE 0xFEC00000ULL
#define IOAPIC_SIZE 0x1000ULL
#define IOAPIC_PINS 24

/* MMIO offsets. */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_EOI 0x40

/* Delivery modes of a redirection entry (bits 10-8). */
enum ioapic_delivery {
	IOAPIC_DM_FIXED = 0,
	IOAPIC_DM_LOWEST = 1,
	IOAPIC_DM_SMI = 2,
	IOAPIC_DM_NMI = 4,
	IOAPIC_DM_INIT = 5,
	IOAPIC_DM_EXTINT = 7,
};

/* One interrupt message on the APIC bus. */
struct ioapic_msg {
	uint8_t dest;         /* APIC ID, or logical mask; 0xff: broadcast */
	bool dest_logical;    /* destination mode */
	uint8_t vector;       /* meaningless for NMI, INIT and ExtINT */
	enum ioapic_delivery mode;
	/* Level-triggered fixed/lowest-priority interrupt: the receiver must
	 * set the vector's TMR bit so that its EOI is broadcast back. */
	bool level;
	unsigned pin;
};

struct ioapic_ops {
	void (*deliver)(void *ctx, const struct ioapic_msg *msg);
	void *ctx;
};

struct ioapic;

/* id: the IO-APIC ID register's reset value (0-15, as the MADT says). */
struct ioapic *ioapic_create(uint8_t id, const struct ioapic_ops *ops);
void ioapic_destroy(struct ioapic *io);

/* MMIO: 32-bit accesses at an offset within the page; other offsets read
 * 0 and ignore writes. */
uint32_t ioapic_read(struct ioapic *io, uint32_t offset);
void ioapic_write(struct ioapic *io, uint32_t offset, uint32_t val);

/* Input pin level (true = asserted). An edge-triggered pin delivers on the
 * rising edge; a level-triggered pin delivers while asserted, once per EOI.
 * Pins out of range are ignored. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool asserted);

/* EOI broadcast from a local APIC for vector: clears remote IRR of every
 * level-triggered pin with that vector, and a pin still asserted delivers
 * again. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
