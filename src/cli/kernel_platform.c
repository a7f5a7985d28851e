/* The PC platform for kernel boots (see kernel_platform.h). */
#include "cli/kernel_platform.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "cli/serial_port.h"
#include "devices/acpi_pm.h"
#include "devices/acpi_tables.h"
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/irq_router.h"
#include "devices/pc_platform.h"
#include "devices/uart16550.h"

#define KERNEL_IOAPIC_ID 0
/* The MADT's override (acpi_tables.c): the PIT's IRQ 0 on IO-APIC pin 2. */
#define PIT_GSI 2

int kernel_platform_tables(unsigned ncpus, uint64_t ram_size, uint8_t *buf,
			   uint64_t *rsdp, size_t *size)
{
	struct acpi_config cfg = {
		.vcpus = ncpus,
		.ram_size = ram_size,
		.ioapic_addr = (uint32_t)IOAPIC_BASE,
		.ioapic_id = KERNEL_IOAPIC_ID,
		.tables_gpa = KERNEL_ACPI_GPA,
		/* The 8042 is there for its reset line only: announced,
		 * Linux would probe it for a keyboard and its boot log
		 * would change (docs/devices.md). */
		.has_i8042 = false,
		.hpet_addr = (uint32_t)HPET_BASE,
		.hpet_id = HPET_ID_LOW,
	};
	struct acpi_layout layout;
	int rc = acpi_build_tables(&cfg, buf, KERNEL_ACPI_MAX, &layout);

	if (rc)
		return rc;
	*rsdp = layout.rsdp;
	*size = layout.size;
	return 0;
}

/* The devices' clock: ctx is the VM (pc_platform_config.clock_ctx). */
static uint64_t guest_clock(void *ctx)
{
	return vm_guest_ns(ctx);
}

/* The timer thread's clock: its ctx is the platform, as for its update.
 * (It used to get guest_clock with the platform as ctx: the VM's clock
 * read from the wrong struct was a constant, so the thread never saw a
 * PIT, RTC, PM timer or HPET deadline pass, and a kernel that ticks with
 * the PIT or the HPET got one timer interrupt in all: Linux on the AMD
 * personality panicked in check_timer.) */
static uint64_t timer_clock(void *ctx)
{
	const struct kernel_platform *kp = ctx;
	return vm_guest_ns(kp->vm);
}

/* ---- interrupts ---------------------------------------------------------- */

static void ioapic_message(void *ctx, const struct ioapic_msg *msg)
{
	struct kernel_platform *kp = ctx;
	enum vm_apic_delivery mode;

	switch (msg->mode) {
	case IOAPIC_DM_FIXED:
		mode = VM_APIC_FIXED;
		break;
	case IOAPIC_DM_LOWEST:
		mode = VM_APIC_LOWEST;
		break;
	case IOAPIC_DM_NMI:
		mode = VM_APIC_NMI;
		break;
	default:
		/* SMI, INIT and ExtINT entries: no SMM, no INIT delivery and
		 * no PIC behind LINT0 here. Linux programs none of them. */
		return;
	}
	vm_apic_message(kp->vm, msg->dest, msg->dest_logical, mode,
			msg->vector, msg->level);
}

static void hpet_line(void *ctx, unsigned gsi, bool level)
{
	struct kernel_platform *kp = ctx;

	irq_router_set_gsi(pc_platform_irq_router(kp->pc), gsi, level);
}

static void ioapic_pin(void *ctx, unsigned pin, bool level)
{
	ioapic_set_irq(ctx, pin, level);
}

static void lapic_eoi(void *ctx, int vector)
{
	ioapic_eoi(ctx, (uint8_t)vector);
}

static void uart_irq(void *ctx, bool level)
{
	irq_router_set_isa_irq(ctx, UART_COM1_IRQ, level);
}

static void sci_line(void *ctx, bool level)
{
	struct kernel_platform *kp = ctx;

	irq_router_set_isa_irq(pc_platform_irq_router(kp->pc), ACPI_SCI_IRQ,
			       level);
}

static void power_off(void *ctx)
{
	struct kernel_platform *kp = ctx;

	vm_request_shutdown(kp->vm, VM_SHUTDOWN_POWER_OFF, 0);
}

/* ---- ports and MMIO ------------------------------------------------------ */

/* Ports whose writes can move a timer deadline: the PIT and the RTC. */
static bool moves_deadline(uint16_t port)
{
	return (port >= 0x40 && port <= 0x43) || port == 0x70 ||
	       port == 0x71;
}

static int platform_pio(void *opaque, int vcpu, bool in, uint16_t port,
			unsigned bytes, uint32_t *val)
{
	struct kernel_platform *kp = opaque;
	int rc = pc_platform_pio(kp->pc, vcpu, in, port, bytes, val);

	if (!in && moves_deadline(port))
		platform_timer_kick(&kp->timer);
	return rc;
}

static int pm_pio(void *opaque, int vcpu, bool in, uint16_t port,
		  unsigned bytes, uint32_t *val)
{
	struct kernel_platform *kp = opaque;
	unsigned off = (unsigned)(port - ACPI_PM_BASE);
	uint64_t now = vm_guest_ns(kp->vm);

	(void)vcpu;
	if (in) {
		*val = acpi_pm_read(kp->pm, off, bytes, now);
	} else {
		acpi_pm_write(kp->pm, off, bytes, *val, now);
		platform_timer_kick(&kp->timer); /* TMR_EN may have changed */
	}
	return 0;
}

static int ioapic_mmio(void *opaque, int vcpu, bool write, uint64_t gpa,
		       unsigned bytes, uint64_t *val)
{
	uint32_t off = (uint32_t)(gpa - IOAPIC_BASE);

	(void)vcpu;
	(void)bytes; /* the registers are 32 bits; guests use dword moves */
	if (write)
		ioapic_write(opaque, off, (uint32_t)*val);
	else
		*val = ioapic_read(opaque, off);
	return 0;
}

static int hpet_mmio(void *opaque, int vcpu, bool write, uint64_t gpa,
		     unsigned bytes, uint64_t *val)
{
	struct kernel_platform *kp = opaque;
	uint32_t off = (uint32_t)(gpa - HPET_BASE);
	uint64_t now = vm_guest_ns(kp->vm);

	(void)vcpu;
	if (write) {
		hpet_write(kp->hpet, off, bytes, *val, now);
		platform_timer_kick(&kp->timer); /* a comparator moved */
	} else {
		*val = hpet_read(kp->hpet, off, bytes, now);
	}
	return 0;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t timer_update(void *ctx, uint64_t now)
{
	struct kernel_platform *kp = ctx;

	if (now >= pc_platform_next_deadline(kp->pc))
		pc_platform_update(kp->pc, now);
	if (now >= acpi_pm_next_deadline(kp->pm))
		acpi_pm_update(kp->pm, now);
	if (now >= hpet_next_deadline(kp->hpet))
		hpet_update(kp->hpet, now);
	return earliest(earliest(pc_platform_next_deadline(kp->pc),
				 acpi_pm_next_deadline(kp->pm)),
			hpet_next_deadline(kp->hpet));
}

/* ---- life cycle ---------------------------------------------------------- */

static int create_devices(struct kernel_platform *kp)
{
	uint64_t ram = vm_mem_size(kp->vm);
	struct pc_platform_config cfg = {
		.now_ns = guest_clock,
		.clock_ctx = kp->vm,
		.unix_time = (int64_t)time(NULL),
		.ram_below_4g = ram,
		.ram_above_4g = 0,
		.cpu_reset = panic_and_reset_cpu_reset,
		.reset_ctx = &kp->ending,
	};
	struct ioapic_ops io_ops = { .deliver = ioapic_message, .ctx = kp };
	struct hpet_ops hpet_ops = { .set_gsi = hpet_line, .ctx = kp };
	struct acpi_pm_ops pm_ops = {
		.power_off = power_off,
		.sci = sci_line,
		.ctx = kp,
	};
	int rc = panic_and_reset_start(&kp->ending, kp->vm, kp->serial);

	if (rc)
		return rc;
	kp->pc = pc_platform_create(&cfg);
	kp->ioapic = ioapic_create(KERNEL_IOAPIC_ID, &io_ops);
	kp->hpet = hpet_create(&hpet_ops);
	if (!kp->pc || !kp->ioapic || !kp->hpet)
		return -ENOMEM;
	/* Created after the platform: the SCI callback uses its router. */
	kp->pm = acpi_pm_create(&pm_ops);
	return kp->pm ? 0 : -ENOMEM;
}

/* The wires, as the MADT describes them (acpi_tables.c). */
static int connect_interrupts(struct kernel_platform *kp)
{
	struct irq_router *r = pc_platform_irq_router(kp->pc);
	struct irq_sink_ops sink = { .set_line = ioapic_pin,
				     .ctx = kp->ioapic };
	int rc = irq_router_set_isa_override(r, 0, PIT_GSI);

	if (!rc)
		rc = irq_router_attach(r, IRQ_SINK_GSI, &sink);
	if (rc)
		return rc;
	vm_set_eoi_listener(kp->vm, lapic_eoi, kp->ioapic);
	checked_mutex_lock(&kp->serial->lock);
	uart_set_irq(kp->serial->uart, uart_irq, r);
	checked_mutex_unlock(&kp->serial->lock);
	return 0;
}

static int claim_resources(struct kernel_platform *kp)
{
	/* Our wrapper in front of the platform's handler: it kicks the
	 * timer thread when the PIT or RTC is reprogrammed. */
	int rc = pc_platform_register_ports_via(kp->pc, kp->vm, platform_pio,
						 kp);

	if (!rc)
		rc = vm_register_pio(kp->vm, ACPI_PM_BASE, ACPI_PM_PORT_COUNT,
				     pm_pio, kp);
	if (!rc)
		rc = vm_register_mmio(kp->vm, IOAPIC_BASE, IOAPIC_SIZE,
				      ioapic_mmio, kp->ioapic);
	if (!rc)
		rc = vm_register_mmio(kp->vm, HPET_BASE, HPET_MMIO_SIZE,
				      hpet_mmio, kp);
	return rc;
}

int kernel_platform_create(struct kernel_platform *kp, struct vm *vm,
			   struct serial_port *serial)
{
	struct platform_timer_ops tops = {
		.now_ns = timer_clock,
		.update = timer_update,
		.ctx = kp,
	};
	int rc;

	memset(kp, 0, sizeof(*kp));
	kp->vm = vm;
	kp->serial = serial;
	if ((rc = create_devices(kp)) || (rc = claim_resources(kp)) ||
	    (rc = connect_interrupts(kp)))
		return rc;
	return platform_timer_start(&kp->timer, &tops);
}

void kernel_platform_stop(struct kernel_platform *kp)
{
	platform_timer_stop(&kp->timer);
	/* Before the VM goes: kernel_platform_destroy runs after
	 * vm_destroy and must not touch it (nor may the serial output
	 * reach it from the flush thread). */
	panic_and_reset_stop(&kp->ending);
	vm_set_eoi_listener(kp->vm, NULL, NULL);
	kp->vm = NULL;
}

void kernel_platform_destroy(struct kernel_platform *kp)
{
	platform_timer_stop(&kp->timer);
	if (kp->serial && kp->serial->uart) {
		checked_mutex_lock(&kp->serial->lock);
		uart_set_irq(kp->serial->uart, NULL, NULL);
		checked_mutex_unlock(&kp->serial->lock);
	}
	if (kp->pm)
		acpi_pm_destroy(kp->pm);
	if (kp->hpet)
		hpet_destroy(kp->hpet);
	if (kp->ioapic)
		ioapic_destroy(kp->ioapic);
	if (kp->pc)
		pc_platform_destroy(kp->pc);
	panic_and_reset_stop(&kp->ending);
	memset(kp, 0, sizeof(*kp));
}
