# Bench row 5d's session as a test: cpu-bench on 1 vCPU runs to its end
# under four hardware watchpoints (one of each kind, and one off the
# guest's image) on data it never touches: the slots of vCPUs it does not
# have, and free RAM. Their page also holds data the guest reads and
# writes (bench_result[0], the barrier, the command line, the .bss the
# start-up clears), so every access there takes the watch check, and none
# may come back as a stop. gdb resumes by itself from a write that leaves
# the value as it was, so its stop events alone would not show one: the
# stop replies on the wire are counted (gdb's remotelogfile).
import os
import re

from gdbtest import *

LOG = os.path.join(os.path.dirname(SERIAL), "remote.log")
WATCHES = ["watch bench_result[2]", "watch bench_result[3]",
           "rwatch bench_result[1]", "awatch *(long *)0x1000000"]

# A stop reply is T and a signal number (qOffsets' "$Text=" is not one).
STOP_REPLY = re.compile(r"\$T[0-9a-fA-F]{2}")


def stop_replies(log):
    """Stop replies ($T..) before and after the first resume packet."""
    before = after = 0
    resumed = False
    with open(log, errors="replace") as f:
        for line in f:
            body = line[2:]
            if line.startswith("w ") and ("$vCont;c" in body or
                                          body.startswith("$c")):
                resumed = True
            elif line.startswith("r "):
                n = len(STOP_REPLY.findall(body))
                if resumed:
                    after += n
                else:
                    before += n
    return before, after


run("set remotelogfile " + LOG)  # opened when gdb connects
connect()
for w in WATCHES:
    out = run(w)
    report(out.startswith("Hardware"), "%s: %r" % (w, out.strip()))
n = len(stops)
gdb.execute("continue")
report(exits == [0], "the guest ran to its end: exit codes %s" % exits)
report(len(stops) == n, "gdb saw no stop: %s" % stops[n:])
# The remote target is gone with the guest, and its log closed.
before, after = stop_replies(LOG)
report(before == 1, "the log holds the attach's stop reply (%d)" % before)
report(after == 0,
       "no stop reply after the resume: %d (a write of a watched byte, "
       "even of the value it held, is reported)" % after)
finish()
