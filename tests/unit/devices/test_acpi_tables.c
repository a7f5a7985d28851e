/*
 * ACPI tables: checksums, pointers, entry counts, bad configurations, and
 * the real ACPICA tools: `iasl -d` disassembles each table without a
 * complaint, and `acpiexec` loads them as an OS would (ACPICA's table
 * manager, the code Linux runs) and evaluates \_S5.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/acpi_pm.h"
#include "devices/acpi_tables.h"

#ifndef HVGDB_IASL
#define HVGDB_IASL ""
#endif
#ifndef HVGDB_ACPIEXEC
#define HVGDB_ACPIEXEC ""
#endif

#define GPA 0xe0000u
#define BUF_SIZE 4096

static uint8_t buf[BUF_SIZE];

static struct acpi_config config(unsigned vcpus)
{
	return (struct acpi_config){
		.vcpus = vcpus,
		.ram_size = 256u << 20,
		.ioapic_addr = 0xfec00000u,
		.ioapic_id = 0,
		.tables_gpa = GPA,
		.has_i8042 = true,
		.hpet_addr = 0xfed00000u,
		.hpet_id = 0x80862201u,
	};
}

static uint8_t *at(uint64_t gpa)
{
	return buf + (gpa - GPA);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static struct acpi_layout build(unsigned vcpus)
{
	struct acpi_config cfg = config(vcpus);
	struct acpi_layout l;

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(acpi_build_tables(&cfg, buf, sizeof(buf), &l), 0);
	return l;
}

/* ---- structure ---------------------------------------------------------- */

static void test_checksums_and_pointers(void **state)
{
	(void)state;
	struct acpi_layout l = build(4);
	const uint8_t *rsdp = at(l.rsdp);
	struct acpi_config cfg = config(4);

	assert_int_equal(l.size, acpi_tables_size(&cfg));
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(get32(rsdp + 20), 36);
	assert_int_equal(sum(rsdp, 36), 0);
	assert_int_equal(get64(rsdp + 24), l.xsdt);

	const struct {
		uint64_t gpa;
		const char *sig;
	} tables[] = { { l.xsdt, "XSDT" }, { l.fadt, "FACP" },
		       { l.dsdt, "DSDT" }, { l.madt, "APIC" },
		       { l.hpet, "HPET" } };
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		const uint8_t *t = at(tables[i].gpa);
		assert_memory_equal(t, tables[i].sig, 4);
		assert_int_equal(sum(t, get32(t + 4)), 0);
		assert_true(tables[i].gpa + get32(t + 4) <= GPA + l.size);
		assert_int_equal(tables[i].gpa % 16, 0);
	}
	/* XSDT: FADT, MADT and HPET; the FADT points at the DSDT and
	 * FACS. */
	const uint8_t *xsdt = at(l.xsdt);
	assert_int_equal(get32(xsdt + 4), 36 + 3 * 8);
	assert_int_equal(get64(xsdt + 36), l.fadt);
	assert_int_equal(get64(xsdt + 44), l.madt);
	assert_int_equal(get64(xsdt + 52), l.hpet);
	const uint8_t *fadt = at(l.fadt);
	assert_int_equal(get32(fadt + 4), 276);
	assert_int_equal(fadt[8], 6);
	assert_int_equal(get32(fadt + 36), l.facs);
	assert_int_equal(get32(fadt + 40), l.dsdt);
	assert_int_equal(get64(fadt + 132), l.facs);
	assert_int_equal(get64(fadt + 140), l.dsdt);
	assert_memory_equal(at(l.facs), "FACS", 4);
	assert_int_equal(get32(at(l.facs) + 4), 64);
	assert_int_equal(l.facs % 64, 0);
}

static void test_fadt_describes_the_pm_block(void **state)
{
	(void)state;
	struct acpi_layout l = build(1);
	const uint8_t *f = at(l.fadt);

	assert_int_equal(f[46] | f[47] << 8, ACPI_SCI_IRQ);
	assert_int_equal(get32(f + 48), 0); /* no SMI_CMD */
	assert_int_equal(get32(f + 56), ACPI_PM_BASE + ACPI_PM1_EVT_OFFSET);
	assert_int_equal(get32(f + 64), ACPI_PM_BASE + ACPI_PM1_CNT_OFFSET);
	assert_int_equal(get32(f + 76), ACPI_PM_BASE + ACPI_PM_TMR_OFFSET);
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 4);
	/* TMR_VAL_EXT: the 32-bit timer acpi_pm.c implements. */
	assert_true(get32(f + 112) & (1u << 8));
	/* The X_ blocks say the same (SystemIO, width in bits, port). */
	const size_t x_off[3] = { 148, 172, 208 };
	const uint32_t port[3] = { 0x600, 0x604, 0x608 };
	const uint8_t bits[3] = { 32, 16, 32 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f[x_off[i]], 1);
		assert_int_equal(f[x_off[i] + 1], bits[i]);
		assert_int_equal(get64(f + x_off[i] + 4), port[i]);
	}
	/* \_S5 in the DSDT gives SLP_TYP = ACPI_S5_SLP_TYP. */
	const uint8_t *d = at(l.dsdt);
	const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
			       0x0a, ACPI_S5_SLP_TYP };
	assert_memory_equal(d + 36, s5, sizeof(s5));
}

/* HPET spec 1.0a, table 3: the block's ID and its base address in memory
 * space, which Linux reads to find the HPET. */
static void test_hpet_table(void **state)
{
	(void)state;
	struct acpi_layout l = build(2);
	const uint8_t *h = at(l.hpet);

	assert_int_equal(get32(h + 4), 56);
	assert_int_equal(get32(h + 36), 0x80862201u);
	assert_int_equal(h[40], 0); /* system memory */
	assert_int_equal(h[41], 64);
	assert_int_equal(get64(h + 44), 0xfed00000u);
	assert_int_equal(h[52], 0);

	/* Without an HPET: no table, and the XSDT lists two. */
	struct acpi_config cfg = config(2);
	cfg.hpet_addr = 0;
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(acpi_build_tables(&cfg, buf, sizeof(buf), &l), 0);
	assert_int_equal(l.hpet, 0);
	assert_int_equal(get32(at(l.xsdt) + 4), 36 + 2 * 8);
	assert_int_equal(l.size, acpi_tables_size(&cfg));
	assert_int_equal(l.size, l.madt - GPA + get32(at(l.madt) + 4));
}

static void test_madt_entries(void **state)
{
	(void)state;

	for (unsigned vcpus = 1; vcpus <= ACPI_MAX_VCPUS; vcpus += 37) {
		struct acpi_layout l = build(vcpus);
		const uint8_t *m = at(l.madt);
		uint32_t len = get32(m + 4);
		unsigned count[5] = { 0 };
		unsigned next_apic_id = 0;

		assert_int_equal(get32(m + 36), 0xfee00000u);
		assert_int_equal(get32(m + 40), 1); /* PCAT_COMPAT */
		for (uint32_t off = 44; off < len; off += m[off + 1]) {
			const uint8_t *e = m + off;
			assert_true(e[1] >= 2 && off + e[1] <= len);
			assert_true(e[0] < 5);
			count[e[0]]++;
			switch (e[0]) {
			case 0: /* local APIC: in order, enabled */
				assert_int_equal(e[3], next_apic_id++);
				assert_int_equal(get32(e + 4), 1);
				break;
			case 1:
				assert_int_equal(get32(e + 4), 0xfec00000u);
				assert_int_equal(get32(e + 8), 0);
				break;
			case 2:
				if (e[3] == 0) {
					assert_int_equal(get32(e + 4), 2);
					assert_int_equal(e[8], 0);
				} else {
					assert_int_equal(e[3], 9);
					assert_int_equal(get32(e + 4), 9);
					assert_int_equal(e[8], 0x0d);
				}
				break;
			case 4:
				assert_int_equal(e[2], 0xff);
				assert_int_equal(e[5], 1); /* LINT1 */
				break;
			default:
				break;
			}
		}
		assert_int_equal(count[0], vcpus);
		assert_int_equal(count[1], 1);
		assert_int_equal(count[2], 2);
		assert_int_equal(count[3], 0);
		assert_int_equal(count[4], 1);
	}
}

static void test_bad_configs_are_refused(void **state)
{
	(void)state;
	struct acpi_layout l;
	struct acpi_config cfg;
	static uint8_t small[64];

	const struct {
		unsigned vcpus;
		uint64_t gpa, ram;
		uint8_t ioapic_id;
	} bad[] = {
		{ 0, GPA, 256u << 20, 0 },
		{ ACPI_MAX_VCPUS + 1, GPA, 256u << 20, 0 },
		{ 1, GPA + 16, 256u << 20, 0 },      /* FACS misaligned */
		{ 1, GPA, 256u << 20, 16 },          /* ID is 4 bits */
		{ 1, GPA, GPA + 100, 0 },            /* past RAM's end */
		{ 1, 0xffffff00ull, 8ull << 30, 0 }, /* crosses 4 GiB */
		{ 1, 5ull << 32, 8ull << 30, 0 },    /* above 4 GiB */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = config(bad[i].vcpus);
		cfg.tables_gpa = bad[i].gpa;
		cfg.ram_size = bad[i].ram;
		cfg.ioapic_id = bad[i].ioapic_id;
		memset(buf, 0xaa, sizeof(buf));
		assert_int_equal(acpi_build_tables(&cfg, buf, sizeof(buf), &l),
				 -EINVAL);
		assert_int_equal(buf[0], 0xaa);
	}
	cfg = config(1);
	memset(small, 0xaa, sizeof(small));
	assert_int_equal(acpi_build_tables(&cfg, small, sizeof(small), &l),
			 -ENOSPC);
	assert_int_equal(small[0], 0xaa);
	assert_int_equal(acpi_build_tables(NULL, buf, sizeof(buf), &l),
			 -EINVAL);
}

/* ---- the real ACPICA tools ---------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const uint8_t *p, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* Runs cmd in tmpdir; returns its output (static buffer) and status. */
static const char *run(const char *cmd, int *status)
{
	static char out[65536];
	char line[512];
	size_t len = 0;

	snprintf(line, sizeof(line), "cd %s && %s 2>&1", tmpdir, cmd);
	FILE *p = popen(line, "r");
	assert_non_null(p);
	len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	*status = pclose(p);
	return out;
}

static char *read_text(const char *name)
{
	static char text[65536];
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static const char *const complaints[] = {
	"Warning", "Error", "Invalid", "Incorrect", "mismatch", "exceeds",
	"Unknown", "terminates",
};

static void assert_no_complaint(const char *what, const char *text)
{
	for (size_t i = 0; i < sizeof(complaints) / sizeof(complaints[0]);
	     i++) {
		if (strstr(text, complaints[i]))
			fail_msg("%s: \"%s\" in:\n%s", what, complaints[i],
				 text);
	}
}

static int tools_setup(void **state)
{
	(void)state;
	if (!HVGDB_IASL[0] || !HVGDB_ACPIEXEC[0]) {
		fprintf(stderr, "iasl/acpiexec not found at configure time: "
				"install acpica-tools "
				"(scripts/install-deps.sh)\n");
		return -1;
	}
	strcpy(tmpdir, "/tmp/hvgdb-acpi-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tools_teardown(void **state)
{
	(void)state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct {
	const char *file;
	size_t layout_field;
} table_files[] = {
	{ "xsdt", offsetof(struct acpi_layout, xsdt) },
	{ "facp", offsetof(struct acpi_layout, fadt) },
	{ "facs", offsetof(struct acpi_layout, facs) },
	{ "dsdt", offsetof(struct acpi_layout, dsdt) },
	{ "apic", offsetof(struct acpi_layout, madt) },
	{ "hpet", offsetof(struct acpi_layout, hpet) },
};

static void write_tables(const struct acpi_layout *l)
{
	for (size_t i = 0; i < sizeof(table_files) / sizeof(table_files[0]);
	     i++) {
		uint64_t gpa;
		char name[32];

		memcpy(&gpa, (const char *)l + table_files[i].layout_field,
		       sizeof(gpa));
		snprintf(name, sizeof(name), "%s.dat", table_files[i].file);
		write_file(name, at(gpa), get32(at(gpa) + 4));
	}
}

static void test_iasl_disassembles_every_table(void **state)
{
	(void)state;
	struct acpi_layout l = build(8);
	int status;

	write_tables(&l);
	for (size_t i = 0; i < sizeof(table_files) / sizeof(table_files[0]);
	     i++) {
		char cmd[256], dsl[32];

		snprintf(cmd, sizeof(cmd), "%s -d %s.dat", HVGDB_IASL,
			 table_files[i].file);
		const char *out = run(cmd, &status);
		if (status != 0)
			fail_msg("%s failed:\n%s", cmd, out);
		assert_no_complaint(cmd, out);
		snprintf(dsl, sizeof(dsl), "%s.dsl", table_files[i].file);
		assert_no_complaint(dsl, read_text(dsl));
	}
	/* The decompiled DSDT is exactly the documented \_S5. */
	const char *dsdt = read_text("dsdt.dsl");
	const char *s5 = strstr(dsdt, "Name (_S5, Package (0x04)");
	assert_non_null(s5);
	s5 = strstr(s5, "0x05,");
	assert_non_null(s5);
	s5 = strstr(s5 + 1, "0x05,");
	assert_non_null(s5);
	s5 = strstr(s5, "Zero,");
	assert_non_null(s5);
	assert_non_null(strstr(s5 + 1, "Zero"));
	const char *madt = read_text("apic.dsl");
	assert_non_null(strstr(madt, "Local Apic ID : 07"));
	assert_null(strstr(madt, "Local Apic ID : 08"));
}

/* The checker is not blind: a wrong checksum, a zero-length MADT entry
 * and a header length running past the data are each reported. */
static void test_iasl_reports_a_broken_table(void **state)
{
	(void)state;
	struct acpi_layout l = build(2);
	uint8_t *madt = at(l.madt);
	uint32_t len = get32(madt + 4);
	int status;

	madt[9] ^= 0x5a;
	write_file("bad.dat", madt, len);
	run(HVGDB_IASL " -d bad.dat", &status);
	assert_non_null(strstr(read_text("bad.dsl"), "Incorrect checksum"));
	madt[9] ^= 0x5a;

	madt[44 + 1] = 0; /* first entry's length */
	madt[9] = 0;
	madt[9] = (uint8_t)-sum(madt, len);
	write_file("bad2.dat", madt, len);
	run(HVGDB_IASL " -d bad2.dat", &status);
	assert_non_null(strstr(read_text("bad2.dsl"), "Invalid"));
	madt[44 + 1] = 8;

	madt[4] = (uint8_t)(len + 16); /* longer than the data */
	madt[9] = 0;
	madt[9] = (uint8_t)-sum(madt, len);
	write_file("bad3.dat", madt, len);
	run(HVGDB_IASL " -d bad3.dat", &status);
	assert_int_not_equal(status, 0);
}

/* ACPICA's own table manager (what Linux runs) loads the FADT, FACS, DSDT
 * and MADT without a warning and evaluates \_S5 to { 5, 5, 0, 0 }. */
static void test_acpiexec_loads_tables_and_evaluates_s5(void **state)
{
	(void)state;
	struct acpi_layout l = build(4);
	int status;

	write_tables(&l);
	const char *out = run(HVGDB_ACPIEXEC " -b 'evaluate \\_S5' facp.dat "
					     "dsdt.dat apic.dat facs.dat "
					     "hpet.dat xsdt.dat",
			      &status);
	if (status != 0)
		fail_msg("acpiexec failed:\n%s", out);
	const char *s5 = strstr(out, "[Package] Contains 4 Elements:");
	if (!s5)
		fail_msg("no \\_S5 package in:\n%s", out);
	const char *want[] = { "[Integer] = 0000000000000005",
			       "[Integer] = 0000000000000005",
			       "[Integer] = 0000000000000000",
			       "[Integer] = 0000000000000000" };
	for (int i = 0; i < 4; i++) {
		s5 = strstr(s5 + 1, want[i]);
		assert_non_null(s5);
	}
	/* Only the table manager's own complaints count: acpiexec's built-in
	 * GPE self-tests (aetests) complain about any FADT without GPE
	 * blocks. */
	const char *table_complaints[] = { "ACPI Warning", "ACPI Error",
					   "Firmware Error", "ACPI BIOS" };
	for (int i = 0; i < 4; i++) {
		if (strstr(out, table_complaints[i]))
			fail_msg("\"%s\" in:\n%s", table_complaints[i], out);
	}
	assert_non_null(strstr(out, "FACP"));
	assert_non_null(strstr(out, "APIC"));
	assert_non_null(strstr(out, "HPET"));
}

int main(void)
{
	const struct CMUnitTest structure[] = {
		cmocka_unit_test(test_checksums_and_pointers),
		cmocka_unit_test(test_fadt_describes_the_pm_block),
		cmocka_unit_test(test_hpet_table),
		cmocka_unit_test(test_madt_entries),
		cmocka_unit_test(test_bad_configs_are_refused),
	};
	const struct CMUnitTest tools[] = {
		cmocka_unit_test(test_iasl_disassembles_every_table),
		cmocka_unit_test(test_iasl_reports_a_broken_table),
		cmocka_unit_test(test_acpiexec_loads_tables_and_evaluates_s5),
	};
	int failed = cmocka_run_group_tests(structure, NULL, NULL);

	failed += cmocka_run_group_tests(tools, tools_setup, tools_teardown);
	return failed;
}
