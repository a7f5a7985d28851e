/*
 * libFuzzer target: arbitrary bytes as a guest ELF, through elf_parse and,
 * when it accepts them, elf_copy_segments into a guest RAM buffer.
 *
 * The RAM buffer is allocated exactly as large as the highest segment end,
 * so AddressSanitizer reports any byte the loader writes outside what it
 * validated. Parameters follow hvgdb's CLI (segments at or above 1 MiB);
 * the RAM size is small so that accepted images stay cheap to copy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/elf_loader.h"

#define MIN_PADDR (1ull << 20)
#define RAM_SIZE (8ull << 20)

#define REQUIRE(cond)                                                    \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: property violated: %s\n", \
				__FILE__, __LINE__, #cond);              \
			abort();                                         \
		}                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image img;
	char err[256];

	err[0] = 0;
	if (elf_parse(data, size, MIN_PADDR, RAM_SIZE, &img, err,
		      sizeof(err)) != 0) {
		/* a refusal always says why, in one line */
		REQUIRE(err[0] != 0 && strchr(err, '\n') == NULL);
		REQUIRE(img.nsegs == 0);
		return 0;
	}

	uint64_t ram_end = 0;
	int entry_covered = 0;
	REQUIRE(img.nsegs >= 1 && img.nsegs <= ELF_MAX_SEGMENTS);
	for (unsigned i = 0; i < img.nsegs; i++) {
		const struct elf_segment *s = &img.segs[i];
		REQUIRE(s->filesz <= s->memsz);
		REQUIRE(s->offset <= size && s->filesz <= size - s->offset);
		REQUIRE(s->paddr >= MIN_PADDR && s->paddr + s->memsz <= RAM_SIZE);
		if (s->paddr + s->memsz > ram_end)
			ram_end = s->paddr + s->memsz;
		if (img.entry >= s->paddr && img.entry - s->paddr < s->memsz)
			entry_covered = 1;
	}
	REQUIRE(entry_covered);

	uint8_t *ram = malloc(ram_end ? ram_end : 1);
	if (!ram)
		return 0;
	elf_copy_segments(data, &img, ram);
	/* Segments may overlap (later ones win), so only the last segment's
	 * bytes are certain: its file part copied, the rest zeroed. */
	const struct elf_segment *last = &img.segs[img.nsegs - 1];
	REQUIRE(memcmp(ram + last->paddr, data + last->offset, last->filesz) ==
		0);
	/* zero-filled: first byte 0 and every byte equal to the next */
	uint64_t bss = last->memsz - last->filesz;
	const uint8_t *z = ram + last->paddr + last->filesz;
	REQUIRE(bss == 0 || (z[0] == 0 && memcmp(z, z + 1, bss - 1) == 0));
	free(ram);
	return 0;
}
