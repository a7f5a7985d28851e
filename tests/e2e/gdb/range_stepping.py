# Range stepping (vCont;r) as gdb uses it for `next` and `step`, on the
# range-step guest (2 vCPUs, 1 kHz timer on each, scheduler-locking off):
# every scenario runs with `set range-stepping on` and then `off`, and must
# end the same way; with it on, the server must have stepped inside ranges
# (monitor info stats), with it off never.
import re

from gdbtest import *

connect()
SRC = gdb.lookup_global_symbol("rs_line").symtab.fullname()
with open(SRC) as f:
    SOURCE = f.read().splitlines()


def marker_line(marker):
    return 1 + next(i for i, l in enumerate(SOURCE) if marker in l)


CALL, LOOP, AFTER = (marker_line("rs-call-line"), marker_line("rs-loop-line"),
                     marker_line("rs-after-line"))
CALLEE = marker_line("rs-callee-line")
MASK = (1 << 64) - 1


def range_stats():
    out = run("monitor info stats")
    m = re.search(r"range steps \(vCont;r\): (\d+), instructions stepped "
                  r"inside their ranges: (\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def where():
    frame = gdb.selected_frame()
    return (frame.name(), frame.find_sal().line,
            gdb.selected_thread().ptid[1])


def stop_in_thread1_at(spec):
    """Continue until thread 1 (vCPU 0) stops at a breakpoint on spec."""
    bp = gdb.Breakpoint(spec)
    bp.thread = 1
    gdb.execute("continue")
    bp.delete()
    return where()


def value(name):
    return int(gdb.parse_and_eval(name)) & MASK


def next_over_loop():
    """`next` from the loop's line lands on the line after it, with the
    loop's result computed right."""
    stop_in_thread1_at("%s:%d" % (SRC, LOOP))
    first = len(stops)
    acc = value("acc")
    gdb.execute("next")
    got = where()
    want = acc
    # written by vCPU 0 at start-up: read once the guest runs
    for d in [value("rs_data[%d]" % i) for i in range(25)]:
        want = (want * 31 + d) & MASK
    return [got, value("acc") == want, len(stops) - first]


def step_into_callee():
    """`step` from the call's line enters rs_callee; `step` again comes
    back into rs_line, and `next`s walk the lines to the function's end."""
    stop_in_thread1_at("rs_line")
    trail = [where()]
    gdb.execute("step")
    trail.append(where())
    for _ in range(6):
        gdb.execute("step" if trail[-1][0] == "rs_callee" else "next")
        trail.append(where())
        if trail[-1][0] not in ("rs_line", "rs_callee"):
            break
    return trail


def breakpoint_inside_range():
    """A breakpoint in the middle of the loop's line stops the `next`
    there, as a breakpoint hit."""
    stop_in_thread1_at("%s:%d" % (SRC, LOOP))
    inside = loop_body_instruction("rs_line")
    bp = gdb.Breakpoint("*0x%x" % inside)
    bp.thread = 1  # vCPU 1 runs the same loop
    first = len(stops)
    gdb.execute("next")
    got = (where(), reg("rip") == inside,
           [s["bps"] for s in stops[first:]] == [[bp.number]])
    bp.delete()
    return got


def other_vcpu_breakpoint(attempts=20):
    """While vCPU 0 steps the loop's line, vCPU 1 hits a breakpoint: the
    stop is vCPU 1's, at rs_other, and ends the `next`. Whether vCPU 1
    gets to run during one `next` depends on the host (a step that is
    ready first runs first: with range stepping off, vCPU 1's thread
    may not wake before the ~200 steps are done), so `next` is tried
    until it happens; each `next` must end either way."""
    for attempt in range(attempts):
        stop_in_thread1_at("%s:%d" % (SRC, LOOP))
        bp = gdb.Breakpoint("rs_other")
        first = len(stops)
        gdb.execute("next")
        got = (where()[0], where()[2],
               [s["bps"] for s in stops[first:]] == [[bp.number]])
        bp.delete()
        if got[1] == 2:
            return got
        if got[:2] != ("rs_line", 1):
            return got + ("the next ended elsewhere",)
    return ("vCPU 1 never hit rs_other in %d tries" % attempts,)


def loop_body_instruction(func):
    """An instruction every iteration of the loop on the loop's line runs
    (after the target of its backward jump), and not the line's first."""
    arch = gdb.selected_frame().architecture()
    block = gdb.block_for_pc(func_addr(func))
    insns = arch.disassemble(block.start, block.end - 1)
    for i, insn in enumerate(insns):
        m = re.match(r"j\w+\s+(0x[0-9a-f]+)", insn["asm"])
        if not m or int(m.group(1), 16) >= insn["addr"]:
            continue
        head = int(m.group(1), 16)
        line = gdb.find_pc_line(head).line
        if line != LOOP:
            continue
        body = [x["addr"] for x in insns if head < x["addr"] <= insn["addr"]]
        if body:
            return body[0]
    raise gdb.GdbError("no loop on line %d" % LOOP)


results = {}
for mode in ("on", "off"):
    gdb.execute("set range-stepping " + mode)
    before = range_stats()
    ticks = value("rs_ticks[0]")
    r = {}
    r["next"] = next_over_loop()
    r["step"] = step_into_callee()
    r["bp_inside"] = breakpoint_inside_range()
    r["other_vcpu"] = other_vcpu_breakpoint()
    after = range_stats()
    results[mode] = r
    print("range-stepping %s: %r, stats %r -> %r" % (mode, r, before, after))
    funcs = {w[0] for w in r["step"]} | {r["next"][0][0]}
    report(funcs <= {"rs_line", "rs_callee", "guest_main"},
           "%s: every stop in the guest's code, never in an interrupt "
           "handler: %s" % (mode, sorted(funcs)))
    report(r["next"][0][:2] == ("rs_line", AFTER) and r["next"][1],
           "%s: next over the loop's line lands on line %d with the loop's "
           "result right: %r" % (mode, AFTER, r["next"]))
    report(("rs_callee", CALLEE, 1) in r["step"],
           "%s: step enters rs_callee: %r" % (mode, r["step"]))
    report(r["bp_inside"][1] and r["bp_inside"][2],
           "%s: next stopped at the breakpoint inside the line: %r"
           % (mode, r["bp_inside"]))
    report(r["other_vcpu"] == ("rs_other", 2, True),
           "%s: vCPU 1's breakpoint stopped vCPU 0's next: %r"
           % (mode, r["other_vcpu"]))
    if mode == "on":
        report(after[0] - before[0] >= 3 and after[1] - before[1] >= 150,
               "on: the server stepped inside ranges (%r -> %r)"
               % (before, after))
    else:
        report(after == before, "off: no range step (%r -> %r)"
               % (before, after))
    report(run_until(lambda: value("rs_ticks[0]") > ticks, 0.3),
           "%s: vCPU 0's timer still ticks" % mode)

report(results["on"] == results["off"],
       "range stepping on and off end the same")
gdb.execute("detach")
finish()
