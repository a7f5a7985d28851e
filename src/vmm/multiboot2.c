/* Multiboot 2 loader (see multiboot2.h). */
#include "vmm/multiboot2.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/le_bytes.h"
#include "vmm/multiboot_common.h"

#define FMT "Multiboot 2 kernel"
#define HEADER_FIXED 16 /* magic, architecture, header_length, checksum */
#define MMAP_ENTRY 24

int mb2_find_header(const uint8_t *b, size_t size, uint64_t *offset,
		    char *err, size_t errlen)
{
	return mb_find_header(b, size, MB2_SEARCH_BYTES, MB2_HEADER_MAGIC, 8,
			      HEADER_FIXED / 4, offset, FMT, err, errlen);
}

/* What the header's tags ask for. */
struct mb2_request {
	bool has_address, has_entry;
	struct mb_address_fields addr;
	uint32_t entry;
};

static int fail(char *err, size_t errlen, const char *what, unsigned v)
{
	snprintf(err, errlen, FMT " %s %u", what, v);
	return -EINVAL;
}

/* Information tags we always give. */
static bool info_given(uint32_t type)
{
	return type == MB2_ITAG_CMDLINE || type == MB2_ITAG_LOADER_NAME ||
	       type == MB2_ITAG_MODULE || type == MB2_ITAG_BASIC_MEMINFO ||
	       type == MB2_ITAG_MMAP;
}

static int read_tag(const uint8_t *t, uint32_t type, uint32_t size,
		    bool optional, struct mb2_request *r, char *err,
		    size_t errlen)
{
	switch (type) {
	case MB2_HTAG_INFO_REQUEST:
		for (uint32_t i = 8; i + 4 <= size; i += 4) {
			uint32_t want = (uint32_t)le_get(t + i, 4);
			if (!optional && !info_given(want))
				return fail(err, errlen, "requiring boot "
					    "information hvgdb does not give, "
					    "type", want);
		}
		return 0;
	case MB2_HTAG_ADDRESS:
		if (size < 24)
			return fail(err, errlen, "with a short address tag of "
				    "size", size);
		r->has_address = true;
		r->addr.header_addr = (uint32_t)le_get(t + 8, 4);
		r->addr.load_addr = (uint32_t)le_get(t + 12, 4);
		r->addr.load_end_addr = (uint32_t)le_get(t + 16, 4);
		r->addr.bss_end_addr = (uint32_t)le_get(t + 20, 4);
		return 0;
	case MB2_HTAG_ENTRY:
		if (size < 12)
			return fail(err, errlen, "with a short entry tag of "
				    "size", size);
		r->has_entry = true;
		r->entry = (uint32_t)le_get(t + 8, 4);
		return 0;
	case MB2_HTAG_CONSOLE:
	case MB2_HTAG_MODULE_ALIGN: /* modules are page-aligned anyway */
	case MB2_HTAG_RELOCATABLE:  /* loaded where it asks, which it allows */
		return 0;
	case MB2_HTAG_FRAMEBUFFER:
		return optional ? 0 : fail(err, errlen, "requiring a "
					   "framebuffer (tag", type);
	case MB2_HTAG_EFI_BS:
	case MB2_HTAG_EFI32_ENTRY:
	case MB2_HTAG_EFI64_ENTRY:
		return optional ? 0 : fail(err, errlen, "requiring EFI (tag",
					   type);
	default:
		return optional ? 0 : fail(err, errlen, "with an unknown "
					   "required header tag", type);
	}
}

static int parse_header(const uint8_t *b, size_t size, uint64_t off,
			struct mb2_request *r, char *err, size_t errlen)
{
	uint32_t arch = (uint32_t)le_get(b + off + 4, 4);
	uint64_t len = le_get(b + off + 8, 4);

	memset(r, 0, sizeof(*r));
	r->addr.header_offset = off;
	if (arch != MB2_ARCH_I386)
		return fail(err, errlen, "for an architecture other than i386:",
			    arch);
	if (len < HEADER_FIXED + 8 || len > size - off)
		return fail(err, errlen, "with a header length outside the "
			    "file:", (unsigned)len);
	for (uint64_t t = HEADER_FIXED; t + 8 <= len;) {
		const uint8_t *tag = b + off + t;
		uint32_t type = (uint32_t)le_get(tag, 2);
		bool optional = le_get(tag + 2, 2) & MB2_HTAG_OPTIONAL;
		uint32_t tsize = (uint32_t)le_get(tag + 4, 4);

		if (tsize < 8 || tsize > len - t)
			return fail(err, errlen, "with a header tag of bad "
				    "size", tsize);
		if (type == MB2_HTAG_END)
			return 0;
		if (read_tag(tag, type, tsize, optional, r, err, errlen))
			return -EINVAL;
		t += (tsize + 7) & ~7u;
	}
	snprintf(err, errlen, FMT " header without an end tag");
	return -EINVAL;
}

/* Appends one information tag; its start is 8-aligned. */
struct info_writer {
	uint8_t *base; /* the info block in the plan's low area */
	uint64_t gpa, used, cap;
	bool overflow;
};

static uint8_t *add_tag(struct info_writer *w, uint32_t type, uint64_t size)
{
	uint64_t at = (w->used + 7) & ~7ULL;

	if (size > w->cap || at > w->cap - size) {
		w->overflow = true;
		return NULL;
	}
	w->used = at + size;
	le_put(w->base + at, type, 4);
	le_put(w->base + at + 4, size, 4);
	return w->base + at;
}

static void add_string_tag(struct info_writer *w, uint32_t type,
			   const char *s)
{
	size_t n = strlen(s) + 1;
	uint8_t *t = add_tag(w, type, 8 + n);

	if (t)
		memcpy(t + 8, s, n);
}

static int fill_info(struct boot_plan *p, const struct boot_inputs *in,
		     const uint64_t *starts, char *err, size_t errlen)
{
	struct info_writer w = { p->low + BOOT_LOW_INFO, BOOT_LOW_INFO, 8,
				 BOOT_LOW_INFO_SIZE, false };
	struct boot_mem_range map[BOOT_MAX_MEM_RANGES];
	unsigned n = boot_memory_map(in->ram_size, map);
	uint32_t lower, upper;
	uint8_t *t;

	add_string_tag(&w, MB2_ITAG_CMDLINE, in->cmdline ? in->cmdline : "");
	add_string_tag(&w, MB2_ITAG_LOADER_NAME, MB_LOADER_NAME);
	for (unsigned i = 0; i < in->ninitrds; i++) {
		const char *name = in->initrds[i].name ? in->initrds[i].name
						       : "";
		size_t len = strlen(name) + 1;

		t = add_tag(&w, MB2_ITAG_MODULE, 16 + len);
		if (!t)
			break;
		le_put(t + 8, starts[i], 4);
		le_put(t + 12, starts[i] + in->initrds[i].size, 4);
		memcpy(t + 16, name, len);
	}
	mb_memory_kib(in->ram_size, &lower, &upper);
	if ((t = add_tag(&w, MB2_ITAG_BASIC_MEMINFO, 16))) {
		le_put(t + 8, lower, 4);
		le_put(t + 12, upper, 4);
	}
	if ((t = add_tag(&w, MB2_ITAG_MMAP, 16 + n * MMAP_ENTRY))) {
		le_put(t + 8, MMAP_ENTRY, 4);
		le_put(t + 12, 0, 4); /* entry_version */
		for (unsigned i = 0; i < n; i++) {
			uint8_t *e = t + 16 + i * MMAP_ENTRY;

			le_put(e, map[i].addr, 8);
			le_put(e + 8, map[i].size, 8);
			le_put(e + 16, map[i].type, 4);
		}
	}
	add_tag(&w, MB2_ITAG_END, 8);
	if (w.overflow) {
		snprintf(err, errlen, FMT ": boot information too large "
			 "(module names too long?)");
		return -EINVAL;
	}
	le_put(w.base, w.used, 4); /* total_size */
	return 0;
}

int mb2_build(const struct boot_inputs *in, struct boot_plan *p, char *err,
	      size_t errlen)
{
	uint64_t off, entry, starts[BOOT_MAX_INITRDS];
	struct mb2_request r;
	int rc = mb2_find_header(in->kernel, in->kernel_size, &off, err,
				 errlen);

	if (rc == -ENOENT)
		snprintf(err, errlen, FMT " without a header");
	if (rc || parse_header(in->kernel, in->kernel_size, off, &r, err,
			       errlen))
		return -EINVAL;
	p->format = KERNEL_FORMAT_MULTIBOOT2;
	if (r.has_address) {
		if (!r.has_entry) {
			snprintf(err, errlen, FMT " with an address tag but "
				 "no entry address tag");
			return -EINVAL;
		}
		r.addr.entry_addr = r.entry;
		rc = mb_load_by_address(in, &r.addr, p, FMT, err, errlen);
		entry = r.entry;
	} else {
		rc = mb_load_elf(in, r.has_entry ? r.entry : 0, p, &entry, FMT,
				 err, errlen);
		if (rc && memcmp(in->kernel, "\x7f" "ELF", 4) != 0)
			snprintf(err, errlen, FMT " neither ELF nor with an "
				 "address tag");
	}
	if (rc || mb_finish(in, p, entry, MB2_BOOT_MAGIC, starts, FMT, err,
			    errlen))
		return -EINVAL;
	return fill_info(p, in, starts, err, errlen);
}
