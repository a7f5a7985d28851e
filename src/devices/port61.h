/*
 * Port 0x61, "NMI status and control" (system control port B of the
 * PC/AT): the PIT channel 2 gate and speaker enable, and the NMI sources.
 *
 *  bit 0  PIT channel 2 gate            read/write
 *  bit 1  speaker data enable           read/write (no sound is made)
 *  bit 2  SERR# NMI disable             read/write
 *  bit 3  IOCHK# NMI disable            read/write
 *  bit 4  refresh toggle                read-only: flips every 15.085 us
 *                                       of guest time (old delay loops)
 *  bit 5  PIT channel 2 output          read-only
 *  bit 6  IOCHK# NMI status             read-only, 0: no channel check
 *  bit 7  SERR# NMI status              read-only, 0: no system error
 *
 * Linux calibrates the TSC and the LAPIC timer by setting bit 0, running
 * channel 2 in mode 0 and polling bit 5.
 *
 * Threading: one mutex, taken before the PIT's.
 */
#ifndef HVGDB_PORT61_H
#define HVGDB_PORT61_H

#include <stdint.h>

#include "devices/i8254.h"

#define PORT61_PORT 0x61

struct port61;

struct port61 *port61_create(struct i8254 *pit);
void port61_destroy(struct port61 *p);
uint8_t port61_read(struct port61 *p, uint64_t now_ns);
void port61_write(struct port61 *p, uint8_t val, uint64_t now_ns);

#endif
