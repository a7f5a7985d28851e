/*
 * The legacy PC devices a kernel expects, created together and wired to
 * one interrupt router:
 *
 *   ports 0x20-0x21, 0xa0-0xa1  8259A PIC pair      (i8259.h)
 *   ports 0x4d0-0x4d1           ELCR of the PIC pair
 *   ports 0x40-0x43             8254 PIT, IRQ 0     (i8254.h)
 *   port  0x61                  NMI status/control, PIT channel 2 gate
 *                                                   (port61.h)
 *   ports 0x70-0x71             MC146818 RTC/CMOS, IRQ 8 (mc146818.h)
 *   port  0x80                  POST code: writes are kept (last value),
 *                               reads give 0xff; Linux writes it as an
 *                               I/O delay
 *   ports 0x60, 0x64            8042 keyboard controller, no keyboard or
 *                               mouse: its CPU reset line (i8042.h)
 *
 * Every ISA IRQ line goes through the router (pc_platform_irq_router),
 * with ISA IRQ n on GSI n: the owner adds the overrides its MADT
 * announces, and attaches the IO-APIC there.
 *
 * The owner provides the guest clock, calls pc_platform_update when
 * pc_platform_next_deadline has passed, and takes the PIC's interrupts
 * with i8259_intack(pc_platform_pic(p)) when LINT0 is in ExtINT mode.
 */
#ifndef HVGDB_PC_PLATFORM_H
#define HVGDB_PC_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/i8259.h"
#include "devices/irq_router.h"
#include "hvgdb/vmm.h"

struct pc_platform;

struct pc_platform_config {
	/* The guest clock in ns (required): device time comes only from it. */
	uint64_t (*now_ns)(void *ctx);
	void *clock_ctx;
	int64_t unix_time;     /* wall-clock seconds (UTC) for the RTC */
	uint64_t ram_below_4g; /* for the CMOS memory-size fields */
	uint64_t ram_above_4g;
	/* The PIC pair's INT output changed (see i8259.h); may be empty. */
	struct i8259_ops pic_ops;
	/* The guest pulsed the CPU reset line (the 8042's): called from the
	 * vCPU that wrote it, with no device lock held. NULL: ignored. */
	void (*cpu_reset)(void *ctx, int vcpu);
	void *reset_ctx;
};

/* NULL if cfg is incomplete (no clock) or out of memory. */
struct pc_platform *pc_platform_create(const struct pc_platform_config *cfg);
void pc_platform_destroy(struct pc_platform *p);

/* Claim every port above on vm with vm_register_pio. Returns 0 or the
 * first error of vm_register_pio (-EEXIST: a port is already taken). */
int pc_platform_register_ports(struct pc_platform *p, struct vm *vm);
/* The same ranges with the owner's handler in front (it forwards to
 * pc_platform_pio), for owners that watch the accesses, e.g. to learn that
 * a timer deadline moved. */
int pc_platform_register_ports_via(struct pc_platform *p, struct vm *vm,
				   vm_pio_handler fn, void *opaque);

/* The vm_pio_handler behind those ports (opaque = the platform). Wider
 * accesses are split into bytes on consecutive ports, as the ISA bus
 * does; bytes of ports the platform does not have read 0xff. */
int pc_platform_pio(void *opaque, int vcpu, bool in, uint16_t port,
		    unsigned bytes, uint32_t *val);

/* Raise the timer interrupts due by now_ns (PIT IRQ 0, RTC IRQ 8). */
void pc_platform_update(struct pc_platform *p, uint64_t now_ns);
/* The earliest guest time a timer interrupt is due, or UINT64_MAX. */
uint64_t pc_platform_next_deadline(struct pc_platform *p);

struct irq_router *pc_platform_irq_router(struct pc_platform *p);
struct i8259 *pc_platform_pic(struct pc_platform *p);
/* Last value written to port 0x80 (0 before any). */
uint8_t pc_platform_post_code(struct pc_platform *p);
/* NMIs masked by bit 7 of port 0x70. */
bool pc_platform_nmi_disabled(struct pc_platform *p);

#endif
