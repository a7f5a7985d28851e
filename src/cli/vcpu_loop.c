/* The per-vCPU run loop (see vcpu_loop.h). */
#include "cli/vcpu_loop.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/report.h"
#include "cli/startup_trace.h"
#include "hvgdb/gdbstub.h"

/* Status a crashed guest leaves hvgdb with. */
#define GUEST_CRASH_STATUS 3
#define BP_VECTOR 3
/* SIGSEGV: how a crashed vCPU is reported to the debugger. */
#define CRASH_SIGNAL 11

void vcpu_loop_shared_init(struct vcpu_loop_shared *s, struct vm *vm,
			   struct gdbstub *stub, struct startup_trace *trace,
			   vcpu_loop_vm_over_fn vm_over, void *vm_over_ctx)
{
	s->vm = vm;
	s->stub = stub;
	s->trace = trace;
	s->vm_over = vm_over;
	s->vm_over_ctx = vm_over_ctx;
	atomic_init(&s->fault_reported, false);
	atomic_init(&s->shutdown_reason, -1);
	atomic_init(&s->crash_reason, -1);
}

/*
 * A #BP exit with no debug server: hand the guest its own #BP, exactly as
 * the server does for a breakpoint that is not its own. Only reachable if
 * something enabled VM_CAP_BPT_EXIT; kept so that the exit is never lost.
 */
static void reinject_guest_breakpoint(struct vm *vm, int vcpu,
				      int inst_length)
{
	if (vm_cpu_vendor(vm) == VM_CPU_VENDOR_INTEL) {
		vm_set_register(vm, vcpu, VM_REG_GUEST_ENTRY_INST_LENGTH,
				(uint64_t)inst_length);
	} else {
		uint64_t rip;

		/* amd has no entry length: return RIP is RIP itself. */
		if (vm_get_register(vm, vcpu, VM_REG_GUEST_RIP, &rip) == 0)
			vm_set_register(vm, vcpu, VM_REG_GUEST_RIP,
					rip + (uint64_t)inst_length);
	}
	vm_inject_exception(vm, vcpu, BP_VECTOR, 0, 0, 0);
}

/* The backend's reason without a "vCPU n: " of its own: we name the vCPU. */
static const char *fault_reason(const struct vm_exit *exit, int vcpu)
{
	const char *r = exit->u.fault.reason;
	char prefix[24];
	size_t n;

	if (!r[0])
		return "unknown";
	n = (size_t)snprintf(prefix, sizeof(prefix), "vCPU %d: ", vcpu);
	if (strncmp(r, prefix, n) == 0 && r[n])
		return r + n;
	return r;
}

/*
 * A guest crash (a fatal fault, a triple fault, or a guest declared dead).
 * The first one gets the one line on stderr; later ones (other vCPUs
 * racing) are consequences and stay quiet. With a debugger attached, the crash is first reported to it
 * as a signal stop on this vCPU, and this thread stays parked (state
 * inspectable) until the debugger resumes this vCPU, detaches or kills
 * the VM; then the VM ends as it would have without a debugger.
 */
static void end_vm_on_crash(struct vcpu_loop_shared *s, int vcpu,
			    const struct vm_exit *exit,
			    enum vm_shutdown_reason reason)
{
	bool expected = false;
	char what[160];

	if (reason == VM_SHUTDOWN_TRIPLE_FAULT)
		snprintf(what, sizeof(what), "triple fault at 0x%llx",
			 (unsigned long long)exit->rip);
	else if (exit->exitcode == VM_EXITCODE_GUEST_DEAD)
		snprintf(what, sizeof(what), "%s (rip 0x%llx)",
			 exit->u.fault.reason, (unsigned long long)exit->rip);
	else
		snprintf(what, sizeof(what), "guest fault at rip 0x%llx: %s",
			 (unsigned long long)exit->rip,
			 fault_reason(exit, vcpu));
	if (atomic_compare_exchange_strong(&s->fault_reported, &expected,
					   true))
		report_error("vCPU %d: %s", vcpu, what);
	int none = -1;
	atomic_compare_exchange_strong(&s->crash_reason, &none, (int)reason);
	gdbstub_vcpu_crashed(s->stub, vcpu, CRASH_SIGNAL, what);
	vm_request_shutdown(s->vm, reason, GUEST_CRASH_STATUS);
}

static void record_shutdown(struct vcpu_loop_shared *s,
			    const struct vm_exit *exit)
{
	int none = -1;

	if (atomic_compare_exchange_strong(&s->shutdown_reason, &none,
					   (int)exit->u.shutdown.reason) &&
	    s->vm_over)
		s->vm_over(s->vm_over_ctx, (int)exit->u.shutdown.reason);
}

static enum gdb_watch_type gdb_watch_type_of(const struct vm_exit *exit)
{
	switch (exit->u.watch.kind) {
	case VM_WATCH_EXEC:
		return GDB_HW_BREAKPOINT;
	case VM_WATCH_WRITE:
		return GDB_WATCH_WRITE;
	case VM_WATCH_READ:
		return GDB_WATCH_READ;
	case VM_WATCH_ACCESS:
		break;
	}
	return GDB_WATCH_ACCESS;
}

/* Returns false when this vCPU is done. */
static bool dispatch_exit(struct vcpu_loop_shared *s, int vcpu,
			  const struct vm_exit *exit)
{
	switch (exit->exitcode) {
	case VM_EXITCODE_SUSPENDED:
		gdbstub_vcpu_suspended(s->stub, vcpu);
		return true;
	case VM_EXITCODE_BPT:
		if (s->stub)
			gdbstub_vcpu_breakpoint(s->stub, vcpu,
						exit->u.bpt.inst_length);
		else
			reinject_guest_breakpoint(s->vm, vcpu,
						  exit->u.bpt.inst_length);
		return true;
	case VM_EXITCODE_MTRAP:
	case VM_EXITCODE_DB:
		gdbstub_vcpu_step_trap(s->stub, vcpu);
		return true;
	case VM_EXITCODE_WATCH:
		/* Only a debugger inserts watches (and takes them out when it
		 * leaves): without a debug server this cannot happen. */
		gdbstub_vcpu_watch(s->stub, vcpu, gdb_watch_type_of(exit),
				   exit->u.watch.hit);
		return true;
	case VM_EXITCODE_INOUT:
	case VM_EXITCODE_MMIO:
	case VM_EXITCODE_HLT:
		/* Completed by the VM (unknown I/O is logged there). */
		return true;
	case VM_EXITCODE_GUEST_FAULT:
		end_vm_on_crash(s, vcpu, exit, VM_SHUTDOWN_GUEST_FAULT);
		return true;
	case VM_EXITCODE_TRIPLE_FAULT:
		end_vm_on_crash(s, vcpu, exit, VM_SHUTDOWN_TRIPLE_FAULT);
		return true;
	case VM_EXITCODE_GUEST_DEAD: /* a panic, or halted for good */
		end_vm_on_crash(s, vcpu, exit, VM_SHUTDOWN_GUEST_FAULT);
		return true;
	case VM_EXITCODE_SHUTDOWN:
		record_shutdown(s, exit);
		return false;
	}
	/* A backend bug, not the guest's: end the VM rather than loop. */
	if (!atomic_exchange(&s->fault_reported, true))
		report_error("vCPU %d: unknown exit code %d", vcpu,
			     (int)exit->exitcode);
	vm_request_shutdown(s->vm, VM_SHUTDOWN_GUEST_FAULT,
			    GUEST_CRASH_STATUS);
	return true;
}

void *vcpu_loop_main(void *arg)
{
	struct vcpu_thread *t = arg;
	struct vcpu_loop_shared *s = t->shared;
	struct vm_exit exit;

	gdbstub_vcpu_add(s->stub, t->index);
	if (t->index == 0)
		startup_trace_first_run(s->trace);
	for (;;) {
		int rc;

		memset(&exit, 0, sizeof(exit));
		rc = vm_run(s->vm, t->index, &exit);
		if (rc) {
			/* Not the guest's doing: end the VM rather than spin
			 * on a call that keeps failing. */
			report_error("vCPU %d: vm_run failed: %s", t->index,
				     strerror(-rc));
			vm_request_shutdown(s->vm, VM_SHUTDOWN_GUEST_FAULT,
					    GUEST_CRASH_STATUS);
			atomic_store(&s->fault_reported, true);
			break;
		}
		if (!dispatch_exit(s, t->index, &exit))
			break;
	}
	return NULL;
}
