/* Reading and validating the guest ELF file (see guest_image.h). */
#include "cli/guest_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvgdb/vmm.h"

/* ELF segments must load at or above 1 MiB (docs/boot-protocol.md). */
#define GUEST_MIN_PADDR (1ULL << 20)
/* A guest larger than the largest VM cannot load anyway. */
#define GUEST_MAX_FILE_SIZE VM_MAX_MEMORY

static int read_all(int fd, uint8_t *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = read(fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		done += (size_t)n;
	}
	return 0;
}

int guest_image_load(const char *path, uint64_t ram_size,
		     struct guest_image *img, char *err, size_t errlen)
{
	struct stat st;
	char why[160];
	int fd, rc;

	memset(img, 0, sizeof(*img));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(err, errlen, "%s: %s", path, S_ISDIR(st.st_mode) ?
			 "is a directory" : "not a regular file");
		goto out_close;
	}
	if (st.st_size == 0) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: empty file, not an ELF executable",
			 path);
		goto out_close;
	}
	if ((uint64_t)st.st_size > GUEST_MAX_FILE_SIZE) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: file too large for guest RAM",
			 path);
		goto out_close;
	}
	img->size = (size_t)st.st_size;
	img->data = malloc(img->size);
	if (!img->data) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out_close;
	}
	rc = read_all(fd, img->data, img->size);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto out_free;
	}
	why[0] = '\0';
	rc = elf_parse(img->data, img->size, GUEST_MIN_PADDR, ram_size,
		       &img->elf, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s: %s", path,
			 why[0] ? why : "not an ELF64 x86-64 executable");
		goto out_free;
	}
	close(fd);
	return 0;

out_free:
	free(img->data);
	img->data = NULL;
out_close:
	close(fd);
	return rc;
}

void guest_image_free(struct guest_image *img)
{
	free(img->data);
	img->data = NULL;
	img->size = 0;
}
