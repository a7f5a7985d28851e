#include "paging_tables.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define BOOT_PML4_GPA 0x2000ULL /* tg_create's tables */
#define TABLE_BYTES 4096ULL
#define ADDR_MASK 0x000ffffffffff000ULL
#define INNER_FLAGS (PTE_P | PTE_W | PTE_U)

uint64_t pt_get(struct pt_space *s, uint64_t entry_gpa)
{
	uint64_t v = 0;
	assert_int_equal(vm_read_gpa(s->vm, entry_gpa, &v, sizeof(v)), 0);
	return v;
}

void pt_set(struct pt_space *s, uint64_t entry_gpa, uint64_t val)
{
	assert_int_equal(vm_write_gpa(s->vm, entry_gpa, &val, sizeof(val)), 0);
}

static uint64_t new_table(struct pt_space *s)
{
	static const uint8_t zero[TABLE_BYTES];
	uint64_t t = s->next_table;
	if (t + TABLE_BYTES > PT_POOL_END)
		fail_msg("page-table pool used up: a test maps far too much");
	s->next_table += TABLE_BYTES;
	assert_int_equal(vm_write_gpa(s->vm, t, zero, sizeof(zero)), 0);
	return t;
}

void pt_init(struct pt_space *s, struct vm *vm)
{
	s->vm = vm;
	s->next_table = PT_POOL;
	s->root = new_table(s);
	pt_set(s, s->root, pt_get(s, BOOT_PML4_GPA));
}

static unsigned index_at(uint64_t va, enum pt_level level)
{
	return (unsigned)(va >> (12 + 9 * ((unsigned)level - 1))) & 511;
}

/* The entry for va at level, creating the tables above it. */
static uint64_t walk_to(struct pt_space *s, uint64_t va, enum pt_level level,
			int create)
{
	uint64_t table = s->root;
	for (enum pt_level l = PT_PML4E; l > level; l--) {
		uint64_t entry = table + 8ULL * index_at(va, l);
		uint64_t e = pt_get(s, entry);
		if (!(e & PTE_P)) {
			if (!create)
				fail_msg("no table maps %#llx at level %d",
					 (unsigned long long)va, (int)l);
			e = new_table(s) | INNER_FLAGS;
			pt_set(s, entry, e);
		}
		assert_false(e & PTE_PS);
		table = e & ADDR_MASK;
	}
	return table + 8ULL * index_at(va, level);
}

uint64_t pt_map(struct pt_space *s, uint64_t va, uint64_t pa,
		enum pt_page_size size, uint64_t flags)
{
	enum pt_level level = size == PT_4K ? PT_PTE
			      : size == PT_2M ? PT_PDE : PT_PDPTE;
	assert_int_equal((va | pa) & ((1ULL << size) - 1), 0);
	uint64_t entry = walk_to(s, va, level, 1);
	pt_set(s, entry, pa | flags | (size == PT_4K ? 0 : PTE_PS));
	return entry;
}

uint64_t pt_entry_at(struct pt_space *s, uint64_t va, enum pt_level level)
{
	return walk_to(s, va, level, 0);
}

void pt_activate(struct pt_space *s, int vcpu)
{
	assert_int_equal(vm_set_register(s->vm, vcpu, VM_REG_GUEST_CR3, s->root),
			 0);
}
