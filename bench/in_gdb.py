"""Runs inside `gdb -batch -x in_gdb.py`: one benchmark row against whatever
listens on the port, timed with gdb's own wall and CPU clocks around the
measured loop only (not gdb's start-up or the guest's boot).

Parameters arrive as JSON in $BENCH_PARAMS; the result is written as JSON to
params["out"]. Rows: stepi, bp, mem, guest (run to the end with breakpoints
inserted, or watchpoints), storm (SMP breakpoint storm, then spurious-stop
check), bps
(continue cost with 1 and with 200 breakpoints), bprss (the target's RSS
over 20,000 breakpoint hits), hltstep (stepi over hlt), linux (row 15:
breakpoint hits, stepi and a memory dump on a running Linux kernel), next
(row 17: `next` over a ~200-instruction line, range stepping on and
off)."""

import json
import os
import signal
import statistics
import threading
import time

import gdb

P = json.loads(os.environ["BENCH_PARAMS"])
result = {"row": P["row"]}
stops = []


def on_stop(ev):
    sig = getattr(ev, "stop_signal", None)
    if isinstance(ev, gdb.BreakpointEvent):
        sig = "SIGTRAP(bp)"
        bp_numbers.append(ev.breakpoints[0].number)
    stops.append(sig)


bp_numbers = []
# Exit codes of the inferior: gdb prints "exited normally" outside what
# gdb.execute(..., to_string=True) returns, so only this event tells.
exit_codes = []


def vm_rss_kib(pid):
    """VmRSS of the target process, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def run(cmd):
    return gdb.execute(cmd, to_string=True)


def clocks():
    return time.perf_counter(), time.process_time()


def measured(t0, c0, count):
    t1, c1 = clocks()
    result.update(count=count, wall=t1 - t0, gdb_cpu=c1 - c0,
                  rate=count / (t1 - t0) if t1 > t0 else 0.0,
                  gdb_share=(c1 - c0) / (t1 - t0) if t1 > t0 else 0.0)


def connect():
    run("set pagination off")
    run("set confirm off")
    run("set tcp connect-timeout 30")
    if P.get("logfile"):
        run(f"set remotelogfile {P['logfile']}")
    if not P.get("elf"):  # a kernel without symbols: addresses only
        run("set architecture i386:x86-64")
    # Symbols after connecting, the same way for every target: loaded
    # before, gdb 13 drops the -o offset the mock target needs.
    run(f"target remote 127.0.0.1:{P['port']}")
    if P.get("elf"):
        run(f"symbol-file -o {P.get('sym_offset', 0):#x} {P['elf']}")
    gdb.events.stop.connect(on_stop)
    gdb.events.exited.connect(
        lambda ev: exit_codes.append(getattr(ev, "exit_code", None)))


def reach(symbol):
    """Run the guest until a vCPU is in symbol (past boot, timer on)."""
    run(f"break {symbol}")
    run("continue")
    run("delete")


def row_stepi():
    reach(P["symbol"])
    run("stepi")  # entering step mode may cost the target once: not timed
    n, t0, c0 = 0, *clocks()
    deadline = t0 + P["duration"]
    while time.perf_counter() < deadline:
        run("stepi")
        n += 1
    measured(t0, c0, n)
    result["pc_moved"] = True


def row_bp():
    run(f"break {P['symbol']}")
    run("continue")  # warm-up: boot, first hit
    del stops[:]
    n, t0, c0 = 0, *clocks()
    deadline = t0 + P["duration"]
    while time.perf_counter() < deadline:
        run("continue")
        n += 1
    measured(t0, c0, n)
    result["non_bp_stops"] = sum(1 for s in stops if s != "SIGTRAP(bp)")


def row_mem():
    reach(P["symbol"])
    start, size = P["mem_start"], P["mem_size"]
    t0, c0 = clocks()
    run(f"dump binary memory {P['dump']} {start:#x} {start + size:#x}")
    measured(t0, c0, size)
    result["bytes_written"] = os.path.getsize(P["dump"])


def row_guest():
    for addr in P["bp_addrs"]:
        run(f"break *{addr:#x}")
    # watchpoints: [gdb command, expression]; gdb must take them as
    # hardware ones (a software watchpoint would single-step the guest)
    result["hardware_watchpoints"] = sum(
        "Hardware" in run(f"{cmd} {expr}")
        for cmd, expr in P.get("watches", []))
    del stops[:]
    t0, c0 = clocks()
    run("continue")
    measured(t0, c0, 1)
    result["exited"] = exit_codes == [0]
    result["stops"] = len(stops)


def row_storm():
    run(f"break {P['symbol']}")
    del stops[:]
    threads = set()
    n, t0, c0 = 0, *clocks()
    deadline = t0 + P["max_seconds"]
    while n < P["continues"] and time.perf_counter() < deadline:
        run("continue")
        threads.add(gdb.selected_thread().num)
        n += 1
    measured(t0, c0, n)
    result["threads_seen"] = sorted(threads)
    result["bp_stops"] = sum(1 for s in stops if s == "SIGTRAP(bp)")
    result["other_stops"] = len(stops) - result["bp_stops"]
    # Delete it and run: the only stop allowed now is our own interrupt.
    run("delete")
    del stops[:]
    timer = threading.Timer(P["quiet"],
                            lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    spurious = 0
    for _ in range(1000):
        run("continue")
        if stops and stops[-1] == "SIGINT":
            break
        spurious += 1
    timer.cancel()
    result["spurious_after_delete"] = spurious
    result["final_stop"] = stops[-1] if stops else None


def timed_continues(bp_number):
    """continue in a loop for the duration (at least min_continues);
    every stop must be breakpoint bp_number."""
    del stops[:]
    del bp_numbers[:]
    n, t0, c0 = 0, *clocks()
    deadline = t0 + P["duration"]
    while n < P["min_continues"] or time.perf_counter() < deadline:
        run("continue")
        n += 1
    t1, c1 = clocks()
    return {"count": n, "ms": (t1 - t0) / n * 1000,
            "gdb_share": (c1 - c0) / (t1 - t0),
            "other_stops": len(stops) - sum(1 for b in bp_numbers
                                            if b == bp_number)}


def row_bps():
    """Cost of a continue with 1 breakpoint, then with 199 more on code
    that never runs (gdb removes and re-inserts every breakpoint around
    each stop), then with 1 again: the two 1-breakpoint phases bracket
    the 200 one so host drift during the session does not bias it."""
    if P.get("always_inserted"):
        # Row 9b: gdb keeps breakpoints in the target across stops and
        # only lifts the one it steps over.
        run("set breakpoint always-inserted on")
    hot = gdb.Breakpoint(P["symbol"])
    for _ in range(3):  # boot, and every vCPU into its loop
        run("continue")
    first = timed_continues(hot.number)
    extra = [gdb.Breakpoint(f"*{a:#x}") for a in P["bp_addrs"]]
    run("continue")  # the first resume with 200 inserted: not timed
    many = timed_continues(hot.number)
    many["never_hit_hits"] = sum(b.hit_count for b in extra)
    for b in extra:
        b.delete()
    run("continue")
    last = timed_continues(hot.number)
    ms_1 = (first["ms"] + last["ms"]) / 2
    result.update(ms_1=ms_1, ms_200=many["ms"], ratio=many["ms"] / ms_1,
                  breakpoints=1 + len(extra),
                  phases={"1": first, "200": many, "1 again": last},
                  other_stops=first["other_stops"] + many["other_stops"] +
                  last["other_stops"] + many["never_hit_hits"])
    result["gdb_share"] = many["gdb_share"]


def timed_loop(command):
    """command in a loop for the duration: (count, wall, gdb CPU)."""
    n, t0, c0 = 0, *clocks()
    deadline = t0 + P["duration"]
    while time.perf_counter() < deadline:
        run(command)
        n += 1
    t1, c1 = clocks()
    return n, t1 - t0, c1 - c0


def row_linux():
    """Row 15, on a running kernel with no symbols: breakpoint hits/s on
    the kernel function at bp_addr (one untimed first hit), then stepi/s
    from the last hit with the breakpoint deleted (one untimed stepi),
    then a 16 MiB dump at a kernel virtual address: the kernel's direct
    map of guest-physical mem_phys (the variable page_offset_base, at
    direct_map_base_at, holds the map's start)."""
    run(f"break *{P['bp_addr']:#x}")
    run("continue")
    del stops[:]
    n, wall, cpu = timed_loop("continue")
    result.update(bp_count=n, bp_rate=n / wall, bp_gdb_share=cpu / wall,
                  non_bp_stops=sum(1 for s in stops if s != "SIGTRAP(bp)"))
    run("delete")
    run("stepi")
    n, wall, cpu = timed_loop("stepi")
    result.update(stepi_count=n, stepi_rate=n / wall,
                  stepi_gdb_share=cpu / wall)
    # Memory goes through the selected vCPU's page tables: stepping may
    # have left it in user space, where a kernel with page-table isolation
    # (Linux on hvgdb's Intel CPU model) maps almost no kernel memory. Back
    # into the kernel first, at the breakpoint; untimed, as is the read of
    # the direct map's base (a kernel variable).
    run(f"break *{P['bp_addr']:#x}")
    run("continue")
    run("delete")
    base = int.from_bytes(gdb.selected_inferior().read_memory(
        P["direct_map_base_at"], 8), "little")
    start, size = base + P["mem_phys"], P["mem_size"]
    t0, c0 = clocks()
    run(f"dump binary memory {P['dump']} {start:#x} {start + size:#x}")
    t1, c1 = clocks()
    result.update(mem_start=start, mem_wall=t1 - t0,
                  mem_gdb_share=(c1 - c0) / (t1 - t0),
                  bytes_written=os.path.getsize(P["dump"]))


def smaps_rss(pid):
    """Rss in KiB of every mapping of the target, from /proc/PID/smaps."""
    maps, key = {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                key = " ".join(head[:2] + head[5:])
            elif head[0] == "Rss:":
                maps[key] = maps.get(key, 0) + int(head[1])
    return maps


def row_bprss():
    """The target's VmRSS after 100 breakpoint hits and every 1,000 hits
    up to P["hits"] (gdb's ignore count resumes it between)."""
    bp = gdb.Breakpoint(P["symbol"])
    samples = []
    t0 = time.perf_counter()
    for goal in [100] + list(range(1000, P["hits"] + 1, 1000)):
        while bp.hit_count < goal:
            bp.ignore_count = goal - bp.hit_count - 1
            before = bp.hit_count
            run("continue")
            if bp.hit_count == before:  # stopped by something else
                raise RuntimeError(f"stop without a hit at {before}")
        samples.append((bp.hit_count, vm_rss_kib(P["target_pid"])))
        if goal == 100:
            maps_100 = smaps_rss(P["target_pid"])
    wall = time.perf_counter() - t0
    maps_end = smaps_rss(P["target_pid"])
    growth = sorted(((kb - maps_100.get(m, 0), m) for m, kb in
                     maps_end.items()), reverse=True)[:5]
    result["grown_mappings_kib"] = [(kb, m) for kb, m in growth if kb > 0]
    result.update(samples=samples, hits=bp.hit_count, wall=wall,
                  rate=bp.hit_count / wall,
                  rss_100_mb=samples[0][1] / 1024,
                  rss_end_mb=samples[-1][1] / 1024,
                  ratio=samples[-1][1] / samples[0][1])


def row_hltstep():
    """stepi over a hlt with interrupts on and the guest's timer ticking:
    `hlt; jmp .-1` written to free RAM, RIP set to the hlt before every
    step (a debugger's RIP write also takes a vCPU out of its halt)."""
    reach(P["symbol"])
    at = P["code_at"]
    gdb.selected_inferior().write_memory(at, b"\xf4\xeb\xfd")
    times, pcs, timeouts = [], [], 0
    for _ in range(P["steps"]):
        run(f"set var $pc = {at:#x}")
        timer = threading.Timer(P["step_timeout"],
                                lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        t0 = time.perf_counter()
        run("stepi")
        times.append((time.perf_counter() - t0) * 1000)
        timer.cancel()
        if stops and stops[-1] == "SIGINT":
            timeouts += 1
        pcs.append(int(gdb.parse_and_eval("$pc")) & (2**64 - 1))
    s = sorted(times)
    result.update(ms_all=times, median=s[len(s) // 2] if len(s) % 2
                  else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2,
                  max=s[-1], first=times[0], timeouts=timeouts,
                  pcs_after=sorted(set(f"{p:#x}" for p in pcs)))
    if timeouts:
        raise RuntimeError(f"{timeouts} of {len(times)} steps over hlt "
                           f"needed the {P['step_timeout']} s interrupt")


def marker_line(function, marker):
    """The source line of `function`'s file whose comment holds marker."""
    src = gdb.lookup_global_symbol(function).symtab.fullname()
    with open(src) as f:
        for number, line in enumerate(f, 1):
            if marker in line:
                return src, number
    raise RuntimeError(f"no {marker} in {src}")


def row_next():
    """`next` over range-step's loop line (~200 instructions), with gdb's
    range stepping on and off taking turns in one run: the target's
    vCont;r against one vCont;s round trip per instruction."""
    src, loop = marker_line("rs_line", "rs-loop-line")
    _, after = marker_line("rs_line", "rs-after-line")
    times = {"on": [], "off": []}
    deadline = time.perf_counter() + P["duration"]
    i = 0
    while (time.perf_counter() < deadline or
           min(len(t) for t in times.values()) < P["min_nexts"]):
        mode = ("on", "off")[i % 2]
        i += 1
        run(f"set range-stepping {mode}")
        # a temporary breakpoint: a lasting one would stop the `next` at
        # the loop's head again
        run(f"tbreak {src}:{loop}")
        run("continue")
        t0 = time.perf_counter()
        run("next")
        times[mode].append(time.perf_counter() - t0)
        line = gdb.selected_frame().find_sal().line
        if line != after:
            raise RuntimeError(f"next ({mode}) ended on line {line}, "
                               f"not {after}")
    # medians: on a loaded host one `next` in twenty may take ten times
    # as long, in either mode
    on = statistics.median(times["on"]) * 1000
    off = statistics.median(times["off"]) * 1000
    result.update(ms_on=on, ms_off=off, speedup=off / on,
                  nexts=len(times["on"]) + len(times["off"]))


try:
    connect()
    {"stepi": row_stepi, "bp": row_bp, "mem": row_mem, "guest": row_guest,
     "storm": row_storm, "bps": row_bps, "bprss": row_bprss,
     "hltstep": row_hltstep, "linux": row_linux,
     "next": row_next}[P["row"]]()
    result["ok"] = True
except Exception as e:  # reported, not raised: gdb -batch would hide it
    result["ok"] = False
    result["error"] = f"{type(e).__name__}: {e}"
with open(P["out"], "w") as f:
    json.dump(result, f)
try:
    if P["row"] != "guest" or not result.get("exited"):
        run("kill" if P.get("kill") else "detach")
except gdb.error:
    pass
