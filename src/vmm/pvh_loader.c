/* PVH ELF loader (see pvh_loader.h). */
#include "vmm/pvh_loader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/boot_tables.h"
#include "vmm/le_bytes.h"

#define PVH_START_INFO_VERSION 1

int pvh_entry_point(const uint8_t *b, const struct elf_info *e,
		    uint64_t *entry, char *err, size_t errlen)
{
	uint32_t descsz;
	const uint8_t *d = elf_find_note(b, e, "Xen", XEN_ELFNOTE_PHYS32_ENTRY,
					 &descsz);

	if (!d)
		return -ENOENT;
	/* Linux writes the address as a pointer-sized value (8 bytes in a
	 * 64-bit vmlinux), our test guests as 4 bytes: both are seen. */
	if (descsz != 4 && descsz != 8) {
		snprintf(err, errlen, "PVH ELF with a malformed "
			 "XEN_ELFNOTE_PHYS32_ENTRY note (%u bytes)", descsz);
		return -EINVAL;
	}
	*entry = le_get(d, descsz);
	if (*entry > 0xffffffffULL) {
		snprintf(err, errlen, "PVH ELF with an entry point above "
			 "4 GiB (%#llx)", (unsigned long long)*entry);
		return -EINVAL;
	}
	return 0;
}

static void fill_start_info(struct boot_plan *p, const struct boot_inputs *in,
			    const uint64_t *starts, bool has_cmdline)
{
	uint8_t *si = p->low + BOOT_LOW_INFO;
	struct boot_mem_range map[BOOT_MAX_MEM_RANGES];
	unsigned n = boot_memory_map(in->ram_size, map);

	le_put(si + PVH_SI_MAGIC, PVH_START_MAGIC, 4);
	le_put(si + PVH_SI_VERSION, PVH_START_INFO_VERSION, 4);
	le_put(si + PVH_SI_FLAGS, 0, 4);
	le_put(si + PVH_SI_NR_MODULES, in->ninitrds, 4);
	le_put(si + PVH_SI_MODLIST_PADDR, in->ninitrds ? PVH_MODLIST_GPA : 0,
	       8);
	le_put(si + PVH_SI_CMDLINE_PADDR, has_cmdline ? BOOT_LOW_CMDLINE : 0,
	       8);
	le_put(si + PVH_SI_RSDP_PADDR, in->rsdp_addr, 8);
	le_put(si + PVH_SI_MEMMAP_PADDR, PVH_MEMMAP_GPA, 8);
	le_put(si + PVH_SI_MEMMAP_ENTRIES, n, 4);
	for (unsigned i = 0; i < in->ninitrds; i++) {
		uint8_t *m = p->low + PVH_MODLIST_GPA + i * PVH_MOD_SIZE;

		le_put(m, starts[i], 8);
		le_put(m + 8, in->initrds[i].size, 8);
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *m = p->low + PVH_MEMMAP_GPA + i * PVH_MEMMAP_SIZE;

		le_put(m, map[i].addr, 8);
		le_put(m + 8, map[i].size, 8);
		le_put(m + 16, map[i].type, 4);
	}
}

int pvh_build(const struct boot_inputs *in, const struct elf_info *e,
	      struct boot_plan *p, char *err, size_t errlen)
{
	uint64_t entry, end, starts[BOOT_MAX_INITRDS];
	char why[160];
	int rc;

	rc = pvh_entry_point(in->kernel, e, &entry, err, errlen);
	if (rc == -ENOENT)
		snprintf(err, errlen, "PVH ELF without a "
			 "XEN_ELFNOTE_PHYS32_ENTRY note");
	if (rc)
		return -EINVAL;
	if (elf_check_loads(e, BOOT_KERNEL_MIN_PADDR, in->ram_size, &end, why,
			    sizeof(why))) {
		snprintf(err, errlen, "PVH ELF %s", why);
		return -EINVAL;
	}
	if (!elf_addr_loaded(e, entry)) {
		snprintf(err, errlen, "PVH ELF whose entry point %#llx is in "
			 "no loaded segment", (unsigned long long)entry);
		return -EINVAL;
	}
	rc = boot_plan_put_cmdline(p, in->cmdline, BOOT_LOW_CMDLINE_MAX);
	if (rc == -E2BIG) {
		snprintf(err, errlen, "command line of %zu bytes over the PVH "
			 "loader's limit of %llu", strlen(in->cmdline),
			 (unsigned long long)BOOT_LOW_CMDLINE_MAX);
		return -EINVAL;
	}
	p->format = KERNEL_FORMAT_PVH_ELF;
	if (boot_plan_add_elf_loads(p, e, in->kernel, end) ||
	    boot_plan_place_initrds(p, in, end, UINT64_MAX, starts, err,
				    errlen))
		return -EINVAL;
	fill_start_info(p, in, starts, rc > 0);

	boot_tables_flat32_entry(p, PVH_CODE_SEL, PVH_DATA_SEL, entry, 0);
	return 0;
}
