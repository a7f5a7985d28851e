#include "barrier.h"

#include "io.h"
#include "runtime.h"

void barrier_init(struct barrier *b, unsigned total)
{
	b->arrived = 0;
	b->generation = 0;
	b->total = total;
}

void barrier_wait(struct barrier *b)
{
	unsigned generation = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
	unsigned total = b->total ? b->total : cpu_count();
	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == total) {
		b->arrived = 0;
		__atomic_store_n(&b->generation, generation + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == generation)
		cpu_relax();
}
