/* Reading and validating the guest ELF file before any VM exists. */
#ifndef HVGDB_CLI_GUEST_IMAGE_H
#define HVGDB_CLI_GUEST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/elf_loader.h"

/* The guest file's bytes and its parsed ELF layout. */
struct guest_image {
	uint8_t *data;
	size_t size;
	struct elf_image elf;
};

/*
 * Read path and parse it for a VM of ram_size bytes (segments at or above
 * 1 MiB, clear of the boot tables). Only the ELF header, program headers
 * and loadable segments are read; a FIFO or other non-regular file is
 * refused without waiting on it. Returns 0, or -errno with one line
 * naming the file in err.
 */
int guest_image_load(const char *path, uint64_t ram_size,
		     struct guest_image *img, char *err, size_t errlen);
void guest_image_free(struct guest_image *img);

#endif
