"""Rows with no debugger, or a raw client: Ctrl-C latency (4), guest speed
(5 and the hypervisor issue's cpu-bench checks), peak RSS (7), start-up
time and idle CPU cost."""

import os
import re
import statistics
import sys
import tempfile
import time

import ctrl_c
import targets

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "cli"))
import tiny_elf  # noqa: E402  (the CLI tests' ELF builder, read-only use)

STARTUP = re.compile(r"startup: ([0-9.]+) ms from main")


def ctrl_c_latency(kind, cfg, cpus=8):
    child = targets.start_guest(kind, cfg.build, cfg.guest("demo"), cpus,
                                "", debug=True)
    try:
        lat = ctrl_c.measure(child.port, cfg.ctrl_c_samples)
    except (OSError, RuntimeError, ConnectionError) as e:
        return {"ok": False, "error": str(e),
                "target_stderr": child.stderr_text()[-500:]}
    finally:
        child.cleanup()
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
    return {"ok": True, "median": statistics.median(lat), "p99": p99,
            "max": lat[-1], "samples": len(lat)}


def run_to_exit(kind, cfg, elf, cpus, args, timeout=600):
    """Wall time and rusage of a whole run with no debugger."""
    child = targets.start_guest(kind, cfg.build, elf, cpus, args)
    try:
        rc = child.wait(timeout)
        if rc is None:
            return {"ok": False, "error": f"no exit after {timeout} s"}
        ru = child.rusage
        with open(child.serial, errors="replace") as f:
            serial = f.read()
        return {"ok": rc == 1 and "PASS" in serial, "wall": child.wall,
                "cpu": ru.ru_utime + ru.ru_stime,
                "maxrss_kb": ru.ru_maxrss, "exit": rc}
    finally:
        child.cleanup()


def cpu_bench(kind, cfg, cpus=1, work=None):
    """Guest compute time: a run's wall time minus a work=0 run's (boot,
    firmware and process start-up are not guest speed)."""
    elf = cfg.guest("cpu-bench")
    work = cfg.work if work is None else work
    full = run_to_exit(kind, cfg, elf, cpus, f"work={work}")
    boot = run_to_exit(kind, cfg, elf, cpus, "work=0")
    if not (full.get("ok") and boot.get("ok")):
        return {"ok": False, "full": full, "boot": boot}
    compute = max(full["wall"] - boot["wall"], 1e-6)
    return {"ok": True, "wall": full["wall"], "boot_wall": boot["wall"],
            "compute": compute,
            "throughput": cpus * work / compute}  # work units per second


def peak_rss(kind, cfg, cpus):
    r = run_to_exit(kind, cfg, cfg.guest("demo"), cpus,
                    f"budget={cfg.rss_budget}")
    if r.get("ok"):
        r["rss_mb"] = r["maxrss_kb"] / 1024
    return r


def _tiny_guest(code):
    fd, path = tempfile.mkstemp(prefix="bench-tiny-", suffix=".elf")
    os.write(fd, tiny_elf.elf64(code))
    os.close(fd)
    return path


def startup(cfg):
    """hvgdb's own trace (HVGDB_TRACE_STARTUP=1): main() to the first
    vm_run of vCPU 0, 256 MiB VM, a guest that exits at once."""
    elf = _tiny_guest(tiny_elf.echo_guest(0))
    env = dict(os.environ, HVGDB_TRACE_STARTUP="1")
    try:
        argv = targets.hvgdb_argv(cfg.build, elf, 1)
        child = targets.Child("hvgdb", argv, env=env)
        try:
            child.wait(60)
            m = STARTUP.search(child.stderr_text())
        finally:
            child.cleanup()
    finally:
        os.unlink(elf)
    if not m:
        return {"ok": False, "error": "no startup trace"}
    return {"ok": True, "ms": float(m.group(1)), "process_wall": child.wall}


def idle_cpu(cfg, cpus=4):
    """CPU share of one core used by hvgdb while every vCPU sits in hlt
    with no timer (measured after start-up). Interrupts on: with them off
    on every vCPU hvgdb ends the guest as dead (cli/halt_watch.h)."""
    elf = _tiny_guest(bytes([0xFB, 0xF4, 0xEB, 0xFD]))  # sti; hlt; jmp
    try:
        child = targets.start_guest("hvgdb", cfg.build, elf, cpus)
        try:
            time.sleep(0.5)
            if child.wait(0) is not None:
                return {"ok": False, "error": "idle guest exited"}
            c0, t0 = child.cpu_seconds(), time.perf_counter()
            time.sleep(cfg.idle_seconds)
            c1, t1 = child.cpu_seconds(), time.perf_counter()
        finally:
            child.cleanup()
    finally:
        os.unlink(elf)
    return {"ok": True, "share": (c1 - c0) / (t1 - t0),
            "seconds": t1 - t0}
