/* Crafted kernel images (see kernel_images.h). */
#include "kernel_images.h"

#include <string.h>

void put_le(uint8_t *b, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

uint64_t get_le_at(const uint8_t *b, size_t off, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | b[off + n];
	return v;
}

size_t make_bzimage(uint8_t *b)
{
	memset(b, 0, BZ_SIZE);
	b[0x1f1] = 1;                      /* setup_sects */
	put_le(b, 0x1fa, 0xffff, 2);       /* vid_mode: normal */
	put_le(b, 0x1fe, 0xaa55, 2);       /* boot_flag */
	b[0x200] = 0xeb;                   /* jmp */
	b[0x201] = 0x6a;                   /* header ends at 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	put_le(b, 0x206, 0x020f, 2);       /* protocol 2.15 */
	b[0x211] = 0x01;                   /* LOADED_HIGH */
	put_le(b, 0x22c, 0x7fffffff, 4);   /* initrd_addr_max */
	put_le(b, 0x230, 0x200000, 4);     /* kernel_alignment */
	b[0x234] = 1;                      /* relocatable */
	b[0x235] = 21;
	put_le(b, 0x236, 0x7f, 2);         /* xloadflags */
	put_le(b, 0x238, BZ_CMDLINE_SIZE, 4);
	put_le(b, 0x258, BZ_PREF, 8);
	put_le(b, 0x260, BZ_INIT_SIZE, 4);
	for (size_t i = BZ_PM_OFFSET; i < BZ_SIZE; i++)
		b[i] = (uint8_t)(i * 7);
	return BZ_SIZE;
}

/* ELF header + phdrs at 64; segment data at 0x1000. */
static void elf_header(uint8_t *b, unsigned bits, uint64_t entry,
		       unsigned phnum)
{
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = bits == 64 ? 2 : 1;
	b[5] = 1;
	b[6] = 1;
	put_le(b, 16, 2, 2);                     /* ET_EXEC */
	put_le(b, 18, bits == 64 ? 62 : 3, 2);   /* x86-64 / i386 */
	put_le(b, 20, 1, 4);
	if (bits == 64) {
		put_le(b, 24, entry, 8);
		put_le(b, 32, 64, 8);            /* e_phoff */
		put_le(b, 52, 64, 2);
		put_le(b, 54, 56, 2);
		put_le(b, 56, phnum, 2);
	} else {
		put_le(b, 24, entry, 4);
		put_le(b, 28, 52, 4);            /* e_phoff */
		put_le(b, 40, 52, 2);
		put_le(b, 42, 32, 2);
		put_le(b, 44, phnum, 2);
	}
}

static void phdr64(uint8_t *b, unsigned i, uint32_t type, uint64_t off,
		   uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	size_t p = 64 + i * 56;

	put_le(b, p, type, 4);
	put_le(b, p + 4, 5, 4);
	put_le(b, p + 8, off, 8);
	put_le(b, p + 16, paddr, 8);
	put_le(b, p + 24, paddr, 8);
	put_le(b, p + 32, filesz, 8);
	put_le(b, p + 40, memsz, 8);
}

static size_t note(uint8_t *b, size_t at, const char *name, uint32_t type,
		   uint64_t desc, unsigned descsz)
{
	size_t n = strlen(name) + 1;

	put_le(b, at, n, 4);
	put_le(b, at + 4, descsz, 4);
	put_le(b, at + 8, type, 4);
	memcpy(b + at + 12, name, n);
	at += 12 + ((n + 3) & ~3u);
	put_le(b, at, desc, descsz);
	return at + ((descsz + 3) & ~3u);
}

size_t make_pvh_elf(uint8_t *b, int with_hvgdb_note)
{
	memset(b, 0, IMG_MAX);
	elf_header(b, 64, ELF_PADDR, 2);
	phdr64(b, 0, 1, 0x1000, ELF_PADDR, 0x1000, ELF_MEMSZ);
	size_t end = note(b, 0x800, "Xen", 18, PVH_ENTRY, 8);
	if (with_hvgdb_note)
		end = note(b, end, "hvgdb", 1, 1, 4);
	phdr64(b, 1, 4, 0x800, 0, end - 0x800, 0);
	for (size_t i = 0x1000; i < 0x2000; i++)
		b[i] = (uint8_t)(i * 3);
	return 0x2000;
}

size_t make_mb1_aout(uint8_t *b, uint32_t flags)
{
	const size_t h = 0x20, size = 0x1000;

	memset(b, 0, size);
	flags |= 0x10000;
	put_le(b, h, 0x1badb002, 4);
	put_le(b, h + 4, flags, 4);
	put_le(b, h + 8, (uint32_t)-(0x1badb002u + flags), 4);
	put_le(b, h + 12, MB_LOAD + h, 4);     /* header_addr */
	put_le(b, h + 16, MB_LOAD, 4);         /* load_addr */
	put_le(b, h + 20, 0, 4);               /* load_end: whole file */
	put_le(b, h + 24, MB_BSS_END, 4);
	put_le(b, h + 28, MB_ENTRY, 4);
	b[0x40] = 0xf4;                        /* hlt */
	return size;
}

size_t make_mb1_elf32(uint8_t *b)
{
	const size_t size = 0x2000, h = 0x1000;

	memset(b, 0, size);
	elf_header(b, 32, ELF_PADDR + 0x10, 1);
	size_t p = 52;
	put_le(b, p, 1, 4);              /* PT_LOAD */
	put_le(b, p + 4, 0x1000, 4);     /* p_offset */
	put_le(b, p + 8, ELF_PADDR, 4);
	put_le(b, p + 12, ELF_PADDR, 4);
	put_le(b, p + 16, 0x1000, 4);
	put_le(b, p + 20, ELF_MEMSZ, 4);
	put_le(b, p + 24, 5, 4);
	put_le(b, h, 0x1badb002, 4);
	put_le(b, h + 4, 0x3, 4);        /* page-align, memory info */
	put_le(b, h + 8, (uint32_t)-(0x1badb002u + 3), 4);
	return size;
}

size_t make_mb2_aout(uint8_t *b)
{
	const size_t h = 0x40, size = 0x1000;
	size_t t = h + 16;

	memset(b, 0, size);
	/* information request: cmdline, basic meminfo, mmap */
	put_le(b, t, 1, 2);
	put_le(b, t + 4, 20, 4);
	put_le(b, t + 8, 1, 4);
	put_le(b, t + 12, 4, 4);
	put_le(b, t + 16, 6, 4);
	t += 24;
	put_le(b, t, 2, 2);                    /* address */
	put_le(b, t + 4, 24, 4);
	put_le(b, t + 8, MB_LOAD + h, 4);
	put_le(b, t + 12, MB_LOAD, 4);
	put_le(b, t + 16, 0, 4);
	put_le(b, t + 20, MB_BSS_END, 4);
	t += 24;
	put_le(b, t, 3, 2);                    /* entry address */
	put_le(b, t + 4, 12, 4);
	put_le(b, t + 8, MB_ENTRY, 4);
	t += 16;
	put_le(b, t, 0, 2);                    /* end */
	put_le(b, t + 4, 8, 4);
	t += 8;
	uint32_t len = (uint32_t)(t - h);
	put_le(b, h, 0xe85250d6, 4);
	put_le(b, h + 4, 0, 4);
	put_le(b, h + 8, len, 4);
	put_le(b, h + 12, (uint32_t)-(0xe85250d6u + len), 4);
	b[0x40 + 0x400] = 0xf4;
	return size;
}
