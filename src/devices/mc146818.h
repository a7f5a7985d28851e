/*
 * MC146818 real-time clock and CMOS memory at ports 0x70 (index, and bit 7
 * = NMI disable) / 0x71 (data), interrupting on ISA IRQ 8.
 *
 * Modelled: the time and date registers in BCD or binary, 12 or 24 hour
 * (register B DM and 24/12 bits), written by the guest with or without
 * the SET bit; the update-in-progress bit (UIP, register A bit 7: high for
 * the last 244 us before each once-a-second update); the divider reset
 * (register A DV = 11x stops the clock, and the first update after it is
 * released comes 500 ms later, as on the chip); the periodic interrupt at
 * the rate of register A (RS3-0), the alarm (with "don't care" values
 * 0xc0-0xff) and the update-ended interrupt, their flags in register C
 * (cleared by reading it) and IRQF driving IRQ 8; register D's valid-RAM
 * bit; 128 bytes of CMOS memory with the memory-size fields a BIOS fills
 * in (0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5b-0x5d), the century (0x32) and
 * the checksum over 0x10-0x2d (0x2e-0x2f).
 * Not modelled: daylight saving (DSE is kept, never acted on), the
 * square-wave output pin, divider values other than 010 (normal) and 11x
 * (reset), which all run at the normal rate.
 *
 * Time: the guest clock now_ns is passed to every call (the device never
 * reads a host clock); the wall-clock time at creation is given in the
 * config. While the RTC runs, its time is that time plus the guest time
 * since, so it stops when guest time stops.
 *
 * Interrupts: the owner calls mc146818_update(now) when
 * mc146818_next_deadline() has passed; every entry point also brings the
 * flags up to date. Events missed while nobody called are coalesced (the
 * flags are bits), and the alarm is compared with the time of the last
 * update only.
 *
 * Threading: one mutex; IRQ 8 is set with it held (lock order: RTC,
 * router, PIC).
 */
#ifndef HVGDB_MC146818_H
#define HVGDB_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq_router.h"

#define MC146818_PORT 0x70
#define MC146818_PORT_COUNT 2
#define MC146818_IRQ 8
#define MC146818_CMOS_SIZE 128

struct mc146818;

struct mc146818_config {
	int64_t unix_time;    /* wall-clock seconds (UTC) at creation */
	uint64_t ram_below_4g; /* bytes of RAM below 4 GiB, from 0 */
	uint64_t ram_above_4g; /* bytes of RAM from 4 GiB up */
};

/* router may be NULL (no interrupt line). */
struct mc146818 *mc146818_create(struct irq_router *router,
				 const struct mc146818_config *cfg,
				 uint64_t now_ns);
void mc146818_destroy(struct mc146818 *rtc);

/* offset 0: index port 0x70 (write-only, reads 0xff), 1: data port. */
uint8_t mc146818_read(struct mc146818 *rtc, unsigned offset, uint64_t now_ns);
void mc146818_write(struct mc146818 *rtc, unsigned offset, uint8_t val,
		    uint64_t now_ns);

/* Bit 7 of the last index written: NMIs are masked while it is set. */
bool mc146818_nmi_disabled(struct mc146818 *rtc);

/* Bring flags and IRQ 8 up to now_ns. */
void mc146818_update(struct mc146818 *rtc, uint64_t now_ns);
/* Guest time of the next event that would raise IRQ 8, or UINT64_MAX
 * (none enabled, or IRQ 8 already high until register C is read). */
uint64_t mc146818_next_deadline(struct mc146818 *rtc);

#endif
