# Many stepi on one vCPU of a guest with a 20 kHz timer: no step lands in an
# interrupt handler, each moves RIP by exactly one instruction, IF stays as
# the guest set it, and the guest's ticks advance again once we continue.
import re
from gdbtest import *

STEPS = int(os.environ.get("E2E_STEPS", "1000"))
connect()
bp = gdb.Breakpoint("storm_body")
gdb.execute("continue")
bp.delete()
tid = gdb.selected_thread().ptid[1]
vcpu = tid - 1
ticks_before = int(gdb.parse_and_eval("storm_ticks[%d]" % vcpu))

BRANCH = re.compile(r"^(j\w+|call\w*|ret\w*|loop\w*|iret\w*)\b")
bad = 0
for i in range(STEPS):
    pc = reg("rip")
    insn = insn_text(pc)
    length = insn_length(pc)
    if_before = reg("eflags") & 0x200
    rsp = reg("rsp")
    ret_target = None
    if insn.startswith("ret"):
        ret_target = int(gdb.parse_and_eval("*(unsigned long *)%d" % rsp)) \
            & 0xFFFFFFFFFFFFFFFF
    gdb.execute("stepi", to_string=True)
    s = stops[-1]
    new = reg("rip")
    # gdb reports a finished step as a plain StopEvent (no signal shown).
    if gdb.selected_thread().ptid[1] != tid or s["kind"] != "StopEvent":
        bad += 1
        report(False, "step %d stopped on thread %s with %s" %
               (i, gdb.selected_thread().ptid[1], s))
        break
    ok = True
    m = BRANCH.match(insn)
    if m is None:
        ok = new == pc + length or (insn.startswith("rep") and new == pc)
    else:
        targets = {pc + length}
        t = re.search(r"0x([0-9a-f]+)", insn)
        if t:
            targets.add(int(t.group(1), 16))
        if ret_target is not None:
            targets.add(ret_target)
        ok = new in targets or "*" in insn  # indirect: target not parsed
    want_if = 0 if insn.startswith("cli") else \
        0x200 if insn.startswith("sti") else if_before
    if_ok = (reg("eflags") & 0x200) == want_if
    if not (ok and if_ok):
        bad += 1
        report(False, "step %d: '%s' at 0x%x went to 0x%x, IF %x (want %x)"
               % (i, insn, pc, new, reg("eflags") & 0x200, want_if))
        if bad > 5:
            break
report(bad == 0, "%d stepi: every one moved exactly one instruction on thread "
       "%d, IF as the guest set it" % (STEPS, tid))

# The rate depends on how much CPU hvgdb gets (the machine may be busy):
# any steady advance shows the timer came back after the steps.
def storm_ticks():
    return int(gdb.parse_and_eval("storm_ticks[%d]" % vcpu))


run_until(lambda: storm_ticks() > ticks_before + 50, 1.5)
ticks_after = storm_ticks()
report(ticks_after > ticks_before + 50,
       "guest ticks advance after continue: %d -> %d" % (ticks_before, ticks_after))
gdb.execute("detach")
finish()
