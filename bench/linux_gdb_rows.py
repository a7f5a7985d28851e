"""Row 15: gdb on a running Debian Linux, hvgdb against QEMU -gdb, the same
kernel (the integration test's cached vmlinux, PVH entry), command line and
initramfs: the kernel debugging test's (tests/kernels/debug-init.sh), whose
/init prints kernel addresses from /proc/kallsyms and keeps one trapper
per CPU calling getpid() in a loop. One gdb session per run measures, in
order: breakpoint hits/s on __x64_sys_getpid, stepi/s from there, and a
16 MiB dump at a kernel virtual address: the kernel's image (from its
physical start, /proc/iomem's "Kernel code") through the kernel's direct
map. Not at _text: with the Intel CPU model Linux turns page-table
isolation on and unmaps the gap after its text (QEMU's AMD model does
not), so that range cannot be read whole under hvgdb."""

import os
import re
import subprocess
import tempfile
import time

import targets
from gdb_driver import run_row
from linux_rows import kernel, missing_kernel, MEMORY

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_TESTS = os.path.join(HERE, "..", "tests", "kernels")
READY = "hvgdb-debug: ready"
SYMBOL = re.compile(r"hvgdb-debug: sym (\S+) ([0-9a-f]+)")
KERNEL_CODE = re.compile(r"hvgdb-debug: kernel-code ([0-9a-f]+)")
MEM_SIZE = 16 << 20
# Longer than any run: the trappers must keep calling getpid until the
# bench kills the guest (the kernel passes TRAP_SECONDS to /init).
APPEND = "console=ttyS0 TRAP_SECONDS=1000000"


def debug_initrd(cfg):
    """The kernel debugging test's initramfs, built as that test builds it
    (trapper.c static, debug-init.sh as /init) into the build tree."""
    out_dir = os.path.join(cfg.build, "linux-boot")
    os.makedirs(out_dir, exist_ok=True)
    source = os.path.join(KERNEL_TESTS, "trapper.c")
    trapper = os.path.join(out_dir, "trapper")
    if not os.path.exists(trapper) or \
            os.path.getmtime(trapper) < os.path.getmtime(source):
        subprocess.run([os.environ.get("CC", "cc"), "-static", "-O2", "-o",
                        trapper, source], check=True)
    out = subprocess.run(
        [os.path.join(KERNEL_TESTS, "make-initramfs.sh"), out_dir,
         "debug-initrd", os.path.join(KERNEL_TESTS, "debug-init.sh"),
         trapper], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _argv(kind, cfg, initrd, cpus, port):
    vmlinux = kernel(cfg)
    if kind == "hvgdb":
        return [os.path.join(cfg.build, "src/cli/hvgdb"), "run",
                "--cpus", str(cpus), "--memory", MEMORY, "--serial",
                "file:@SERIAL@", "--gdb", f"127.0.0.1:{port}",
                "--initrd", initrd, "--append", APPEND, vmlinux]
    return [targets.QEMU, "-kernel", vmlinux, "-initrd", initrd, "-append",
            APPEND, "-smp", str(cpus), "-m", MEMORY, "-display", "none",
            "-serial", "file:@SERIAL@", "-no-reboot",
            "-gdb", f"tcp:127.0.0.1:{port}"]


def _wait_ready(child, timeout):
    """The serial log once /init said it is ready, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(child.serial, errors="replace") as f:
            log = f.read()
        if READY in log:
            return log
        if child.wait(0) is not None:
            return None
        time.sleep(0.1)
    return None


def session(kind, cfg, cpus, initrd, boot_timeout=600):
    """Boots the kernel with the debug server listening (no -S: gdb
    attaches to the running kernel, as a kernel developer does), waits for
    /init's addresses, then runs the row's gdb session."""
    if not kernel(cfg):
        return missing_kernel()
    port = targets.free_port()
    child = targets.Child(kind, _argv(kind, cfg, initrd, cpus, port))
    fd, dump = tempfile.mkstemp(prefix="bench-linux-dump-", suffix=".bin")
    os.close(fd)
    try:
        log = _wait_ready(child, boot_timeout)
        if log is None:
            return {"ok": False, "error": "no '%s' on the serial port "
                    "(status %s)" % (READY, child.wait(0))}
        syms = {name: int(addr, 16) for name, addr in SYMBOL.findall(log)}
        code = KERNEL_CODE.search(log)
        if "__x64_sys_getpid" not in syms or \
                "page_offset_base" not in syms or not code:
            return {"ok": False, "error": f"addresses missing from /init's "
                    f"output: {syms}"}
        r = run_row({"row": "linux", "port": port, "elf": None,
                     "bp_addr": syms["__x64_sys_getpid"],
                     "duration": cfg.duration,
                     "direct_map_base_at": syms["page_offset_base"],
                     "mem_phys": int(code.group(1), 16),
                     "mem_size": MEM_SIZE, "dump": dump}, timeout=600)
    finally:
        child.cleanup()
        os.unlink(dump)
    if r.get("ok"):
        r["mem_rate"] = MEM_SIZE / r["mem_wall"] / 1e6  # MB/s
        problems = []
        if r.get("bytes_written") != MEM_SIZE:
            problems.append(f"dump wrote {r.get('bytes_written')} bytes")
        if r.get("non_bp_stops"):
            problems.append(f"{r['non_bp_stops']} stops not at the "
                            "breakpoint")
        if problems:
            r["ok"] = False
            r["error"] = "; ".join(problems)
    return r
