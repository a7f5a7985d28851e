/*
 * Local APIC model (xAPIC, MMIO page at 0xFEE00000): ID, version, TPR, EOI,
 * SVR, ISR/TMR/IRR, ESR, ICR (fixed, lowest-priority, NMI, INIT and STARTUP
 * IPIs to physical or logical destinations and shorthands), LVT timer
 * (one-shot, periodic; TSC-deadline not offered), divide, initial/current
 * count. The timer counts at 1 GHz / divide, as QEMU's does, so guests time
 * the same under both.
 *
 * Thread-safe: each lapic has its own mutex; reads/writes come from its own
 * vCPU thread, lapic_set_irr/lapic_set_nmi from any thread.
 */
#ifndef HVGDB_LAPIC_H
#define HVGDB_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_BASE 0xFEE00000ULL
#define LAPIC_SIZE 0x1000ULL
#define LAPIC_TIMER_HZ 1000000000ULL

struct lapic;

enum lapic_delivery { LAPIC_DM_FIXED, LAPIC_DM_NMI, LAPIC_DM_INIT,
		      LAPIC_DM_STARTUP };

/* The ICR's destination shorthand. */
enum lapic_ipi_target { LAPIC_TO_DEST, LAPIC_TO_SELF, LAPIC_TO_ALL,
			LAPIC_TO_OTHERS };

/* An IPI as the ICR describes it. */
struct lapic_ipi {
	int from;                 /* the sender's APIC ID */
	enum lapic_ipi_target to;
	/* LAPIC_TO_DEST: the ICR's destination field, physical (an APIC ID,
	 * 0xff broadcast) or logical (matched against every LDR); the owner
	 * decides who it reaches with lapic_matches_destination. */
	uint8_t dest;
	bool logical;
	bool lowest_priority;     /* one of the matching APICs takes it */
	int vector;
	enum lapic_delivery mode;
};

struct lapic_ops {
	/* Send an IPI to the APICs it names. */
	void (*send_ipi)(void *ctx, const struct lapic_ipi *ipi);
	/* The timer was (re)programmed: the owner recomputes its deadline. */
	void (*timer_changed)(void *ctx, int apic_id);
	void *ctx;
	/* The guest wrote EOI for a vector that was accepted level-triggered
	 * (its TMR bit was set): the owner passes it on to every IO-APIC
	 * (ioapic_eoi), which clears the remote IRR of the pins using that
	 * vector. Optional; last so that positional initialisers stay valid. */
	void (*eoi_broadcast)(void *ctx, int apic_id, int vector);
};

struct lapic *lapic_create(unsigned apic_id, const struct lapic_ops *ops);
void lapic_destroy(struct lapic *l);

/* MMIO: offset within the page, 4-byte aligned accesses (others read 0 /
 * are ignored). now_ns is the guest clock. */
uint32_t lapic_read(struct lapic *l, uint32_t offset, uint64_t now_ns);
void lapic_write(struct lapic *l, uint32_t offset, uint32_t val,
		 uint64_t now_ns);

/* Latch a fixed interrupt in IRR / an NMI. lapic_set_irr is an
 * edge-triggered interrupt (IPIs, the timer, MSIs); lapic_set_irr_trigger
 * also records the trigger mode in TMR, as the APIC does on acceptance: the
 * EOI of a vector accepted level-triggered is broadcast (eoi_broadcast). */
void lapic_set_irr(struct lapic *l, int vector);
void lapic_set_irr_trigger(struct lapic *l, int vector, bool level_triggered);
void lapic_set_nmi(struct lapic *l);

/* Would this APIC accept an interrupt message (IO-APIC redirection entry,
 * MSI) sent to dest? Physical mode: dest is its APIC ID or 0xff (broadcast).
 * Logical mode: dest is matched against the LDR in the model the DFR
 * selects (flat: any common bit of the 8-bit mask; cluster: same cluster in
 * bits 7-4 and a common bit in bits 3-0); 0xff reaches every APIC. */
bool lapic_matches_destination(struct lapic *l, uint8_t dest, bool logical);

/* Fire the timer if its deadline is <= now_ns (re-arming a periodic one).
 * Returns true if it fired. */
bool lapic_timer_update(struct lapic *l, uint64_t now_ns);
/* Absolute deadline in ns of the next timer interrupt, UINT64_MAX if none. */
uint64_t lapic_next_deadline(struct lapic *l);

/* Highest-priority IRR vector deliverable now (above PPR), or -1. */
int lapic_pending_intr(struct lapic *l);
/* The CPU took vector: IRR -> ISR. */
void lapic_accept_intr(struct lapic *l, int vector);
/* Take a pending NMI (true once per NMI). */
bool lapic_take_nmi(struct lapic *l);
/* Anything that would wake a halted CPU with IF=1 (IRR above PPR) or NMI. */
bool lapic_has_wake_event(struct lapic *l, bool interrupts_enabled);

#endif
