/*
 * Debugger view of guest memory: virtual addresses go through the Hg vCPU's
 * page tables one 4 KiB page at a time (or are physical in phys mode), and
 * our int3 bytes are hidden behind the saved originals.
 */
#include "gdbstub/session.h"

#include <errno.h>
#include <stdlib.h>

#define PAGE_SIZE 4096u

int gdb_addr_to_gpa(struct gdb_session *s, uint64_t addr, uint64_t *gpa)
{
	if (s->phys_mode) {
		*gpa = addr;
		return 0;
	}
	if (!s->ops->translate)
		return -EFAULT;
	/* Read permission only: the debugger may patch read-only text. */
	if (s->ops->translate(s->ctx, s->hg, addr, 1, gpa))
		return -EFAULT;
	return 0;
}

static size_t chunk_len(uint64_t addr, size_t remaining)
{
	size_t to_page_end = PAGE_SIZE - (size_t)(addr & (PAGE_SIZE - 1));
	return remaining < to_page_end ? remaining : to_page_end;
}

static void show_original_bytes(struct gdb_session *s, uint64_t gpa,
				uint8_t *buf, size_t len)
{
	if (bp_table_count(&s->bps) == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		struct breakpoint *bp = bp_table_find(&s->bps, gpa + i);
		if (bp)
			buf[i] = bp->saved_byte;
	}
}

size_t gdb_mem_read(struct gdb_session *s, uint64_t addr, uint8_t *buf,
		    size_t len)
{
	size_t done = 0;

	if (!s->ops->read_phys)
		return 0;
	while (done < len) {
		uint64_t va = addr + done;
		uint64_t gpa;
		if (va < addr) /* wrapped past the top of the address space */
			break;
		size_t n = chunk_len(va, len - done);
		if (gdb_addr_to_gpa(s, va, &gpa))
			break;
		if (s->ops->read_phys(s->ctx, gpa, buf + done, n) &&
		    (!s->ops->peek_device ||
		     s->ops->peek_device(s->ctx, s->hg, gpa, buf + done, n)))
			break;
		show_original_bytes(s, gpa, buf + done, n);
		done += n;
	}
	return done;
}

/* Byte-wise only where a breakpoint sits: the new byte becomes the saved
 * original and the int3 stays. */
static int write_page(struct gdb_session *s, uint64_t gpa, const uint8_t *buf,
		      size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n && bp_table_count(&s->bps); i++) {
		struct breakpoint *bp = bp_table_find(&s->bps, gpa + i);
		if (!bp)
			continue;
		bp->saved_byte = buf[i];
		if (i > start &&
		    s->ops->write_phys(s->ctx, gpa + start, buf + start,
				       i - start))
			return -EFAULT;
		start = i + 1;
	}
	if (n > start &&
	    s->ops->write_phys(s->ctx, gpa + start, buf + start, n - start))
		return -EFAULT;
	return 0;
}

int gdb_mem_write(struct gdb_session *s, uint64_t addr, const uint8_t *buf,
		  size_t len)
{
	uint8_t probe[1];

	if (!s->ops->read_phys || !s->ops->write_phys)
		return -EFAULT;
	if (len == 0)
		return 0;
	if (addr + len - 1 < addr)
		return -EFAULT;
	size_t npages = (size_t)((((addr + len - 1) / PAGE_SIZE) -
				  (addr / PAGE_SIZE)) + 1);
	uint64_t *gpas = malloc(npages * sizeof(*gpas));
	if (!gpas)
		return -ENOMEM;
	/* Pass 1: every page translates to RAM, and its translation is kept:
	 * the write may rewrite the very page tables a later page goes
	 * through (as a CPU's split store, the whole write uses the
	 * translations from before it). Nothing changes on a failure. */
	int rc = 0;
	size_t page = 0;
	for (size_t done = 0; done < len; page++) {
		uint64_t va = addr + done, gpa;
		size_t n = chunk_len(va, len - done);
		if (gdb_addr_to_gpa(s, va, &gpa) ||
		    s->ops->read_phys(s->ctx, gpa, probe, 1) ||
		    s->ops->read_phys(s->ctx, gpa + n - 1, probe, 1)) {
			rc = -EFAULT;
			break;
		}
		gpas[page] = gpa;
		done += n;
	}
	/* Pass 2: write through the recorded translations. */
	page = 0;
	for (size_t done = 0; rc == 0 && done < len; page++) {
		size_t n = chunk_len(addr + done, len - done);
		rc = write_page(s, gpas[page], buf + done, n);
		done += n;
	}
	free(gpas);
	return rc;
}
