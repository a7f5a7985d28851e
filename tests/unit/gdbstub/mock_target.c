#include "mock_target.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct mock_target *mt_of(void *ctx)
{
	return ctx;
}

static bool valid(struct mock_target *mt, int vcpu)
{
	return vcpu >= 0 && (unsigned)vcpu < mt->nvcpus;
}

static unsigned m_vcpu_count(void *ctx)
{
	return mt_of(ctx)->nvcpus;
}

static int m_read_reg(void *ctx, int vcpu, int regno, uint8_t *val)
{
	struct mock_target *mt = ctx;
	unsigned size = gdb_x86_reg_size(regno);
	if (!valid(mt, vcpu) || size == 0)
		return -EINVAL;
	if (mt->no_x87 && regno >= GDB_REG_ST0 && regno < GDB_REG_ST0 + 8)
		return -ENOENT;
	memcpy(val, mt->vcpu[vcpu].regs[regno], size);
	return 0;
}

static int m_write_reg(void *ctx, int vcpu, int regno, const uint8_t *val)
{
	struct mock_target *mt = ctx;
	unsigned size = gdb_x86_reg_size(regno);
	if (!valid(mt, vcpu) || size == 0)
		return -EINVAL;
	if (mt->no_x87 && regno >= GDB_REG_ST0 && regno < GDB_REG_ST0 + 8)
		return -ENOENT;
	memcpy(mt->vcpu[vcpu].regs[regno], val, size);
	return 0;
}

static int m_translate(void *ctx, int vcpu, uint64_t gla, int prot,
		       uint64_t *gpa)
{
	struct mock_target *mt = ctx;
	(void)prot;
	if (!valid(mt, vcpu))
		return -EINVAL;
	if (gla >= MOCK_VBASE)
		gla -= MOCK_VBASE;
	uint64_t page = gla / MOCK_PAGE;
	if (page >= MOCK_VPAGES || mt->vmap[page] < 0)
		return -EFAULT;
	*gpa = (uint64_t)mt->vmap[page] * MOCK_PAGE + gla % MOCK_PAGE;
	return 0;
}

static int m_read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct mock_target *mt = ctx;
	if (gpa > MOCK_MEM_SIZE || len > MOCK_MEM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, mt->mem + gpa, len);
	return 0;
}

static int m_in_paging_structures(void *ctx, uint64_t gpa)
{
	struct mock_target *mt = ctx;
	return mt->page_table_page >= 0 &&
	       gpa / MOCK_PAGE == (uint64_t)mt->page_table_page;
}

static int m_write_phys(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct mock_target *mt = ctx;
	if (gpa > MOCK_MEM_SIZE || len > MOCK_MEM_SIZE - gpa)
		return -EFAULT;
	memcpy(mt->mem + gpa, buf, len);
	return 0;
}

static bool m_has_cap(void *ctx, enum gdb_cap cap)
{
	struct mock_target *mt = ctx;
	if (cap == GDB_CAP_MTRAP_EXIT)
		return mt->personality == MOCK_INTEL;
	if (cap == GDB_CAP_RFLAGS_TF)
		return mt->personality == MOCK_AMD;
	return true;
}

static int m_set_cap(void *ctx, int vcpu, enum gdb_cap cap, bool on)
{
	struct mock_target *mt = ctx;
	if (!valid(mt, vcpu) || !m_has_cap(ctx, cap))
		return -ENOENT;
	pthread_mutex_lock(&mt->lock);
	mt->vcpu[vcpu].caps[cap] = on;
	mt->set_cap_calls++;
	pthread_mutex_unlock(&mt->lock);
	return 0;
}

static void m_suspend(void *ctx, int vcpu)
{
	struct mock_target *mt = ctx;
	pthread_mutex_lock(&mt->lock);
	for (unsigned v = 0; v < mt->nvcpus; v++)
		if (vcpu < 0 || (unsigned)vcpu == v)
			mt->vcpu[v].kicked = true;
	mt->suspend_calls++;
	pthread_cond_broadcast(&mt->kick);
	pthread_mutex_unlock(&mt->lock);
}

static void m_resume(void *ctx, int vcpu)
{
	struct mock_target *mt = ctx;
	pthread_mutex_lock(&mt->lock);
	for (unsigned v = 0; v < mt->nvcpus; v++)
		if (vcpu < 0 || (unsigned)vcpu == v)
			mt->vcpu[v].kicked = false;
	mt->resume_calls++;
	pthread_mutex_unlock(&mt->lock);
}

static int m_get_eil(void *ctx, int vcpu, int *len)
{
	struct mock_target *mt = ctx;
	if (!valid(mt, vcpu) || mt->personality == MOCK_AMD)
		return -ENOENT;
	*len = mt->vcpu[vcpu].entry_inst_length;
	return 0;
}

static int m_set_eil(void *ctx, int vcpu, int len)
{
	struct mock_target *mt = ctx;
	if (!valid(mt, vcpu))
		return -EINVAL;
	if (mt->personality == MOCK_INTEL)
		mt->vcpu[vcpu].entry_inst_length = len;
	return 0; /* amd: ignored, reports success (like SVM) */
}

static int m_inject(void *ctx, int vcpu, int vector)
{
	struct mock_target *mt = ctx;
	if (!valid(mt, vcpu))
		return -EINVAL;
	struct mock_vcpu *v = &mt->vcpu[vcpu];
	v->injected_vector = vector;
	v->injected_rip = mock_get_reg64(mt, vcpu, GDB_REG_RIP);
	v->injected_len = v->entry_inst_length;
	return 0;
}

static int m_vcpu_status(void *ctx, int vcpu, struct gdb_vcpu_status *st)
{
	struct mock_target *mt = ctx;
	if (!valid(mt, vcpu))
		return -EINVAL;
	st->halted = false;
	st->waiting_for_sipi = mt->vcpu[vcpu].waiting_for_sipi;
	st->mode = st->waiting_for_sipi ? "real" : "64-bit";
	return 0;
}

static void m_kill(void *ctx)
{
	struct mock_target *mt = ctx;
	pthread_mutex_lock(&mt->lock);
	mt->killed = true;
	pthread_mutex_unlock(&mt->lock);
}

static bool hw_breakpoint(enum gdb_watch_type type)
{
	return type == GDB_HW_BREAKPOINT;
}

static unsigned watches_of_kind(struct mock_target *mt, bool hw)
{
	unsigned n = 0;
	for (unsigned i = 0; i < mt->nwatches; i++)
		n += hw_breakpoint(mt->watches[i].type) == hw;
	return n;
}

static int m_insert_watch(void *ctx, enum gdb_watch_type type, uint64_t addr,
			  uint64_t len)
{
	struct mock_target *mt = ctx;
	if (len == 0 || len > MOCK_WATCH_MAX_LEN)
		return -EINVAL;
	int rc = 0;
	pthread_mutex_lock(&mt->lock);
	if (watches_of_kind(mt, hw_breakpoint(type)) ==
	    (hw_breakpoint(type) ? MOCK_HW_BREAKPOINTS : MOCK_WATCHPOINTS))
		rc = -ENOSPC;
	else
		mt->watches[mt->nwatches++] =
			(struct mock_watch){ type, addr, len };
	pthread_mutex_unlock(&mt->lock);
	return rc;
}

static int m_remove_watch(void *ctx, enum gdb_watch_type type, uint64_t addr,
			  uint64_t len)
{
	struct mock_target *mt = ctx;
	int rc = -ENOENT;
	pthread_mutex_lock(&mt->lock);
	for (unsigned i = 0; i < mt->nwatches; i++) {
		struct mock_watch *w = &mt->watches[i];
		if (w->type == type && w->addr == addr && w->len == len) {
			*w = mt->watches[--mt->nwatches];
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&mt->lock);
	return rc;
}

static void m_watch_limits(void *ctx, unsigned *hw, unsigned *wp,
			   uint64_t *max_len)
{
	(void)ctx;
	*hw = MOCK_HW_BREAKPOINTS;
	*wp = MOCK_WATCHPOINTS;
	*max_len = MOCK_WATCH_MAX_LEN;
}

const struct gdb_target_ops mock_target_ops = {
	.vcpu_count = m_vcpu_count,
	.read_reg = m_read_reg,
	.write_reg = m_write_reg,
	.translate = m_translate,
	.read_phys = m_read_phys,
	.write_phys = m_write_phys,
	.in_paging_structures = m_in_paging_structures,
	.set_cap = m_set_cap,
	.has_cap = m_has_cap,
	.suspend = m_suspend,
	.resume = m_resume,
	.get_entry_inst_length = m_get_eil,
	.set_entry_inst_length = m_set_eil,
	.inject_exception = m_inject,
	.vcpu_status = m_vcpu_status,
	.kill = m_kill,
	.insert_watch = m_insert_watch,
	.remove_watch = m_remove_watch,
	.watch_limits = m_watch_limits,
};

void mock_target_init(struct mock_target *mt, enum mock_personality p,
		      unsigned nvcpus)
{
	memset(mt, 0, sizeof(*mt));
	mt->page_table_page = -1;
	mt->personality = p;
	mt->nvcpus = nvcpus > MOCK_MAX_VCPUS ? MOCK_MAX_VCPUS : nvcpus;
	for (unsigned i = 0; i < MOCK_VPAGES; i++)
		mt->vmap[i] = i < MOCK_MEM_PAGES ? (int64_t)i : -1;
	for (unsigned i = 0; i < MOCK_MEM_SIZE; i++)
		mt->mem[i] = (uint8_t)(i * 7 + 3);
	for (unsigned v = 0; v < mt->nvcpus; v++) {
		struct mock_vcpu *c = &mt->vcpu[v];
		c->injected_vector = -1;
		c->hw_reported = UINT64_MAX;
		c->loop_start = 0x1000 + v * 0x100;
		for (int r = 0; r < GDB_REG_COUNT; r++)
			for (unsigned b = 0; b < gdb_x86_reg_size(r); b++)
				c->regs[r][b] = (uint8_t)(v * 16 + r + b);
		mock_set_reg64(mt, (int)v, GDB_REG_RIP, c->loop_start);
		mock_set_reg64(mt, (int)v, GDB_REG_RSP, 0x8000 + v * 0x100);
		mock_set_reg64(mt, (int)v, GDB_REG_RBP, 0x9000 + v * 0x100);
		/* the toy program: 15 nops, then jump back */
		memset(mt->mem + c->loop_start, 0x90, 15);
		mt->mem[c->loop_start + 15] = 0xeb;
	}
	mt->instr_delay_us = 200;
	pthread_mutex_init(&mt->lock, NULL);
	pthread_cond_init(&mt->kick, NULL);
}

void mock_unmap(struct mock_target *mt, unsigned vpage)
{
	if (vpage < MOCK_VPAGES)
		mt->vmap[vpage] = -1;
}

uint64_t mock_get_reg64(struct mock_target *mt, int vcpu, int regno)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | mt->vcpu[vcpu].regs[regno][i];
	return v;
}

void mock_set_reg64(struct mock_target *mt, int vcpu, int regno, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		mt->vcpu[vcpu].regs[regno][i] = (uint8_t)(v >> (8 * i));
}

/* ---- toy vCPU threads -------------------------------------------------- */


static void call_add(struct mock_target *mt, int v)
{
	if (mt->hook_add)
		mt->hook_add(mt->hook_arg, v);
	else
		gdbstub_vcpu_add(mt->stub, v);
}

static void call_suspended(struct mock_target *mt, int v)
{
	if (mt->hook_suspended)
		mt->hook_suspended(mt->hook_arg, v);
	else
		gdbstub_vcpu_suspended(mt->stub, v);
}

static void call_breakpoint(struct mock_target *mt, int v, int len)
{
	if (mt->hook_breakpoint)
		mt->hook_breakpoint(mt->hook_arg, v, len);
	else
		gdbstub_vcpu_breakpoint(mt->stub, v, len);
}

static void call_step(struct mock_target *mt, int v)
{
	if (mt->hook_step)
		mt->hook_step(mt->hook_arg, v);
	else
		gdbstub_vcpu_step_trap(mt->stub, v);
}

static void call_watch(struct mock_target *mt, int v, enum gdb_watch_type type,
		       uint64_t addr)
{
	if (mt->hook_watch)
		mt->hook_watch(mt->hook_arg, v, type, addr);
	else
		gdbstub_vcpu_watch(mt->stub, v, type, addr);
}

/* A watch of `type` (or, for write and read, access) covering addr? */
static bool watched(struct mock_target *mt, enum gdb_watch_type type,
		    uint64_t addr, enum gdb_watch_type *which)
{
	bool hit = false;
	pthread_mutex_lock(&mt->lock);
	for (unsigned i = 0; i < mt->nwatches && !hit; i++) {
		struct mock_watch *w = &mt->watches[i];
		bool kind = w->type == type ||
			    (type == GDB_WATCH_WRITE &&
			     w->type == GDB_WATCH_ACCESS);
		if (kind && addr >= w->addr && addr - w->addr < w->len) {
			hit = true;
			*which = w->type;
		}
	}
	pthread_mutex_unlock(&mt->lock);
	return hit;
}

/* One toy instruction, like one vm_run slice ending in an exit. */
static void *vcpu_thread(void *p)
{
	struct mock_vcpu_arg *a = p;
	struct mock_target *mt = a->mt;
	int v = a->vcpu;
	struct mock_vcpu *c = &mt->vcpu[v];

	if (c->start_delay_ms)
		usleep(c->start_delay_ms * 1000u);
	call_add(mt, v);
	if (mt->start_together)
		pthread_barrier_wait(&mt->start_barrier);
	for (;;) {
		pthread_mutex_lock(&mt->lock);
		bool stop = mt->stop_threads, kicked = c->kicked;
		bool stepping = c->caps[GDB_CAP_MTRAP_EXIT] ||
				c->caps[GDB_CAP_RFLAGS_TF];
		bool masked = c->caps[GDB_CAP_MASK_HWINTR];
		bool bpt_exit = c->caps[GDB_CAP_BPT_EXIT];
		pthread_mutex_unlock(&mt->lock);
		if (stop)
			break;
		/* an int3 exit already under way beats a kick: that is how
		 * several vCPUs hit breakpoints "at the same time" */
		uint64_t at = mock_get_reg64(mt, v, GDB_REG_RIP);
		bool on_int3 = at < MOCK_MEM_SIZE && mt->mem[at] == 0xcc &&
			       bpt_exit && c->injected_vector < 0;
		/* the same for a store to a watched byte */
		enum gdb_watch_type which;
		bool on_watched_store =
			at < MOCK_MEM_SIZE && mt->mem[at] == 0xa2 &&
			watched(mt, GDB_WATCH_WRITE,
				mock_get_reg64(mt, v, GDB_REG_RBX), &which);
		if (kicked && !on_int3 && !on_watched_store) {
			call_suspended(mt, v);
			continue;
		}
		/* "interrupt delivery": pending injected #BP goes to the
		 * guest handler, which we just record */
		uint64_t rip = mock_get_reg64(mt, v, GDB_REG_RIP);
		if (c->injected_vector >= 0) {
			/* the handler returns at once (iretq): the return RIP
			 * is RIP + entry length on intel, RIP on amd */
			if (mt->personality == MOCK_INTEL)
				rip += (uint64_t)c->entry_inst_length;
			c->delivered_vector = c->injected_vector;
			c->delivered_return_rip = rip;
			c->injected_vector = -1;
			c->deliveries++;
			mock_set_reg64(mt, v, GDB_REG_RIP, rip);
			continue;
		}
		uint8_t op = rip < MOCK_MEM_SIZE ? mt->mem[rip] : 0x90;
		if (op == 0xcc && bpt_exit) {
			c->bp_exits++;
			call_breakpoint(mt, v, 1);
			continue;
		}
		if (c->hw_reported != rip &&
		    watched(mt, GDB_HW_BREAKPOINT, rip, &which)) {
			c->hw_reported = rip;
			call_watch(mt, v, GDB_HW_BREAKPOINT, rip);
			continue;
		}
		c->hw_reported = UINT64_MAX;
		if (op == 0xeb)
			rip = c->loop_start;
		else
			rip++;
		if (op == 0xf4)
			c->ticks++;
		mock_set_reg64(mt, v, GDB_REG_RIP, rip);
		__atomic_fetch_add(&c->executed, 1, __ATOMIC_RELAXED);
		uint64_t to = mock_get_reg64(mt, v, GDB_REG_RBX);
		if (op == 0xa2) {
			__atomic_fetch_add(&c->stores, 1, __ATOMIC_RELAXED);
			if (watched(mt, GDB_WATCH_WRITE, to, &which)) {
				/* a trap: after the instruction */
				call_watch(mt, v, which, to);
				continue;
			}
		}
		if (stepping) {
			c->step_traps++;
			if (masked)
				c->steps_with_mask++;
			call_step(mt, v);
			continue;
		}
		if (mt->instr_delay_us) {
			/* sleep until kicked or the delay passes */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)mt->instr_delay_us * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_mutex_lock(&mt->lock);
			if (!c->kicked && !mt->stop_threads)
				pthread_cond_timedwait(&mt->kick, &mt->lock,
						       &ts);
			pthread_mutex_unlock(&mt->lock);
		}
	}
	return NULL;
}

void mock_start_vcpus(struct mock_target *mt)
{
	mt->stop_threads = false;
	if (mt->start_together)
		pthread_barrier_init(&mt->start_barrier, NULL, mt->nvcpus);
	for (unsigned v = 0; v < mt->nvcpus; v++) {
		struct mock_vcpu_arg *a = &mt->args[v];
		a->mt = mt;
		a->vcpu = (int)v;
		pthread_create(&mt->threads[v], NULL, vcpu_thread, a);
	}
	mt->running = true;
}

void mock_stop_vcpus(struct mock_target *mt)
{
	if (!mt->running)
		return;
	pthread_mutex_lock(&mt->lock);
	mt->stop_threads = true;
	pthread_cond_broadcast(&mt->kick);
	pthread_mutex_unlock(&mt->lock);
	for (unsigned v = 0; v < mt->nvcpus; v++)
		pthread_join(mt->threads[v], NULL);
	mt->running = false;
}
