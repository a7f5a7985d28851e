/* Lenient ELF32/64 reader for the kernel loaders (see elf_segments.h). The
 * file is untrusted: offsets are bounds-checked before every read and sums
 * of file values checked for overflow. */
#include "vmm/elf_segments.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/le_bytes.h"

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4

/* Where the fields sit in each class. */
struct elf_layout {
	unsigned ehdr_size, phdr_size;
	unsigned e_entry, e_phoff, e_phentsize, e_phnum, addr_bytes;
	unsigned p_offset, p_paddr, p_filesz, p_memsz;
};

static const struct elf_layout layout32 = {
	52, 32, 24, 28, 42, 44, 4, 4, 12, 16, 20,
};
static const struct elf_layout layout64 = {
	64, 56, 24, 32, 54, 56, 8, 8, 24, 32, 40,
};

bool elf_has_magic(const uint8_t *b, size_t size)
{
	return size >= 4 && memcmp(b, "\x7f" "ELF", 4) == 0;
}

static const struct elf_layout *layout_of(const uint8_t *b, size_t size)
{
	if (!elf_has_magic(b, size) || size < 52)
		return NULL;
	if (b[EI_CLASS] == ELFCLASS32)
		return &layout32;
	if (b[EI_CLASS] == ELFCLASS64 && size >= 64)
		return &layout64;
	return NULL;
}

int elf_phdr_range(const uint8_t *b, size_t size, uint64_t *off,
		   uint64_t *len)
{
	const struct elf_layout *l = layout_of(b, size);

	if (!l)
		return -EINVAL;
	*off = le_get(b + l->e_phoff, l->addr_bytes);
	*len = le_get(b + l->e_phnum, 2) * (uint64_t)l->phdr_size;
	return 0;
}

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -EINVAL;
}

static int read_phdr(const uint8_t *ph, const struct elf_layout *l,
		     size_t size, struct elf_range *r, unsigned idx,
		     char *err, size_t errlen)
{
	r->offset = le_get(ph + l->p_offset, l->addr_bytes);
	r->paddr = le_get(ph + l->p_paddr, l->addr_bytes);
	r->filesz = le_get(ph + l->p_filesz, l->addr_bytes);
	r->memsz = le_get(ph + l->p_memsz, l->addr_bytes);
	if (r->offset > size || r->filesz > size - r->offset) {
		snprintf(err, errlen, "ELF segment %u lies outside the file "
			 "(truncated?)", idx);
		return -EINVAL;
	}
	return 0;
}

int elf_info_parse(const uint8_t *b, size_t size, struct elf_info *out,
		   char *err, size_t errlen)
{
	const struct elf_layout *l = layout_of(b, size);

	memset(out, 0, sizeof(*out));
	if (!l)
		return fail(err, errlen, "truncated or unknown ELF header");
	if (b[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, "not a little-endian ELF");
	unsigned machine = (unsigned)le_get(b + 18, 2);
	if (machine != EM_386 && machine != EM_X86_64)
		return fail(err, errlen, "not an x86 ELF");
	if (le_get(b + 16, 2) != ET_EXEC)
		return fail(err, errlen, "not an executable ELF (ET_EXEC)");
	if (le_get(b + l->e_phentsize, 2) != l->phdr_size)
		return fail(err, errlen, "bad ELF program header size");

	uint64_t phoff, phlen;
	elf_phdr_range(b, size, &phoff, &phlen);
	if (phlen == 0)
		return fail(err, errlen, "ELF without program headers");
	if (phoff > size || phlen > size - phoff)
		return fail(err, errlen, "ELF program headers outside the file "
			    "(truncated?)");

	out->bits = l == &layout64 ? 64 : 32;
	out->entry = le_get(b + l->e_entry, l->addr_bytes);
	for (uint64_t off = phoff; off < phoff + phlen; off += l->phdr_size) {
		unsigned idx = (unsigned)((off - phoff) / l->phdr_size);
		uint32_t type = (uint32_t)le_get(b + off, 4);
		struct elf_range r;

		if (type != PT_LOAD && type != PT_NOTE)
			continue;
		if (read_phdr(b + off, l, size, &r, idx, err, errlen))
			return -EINVAL;
		if (type == PT_NOTE) {
			if (out->nnotes < ELF_SEG_MAX_NOTES)
				out->notes[out->nnotes++] = r;
			continue;
		}
		if (r.filesz > r.memsz)
			return fail(err, errlen, "ELF segment with p_filesz > "
				    "p_memsz");
		if (r.paddr > UINT64_MAX - r.memsz)
			return fail(err, errlen, "ELF segment address "
				    "overflows");
		if (r.memsz == 0)
			continue;
		if (out->nloads == ELF_SEG_MAX_LOADS)
			return fail(err, errlen, "too many ELF PT_LOAD "
				    "segments");
		out->loads[out->nloads++] = r;
	}
	if (out->nloads == 0)
		return fail(err, errlen, "ELF without a loadable segment");
	return 0;
}

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~3ULL;
}

const uint8_t *elf_find_note(const uint8_t *b, const struct elf_info *e,
			     const char *name, uint32_t type,
			     uint32_t *descsz)
{
	size_t namelen = strlen(name) + 1;

	for (unsigned i = 0; i < e->nnotes; i++) {
		const uint8_t *p = b + e->notes[i].offset;
		uint64_t left = e->notes[i].filesz;

		while (left >= 12) {
			uint64_t nsz = le_get(p, 4), dsz = le_get(p + 4, 4);
			uint32_t t = (uint32_t)le_get(p + 8, 4);
			uint64_t need = 12 + align4(nsz) + align4(dsz);

			if (need > left)
				break;
			if (t == type && nsz == namelen &&
			    memcmp(p + 12, name, namelen) == 0) {
				*descsz = (uint32_t)dsz;
				return p + 12 + align4(nsz);
			}
			p += need;
			left -= need;
		}
	}
	return NULL;
}

int elf_check_loads(const struct elf_info *e, uint64_t min_paddr,
		    uint64_t ram_size, uint64_t *end, char *err,
		    size_t errlen)
{
	*end = 0;
	for (unsigned i = 0; i < e->nloads; i++) {
		const struct elf_range *r = &e->loads[i];

		if (r->paddr < min_paddr || r->paddr > ram_size ||
		    r->memsz > ram_size - r->paddr) {
			snprintf(err, errlen, "segment %#llx-%#llx outside "
				 "guest RAM from %#llx to %#llx",
				 (unsigned long long)r->paddr,
				 (unsigned long long)(r->paddr + r->memsz),
				 (unsigned long long)min_paddr,
				 (unsigned long long)ram_size);
			return -EINVAL;
		}
		if (r->paddr + r->memsz > *end)
			*end = r->paddr + r->memsz;
	}
	return 0;
}

bool elf_addr_loaded(const struct elf_info *e, uint64_t addr)
{
	for (unsigned i = 0; i < e->nloads; i++)
		if (addr >= e->loads[i].paddr &&
		    addr - e->loads[i].paddr < e->loads[i].memsz)
			return true;
	return false;
}
