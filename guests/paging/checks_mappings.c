/*
 * Virtual != physical. The same bytes of the image are reached through four
 * virtual addresses: the identity map, a 1 GiB page, a 2 MiB page and a 4 KiB
 * page; a higher-half kernel runs this way. where_am_i returns the RIP it ran
 * at, which proves the CPU fetched it through that mapping.
 */
#include "checks.h"

#include "config.h"
#include "faults.h"
#include "layout.h"
#include "report.h"
#include "x86.h"

extern const char paging_code_page[];

/* Image data, written through the 2 MiB alias. */
static volatile uint64_t image_words[GUEST_MAX_CPUS];

/* The value is hidden from the compiler, which otherwise folds
 * "HIGH_1G + symbol" into one RIP-relative relocation that cannot reach. */
static uint64_t addr_of(const volatile void *p)
{
	uint64_t v = (uint64_t)(uintptr_t)p;
	__asm__("" : "+r"(v));
	return v;
}

static void check_execute(unsigned vcpu, const char *name, uint64_t va)
{
	fault_log_reset(vcpu);
	uint64_t got = probe_call(va);
	check(vcpu, name, got == va && fault_log(vcpu)->count == 0,
	      "where_am_i via 0x%lx returned 0x%lx, %u faults", va, got,
	      fault_log(vcpu)->count);
}

/* Writes through write_va, reads back through read_va. */
static void check_alias(unsigned vcpu, const char *name, uint64_t write_va,
			uint64_t read_va, uint64_t pattern)
{
	fault_log_reset(vcpu);
	probe_write(write_va, pattern);
	uint64_t got = probe_read(read_va);
	check(vcpu, name, got == pattern && fault_log(vcpu)->count == 0,
	      "wrote 0x%lx at 0x%lx, read 0x%lx at 0x%lx, %u faults", pattern,
	      write_va, got, read_va, fault_log(vcpu)->count);
}

void write_return_value_code(uint64_t code, uint32_t value)
{
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)code;
	p[0] = 0xb8; /* mov $imm32, %eax */
	for (unsigned i = 0; i < 4; i++)
		p[1 + i] = (uint8_t)(value >> (8 * i));
	p[5] = 0xc3; /* ret */
}

void checks_mappings(unsigned vcpu, struct address_space *as)
{
	uint64_t code = addr_of(where_am_i);
	uint64_t tag = (uint64_t)vcpu << 8;
	check(vcpu, "image-below-2m", code < PAGE_2M && addr_of(&image_words[vcpu]) < PAGE_2M,
	      "where_am_i at 0x%lx", code);

	check_execute(vcpu, "1g-page-execute", HIGH_1G + code);
	check_alias(vcpu, "1g-page-alias", HIGH_1G + as->page_a, as->page_a,
		    0x1a1a1a1a00000001 | tag);

	check_execute(vcpu, "2m-page-execute", HIGH_2M + code);
	check_alias(vcpu, "2m-page-alias", HIGH_2M + addr_of(&image_words[vcpu]),
		    addr_of(&image_words[vcpu]), 0x2b2b2b2b00000002 | tag);

	check_execute(vcpu, "4k-page-execute",
		      VA_CODE_4K + (code - addr_of(paging_code_page)));
	check_alias(vcpu, "4k-page-alias", VA_DATA, VA_DATA_ALIAS,
		    0x4c4c4c4c00000004 | tag);
	uint64_t physical = *phys(as->page_a);
	check(vcpu, "4k-page-physical", physical == (0x4c4c4c4c00000004 | tag),
	      "read 0x%lx at physical page A", physical);

	/* Code written through the identity map, run through another VA. */
	uint32_t value = 0xe0ec0000u | vcpu;
	write_return_value_code(as->page_c1, value);
	fault_log_reset(vcpu);
	uint64_t got = probe_call(VA_CODE_ALIAS);
	check(vcpu, "execute-alias", got == value && fault_log(vcpu)->count == 0,
	      "code written at physical page C1 returned 0x%lx via 0x%lx",
	      got, (uint64_t)VA_CODE_ALIAS);
}
