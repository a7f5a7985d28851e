# The guest triple-faults while gdb is attached: the VM stops instead of
# vanishing. gdb sees SIGSEGV on the crashed vCPU, `monitor info vcpus`
# names the fault, registers and memory stay readable; then (E2E_END)
# `continue` ends the VM as a crash ("Program terminated with signal
# SIGSEGV") or `kill` ends it.
from gdbtest import *

connect()
gdb.execute("continue")
last = stops[-1] if stops else {}
report(last.get("kind") == "SignalEvent" and last.get("signal") == "SIGSEGV",
       "gdb saw a SIGSEGV stop: %s" % last)
report(last.get("tid") == 1, "on the crashed vCPU 0 (thread 1): %s" % last)
report(len(gdb.selected_inferior().threads()) == CPUS,
       "every vCPU still listed as a thread")

# The BSP crashes on the ud2 after loading an empty IDT (demo_crash).
pc = reg("rip")
report(insn_text(pc).startswith("ud2"), "rip 0x%x is on the ud2: %s"
       % (pc, insn_text(pc)))
report(gdb.selected_frame().function() is not None and
       gdb.selected_frame().function().name == "demo_crash",
       "the frame is demo_crash")
mem = bytes(gdb.selected_inferior().read_memory(pc, 2))
report(mem == b"\x0f\x0b", "memory at rip readable: %s" % mem.hex())
report(reg("cr3") != 0 and reg("cr0") & 0x80000001 == 0x80000001,
       "system registers readable (cr0 0x%x cr3 0x%x)" % (reg("cr0"), reg("cr3")))

out = run("monitor info vcpus")
rows = [l for l in out.splitlines()[1:] if l.strip()]
report(rows and rows[0].split()[1] == "crashed" and "triple fault" in rows[0],
       "monitor info vcpus names the fault on vCPU 0: %r" % out)
report(all(r.split()[1] != "crashed" for r in rows[1:]),
       "only vCPU 0 is marked crashed: %r" % out)
extra = run("info threads")
report("crashed (triple fault" in extra,
       "info threads says the vCPU crashed: %r" % extra)

if os.environ.get("E2E_END", "continue") == "kill":
    gdb.execute("kill")
else:
    gdb.execute("continue")
    # gdb prints "Program terminated with signal SIGSEGV" (the harness
    # checks that line); the exit event has no exit code for a signal.
    report(exits == [None], "gdb saw the inferior end by a signal: %s" % exits)
report(len(gdb.selected_inferior().threads()) == 0, "no threads left")
finish()
