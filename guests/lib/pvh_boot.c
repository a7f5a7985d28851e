/*
 * BSP side of the PVH boot under QEMU: platform facts that hvgdb hands over in
 * registers come from fw_cfg and hvm_start_info here, then the APs are woken
 * with INIT/SIPI/SIPI and everyone enters _start.
 */
#include <stdint.h>

#include "config.h"
#include "io.h"
#include "lapic.h"
#include "runtime.h"
#include "uart.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define START_INFO_MAGIC 0x336ec578u
#define AP_START_TIMEOUT_SPINS 200000000u
#define INIT_DELAY_SPINS 100000u
#define SIPI_DELAY_SPINS 10000u

/* hvm_start_info (Xen public arch-x86/hvm/start_info.h), the fields we use. */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
};

extern uint64_t pvh_ram_size, pvh_cmdline;
extern uint32_t pvh_ncpus, pvh_ap_checkin;
extern const char pvh_trampoline[], pvh_trampoline_end[];
_Noreturn void _start(uint64_t vcpu, uint64_t ncpus, uint64_t ram_size,
		      uint64_t cmdline);
void pvh_boot_bsp(uint32_t start_info_paddr);

static uint64_t fw_cfg_read(uint16_t key, unsigned bytes)
{
	uint64_t v = 0;
	outw(FW_CFG_SELECTOR, key);
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
	return v;
}

static void spin(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		cpu_relax();
}

static void copy_trampoline(void)
{
	char *dst = (char *)(uintptr_t)GUEST_AP_TRAMPOLINE;
	for (const char *p = pvh_trampoline; p < pvh_trampoline_end; p++)
		*dst++ = *p;
}

/* Before the runtime exists: no lock, nothing in the BSS. */
static _Noreturn void boot_fail(const char *why)
{
	uart_printf_unlocked("guest: PVH boot failed: %s\n", why);
	guest_exit(GUEST_EXIT_BOOT);
}

static void start_aps(unsigned ncpus)
{
	copy_trampoline();
	lapic_enable();
	uint32_t sipi = ICR_STARTUP | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF |
			(GUEST_AP_TRAMPOLINE >> 12);
	if (!lapic_send_ipi(0, ICR_INIT | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF))
		boot_fail("INIT IPI not delivered");
	spin(INIT_DELAY_SPINS);
	/* The second SIPI is the architectural retry; QEMU ignores it for
	 * APs that already left wait-for-SIPI. */
	for (int i = 0; i < 2; i++) {
		if (!lapic_send_ipi(0, sipi))
			boot_fail("SIPI not delivered");
		spin(SIPI_DELAY_SPINS);
	}
	for (uint32_t i = 0; i < AP_START_TIMEOUT_SPINS; i++) {
		if (__atomic_load_n(&pvh_ap_checkin, __ATOMIC_ACQUIRE) >= ncpus - 1)
			return;
		cpu_relax();
	}
	boot_fail("not every AP started");
}

void pvh_boot_bsp(uint32_t start_info_paddr)
{
	/* The firmware leaves the PIT ticking into IRQ0 = vector 8. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);

	const struct hvm_start_info *si =
		(const struct hvm_start_info *)(uintptr_t)start_info_paddr;
	if (!si || si->magic != START_INFO_MAGIC)
		boot_fail("bad hvm_start_info");
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	pvh_cmdline = cmdline && cmdline[0] ? si->cmdline_paddr : 0;

	unsigned ncpus = (unsigned)fw_cfg_read(FW_CFG_NB_CPUS, 2);
	if (ncpus == 0 || ncpus == 0xffff)
		ncpus = 1;
	if (ncpus > GUEST_MAX_CPUS)
		boot_fail("too many vCPUs");
	pvh_ncpus = ncpus;
	pvh_ram_size = fw_cfg_read(FW_CFG_RAM_SIZE, 8);

	if (ncpus > 1)
		start_aps(ncpus);
	_start(0, ncpus, pvh_ram_size, pvh_cmdline);
}
