/*
 * ACPI fixed-hardware power-management block at I/O ports 0x600-0x60b (the
 * layout of QEMU's ICH9 LPC): PM1a event block (status, enable), PM1a
 * control (SLP_TYP/SLP_EN: S5 powers the VM off) and the 32-bit PM timer at
 * 3.579545 MHz. The FADT (acpi_tables.c) is built from the constants here,
 * so the tables and the device cannot disagree.
 */
#ifndef HVGDB_ACPI_PM_H
#define HVGDB_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_PM_BASE 0x600
#define ACPI_PM_PORT_COUNT 12
/* Offsets within the block. */
#define ACPI_PM1_EVT_OFFSET 0 /* status (16 bits), then enable (16 bits) */
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_OFFSET 4
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_OFFSET 8
#define ACPI_PM_TMR_LEN 4

#define ACPI_PM_TIMER_HZ 3579545u
/* The timer counts 32 bits (FADT flag TMR_VAL_EXT). */
#define ACPI_PM_TIMER_BITS 32
/* The SCI is ISA IRQ 9, level-triggered, active high (MADT override). */
#define ACPI_SCI_IRQ 9
/* SLP_TYP for S5 (soft off): the first value of the DSDT's \_S5 package. */
#define ACPI_S5_SLP_TYP 5

/* PM1 status/enable bits. */
#define ACPI_PM1_TMR 0x0001
#define ACPI_PM1_GBL 0x0020
#define ACPI_PM1_PWRBTN 0x0100
#define ACPI_PM1_SLPBTN 0x0200
#define ACPI_PM1_RTC 0x0400
#define ACPI_PM1_WAK_STS 0x8000
/* PM1 control bits. */
#define ACPI_PM1_SCI_EN 0x0001
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_EN 0x2000

struct acpi_pm_ops {
	/* The guest entered S5. Called without the device's lock held. */
	void (*power_off)(void *ctx);
	/* New level of the SCI line (PM1 status & enable). Called with the
	 * device's lock held, in order; must not call back into it. */
	void (*sci)(void *ctx, bool level);
	void *ctx;
};

struct acpi_pm;

struct acpi_pm *acpi_pm_create(const struct acpi_pm_ops *ops);
void acpi_pm_destroy(struct acpi_pm *pm);

/* Port access: offset within the block (0..11), size 1, 2 or 4 bytes (a
 * wider access covers the following registers, as on the ICH). Reads past
 * the block read all-ones; writes there are ignored. now_ns is the guest
 * clock. */
uint32_t acpi_pm_read(struct acpi_pm *pm, unsigned offset, unsigned size,
		      uint64_t now_ns);
void acpi_pm_write(struct acpi_pm *pm, unsigned offset, unsigned size,
		   uint32_t val, uint64_t now_ns);

/* The PM timer's value at now_ns (ticks since guest time 0). */
uint32_t acpi_pm_timer(uint64_t now_ns);

/* Latch a timer overflow (TMR_STS) that happened by now_ns. The owner calls
 * this at acpi_pm_next_deadline(); register accesses do it too. */
void acpi_pm_update(struct acpi_pm *pm, uint64_t now_ns);
/* Guest time of the next timer overflow if TMR_EN is set, else
 * UINT64_MAX. */
uint64_t acpi_pm_next_deadline(struct acpi_pm *pm);

#endif
