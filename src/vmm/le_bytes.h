/*
 * Little-endian field access for the kernel loaders. Kernel files are
 * untrusted: fields are read byte by byte (no alignment or host byte-order
 * assumptions); callers bounds-check the offset first.
 */
#ifndef HVGDB_LE_BYTES_H
#define HVGDB_LE_BYTES_H

#include <stdint.h>

static inline uint64_t le_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static inline void le_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
