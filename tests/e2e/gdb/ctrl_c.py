# Ctrl-C with every vCPU busy stops them all and reports a thread.
import time
from gdbtest import *

connect()
for round_ in range(3):
    interrupt_after(0.8)
    gdb.execute("continue")
    s = stops[-1]
    report(s["signal"] == "SIGINT" and s["tid"] in range(1, CPUS + 1),
           "round %d: SIGINT stop reported with thread %s" % (round_, s["tid"]))
    first = {}
    for t in thread_tids():
        select_tid(t)
        first[t] = reg("rip")
    time.sleep(0.3)
    second = {}
    for t in thread_tids():
        select_tid(t)
        second[t] = reg("rip")
    report(first == second and len(first) == CPUS,
           "round %d: all %d vCPUs stay stopped" % (round_, CPUS))
gdb.execute("detach")
finish()
