/*
 * Interrupt routing of the PC platform: the wires between the devices that
 * raise interrupts and the interrupt controllers that take them.
 *
 * Two kinds of lines:
 *  - ISA IRQ lines 0-15 (PIT on 0, keyboard on 1, COM1 on 4, RTC on 8, ...).
 *    Each has one source (ISA lines are not shared).
 *  - Global system interrupts (GSIs) 0..IRQ_ROUTER_GSI_COUNT-1, the input
 *    pins of the IO-APIC in the numbering of ACPI. ISA IRQ n drives GSI n,
 *    except where an interrupt source override says otherwise (the usual
 *    one, also in QEMU's and most firmware's MADT: ISA IRQ 0 -> GSI 2).
 *    GSIs with no ISA IRQ mapped on them (16 and up, and 2 when IRQ 0 is
 *    moved there) are for PCI-style devices, raised with
 *    irq_router_set_gsi.
 *
 * Interrupt controllers attach as sinks:
 *  - IRQ_SINK_ISA sinks (the 8259A pair) see ISA IRQ line n as their input
 *    pin n, overrides do not apply. GSIs raised directly are not seen.
 *  - IRQ_SINK_GSI sinks (the IO-APIC) see every GSI as input pin = GSI
 *    number, the ISA lines arriving on their mapped GSI.
 *
 * Lines carry levels, never interrupts: a sink is told "pin P is now high /
 * low" only when the level of P changes. Whether a level or an edge makes
 * an interrupt is the sink's business (ELCR for the PIC, the redirection
 * entry for the IO-APIC). An edge-triggered source that has no level of its
 * own (a PIT mode-2 pulse) uses irq_router_pulse_isa_irq: low, high, low.
 * Devices whose output really is a level (RTC IRQF, a UART's interrupt
 * output) hold the line with irq_router_set_isa_irq.
 *
 * Threading: one mutex per router, held while sinks are called, so every
 * sink sees the changes of one pin in the order they happened and a sink
 * attached late sees the current levels once (irq_router_attach replays
 * every high pin). Lock order: device lock -> router lock -> sink lock. A
 * sink's set_line therefore must not call back into the router or into any
 * device; it records the level and at most notifies its own owner (which
 * must not call the router either).
 */
#ifndef HVGDB_IRQ_ROUTER_H
#define HVGDB_IRQ_ROUTER_H

#include <stdbool.h>

#define IRQ_ROUTER_ISA_LINES 16
/* The pin count of one IO-APIC (ICH/PIIX, QEMU's: 24). */
#define IRQ_ROUTER_GSI_COUNT 24
#define IRQ_ROUTER_MAX_SINKS 4

struct irq_router;

enum irq_sink_kind {
	IRQ_SINK_ISA, /* pins are ISA IRQ numbers 0-15 (the 8259A pair) */
	IRQ_SINK_GSI, /* pins are GSIs (an IO-APIC with its base at GSI 0) */
};

struct irq_sink_ops {
	/* Input pin `pin` of this sink went to `level`. Called with the
	 * router's lock held: see the threading rules above. */
	void (*set_line)(void *ctx, unsigned pin, bool level);
	void *ctx;
};

/* Every line low, identity mapping ISA IRQ n -> GSI n, no sinks. */
struct irq_router *irq_router_create(void);
void irq_router_destroy(struct irq_router *r);

/* Add a sink; it is told at once of every pin already high. Returns 0,
 * -EINVAL for bad arguments, -ENOSPC past IRQ_ROUTER_MAX_SINKS. Attach
 * before the guest runs; sinks cannot be detached (the router lives as
 * long as the platform). */
int irq_router_attach(struct irq_router *r, enum irq_sink_kind kind,
		      const struct irq_sink_ops *ops);

/* Interrupt source override: ISA IRQ `isa_irq` drives GSI `gsi` instead
 * of GSI `isa_irq` (keep it identical to what the MADT tells the guest).
 * Returns 0 or -EINVAL. GSI sinks see the moved line leave its old pin and
 * arrive on the new one if it is high. */
int irq_router_set_isa_override(struct irq_router *r, unsigned isa_irq,
				unsigned gsi);
/* The GSI ISA IRQ `isa_irq` drives, or -1 for a bad IRQ number. */
int irq_router_isa_to_gsi(struct irq_router *r, unsigned isa_irq);

/* Set ISA IRQ line `irq` to `level`. Bad IRQ numbers are ignored (and
 * return -EINVAL); setting the level a line already has changes nothing. */
int irq_router_set_isa_irq(struct irq_router *r, unsigned irq, bool level);
/* An edge on an ISA line: it goes high then low again, from low even if
 * it was high, and ends low (an interrupt for edge-triggered inputs,
 * nothing left asserted for level-triggered ones). */
int irq_router_pulse_isa_irq(struct irq_router *r, unsigned irq);
/* Set a GSI directly (devices wired to the IO-APIC only). A GSI that an
 * ISA IRQ is mapped to is driven by the OR of both. */
int irq_router_set_gsi(struct irq_router *r, unsigned gsi, bool level);

/* Current levels, for tests and `monitor` output: bit n = line n high. */
unsigned irq_router_isa_levels(struct irq_router *r);
unsigned irq_router_gsi_levels(struct irq_router *r);

#endif
