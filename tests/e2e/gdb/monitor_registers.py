# monitor commands, and every register class readable and writable.
from gdbtest import *

connect()
out = run("monitor help")
for word in ("info vcpus", "info breakpoints", "info stats", "phys"):
    report(word in out, "monitor help mentions '%s'" % word)

gdb.execute("set breakpoint always-inserted on")
bp = gdb.Breakpoint("demo_work_item")
gdb.execute("continue")
out = run("monitor info vcpus")
rows = [l.split() for l in out.splitlines()[1:] if l.strip()]
report([int(r[0]) for r in rows] == list(range(CPUS)) and
       all(r[1] in ("stopped", "halted") and "64-bit" in r for r in rows),
       "monitor info vcpus lists every vCPU as stopped (or halted) "
       "in 64-bit mode while gdb has the VM stopped: %r" % out)
out = run("monitor info breakpoints")
bp_gva = int(gdb.parse_and_eval("(unsigned long)demo_work_item"))
report(("%x" % bp_gva) in out,
       "monitor info breakpoints lists ours at 0x%x: %r" % (bp_gva, out))

# System registers as the boot protocol sets them.
report(reg("cr0") & 0x80000001 == 0x80000001, "cr0 has PE and PG: 0x%x" % reg("cr0"))
report(reg("cr4") & 0x20, "cr4 has PAE: 0x%x" % reg("cr4"))
report(reg("efer") & 0x500 == 0x500, "efer has LME and LMA: 0x%x" % reg("efer"))
report(reg("cr3") != 0, "cr3 is set: 0x%x" % reg("cr3"))
out = run("info all-registers")
for name in ("rax", "rip", "eflags", "cs", "st0", "fctrl", "xmm0", "mxcsr",
             "fs_base", "gs_base", "k_gs_base", "cr0", "cr2", "cr3", "cr4",
             "cr8", "efer"):
    report(("\n" + name + " ") in ("\n" + out) or out.startswith(name),
           "info all-registers shows %s" % name)
report("<unavailable>" not in out.split("st0")[0],
       "general registers are all available")

# Writes read back (then the guest's own values go back, so it runs on).
saved = {r: reg(r) for r in ("k_gs_base", "fs_base", "rbx")}
saved_xmm0 = int(gdb.parse_and_eval("$xmm0.v2_int64[0]"))
gdb.execute("set $k_gs_base = 0xffff888812345000")
report(reg("k_gs_base") == 0xffff888812345000, "k_gs_base write reads back")
gdb.execute("set $fs_base = 0x7000")
report(reg("fs_base") == 0x7000, "fs_base write reads back")
gdb.execute("set $xmm0.v2_int64[0] = 0x1122334455667788")
v = int(gdb.parse_and_eval("$xmm0.v2_int64[0]"))
report(v == 0x1122334455667788, "xmm0 write reads back: 0x%x" % v)
gdb.execute("set $rbx = 0xdeadbeefcafe")
report(reg("rbx") == 0xdeadbeefcafe, "rbx write reads back")
gdb.execute("set $cr8 = 0")
report(reg("cr8") == 0, "cr8 readable and writable")
for r, v in saved.items():
    gdb.execute("set $%s = %d" % (r, v))
gdb.execute("set $xmm0.v2_int64[0] = %d" % saved_xmm0)
report(all(reg(r) == v for r, v in saved.items()), "original values restored")

# Physical-memory mode: the same bytes through the identity map.
addr = reg("rip")
virt = bytes(gdb.selected_inferior().read_memory(addr, 16))
out = run("monitor phys on")
phys = bytes(gdb.selected_inferior().read_memory(addr, 16))
run("monitor phys off")
report(virt == phys, "physical mode reads the same code bytes (identity map)")
bp.delete()
gdb.execute("detach")
finish()
