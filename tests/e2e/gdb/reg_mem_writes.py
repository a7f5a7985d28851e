# Register and memory writes change what the guest does.
from gdbtest import *

connect()
bp = gdb.Breakpoint("demo_record")
gdb.execute("continue")
v = gdb.selected_thread().ptid[1] - 1
report(int(gdb.parse_and_eval("demo_state[%d]" % v)) == 0,
       "first demo_record on vCPU %d starts from state 0" % v)
gdb.execute("set $rsi = 0x1234abcd")
bp.delete()
gdb.execute("finish")
state = int(gdb.parse_and_eval("demo_state[%d]" % v))
report(state == 0x1234abcd,
       "the guest recorded the value written to rsi: 0x%x" % state)

other = 1 - v if CPUS > 1 else 0
gdb.execute("set var demo_ticks[%d] = 1000000" % other)


def other_ticks():
    return int(gdb.parse_and_eval("demo_ticks[%d]" % other))


# Until it ticked at least once (a busy host may run it late): from the
# written value on, not from its old count or zero.
run_until(lambda: other_ticks() > 1000000, 1.0)
ticks = other_ticks()
report(1000000 < ticks < 1000000 + 1000,
       "the guest counts on from the tick value written to memory: %d" % ticks)
gdb.execute("detach")
finish()
