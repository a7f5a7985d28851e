/* The debugger's watches of one VM (vm_watch.h, vm_watch_insert). */
#include "vmm/vm_watch.h"

#include <errno.h>
#include <string.h>

#include "vmm/vm_internal.h"

int vm_watch_table_init(struct vm_watch_table *t)
{
	memset(t->w, 0, sizeof(t->w));
	t->n = 0;
	atomic_init(&t->gen, 0);
	return checked_mutex_init(&t->mtx, LOCK_RANK_VM_WATCHES) ? -ENOMEM : 0;
}

void vm_watch_table_destroy(struct vm_watch_table *t)
{
	checked_mutex_destroy(&t->mtx);
}

unsigned vm_watch_snapshot(struct vm_watch_table *t, struct vm_watch *out,
			   unsigned *gen)
{
	checked_mutex_lock(&t->mtx);
	unsigned n = t->n;
	memcpy(out, t->w, n * sizeof(*out));
	*gen = atomic_load(&t->gen);
	checked_mutex_unlock(&t->mtx);
	return n;
}

static bool valid_watch(enum vm_watch_kind kind, uint64_t addr, uint64_t len)
{
	switch (kind) {
	case VM_WATCH_EXEC:
		return len == 1;
	case VM_WATCH_WRITE:
	case VM_WATCH_READ:
	case VM_WATCH_ACCESS:
		/* addr + len may reach 2^64 exactly, not beyond */
		return len >= 1 && len <= VM_MAX_WATCH_LEN &&
		       addr + (len - 1) >= addr;
	}
	return false;
}

static unsigned count_kind(const struct vm_watch_table *t, bool exec)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->n; i++)
		n += (t->w[i].kind == VM_WATCH_EXEC) == exec;
	return n;
}

/* The table is kept sorted, so that equal sets give equal snapshots and
 * an engine can tell "removed and inserted again" from a change. */
static int compare(const struct vm_watch *a, enum vm_watch_kind kind,
		   uint64_t addr, uint64_t len)
{
	if (a->kind != kind)
		return a->kind < kind ? -1 : 1;
	if (a->addr != addr)
		return a->addr < addr ? -1 : 1;
	if (a->len != len)
		return a->len < len ? -1 : 1;
	return 0;
}

/* Index of the watch, or -1 - (where it would go). */
static int find(const struct vm_watch_table *t, enum vm_watch_kind kind,
		uint64_t addr, uint64_t len)
{
	unsigned i = 0;
	while (i < t->n && compare(&t->w[i], kind, addr, len) < 0)
		i++;
	if (i < t->n && compare(&t->w[i], kind, addr, len) == 0)
		return (int)i;
	return -1 - (int)i;
}

int vm_watch_insert(struct vm *vm, enum vm_watch_kind kind, uint64_t addr,
		    uint64_t len)
{
	if (!vm || !valid_watch(kind, addr, len))
		return -EINVAL;
	struct vm_watch_table *t = &vm->watches;
	int rc = 0;
	checked_mutex_lock(&t->mtx);
	int i = find(t, kind, addr, len);
	bool exec = kind == VM_WATCH_EXEC;
	if (i >= 0) {
		t->w[i].refs++;
	} else if (count_kind(t, exec) >=
		   (exec ? VM_MAX_HW_BREAKPOINTS : VM_MAX_WATCHPOINTS)) {
		rc = -ENOSPC;
	} else {
		unsigned at = (unsigned)(-1 - i);
		memmove(&t->w[at + 1], &t->w[at], (t->n - at) * sizeof(t->w[0]));
		t->w[at] = (struct vm_watch){ .kind = kind, .addr = addr,
					      .len = len, .refs = 1 };
		t->n++;
		atomic_fetch_add(&t->gen, 1);
	}
	checked_mutex_unlock(&t->mtx);
	return rc;
}

int vm_watch_remove(struct vm *vm, enum vm_watch_kind kind, uint64_t addr,
		    uint64_t len)
{
	if (!vm)
		return -EINVAL;
	struct vm_watch_table *t = &vm->watches;
	int rc = 0;
	checked_mutex_lock(&t->mtx);
	int i = find(t, kind, addr, len);
	if (i < 0) {
		rc = -ENOENT;
	} else if (--t->w[i].refs == 0) {
		t->n--;
		memmove(&t->w[i], &t->w[i + 1],
			(t->n - (unsigned)i) * sizeof(t->w[0]));
		atomic_fetch_add(&t->gen, 1);
	}
	checked_mutex_unlock(&t->mtx);
	return rc;
}
