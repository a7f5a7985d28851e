/* Local APIC (xAPIC MMIO at 0xFEE00000). The timer clock is 1 GHz (divide
 * by 1), as under both QEMU and hvgdb. */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_TIMER_CLOCK_HZ 1000000000u

/* ICR delivery modes and shorthands (low dword bits). */
#define ICR_FIXED 0x000u
#define ICR_INIT 0x500u
#define ICR_STARTUP 0x600u
#define ICR_LEVEL_ASSERT 0x4000u
#define ICR_DEST_SELF 0x40000u
#define ICR_ALL_BUT_SELF 0xc0000u

unsigned lapic_id(void);
/* Software-enable with spurious vector 0xff, TPR 0. */
void lapic_enable(void);
void lapic_eoi(void);
void lapic_timer_start_periodic(unsigned vector, unsigned hz);
void lapic_timer_stop(void);
/* Sends an IPI (icr_low includes vector/mode/shorthand) to APIC ID dest;
 * false if the ICR still showed "send pending" after a bounded wait. */
bool lapic_send_ipi(unsigned dest, uint32_t icr_low);

#endif
