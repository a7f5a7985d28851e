/*
 * A lenient ELF32/ELF64 reader for the kernel loaders (PVH, Multiboot,
 * format detection): the PT_LOAD segments by physical address, the PT_NOTE
 * ranges and the entry point. Validation against guest RAM is the caller's;
 * the hvgdb ELF64 protocol keeps its own strict parser (elf_loader.c).
 */
#ifndef HVGDB_ELF_SEGMENTS_H
#define HVGDB_ELF_SEGMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_SEG_MAX_LOADS 32
#define ELF_SEG_MAX_NOTES 8

struct elf_range {
	uint64_t offset, filesz; /* in the file (checked inside it) */
	uint64_t paddr, memsz;   /* PT_LOAD only */
};

struct elf_info {
	unsigned bits; /* 32 or 64 */
	uint64_t entry;
	unsigned nloads, nnotes;
	struct elf_range loads[ELF_SEG_MAX_LOADS]; /* memsz > 0 only */
	struct elf_range notes[ELF_SEG_MAX_NOTES];
};

bool elf_has_magic(const uint8_t *b, size_t size);

/* The program header table's file range, for a caller that reads files
 * piecewise: 0, or -EINVAL when the header is not a usable ELF header. */
int elf_phdr_range(const uint8_t *b, size_t size, uint64_t *off,
		   uint64_t *len);

/*
 * Parse an x86 (EM_386 or EM_X86_64) little-endian ET_EXEC file: every
 * PT_LOAD's and PT_NOTE's file range inside the file, filesz <= memsz, no
 * overflow. 0, or -EINVAL with a reason in err.
 */
int elf_info_parse(const uint8_t *b, size_t size, struct elf_info *out,
		   char *err, size_t errlen);

/* The descriptor of the first note named name with type type in the
 * PT_NOTE segments, or NULL; *descsz receives its size. Malformed notes
 * end the search of their segment, never read out of bounds. */
const uint8_t *elf_find_note(const uint8_t *b, const struct elf_info *e,
			     const char *name, uint32_t type,
			     uint32_t *descsz);

/* Every PT_LOAD inside [min_paddr, ram_size): 0, or -EINVAL with a
 * reason. On success *end is the highest segment end. */
int elf_check_loads(const struct elf_info *e, uint64_t min_paddr,
		    uint64_t ram_size, uint64_t *end, char *err,
		    size_t errlen);

/* Is addr inside a loaded segment? */
bool elf_addr_loaded(const struct elf_info *e, uint64_t addr);

#endif
