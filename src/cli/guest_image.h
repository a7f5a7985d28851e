/*
 * Reading and validating the kernel file and its initrds before any VM
 * exists: the format is detected (vmm/kernel_loader.h), an hvgdb ELF is
 * parsed for boot.c, any other kernel gets its boot plan.
 */
#ifndef HVGDB_CLI_GUEST_IMAGE_H
#define HVGDB_CLI_GUEST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/boot_plan.h"
#include "vmm/elf_loader.h"

struct guest_request {
	const char *path;
	uint64_t ram_size;
	unsigned ncpus;
	const char *const *initrd_paths;
	unsigned ninitrds;
	const char *cmdline; /* may be NULL */
	uint64_t rsdp_addr;  /* ACPI RSDP for the kernel, 0: none */
};

struct guest_image {
	uint8_t *data;
	size_t size;
	enum kernel_format format;
	struct elf_image elf;      /* KERNEL_FORMAT_HVGDB_ELF */
	struct boot_plan *plan;    /* every other format */
	struct boot_initrd initrds[BOOT_MAX_INITRDS];
	unsigned ninitrds;
};

/*
 * Read the kernel and initrds for a VM of req->ram_size bytes and check
 * that they boot. Only what is loaded is read: a kernel with large debug
 * sections costs no more memory than its segments, and a FIFO or other
 * non-regular file is refused without waiting on it. Returns 0, or -errno
 * with one line naming the file in err.
 */
int guest_image_load(const struct guest_request *req, struct guest_image *img,
		     char *err, size_t errlen);
void guest_image_free(struct guest_image *img);

#endif
