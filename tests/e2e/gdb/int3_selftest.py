# The guest's own int3s go to the guest's #BP handler while gdb has
# breakpoints in the same functions and pages; the guest self-check passes.
from gdbtest import *

connect()
bps = [gdb.Breakpoint(f) for f in
       ("selftest_site_a", "selftest_site_b", "selftest_site_c")]
addrs = set()
for i in range(40):
    gdb.execute("continue")
    s = stops[-1]
    addrs.add(reg("rip"))
    report(s["kind"] == "BreakpointEvent",
           "stop %d is one of our breakpoints (%s) at 0x%x" % (i, s, reg("rip")))
report(len(addrs) == 3, "all three sites hit: %s" % sorted(hex(a) for a in addrs))
for b in bps:
    b.delete()
gdb.execute("continue")
report(exits == [0], "inferior exited normally (exit codes %s)" % exits)
report("int3-selftest: PASS" in serial_text(), "guest printed PASS")
finish()
