#!/usr/bin/env python3
"""Run a test guest under hvgdb and/or QEMU and check its result.

Modes:
  hvgdb   run under hvgdb only
  qemu    run under qemu-system-x86_64 only (checks the guest itself)
  parity  run under both; besides each run passing, every line that does not
          begin with "info:" must be identical between the two.

A run passes when it exits with status 1 (the guest wrote 0 to the exit
device: (0 << 1) | 1), within the timeout, and printed the expected line.
Exit status 77 means "skipped" (a hypervisor binary is missing).
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

SKIP = 77
EXIT_PASS_STATUS = 1  # (0 << 1) | 1


class Run:
    def __init__(self, name, status, stdout, stderr, seconds, timed_out):
        self.name = name
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.timed_out = timed_out

    def lines(self):
        return [l.rstrip("\r") for l in self.stdout.splitlines()]

    def result_lines(self):
        return [l for l in self.lines() if not l.startswith("info:")]


def run_command(name, argv, timeout):
    start = time.monotonic()
    # A session of its own, so a timeout kills every thread and child.
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return Run(name, proc.returncode, out.decode("utf-8", "replace"),
               err.decode("utf-8", "replace"), time.monotonic() - start,
               timed_out)


def hvgdb_argv(args):
    argv = [args.hvgdb, "run", "--cpus", str(args.cpus), "--memory", "256M",
            args.guest]
    words = args.args.split()
    if words:
        argv += ["--"] + words
    return argv


def qemu_argv(args):
    argv = [args.qemu, "-kernel", args.guest, "-smp", str(args.cpus),
            "-m", "256", "-display", "none", "-serial", "stdio",
            "-no-reboot", "-nodefaults", "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if args.qemu_cpu:
        argv += ["-cpu", args.qemu_cpu]
    if args.args:
        argv += ["-append", args.args]
    return argv


def check_run(run, expect):
    """Returns a list of problems (empty when the run passed)."""
    problems = []
    if run.timed_out:
        problems.append(f"{run.name}: timed out after {run.seconds:.1f}s")
    elif run.status != EXIT_PASS_STATUS:
        problems.append(f"{run.name}: exit status {run.status}, "
                        f"expected {EXIT_PASS_STATUS}")
    if expect and expect not in run.lines():
        problems.append(f"{run.name}: no line {expect!r}")
    return problems


def compare(a, b):
    la, lb = a.result_lines(), b.result_lines()
    if la == lb:
        return []
    problems = [f"parity: non-info output differs between {a.name} and {b.name}"]
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "<missing>"
        y = lb[i] if i < len(lb) else "<missing>"
        if x != y:
            problems.append(f"  first difference at result line {i + 1}:")
            problems.append(f"    {a.name}: {x}")
            problems.append(f"    {b.name}: {y}")
            break
    return problems


def report(run):
    print(f"--- {run.name}: status {run.status}, {run.seconds:.2f}s"
          f"{' (timed out)' if run.timed_out else ''}")
    sys.stdout.write(run.stdout)
    if run.stderr.strip():
        print(f"--- {run.name} stderr:")
        sys.stdout.write(run.stderr[-4000:])


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["hvgdb", "qemu", "parity"], required=True)
    p.add_argument("--guest", required=True, help="guest ELF")
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--args", default="", help="guest command line")
    p.add_argument("--expect", default="", help="a line the guest must print")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--hvgdb", default="", help="path of the hvgdb program")
    p.add_argument("--qemu", default=shutil.which("qemu-system-x86_64") or "")
    p.add_argument("--qemu-cpu", default="",
                   help="QEMU -cpu model (default: QEMU's own)")
    args = p.parse_args()

    if not os.path.isfile(args.guest):
        print(f"guest {args.guest} not built")
        return 1
    need_hvgdb = args.mode in ("hvgdb", "parity")
    need_qemu = args.mode in ("qemu", "parity")
    if need_hvgdb and not (args.hvgdb and os.access(args.hvgdb, os.X_OK)):
        print(f"skipped: hvgdb not found at {args.hvgdb!r}")
        return SKIP
    if need_qemu and not (args.qemu and os.access(args.qemu, os.X_OK)):
        print("skipped: qemu-system-x86_64 not found")
        return SKIP

    runs = []
    if need_hvgdb:
        runs.append(run_command("hvgdb", hvgdb_argv(args), args.timeout))
    if need_qemu:
        runs.append(run_command("qemu", qemu_argv(args), args.timeout))

    problems = []
    for run in runs:
        report(run)
        problems += check_run(run, args.expect)
    if len(runs) == 2:
        problems += compare(runs[0], runs[1])
    for line in problems:
        print(line)
    print("FAIL" if problems else "OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
