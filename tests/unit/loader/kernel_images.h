/* Crafted kernel images for the loader tests: a minimal bzImage, PVH ELF,
 * Multiboot 1 (address fields and ELF32) and Multiboot 2 kernel, each in a
 * caller-provided buffer. Layouts follow the specifications the loaders
 * implement; the tests corrupt and truncate them. */
#ifndef HVGDB_TEST_KERNEL_IMAGES_H
#define HVGDB_TEST_KERNEL_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#define IMG_MAX 0x4000

/* bzImage: 1 setup sector + boot sector, then a 0x800-byte kernel. */
#define BZ_PREF 0x1000000ULL
#define BZ_INIT_SIZE 0x200000U
#define BZ_CMDLINE_SIZE 255U
#define BZ_PM_OFFSET 0x400
#define BZ_SIZE (BZ_PM_OFFSET + 0x800)
size_t make_bzimage(uint8_t *b);

/* ELF64 with one PT_LOAD at ELF_PADDR and a PT_NOTE holding a Xen
 * PHYS32_ENTRY note (8-byte descriptor, as Linux writes it), optionally
 * followed by an hvgdb note. */
#define ELF_PADDR 0x200000ULL
#define PVH_ENTRY (ELF_PADDR + 0x10)
#define ELF_MEMSZ 0x3000ULL
size_t make_pvh_elf(uint8_t *b, int with_hvgdb_note);

/* Multiboot 1 with address fields: loads the whole file at MB_LOAD. */
#define MB_LOAD 0x100000ULL
#define MB_ENTRY (MB_LOAD + 0x40)
#define MB_BSS_END (MB_LOAD + 0x5000)
size_t make_mb1_aout(uint8_t *b, uint32_t flags);
/* Multiboot 1 ELF32 (header in the segment), entry ELF_PADDR + 0x10. */
size_t make_mb1_elf32(uint8_t *b);
/* Multiboot 2 with address and entry tags, plus an information request
 * for tags 1, 4 and 6. */
size_t make_mb2_aout(uint8_t *b);

void put_le(uint8_t *b, size_t off, uint64_t v, unsigned n);
uint64_t get_le_at(const uint8_t *b, size_t off, unsigned n);

#endif
