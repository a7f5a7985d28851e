/* The VM core on the real Unicorn backend, with tiny hand-built guests. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "vmm/vm_internal.h"
#include "vmm_test_guest.h"

DECLARE_SNIP(lockinc);
DECLARE_SNIP(bpt);
extern const uint8_t bpt_int3[], bpt_handler[];
extern const uint8_t patch_imm[];
DECLARE_SNIP(timer);
extern const uint8_t timer_handler[];
DECLARE_SNIP(x2timer);
extern const uint8_t x2timer_handler[], x2timer_ipi_handler[];
DECLARE_SNIP(waitirq);
extern const uint8_t waitirq_handler[];
DECLARE_SNIP(sendipi);
DECLARE_SNIP(sendipi_logical);
DECLARE_SNIP(ports);
DECLARE_SNIP(many_ports);
DECLARE_SNIP(unmapped);
DECLARE_SNIP(ud);
DECLARE_SNIP(inc32);
DECLARE_SNIP(sipi_sender);
DECLARE_SNIP(irqafter);
extern const uint8_t irqafter_handler[];
DECLARE_SNIP(xmod_caller);
DECLARE_SNIP(xmod_patcher);
DECLARE_SNIP(xmod_prewriter);
DECLARE_SNIP(smc_data);
DECLARE_SNIP(patch);
DECLARE_SNIP(smc);
DECLARE_SNIP(jit);
DECLARE_SNIP(spinwait);
DECLARE_SNIP(release);
DECLARE_SNIP(stores);
DECLARE_SNIP(idle100);
extern const uint8_t idle100_handler[];
DECLARE_SNIP(flags);
DECLARE_SNIP(count);
DECLARE_SNIP(spin);
extern const uint8_t spin_handler[];
DECLARE_SNIP(compute);

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* How long a host thread may take to get a core and do its part on a
 * busy host: the waits below end as soon as the event happens, so a
 * generous bound costs nothing when it passes. */
#define EVENT_WAIT_MS 60000

/* Polls (1 ms) until vCPU vcpu sleeps in hlt, for at most max_ms. */
/* Whether the vCPU's "asleep in hlt" state became `halted` within max_ms. */
static bool halted_becomes(struct vm *vm, int vcpu, bool halted, int max_ms)
{
	struct vm_vcpu_info info = { .halted = !halted };
	for (int i = 0; i < max_ms && info.halted != halted; i++) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
		vm_get_vcpu_info(vm, vcpu, &info);
	}
	return info.halted == halted;
}

static bool reaches_hlt(struct vm *vm, int vcpu, int max_ms)
{
	return halted_becomes(vm, vcpu, true, max_ms);
}

/* The guest's data word `idx` once it is non-zero, or 0 after max_ms
 * (another vCPU's handler writes it). */
static uint64_t data_after_wait(struct vm *vm, unsigned idx, int max_ms)
{
	for (int i = 0; i < max_ms && tg_data(vm, idx) == 0; i++) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return tg_data(vm, idx);
}

static struct vm_exit run(struct vm *vm, int vcpu)
{
	struct vm_exit e;
	assert_int_equal(vm_run(vm, vcpu, &e), 0);
	return e;
}

/* ---- Basics -------------------------------------------------------------- */

static void test_create_rejects_bad_config(void **state)
{
	(void)state;
	struct vm *vm = (struct vm *)1;
	char err[64] = "";
	struct vm_config c = { .ncpus = 0, .mem_size = TG_MEM,
			       .vendor = VM_CPU_VENDOR_INTEL,
			       .backend = VM_BACKEND_TCG };
	assert_int_equal(vm_create(&c, &vm, err, sizeof(err)), -EINVAL);
	assert_null(vm);
	assert_true(err[0] != 0);
	c.ncpus = 1;
	c.mem_size = TG_MEM + 1;
	assert_int_equal(vm_create(&c, &vm, err, sizeof(err)), -EINVAL);
	c.mem_size = 4ULL << 30;
	assert_int_equal(vm_create(&c, &vm, err, sizeof(err)), -EINVAL);
	c.mem_size = TG_MEM;
	c.code_buffer_mib = VM_MAX_CODE_BUFFER_MIB + 1;
	assert_int_equal(vm_create(&c, &vm, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "code buffer"));
}

/* Parallel execution for SMP guests and serial for one vCPU, unless
 * --exec (the config) or HVGDB_EXEC says otherwise; a bad HVGDB_EXEC is an
 * error. */
static bool created_parallel(unsigned ncpus, enum vm_exec_mode mode,
			     const char *env)
{
	if (env)
		setenv("HVGDB_EXEC", env, 1);
	else
		unsetenv("HVGDB_EXEC");
	struct vm_config c = { .ncpus = ncpus, .mem_size = TG_MEM,
			       .vendor = VM_CPU_VENDOR_INTEL,
			       .backend = VM_BACKEND_TCG, .exec_mode = mode };
	struct vm *vm;
	assert_int_equal(vm_create(&c, &vm, NULL, 0), 0);
	bool parallel = vm->sched.parallel;
	vm_destroy(vm);
	return parallel;
}

static void test_exec_mode(void **state)
{
	(void)state;
	const char *saved = getenv("HVGDB_EXEC");
	char *keep = saved ? strdup(saved) : NULL;
	/* The defaults: the vCPU count decides (an empty variable is unset). */
	assert_false(created_parallel(1, VM_EXEC_DEFAULT, NULL));
	assert_true(created_parallel(2, VM_EXEC_DEFAULT, NULL));
	assert_true(created_parallel(4, VM_EXEC_DEFAULT, NULL));
	assert_false(created_parallel(1, VM_EXEC_DEFAULT, ""));
	assert_true(created_parallel(4, VM_EXEC_DEFAULT, ""));
	/* HVGDB_EXEC overrides the default both ways. */
	assert_false(created_parallel(2, VM_EXEC_DEFAULT, "serial"));
	assert_false(created_parallel(4, VM_EXEC_DEFAULT, "serial"));
	assert_true(created_parallel(1, VM_EXEC_DEFAULT, "parallel"));
	assert_true(created_parallel(2, VM_EXEC_DEFAULT, "parallel"));
	/* --exec (the config) overrides both, both ways. */
	assert_false(created_parallel(2, VM_EXEC_SERIAL, NULL));
	assert_false(created_parallel(2, VM_EXEC_SERIAL, "parallel"));
	assert_false(created_parallel(4, VM_EXEC_SERIAL, "parallel"));
	assert_true(created_parallel(1, VM_EXEC_PARALLEL, NULL));
	assert_true(created_parallel(1, VM_EXEC_PARALLEL, "serial"));
	assert_true(created_parallel(4, VM_EXEC_PARALLEL, "serial"));

	setenv("HVGDB_EXEC", "fast", 1);
	struct vm_config c = { .ncpus = 2, .mem_size = TG_MEM,
			       .vendor = VM_CPU_VENDOR_INTEL,
			       .backend = VM_BACKEND_TCG };
	struct vm *vm = (struct vm *)1;
	char err[96] = "";
	assert_int_equal(vm_create(&c, &vm, err, sizeof(err)), -EINVAL);
	assert_null(vm);
	assert_non_null(strstr(err, "HVGDB_EXEC must be serial or parallel"));
	c.exec_mode = (enum vm_exec_mode)7;
	unsetenv("HVGDB_EXEC");
	assert_int_equal(vm_create(&c, &vm, err, sizeof(err)), -EINVAL);
	if (keep)
		setenv("HVGDB_EXEC", keep, 1);
	free(keep);
}


/* The process's CPU time so far, in ms: what hvgdb's own threads spent,
 * whatever else the host runs. */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* vm_create to the first exit, in ms of CPU time (a busy host stretches
 * the wall time at will: measured 50 ms and more beside other suites). */
static double startup_ms(void)
{
	double t0 = cpu_ms();
	struct vm_config c = { .ncpus = 1, .mem_size = 256ULL << 20,
			       .vendor = VM_CPU_VENDOR_INTEL,
			       .backend = VM_BACKEND_TCG };
	struct vm *vm;
	assert_int_equal(vm_create(&c, &vm, NULL, 0), 0);
	const uint8_t hlt = 0xF4;
	assert_int_equal(vm_write_gpa(vm, 0x100000, &hlt, 1), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, 0x100000), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	struct vm_exit e = run(vm, 0);
	double ms = cpu_ms() - t0;
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	vm_destroy(vm);
	return ms;
}

static void test_startup_is_fast(void **state)
{
	(void)state;
	/* ~1 ms; a 1 GiB code buffer zeroed up front would cost ~1 s of
	 * CPU. Best of three: a cold first run pays for page faults. */
	double best = 1e9;
	for (int i = 0; i < 3 && best >= 50.0; i++) {
		double ms = startup_ms();
		best = ms < best ? ms : best;
	}
	assert_true(best < 50.0);
}

static void test_memory_bounds(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	uint8_t b[16];
	assert_int_equal(vm_read_gpa(vm, TG_MEM - 8, b, 16), -EFAULT);
	assert_int_equal(vm_write_gpa(vm, UINT64_MAX - 4, b, 16), -EFAULT);
	assert_null(vm_map_gpa(vm, TG_MEM, 1));
	assert_non_null(vm_map_gpa(vm, TG_MEM - 1, 1));
	vm_destroy(vm);
}

/* A debugger's view of the local APIC page: each vCPU's own registers,
 * 4 bytes every 16, nothing outside the page. */
static void test_peek_device_reads_own_lapic(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	uint8_t b[16];
	for (int v = 0; v < 2; v++) {
		assert_int_equal(vm_peek_device(vm, v, 0xfee00020, b, 16), 0);
		assert_int_equal(b[3], v); /* ID in bits 31:24 */
		for (int i = 4; i < 16; i++)
			assert_int_equal(b[i], 0);
	}
	assert_int_equal(vm_peek_device(vm, 0, 0xfee00ffc, b, 4), 0);
	assert_int_equal(vm_peek_device(vm, 0, 0xfee00ffc, b, 8), -EFAULT);
	assert_int_equal(vm_peek_device(vm, 0, 0xfedff000, b, 4), -EFAULT);
	assert_int_equal(vm_peek_device(vm, 0, 0x1000, b, 4), -EFAULT);
	assert_int_equal(vm_peek_device(vm, 2, 0xfee00020, b, 4), -EINVAL);
	vm_destroy(vm);
}

static void test_registers_roundtrip(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_R13, 0x1234), 0);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_R13), 0x1234);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_KGS_BASE,
					 0xffff800000001000ULL), 0);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_KGS_BASE),
			 0xffff800000001000ULL);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_EFER) & 0x500, 0x500);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_CS), 0x08);
	struct seg_desc d;
	assert_int_equal(vm_get_desc(vm, 0, VM_REG_GUEST_CS, &d), 0);
	assert_true(d.access & (1u << 13)); /* L */
	assert_int_equal(d.access & 0x9b, 0x9b);
	assert_int_equal(vm_get_desc(vm, 0, VM_REG_GUEST_GDTR, &d), 0);
	assert_int_equal(d.base, 0x1000);
	assert_int_equal(d.limit, 0x27);
	struct vm_guest_paging pg;
	assert_int_equal(vm_get_guest_paging(vm, 0, &pg), 0);
	assert_int_equal(pg.paging_mode, PAGING_MODE_64);
	assert_int_equal(pg.cpu_mode, CPU_MODE_64BIT);
	uint64_t gpa;
	enum vm_gla_fault f;
	assert_int_equal(vm_gla2gpa(vm, 0, &pg, 0x123456, VM_PROT_READ, &gpa,
				    &f), 0);
	assert_int_equal(f, VM_GLA_OK);
	assert_int_equal(gpa, 0x123456);
	struct vm_fpregs fp, fp2;
	assert_int_equal(vm_get_fpregs(vm, 0, &fp), 0);
	memset(fp.xmm[3], 0xab, 16);
	fp.mxcsr = 0x1f80;
	assert_int_equal(vm_set_fpregs(vm, 0, &fp), 0);
	assert_int_equal(vm_get_fpregs(vm, 0, &fp2), 0);
	assert_memory_equal(fp2.xmm[3], fp.xmm[3], 16);
	vm_destroy(vm);
}

/* ---- Capabilities -------------------------------------------------------- */

static void test_caps_per_personality(void **state)
{
	(void)state;
	struct vm *intel = tg_create(1, VM_CPU_VENDOR_INTEL);
	struct vm *amd = tg_create(1, VM_CPU_VENDOR_AMD);
	int v;
	assert_int_equal(vm_set_capability(intel, 0, VM_CAP_MTRAP_EXIT, 1), 0);
	assert_int_equal(vm_set_capability(intel, 0, VM_CAP_RFLAGS_TF, 1),
			 -ENOENT);
	assert_int_equal(vm_set_capability(amd, 0, VM_CAP_MTRAP_EXIT, 1),
			 -ENOENT);
	assert_int_equal(vm_get_capability(amd, 0, VM_CAP_MTRAP_EXIT, &v),
			 -ENOENT);
	assert_int_equal(vm_set_capability(amd, 0, VM_CAP_RFLAGS_TF, 1), 0);
	assert_int_equal(vm_get_capability(amd, 0, VM_CAP_RFLAGS_TF, &v), 0);
	assert_int_equal(v, 1);
	for (int c = 0; c < 3; c++) {
		enum vm_cap_type both[] = { VM_CAP_BPT_EXIT, VM_CAP_MASK_HWINTR,
					    VM_CAP_HALT_EXIT };
		assert_int_equal(vm_set_capability(intel, 0, both[c], 1), 0);
		assert_int_equal(vm_set_capability(amd, 0, both[c], 1), 0);
	}
	uint64_t x;
	assert_int_equal(vm_set_register(intel, 0,
					 VM_REG_GUEST_ENTRY_INST_LENGTH, 1), 0);
	assert_int_equal(vm_get_register(intel, 0,
					 VM_REG_GUEST_ENTRY_INST_LENGTH, &x), 0);
	assert_int_equal(x, 1);
	assert_int_equal(vm_set_register(amd, 0,
					 VM_REG_GUEST_ENTRY_INST_LENGTH, 1), 0);
	assert_int_equal(vm_get_register(amd, 0,
					 VM_REG_GUEST_ENTRY_INST_LENGTH, &x),
			 -ENOENT);
	vm_destroy(intel);
	vm_destroy(amd);
}

static void step_one(struct vm *vm, enum vm_cpu_vendor vendor,
		     uint64_t expect_rip)
{
	struct vm_exit e = run(vm, 0);
	if (vendor == VM_CPU_VENDOR_INTEL) {
		assert_int_equal(e.exitcode, VM_EXITCODE_MTRAP);
	} else {
		assert_int_equal(e.exitcode, VM_EXITCODE_DB);
		assert_true(e.u.db.trace_trap);
		assert_int_equal(e.u.db.dr6, 0xFFFF4FF0ULL);
	}
	assert_int_equal(e.rip, expect_rip);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RIP), expect_rip);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RFLAGS) & 0x100, 0);
}

static void check_step_flags(enum vm_cpu_vendor vendor)
{
	struct vm *vm = tg_create(1, vendor);
	tg_load(vm, flags_start, flags_end);
	/* Run it once whole so the blocks are already translated: a step
	 * must still execute exactly one instruction. */
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, SNIP_BASE), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RSP, TG_STACK_TOP),
			 0);
	assert_int_equal(vm_set_capability(vm, 0, vendor == VM_CPU_VENDOR_INTEL
					   ? VM_CAP_MTRAP_EXIT
					   : VM_CAP_RFLAGS_TF, 1), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_MASK_HWINTR, 1), 0);
	/* cli(1) pushf(1) pop(1) sti(1) pushf(1) pop(1) push(5) popf(1)
	 * pushf(1) pop(1) nop(1) hlt(1) */
	static const int len[] = { 1, 1, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1 };
	uint64_t rip = SNIP_BASE;
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		rip += (uint64_t)len[i];
		step_one(vm, vendor, rip);
	}
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX) & 0x300, 0);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RBX) & 0x300, 0x200);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RDX) & 0x300, 0x200);
	vm_destroy(vm);
}

static uint64_t run_count_from(struct vm *vm, uint64_t rip)
{
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, rip), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	return tg_reg(vm, 0, VM_REG_GUEST_RAX);
}

/* Steps through the first k instructions of `count`, then runs it to the
 * end, then runs it whole again: every instruction runs once each time,
 * whether a step ended inside its block or at a branch, and whether the
 * blocks were translated before the steps (warm) or by them (cold). A
 * block at RIP left compiled with the step's hook never reaches the hlt
 * (seen: the test then hangs until ctest's timeout). */
static void test_step_then_run_counts_once(void **state)
{
	(void)state;
	/* inc(3) inc(3) jmp(2) inc(3) inc(3) inc(3) */
	static const int len[] = { 3, 3, 2, 3, 3, 3 };
	for (int warm = 0; warm <= 1; warm++)
	for (int k = 0; k <= 5; k++) {
		struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
		tg_load(vm, count_start, count_end);
		assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1),
				 0);
		if (warm)
			assert_int_equal(run_count_from(vm, SNIP_BASE), 5);
		assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RAX, 0), 0);
		assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP,
						 SNIP_BASE), 0);
		assert_int_equal(vm_set_capability(vm, 0, VM_CAP_MTRAP_EXIT, 1),
				 0);
		uint64_t rip = SNIP_BASE;
		for (int i = 0; i < k; i++) {
			rip += (uint64_t)len[i];
			step_one(vm, VM_CPU_VENDOR_INTEL, rip);
		}
		assert_int_equal(vm_set_capability(vm, 0, VM_CAP_MTRAP_EXIT, 0),
				 0);
		assert_int_equal(run_count_from(vm, rip), 5);
		assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RAX, 0), 0);
		assert_int_equal(run_count_from(vm, SNIP_BASE), 5);
		vm_destroy(vm);
	}
}

static void test_step_intel(void **state)
{
	(void)state;
	check_step_flags(VM_CPU_VENDOR_INTEL);
}

static void test_step_amd(void **state)
{
	(void)state;
	check_step_flags(VM_CPU_VENDOR_AMD);
}

/* ---- Breakpoints --------------------------------------------------------- */

static void test_bpt_exit_on(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, bpt_start, bpt_end);
	tg_set_gate(vm, 3, SNIP_ADDR(bpt, handler));
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_BPT_EXIT, 1), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_BPT);
	assert_int_equal(e.u.bpt.inst_length, 1);
	assert_int_equal(e.rip, SNIP_ADDR(bpt, int3));
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RIP), SNIP_ADDR(bpt, int3));
	assert_int_equal(tg_data(vm, 3), 0); /* guest handler did not run */
	vm_destroy(vm);
}

static void test_bpt_exit_off(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, bpt_start, bpt_end);
	tg_set_gate(vm, 3, SNIP_ADDR(bpt, handler));
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 3), 1);
	assert_int_equal(tg_data(vm, 1), SNIP_ADDR(bpt, int3) + 1);
	assert_int_equal(tg_data(vm, 2), 1);
	vm_destroy(vm);
}

static void check_inject_bp(enum vm_cpu_vendor vendor)
{
	struct vm *vm = tg_create(1, vendor);
	tg_load(vm, bpt_start, bpt_end);
	tg_set_gate(vm, 3, SNIP_ADDR(bpt, handler));
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_BPT_EXIT, 1), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_BPT);
	/* Not our breakpoint: hand the guest its #BP, as gdbstub does. */
	if (vendor == VM_CPU_VENDOR_INTEL)
		assert_int_equal(vm_set_register(vm, 0,
			VM_REG_GUEST_ENTRY_INST_LENGTH,
			(uint64_t)e.u.bpt.inst_length), 0);
	else
		assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP,
			e.rip + (uint64_t)e.u.bpt.inst_length), 0);
	assert_int_equal(vm_inject_exception(vm, 0, 3, 0, 0, 0), 0);
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 3), 1);
	assert_int_equal(tg_data(vm, 1), SNIP_ADDR(bpt, int3) + 1);
	assert_int_equal(tg_data(vm, 2), 1);
	vm_destroy(vm);
}

static void test_inject_bp_intel(void **state)
{
	(void)state;
	check_inject_bp(VM_CPU_VENDOR_INTEL);
}

static void test_inject_bp_amd(void **state)
{
	(void)state;
	check_inject_bp(VM_CPU_VENDOR_AMD);
}

/* ---- Exits --------------------------------------------------------------- */

static void test_unknown_ports(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, ports_start, ports_end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_INOUT);
	assert_true(e.u.inout.in);
	assert_int_equal(e.u.inout.port, 0x60);
	assert_int_equal(e.u.inout.bytes, 1);
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_INOUT);
	assert_false(e.u.inout.in);
	assert_int_equal(e.u.inout.port, 0x61);
	assert_int_equal(e.u.inout.eax, 0x5a);
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 0) & 0xff, 0xff);
	vm_destroy(vm);
}

/* Informative exits may be dropped when they pile up in one engine entry,
 * but never the HLT after them: with HALT_EXIT a lost HLT exit leaves the
 * caller believing the vCPU is still running. */
static void test_hlt_exit_survives_full_exit_queue(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, many_ports_start, many_ports_end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	struct vm_exit e;
	int inout = 0;
	do {
		e = run(vm, 0);
		inout += e.exitcode == VM_EXITCODE_INOUT;
	} while (e.exitcode == VM_EXITCODE_INOUT && inout <= 12);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_true(inout >= 1 && inout <= 12);
	vm_destroy(vm);
}

static void test_unmapped_is_guest_fault(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, unmapped_start, unmapped_end);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_GUEST_FAULT);
	assert_true(e.u.fault.reason[0] != 0);
	vm_destroy(vm);
}

/* A triple fault is an exit of its own: the caller ends the VM (or lets a
 * debugger look first), and the registers are those at the fault. */
static void test_triple_fault_exits_with_state_kept(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	tg_load(vm, ud_start, ud_end);
	tg_no_idt(vm);
	uint64_t entry = tg_reg(vm, 0, VM_REG_GUEST_RIP);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_TRIPLE_FAULT);
	assert_non_null(strstr(e.u.fault.reason, "triple fault"));
	/* the ud2 is the snippet's first instruction */
	assert_int_equal(e.rip, entry);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RIP), entry);
	vm_request_shutdown(vm, VM_SHUTDOWN_TRIPLE_FAULT, 3);
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_SHUTDOWN);
	assert_int_equal(e.u.shutdown.reason, VM_SHUTDOWN_TRIPLE_FAULT);
	e = run(vm, 1); /* every vCPU sees it */
	assert_int_equal(e.exitcode, VM_EXITCODE_SHUTDOWN);
	vm_destroy(vm);
}

/* A vCPU leaves long mode through the VM API for a 32-bit protected-mode
 * entry (PVH, Multiboot) and for real mode (INIT/SIPI): the code then
 * runs as 32- or 16-bit code, with segment bases as loaded. */
static void enter_mode(struct vm *vm, uint64_t cr0, uint16_t cs, uint16_t ds)
{
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_CR0, cr0), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_EFER, 0), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_CR4, 0), 0);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_EFER) & (1u << 10), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_CS, cs), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DS, ds), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_SS, ds), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 0), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
}

static void test_32bit_protected_mode_entry(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, inc32_start, inc32_end);
	/* GDT slot 3 (0x18): flat 32-bit code; slot 2 (0x10) is flat data. */
	uint64_t code32 = 0x00cf9b000000ffffULL;
	assert_int_equal(vm_write_gpa(vm, 0x1018, &code32, 8), 0);
	enter_mode(vm, 0x11, 0x18, 0x10); /* PE|ET, paging off */
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RCX), 2);
	vm_destroy(vm);
}

static void test_real_mode_entry(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	/* As after SIPI with vector 0x10: CS 0x1000 (base 0x10000), IP 0;
	 * the hlt is found at CS:IP, not at linear IP. */
	uint8_t code[] = { 0x66, 0x41, 0x66, 0x41, 0xf4 }; /* inc ecx x2 */
	assert_int_equal(vm_write_gpa(vm, 0x10000, code, sizeof(code)), 0);
	enter_mode(vm, 0x10, 0x1000, 0); /* ET only: real mode */
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, 0), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RCX), 2);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RIP), sizeof(code));
	vm_destroy(vm);
}

/* An AP waiting for SIPI starts only when the BSP sends INIT and STARTUP
 * through its LAPIC, in real mode at vector << 12. */
static void test_init_sipi_starts_ap(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	uint8_t code[] = { 0x66, 0x41, 0x66, 0x41, 0xf4 }; /* inc ecx x2 */
	assert_int_equal(vm_write_gpa(vm, 0x10000, code, sizeof(code)), 0);
	tg_load(vm, sipi_sender_start, sipi_sender_end);
	assert_int_equal(vm_set_wait_for_sipi(vm, 1), 0);
	/* Until its SIPI the AP shows the INIT state at the reset vector. */
	struct vm_vcpu_info info;
	assert_int_equal(vm_get_vcpu_info(vm, 1, &info), 0);
	assert_true(info.waiting_for_sipi);
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_CS), 0xf000);
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_RIP), 0xfff0);
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_CR0), 0x60000010);
	for (int i = 0; i < 2; i++)
		assert_int_equal(vm_set_capability(vm, i, VM_CAP_HALT_EXIT, 1),
				 0);
	assert_int_equal(vm_set_register(vm, 1, VM_REG_GUEST_RCX, 7), 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	struct vm_exit e = run(vm, 1);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	/* INIT cleared RCX; the trampoline's two increments ran. */
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_RCX), 2);
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_CS), 0x1000);
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_RIP), sizeof(code));
	assert_int_equal(vm_get_vcpu_info(vm, 1, &info), 0);
	assert_false(info.waiting_for_sipi);
	vm_destroy(vm);
}

/* An AP asleep in hlt with interrupts off (an offlined Linux CPU) is
 * brought back by INIT and STARTUP: the INIT ends the hlt, and the AP
 * runs the real-mode code at the vector, as when it first started. */
static void test_init_sipi_restarts_halted_ap(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	/* inc ecx x2, then an OUT that ends the run with an exit */
	uint8_t code[] = { 0x66, 0x41, 0x66, 0x41, 0xe6, 0x80 };
	assert_int_equal(vm_write_gpa(vm, 0x10000, code, sizeof(code)), 0);
	tg_load(vm, sipi_sender_start, sipi_sender_end);
	const uint8_t cli_hlt[] = { 0xfa, 0xf4, 0xeb, 0xfd }; /* cli; hlt; jmp */
	assert_int_equal(vm_write_gpa(vm, 0x20000, cli_hlt, sizeof(cli_hlt)),
			 0);
	assert_int_equal(vm_set_register(vm, 1, VM_REG_GUEST_RIP, 0x20000), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	struct tg_runner ap;
	tg_runner_start(&ap, vm, 1);
	assert_true(reaches_hlt(vm, 1, EVENT_WAIT_MS));
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	/* A hlt the INIT did not end sleeps for ever: end it, then fail. */
	bool woke = halted_becomes(vm, 1, false, EVENT_WAIT_MS);
	if (!woke)
		vm_request_shutdown(vm, VM_SHUTDOWN_REQUESTED, 0);
	tg_runner_join(&ap);
	assert_true(woke);
	assert_int_equal(ap.exit.exitcode, VM_EXITCODE_INOUT);
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_RCX), 2);
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_CS), 0x1000);
	assert_int_equal(tg_reg(vm, 1, VM_REG_GUEST_CR0) & 1, 0);
	vm_destroy(vm);
}

static void test_write_gpa_retranslates(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, patch_start, patch_end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 1);
	uint32_t imm = 2;
	assert_int_equal(vm_write_gpa(vm, SNIP_ADDR(patch, imm) + 1, &imm, 4),
			 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, SNIP_BASE), 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 2);
	vm_destroy(vm);
}

/* A guest that runs a function, rewrites its immediate (1 -> 2) with a
 * guest store and runs it again: the second call must see the rewrite. */
static void assert_rewrite_seen(const uint8_t *start, const uint8_t *end)
{
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, start, end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 1), 1);
	assert_int_equal(tg_data(vm, 2), 2);
	vm_destroy(vm);
}

/* Unicorn's self-modifying-code check: a guest store into translated code
 * counts. */
static void test_guest_smc_retranslates(void **state)
{
	(void)state;
	assert_rewrite_seen(smc_start, smc_end);
}

/* A store to other bytes of the code's page first: the patch after it
 * must not skip the check (Unicorn 2.1.1 stops checking a page's stores
 * after the first one that hits no code, tcg_code_coherence.c). */
static void test_guest_smc_after_data_store_retranslates(void **state)
{
	(void)state;
	assert_rewrite_seen(smc_data_start, smc_data_end);
}

/* A page first written as data (its TLB entry then skips the SMC check)
 * and then run as code gets the check back: the rewrite must be seen. */
static void test_guest_jit_page_retranslates(void **state)
{
	(void)state;
	assert_rewrite_seen(jit_start, jit_end);
}

/* A store by one vCPU into code another vCPU has translated (each vCPU has
 * its own engine and translation cache) is seen by that vCPU the next time
 * it runs the code. */
static void test_cross_vcpu_code_write_seen(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	const uint8_t func[] = { 0xb8, 1, 0, 0, 0, 0xc3 }; /* mov $1,%eax; ret */
	assert_int_equal(vm_write_gpa(vm, 0x302000, func, sizeof(func)), 0);
	tg_load(vm, xmod_patcher_start, xmod_patcher_end);
	assert_int_equal(tg_load_other(vm, 1, xmod_caller_start,
				       xmod_caller_end), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(vm_set_capability(vm, i, VM_CAP_HALT_EXIT, 1),
				 0);
	assert_int_equal(run(vm, 1).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 1), 1);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT); /* patched */
	assert_int_equal(run(vm, 1).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 2), 2);
	vm_destroy(vm);
}

/* The same, when the writer had stored into the page before the other
 * vCPU translated code from it: its stores must be checked from then on
 * (tcg_code_coherence.c). */
static void test_cross_vcpu_code_write_after_earlier_store_seen(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	const uint8_t func[] = { 0xb8, 7, 0, 0, 0, 0xc3 }; /* mov $7,%eax; ret */
	assert_int_equal(vm_write_gpa(vm, 0x302000, func, sizeof(func)), 0);
	tg_load(vm, xmod_prewriter_start, xmod_prewriter_end);
	assert_int_equal(tg_load_other(vm, 1, xmod_caller_start,
				       xmod_caller_end), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(vm_set_capability(vm, i, VM_CAP_HALT_EXIT, 1),
				 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT); /* 7 -> 1 */
	assert_int_equal(run(vm, 1).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 1), 1);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT); /* 1 -> 2 */
	assert_int_equal(run(vm, 1).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 2), 2);
	vm_destroy(vm);
}

/* Unicorn 2.0.1 sent every guest store through its dirty-page slow path
 * (10M stores ~1.6 s; hvgdb worked around it until the move to 2.1, whose
 * own dirty tracking takes ~0.1 s). The bound leaves room for a loaded
 * host and fails on that slow path. */
static void test_guest_stores_are_not_slow(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, stores_start, stores_end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 10000000), 0);
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	double cpu_s = (double)(b.tv_sec - a.tv_sec) +
		       (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_int_equal(tg_data(vm, 0), 1);
	print_message("10M guest stores: %.3f s of CPU\n", cpu_s);
	assert_true(cpu_s < 1.2);
	vm_destroy(vm);
}

/* ---- Interrupts and hlt -------------------------------------------------- */

/* A guest that sleeps until an interrupt would hang the test if the
 * interrupt never came: a watchdog shuts the VM down after EVENT_WAIT_MS
 * instead, and the run fails with the reason. */
struct watchdog {
	struct vm *vm;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += EVENT_WAIT_MS / 1000;
	pthread_mutex_lock(&w->mu);
	int rc = 0;
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &until);
	bool fire = !w->done;
	pthread_mutex_unlock(&w->mu);
	if (fire)
		vm_request_shutdown(w->vm, VM_SHUTDOWN_REQUESTED, 0);
	return NULL;
}

static struct vm_exit run_guarded(struct vm *vm, int vcpu)
{
	struct watchdog w = { .vm = vm, .mu = PTHREAD_MUTEX_INITIALIZER,
			      .cv = PTHREAD_COND_INITIALIZER };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, watchdog_main, &w), 0);
	struct vm_exit e;
	int rc = vm_run(vm, vcpu, &e);
	pthread_mutex_lock(&w.mu);
	w.done = true;
	pthread_cond_signal(&w.cv);
	pthread_mutex_unlock(&w.mu);
	pthread_join(th, NULL);
	assert_int_equal(rc, 0);
	if (e.exitcode == VM_EXITCODE_SHUTDOWN &&
	    e.u.shutdown.reason == VM_SHUTDOWN_REQUESTED)
		fail_msg("the guest did not finish within %d s (asleep in "
			 "hlt for good?)", EVENT_WAIT_MS / 1000);
	return e;
}

static void test_hlt_wakes_on_timer(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, timer_start, timer_end);
	tg_set_gate(vm, 0x40, SNIP_ADDR(timer, handler));
	double t0 = now_ms();
	struct vm_exit e = run_guarded(vm, 0);
	double ms = now_ms() - t0;
	assert_int_equal(e.exitcode, VM_EXITCODE_SHUTDOWN);
	assert_int_equal(e.u.shutdown.reason, VM_SHUTDOWN_EXIT_DEVICE);
	assert_int_equal(e.u.shutdown.status, (0x21 << 1) | 1);
	assert_int_equal(tg_data(vm, 0), 1);
	assert_true(ms >= 0.2); /* 200 us one-shot at 1 GHz / 1 */
	vm_destroy(vm);
}

/* The same through the x2APIC MSRs and the TSC-deadline timer: the
 * deadline fires once, not before the TSC reaches it, the MSR reads 0 in
 * the handler, and EOI and SELF IPI work as MSR writes. */
static void test_x2apic_tsc_deadline_timer(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, x2timer_start, x2timer_end);
	tg_set_gate(vm, 0x40, SNIP_ADDR(x2timer, handler));
	tg_set_gate(vm, 0x42, SNIP_ADDR(x2timer, ipi_handler));
	double t0 = now_ms();
	struct vm_exit e = run_guarded(vm, 0);
	double ms = now_ms() - t0;
	assert_int_equal(e.exitcode, VM_EXITCODE_SHUTDOWN);
	assert_int_equal(e.u.shutdown.status, (0x22 << 1) | 1);
	assert_int_equal(tg_data(vm, 0), 1); /* one timer interrupt */
	assert_int_equal(tg_data(vm, 1), 1); /* one self IPI */
	assert_int_equal(tg_data(vm, 2), 0); /* fired: the MSR reads 0 */
	assert_true(tg_data(vm, 4) >= tg_data(vm, 3)); /* not early */
	assert_true(ms >= 0.2);
	vm_destroy(vm);
}

/* An interrupt that became pending while interrupts were off is taken as
 * soon as the guest turns them on (after sti's one-instruction shadow),
 * not at the engine's next stop for another reason (a 10 ms slice end, or
 * never while a higher-priority timer wins every stop: Linux's serial
 * interrupt was starved that way). */
static void test_interrupt_taken_after_sti(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, irqafter_start, irqafter_end);
	tg_set_gate(vm, 0x41, SNIP_ADDR(irqafter, handler));
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	print_message("count at the interrupt: %llu\n",
		      (unsigned long long)tg_data(vm, 1));
	/* The counting loop is one block: a stop at its start after sti. */
	assert_true(tg_data(vm, 1) <= 2);
	vm_destroy(vm);
}

/* The guest clock stands still while the debugger holds every vCPU, and
 * only then (QEMU's TCG does the same): a kernel stopped at a breakpoint
 * must not see the time pass (RCU stall and watchdog reports). */
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void test_guest_clock_stops_while_held(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	assert_int_equal(vm_suspend_cpu(vm, 0), 0);
	uint64_t t0 = vm_guest_ns(vm);
	sleep_ms(100); /* one vCPU held: time goes on */
	uint64_t t1 = vm_guest_ns(vm);
	assert_true(t1 - t0 >= 90000000ULL);
	assert_int_equal(vm_suspend_cpu(vm, 1), 0); /* every vCPU held */
	uint64_t t2 = vm_guest_ns(vm);
	sleep_ms(300);
	uint64_t t3 = vm_guest_ns(vm);
	assert_int_equal(t3, t2);
	double h0 = now_ms();
	assert_int_equal(vm_resume_cpu(vm, 1), 0);
	sleep_ms(100);
	uint64_t t4 = vm_guest_ns(vm);
	double h1 = now_ms();
	/* It goes on from where it stood: no more than the host time since
	 * the resume, not the 300 ms it was held. */
	assert_true(t4 - t3 >= 90000000ULL);
	assert_true((double)(t4 - t3) / 1e6 <= h1 - h0 + 1.0);
	vm_destroy(vm);
}

/* vCPU 1 runs the waitirq snippet on its thread until it sleeps in hlt;
 * an IPI from vCPU 0's sender snippet (or, by_device, a LAPIC interrupt
 * from this thread, which may also come before the sleep) wakes it to
 * count in its handler; its cli; hlt then sleeps for ever, ended by a
 * suspend. */
static void wake_vcpu1_from_hlt(struct vm *vm, bool by_device)
{
	struct tg_runner r1;

	tg_set_data(vm, 0, 0);
	assert_int_equal(vm_set_register(vm, 1, VM_REG_GUEST_RIP, SNIP_BASE), 0);
	tg_runner_start(&r1, vm, 1);
	bool asleep = reaches_hlt(vm, 1, EVENT_WAIT_MS);
	if (by_device) {
		assert_int_equal(vm_lapic_irq(vm, 1, 0x41), 0);
	} else {
		assert_true(asleep);
		assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	}
	assert_int_equal(data_after_wait(vm, 0, EVENT_WAIT_MS), 1);
	vm_suspend_cpu(vm, 1);
	tg_runner_join(&r1);
	assert_int_equal(r1.rc, 0);
	assert_int_equal(r1.exit.exitcode, VM_EXITCODE_SUSPENDED);
}

static void test_hlt_wakes_on_ipi(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	tg_load(vm, waitirq_start, waitirq_end);
	/* vCPU 0 runs the sender at its own address. */
	assert_int_equal(tg_load_other(vm, 0, sendipi_start, sendipi_end), 0);
	tg_set_gate(vm, 0x41, SNIP_ADDR(waitirq, handler));
	for (int i = 0; i < 2; i++)
		assert_int_equal(vm_set_capability(vm, i, VM_CAP_HALT_EXIT,
						   i == 0), 0);
	wake_vcpu1_from_hlt(vm, false);

	/* A logical-mode IPI to the LDR vCPU 1 set (vCPU 0 has LDR 0). */
	assert_int_equal(tg_load_other(vm, 0, sendipi_logical_start,
				       sendipi_logical_end), 0);
	vm_resume_cpu(vm, 1);
	wake_vcpu1_from_hlt(vm, false);

	/* And a device-style interrupt from another thread. */
	vm_resume_cpu(vm, 1);
	wake_vcpu1_from_hlt(vm, true);
	vm_destroy(vm);
}

static void test_mask_hwintr_while_stepping(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, spin_start, spin_end);
	tg_set_gate(vm, 0x42, SNIP_ADDR(spin, handler));
	uint32_t svr = 0x1ff;
	(void)svr;
	/* Run a few instructions so IF=1, then make an interrupt pending. */
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_MTRAP_EXIT, 1), 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_MTRAP); /* sti */
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RFLAGS) & 0x200, 0x200);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_MASK_HWINTR, 1), 0);
	assert_int_equal(vm_lapic_irq(vm, 0, 0x42), 0);
	uint64_t spin_loop = SNIP_BASE + 1;
	for (int i = 0; i < 20; i++) {
		struct vm_exit e = run(vm, 0);
		assert_int_equal(e.exitcode, VM_EXITCODE_MTRAP);
		assert_true(e.rip >= spin_loop && e.rip < spin_loop + 12);
	}
	assert_int_equal(tg_data(vm, 1), 0);
	vm_destroy(vm);
}

/* ---- SMP ----------------------------------------------------------------- */

#define LOCK_ITERS 200000

static void check_lock_inc(unsigned ncpus)
{
	struct vm *vm = tg_create(ncpus, VM_CPU_VENDOR_INTEL);
	tg_load(vm, lockinc_start, lockinc_end);
	for (unsigned i = 0; i < ncpus; i++) {
		assert_int_equal(vm_set_capability(vm, (int)i, VM_CAP_HALT_EXIT,
						   1), 0);
		assert_int_equal(vm_set_register(vm, (int)i, VM_REG_GUEST_RCX,
						 LOCK_ITERS), 0);
	}
	assert_int_equal(tg_run_all(vm, ncpus, VM_EXITCODE_HLT), 0);
	assert_int_equal(tg_data(vm, 0), (uint64_t)ncpus * LOCK_ITERS);
	vm_destroy(vm);
}

static void test_lock_inc_4(void **state)
{
	(void)state;
	check_lock_inc(4);
}

static void test_lock_inc_8(void **state)
{
	(void)state;
	check_lock_inc(8);
}

static void test_suspend_resume_stress(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	tg_load(vm, spin_start, spin_end);
	/* vCPU 1 sleeps in hlt (cli; hlt), vCPU 0 spins. */
	const uint8_t clihlt[] = { 0xFA, 0xF4, 0xEB, 0xFD };
	assert_int_equal(tg_load_other(vm, 1, clihlt, clihlt + sizeof(clihlt)),
			 0);
	struct tg_looper l[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		l[i] = (struct tg_looper){ .vm = vm, .vcpu = i };
		pthread_create(&th[i], NULL, tg_looper_main, &l[i]);
	}
	const int rounds = 2000;
	for (int n = 1; n <= rounds; n++) {
		assert_int_equal(vm_suspend_cpu(vm, -1), 0);
		for (int i = 0; i < 2; i++) {
			/* every suspend must be seen: no lost wake-up */
			double give_up = now_ms() + EVENT_WAIT_MS;
			while (atomic_load(&l[i].suspended_exits) < n) {
				struct timespec ts = { 0, 50000 };
				nanosleep(&ts, NULL);
				assert_true(now_ms() < give_up);
			}
		}
		assert_int_equal(vm_resume_cpu(vm, -1), 0);
		/* wait until both have left their park before suspending
		 * again, or a quick resume/suspend pair goes unnoticed */
		for (int i = 0; i < 2; i++) {
			double give_up = now_ms() + EVENT_WAIT_MS;
			while (atomic_load(&l[i].resumes_seen) < n) {
				struct timespec ts = { 0, 50000 };
				nanosleep(&ts, NULL);
				assert_true(now_ms() < give_up);
			}
		}
	}
	uint64_t progress = tg_data(vm, 0);
	vm_request_shutdown(vm, VM_SHUTDOWN_REQUESTED, 0);
	for (int i = 0; i < 2; i++) {
		atomic_store(&l[i].quit, true);
		pthread_join(th[i], NULL);
		assert_int_equal(l[i].bad, 0);
	}
	assert_true(progress > 0);
	vm_destroy(vm);
}

/* The share of one host core the process used while the guest idled,
 * and (if asked) the engine entries all four vCPUs made in their run. */
static double idle_cpu_share(struct vm *vm, uint64_t *entries)
{
	struct tg_runner r[4];
	for (int i = 0; i < 4; i++)
		tg_runner_start(&r[i], vm, i);
	/* Measure from when every vCPU has gone to sleep once: under load
	 * a thread may still be doing its start-up (first translation)
	 * long after a fixed settle time (9.7% of a core was measured so,
	 * 100 ms after the start, beside two other test suites). */
	for (int i = 0; i < 4; i++)
		assert_true(reaches_hlt(vm, i, EVENT_WAIT_MS));
	struct timespec settle = { 0, 50000000 };
	nanosleep(&settle, NULL);
	struct timespec c0, c1, w0, w1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	struct timespec idle = { 0, 500000000 };
	nanosleep(&idle, NULL);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	double cpu = (double)(c1.tv_sec - c0.tv_sec) +
		     (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	double wall = (double)(w1.tv_sec - w0.tv_sec) +
		      (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
	double share = cpu / wall;
	vm_request_shutdown(vm, VM_SHUTDOWN_REQUESTED, 0);
	for (int i = 0; i < 4; i++) {
		tg_runner_join(&r[i]);
		assert_int_equal(r[i].exit.exitcode, VM_EXITCODE_SHUTDOWN);
		assert_int_equal(r[i].exit.u.shutdown.reason,
				 VM_SHUTDOWN_REQUESTED);
	}
	if (entries) {
		*entries = 0;
		for (int i = 0; i < 4; i++) /* their threads have ended */
			*entries += vm->vcpus[i]->engine_entries;
	}
	return share;
}

static void test_idle_guest_is_cheap(void **state)
{
	(void)state;
	struct vm *vm = tg_create(4, VM_CPU_VENDOR_INTEL);
	const uint8_t stihlt[] = { 0xFB, 0xF4, 0xEB, 0xFD }; /* sti; hlt; jmp */
	assert_int_equal(vm_write_gpa(vm, SNIP_BASE, stihlt, sizeof(stihlt)), 0);
	double share = idle_cpu_share(vm, NULL);
	print_message("idle: %.2f%% of one core\n", 100.0 * share);
	assert_true(share < 0.02);
	vm_destroy(vm);
}

/* 4 vCPUs asleep in hlt between 100 Hz timer ticks: each tick is one
 * wake-up and one short engine entry, not a spin. Checked by what the
 * vCPUs did (engine entries per tick), which no host load changes, and
 * by a CPU share far below what one spinning vCPU costs (a whole core):
 * the share itself depends on the build (1.7-2.9% with gcc, 8-16% under
 * TSan's instrumentation on CI's busy host) and on the host's load. */
static void test_idle_100hz_guest_is_cheap(void **state)
{
	(void)state;
	double share = 1.0;
	uint64_t most_ticks = 0, entries_then = 0;
	for (int run = 0; run < 3 && (share >= 0.5 || most_ticks < 24);
	     run++) {
		struct vm *vm = tg_create(4, VM_CPU_VENDOR_INTEL);
		tg_load(vm, idle100_start, idle100_end);
		tg_set_gate(vm, 0x40, SNIP_ADDR(idle100, handler));
		uint64_t entries;
		double s = idle_cpu_share(vm, &entries);
		uint64_t ticks = tg_data(vm, 0);
		print_message("idle at 100 Hz: %.2f%% of one core, %llu "
			      "ticks, %llu engine entries\n", 100.0 * s,
			      (unsigned long long)ticks,
			      (unsigned long long)entries);
		share = s < share ? s : share;
		if (ticks > most_ticks) {
			most_ticks = ticks;
			entries_then = entries;
		}
		vm_destroy(vm);
	}
	/* Nominally ~200 ticks (4 vCPUs x 100 Hz, ~0.55 s). A loaded host
	 * loses ticks: a vCPU woken late takes the periods it slept through
	 * as one (as a real LAPIC does); 47 and once 9 were seen with two
	 * other test suites beside it, hence up to three runs. A timer that
	 * does not fire, or a vCPU that never wakes, gives ~0 every time. */
	assert_true(most_ticks >= 24);
	/* A tick is one entry (sometimes two, when the timer fires while
	 * the vCPU is still in the engine); start-up adds a few per vCPU.
	 * A vCPU that returned to the engine instead of sleeping would make
	 * thousands. */
	assert_true(entries_then <= 3 * most_ticks + 64);
	assert_true(share < 0.5);
}

/* PAUSE-loop exiting (tcg_pause.c): a vCPU spinning with PAUSE on a flag
 * that another vCPU sets gives the execution lock up after a few dozen
 * PAUSEs instead of spinning out its 20 ms slices. */
static void test_pause_spinner_yields(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	tg_load(vm, spinwait_start, spinwait_end);
	assert_int_equal(tg_load_other(vm, 1, release_start, release_end), 0);
	assert_int_equal(vm_set_register(vm, 1, VM_REG_GUEST_RCX, 30000000), 0);
	struct tg_runner r[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(vm_set_capability(vm, i, VM_CAP_HALT_EXIT, 1),
				 0);
	/* The worker first: while nobody waits for the lock, spinning on
	 * is right, and a loaded host may start a thread late. */
	double t0 = now_ms();
	tg_runner_start(&r[1], vm, 1);
	while (tg_data(vm, 6) == 0) {
		struct timespec ts = { 0, 100000 };
		nanosleep(&ts, NULL);
	}
	tg_runner_start(&r[0], vm, 0);
	for (int i = 0; i < 2; i++) {
		tg_runner_join(&r[i]);
		assert_int_equal(r[i].exit.exitcode, VM_EXITCODE_HLT);
	}
	double ms = now_ms() - t0;
	uint64_t spins = tg_data(vm, 5);
	print_message("spinner: %llu turns in %.0f ms\n",
		      (unsigned long long)spins, ms);
	assert_int_equal(tg_data(vm, 4), 1);
	/* Yielding: <= 64 turns per 20 ms slice of the worker, ~3 per ms.
	 * Spinning out its slices: ~8,000 per ms (measured with the limit
	 * raised out of reach). */
	assert_true((double)spins < 100.0 * ms);
	vm_destroy(vm);
}

static double compute_time_ms(unsigned ncpus, uint64_t iters_each)
{
	struct vm *vm = tg_create(ncpus, VM_CPU_VENDOR_INTEL);
	tg_load(vm, compute_start, compute_end);
	for (unsigned i = 0; i < ncpus; i++) {
		vm_set_capability(vm, (int)i, VM_CAP_HALT_EXIT, 1);
		vm_set_register(vm, (int)i, VM_REG_GUEST_RCX, iters_each);
	}
	double t0 = now_ms();
	assert_int_equal(tg_run_all(vm, ncpus, VM_EXITCODE_HLT), 0);
	double ms = now_ms() - t0;
	vm_destroy(vm);
	return ms;
}

static void test_smp_throughput(void **state)
{
	(void)state;
	const uint64_t total = 40000000;
	/* Best of three: other processes on the host only ever slow a run
	 * down, and the 4-vCPU run (thread handoffs) suffers most. */
	double one = 1e9, four = 1e9;
	for (int i = 0; i < 3; i++) {
		double a = compute_time_ms(1, total);
		double b = compute_time_ms(4, total / 4);
		one = a < one ? a : one;
		four = b < four ? b : four;
	}
	print_message("compute: 1 vCPU %.1f ms, 4 vCPUs %.1f ms (%.2fx)\n",
		      one, four, one / four);
	/* The target, >= 0.9, is measured by bench row 5c (0.87-0.98). This
	 * only catches a gross loss in hand-offs: beside two other test
	 * suites on the 2 cores the best of three went down to 0.66. */
	assert_true(one / four >= 0.5);
}

/* HVGDB_STRESS_KICK_US (stress_kick.h): every executing vCPU is stopped
 * at a block boundary every 100 us and goes on. The compute loop's result
 * must come out exact on both vCPUs, and the stops must really happen:
 * far more engine entries than the same run without the knob. */
static uint64_t stressed_compute_entries(bool parallel, const char *us)
{
	const uint64_t iters = 20000000;
	if (us)
		setenv("HVGDB_STRESS_KICK_US", us, 1);
	struct vm *vm = parallel ? tg_create_parallel(2, VM_CPU_VENDOR_INTEL)
				 : tg_create(2, VM_CPU_VENDOR_INTEL);
	unsetenv("HVGDB_STRESS_KICK_US");
	tg_load(vm, compute_start, compute_end);
	for (int i = 0; i < 2; i++) {
		vm_set_capability(vm, i, VM_CAP_HALT_EXIT, 1);
		vm_set_register(vm, i, VM_REG_GUEST_RCX, iters);
		vm_set_register(vm, i, VM_REG_GUEST_RAX, 1 + (uint64_t)i);
	}
	assert_int_equal(tg_run_all(vm, 2, VM_EXITCODE_HLT), 0);
	uint64_t entries = 0;
	for (int i = 0; i < 2; i++) {
		uint64_t want = 1 + (uint64_t)i;
		for (uint64_t n = 0; n < iters; n++)
			want = want * 3 + 7;
		assert_int_equal(tg_reg(vm, i, VM_REG_GUEST_RAX), want);
		assert_int_equal(tg_reg(vm, i, VM_REG_GUEST_RCX), 0);
		entries += vm->vcpus[i]->engine_entries;
	}
	vm_destroy(vm);
	return entries;
}

static void test_stress_kick(void **state)
{
	(void)state;
	for (int parallel = 0; parallel < 2; parallel++) {
		uint64_t calm = stressed_compute_entries(parallel, NULL);
		uint64_t stormy = stressed_compute_entries(parallel, "100");
		print_message("%s: %llu engine entries, %llu with a stop every "
			      "100 us\n", parallel ? "parallel" : "serial",
			      (unsigned long long)calm,
			      (unsigned long long)stormy);
		/* ~0.4 s of guest work each: thousands of stops, against a
		 * few dozen slices and timer polls without the knob. */
		assert_true(stormy >= 4 * calm && stormy >= 200);
	}
	const char *bad[] = { "0", "-5", "1000001", "12us", "" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("HVGDB_STRESS_KICK_US", bad[i], 1);
		struct vm_config c = { .ncpus = 1, .mem_size = TG_MEM,
				       .vendor = VM_CPU_VENDOR_INTEL,
				       .backend = VM_BACKEND_TCG };
		struct vm *vm = NULL;
		char err[128] = "";
		int rc = vm_create(&c, &vm, err, sizeof(err));
		unsetenv("HVGDB_STRESS_KICK_US");
		if (!*bad[i]) { /* empty: unset */
			assert_int_equal(rc, 0);
			vm_destroy(vm);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		assert_non_null(strstr(err, "HVGDB_STRESS_KICK_US must be"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects_bad_config),
		cmocka_unit_test(test_exec_mode),
		cmocka_unit_test(test_startup_is_fast),
		cmocka_unit_test(test_memory_bounds),
		cmocka_unit_test(test_registers_roundtrip),
		cmocka_unit_test(test_peek_device_reads_own_lapic),
		cmocka_unit_test(test_caps_per_personality),
		cmocka_unit_test(test_step_intel),
		cmocka_unit_test(test_step_amd),
		cmocka_unit_test(test_step_then_run_counts_once),
		cmocka_unit_test(test_bpt_exit_on),
		cmocka_unit_test(test_bpt_exit_off),
		cmocka_unit_test(test_inject_bp_intel),
		cmocka_unit_test(test_inject_bp_amd),
		cmocka_unit_test(test_unknown_ports),
		cmocka_unit_test(test_hlt_exit_survives_full_exit_queue),
		cmocka_unit_test(test_unmapped_is_guest_fault),
		cmocka_unit_test(test_triple_fault_exits_with_state_kept),
		cmocka_unit_test(test_32bit_protected_mode_entry),
		cmocka_unit_test(test_real_mode_entry),
		cmocka_unit_test(test_init_sipi_starts_ap),
		cmocka_unit_test(test_init_sipi_restarts_halted_ap),
		cmocka_unit_test(test_interrupt_taken_after_sti),
		cmocka_unit_test(test_guest_clock_stops_while_held),
		cmocka_unit_test(test_cross_vcpu_code_write_seen),
		cmocka_unit_test(test_cross_vcpu_code_write_after_earlier_store_seen),
		cmocka_unit_test(test_write_gpa_retranslates),
		cmocka_unit_test(test_guest_smc_retranslates),
		cmocka_unit_test(test_guest_smc_after_data_store_retranslates),
		cmocka_unit_test(test_guest_jit_page_retranslates),
		cmocka_unit_test(test_guest_stores_are_not_slow),
		cmocka_unit_test(test_hlt_wakes_on_timer),
		cmocka_unit_test(test_x2apic_tsc_deadline_timer),
		cmocka_unit_test(test_hlt_wakes_on_ipi),
		cmocka_unit_test(test_mask_hwintr_while_stepping),
		cmocka_unit_test(test_lock_inc_4),
		cmocka_unit_test(test_lock_inc_8),
		cmocka_unit_test(test_suspend_resume_stress),
		cmocka_unit_test(test_idle_guest_is_cheap),
		cmocka_unit_test(test_idle_100hz_guest_is_cheap),
		cmocka_unit_test(test_smp_throughput),
		cmocka_unit_test(test_stress_kick),
		cmocka_unit_test(test_pause_spinner_yields),
	};
	if (getenv("VMM_TEST")) /* run one test while debugging */
		cmocka_set_test_filter(getenv("VMM_TEST"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
