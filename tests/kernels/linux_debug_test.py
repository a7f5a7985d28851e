#!/usr/bin/env python3
"""Debugging Debian's Linux under hvgdb with the real gdb, end to end.

    linux_debug_test.py HVGDB INITRD_DIR VMLINUZ VMLINUX [CPUS [VENDOR]]

Builds trapper.c (static) and an initramfs whose /init (debug-init.sh)
prints kernel addresses from /proc/kallsyms and runs one trapper per CPU:
a user program taking its own int3s under a SIGTRAP handler. Boots VMLINUX
on CPUS vCPUs (default 1) with the CPU personality VENDOR (intel or amd,
default intel: how hvgdb steps and re-injects #BP underneath) and the
debug server on a unix socket, runs the
gdb session of linux_debug_gdb.py against the running kernel, and after
gdb detached checks that the kernel ran on, that every trapper got every
one of its traps, and that hvgdb exited 0 (ACPI power-off).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRAP_SECONDS = 8
BOOT_TIMEOUT = 600
SESSION_TIMEOUT = 600


def serial(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for(path, pattern, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = serial(path)
        if pattern in text:
            return text
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    print(serial(path)[-4000:])
    sys.exit(f"FAIL: no '{pattern}' on the serial port")


def main():
    hvgdb, initrd_dir, _vmlinuz, vmlinux = sys.argv[1:5]
    cpus = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    vendor = sys.argv[6] if len(sys.argv) > 6 else "intel"
    os.makedirs(initrd_dir, exist_ok=True)
    trapper = os.path.join(initrd_dir, "trapper")
    subprocess.run([os.environ.get("CC", "cc"), "-static", "-O2", "-o",
                    trapper, os.path.join(HERE, "trapper.c")], check=True)
    initrd = subprocess.run(
        [os.path.join(HERE, "make-initramfs.sh"), initrd_dir, "debug-initrd",
         os.path.join(HERE, "debug-init.sh"), trapper],
        check=True, stdout=subprocess.PIPE, text=True).stdout.strip()

    tmp = tempfile.mkdtemp(prefix="hvgdb-linux-debug-")
    sock = os.path.join(tmp, "gdb.sock")
    log = os.path.join(tmp, "serial.log")
    append = f"console=ttyS0 TRAP_SECONDS={TRAP_SECONDS}"
    cmd = [hvgdb, "run", "--cpus", str(cpus), "--cpu-vendor", vendor,
           "--memory", "512M",
           "--serial", "file:" + log, "--gdb", "unix:" + sock,
           "--initrd", initrd, "--append", append, vmlinux]
    print("+ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        text = wait_for(log, "hvgdb-debug: ready", proc, BOOT_TIMEOUT)
        env = dict(os.environ, DBG_TARGET=sock, DBG_CPUS=str(cpus))
        for name, addr in re.findall(r"hvgdb-debug: sym (\S+) ([0-9a-f]+)",
                                     text):
            env["DBG_SYM_" + name] = addr
        m = re.search(r"hvgdb-debug: kernel-code ([0-9a-f]+)", text)
        env["DBG_KERNEL_CODE"] = m.group(1) if m else "0"
        m = re.search(r"hvgdb-debug: cpus (\d+)", text)
        if not m or int(m.group(1)) != cpus:
            sys.exit(f"FAIL: the kernel runs on {m and m.group(1)} CPUs, "
                     f"want {cpus}")
        g = subprocess.run(["gdb", "-nx", "-batch", "-x",
                            os.path.join(HERE, "linux_debug_gdb.py")],
                           env=env, stdin=subprocess.DEVNULL,
                           timeout=SESSION_TIMEOUT)
        failed = g.returncode != 0
        # Detached: the kernel runs on, the trappers finish and report.
        text = wait_for(log, "hvgdb-debug: trappers", proc, BOOT_TIMEOUT)
        lines = re.findall(r"hvgdb-debug: (trapper .*)", text)
        print("\n".join(lines))
        if len(lines) != cpus or "hvgdb-debug: trappers ok" not in text:
            print("FAIL: a trapper lost or doubled its own int3 traps")
            failed = True
        rc = proc.wait(timeout=BOOT_TIMEOUT)
        if rc != 0:
            print(f"FAIL: hvgdb exited {rc}, want 0 (power-off)")
            print(proc.stderr.read().decode(errors="replace")[-2000:])
            failed = True
        sys.exit(1 if failed else 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
