/*
 * ELF64 loader. The input is untrusted (it will be fuzzed): every field is
 * decoded byte by byte from a bounds-checked offset, and every sum or product
 * of file-controlled values is checked for overflow before it is used.
 */
#include "vmm/elf_loader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ELF constants (System V gABI, x86-64 psABI). */
#define EHDR_SIZE 64u
#define PHDR_SIZE 56u
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PN_XNUM 0xffffu
#define PT_LOAD 1
#define PF_X 1u

/* Field offsets in Elf64_Ehdr / Elf64_Phdr. */
#define EH_TYPE 16
#define EH_MACHINE 18
#define EH_ENTRY 24
#define EH_PHOFF 32
#define EH_PHENTSIZE 54
#define EH_PHNUM 56
#define PH_TYPE 0
#define PH_FLAGS 4
#define PH_OFFSET 8
#define PH_PADDR 24
#define PH_FILESZ 32
#define PH_MEMSZ 40

/* Little-endian decoding, independent of the host's byte order and of the
 * buffer's alignment. Callers have checked that the bytes are in range. */
static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int check_header(const uint8_t *b, size_t size, char *err,
			size_t errlen)
{
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };

	if (size < EHDR_SIZE)
		return fail(err, errlen,
			    "file too small for an ELF header (%zu bytes)",
			    size);
	if (memcmp(b, magic, sizeof(magic)) != 0)
		return fail(err, errlen, "bad ELF magic");
	if (b[EI_CLASS] != ELFCLASS64)
		return fail(err, errlen, "not an ELF64 file (class %u)",
			    b[EI_CLASS]);
	if (b[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, "not a little-endian ELF (data %u)",
			    b[EI_DATA]);
	if (b[EI_VERSION] != EV_CURRENT)
		return fail(err, errlen, "unknown ELF version %u",
			    b[EI_VERSION]);
	if (get_le(b + EH_MACHINE, 2) != EM_X86_64)
		return fail(err, errlen, "not an x86-64 ELF (machine %u)",
			    (unsigned)get_le(b + EH_MACHINE, 2));
	if (get_le(b + EH_TYPE, 2) != ET_EXEC)
		return fail(err, errlen,
			    "not an executable ELF (type %u, want ET_EXEC)",
			    (unsigned)get_le(b + EH_TYPE, 2));
	return 0;
}

static int check_phdr_table(const uint8_t *b, size_t size, char *err,
			    size_t errlen)
{
	uint64_t phoff = get_le(b + EH_PHOFF, 8);
	uint64_t phentsize = get_le(b + EH_PHENTSIZE, 2);
	uint64_t phnum = get_le(b + EH_PHNUM, 2);

	if (phentsize != PHDR_SIZE)
		return fail(err, errlen, "bad e_phentsize %u (want %u)",
			    (unsigned)phentsize, PHDR_SIZE);
	if (phnum == 0)
		return fail(err, errlen, "no program headers (e_phnum 0)");
	if (phnum == PN_XNUM)
		return fail(err, errlen,
			    "bad e_phnum (extended numbering unsupported)");
	/* phnum * PHDR_SIZE < 2^22: cannot overflow. */
	if (phoff > size || phnum * PHDR_SIZE > size - phoff)
		return fail(err, errlen,
			    "program headers outside the file (offset %#llx, "
			    "%u entries, file %zu bytes)",
			    (unsigned long long)phoff, (unsigned)phnum, size);
	return 0;
}

/* Validates one PT_LOAD; fills seg. */
static int check_load(const uint8_t *ph, unsigned idx, size_t size,
		      uint64_t min_paddr, uint64_t ram_size,
		      struct elf_segment *seg, char *err, size_t errlen)
{
	seg->offset = get_le(ph + PH_OFFSET, 8);
	seg->paddr = get_le(ph + PH_PADDR, 8);
	seg->filesz = get_le(ph + PH_FILESZ, 8);
	seg->memsz = get_le(ph + PH_MEMSZ, 8);

	if (seg->offset > size || seg->filesz > size - seg->offset)
		return fail(err, errlen,
			    "segment %u: file range %#llx+%#llx outside the "
			    "file (%zu bytes)",
			    idx, (unsigned long long)seg->offset,
			    (unsigned long long)seg->filesz, size);
	if (seg->filesz > seg->memsz)
		return fail(err, errlen,
			    "segment %u: p_filesz %#llx > p_memsz %#llx", idx,
			    (unsigned long long)seg->filesz,
			    (unsigned long long)seg->memsz);
	if (seg->paddr > UINT64_MAX - seg->memsz)
		return fail(err, errlen,
			    "segment %u: address %#llx + size %#llx overflows",
			    idx, (unsigned long long)seg->paddr,
			    (unsigned long long)seg->memsz);
	if (seg->paddr < min_paddr)
		return fail(err, errlen,
			    "segment %u: address %#llx below the minimum %#llx",
			    idx, (unsigned long long)seg->paddr,
			    (unsigned long long)min_paddr);
	if (seg->paddr + seg->memsz > ram_size)
		return fail(err, errlen,
			    "segment %u: %#llx-%#llx beyond guest RAM (%#llx "
			    "bytes)",
			    idx, (unsigned long long)seg->paddr,
			    (unsigned long long)(seg->paddr + seg->memsz),
			    (unsigned long long)ram_size);
	return 0;
}

static int parse(const uint8_t *b, size_t size, uint64_t min_paddr,
		 uint64_t ram_size, struct elf_image *img, char *err,
		 size_t errlen)
{
	bool executable[ELF_MAX_SEGMENTS];
	unsigned loads = 0;
	int rc;

	if (!b)
		return fail(err, errlen, "no ELF data");
	if ((rc = check_header(b, size, err, errlen)) != 0 ||
	    (rc = check_phdr_table(b, size, err, errlen)) != 0)
		return rc;

	uint64_t phoff = get_le(b + EH_PHOFF, 8);
	unsigned phnum = (unsigned)get_le(b + EH_PHNUM, 2);
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = b + phoff + (uint64_t)i * PHDR_SIZE;
		struct elf_segment seg;

		if (get_le(ph + PH_TYPE, 4) != PT_LOAD)
			continue;
		loads++;
		rc = check_load(ph, i, size, min_paddr, ram_size, &seg, err,
				errlen);
		if (rc)
			return rc;
		if (seg.memsz == 0)
			continue; /* occupies nothing; nothing to copy */
		if (img->nsegs == ELF_MAX_SEGMENTS)
			return fail(err, errlen,
				    "too many PT_LOAD segments (max %u)",
				    ELF_MAX_SEGMENTS);
		executable[img->nsegs] = get_le(ph + PH_FLAGS, 4) & PF_X;
		img->segs[img->nsegs++] = seg;
	}
	if (loads == 0)
		return fail(err, errlen, "no PT_LOAD segment");

	/* Every vCPU starts at e_entry on an identity map, so the entry is
	 * compared with physical addresses. */
	uint64_t entry = get_le(b + EH_ENTRY, 8);
	for (unsigned i = 0; i < img->nsegs; i++) {
		const struct elf_segment *s = &img->segs[i];
		if (executable[i] && entry >= s->paddr &&
		    entry - s->paddr < s->memsz) {
			img->entry = entry;
			return 0;
		}
	}
	return fail(err, errlen,
		    "entry point %#llx not inside a loaded executable segment",
		    (unsigned long long)entry);
}

int elf_parse(const void *data, size_t size, uint64_t min_paddr,
	      uint64_t ram_size, struct elf_image *img, char *err,
	      size_t errlen)
{
	if (!img)
		return fail(err, errlen, "no image to fill");
	memset(img, 0, sizeof(*img));
	int rc = parse(data, size, min_paddr, ram_size, img, err, errlen);
	if (rc)
		memset(img, 0, sizeof(*img)); /* never half a result */
	return rc;
}

void elf_copy_segments(const void *data, const struct elf_image *img,
		       uint8_t *ram)
{
	const uint8_t *b = data;

	for (unsigned i = 0; i < img->nsegs && i < ELF_MAX_SEGMENTS; i++) {
		const struct elf_segment *s = &img->segs[i];
		memcpy(ram + s->paddr, b + s->offset, s->filesz);
		memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}
}
