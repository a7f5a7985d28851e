/* ELF64 x86-64 executable loader: segments load at their physical addresses. */
#ifndef HVGDB_ELF_LOADER_H
#define HVGDB_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct elf_segment {
	uint64_t paddr, filesz, memsz;
	uint64_t offset;
};

#define ELF_MAX_SEGMENTS 32

struct elf_image {
	uint64_t entry;
	unsigned nsegs;
	struct elf_segment segs[ELF_MAX_SEGMENTS];
};

/*
 * Parse and validate an ELF image held in memory (data, size): ELF64,
 * little-endian, EM_X86_64, ET_EXEC, sane header sizes, every PT_LOAD's
 * file range inside the file and filesz <= memsz, no overflow, each segment
 * inside [min_paddr, ram_size), entry inside a loaded segment. Returns 0, or
 * -EINVAL with a one-line reason in err.
 */
int elf_parse(const void *data, size_t size, uint64_t min_paddr,
	      uint64_t ram_size, struct elf_image *img, char *err,
	      size_t errlen);

/* Copy parsed segments into guest RAM at ram (host pointer of GPA 0),
 * zero-filling memsz beyond filesz. */
void elf_copy_segments(const void *data, const struct elf_image *img,
		       uint8_t *ram);

#endif
