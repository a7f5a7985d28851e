"""Rows 13 and 14: Debian's Linux (the integration test's cached vmlinux,
PVH entry) booted to /init and powered off, on 1 and 4 vCPUs, hvgdb
against QEMU -smp N; and the host CPU an idle booted Linux on 4 vCPUs
costs."""

import os
import re
import subprocess
import time

import targets

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_INITRAMFS = os.path.join(HERE, "..", "tests", "kernels",
                              "make-initramfs.sh")
MEMORY = "512M"
APPEND = "console=ttyS0"
BOOT_MARKER = "hvgdb-init: up"
IDLE_MARKER = "hvgdb-idle: up"  # printed by linux_idle_init.sh
BROUGHT_UP = re.compile(r"smp: Brought up \d+ nodes?, (\d+) CPUs?")
RUN_INIT = re.compile(r"\[\s*([0-9.]+)\] Run /init")


def kernel(cfg):
    path = os.path.join(cfg.build, "kernel-cache", "vmlinux")
    return path if os.path.exists(path) else None


def missing_kernel():
    return {"ok": False, "error": "no kernel-cache/vmlinux in the build "
            "(ctest -R linux_boot fetches it)"}


def boot_initrd(cfg):
    """The integration test's initramfs (/init prints the marker and
    powers off), built into the build tree by its own script."""
    out = subprocess.run([MAKE_INITRAMFS,
                          os.path.join(cfg.build, "linux-boot")],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def idle_initrd(cfg):
    """The same busybox initramfs with linux_idle_init.sh as /init: it
    prints IDLE_MARKER and sleeps."""
    out = subprocess.run([MAKE_INITRAMFS,
                          os.path.join(cfg.build, "linux-boot"), "bench-idle",
                          os.path.join(HERE, "linux_idle_init.sh")],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _argv(kind, cfg, initrd, cpus):
    vmlinux = kernel(cfg)
    if kind == "hvgdb":
        return [os.path.join(cfg.build, "src/cli/hvgdb"), "run",
                "--cpus", str(cpus), "--memory", MEMORY, "--serial",
                "file:@SERIAL@", "--initrd", initrd, "--append", APPEND,
                vmlinux]
    return [targets.QEMU, "-kernel", vmlinux, "-initrd", initrd, "-append",
            APPEND, "-smp", str(cpus), "-m", MEMORY, "-display", "none",
            "-serial", "file:@SERIAL@", "-no-reboot"]


def _start(kind, cfg, initrd, cpus):
    return targets.Child(kind, _argv(kind, cfg, initrd, cpus))


def _serial(child):
    with open(child.serial, errors="replace") as f:
        return f.read()


def boot(kind, cfg, cpus, initrd, timeout=600):
    """Wall time from exec to exit of a boot to /init and power-off."""
    if not kernel(cfg):
        return missing_kernel()
    child = _start(kind, cfg, initrd, cpus)
    try:
        rc = child.wait(timeout)
        if rc is None:
            return {"ok": False, "error": f"no exit after {timeout} s"}
        log = _serial(child)
        up = BROUGHT_UP.search(log)
        init = RUN_INIT.search(log)
        ok = rc == 0 and BOOT_MARKER in log and up and \
            int(up.group(1)) == cpus
        ru = child.rusage
        r = {"ok": bool(ok), "wall": child.wall,
             "cpu": ru.ru_utime + ru.ru_stime, "exit": rc,
             "run_init": float(init.group(1)) if init else None,
             "cpus_up": int(up.group(1)) if up else 0}
        if not ok:
            r["error"] = f"status {rc}, {r['cpus_up']} CPUs up, marker " \
                f"{'seen' if BOOT_MARKER in log else 'missing'}"
        return r
    finally:
        child.cleanup()


def idle_cpu(kind, cfg, cpus=4, boot_timeout=300):
    """Share of one host core used once the booted kernel sits idle
    (IDLE_MARKER seen, then 1 s to settle), over cfg.idle_seconds * 2."""
    if not kernel(cfg):
        return missing_kernel()
    child = _start(kind, cfg, idle_initrd(cfg), cpus)
    try:
        deadline = time.monotonic() + boot_timeout
        while IDLE_MARKER not in _serial(child):
            if child.wait(0) is not None:
                return {"ok": False, "error": "the guest exited"}
            if time.monotonic() > deadline:
                return {"ok": False, "error": "no idle marker"}
            time.sleep(0.1)
        time.sleep(1.0)
        c0, t0 = child.cpu_seconds(), time.perf_counter()
        time.sleep(cfg.idle_seconds * 2)
        c1, t1 = child.cpu_seconds(), time.perf_counter()
        return {"ok": True, "share": (c1 - c0) / (t1 - t0),
                "seconds": t1 - t0}
    finally:
        child.cleanup()
