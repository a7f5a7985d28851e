#include "vmm_test_guest.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
	int rc = vm_write_gpa(vm, gpa, &v, 8);
	assert(rc == 0);
	(void)rc;
}

static void setup_cpu(struct vm *vm, int n)
{
	struct { enum vm_reg_name r; uint64_t v; } regs[] = {
		{ VM_REG_GUEST_CR3, 0x2000 },
		{ VM_REG_GUEST_CR4, 0x620 },
		{ VM_REG_GUEST_EFER, 0xd00 },
		{ VM_REG_GUEST_CR0, 0x80050033 },
		{ VM_REG_GUEST_CS, 0x08 },
		{ VM_REG_GUEST_SS, 0x10 },
		{ VM_REG_GUEST_DS, 0x10 },
		{ VM_REG_GUEST_ES, 0x10 },
		{ VM_REG_GUEST_RSP, TG_STACK_TOP + (uint64_t)n * 0x10000 },
		{ VM_REG_GUEST_RFLAGS, 2 },
		{ VM_REG_GUEST_RIP, SNIP_BASE },
		{ VM_REG_GUEST_RDI, (uint64_t)n },
	};
	struct seg_desc gdtr = { 0x1000, 0x27, 0 };
	struct seg_desc idtr = { TG_IDT, 0xfff, 0 };
	struct seg_desc tr = { TG_TSS, 0x67, 0x8b };
	int rc = vm_set_desc(vm, n, VM_REG_GUEST_GDTR, &gdtr);
	assert(rc == 0);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		rc = vm_set_register(vm, n, regs[i].r, regs[i].v);
		if (rc != 0) {
			fprintf(stderr, "set reg %d: %d\n", regs[i].r, rc);
			abort();
		}
	}
	rc = vm_set_desc(vm, n, VM_REG_GUEST_IDTR, &idtr);
	assert(rc == 0);
	rc = vm_set_register(vm, n, VM_REG_GUEST_TR, 0x18);
	assert(rc == 0);
	rc = vm_set_desc(vm, n, VM_REG_GUEST_TR, &tr);
	assert(rc == 0);
}

struct vm *tg_create(unsigned ncpus, enum vm_cpu_vendor vendor)
{
	return tg_create_with_code_buffer(ncpus, vendor, 0);
}

static struct vm *create(unsigned ncpus, enum vm_cpu_vendor vendor,
			 unsigned code_buffer_mib, bool parallel);

struct vm *tg_create_with_code_buffer(unsigned ncpus,
				      enum vm_cpu_vendor vendor,
				      unsigned code_buffer_mib)
{
	return create(ncpus, vendor, code_buffer_mib, false);
}

struct vm *tg_create_parallel(unsigned ncpus, enum vm_cpu_vendor vendor)
{
	return create(ncpus, vendor, 0, true);
}

static struct vm *create(unsigned ncpus, enum vm_cpu_vendor vendor,
			 unsigned code_buffer_mib, bool parallel)
{
	struct vm_config cfg = { .ncpus = ncpus, .mem_size = TG_MEM,
				 .vendor = vendor, .backend = VM_BACKEND_TCG,
				 .code_buffer_mib = code_buffer_mib,
				 .exec_mode = parallel ? VM_EXEC_PARALLEL
						       : VM_EXEC_SERIAL };
	struct vm *vm;
	char err[128];
	if (vm_create(&cfg, &vm, err, sizeof(err)) != 0) {
		fprintf(stderr, "vm_create: %s\n", err);
		abort();
	}
	/* GDT: null, 64-bit code, data, 64-bit TSS (two slots). */
	put64(vm, 0x1008, 0x00af9b000000ffffULL);
	put64(vm, 0x1010, 0x00cf93000000ffffULL);
	put64(vm, 0x1018, 0x0000890000000067ULL | ((TG_TSS & 0xffffff) << 16));
	put64(vm, 0x1020, 0);
	/* Identity map of 4 GiB with 2 MiB pages. */
	put64(vm, 0x2000, 0x3000 | 3);
	for (uint64_t i = 0; i < 4; i++)
		put64(vm, 0x3000 + i * 8, (0x4000 + i * 0x1000) | 3);
	for (uint64_t i = 0; i < 2048; i++)
		put64(vm, 0x4000 + i * 8, (i << 21) | 0x83);
	/* TSS: RSP0 and IST1 point at a spare stack. */
	put64(vm, TG_TSS + 4, 0x280000);
	put64(vm, TG_TSS + 0x24, 0x290000);
	for (unsigned n = 0; n < ncpus; n++)
		setup_cpu(vm, (int)n);
	return vm;
}

void tg_load(struct vm *vm, const uint8_t *start, const uint8_t *end)
{
	int rc = vm_write_gpa(vm, SNIP_BASE, start, (size_t)(end - start));
	assert(rc == 0);
	(void)rc;
}

int tg_load_other(struct vm *vm, int vcpu, const uint8_t *start,
		  const uint8_t *end)
{
	int rc = vm_write_gpa(vm, SNIP_OTHER_BASE, start, (size_t)(end - start));
	if (rc)
		return rc;
	return vm_set_register(vm, vcpu, VM_REG_GUEST_RIP, SNIP_OTHER_BASE);
}

void tg_set_gate(struct vm *vm, int vector, uint64_t handler)
{
	uint64_t lo = (handler & 0xffff) | (0x08ULL << 16) |
		      (0xEEULL << 40) | (((handler >> 16) & 0xffff) << 48);
	uint64_t hi = handler >> 32;
	put64(vm, TG_IDT + (uint64_t)vector * 16, lo);
	put64(vm, TG_IDT + (uint64_t)vector * 16 + 8, hi);
}

void tg_no_idt(struct vm *vm)
{
	struct seg_desc idtr = { 0, 0, 0 };
	for (unsigned n = 0; n < vm_vcpu_count(vm); n++)
		vm_set_desc(vm, (int)n, VM_REG_GUEST_IDTR, &idtr);
}

uint64_t tg_reg(struct vm *vm, int vcpu, enum vm_reg_name r)
{
	uint64_t v = 0;
	int rc = vm_get_register(vm, vcpu, r, &v);
	assert(rc == 0);
	(void)rc;
	return v;
}

uint64_t tg_data(struct vm *vm, unsigned idx)
{
	uint64_t v = 0;
	vm_read_gpa(vm, TG_DATA + 8ULL * idx, &v, 8);
	return v;
}

void tg_set_data(struct vm *vm, unsigned idx, uint64_t val)
{
	put64(vm, TG_DATA + 8ULL * idx, val);
}

static void *runner_main(void *arg)
{
	struct tg_runner *r = arg;

	r->rc = vm_run(r->vm, r->vcpu, &r->exit);
	return NULL;
}

void tg_runner_start(struct tg_runner *r, struct vm *vm, int vcpu)
{
	memset(r, 0, sizeof(*r));
	r->vm = vm;
	r->vcpu = vcpu;
	r->rc = -1;
	int rc = pthread_create(&r->thread, NULL, runner_main, r);
	assert(rc == 0);
	(void)rc;
}

void tg_runner_join(struct tg_runner *r)
{
	pthread_join(r->thread, NULL);
}

unsigned tg_run_all(struct vm *vm, unsigned ncpus, enum vm_exitcode want)
{
	struct tg_runner r[VM_MAX_VCPUS];
	unsigned bad = 0;

	assert(ncpus <= VM_MAX_VCPUS);
	for (unsigned i = 0; i < ncpus; i++)
		tg_runner_start(&r[i], vm, (int)i);
	for (unsigned i = 0; i < ncpus; i++) {
		tg_runner_join(&r[i]);
		if (r[i].rc != 0 || r[i].exit.exitcode != want) {
			fprintf(stderr, "vCPU %u: vm_run %d, exit %d (want %d)\n",
				i, r[i].rc, (int)r[i].exit.exitcode, (int)want);
			bad++;
		}
	}
	return bad;
}

void *tg_looper_main(void *arg)
{
	struct tg_looper *l = arg;
	while (!atomic_load(&l->quit)) {
		struct vm_exit e;
		if (vm_run(l->vm, l->vcpu, &e) != 0) {
			l->bad++;
			break;
		}
		if (e.exitcode == VM_EXITCODE_SHUTDOWN)
			break;
		if (e.exitcode != VM_EXITCODE_SUSPENDED) {
			l->bad++;
			continue;
		}
		atomic_fetch_add(&l->suspended_exits, 1);
		while (vm_cpu_suspended(l->vm, l->vcpu) &&
		       !atomic_load(&l->quit)) {
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
		atomic_fetch_add(&l->resumes_seen, 1);
		if (l->after_resume)
			l->after_resume(l);
	}
	return NULL;
}
