"""Helpers for the end-to-end tests that run inside the real gdb (batch mode).

Each test script imports this module, drives gdb through gdb.execute and the
Python API, calls report() for every assertion and finish() at the end, which
makes gdb exit with the number of failures.
"""
import os
import signal
import sys
import threading
import time

import gdb

SOCK = os.environ["E2E_SOCK"]
ELF = os.environ["E2E_ELF"]
SERIAL = os.environ.get("E2E_SERIAL", "")
VENDOR = os.environ.get("E2E_VENDOR", "intel")
CPUS = int(os.environ.get("E2E_CPUS", "1"))

failures = []
stops = []       # every stop event seen: dict(kind, signal, tid, bps)
exits = []       # exit codes seen


def report(cond, msg):
    print(("PASS: " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        failures.append(msg)
    return cond


def _on_stop(ev):
    rec = {"kind": type(ev).__name__, "signal": getattr(ev, "stop_signal", None),
           "tid": None, "bps": []}
    try:
        rec["tid"] = gdb.selected_thread().ptid[1]
    except Exception:
        pass
    if isinstance(ev, gdb.BreakpointEvent):
        rec["bps"] = [b.number for b in ev.breakpoints]
        rec["signal"] = "SIGTRAP"
    stops.append(rec)


def _on_exit(ev):
    exits.append(getattr(ev, "exit_code", None))


# Set at every resume of the target (continue, step): interrupt_after
# counts its delay from there.
_resumed = threading.Event()


def _on_cont(ev):
    _resumed.set()


gdb.events.stop.connect(_on_stop)
gdb.events.exited.connect(_on_exit)
gdb.events.cont.connect(_on_cont)


def connect(load_file=True):
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set width 0")
    # A debugger that attaches right after another vanished mid-step waits
    # for the server to stop the world, and a vCPU may be inside one of the
    # rare whole translation-cache flushes left (a step that ended in hlt
    # or a fault, or more than 64 code writes at once: about a second,
    # longer under ASan): more than gdb's default 2 s for an answer.
    # And a busy host makes every answer slower still: 60 s.
    gdb.execute("set remotetimeout 60")
    if load_file:
        gdb.execute("file " + ELF)
    gdb.execute("target remote " + SOCK)


def run(cmd):
    """gdb.execute returning the output as a string."""
    return gdb.execute(cmd, to_string=True)


def reg(name, thread=None):
    if thread is not None:
        gdb.execute("thread %d" % thread, to_string=True)
    return int(gdb.parse_and_eval("$" + name)) & 0xFFFFFFFFFFFFFFFF


def thread_tids():
    """Remote thread ids (vCPU index + 1) gdb knows, in gdb thread order."""
    inf = gdb.selected_inferior()
    return sorted(t.ptid[1] for t in inf.threads())


def select_tid(tid):
    for t in gdb.selected_inferior().threads():
        if t.ptid[1] == tid:
            t.switch()
            return t
    raise gdb.GdbError("no thread with tid %d" % tid)


# How long gdb may take to resume the target after interrupt_after: a
# busy host may hold gdb's main thread back for a long time.
RESUME_WAIT_S = 120


def interrupt_after(seconds):
    """Send gdb itself SIGINT, which gdb turns into a remote ^C, `seconds`
    after gdb next resumes the target: counted from the resume, not from
    now, so that a busy host that is slow to get to the continue neither
    interrupts gdb before it (a "Quit" of the command instead of a ^C to
    the target) nor shortens the time the guest runs."""
    pid = os.getpid()
    _resumed.clear()

    def fire():
        if _resumed.wait(RESUME_WAIT_S):
            time.sleep(seconds)
            os.kill(pid, signal.SIGINT)

    timer = threading.Thread(target=fire, daemon=True)
    timer.start()
    return timer


def run_until(pred, seconds, rounds=20):
    """Continues the guest for `seconds` at a time (stopped with ^C) until
    pred() holds, at most `rounds` times: what the guest must do while it
    runs is waited for, not assumed done in a fixed time that a busy host
    can outlast. The last pred() result."""
    for _ in range(rounds):
        interrupt_after(seconds)
        gdb.execute("continue")
        if pred():
            return True
    return pred()


def serial_text():
    if not SERIAL or not os.path.exists(SERIAL):
        return ""
    with open(SERIAL, "r", errors="replace") as f:
        return f.read()


def wait_serial(pattern, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pattern in serial_text():
            return True
        time.sleep(0.05)
    return False


def symbol_addr(name):
    return int(gdb.parse_and_eval("(unsigned long)&" + name)) \
        if not name.endswith("()") else None


def func_addr(name):
    return int(gdb.parse_and_eval("(unsigned long)%s" % name))


def insn_length(pc):
    arch = gdb.selected_frame().architecture()
    return arch.disassemble(pc, count=1)[0]["length"]


def insn_text(pc):
    arch = gdb.selected_frame().architecture()
    return arch.disassemble(pc, count=1)[0]["asm"]


def finish():
    print("E2E RESULT: %d failure(s)" % len(failures), flush=True)
    for f in failures:
        print("  failed: " + f, flush=True)
    sys.stdout.flush()
    os._exit(min(len(failures), 100))
