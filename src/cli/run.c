/*
 * `hvgdb run`: the program's wiring. Validate the guest before allocating
 * anything large, then build the VM, its devices and (if asked) the debug
 * server, start one thread per vCPU, and turn the way the VM ended into the
 * process exit status and the debugger's exit reply.
 */
#include "cli/run.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/console_input.h"
#include "cli/exit_device.h"
#include "cli/gdb_target.h"
#include "cli/guest_image.h"
#include "cli/halt_watch.h"
#include "cli/kernel_platform.h"
#include "cli/report.h"
#include "cli/serial_port.h"
#include "cli/signal_watch.h"
#include "cli/vcpu_loop.h"
#include "hvgdb/gdbstub.h"
#include "vmm/boot.h"
#include "vmm/boot_entry.h"

#define KILL_SIGNAL 9     /* what gdb is told after 'k' */
#define CRASH_SIGNAL 11   /* SIGSEGV: what gdb is told after a crash */

struct run_session {
	const struct cli_options *opts;
	struct guest_image image;
	char cmdline[BOOT_CMDLINE_MAX + 1];
	struct vm *vm;
	struct serial_port serial;
	struct exit_device exit_dev;
	struct gdbstub *stub;
	struct signal_watch signals;
	struct console_input *console; /* NULL: no serial input */
	struct halt_watch halts;
	struct vcpu_loop_shared shared;
	struct vcpu_thread *threads;
	struct startup_trace *trace;
	/* Kernel formats only (not the hvgdb ELF protocol). */
	struct kernel_platform platform;
	bool has_platform;
	uint8_t *acpi;     /* the ACPI tables, for KERNEL_ACPI_GPA */
	size_t acpi_size;
};

/* How the VM ended, for the process and for the debugger. */
struct run_outcome {
	int status;
	int gdb_status;
	int gdb_signal;
};

static int prepare_guest(struct run_session *s)
{
	const struct cli_options *o = s->opts;
	char err[256];
	int rc;

	struct guest_request req = {
		.path = o->guest_path,
		.ram_size = o->mem_size,
		.ncpus = o->ncpus,
		.initrd_paths = o->initrd_paths,
		.ninitrds = o->ninitrds,
	};
	const char *cmdline = o->append;

	/* Built before the kernel is read: its loader writes the RSDP
	 * address into the boot information. Unused by hvgdb ELF guests. */
	s->acpi = calloc(1, KERNEL_ACPI_MAX);
	if (!s->acpi) {
		report_error("out of memory");
		return -ENOMEM;
	}
	rc = kernel_platform_tables(o->ncpus, o->mem_size, s->acpi,
				    &req.rsdp_addr, &s->acpi_size);
	if (rc) {
		report_error("cannot build the ACPI tables: %s",
			     strerror(-rc));
		return rc;
	}
	if (!cmdline) {
		rc = boot_build_cmdline(o->guest_argc, o->guest_argv,
					s->cmdline);
		if (rc < 0) {
			report_error("guest command line longer than %d bytes",
				     BOOT_CMDLINE_MAX);
			return rc;
		}
		cmdline = s->cmdline;
	}
	req.cmdline = cmdline;
	rc = guest_image_load(&req, &s->image, err, sizeof(err));
	if (rc) {
		report_error("%s", err);
		return rc;
	}
	if (s->image.format == KERNEL_FORMAT_HVGDB_ELF) {
		if (strlen(cmdline) > BOOT_CMDLINE_MAX) {
			report_error("guest command line longer than %d bytes",
				     BOOT_CMDLINE_MAX);
			return -ENAMETOOLONG;
		}
		if (cmdline != s->cmdline)
			strcpy(s->cmdline, cmdline);
	}
	return 0;
}

/* The kernel formats with a boot plan start on vCPU 0, as a PC's
 * bootstrap processor; the others wait for INIT/SIPI, which the kernel
 * sends them through its local APIC (the MADT lists every vCPU). */
static int load_plan(struct run_session *s, uint8_t *ram)
{
	char err[256] = "";
	int rc = boot_plan_write(s->image.plan, ram, s->opts->mem_size);

	if (rc) {
		report_error("cannot write the boot plan into guest RAM");
		return rc;
	}
	rc = boot_entry_setup(s->vm, 0, &s->image.plan->cpu, err,
			      sizeof(err));
	if (rc) {
		report_error("boot set-up failed: %s", err);
		return rc;
	}
	for (unsigned i = 1; i < s->opts->ncpus && !rc; i++)
		rc = vm_set_wait_for_sipi(s->vm, (int)i);
	if (rc)
		report_error("cannot park the application processors: %s",
			     strerror(-rc));
	return rc;
}

static int build_vm(struct run_session *s)
{
	const struct cli_options *o = s->opts;
	struct vm_config cfg = {
		.ncpus = o->ncpus,
		.mem_size = o->mem_size,
		.vendor = o->vendor,
		.backend = o->backend,
		.code_buffer_mib = o->code_buffer_mib,
		.exec_mode = o->exec_mode,
	};
	char err[256] = "";
	uint8_t *ram;
	int rc;

	rc = vm_create(&cfg, &s->vm, err, sizeof(err));
	if (rc) {
		report_error("cannot create the VM: %s",
			     err[0] ? err : strerror(-rc));
		return rc;
	}
	/* Nothing is translated before the first vm_run, so a plain copy
	 * through the host mapping needs no cache flush. */
	ram = vm_map_gpa(s->vm, 0, o->mem_size);
	if (!ram) {
		report_error("cannot map guest RAM");
		return -EFAULT;
	}
	if (s->image.format != KERNEL_FORMAT_HVGDB_ELF) {
		memcpy(ram + KERNEL_ACPI_GPA, s->acpi, s->acpi_size);
		return load_plan(s, ram);
	}
	elf_copy_segments(s->image.data, &s->image.elf, ram);
	rc = boot_setup(s->vm, s->image.elf.entry, s->cmdline, err,
			sizeof(err));
	if (rc) {
		report_error("boot set-up failed: %s", err);
		return rc;
	}
	return 0;
}

/* Opened before the VM exists so a bad --serial fails fast. */
static int open_serial(struct run_session *s)
{
	const struct cli_options *o = s->opts;
	char err[256];
	int rc;

	rc = serial_port_open(&s->serial, o->serial == CLI_SERIAL_FILE ?
			      o->serial_path : NULL, err, sizeof(err));
	if (rc)
		report_error("%s", err);
	return rc;
}

static int attach_devices(struct run_session *s)
{
	int rc = serial_port_register(&s->serial, s->vm);

	if (!rc)
		rc = exit_device_register(&s->exit_dev, s->vm);
	if (!rc && s->image.format != KERNEL_FORMAT_HVGDB_ELF) {
		s->has_platform = true;
		rc = kernel_platform_create(&s->platform, s->vm, &s->serial);
	}
	if (rc)
		report_error("cannot attach the devices: %s", strerror(-rc));
	return rc;
}

static int start_debug_server(struct run_session *s)
{
	struct gdbstub_config cfg = {
		.listen = s->opts->gdb_listen,
		.wait = s->opts->wait,
		.ops = &gdb_target_vm_ops,
		.ctx = s->vm,
		.log = NULL,
	};
	char err[256] = "";
	int rc;

	if (!s->opts->gdb_listen)
		return 0;
	rc = gdbstub_create(&cfg, &s->stub, err, sizeof(err));
	if (rc) {
		report_error("debug server on %s: %s", s->opts->gdb_listen,
			     err[0] ? err : strerror(-rc));
		return rc;
	}
	/* With port 0 the kernel picks the port: say which, or nobody can
	 * connect. */
	const char *port = strrchr(s->opts->gdb_listen, ':');
	port = port ? port + 1 : s->opts->gdb_listen;
	if (strncmp(s->opts->gdb_listen, "unix:", 5) && !strcmp(port, "0"))
		fprintf(stderr, "hvgdb: debug server listening on port %d\n",
			gdbstub_port(s->stub));
	return 0;
}

/* Ctrl-A x on the console: end the VM as a debugger's kill would (status
 * 0, as QEMU's Ctrl-A x), releasing vCPUs a debugger holds. */
static void quit_from_console(void *ctx)
{
	struct run_session *s = ctx;

	report_error("Ctrl-A x: quitting");
	vm_request_shutdown(s->vm, VM_SHUTDOWN_REQUESTED, 0);
	gdbstub_vm_ended(s->stub, 0, KILL_SIGNAL);
}

/* Last before the vCPUs start: a start-up failure must not have touched
 * the terminal. */
static int start_console_input(struct run_session *s)
{
	struct console_input_ops ops = { .quit = quit_from_console, .ctx = s };
	char err[256] = "";
	int rc;

	if (s->opts->serial != CLI_SERIAL_STDIO)
		return 0; /* a serial file is output only, as in QEMU */
	rc = console_input_start(&s->console, STDIN_FILENO, &s->serial, &ops,
				 err, sizeof(err));
	if (rc)
		report_error("%s", err);
	return rc;
}

/* Pure: the outcome for the way the VM ended (reason -1: unknown). */
static struct run_outcome judge_outcome(struct run_session *s, int reason)
{
	struct run_outcome out = { 0, 0, 0 };
	int sig = signal_watch_caught(&s->signals);
	uint32_t value = 0;

	switch (reason) {
	case VM_SHUTDOWN_EXIT_DEVICE:
		exit_device_value(&s->exit_dev, &value);
		out.status = exit_device_status(value);
		out.gdb_status = (int)(value & 0xff);
		break;
	case VM_SHUTDOWN_POWER_OFF: /* ACPI S5: the guest's own, clean end */
	case VM_SHUTDOWN_RESET:     /* a reboot ends hvgdb (QEMU -no-reboot) */
		break;
	case VM_SHUTDOWN_REQUESTED:
		out.status = sig ? 128 + sig : 0;
		out.gdb_signal = sig ? sig : KILL_SIGNAL;
		/* a debugger's kill of a guest held after its crash: the
		 * status is the crash's, as without a debugger */
		if (!sig && atomic_load(&s->shared.crash_reason) >= 0)
			out.status = RUN_STATUS_GUEST_CRASH;
		break;
	default: /* triple fault, guest fault, or every vCPU loop failed */
		out.status = RUN_STATUS_GUEST_CRASH;
		out.gdb_signal = CRASH_SIGNAL;
		break;
	}
	return out;
}

/* The first vCPU to see the end tells the debugger at once, which also
 * releases vCPUs parked in the server (e.g. held by scheduler-locking). */
static void tell_debugger_vm_over(void *ctx, int reason)
{
	struct run_session *s = ctx;
	struct run_outcome out = judge_outcome(s, reason);

	gdbstub_vm_ended(s->stub, out.gdb_status, out.gdb_signal);
}

/*
 * A crash gets exactly one line, from the vCPU thread that saw it first
 * ("hvgdb: vCPU n: triple fault at RIP" or "... guest fault at rip ...").
 */
static void report_crash(struct run_session *s, int reason)
{
	if (reason < 0 && !atomic_load(&s->shared.fault_reported))
		report_error("the VM ended without a reason");
}

static int run_vcpus(struct run_session *s)
{
	unsigned n = s->opts->ncpus, started = 0;
	int rc = 0;

	vcpu_loop_shared_init(&s->shared, s->vm, s->stub, s->trace,
			      tell_debugger_vm_over, s);
	s->threads = calloc(n, sizeof(*s->threads));
	if (!s->threads) {
		report_error("out of memory");
		return -ENOMEM;
	}
	for (; started < n; started++) {
		struct vcpu_thread *t = &s->threads[started];

		t->shared = &s->shared;
		t->index = (int)started;
		rc = -pthread_create(&t->thread, NULL, vcpu_loop_main, t);
		if (rc) {
			report_error("cannot start vCPU %u: %s", started,
				     strerror(-rc));
			/* The started ones must see the end of the VM. */
			vm_request_shutdown(s->vm, VM_SHUTDOWN_REQUESTED,
					    RUN_STATUS_USAGE);
			gdbstub_vm_ended(s->stub, 0, KILL_SIGNAL);
			break;
		}
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(s->threads[i].thread, NULL);
	return rc;
}

static void teardown(struct run_session *s)
{
	halt_watch_stop(&s->halts);
	console_input_stop(s->console);
	s->console = NULL;
	signal_watch_stop(&s->signals);
	gdbstub_destroy(s->stub);
	s->stub = NULL;
	if (s->has_platform)
		kernel_platform_stop(&s->platform);
	if (s->vm)
		vm_destroy(s->vm);
	s->vm = NULL;
	if (s->has_platform)
		kernel_platform_destroy(&s->platform);
	s->has_platform = false;
	free(s->acpi);
	s->acpi = NULL;
	serial_port_close(&s->serial);
	free(s->threads);
	guest_image_free(&s->image);
}

int run_guest(const struct cli_options *opts, struct startup_trace *trace)
{
	struct run_session s;
	struct run_outcome out;
	int rc, reason;

	memset(&s, 0, sizeof(s));
	s.opts = opts;
	s.trace = trace;
	/* A debugger or a reader of our stdout that goes away must not kill
	 * hvgdb: the write fails and we carry on. */
	signal(SIGPIPE, SIG_IGN);
	if (signal_watch_block(&s.signals)) {
		report_error("cannot block signals");
		return RUN_STATUS_USAGE;
	}
	if (prepare_guest(&s) || open_serial(&s) || build_vm(&s) ||
	    attach_devices(&s) ||
	    start_debug_server(&s)) {
		teardown(&s);
		return RUN_STATUS_USAGE;
	}
	rc = signal_watch_start(&s.signals, s.vm, s.stub);
	if (rc) {
		report_error("cannot start the signal thread: %s",
			     strerror(-rc));
		teardown(&s);
		return RUN_STATUS_USAGE;
	}
	if (start_console_input(&s)) {
		teardown(&s);
		return RUN_STATUS_USAGE;
	}
	rc = halt_watch_start(&s.halts, s.vm);
	if (rc) {
		report_error("cannot start the halt watch: %s", strerror(-rc));
		teardown(&s);
		return RUN_STATUS_USAGE;
	}
	rc = run_vcpus(&s);
	reason = atomic_load(&s.shared.shutdown_reason);
	out = judge_outcome(&s, reason);
	/* Usually done already by tell_debugger_vm_over; then a no-op. */
	gdbstub_vm_ended(s.stub, out.gdb_status, out.gdb_signal);
	serial_port_flush(&s.serial);
	report_crash(&s, reason);
	teardown(&s);
	return rc ? RUN_STATUS_USAGE : out.status;
}
