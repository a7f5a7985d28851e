"""Rows 1l and 2l: lldb 14's `thread step-inst` and breakpoint `continue`
rates against hvgdb and QEMU, with the packets lldb exchanges per step or
hit. lldb's embedded Python is broken on this Debian, so a batch lldb runs
the loop and its own gdb-remote packet log, with timestamps, times it:
a marker packet (`process plugin packet send`, answered empty by both
stubs) goes out right before the loop and another right after it."""

import os
import re
import subprocess
import tempfile

import targets

HOT = "demo_work_item"
MARK_START, MARK_END = "qBenchLoopStart", "qBenchLoopEnd"
# lldb -T: "<seconds>.<fraction> <the log line>"
LOG_LINE = re.compile(r"^(\d+\.\d+)\s.*?(send|read) packet: (.*)$")


def _run_lldb(port, elf, setup, loop_cmd, count, log):
    cmds = [f"gdb-remote 127.0.0.1:{port}"] + setup
    cmds += [f"log enable -T -f {log} gdb-remote packets",
             f"process plugin packet send {MARK_START}"]
    cmds += [loop_cmd] * count
    cmds += [f"process plugin packet send {MARK_END}", "log disable gdb-remote packets",
             "breakpoint delete -f", "process detach"]
    fd, script = tempfile.mkstemp(prefix="bench-lldb-", suffix=".cmds")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(cmds) + "\n")
    try:
        p = subprocess.run(["lldb", "--no-lldbinit", "-b", "-s", script, elf],
                           capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL)
    finally:
        os.unlink(script)
    return p.stdout + p.stderr


def loop_stats(log):
    """(seconds between the markers, packets lldb sent between them)."""
    t0 = t1 = None
    sent = 0
    with open(log, errors="replace") as f:
        for line in f:
            m = LOG_LINE.match(line.strip())
            if not m:
                continue
            when, direction, pkt = float(m.group(1)), m.group(2), m.group(3)
            if direction == "send" and MARK_START in pkt:
                t0, sent = when, 0
            elif direction == "send" and MARK_END in pkt:
                t1 = when
                break
            elif direction == "send" and t0 is not None:
                sent += 1
    if t0 is None or t1 is None:
        return None, None
    return t1 - t0, sent


def _row(kind, cfg, setup, loop_cmd, check):
    elf = cfg.guest("demo")
    count = cfg.lldb_loops
    fd, log = tempfile.mkstemp(prefix="bench-lldb-", suffix=".log")
    os.close(fd)
    child = targets.start_guest(kind, cfg.build, elf, 1, "", debug=True)
    try:
        out = _run_lldb(child.port, elf, setup, loop_cmd, count, log)
        wall, sent = loop_stats(log)
    finally:
        child.cleanup()
        os.unlink(log)
    done = len(re.findall(check, out))
    r = {"ok": wall is not None and done >= count, "wall": wall,
         "count": count, "done": done}
    if r["ok"]:
        r["rate"] = count / wall
        r["packets_per_op"] = sent / count
    else:
        r["output"] = out[-1500:]
    return r


def stepi(kind, cfg):
    """Row 1l: `thread step-inst` in demo_work_item's loop, 1 vCPU."""
    return _row(kind, cfg, [f"breakpoint set -n {HOT}", "continue",
                            "breakpoint delete -f"],
                "thread step-inst", r"stop reason = instruction step into")


def breakpoint_hits(kind, cfg):
    """Row 2l: `continue` to `breakpoint set -n demo_work_item`."""
    return _row(kind, cfg, [f"breakpoint set -n {HOT}", "continue"],
                "continue", r"stop reason = breakpoint 1\.1")
