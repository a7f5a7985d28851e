/* Port 0x61: see port61.h for the bits. */
#include "devices/port61.h"

#include <pthread.h>
#include <stdlib.h>

#include "sync/checked_mutex.h"

#define GATE2 0x01
#define WRITABLE 0x0f
#define REFRESH_TOGGLE 0x10
#define OUT2 0x20
/* One DRAM refresh request every 15.085 us (PIT channel 1 at count 18). */
#define REFRESH_PERIOD_NS 15085

struct port61 {
	struct checked_mutex lock;
	struct i8254 *pit;
	uint8_t control; /* bits 0-3 as written */
};

struct port61 *port61_create(struct i8254 *pit)
{
	struct port61 *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (checked_mutex_init(&p->lock, LOCK_RANK_PORT61) != 0) {
		free(p);
		return NULL;
	}
	p->pit = pit;
	return p;
}

void port61_destroy(struct port61 *p)
{
	if (!p)
		return;
	checked_mutex_destroy(&p->lock);
	free(p);
}

uint8_t port61_read(struct port61 *p, uint64_t now_ns)
{
	checked_mutex_lock(&p->lock);
	uint8_t val = p->control;
	if ((now_ns / REFRESH_PERIOD_NS) & 1)
		val |= REFRESH_TOGGLE;
	if (i8254_output(p->pit, 2, now_ns))
		val |= OUT2;
	checked_mutex_unlock(&p->lock);
	return val;
}

void port61_write(struct port61 *p, uint8_t val, uint64_t now_ns)
{
	checked_mutex_lock(&p->lock);
	p->control = val & WRITABLE;
	i8254_set_gate(p->pit, 2, val & GATE2, now_ns);
	checked_mutex_unlock(&p->lock);
}
