/* Reading and validating the guest ELF file (see guest_image.h). */
#include "cli/guest_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvgdb/vmm.h"

/* ELF segments must load at or above 1 MiB (docs/boot-protocol.md). */
#define GUEST_MIN_PADDR (1ULL << 20)
/* A guest larger than the largest VM cannot load anyway. */
#define GUEST_MAX_FILE_SIZE VM_MAX_MEMORY

/* ELF64 header fields read here to know which bytes to fetch; elf_parse
 * validates them. */
#define ELF_HEADER_SIZE 64u
#define ELF_PHOFF_AT 32u
#define ELF_PHNUM_AT 56u
#define ELF_PHDR_SIZE 56u

static int read_range(int fd, uint8_t *buf, uint64_t off, uint64_t size)
{
	uint64_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, buf + off + done, size - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		done += (uint64_t)n;
	}
	return 0;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* [off, off + len) clipped to the file; elf_parse rejects what lies
 * outside it. */
static int read_clipped(int fd, uint8_t *buf, uint64_t size, uint64_t off,
			uint64_t len)
{
	if (off >= size)
		return 0;
	return read_range(fd, buf, off, len < size - off ? len : size - off);
}

/*
 * Only the bytes the ELF needs are read: the header, the program headers,
 * then (once parsed and found to fit in RAM) the loadable segments, into
 * a mapping of the file's size whose other pages are never touched. A
 * sparse or huge file costs what its segments need (a kernel with debug
 * sections loads without reading them), and garbage is refused after 64
 * bytes.
 */
static int read_elf_parts(int fd, uint8_t *data, uint64_t size,
			  uint64_t ram_size, struct elf_image *elf, char *why,
			  size_t whylen)
{
	int rc = read_clipped(fd, data, size, 0, ELF_HEADER_SIZE);

	if (rc)
		return rc;
	if (size >= ELF_HEADER_SIZE) {
		uint64_t phoff = get_le(data + ELF_PHOFF_AT, 8);
		uint64_t phnum = get_le(data + ELF_PHNUM_AT, 2);

		rc = read_clipped(fd, data, size, phoff, phnum * ELF_PHDR_SIZE);
		if (rc)
			return rc;
	}
	rc = elf_parse(data, size, GUEST_MIN_PADDR, ram_size, elf, why,
		       whylen);
	if (rc)
		return rc == -EINVAL ? -ENOEXEC : rc;
	for (unsigned i = 0; i < elf->nsegs; i++) {
		rc = read_range(fd, data, elf->segs[i].offset,
				elf->segs[i].filesz);
		if (rc)
			return rc;
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
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
	img->data = mmap(NULL, img->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (img->data == MAP_FAILED) {
		img->data = NULL;
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out_close;
	}
	why[0] = '\0';
	rc = read_elf_parts(fd, img->data, img->size, ram_size, &img->elf, why,
			    sizeof(why));
	if (rc == -ENOEXEC) {
		snprintf(err, errlen, "%s: %s", path,
			 why[0] ? why : "not an ELF64 x86-64 executable");
		rc = -EINVAL;
		goto out_free;
	}
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto out_free;
	}
	close(fd);
	return 0;

out_free:
	guest_image_free(img);
out_close:
	close(fd);
	return rc;
}

void guest_image_free(struct guest_image *img)
{
	if (img->data)
		munmap(img->data, img->size);
	img->data = NULL;
	img->size = 0;
}
