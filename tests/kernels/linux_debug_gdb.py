"""The gdb side of linux_debug_test.py: run inside `gdb -batch -x`.

Debugs Debian's running kernel under hvgdb with nothing but the addresses
its /init printed from /proc/kallsyms (the Debian vmlinux has no symbols):
a breakpoint on the getpid system call hit on the vCPUs (on an SMP guest,
on at least two), `stepi` through kernel code that never lands in an
interrupt entry, with gdb's default scheduler locking (other vCPUs run
and may report their own breakpoint hit instead of the step, which is
handled as a gdb user sees it) and with `scheduler-locking step`, kernel
memory read through the vCPU's page tables and through `monitor phys on`
agreeing, `monitor info mem` / `info tlb` showing the kernel text's
mapping, `info threads` naming every vCPU, its state and its mode,
Ctrl-C, and detach.

Environment: DBG_TARGET (gdb's `target remote` argument), DBG_CPUS, and
DBG_SYM_<name> / DBG_KERNEL_CODE in hex. Exits with the number of failed
checks.
"""
import os
import re
import signal
import threading
import time

import gdb

failures = []


def report(cond, msg):
    print(("PASS: " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        failures.append(msg)


def run(cmd):
    return gdb.execute(cmd, to_string=True)


def env_hex(name):
    return int(os.environ[name], 16)


CPUS = int(os.environ["DBG_CPUS"])
TEXT = env_hex("DBG_SYM__text")
GETPID = env_hex("DBG_SYM___x64_sys_getpid")
ENTRY_START = env_hex("DBG_SYM___entry_text_start")
ENTRY_END = env_hex("DBG_SYM___entry_text_end")
KERNEL_CODE = env_hex("DBG_KERNEL_CODE")
STEPS = 25

stop_threads = []  # (thread's tid, signal) of every stop, in order


def on_stop(ev):
    sig = getattr(ev, "stop_signal", None)
    if isinstance(ev, gdb.BreakpointEvent):
        sig = "SIGTRAP"
    stop_threads.append((gdb.selected_thread().ptid[1], sig))


gdb.events.stop.connect(on_stop)
run("set pagination off")
run("set confirm off")
run("set width 0")
run("set architecture i386:x86-64")
run("set remotetimeout 60")
gdb.execute("target remote " + os.environ["DBG_TARGET"])


def pc():
    return int(gdb.parse_and_eval("$pc")) & (2**64 - 1)


# Every vCPU is a thread that says what it is: "vCPU N, STATE, MODE".
threads = run("info threads")
names = [line for line in threads.splitlines() if "vCPU" in line]
described = [re.search(r"vCPU (\d+), [\w-]+, 64-bit", n) for n in names]
numbers = sorted(int(m.group(1)) for m in described if m)
report(len(names) == CPUS and numbers == list(range(CPUS)),
       "info threads: vCPUs 0-%d, each with its state and 64-bit mode (%r)"
       % (CPUS - 1, names))


# A breakpoint on a kernel function, hit while the trappers run on every
# CPU; on an SMP guest, on more than one vCPU (the stop names the vCPU).
bp = gdb.Breakpoint("*%#x" % GETPID)
hit_on = {}
for _ in range(100):
    gdb.execute("continue")
    tid, sig = stop_threads[-1]
    if sig != "SIGTRAP" or pc() != GETPID:
        report(False, "stop at the breakpoint (got %s at %#x)" % (sig, pc()))
        break
    hit_on[tid] = hit_on.get(tid, 0) + 1
    if len(hit_on) == CPUS and bp.hit_count >= 5:
        break
report(bp.hit_count >= 5, "breakpoint on __x64_sys_getpid hit %d times"
       % bp.hit_count)
report(len(hit_on) >= min(CPUS, 2), "hits per vCPU thread %s (%d vCPUs)" %
       (dict(sorted(hit_on.items())), CPUS))


def stepi_from_breakpoint(phase):
    """STEPS stepi on the vCPU stopped at the breakpoint, which stays
    inserted. With gdb's default scheduler locking the other vCPUs run
    during each step and may hit the breakpoint first: gdb then reports
    that vCPU's hit instead of the step ("Thread N hit Breakpoint 1") and
    switches to it, as a user sees it; like a user, go back to the
    stepping vCPU and step again. Checks the stepping vCPU's PCs; returns
    the other vCPUs' stops as (thread, signal, pc)."""
    stepping = gdb.selected_thread()
    tid = stepping.ptid[1]
    pcs, others = [], []
    for _ in range(STEPS * 8):
        if len(pcs) == STEPS:
            break
        gdb.execute("stepi", to_string=True)
        now = gdb.selected_thread()
        if now.ptid[1] == tid:
            pcs.append(pc())
            continue
        others.append((now.ptid[1], stop_threads[-1][1], hex(pc())))
        stepping.switch()
    in_entry = [p for p in pcs if ENTRY_START <= p < ENTRY_END]
    report(len(pcs) == STEPS and not in_entry and
           len(set(pcs)) > STEPS // 2,
           "%s: %d stepi on vCPU thread %d in the kernel, none in an "
           "interrupt entry (%s)" % (phase, len(pcs), tid,
                                     ", ".join("%#x" % p for p in pcs[:6])))
    return others


# stepi through the system call with timers on (and on SMP, IPIs): never
# into an interrupt entry (all of them live in .entry.text).
others = stepi_from_breakpoint("scheduler-locking replay")
report(all(sig == "SIGTRAP" and at == hex(GETPID) for _, sig, at in others),
       "%d step(s) ended by another vCPU's breakpoint hit, each a real hit "
       "at the breakpoint (%s)" % (len(others), others[:4]))
# With the others held (scheduler-locking step), nothing else may stop.
gdb.execute("continue")
report(stop_threads[-1][1] == "SIGTRAP" and pc() == GETPID,
       "continue: the breakpoint hit again")
run("set scheduler-locking step")
others = stepi_from_breakpoint("scheduler-locking step")
run("set scheduler-locking replay")
report(not others, "scheduler-locking step: no other vCPU stopped a step "
       "(%s)" % others[:4])

# The function's bytes through the vCPU's page tables and physically.
inf = gdb.selected_inferior()
virt = bytes(inf.read_memory(GETPID, 64))
run("monitor phys on")
try:
    phys = bytes(inf.read_memory(GETPID - TEXT + KERNEL_CODE, 64))
finally:
    run("monitor phys off")
report(virt == phys and virt != bytes(64),
       "64 bytes at %#x read the same virtually and physically (%#x)"
       % (GETPID, GETPID - TEXT + KERNEL_CODE))

# The page tables as QEMU's monitor shows them: kernel text is supervisor,
# read-only and executable, and maps to where the kernel is physically.
def covering(lines, parse):
    for line in lines.splitlines():
        got = parse(line)
        if got and got[0] <= GETPID < got[1]:
            return got, line
    return None, None


def mem_range(line):
    parts = line.split()
    if len(parts) != 3 or "-" not in parts[0]:
        return None
    lo, hi = (int(x, 16) for x in parts[0].split("-"))
    return lo, hi, parts[2]


def tlb_page(line):
    parts = line.split()
    if len(parts) != 6 or parts[1] != "->":
        return None
    va, pa = int(parts[0], 16), int(parts[2], 16)
    size = {"4K": 1 << 12, "2M": 1 << 21, "1G": 1 << 30}.get(parts[3], 0)
    return va, va + size, pa


got, line = covering(run("monitor info mem %x %x" % (GETPID, GETPID)),
                     mem_range)
report(got is not None and got[2] == "-r-x",
       "monitor info mem: __x64_sys_getpid in a supervisor r-x range (%s)"
       % line)
got, line = covering(run("monitor info tlb %x" % (GETPID & ~0xfff)),
                     tlb_page)
report(got is not None and
       got[2] + GETPID - got[0] == GETPID - TEXT + KERNEL_CODE,
       "monitor info tlb: its page maps to the kernel's physical copy (%s)"
       % line)

# Ctrl-C stops the running kernel.
bp.delete()
# The Ctrl-C comes 1 s after gdb resumed the kernel, not 1 s after now: a
# busy host that is slow to get to the continue would otherwise have it
# interrupt gdb itself ("Quit") instead of the target.
pid = os.getpid()
resumed = threading.Event()
gdb.events.cont.connect(lambda ev: resumed.set())


def interrupt_once_resumed():
    if resumed.wait(120):
        time.sleep(1.0)
        os.kill(pid, signal.SIGINT)


timer = threading.Thread(target=interrupt_once_resumed, daemon=True)
timer.start()
gdb.execute("continue")
timer.join()
report(stop_threads[-1][1] == "SIGINT", "Ctrl-C stopped the kernel (%s)"
       % (stop_threads[-1],))

gdb.execute("detach")
print("DEBUG RESULT: %d failure(s)" % len(failures), flush=True)
os._exit(min(len(failures), 100))
