# With scheduler-locking on, stepi on one vCPU leaves the others' RIPs alone.
from gdbtest import *

connect()
bp = gdb.Breakpoint("demo_work_item")
gdb.execute("continue")
bp.delete()
gdb.execute("set scheduler-locking on")
tids = thread_tids()
stepper = tids[1] if gdb.selected_thread().ptid[1] == tids[0] else tids[0]


def all_rips():
    out = {}
    for t in tids:
        select_tid(t)
        out[t] = reg("rip")
    return out


before = all_rips()
select_tid(stepper)
moved = 0
for i in range(50):
    pc = reg("rip")
    gdb.execute("stepi", to_string=True)
    if gdb.selected_thread().ptid[1] != stepper:
        report(False, "step %d reported on thread %d, not the stepping thread %d"
               % (i, gdb.selected_thread().ptid[1], stepper))
    moved += reg("rip") != pc
after = all_rips()
report(moved >= 45, "the stepped thread %d moved (%d of 50 steps)" % (stepper, moved))
for t in tids:
    if t != stepper:
        report(before[t] == after[t], "thread %d did not move: 0x%x -> 0x%x"
               % (t, before[t], after[t]))
gdb.execute("set scheduler-locking off")
# Until every vCPU but one got a time slice (a loaded machine under ASan
# may take a few rounds).
final = {}


def ran_again():
    final.update(all_rips())
    return sum(final[t] != after[t] for t in tids) >= len(tids) - 1


report(run_until(ran_again, 1.0),
       "after continue without locking the threads ran again")
gdb.execute("detach")
finish()
