#!/usr/bin/env python3
"""Start-up timing check (a tool for the benchmark, not a timed test): runs
`hvgdb run` with HVGDB_TRACE_STARTUP=1 on a guest that exits at once and
reports the time to the first vm_run of vCPU 0, as hvgdb measures it, plus
the whole process wall time as seen from here.

usage: startup_timing.py HVGDB [--memory 256M] [--cpus 1] [--runs 20]
                         [--guest ELF]"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_elf  # noqa: E402

TRACE = re.compile(r"startup: ([0-9.]+) ms from main .* ([0-9-]+) ms from "
                   r"process start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hvgdb")
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--cpus", default="1")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--guest", help="default: a tiny guest that exits")
    a = ap.parse_args()

    guest = a.guest
    if not guest:
        fd, guest = tempfile.mkstemp(suffix=".elf")
        os.write(fd, tiny_elf.elf64(tiny_elf.echo_guest(0)))
        os.close(fd)
    env = dict(os.environ, HVGDB_TRACE_STARTUP="1")
    from_main, from_exec, wall = [], [], []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        p = subprocess.run([a.hvgdb, "run", "--memory", a.memory, "--cpus",
                            a.cpus, guest], env=env, capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        wall.append((time.perf_counter() - t0) * 1e3)
        m = TRACE.search(p.stderr.decode(errors="replace"))
        if not m:
            print(f"no startup trace in stderr: {p.stderr!r}")
            return 1
        from_main.append(float(m.group(1)))
        from_exec.append(float(m.group(2)))
    if not a.guest:
        os.unlink(guest)

    def show(label, xs):
        print(f"{label:44s} median {statistics.median(xs):8.3f} ms  "
              f"min {min(xs):8.3f}  max {max(xs):8.3f}")

    print(f"hvgdb start-up, {a.runs} runs, --memory {a.memory} "
          f"--cpus {a.cpus}")
    show("main() -> first vm_run of vCPU 0", from_main)
    show("process start -> first vm_run (10 ms ticks)", from_exec)
    show("whole run, fork to exit", wall)
    return 0


if __name__ == "__main__":
    sys.exit(main())
