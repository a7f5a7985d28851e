# gdb's one-transfer thread list (qXfer:threads:read), QThreadEvents and
# vKill: `info threads` reads the same through qXfer:threads as through
# qfThreadInfo + one qThreadExtraInfo per thread, in one round trip; the
# server takes QThreadEvents; `kill` goes through vKill (the driver checks
# the VM ended with status 0).
import os

from gdbtest import *

LOG = os.path.join(os.path.dirname(SERIAL), "thread_list.remote.log")
gdb.execute("set remotelogfile " + LOG)
connect()
bp = gdb.Breakpoint("demo_work_item")
gdb.execute("continue")
bp.delete()


def log_text():
    with open(LOG, errors="replace") as f:
        return f.read()


def sent(text, packet):
    return text.count("w $" + packet)


before = log_text()
with_xfer = run("info threads")
mid = log_text()
gdb.execute("set remote threads-packet off")
without_xfer = run("info threads")
after = log_text()
print(with_xfer)
report(with_xfer == without_xfer and with_xfer.count("vCPU ") == CPUS,
       "info threads reads the same with and without qXfer:threads:\n%s\n%s"
       % (with_xfer, without_xfer))
new_with, new_without = mid[len(before):], after[len(mid):]
report(sent(new_with, "qXfer:threads:read::") >= 1 and
       sent(new_with, "qThreadExtraInfo") == 0 and
       sent(new_with, "qfThreadInfo") == 0,
       "with qXfer:threads: one transfer, no qThreadExtraInfo")
report(sent(new_without, "qThreadExtraInfo") == CPUS,
       "without it: %d qThreadExtraInfo" % sent(new_without, "qThreadExtraInfo"))
report("QThreadEvents+" in before and "qXfer:threads:read+" in before,
       "qSupported lists qXfer:threads:read+ and QThreadEvents+")
out = run("maint packet QThreadEvents:1")
report('received: "OK"' in out, "QThreadEvents:1 answered OK: %r" % out)
out = run("maint packet QThreadEvents:0")
report('received: "OK"' in out, "QThreadEvents:0 answered OK: %r" % out)
out = run("kill")
report(len(gdb.selected_inferior().threads()) == 0,
       "no threads after kill: %r" % out.strip())
text = log_text()
report(sent(text, "vKill;") == 1 and sent(text, "k#") == 0,
       "kill went through vKill, not k")
finish()
