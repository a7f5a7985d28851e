#!/usr/bin/env python3
"""Smoke runs of `hvgdb run` with tiny hand-made guests: boot registers,
command line, UART to stdout and to a file, exit device status, guest
crash, SIGINT/SIGTERM, the start-up trace; plus the real guests if built.

usage: test_cli_smoke.py HVGDB [GUESTS_DIR]"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_elf  # noqa: E402
import tiny_kernels  # noqa: E402
from proc_state import wait_signals_blocked  # noqa: E402

# Generous: a loaded host runs these guests many times slower than an idle
# one, and a run that ends early costs nothing.
TIMEOUT = 180
failures = []


def check(name, ok, detail=""):
    if ok:
        print(f"ok   {name}")
    else:
        failures.append(f"{name}: {detail}")


def run(hvgdb, args, env=None):
    try:
        return subprocess.run([hvgdb] + args, capture_output=True,
                              timeout=TIMEOUT, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return e


def expect(name, p, status, stdout=None, stderr_lines=0, stderr_has=None):
    if isinstance(p, subprocess.TimeoutExpired):
        check(name, False, f"hung for {TIMEOUT}s")
        return
    err = p.stderr.decode(errors="replace")
    problems = []
    if p.returncode != status:
        problems.append(f"status {p.returncode}, want {status}")
    if stdout is not None and p.stdout != stdout:
        problems.append(f"stdout {p.stdout[:200]!r}, want {stdout!r}")
    lines = err.splitlines()
    if len(lines) != stderr_lines:
        problems.append(f"{len(lines)} stderr lines, want {stderr_lines}")
    if any(not line.startswith("hvgdb: ") for line in lines):
        problems.append("stderr line without 'hvgdb: '")
    if stderr_has and stderr_has not in err:
        problems.append(f"stderr lacks {stderr_has!r}")
    check(name, not problems, "; ".join(problems) + f" [stderr {err!r}]")


def signal_test(hvgdb, elf, sig, want, extra=(), after=0.5):
    """Sends sig once hvgdb has taken SIGINT/SIGTERM over and `after`
    seconds more have passed (the guest runs meanwhile); a signal sent
    before that kills the process with the default action, which says
    nothing about hvgdb (seen under load: status -15 for 143)."""
    p = subprocess.Popen([hvgdb, "run", "--cpus", "2", *extra, elf],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    ready = wait_signals_blocked(p.pid)
    time.sleep(after)
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        check(f"signal {sig.name} {' '.join(extra)}", False, "did not end")
        return
    check(f"signal {sig.name} {' '.join(extra)} -> {want}",
          ready and p.returncode == want,
          f"status {p.returncode}, signals taken over: {ready} "
          f"[stderr {err!r}]")


def real_guests(hvgdb, guests_dir):
    """Short runs of the project's guests (the integration tests do the
    long ones): each prints "<name>: PASS" and exits through the exit
    device with value 0, so hvgdb's status is 1."""
    for args in (("atomics", ["--cpus", "2"], "budget=2000"),
                 ("int3-selftest", ["--cpus", "2"], "budget=30"),
                 ("demo", ["--cpus", "2"], "budget=100")):
        name = args[0]
        elf = os.path.join(guests_dir, name + ".elf")
        if not os.path.exists(elf):
            print(f"skip {name}: {elf} not built")
            continue
        p = run(hvgdb, ["run"] + args[1] + [elf, "--", args[2]])
        expect(f"guest {name}", p, 1)
        if not isinstance(p, subprocess.TimeoutExpired):
            check(f"guest {name} passes",
                  f"{name}: PASS".encode() in p.stdout,
                  f"stdout {p.stdout[-300:]!r}")


def main():
    hvgdb = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="hvgdb-smoke-")
    echo = os.path.join(tmp, "echo.elf")
    spin = os.path.join(tmp, "spin.elf")
    fault = os.path.join(tmp, "fault.elf")
    zero = os.path.join(tmp, "zero.elf")
    ud2 = os.path.join(tmp, "ud2.elf")
    clihlt = os.path.join(tmp, "clihlt.elf")
    stihlt = os.path.join(tmp, "stihlt.elf")
    for path, code in ((echo, tiny_elf.echo_guest(0x21)),
                       (clihlt, bytes([0xFA, 0xF4, 0xEB, 0xFD])),
                       (stihlt, bytes([0xFB, 0xF4, 0xEB, 0xFD])),
                       (spin, tiny_elf.spin_guest()),
                       (fault, tiny_elf.fault_guest()),
                       (zero, tiny_elf.echo_guest(0)),
                       # #UD with the boot IDT (limit 0): triple fault
                       (ud2, bytes([0x0F, 0x0B]))):
        with open(path, "wb") as f:
            f.write(tiny_elf.elf64(code))

    expect("echo, no args", run(hvgdb, ["run", echo]), 0x43, b"|1\n")
    expect("echo args", run(hvgdb, ["run", echo, "--", "hello", "world"]),
           0x43, b"hello world|1\n")
    expect("exit value 0 -> 1", run(hvgdb, ["run", zero]), 1, b"|1\n")
    expect("4 vCPUs", run(hvgdb, ["run", "--cpus=4", echo, "--", "a"]),
           0x43, b"a|4\n")
    expect("amd personality", run(hvgdb, ["run", "--cpu-vendor", "amd",
                                          "--memory", "2M", echo]),
           0x43, b"|1\n")
    out = os.path.join(tmp, "serial.txt")
    expect("serial to file", run(hvgdb, ["run", "--serial", "file:" + out,
                                         echo, "--", "x"]), 0x43, b"")
    with open(out, "rb") as f:
        check("serial file content", f.read() == b"x|1\n")
    expect("guest crash", run(hvgdb, ["run", "--cpus", "2", fault]), 3, b"",
           stderr_lines=1, stderr_has="fault")
    expect("triple fault", run(hvgdb, ["run", ud2]), 3, b"",
           stderr_lines=1, stderr_has="triple fault")
    # cli; hlt on every vCPU: nothing can wake them (cli/halt_watch.h).
    expect("every vCPU halted with interrupts off",
           run(hvgdb, ["run", "--cpus", "2", clihlt]), 3, b"",
           stderr_lines=1, stderr_has="every vCPU halted with interrupts off")
    # A Multiboot kernel whose entry is hlt (interrupts off) on 2 vCPUs:
    # vCPU 1 waits for a STARTUP IPI that nobody can send any more.
    mb_hlt = os.path.join(tmp, "mb_hlt.img")
    with open(mb_hlt, "wb") as f:
        f.write(tiny_kernels.multiboot1())
    expect("kernel halted, its AP never started",
           run(hvgdb, ["run", "--cpus", "2", mb_hlt]), 3, b"",
           stderr_lines=1, stderr_has="or waiting for a STARTUP IPI")
    # sti; hlt: an interrupt could still come; the guest is not dead.
    signal_test(hvgdb, stihlt, signal.SIGTERM, 143, after=1.5)
    env = dict(os.environ, HVGDB_TRACE_STARTUP="1")
    expect("startup trace", run(hvgdb, ["run", echo], env=env), 0x43,
           b"|1\n", stderr_lines=1, stderr_has="hvgdb: startup: ")
    signal_test(hvgdb, spin, signal.SIGTERM, 143)
    signal_test(hvgdb, spin, signal.SIGINT, 130)
    # vCPUs held by --wait with no debugger must still end.
    signal_test(hvgdb, spin, signal.SIGINT, 130, ("--gdb", "0", "-S"))
    signal_test(hvgdb, spin, signal.SIGTERM, 143,
                ("--gdb", "unix:" + os.path.join(tmp, "gdb.sock"), "-S"))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    expect("debug server port in use",
           run(hvgdb, ["run", "--gdb", f"127.0.0.1:{port}", echo]), 2, b"",
           stderr_lines=1)
    busy.close()
    if len(sys.argv) > 2:
        real_guests(hvgdb, sys.argv[2])

    shutil.rmtree(tmp, ignore_errors=True)
    for msg in failures:
        print("FAIL " + msg)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
