/* Test-and-test-and-set spinlock on a lock-prefixed bts. */
#ifndef GUEST_SPINLOCK_H
#define GUEST_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "io.h"

typedef struct {
	volatile uint32_t locked;
} spinlock_t;

static inline bool spin_trylock(spinlock_t *lock)
{
	uint8_t was_locked;
	__asm__ volatile("lock btsl $0, %0\n\tsetc %1"
			 : "+m"(lock->locked), "=q"(was_locked)
			 :
			 : "memory", "cc");
	return !was_locked;
}

static inline void spin_lock(spinlock_t *lock)
{
	while (!spin_trylock(lock)) {
		while (lock->locked)
			cpu_relax();
	}
}

static inline void spin_unlock(spinlock_t *lock)
{
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

#endif
