# The guest's own debug registers as gdb shows them (guests/debugregs):
# at dr_write_site the vCPU has programmed DR0 (execute, left from the
# previous check) and DR1 (8-byte write); a gdb watchpoint inserted then
# does not show in them; gdb writes a DR the guest does not use at that
# point; and the guest's own checks still pass to the end.
from gdbtest import *

connect()
gdb.execute("set breakpoint always-inserted on")
bp = gdb.Breakpoint("dr_write_site")
gdb.execute("continue")
bp.delete()
vcpu = gdb.selected_thread().ptid[1] - 1


def flush():
    run("maint flush register-cache")


watched = int(gdb.parse_and_eval("(unsigned long)&watched_word[%d][0]" % vcpu))
exec_target = int(gdb.parse_and_eval("(unsigned long)&dr_exec_target"))
# L1, R/W1 01 (write), LEN1 10 (8 bytes), and the fixed bit 10
want_dr7 = 0x400 | (1 << 2) | (1 << 20) | (2 << 22)
dr = {n: reg("dr%d" % n) for n in (0, 1, 2, 3, 6, 7)}
report(dr[0] == exec_target and dr[1] == watched and dr[7] == want_dr7 and
       dr[6] == 0xffff0ff0,
       "vCPU %d's debug registers as it set them: dr0 0x%x (want 0x%x) dr1 "
       "0x%x (want 0x%x) dr6 0x%x dr7 0x%x (want 0x%x)"
       % (vcpu, dr[0], exec_target, dr[1], watched, dr[6], dr[7], want_dr7))

# a debugger watchpoint (Z4, inserted now) stays out of the guest's view
aw = gdb.Breakpoint("reset_dr7[%d]" % (CPUS + 2), gdb.BP_WATCHPOINT,
                    gdb.WP_ACCESS)
flush()
now = {n: reg("dr%d" % n) for n in (0, 1, 2, 3, 6, 7)}
report(now == dr, "gdb's awatch is not in the guest's registers: %s"
       % {n: hex(v) for n, v in now.items()})

# DR3 is the guest's again only in its last check, which sets it itself
gdb.execute("set $dr3 = 0x1234")
flush()
report(reg("dr3") == 0x1234, "dr3 written by gdb reads back: 0x%x"
       % reg("dr3"))
try:
    gdb.execute("set $dr7 = 0x100000400")
    refused = False
except gdb.error:
    refused = True
flush()
report(refused and reg("dr7") == want_dr7,
       "dr7 with bits 63:32 set is refused, dr7 kept: 0x%x" % reg("dr7"))
aw.delete()
gdb.execute("set breakpoint always-inserted off")
gdb.execute("continue")
report(exits == [0], "the guest ran to its end (exit events %s)" % exits)
finish()
