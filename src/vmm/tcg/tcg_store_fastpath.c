/*
 * Workaround for the Unicorn 2.0.1 guest-store slow path.
 *
 * Unicorn 2 stubs out QEMU's dirty-memory tracking: every RAM page is
 * "clean", so every guest store goes through notdirty_write(), which calls
 * page_collection_lock() and page_collection_unlock() around the
 * self-modifying-code check. In 2.0.1 those allocate a GTree and one node
 * per page on every store (page locks themselves are no-ops in Unicorn), and
 * that malloc/free traffic made stores ~40x slower than loads (measured:
 * 158 ns vs 4 ns per iteration of a one-store loop; cpu-bench ran 7x slower
 * than QEMU). Upstream Unicorn later made both functions do nothing
 * (unicorn-engine/unicorn#1838): the collection is only ever handed back to
 * page_collection_unlock(), and the SMC check (tb_invalidate_phys_page_fast)
 * does its work without it.
 *
 * libunicorn calls both through its PLT, so defining them in the executable
 * interposes them. Only the x86_64 variants are replaced; every other target
 * in the library is untouched. The functions are not static on purpose and
 * keep Unicorn's (mangled) names and signatures.
 */
#include <stddef.h>
#include <stdint.h>

#include "vmm/tcg/tcg_internal.h"

struct uc_struct;
struct page_collection;

struct page_collection *page_collection_lock_x86_64(struct uc_struct *uc,
						     uint64_t start,
						     uint64_t end);
void page_collection_unlock_x86_64(struct page_collection *set);

struct page_collection *page_collection_lock_x86_64(struct uc_struct *uc,
						     uint64_t start,
						     uint64_t end)
{
	(void)uc;
	(void)start;
	(void)end;
	return NULL;
}

void page_collection_unlock_x86_64(struct page_collection *set)
{
	(void)set;
}

bool tcg_store_fastpath_linked(void)
{
	/* Referenced from engine set-up so that a static link keeps this
	 * object (and with it the two definitions above). */
	return true;
}
