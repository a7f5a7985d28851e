/*
 * Translated code that stays in step with guest memory, without flushing
 * whole translation caches.
 *
 * Unicorn's own API drops translations by guest-VIRTUAL address
 * (uc_ctl_remove_cache), walking the guest's page tables to find the page:
 * useless for the guest-physical ranges hvgdb holds (a breakpoint keyed by
 * physical address, a page mapped at several addresses or at none), and
 * the walk leaves CR2 and QEMU's exception record behind when it faults.
 * QEMU's tb_invalidate_phys_range (exported by libunicorn) drops every
 * block translated from a range of RAM addresses, which are guest-physical
 * addresses here because guest RAM is the engine's only RAM block, mapped
 * first at 0: checked per engine at set-up.
 */
#include "vmm/tcg/tcg_internal.h"

struct uc_struct;
void tb_invalidate_phys_range_x86_64(struct uc_struct *uc, uint64_t start,
				     uint64_t end);
uint64_t qemu_ram_addr_from_host_x86_64(struct uc_struct *uc, void *host);

int tcg_code_coherence_init(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	struct uc_struct *uc = (struct uc_struct *)t->uc;
	uint8_t *ram = v->vm->ram;
	uint64_t last = v->vm->mem_size - 1;
	if (qemu_ram_addr_from_host_x86_64(uc, ram) != 0 ||
	    qemu_ram_addr_from_host_x86_64(uc, ram + last) != last)
		return -1;
	return 0;
}

void tcg_invalidate_phys(struct tcg_vcpu *t, uint64_t start, uint64_t end)
{
	if (end > start)
		tb_invalidate_phys_range_x86_64((struct uc_struct *)t->uc, start,
						end);
}
