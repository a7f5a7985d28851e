/* Giving the pages of a range back to the kernel (tcg_internal.h). */
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/tcg/tcg_internal.h"

struct page_run tcg_drop_whole_pages(uintptr_t start, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	struct page_run run = { (start + page - 1) & ~(page - 1),
				(start + len) & ~(page - 1) };
	/* Only whole pages: the partial ones at the edges hold other data. */
	if (run.to <= run.from ||
	    madvise((void *)run.from, run.to - run.from, MADV_DONTNEED) != 0)
		return (struct page_run){ 0, 0 };
	return run;
}
