# --wait: attach, look (and with E2E_STEP, stepi), then leave without
# continuing. The harness checks that the guest stays paused for the next
# debugger. E2E_EXPECT_RIP: the rip the last debugger left (nothing ran
# since). E2E_HOLD_OFF: ask for the old behaviour (run when we leave).
from gdbtest import *

connect()
report(serial_text() == "", "no UART output: no guest code ran yet")
rip = reg("rip")
want = os.environ.get("E2E_EXPECT_RIP")
if want:
    report(rip == int(want, 16), "rip 0x%x is where the last debugger left "
           "it (%s)" % (rip, want))
if os.environ.get("E2E_STEP"):
    gdb.execute("stepi")
    report(reg("rip") != rip, "stepi moved rip")
if os.environ.get("E2E_HOLD_OFF"):
    out = run("monitor hold off")
    report("runs" in out, "monitor hold off: %r" % out)
print("LEFT_RIP=0x%x" % reg("rip"), flush=True)
gdb.execute("detach")
finish()
