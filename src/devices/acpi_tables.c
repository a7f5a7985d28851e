/*
 * ACPI table generator. Field offsets follow the ACPI 6.0 specification
 * (5.2.5 RSDP, 5.2.8 XSDT, 5.2.9 FADT, 5.2.10 FACS, 5.2.12 MADT) and the
 * IA-PC HPET specification 1.0a (3.2.4, the HPET description table).
 *
 * Layout from tables_gpa (64-byte aligned): RSDP, XSDT, FADT, FACS (64-byte
 * aligned, as the spec requires), DSDT, MADT, HPET (if any); every table
 * 16-byte aligned. Both the 32-bit
 * and the 64-bit (X_) address fields of the FADT are filled with the same
 * values: ACPICA warns when they disagree, and older OSes read only the
 * 32-bit ones.
 */
#include "devices/acpi_tables.h"

#include <errno.h>
#include <string.h>

#include "devices/acpi_pm.h"

#define HEADER_LEN 36
#define RSDP_LEN 36
#define RSDP_V1_LEN 20
#define XSDT_ENTRY_LEN 8 /* FADT, MADT, HPET if any */
#define FADT_LEN 276
#define FACS_LEN 64
#define MADT_FIXED_LEN (HEADER_LEN + 8)
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_OVERRIDE_LEN 10
#define MADT_LAPIC_NMI_LEN 6
#define MADT_OVERRIDES 2
#define HPET_TABLE_LEN 56
/* HPET table: the minimum periodic tick, in counter ticks (the ICH's). */
#define HPET_MIN_TICK 0x80
#define GAS_SYSTEM_MEMORY 0

#define LAPIC_ADDRESS 0xfee00000u
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC_ENABLED 1u
/* MPS INTI flags: polarity bits 1-0, trigger mode bits 3-2. */
#define INTI_CONFORMS 0x0u
#define INTI_ACTIVE_HIGH 0x1u
#define INTI_LEVEL 0xcu
#define ALL_PROCESSORS 0xffu

/* FADT flags (5.2.9, table 5-35). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* no fixed power button */
#define FADT_SLP_BUTTON (1u << 5) /* no fixed sleep button */
#define FADT_TMR_VAL_EXT (1u << 8)
/* IA-PC boot architecture flags. */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042 (1u << 1)
/* C2/C3 latencies above 100/1000 us mean "not supported". */
#define C2_UNSUPPORTED 0x0fff
#define C3_UNSUPPORTED 0x03e9
/* MC146818 CMOS index of the century byte (as QEMU's RTC has it). */
#define CMOS_CENTURY 0x32
#define GAS_SYSTEM_IO 1

/*
 * DSDT body, AML (ACPI 6.0, 20.2): Name (_S5, Package () { 5, 5, 0, 0 })
 *   0x08              NameOp
 *   '_' 'S' '5' '_'   NameSeg (in the root scope, so \_S5_)
 *   0x12              PackageOp
 *   0x08              PkgLength: 8 bytes, this byte included
 *   0x04              NumElements
 *   0x0a 0x05         BytePrefix 5: SLP_TYPa (PM1a_CNT.SLP_TYP for S5)
 *   0x0a 0x05         BytePrefix 5: SLP_TYPb (no PM1b block; same value)
 *   0x00 0x00         ZeroOp, ZeroOp: reserved
 */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, ACPI_S5_SLP_TYP, 0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00,
};
#define DSDT_LEN (HEADER_LEN + sizeof(dsdt_aml))

static size_t madt_len(unsigned vcpus)
{
	return MADT_FIXED_LEN + (size_t)vcpus * MADT_LAPIC_LEN +
	       MADT_IOAPIC_LEN + MADT_OVERRIDES * MADT_OVERRIDE_LEN +
	       MADT_LAPIC_NMI_LEN;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static size_t xsdt_len(const struct acpi_config *cfg)
{
	return HEADER_LEN + XSDT_ENTRY_LEN * (cfg->hpet_addr ? 3 : 2);
}

/* Offsets of each table from tables_gpa. */
struct offsets {
	size_t rsdp, xsdt, fadt, facs, dsdt, madt, hpet, end;
};

static struct offsets place(const struct acpi_config *cfg)
{
	struct offsets o;

	o.rsdp = 0;
	o.xsdt = align_up(o.rsdp + RSDP_LEN, 16);
	o.fadt = align_up(o.xsdt + xsdt_len(cfg), 16);
	o.facs = align_up(o.fadt + FADT_LEN, 64);
	o.dsdt = align_up(o.facs + FACS_LEN, 16);
	o.madt = align_up(o.dsdt + DSDT_LEN, 16);
	o.end = o.madt + madt_len(cfg->vcpus);
	o.hpet = 0;
	if (cfg->hpet_addr) {
		o.hpet = align_up(o.end, 16);
		o.end = o.hpet + HPET_TABLE_LEN;
	}
	return o;
}

size_t acpi_tables_size(const struct acpi_config *cfg)
{
	return place(cfg).end;
}

/* ---- little-endian writers ---------------------------------------------- */

static void put8(uint8_t *p, size_t off, uint8_t v)
{
	p[off] = v;
}

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void put_chars(uint8_t *p, size_t off, const char *s, size_t n)
{
	memcpy(p + off, s, n);
}

/* The byte that makes the sum of len bytes zero. */
static uint8_t checksum_for(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* ---- tables ------------------------------------------------------------- */

static void put_header(uint8_t *t, const char sig[4], uint32_t len,
		       uint8_t revision)
{
	put_chars(t, 0, sig, 4);
	put32(t, 4, len);
	put8(t, 8, revision);
	/* 9: checksum, filled last */
	put_chars(t, 10, "HVGDB ", 6);
	put_chars(t, 16, "HVGDBPC ", 8);
	put32(t, 24, 1);             /* OEM revision */
	put_chars(t, 28, "HVGD", 4); /* creator ID */
	put32(t, 32, 1);             /* creator revision */
}

static void seal(uint8_t *t)
{
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 |
		       (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;

	t[9] = 0;
	t[9] = checksum_for(t, len);
}

static void build_rsdp(uint8_t *t, uint64_t xsdt)
{
	put_chars(t, 0, "RSD PTR ", 8);
	put_chars(t, 9, "HVGDB ", 6);
	put8(t, 15, 2);  /* revision: ACPI 2.0+, XSDT valid */
	put32(t, 16, 0); /* no RSDT: every table is in the XSDT */
	put32(t, 20, RSDP_LEN);
	put64(t, 24, xsdt);
	t[8] = checksum_for(t, RSDP_V1_LEN);
	t[32] = checksum_for(t, RSDP_LEN);
}

static void build_xsdt(uint8_t *t, const struct acpi_config *cfg,
		       const struct acpi_layout *l)
{
	put_header(t, "XSDT", (uint32_t)xsdt_len(cfg), 1);
	put64(t, HEADER_LEN, l->fadt);
	put64(t, HEADER_LEN + XSDT_ENTRY_LEN, l->madt);
	if (l->hpet)
		put64(t, HEADER_LEN + 2 * XSDT_ENTRY_LEN, l->hpet);
	seal(t);
}

/* A Generic Address Structure for an I/O port block. */
static void put_gas_io(uint8_t *t, size_t off, uint16_t port,
		       unsigned bytes)
{
	put8(t, off, GAS_SYSTEM_IO);
	put8(t, off + 1, (uint8_t)(bytes * 8));
	put8(t, off + 2, 0); /* bit offset */
	put8(t, off + 3, 0); /* access size: legacy, as wide as the block */
	put64(t, off + 4, port);
}

static void build_fadt(uint8_t *t, const struct acpi_config *cfg,
		       uint64_t facs, uint64_t dsdt)
{
	const uint16_t evt = ACPI_PM_BASE + ACPI_PM1_EVT_OFFSET;
	const uint16_t cnt = ACPI_PM_BASE + ACPI_PM1_CNT_OFFSET;
	const uint16_t tmr = ACPI_PM_BASE + ACPI_PM_TMR_OFFSET;

	put_header(t, "FACP", FADT_LEN, 6);
	put32(t, 36, (uint32_t)facs);
	put32(t, 40, (uint32_t)dsdt);
	put8(t, 45, 0); /* preferred PM profile: unspecified */
	put16(t, 46, ACPI_SCI_IRQ);
	/* 48 SMI_CMD = 0: no SMM, the platform is always in ACPI mode. */
	put32(t, 56, evt);
	put32(t, 64, cnt);
	put32(t, 76, tmr);
	put8(t, 88, ACPI_PM1_EVT_LEN);
	put8(t, 89, ACPI_PM1_CNT_LEN);
	put8(t, 91, ACPI_PM_TMR_LEN);
	put16(t, 96, C2_UNSUPPORTED);
	put16(t, 98, C3_UNSUPPORTED);
	put8(t, 108, CMOS_CENTURY);
	put16(t, 109, (uint16_t)(BOOT_LEGACY_DEVICES |
				 (cfg->has_i8042 ? BOOT_8042 : 0)));
	put32(t, 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON |
			      FADT_SLP_BUTTON |
			      (ACPI_PM_TIMER_BITS == 32 ? FADT_TMR_VAL_EXT : 0));
	/* 116 RESET_REG: none (RESET_REG_SUP clear). */
	put8(t, 131, 0); /* FADT minor version: ACPI 6.0 */
	put64(t, 132, facs);
	put64(t, 140, dsdt);
	put_gas_io(t, 148, evt, ACPI_PM1_EVT_LEN);
	put_gas_io(t, 172, cnt, ACPI_PM1_CNT_LEN);
	put_gas_io(t, 208, tmr, ACPI_PM_TMR_LEN);
	seal(t);
}

static void build_facs(uint8_t *t)
{
	put_chars(t, 0, "FACS", 4);
	put32(t, 4, FACS_LEN);
	/* Hardware signature, waking vectors, global lock, flags: 0. */
	put8(t, 32, 2); /* version */
}

static void build_dsdt(uint8_t *t)
{
	put_header(t, "DSDT", (uint32_t)DSDT_LEN, 2);
	memcpy(t + HEADER_LEN, dsdt_aml, sizeof(dsdt_aml));
	seal(t);
}

static size_t put_override(uint8_t *t, size_t off, uint8_t irq, uint32_t gsi,
			   uint16_t flags)
{
	put8(t, off, 2);
	put8(t, off + 1, MADT_OVERRIDE_LEN);
	put8(t, off + 2, 0); /* bus: ISA */
	put8(t, off + 3, irq);
	put32(t, off + 4, gsi);
	put16(t, off + 8, flags);
	return off + MADT_OVERRIDE_LEN;
}

static void build_madt(uint8_t *t, const struct acpi_config *cfg)
{
	size_t len = madt_len(cfg->vcpus);
	size_t off = MADT_FIXED_LEN;

	put_header(t, "APIC", (uint32_t)len, 4);
	put32(t, 36, LAPIC_ADDRESS);
	put32(t, 40, MADT_PCAT_COMPAT); /* 8259s present, to be masked */
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		put8(t, off, 0);
		put8(t, off + 1, MADT_LAPIC_LEN);
		put8(t, off + 2, (uint8_t)i); /* ACPI processor UID */
		put8(t, off + 3, (uint8_t)i); /* APIC ID */
		put32(t, off + 4, MADT_LAPIC_ENABLED);
		off += MADT_LAPIC_LEN;
	}
	put8(t, off, 1);
	put8(t, off + 1, MADT_IOAPIC_LEN);
	put8(t, off + 2, cfg->ioapic_id);
	put32(t, off + 4, cfg->ioapic_addr);
	put32(t, off + 8, 0); /* GSI base */
	off += MADT_IOAPIC_LEN;
	/* The PIT's IRQ0 is wired to IO-APIC pin 2 (pin 0 is the 8259's
	 * ExtINT); the SCI is level-triggered, active high. */
	off = put_override(t, off, 0, 2, INTI_CONFORMS);
	off = put_override(t, off, ACPI_SCI_IRQ, ACPI_SCI_IRQ,
			   INTI_ACTIVE_HIGH | INTI_LEVEL);
	put8(t, off, 4);
	put8(t, off + 1, MADT_LAPIC_NMI_LEN);
	put8(t, off + 2, ALL_PROCESSORS);
	put16(t, off + 3, INTI_CONFORMS);
	put8(t, off + 5, 1); /* LINT1 */
	seal(t);
}

/* The HPET description table (HPET spec 1.0a, 3.2.4, table 3). */
static void build_hpet(uint8_t *t, const struct acpi_config *cfg)
{
	put_header(t, "HPET", HPET_TABLE_LEN, 1);
	put32(t, 36, cfg->hpet_id); /* event timer block ID */
	put8(t, 40, GAS_SYSTEM_MEMORY);
	put8(t, 41, 64); /* register width */
	put8(t, 42, 0);  /* bit offset */
	put8(t, 43, 0);  /* access size: undefined */
	put64(t, 44, cfg->hpet_addr);
	put8(t, 52, 0);  /* HPET number: the first block */
	put16(t, 53, HPET_MIN_TICK);
	put8(t, 55, 0);  /* no page protection guarantee */
	seal(t);
}

static bool config_valid(const struct acpi_config *cfg, size_t size)
{
	const uint64_t four_gib = 1ull << 32;

	if (cfg->vcpus < 1 || cfg->vcpus > ACPI_MAX_VCPUS)
		return false;
	if (cfg->ioapic_id > 15 || (cfg->tables_gpa & 63))
		return false;
	if (cfg->tables_gpa >= four_gib || size > four_gib - cfg->tables_gpa)
		return false;
	return cfg->tables_gpa < cfg->ram_size &&
	       size <= cfg->ram_size - cfg->tables_gpa;
}

int acpi_build_tables(const struct acpi_config *cfg, uint8_t *buf, size_t cap,
		      struct acpi_layout *layout)
{
	if (!cfg || !buf || !layout)
		return -EINVAL;
	struct offsets o = place(cfg);
	if (!config_valid(cfg, o.end))
		return -EINVAL;
	if (cap < o.end)
		return -ENOSPC;

	uint64_t base = cfg->tables_gpa;
	*layout = (struct acpi_layout){
		.rsdp = base + o.rsdp, .xsdt = base + o.xsdt,
		.fadt = base + o.fadt, .facs = base + o.facs,
		.dsdt = base + o.dsdt, .madt = base + o.madt,
		.hpet = o.hpet ? base + o.hpet : 0, .size = o.end,
	};
	memset(buf, 0, o.end);
	build_rsdp(buf + o.rsdp, layout->xsdt);
	build_xsdt(buf + o.xsdt, cfg, layout);
	build_fadt(buf + o.fadt, cfg, layout->facs, layout->dsdt);
	build_facs(buf + o.facs);
	build_dsdt(buf + o.dsdt);
	build_madt(buf + o.madt, cfg);
	if (o.hpet)
		build_hpet(buf + o.hpet, cfg);
	return 0;
}
