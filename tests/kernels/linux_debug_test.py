#!/usr/bin/env python3
"""Debugging Debian's Linux under hvgdb with the real gdb, end to end.

    linux_debug_test.py HVGDB INITRD_DIR VMLINUZ VMLINUX [CPUS [VENDOR]]

Builds trapper.c (static) and an initramfs whose /init (debug-init.sh)
prints kernel addresses from /proc/kallsyms and runs one trapper per CPU:
a user program taking its own int3s under a SIGTRAP handler. Boots VMLINUX
on CPUS vCPUs (default 1) with the CPU personality VENDOR (intel or amd,
default intel: how hvgdb steps and re-injects #BP underneath) and the
debug server on a unix socket, runs the
gdb session of linux_debug_gdb.py against the running kernel, then types
a line on the console (the trappers stop: they run for as long as the
session takes), and after gdb detached checks that the kernel ran on,
that every trapper got every one of its traps, and that hvgdb exited 0
(ACPI power-off).
"""
import os
import re
import subprocess
import sys

import linux_session

HERE = linux_session.HERE
# The trappers' bound if the test never says stop.
TRAP_SECONDS = 600
BOOT_TIMEOUT = 600
SESSION_TIMEOUT = 600


def main():
    hvgdb, initrd_dir, _vmlinuz, vmlinux = sys.argv[1:5]
    cpus = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    vendor = sys.argv[6] if len(sys.argv) > 6 else "intel"
    os.makedirs(initrd_dir, exist_ok=True)
    trapper = os.path.join(initrd_dir, "trapper")
    subprocess.run([os.environ.get("CC", "cc"), "-static", "-O2", "-o",
                    trapper, os.path.join(HERE, "trapper.c")], check=True)
    initrd = linux_session.make_initramfs(initrd_dir, "debug-initrd",
                                          "debug-init.sh", trapper)
    append = f"console=ttyS0 TRAP_SECONDS={TRAP_SECONDS}"
    with linux_session.boot(hvgdb, vmlinux, initrd, cpus,
                            "hvgdb-linux-debug-",
                            args=["--cpu-vendor", vendor],
                            append=append, serial_on_stdio=True) as vm:
        text = vm.wait_for("hvgdb-debug: ready", BOOT_TIMEOUT)
        env = dict(os.environ, DBG_TARGET=vm.sock, DBG_CPUS=str(cpus))
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
        # Detached: the kernel runs on; told to, the trappers finish and
        # report.
        vm.proc.stdin.write(b"stop\n")
        vm.proc.stdin.flush()
        text = vm.wait_for("hvgdb-debug: trappers", BOOT_TIMEOUT)
        lines = re.findall(r"hvgdb-debug: (trapper .*)", text)
        print("\n".join(lines))
        if len(lines) != cpus or "hvgdb-debug: trappers ok" not in text:
            print("FAIL: a trapper lost or doubled its own int3 traps")
            failed = True
        if not vm.powered_off(BOOT_TIMEOUT):
            failed = True
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
