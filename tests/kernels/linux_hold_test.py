#!/usr/bin/env python3
"""A minute at a breakpoint leaves Linux's watchdogs quiet (guest time
stops while the debugger holds the VM).

    linux_hold_test.py HVGDB INITRD_DIR VMLINUZ VMLINUX [CPUS]

Boots VMLINUX on CPUS vCPUs (default 4) with the initramfs of hold-init.sh
and the debug server on a unix socket. Once /init is up, the real gdb
(linux_hold_gdb.py) attaches, breaks in the sync system call that /init
then makes, holds the VM there for HOLD_SECONDS (default 60) of host time
and detaches. Asserts:
- the guest's uptime advanced by less than half the hold across the stop
  (its clock paused);
- the guest's dmesg after the stop has no rcu, soft lockup, watchdog or
  clocksource line (RCU stall, soft lockup and clocksource watchdog
  reports are what a guest clock that runs on during a stop produces);
- Linux runs its LAPIC in x2APIC mode ("x2apic enabled") with the
  TSC-deadline timer as every CPU's clock event device
  ("lapic-deadline");
- hvgdb exits 0 (ACPI power-off).
"""
import os
import re
import subprocess
import sys

import linux_session

HERE = linux_session.HERE
HOLD_SECONDS = float(os.environ.get("HOLD_SECONDS", "60"))
BOOT_TIMEOUT = 600
COMPLAINT = re.compile(r"rcu|soft lockup|watchdog|clocksource", re.I)


def run_gdb(env, hvgdb_proc):
    """gdb until it says it is armed; then the go line to the guest's
    /init (it waits in the UART while the VM is stopped, so the guest
    reads it only once gdb resumed it with the breakpoint inserted)."""
    g = subprocess.Popen(["gdb", "-nx", "-batch", "-x",
                          os.path.join(HERE, "linux_hold_gdb.py")],
                         env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    armed = False
    for line in g.stdout:
        print(line, end="", flush=True)
        if not armed and "hold-gdb: armed" in line:
            armed = True
            hvgdb_proc.stdin.write(b"go\n")
            hvgdb_proc.stdin.flush()
    rc = g.wait(timeout=60)
    return armed and rc == 0


def dmesg_after_stop(text):
    lines = re.findall(r"hvgdb-hold-dmesg: (.*)", text)
    for i, line in enumerate(lines):
        if "hvgdb-hold: before" in line:
            return lines, lines[i + 1:]
    return lines, None


def check(text, cpus):
    ok = True

    def fail(msg):
        nonlocal ok
        print("FAIL: " + msg)
        ok = False

    before = re.search(r"hvgdb-hold: before ([0-9.]+)", text)
    after = re.search(r"hvgdb-hold: after ([0-9.]+)", text)
    if not before or not after:
        fail("no uptime before and after the stop")
    else:
        elapsed = float(after.group(1)) - float(before.group(1))
        print(f"guest time across the {HOLD_SECONDS:g} s stop: "
              f"{elapsed:.2f} s")
        if elapsed >= HOLD_SECONDS / 2:
            fail(f"the guest clock ran on during the stop ({elapsed:.1f} s)")
    lines, after_stop = dmesg_after_stop(text)
    if after_stop is None:
        fail(f"no stop marker in the guest's dmesg ({len(lines)} lines)")
    else:
        complaints = [t for t in after_stop
                      if COMPLAINT.search(t) and "hvgdb-hold" not in t]
        for t in complaints:
            print("dmesg after the stop: " + t)
        if complaints:
            fail("the kernel complained about the stop (above)")
        else:
            print(f"dmesg: {len(after_stop)} lines after the stop, no rcu, "
                  "soft lockup, watchdog or clocksource line")
    if not any("x2apic enabled" in t for t in lines):
        fail("Linux did not switch its LAPIC to x2APIC mode")
    # /init's own lines, not their copies in the dmesg dump.
    events = re.findall(r"^\[[^]]*\] hvgdb-hold: clockevent (\S+) (\S+)",
                        text, re.M)
    print("clock event devices: " + ", ".join(f"{c} {d}" for c, d in events))
    if len(events) != cpus or any(d != "lapic-deadline" for _, d in events):
        fail(f"want lapic-deadline on all {cpus} CPUs")
    return ok


def main():
    hvgdb, initrd_dir, _vmlinuz, vmlinux = sys.argv[1:5]
    cpus = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    initrd = linux_session.make_initramfs(initrd_dir, "hold-initrd",
                                          "hold-init.sh")
    with linux_session.boot(hvgdb, vmlinux, initrd, cpus,
                            "hvgdb-linux-hold-",
                            serial_on_stdio=True) as vm:
        text = vm.wait_for("hvgdb-hold: ready", BOOT_TIMEOUT)
        m = re.search(r"hvgdb-hold: sym ([0-9a-f]+)", text)
        n = re.search(r"hvgdb-hold: cpus (\d+)", text)
        if not m or not n or int(n.group(1)) != cpus:
            sys.exit(f"FAIL: /init printed no sync address or not {cpus} "
                     "CPUs")
        env = dict(os.environ, HOLD_TARGET=vm.sock, HOLD_SYM=m.group(1),
                   HOLD_SECONDS=str(HOLD_SECONDS))
        gdb_ok = run_gdb(env, vm.proc)
        text = vm.wait_for("hvgdb-hold: dmesg end", BOOT_TIMEOUT)
        ok = check(text, cpus) and gdb_ok
        if not gdb_ok:
            print("FAIL: the gdb session (above)")
        if not vm.powered_off(BOOT_TIMEOUT):
            ok = False
        print("PASS" if ok else "FAIL")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
