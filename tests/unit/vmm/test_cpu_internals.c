/*
 * The Unicorn internals hvgdb's event delivery relies on
 * (src/vmm/tcg/tcg_cpu_internals.c) hold on the installed libunicorn: the
 * start-up self-test passes. It fails when an interposed helper is no
 * longer called through the PLT (pointers unseen, triple fault unseen),
 * when QEMU's delivery stops clearing its exception record (#DF), or when
 * the CPL can no longer be found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/tcg/tcg_cpu_internals.h"

static void test_selftest_passes(void **state)
{
	(void)state;
	char err[256] = "";
	int rc = tcg_cpu_internals_check(err, sizeof(err));
	if (rc != 0)
		print_message("%s\n", err);
	assert_int_equal(rc, 0);
}

/* The CPL finder picks the one word that differs by exactly the CPL bits
 * and looks like 64-bit-mode hflags, and refuses when that is ambiguous. */
static void test_cpl_offset_finder(void **state)
{
	(void)state;
	uint8_t a[64] = { 0 }, b[64] = { 0 };
	uint32_t hf0 = 0xC0B0 | (1u << 22), hf3 = hf0 | 3, other = 3;
	memcpy(a + 24, &hf0, 4);
	memcpy(b + 24, &hf3, 4);
	memcpy(b + 40, &other, 4); /* differs by 3 but not hflags-like */
	size_t off = 0;
	assert_true(tcg_find_cpl_offset(a, b, sizeof(a), &off));
	assert_int_equal(off, 24);
	memcpy(a + 48, &hf0, 4);
	memcpy(b + 48, &hf3, 4);
	assert_false(tcg_find_cpl_offset(a, b, sizeof(a), &off));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selftest_passes),
		cmocka_unit_test(test_cpl_offset_finder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
