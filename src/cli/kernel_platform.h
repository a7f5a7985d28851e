/*
 * The PC platform a kernel boot gets (bzImage, PVH, Multiboot; the hvgdb
 * ELF test-guest protocol keeps its own small device set):
 *
 *   pc_platform   PIC pair + ELCR, PIT, port 0x61, RTC/CMOS, port 0x80,
 *                 8042 (its reset line ends the VM: panic_and_reset.h)
 *   IO-APIC       0xfec00000, ID 0, GSI 0-23; ISA IRQ 0 on GSI 2 and the
 *                 SCI (IRQ 9) level-triggered, as the MADT says
 *   ACPI PM       ports 0x600-0x60b: PM timer, PM1 events, S5 = power off
 *   HPET          0xfed00000, comparators on GSI 20-23
 *   ACPI tables   RSDP, XSDT, FADT, FACS, DSDT, MADT, HPET at
 *                 KERNEL_ACPI_GPA
 *   COM1          the run's UART, its IRQ 4 through the router; its
 *                 output is read for a kernel panic (panic_and_reset.h)
 *   timer thread  raises PIT, RTC, PM timer and HPET interrupts on time
 *
 * Interrupt path: device -> irq_router -> (PIC pair, IO-APIC) -> IO-APIC
 * message -> vm_apic_message (LAPIC IRR + wake-up); the LAPIC's EOI of a
 * level-triggered vector comes back as ioapic_eoi. The PIC's INT output
 * (ExtINT through LINT0) is not connected: with an IO-APIC in the MADT,
 * Linux routes every interrupt through it.
 *
 * Lock order (the devices' own, extended): serial_port lock -> UART ->
 * router -> IO-APIC -> LAPIC -> vCPU mutex; ACPI PM -> router; HPET ->
 * router; the timer thread's mutex is a leaf (platform_timer.h).
 */
#ifndef HVGDB_CLI_KERNEL_PLATFORM_H
#define HVGDB_CLI_KERNEL_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "cli/panic_and_reset.h"
#include "cli/platform_timer.h"
#include "hvgdb/vmm.h"

/* Below 1 MiB, in the BIOS area a kernel scans for the RSDP (Multiboot
 * kernels get no pointer) and that the memory map reserves. */
#define KERNEL_ACPI_GPA 0xe0000ULL
#define KERNEL_ACPI_MAX 0x20000ULL

struct serial_port;
struct pc_platform;
struct ioapic;
struct acpi_pm;
struct hpet;

struct kernel_platform {
	struct vm *vm;
	struct serial_port *serial;
	struct pc_platform *pc;
	struct ioapic *ioapic;
	struct acpi_pm *pm;
	struct hpet *hpet;
	struct platform_timer timer;
	/* Resets and kernel panics: how they end the VM. */
	struct panic_and_reset ending;
};

/* The ACPI tables for ncpus vCPUs and ram_size bytes, built for
 * KERNEL_ACPI_GPA into buf (KERNEL_ACPI_MAX bytes). *rsdp receives the
 * RSDP's address, *size the bytes used. 0 or -errno. */
int kernel_platform_tables(unsigned ncpus, uint64_t ram_size, uint8_t *buf,
			   uint64_t *rsdp, size_t *size);

/* Create the devices, claim their ports and MMIO on vm, connect the UART's
 * interrupt, and start the timer thread. Before the first vm_run. 0 or
 * -errno (everything created so far is undone by kernel_platform_destroy). */
int kernel_platform_create(struct kernel_platform *kp, struct vm *vm,
			   struct serial_port *serial);
/* Stop the timer thread, stop reading the console for panics and leave
 * the VM's EOI broadcasts: call before vm_destroy. */
void kernel_platform_stop(struct kernel_platform *kp);
/* After vm_destroy (no vCPU can reach the devices any more). */
void kernel_platform_destroy(struct kernel_platform *kp);

#endif
