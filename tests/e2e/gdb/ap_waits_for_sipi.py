# A kernel-format guest (Multiboot, --cpus 2, --wait): vCPU 0 is at the
# kernel's entry in protected mode, vCPU 1 is an application processor that
# no INIT/SIPI has started: `monitor info vcpus` and `info threads` say it
# is in the wait-for-SIPI state, in real mode at the reset vector F000:FFF0.
from gdbtest import *

connect(load_file=False)
out = run("monitor info vcpus")
rows = [l.split() for l in out.splitlines()[1:] if l.strip()]
report(len(rows) == 2, "two vCPUs listed: %r" % out)
report(rows[0][1:3] == ["stopped", "protected"],
       "vCPU 0 stopped at the entry, protected mode: %r" % out)
report(rows[1][1:4] == ["wait-for-SIPI", "real", "0x000000000000fff0"],
       "vCPU 1 in wait-for-SIPI, real mode, at fff0: %r" % out)
report("vCPU 1, wait-for-SIPI, real" in run("info threads"),
       "info threads says so")
report(reg("cs", 2) == 0xf000 and reg("pc", 2) == 0xfff0,
       "vCPU 1 at F000:FFF0 (cs %#x, pc %#x)" % (reg("cs", 2), reg("pc", 2)))
gdb.execute("kill")
finish()
