"""Runs inside `gdb -batch -x in_gdb.py`: one benchmark row against whatever
listens on the port, timed with gdb's own wall and CPU clocks around the
measured loop only (not gdb's start-up or the guest's boot).

Parameters arrive as JSON in $BENCH_PARAMS; the result is written as JSON to
params["out"]. Rows: stepi, bp, mem, guest (run to the end with breakpoints
inserted), storm (SMP breakpoint storm, then spurious-stop check)."""

import json
import os
import signal
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
    stops.append(sig)


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
    # Symbols after connecting, the same way for every target: loaded
    # before, gdb 13 drops the -o offset the mock target needs.
    run(f"target remote 127.0.0.1:{P['port']}")
    run(f"symbol-file -o {P.get('sym_offset', 0):#x} {P['elf']}")
    gdb.events.stop.connect(on_stop)


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
    del stops[:]
    t0, c0 = clocks()
    out = run("continue")
    measured(t0, c0, 1)
    result["exited"] = "exited" in out
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


try:
    connect()
    {"stepi": row_stepi, "bp": row_bp, "mem": row_mem, "guest": row_guest,
     "storm": row_storm}[P["row"]]()
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
