"""Rows driven by real gdb: stepi rate (1), breakpoint hits (2), memory read
(3, plus lldb), breakpoints or watchpoints inserted but never hit (5), the
SMP storm (6),
each against 'hvgdb', 'qemu' or 'mock' (the ceiling, row 8), and the
translation-cache rows: continue with 200 breakpoints (9), RSS over 20,000
hits (10), stepi over hlt (11)."""

import os
import re
import subprocess
import tempfile
import time

import targets
from gdb_driver import run_row

HOT = "demo_work_item"
MEM_START = 0x1000000  # 16 MiB into guest RAM: above every guest's image
MEM_SIZE = 16 << 20


def _start(kind, cfg, elf, cpus, args="", loop_sym=HOT):
    if kind == "mock":
        return targets.start_mock(cfg.build, elf, loop_sym, cpus)
    child = targets.start_guest(kind, cfg.build, elf, cpus, args, debug=True)
    child.sym_offset = 0
    return child


def _gdb(kind, cfg, elf, params, cpus=1, args="", timeout=120):
    child = _start(kind, cfg, elf, cpus, args)
    try:
        r = run_row(dict(params, port=child.port, elf=elf,
                         sym_offset=child.sym_offset, target_pid=child.pid),
                    timeout)
    finally:
        child.cleanup()
    if not r.get("ok"):
        err = child.stderr_text().strip()
        r["target_stderr"] = err[-500:]
    return r


def stepi(kind, cfg, cpus=1):
    """Rows 1 and 12: stepi/s with gdb's default scheduler locking (with
    more vCPUs, every step resumes the others too)."""
    return _gdb(kind, cfg, cfg.guest("demo"),
                {"row": "stepi", "symbol": HOT, "duration": cfg.duration},
                cpus=cpus)


def breakpoint_hits(kind, cfg):
    return _gdb(kind, cfg, cfg.guest("demo"),
                {"row": "bp", "symbol": HOT, "duration": cfg.duration})


def memory_read(kind, cfg):
    fd, dump = tempfile.mkstemp(prefix="bench-dump-", suffix=".bin")
    os.close(fd)
    try:
        r = _gdb(kind, cfg, cfg.guest("demo"),
                 {"row": "mem", "symbol": HOT, "mem_start": MEM_START,
                  "mem_size": MEM_SIZE, "dump": dump})
    finally:
        os.unlink(dump)
    if r.get("ok"):
        r["rate"] = r["count"] / r["wall"] / 1e6  # MB/s
        r["ok"] = r.get("bytes_written") == MEM_SIZE
    return r


def _lldb_once(port, elf, size, dump):
    cmds = ["-o", f"gdb-remote 127.0.0.1:{port}"]
    if size:
        cmds += ["-o", f"memory read --binary --force -o {dump} "
                 f"{MEM_START:#x} {MEM_START + size:#x}"]
    t0 = time.perf_counter()
    p = subprocess.run(["lldb", "--no-lldbinit", "-b", elf] + cmds +
                       ["-o", "process detach"], capture_output=True,
                       text=True, timeout=300, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0, p.stdout + p.stderr


def lldb_memory_read(kind, cfg):
    """lldb 14's embedded Python is broken on this Debian (no
    lldb.embedded_interpreter), so the read is timed from outside: a run
    that connects and reads 16 MiB minus a run that only connects."""
    elf = cfg.guest("demo")
    fd, dump = tempfile.mkstemp(prefix="bench-lldb-", suffix=".bin")
    os.close(fd)
    r = {"ok": False}
    try:
        child = _start(kind, cfg, elf, 1, "")
        try:
            base, _ = _lldb_once(child.port, elf, 0, dump)
        finally:
            child.cleanup()
        child = _start(kind, cfg, elf, 1, "")
        try:
            full, out = _lldb_once(child.port, elf, MEM_SIZE, dump)
        finally:
            child.cleanup()
        size = os.path.getsize(dump)
        r = {"ok": size == MEM_SIZE, "wall": full - base, "connect": base,
             "rate": MEM_SIZE / max(full - base, 1e-6) / 1e6,
             "bytes_written": size}
        if size != MEM_SIZE:
            r["output"] = out[-1500:]
    finally:
        os.unlink(dump)
    return r


def never_hit_addresses(elf, count=100):
    """Entry points of interrupt stubs for vectors the guest never raises
    (cpu-bench takes no interrupts): code that exists but never runs."""
    stubs = targets.elf_symbols(elf)["isr_stubs"]
    stride = 16  # isr.S: one 16-byte stub per vector, 256 of them
    return [stubs + stride * v for v in range(100, 100 + count)]


# A stop reply: T and a signal number (qOffsets' "$Text=" is none).
STOP_REPLY = re.compile(r"\$T[0-9a-fA-F]{2}")


def stop_replies_after_resume(log):
    """Stop replies gdb received after its first resume (gdb's
    remotelogfile). gdb resumes by itself from a write watchpoint hit that
    left the value as it was, with no stop event to count: the wire shows
    it."""
    n, resumed = 0, False
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("w ") and ("$vCont;c" in line or
                                          line.startswith("w $c")):
                resumed = True
            elif resumed and line.startswith("r "):
                n += len(STOP_REPLY.findall(line))
    return n


def _run_to_end(kind, cfg, params, cpus):
    """cpu-bench from the first instruction to its end, gdb attached, the
    stop replies on the wire counted (rows 5b and 5d: there must be
    none)."""
    fd, log = tempfile.mkstemp(prefix="bench-remote-", suffix=".log")
    os.close(fd)
    try:
        r = _gdb(kind, cfg, cfg.guest("cpu-bench"),
                 dict(params, row="guest", logfile=log), cpus=cpus,
                 args=f"work={cfg.work}", timeout=600)
        r["stop_replies"] = stop_replies_after_resume(log)
    finally:
        os.unlink(log)
    return r


def guest_with_breakpoints(kind, cfg, cpus=1):
    elf = cfg.guest("cpu-bench")
    return _run_to_end(kind, cfg, {"bp_addrs": never_hit_addresses(elf)},
                       cpus)


# Four watchpoints, one of each kind and one off the guest's image, on
# data cpu-bench never touches on 1 vCPU: the other vCPUs' result slots
# (kept out of the .bss its start-up clears; bench_result[0], written at
# the end, shares their page) and free RAM.
UNTOUCHED_WATCHES = [["watch", "bench_result[2]"], ["watch", "bench_result[3]"],
                     ["rwatch", "bench_result[1]"],
                     ["awatch", f"*(long *){MEM_START:#x}"]]


def guest_with_watchpoints(kind, cfg, cpus=1):
    return _run_to_end(kind, cfg, {"bp_addrs": [],
                                   "watches": UNTOUCHED_WATCHES}, cpus)


def storm(kind, cfg, cpus=8):
    fd, log = tempfile.mkstemp(prefix="bench-remote-", suffix=".log")
    os.close(fd)
    try:
        r = _gdb(kind, cfg, cfg.guest("demo"),
                 {"row": "storm", "symbol": HOT, "continues": cfg.storm,
                  "max_seconds": cfg.storm_seconds,
                  "quiet": cfg.quiet, "logfile": log}, cpus=cpus,
                 timeout=900)
        r.update(stop_replies_audit(log))
    finally:
        os.unlink(log)
    return r


def stop_replies_audit(log):
    """Counts the T stop replies gdb received and those naming a thread
    (gdb's remotelogfile: 'r' lines are what the stub sent)."""
    total = with_thread = 0
    with open(log, errors="replace") as f:
        for line in f:
            if not line.startswith("r ") or "$T" not in line:
                continue
            for pkt in line.split("$T")[1:]:
                total += 1
                with_thread += "thread:" in pkt.split("#")[0]
    return {"stop_replies": total, "stop_replies_with_thread": with_thread}


def demo_never_run_addresses(elf, count=199):
    """Entry points of the demo's interrupt stubs for vectors 0x20-0xfe
    except its timer's (0x40): no device raises them, so they never run
    (two 4 KiB pages of code)."""
    stubs = targets.elf_symbols(elf)["isr_stubs"]
    vectors = [v for v in range(0x20, 0xff) if v != 0x40][:count]
    assert len(vectors) == count
    return [stubs + 16 * v for v in vectors]


def continue_with_breakpoints(kind, cfg, cpus=4, always_inserted=False):
    """Row 9 (9b with gdb's `breakpoint always-inserted on`): ms per
    continue with 1 and with 200 breakpoints, 4 vCPUs."""
    elf = cfg.guest("demo")
    r = _gdb(kind, cfg, elf,
             {"row": "bps", "symbol": HOT, "duration": cfg.duration,
              "min_continues": 10, "always_inserted": always_inserted,
              "bp_addrs": demo_never_run_addresses(elf)},
             cpus=cpus, timeout=600)
    if r.get("ok") and r.get("other_stops"):
        r["ok"] = False
        r["error"] = f"{r['other_stops']} stops not at the breakpoint"
    return r


def rss_over_hits(kind, cfg, cpus=4):
    """Row 10: VmRSS after 100 and after cfg.rss_hits breakpoint hits."""
    return _gdb(kind, cfg, cfg.guest("demo"),
                {"row": "bprss", "symbol": HOT, "hits": cfg.rss_hits},
                cpus=cpus, timeout=1800)


def next_over_line(kind, cfg, cpus=1):
    """Row 17: ms per `next` over range-step's ~200-instruction loop line,
    gdb's range stepping on and off in the same run (1 kHz timer on; 17b:
    4 vCPUs, the others running meanwhile). QEMU offers no range
    stepping: its two numbers are both single steps."""
    return _gdb(kind, cfg, cfg.guest("range-step"),
                {"row": "next", "duration": cfg.duration,
                 "min_nexts": 5}, cpus=cpus, timeout=600)


def stepi_over_hlt(kind, cfg):
    """Row 11: stepi over hlt, timer-storm (20 kHz LAPIC timer, 1 vCPU)."""
    return _gdb(kind, cfg, cfg.guest("timer-storm"),
                {"row": "hltstep", "symbol": "storm_body",
                 "code_at": MEM_START, "steps": cfg.hlt_steps,
                 "step_timeout": 5.0}, args="forever", timeout=300)
