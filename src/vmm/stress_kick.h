/*
 * A testing aid: HVGDB_STRESS_KICK_US=N in the environment makes the
 * preemption thread stop every vCPU that is executing guest code at its
 * next block boundary, every N microseconds (1..1000000); the vCPU then
 * simply goes on. Every stop, resume and re-entry path (RIP taken back
 * from the block's address, pending interrupts, the code-write queue,
 * TLB re-marking) then runs at random points of the guest's code, as a
 * debugger's stop or another vCPU's kick may land anywhere: a Linux
 * boot that survives it has no block boundary where a stop corrupts the
 * vCPU. Off when unset.
 */
#ifndef HVGDB_STRESS_KICK_H
#define HVGDB_STRESS_KICK_H

#include <stddef.h>
#include <stdint.h>

/* *period_ns: 0 when unset. -EINVAL, with err filled, on a bad value. */
int stress_kick_from_env(uint64_t *period_ns, char *err, size_t errlen);

#endif
