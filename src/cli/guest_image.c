/* Reading and validating the kernel and initrds (see guest_image.h). */
#include "cli/guest_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvgdb/vmm.h"
#include "vmm/elf_segments.h"
#include "vmm/kernel_loader.h"

/* ELF segments must load at or above 1 MiB (docs/booting.md). */
#define GUEST_MIN_PADDR (1ULL << 20)
/* A guest larger than the largest VM cannot load anyway. */
#define GUEST_MAX_FILE_SIZE VM_MAX_MEMORY
/* Every header hvgdb looks for lies in the first 64 KiB (a bzImage's setup
 * header at 0x1f1, Multiboot 2 headers in the first 32 KiB). */
#define DETECT_BYTES 0x10000ULL
/* ELF notes are read for detection only up to this much in all. */
#define NOTES_MAX (1ULL << 20)

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

/* [off, off + len) clipped to the file; the parsers reject what lies
 * outside it. */
static int read_clipped(int fd, uint8_t *buf, uint64_t size, uint64_t off,
			uint64_t len)
{
	if (off >= size)
		return 0;
	return read_range(fd, buf, off, len < size - off ? len : size - off);
}

/* Open a regular, non-empty file of at most max bytes. */
static int open_regular(const char *path, const char *what, uint64_t max,
			uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

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
	} else if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(err, errlen, "%s: %s", path, S_ISDIR(st.st_mode) ?
			 "is a directory" : "not a regular file");
	} else if (st.st_size == 0) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: empty file, not %s", path, what);
	} else if ((uint64_t)st.st_size > max) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: %s of %llu MiB does not fit in "
			 "%llu MiB of guest RAM", path, what,
			 (unsigned long long)st.st_size >> 20,
			 (unsigned long long)max >> 20);
	} else {
		*size = (uint64_t)st.st_size;
		return fd;
	}
	close(fd);
	return rc;
}

/* An anonymous mapping of size bytes whose pages cost nothing until
 * read into. */
static uint8_t *map_buffer(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, size, MADV_HUGEPAGE);
	return p;
}

/* The first bytes, and for an ELF its program headers and notes: all that
 * format detection looks at. */
static int read_detection_parts(int fd, uint8_t *data, uint64_t size)
{
	struct elf_info e;
	char why[160];
	uint64_t off, len, notes = 0;
	int rc = read_clipped(fd, data, size, 0, DETECT_BYTES);

	if (rc || !elf_has_magic(data, size) ||
	    elf_phdr_range(data, size, &off, &len))
		return rc;
	if ((rc = read_clipped(fd, data, size, off, len)))
		return rc;
	if (elf_info_parse(data, size, &e, why, sizeof(why)))
		return 0; /* the loader says what is wrong */
	for (unsigned i = 0; i < e.nnotes && notes < NOTES_MAX; i++) {
		len = e.notes[i].filesz < NOTES_MAX - notes ? e.notes[i].filesz
							    : NOTES_MAX - notes;
		if ((rc = read_range(fd, data, e.notes[i].offset, len)))
			return rc;
		notes += len;
	}
	return 0;
}

/* hvgdb's own protocol: the ELF header, program headers, then (once
 * parsed and found to fit in RAM) the loadable segments. */
static int load_hvgdb_elf(int fd, struct guest_image *img,
			  const struct guest_request *req, char *why,
			  size_t whylen)
{
	int rc = elf_parse(img->data, img->size, GUEST_MIN_PADDR,
			   req->ram_size, &img->elf, why, whylen);

	if (rc)
		return rc == -EINVAL ? -ENOEXEC : rc;
	for (unsigned i = 0; i < img->elf.nsegs; i++) {
		rc = read_range(fd, img->data, img->elf.segs[i].offset,
				img->elf.segs[i].filesz);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_initrds(const struct guest_request *req,
			struct guest_image *img, char *err, size_t errlen)
{
	for (unsigned i = 0; i < req->ninitrds; i++) {
		const char *path = req->initrd_paths[i];
		struct boot_initrd *rd = &img->initrds[i];
		uint64_t size;
		int fd = open_regular(path, "an initrd", req->ram_size, &size,
				      err, errlen);
		int rc;

		if (fd < 0)
			return fd;
		rd->data = map_buffer(size);
		if (!rd->data) {
			close(fd);
			snprintf(err, errlen, "%s: out of memory", path);
			return -ENOMEM;
		}
		rd->size = size;
		rd->name = path;
		img->ninitrds++;
		rc = read_range(fd, (uint8_t *)rd->data, 0, size);
		close(fd);
		if (rc) {
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Read the parts of the kernel file the plan copies into RAM. */
static int read_plan_chunks(int fd, const struct guest_image *img)
{
	for (unsigned i = 0; i < img->plan->nchunks; i++) {
		const struct boot_chunk *c = &img->plan->chunks[i];

		if (c->src < img->data || c->src >= img->data + img->size)
			continue; /* an initrd, already read */
		int rc = read_range(fd, img->data, (uint64_t)(c->src -
							      img->data),
				    c->filesz);
		if (rc)
			return rc;
	}
	return 0;
}

static int load_other_format(int fd, const struct guest_request *req,
			     struct guest_image *img, char *err,
			     size_t errlen)
{
	const char *path = req->path;
	char why[256] = "";
	int rc;

	if ((rc = read_initrds(req, img, err, errlen)))
		return rc;
	/* Non-ELF kernels are read whole: their loaders look past the
	 * headers (a bzImage is all payload). */
	if (!elf_has_magic(img->data, img->size) &&
	    (rc = read_clipped(fd, img->data, img->size, 0, img->size))) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	img->plan = calloc(1, sizeof(*img->plan));
	if (!img->plan) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	struct boot_inputs in = {
		.kernel = img->data,
		.kernel_size = img->size,
		.initrds = img->initrds,
		.ninitrds = img->ninitrds,
		.cmdline = req->cmdline,
		.ram_size = req->ram_size,
		.ncpus = req->ncpus,
		.rsdp_addr = req->rsdp_addr,
	};
	if (kernel_build_plan(&in, img->plan, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	if ((rc = read_plan_chunks(fd, img))) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

static int load_kernel(int fd, const struct guest_request *req,
		       struct guest_image *img, char *err, size_t errlen)
{
	const char *path = req->path;
	char why[256] = "";
	int rc = read_detection_parts(fd, img->data, img->size);

	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	img->format = kernel_detect_format(img->data, img->size, why,
					   sizeof(why));
	if (img->format == KERNEL_FORMAT_UNKNOWN) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	if (img->format != KERNEL_FORMAT_HVGDB_ELF)
		return load_other_format(fd, req, img, err, errlen);
	if (req->ninitrds) {
		snprintf(err, errlen, "%s: an hvgdb ELF guest takes no "
			 "--initrd", path);
		return -EINVAL;
	}
	why[0] = '\0';
	rc = load_hvgdb_elf(fd, img, req, why, sizeof(why));
	if (rc == -ENOEXEC) {
		snprintf(err, errlen, "%s: %s", path,
			 why[0] ? why : "not an ELF64 x86-64 executable");
		return -EINVAL;
	}
	if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int guest_image_load(const struct guest_request *req, struct guest_image *img,
		     char *err, size_t errlen)
{
	uint64_t size;
	int fd, rc;

	memset(img, 0, sizeof(*img));
	fd = open_regular(req->path, "a kernel", GUEST_MAX_FILE_SIZE, &size,
			  err, errlen);
	if (fd < 0)
		return fd;
	img->size = (size_t)size;
	img->data = map_buffer(size);
	if (!img->data) {
		snprintf(err, errlen, "%s: out of memory", req->path);
		close(fd);
		return -ENOMEM;
	}
	rc = load_kernel(fd, req, img, err, errlen);
	close(fd);
	if (rc)
		guest_image_free(img);
	return rc;
}

void guest_image_free(struct guest_image *img)
{
	if (img->data)
		munmap(img->data, img->size);
	for (unsigned i = 0; i < img->ninitrds; i++)
		munmap((void *)img->initrds[i].data, img->initrds[i].size);
	free(img->plan);
	memset(img, 0, sizeof(*img));
}
