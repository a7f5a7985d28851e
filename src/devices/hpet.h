/*
 * HPET (IA-PC High Precision Event Timers, spec 1.0a) at 0xfed00000: a
 * 64-bit main counter at 100 MHz and three comparators with one-shot and
 * (comparator 0) periodic modes, 32-bit mode, edge or level interrupts
 * routed to IO-APIC inputs 20-23, and the level interrupt status register.
 *
 * Why a PC needs it here: Linux checks its TSC clocksource against a
 * watchdog clocksource. Without an HPET the only one early in boot is
 * jiffies, which counts timer interrupts; a vCPU that waits for the
 * execution lock or a host CPU misses ticks, and Linux then declares the
 * TSC unstable ("skew is too large") and keeps a periodic tick. With the
 * HPET as the watchdog (as on QEMU's and real PCs), both clocks read guest
 * time and agree.
 *
 * Not offered: LegacyReplacement routing (LEG_RT_CAP is 0: without it
 * Linux keeps the LAPIC timers as its clock events and uses the HPET as a
 * clocksource only) and FSB (MSI) delivery.
 *
 * A pure model like the others: own mutex, guest time passed in (now_ns),
 * the interrupt lines driven through ops.set_gsi. The counter is derived
 * from guest time, so nothing ticks while nobody looks; the owner calls
 * hpet_update at hpet_next_deadline().
 */
#ifndef HVGDB_HPET_H
#define HVGDB_HPET_H

#include <stdbool.h>
#include <stdint.h>

#define HPET_BASE 0xfed00000ULL
#define HPET_MMIO_SIZE 0x1000ULL /* the register block is 1 KiB */
#define HPET_TIMERS 3
/* The counter period: 10 ns (100 MHz, as QEMU's). */
#define HPET_PERIOD_FS 10000000u
#define HPET_NS_PER_TICK 10u
/* The GCAP_ID register's low half (the ACPI HPET table repeats it):
 * revision 1, NUM_TIM_CAP 2 (three comparators), COUNT_SIZE_CAP (64-bit),
 * vendor 0x8086 (the ICH's). */
#define HPET_ID_LOW 0x80862201u
/* IO-APIC inputs a comparator may be routed to (Tn_INT_ROUTE_CAP). */
#define HPET_ROUTE_CAP 0x00f00000u

struct hpet_ops {
	/* New level of IO-APIC input `gsi`. Called with the device's lock
	 * held, in order; must not call back into the HPET. */
	void (*set_gsi)(void *ctx, unsigned gsi, bool level);
	void *ctx;
};

struct hpet;

struct hpet *hpet_create(const struct hpet_ops *ops);
void hpet_destroy(struct hpet *h);

/* MMIO at offset (from HPET_BASE), 4 or 8 bytes, naturally aligned; other
 * accesses read 0 and write nothing. */
uint64_t hpet_read(struct hpet *h, uint32_t offset, unsigned size,
		   uint64_t now_ns);
void hpet_write(struct hpet *h, uint32_t offset, unsigned size, uint64_t val,
		uint64_t now_ns);

/* Raise the interrupts of comparator matches up to now_ns (a match that
 * happened several times since the last call counts once). */
void hpet_update(struct hpet *h, uint64_t now_ns);
/* Guest time of the next match that raises an interrupt or a status bit,
 * or UINT64_MAX. */
uint64_t hpet_next_deadline(struct hpet *h);

#endif
