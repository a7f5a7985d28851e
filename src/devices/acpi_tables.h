/*
 * ACPI tables for the hvgdb PC: RSDP (revision 2), XSDT, FADT (revision 6,
 * with the PM1 block of acpi_pm.h), FACS, a DSDT holding only \_S5, a
 * MADT with every vCPU's local APIC, the IO-APIC, the ISA interrupt
 * overrides and the LINT1 NMI, and optionally an HPET table. A pure function: it fills a buffer that the
 * caller copies to guest memory at tables_gpa. Layout and contents are
 * described in docs/firmware-tables.md.
 */
#ifndef HVGDB_ACPI_TABLES_H
#define HVGDB_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xAPIC IDs 0..254 (0xff is the broadcast ID). */
#define ACPI_MAX_VCPUS 255

struct acpi_config {
	unsigned vcpus;        /* 1..ACPI_MAX_VCPUS; APIC ID = vCPU index */
	uint64_t ram_size;     /* the tables must lie inside guest RAM */
	uint32_t ioapic_addr;  /* e.g. IOAPIC_BASE */
	uint8_t ioapic_id;     /* 0-15, the IO-APIC's ID register */
	uint64_t tables_gpa;   /* guest-physical address of buf[0]: 64-byte
				  aligned (the FACS needs it), below 4 GiB */
	bool has_i8042;        /* FADT IA-PC boot flag "8042 present" */
	/* The HPET's register block (0: no HPET table) and the low half of
	 * its capabilities register, which the table repeats. */
	uint32_t hpet_addr;
	uint32_t hpet_id;
};

/* Where each table was put (guest-physical addresses). */
struct acpi_layout {
	uint64_t rsdp, xsdt, fadt, facs, dsdt, madt;
	uint64_t hpet; /* 0 without one */
	size_t size; /* bytes of buf used, from tables_gpa */
};

/* Bytes the tables of this configuration need. */
size_t acpi_tables_size(const struct acpi_config *cfg);

/*
 * Fills buf (cap bytes) and layout. Returns 0, -EINVAL for a bad config
 * (vCPU count, misaligned address, IO-APIC ID, tables outside RAM or above
 * 4 GiB), or -ENOSPC if cap < acpi_tables_size(cfg). Nothing is written
 * on error.
 */
int acpi_build_tables(const struct acpi_config *cfg, uint8_t *buf, size_t cap,
		      struct acpi_layout *layout);

#endif
