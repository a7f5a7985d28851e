/* ELF loader: a good image built here, then every way of breaking it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/elf_loader.h"

#define MIN_PADDR 0x100000ull
#define RAM_SIZE 0x400000ull

/* Layout of the test image. */
#define PHOFF 64
#define PHENT 56
#define NPH 3
#define CODE_OFF 0x100
#define CODE_LEN 16
#define DATA_OFF (CODE_OFF + CODE_LEN)
#define DATA_LEN 8
#define IMAGE_LEN (DATA_OFF + DATA_LEN)
#define CODE_PADDR 0x100000ull
#define DATA_PADDR 0x200000ull
#define DATA_MEMSZ 0x100ull
#define ENTRY (CODE_PADDR + 4)

/* Field offsets, for corrupting. */
#define EH_TYPE 16
#define EH_MACHINE 18
#define EH_ENTRY 24
#define EH_PHOFF 32
#define EH_PHENTSIZE 54
#define EH_PHNUM 56
#define PH(i) (PHOFF + (i)*PHENT)
#define PH_TYPE 0
#define PH_FLAGS 4
#define PH_OFFSET 8
#define PH_VADDR 16
#define PH_PADDR 24
#define PH_FILESZ 32
#define PH_MEMSZ 40

static void put(uint8_t *b, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static void put_phdr(uint8_t *b, int i, uint32_t type, uint32_t flags,
		     uint64_t off, uint64_t paddr, uint64_t filesz,
		     uint64_t memsz)
{
	put(b, PH(i) + PH_TYPE, type, 4);
	put(b, PH(i) + PH_FLAGS, flags, 4);
	put(b, PH(i) + PH_OFFSET, off, 8);
	put(b, PH(i) + PH_VADDR, paddr, 8);
	put(b, PH(i) + PH_PADDR, paddr, 8);
	put(b, PH(i) + PH_FILESZ, filesz, 8);
	put(b, PH(i) + PH_MEMSZ, memsz, 8);
	put(b, PH(i) + 48, 0x1000, 8); /* p_align */
}

/* A valid ET_EXEC: an R-X code segment, a PT_NOTE, a RW- data+bss one. */
static void build_good(uint8_t *b)
{
	memset(b, 0, IMAGE_LEN);
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = 2; /* ELFCLASS64 */
	b[5] = 1; /* ELFDATA2LSB */
	b[6] = 1; /* EV_CURRENT */
	put(b, EH_TYPE, 2, 2);
	put(b, EH_MACHINE, 62, 2);
	put(b, 20, 1, 4);
	put(b, EH_ENTRY, ENTRY, 8);
	put(b, EH_PHOFF, PHOFF, 8);
	put(b, 52, 64, 2); /* e_ehsize */
	put(b, EH_PHENTSIZE, PHENT, 2);
	put(b, EH_PHNUM, NPH, 2);
	put_phdr(b, 0, 1, 5, CODE_OFF, CODE_PADDR, CODE_LEN, CODE_LEN);
	put_phdr(b, 1, 4, 4, 0, 0, 0, 0); /* PT_NOTE: ignored */
	put_phdr(b, 2, 1, 6, DATA_OFF, DATA_PADDR, DATA_LEN, DATA_MEMSZ);
	for (int i = 0; i < CODE_LEN; i++)
		b[CODE_OFF + i] = (uint8_t)(0x90 + i);
	for (int i = 0; i < DATA_LEN; i++)
		b[DATA_OFF + i] = (uint8_t)(0x11 * (i + 1));
}

struct result {
	int rc;
	struct elf_image img;
	char err[160];
};

static struct result parse(const uint8_t *b, size_t len)
{
	struct result r;

	memset(r.err, 0, sizeof(r.err));
	r.rc = elf_parse(b, len, MIN_PADDR, RAM_SIZE, &r.img, r.err,
			 sizeof(r.err));
	return r;
}

/* Rejected, with a one-line reason containing `why`, and no half result. */
static void assert_rejected(const uint8_t *b, size_t len, const char *why)
{
	struct result r = parse(b, len);

	assert_int_equal(r.rc, -EINVAL);
	if (!strstr(r.err, why))
		fail_msg("reason \"%s\" lacks \"%s\"", r.err, why);
	assert_null(strchr(r.err, '\n'));
	assert_int_equal(r.img.nsegs, 0);
	assert_int_equal(r.img.entry, 0);
}

/* ---- the good image ----------------------------------------------------- */

static void test_good_image_parses(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	struct result r = parse(b, sizeof(b));
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.img.entry, ENTRY);
	assert_int_equal(r.img.nsegs, 2);
	assert_int_equal(r.img.segs[0].paddr, CODE_PADDR);
	assert_int_equal(r.img.segs[0].offset, CODE_OFF);
	assert_int_equal(r.img.segs[0].filesz, CODE_LEN);
	assert_int_equal(r.img.segs[0].memsz, CODE_LEN);
	assert_int_equal(r.img.segs[1].paddr, DATA_PADDR);
	assert_int_equal(r.img.segs[1].filesz, DATA_LEN);
	assert_int_equal(r.img.segs[1].memsz, DATA_MEMSZ);
}

static void test_unaligned_buffer(void **state)
{
	(void)state;
	uint8_t raw[IMAGE_LEN + 1];

	build_good(raw + 1);
	struct result r = parse(raw + 1, IMAGE_LEN);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.img.entry, ENTRY);
}

static void test_copy_segments_zero_fills(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];
	uint8_t *ram = malloc(RAM_SIZE);

	assert_non_null(ram);
	build_good(b);
	struct result r = parse(b, sizeof(b));
	assert_int_equal(r.rc, 0);
	memset(ram, 0xaa, RAM_SIZE);
	elf_copy_segments(b, &r.img, ram);
	assert_memory_equal(ram + CODE_PADDR, b + CODE_OFF, CODE_LEN);
	assert_int_equal(ram[CODE_PADDR - 1], 0xaa);
	assert_int_equal(ram[CODE_PADDR + CODE_LEN], 0xaa);
	assert_memory_equal(ram + DATA_PADDR, b + DATA_OFF, DATA_LEN);
	for (uint64_t i = DATA_LEN; i < DATA_MEMSZ; i++)
		assert_int_equal(ram[DATA_PADDR + i], 0);
	assert_int_equal(ram[DATA_PADDR + DATA_MEMSZ], 0xaa);
	free(ram);
}

static void test_segment_ending_at_ram_end_fits(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	put(b, PH(2) + PH_PADDR, RAM_SIZE - DATA_MEMSZ, 8);
	assert_int_equal(parse(b, sizeof(b)).rc, 0);
	put(b, PH(2) + PH_PADDR, RAM_SIZE - DATA_MEMSZ + 1, 8);
	assert_rejected(b, sizeof(b), "beyond guest RAM");
}

static void test_entry_boundaries(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	put(b, EH_ENTRY, CODE_PADDR, 8);
	assert_int_equal(parse(b, sizeof(b)).rc, 0);
	put(b, EH_ENTRY, CODE_PADDR + CODE_LEN - 1, 8);
	assert_int_equal(parse(b, sizeof(b)).rc, 0);
	put(b, EH_ENTRY, CODE_PADDR + CODE_LEN, 8);
	assert_rejected(b, sizeof(b), "entry point");
	put(b, EH_ENTRY, CODE_PADDR - 1, 8);
	assert_rejected(b, sizeof(b), "entry point");
	/* Inside a loaded segment that is not executable. */
	put(b, EH_ENTRY, DATA_PADDR, 8);
	assert_rejected(b, sizeof(b), "executable");
	put(b, EH_ENTRY, UINT64_MAX, 8);
	assert_rejected(b, sizeof(b), "entry point");
}

/* ---- header ------------------------------------------------------------- */

static void test_truncated_at_every_length(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	for (size_t len = 0; len < IMAGE_LEN; len++) {
		/* A fresh heap copy of exactly len bytes, so ASan sees any
		 * read past the end. */
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, b, len);
		if (len < 64)
			assert_rejected(copy, len, "too small");
		else if (len < PH(NPH))
			assert_rejected(copy, len, "program headers outside");
		else
			assert_rejected(copy, len, "outside the file");
		free(copy);
	}
}

static void test_bad_identification(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	b[1] = 'X';
	assert_rejected(b, sizeof(b), "magic");
	build_good(b);
	b[4] = 1;
	assert_rejected(b, sizeof(b), "ELF64");
	build_good(b);
	b[5] = 2;
	assert_rejected(b, sizeof(b), "little-endian");
	build_good(b);
	b[6] = 0;
	assert_rejected(b, sizeof(b), "version");
	build_good(b);
	put(b, EH_MACHINE, 3, 2); /* EM_386 */
	assert_rejected(b, sizeof(b), "x86-64");
	build_good(b);
	put(b, EH_TYPE, 3, 2); /* ET_DYN */
	assert_rejected(b, sizeof(b), "ET_EXEC");
}

static void test_bad_program_header_table(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	put(b, EH_PHENTSIZE, 32, 2);
	assert_rejected(b, sizeof(b), "e_phentsize");
	build_good(b);
	put(b, EH_PHENTSIZE, 64, 2);
	assert_rejected(b, sizeof(b), "e_phentsize");
	build_good(b);
	put(b, EH_PHNUM, 0, 2);
	assert_rejected(b, sizeof(b), "e_phnum");
	build_good(b);
	put(b, EH_PHNUM, 0xffff, 2);
	assert_rejected(b, sizeof(b), "e_phnum");
	build_good(b);
	put(b, EH_PHNUM, 0xfffe, 2);
	assert_rejected(b, sizeof(b), "program headers outside");
	build_good(b);
	put(b, EH_PHOFF, IMAGE_LEN, 8);
	assert_rejected(b, sizeof(b), "program headers outside");
	build_good(b);
	/* phoff + table size wraps around 2^64. */
	put(b, EH_PHOFF, UINT64_MAX - 16, 8);
	assert_rejected(b, sizeof(b), "program headers outside");
	build_good(b);
	put(b, EH_PHOFF, IMAGE_LEN - NPH * PHENT + 1, 8);
	assert_rejected(b, sizeof(b), "program headers outside");
}

/* ---- segments ----------------------------------------------------------- */

static void test_segment_file_range(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	put(b, PH(2) + PH_OFFSET, IMAGE_LEN + 1, 8);
	assert_rejected(b, sizeof(b), "outside the file");
	build_good(b);
	put(b, PH(2) + PH_OFFSET, UINT64_MAX, 8);
	assert_rejected(b, sizeof(b), "outside the file");
	build_good(b);
	/* offset + filesz wraps to a small number. */
	put(b, PH(2) + PH_OFFSET, 0x10, 8);
	put(b, PH(2) + PH_FILESZ, UINT64_MAX - 8, 8);
	put(b, PH(2) + PH_MEMSZ, UINT64_MAX, 8);
	assert_rejected(b, sizeof(b), "outside the file");
	build_good(b);
	put(b, PH(2) + PH_FILESZ, DATA_LEN + 1, 8);
	assert_rejected(b, sizeof(b), "outside the file");
	/* The last byte of the file is fine. */
	build_good(b);
	put(b, PH(2) + PH_OFFSET, IMAGE_LEN, 8);
	put(b, PH(2) + PH_FILESZ, 0, 8);
	assert_int_equal(parse(b, sizeof(b)).rc, 0);
}

static void test_filesz_above_memsz(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	put(b, PH(2) + PH_MEMSZ, DATA_LEN - 1, 8);
	assert_rejected(b, sizeof(b), "p_filesz");
}

static void test_address_overflow(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	put(b, PH(2) + PH_PADDR, UINT64_MAX - 0x10, 8);
	assert_rejected(b, sizeof(b), "overflows");
	build_good(b);
	put(b, PH(2) + PH_MEMSZ, UINT64_MAX, 8);
	assert_rejected(b, sizeof(b), "overflows");
}

static void test_segment_placement(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	put(b, PH(2) + PH_PADDR, MIN_PADDR - 1, 8);
	assert_rejected(b, sizeof(b), "below the minimum");
	build_good(b);
	put(b, PH(2) + PH_PADDR, 0, 8);
	assert_rejected(b, sizeof(b), "below the minimum");
	build_good(b);
	put(b, PH(2) + PH_PADDR, RAM_SIZE, 8);
	assert_rejected(b, sizeof(b), "beyond guest RAM");
	build_good(b);
	put(b, PH(2) + PH_MEMSZ, RAM_SIZE, 8);
	assert_rejected(b, sizeof(b), "beyond guest RAM");
}

static void test_no_load_segment(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];

	build_good(b);
	put(b, PH(0) + PH_TYPE, 6, 4); /* PT_PHDR */
	put(b, PH(2) + PH_TYPE, 0x6474e551, 4); /* PT_GNU_STACK */
	assert_rejected(b, sizeof(b), "no PT_LOAD");
}

static void test_too_many_segments(void **state)
{
	(void)state;
	enum { N = ELF_MAX_SEGMENTS + 1 };
	size_t len = PH(N) + 16;
	uint8_t *b = calloc(1, len);

	assert_non_null(b);
	build_good(b); /* header only matters; phdrs rewritten below */
	put(b, EH_PHNUM, N, 2);
	for (int i = 0; i < N; i++)
		put_phdr(b, i, 1, 5, PH(N), MIN_PADDR + 0x1000ull * i, 16,
			 16);
	put(b, EH_ENTRY, MIN_PADDR, 8);
	assert_rejected(b, len, "too many");
	/* Exactly the maximum is accepted. */
	put(b, EH_PHNUM, N - 1, 2);
	struct result r = parse(b, len);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.img.nsegs, ELF_MAX_SEGMENTS);
	free(b);
}

static void test_null_and_tiny_arguments(void **state)
{
	(void)state;
	uint8_t b[IMAGE_LEN];
	struct elf_image img;
	char tiny[1] = { 'x' };

	build_good(b);
	assert_int_equal(elf_parse(NULL, 100, MIN_PADDR, RAM_SIZE, &img, NULL,
				   0),
			 -EINVAL);
	assert_int_equal(elf_parse(b, sizeof(b), MIN_PADDR, RAM_SIZE, NULL,
				   NULL, 0),
			 -EINVAL);
	/* errlen 1: still NUL-terminated, nothing written past it. */
	b[0] = 0;
	assert_int_equal(elf_parse(b, sizeof(b), MIN_PADDR, RAM_SIZE, &img,
				   tiny, sizeof(tiny)),
			 -EINVAL);
	assert_int_equal(tiny[0], '\0');
}

/* Deterministic random corruption: never crash, never accept anything that
 * breaks the documented guarantees. Meaningful under ASan/UBSan. */
static void test_random_corruption(void **state)
{
	(void)state;
	uint8_t good[IMAGE_LEN], b[IMAGE_LEN];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned accepted = 0;

	build_good(good);
	for (int iter = 0; iter < 200000; iter++) {
		memcpy(b, good, sizeof(b));
		int flips = 1 + iter % 4;
		for (int k = 0; k < flips; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Bias towards the headers, where the checks are. */
			size_t pos = (size_t)(x >> 32) % PH(NPH);
			b[pos] = (uint8_t)(x >> 8);
		}
		size_t len = iter % 7 == 0 ? (size_t)(x % IMAGE_LEN) : IMAGE_LEN;
		struct result r = parse(b, len);
		if (r.rc != 0) {
			assert_int_equal(r.rc, -EINVAL);
			assert_true(r.err[0] != '\0');
			continue;
		}
		accepted++;
		assert_true(r.img.nsegs >= 1 && r.img.nsegs <= ELF_MAX_SEGMENTS);
		for (unsigned i = 0; i < r.img.nsegs; i++) {
			const struct elf_segment *s = &r.img.segs[i];
			assert_true(s->offset <= len &&
				    s->filesz <= len - s->offset);
			assert_true(s->filesz <= s->memsz);
			assert_true(s->paddr >= MIN_PADDR);
			assert_true(s->paddr <= RAM_SIZE &&
				    s->memsz <= RAM_SIZE - s->paddr);
		}
	}
	/* Flips in unchecked fields (vaddr, align, padding) keep it valid. */
	assert_true(accepted > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_image_parses),
		cmocka_unit_test(test_unaligned_buffer),
		cmocka_unit_test(test_copy_segments_zero_fills),
		cmocka_unit_test(test_segment_ending_at_ram_end_fits),
		cmocka_unit_test(test_entry_boundaries),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_bad_identification),
		cmocka_unit_test(test_bad_program_header_table),
		cmocka_unit_test(test_segment_file_range),
		cmocka_unit_test(test_filesz_above_memsz),
		cmocka_unit_test(test_address_overflow),
		cmocka_unit_test(test_segment_placement),
		cmocka_unit_test(test_no_load_segment),
		cmocka_unit_test(test_too_many_segments),
		cmocka_unit_test(test_null_and_tiny_arguments),
		cmocka_unit_test(test_random_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
