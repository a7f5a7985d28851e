/*
 * 8254 programmable interval timer at ports 0x40-0x43, counting at
 * 1.193182 MHz on the guest clock (now_ns, passed in by the caller: the
 * device never reads a host clock). Channel 0's output drives ISA IRQ 0
 * through the irq_router; channel 1 (DRAM refresh on old PCs) counts but
 * drives nothing; channel 2's gate and output are bits 0 and 5 of port
 * 0x61 (see port61.h), which Linux uses to calibrate the TSC and LAPIC
 * timer.
 *
 * Modelled: modes 0-5 (6 and 7 are modes 2 and 3), lobyte / hibyte /
 * lobyte-then-hibyte access, counter latch, read-back of count and status
 * (output, null count, access mode, mode, BCD bit), the gate of every mode.
 * Not modelled: BCD counting (the bit is kept and read back, the count is
 * binary), the one-clock delay between writing a count and counting (the
 * count starts at the write), the rule that a new count in modes 2/3
 * waits for the end of the current period (here it restarts the counter),
 * and modes 1/5 keeping a one-shot going across a new count (the new count
 * waits for the next trigger, the running one uses it at once).
 *
 * Interrupts: the owner calls i8254_update(now) when
 * i8254_next_deadline() has passed (and whenever convenient); every rising
 * edge of channel 0's output since the last call becomes one IRQ 0 pulse
 * (PCs sense IRQ 0 on edges, in the PIC and in the MADT). Edges missed
 * while nobody called (a long stop) are coalesced into one, as for the
 * LAPIC timer.
 *
 * Power-on state: as a BIOS leaves it, every channel in mode 3 with count
 * 65536 (18.2 Hz), channel 0 running, channel 2's gate low.
 *
 * Threading: one mutex; IRQ 0 is raised with it held (lock order: PIT,
 * router, PIC).
 */
#ifndef HVGDB_I8254_H
#define HVGDB_I8254_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/irq_router.h"

#define I8254_PORT 0x40
#define I8254_PORT_COUNT 4
#define I8254_HZ 1193182ULL
#define I8254_IRQ 0

struct i8254;

/* router may be NULL (no interrupts: tests, or a board without IRQ 0). */
struct i8254 *i8254_create(struct irq_router *router, uint64_t now_ns);
void i8254_destroy(struct i8254 *pit);

/* offset 0-2: channel data ports, 3: control word (write-only, reads 0xff). */
uint8_t i8254_read(struct i8254 *pit, unsigned offset, uint64_t now_ns);
void i8254_write(struct i8254 *pit, unsigned offset, uint8_t val,
		 uint64_t now_ns);

/* Gate input of a channel (only channel 2's is wired: port 0x61 bit 0;
 * channels 0 and 1 have theirs tied high). */
void i8254_set_gate(struct i8254 *pit, unsigned channel, bool level,
		    uint64_t now_ns);
/* Output level of a channel now. */
bool i8254_output(struct i8254 *pit, unsigned channel, uint64_t now_ns);

/* Raise IRQ 0 for channel 0's rising edges up to now_ns. Returns true if
 * it raised one. */
bool i8254_update(struct i8254 *pit, uint64_t now_ns);
/* Guest time (ns) of channel 0's next rising edge not yet raised, or
 * UINT64_MAX if none is coming (one-shot done, not counting). */
uint64_t i8254_next_deadline(struct i8254 *pit);

#endif
