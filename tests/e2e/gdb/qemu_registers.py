# QEMU's gdbstub registers.py scenario on our demo guest, and more: the
# target description gdb took is consistent (no register twice, numbers in
# order, gdb's remote layout = ours), every register of it reads on every
# vCPU and takes its own value back, a sample of every class takes a new
# value (checked after gdb forgets its cache), what cannot be written is
# refused, the descriptor-table and debug registers hold what the boot
# protocol and the guest set, and registers change as the guest runs.
import re
import xml.etree.ElementTree as ET

from gdbtest import *

connect()
bp = gdb.Breakpoint("demo_work_item")
gdb.execute("continue")
bp.delete()


def flush():
    """Forget gdb's register cache: the next read asks hvgdb ('g')."""
    run("maint flush register-cache")


def shown(name):
    """What `p/x $name` prints, without its value-history number."""
    return run("p/x $" + name).split("=", 1)[1].strip()


# ---- the description ----------------------------------------------------
tree = ET.fromstring(run("maint print xml-tdesc"))
regs = []
for f in tree.findall("feature"):
    for r in f.findall("reg"):
        regs.append((r.attrib["name"], int(r.attrib["regnum"]),
                     int(r.attrib["bitsize"])))
names = [r[0] for r in regs]
dups = sorted({n for n in names if names.count(n) > 1})
report(not dups, "no register described twice: %s" % dups)
report([r[1] for r in regs] == list(range(len(regs))),
       "%d registers numbered 0..%d in order" % (len(regs), len(regs) - 1))
NEW = ["gdtr_base", "gdtr_limit", "idtr_base", "idtr_limit", "ldtr",
       "ldtr_base", "ldtr_limit", "ldtr_attr", "tr", "tr_base", "tr_limit",
       "tr_attr", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7"]
for s in ("cs", "ss", "ds", "es"):
    NEW += [s + "_base", s + "_limit", s + "_attr"]
NEW += ["fs_limit", "fs_attr", "gs_limit", "gs_attr"]
missing = [n for n in NEW if n not in names]
report(not missing, "the description has every descriptor and debug "
       "register (missing: %s)" % missing)

# gdb's remote layout: each register at its number, at the 'g' offset the
# sizes before it make (the 'g' packet is the whole table, in order)
remote = {}
for line in run("maint print remote-registers").splitlines():
    # Name Nr Rel Offset Size Type RmtNr g/G-Offset [Expedited]
    m = re.match(r"\s*(\S+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s+.*?\s(\d+)\s+(\d+)"
                 r"(\s+[a-z]+)?\s*$", line)
    if m:
        remote[m.group(1)] = (int(m.group(3)), int(m.group(4)))
offset, bad = 0, []
for name, num, bits in regs:
    if remote.get(name) != (num, offset):
        bad.append((name, remote.get(name), (num, offset)))
    offset += bits // 8
report(not bad and offset == 796,
       "gdb's remote layout is the 'g' packet's, %d bytes (wrong: %s)"
       % (offset, bad[:5]))

# ---- every register, every vCPU --------------------------------------------
initial = {}
for t in thread_tids():
    select_tid(t)
    flush()
    unavailable, unreadable = [], []
    for name in names:
        try:
            text = shown(name)
        except gdb.error as e:
            unreadable.append("%s (%s)" % (name, e))
            continue
        if "<unavailable>" in text:
            unavailable.append(name)
        if t == thread_tids()[0]:
            initial[name] = text
    report(not unavailable and not unreadable,
           "thread %d: all %d registers read (unavailable %s, errors %s)"
           % (t, len(names), unavailable, unreadable))

select_tid(thread_tids()[0])
refused = []
for name in names:
    try:
        gdb.execute("set $%s = $%s" % (name, name))
    except gdb.error as e:
        refused.append("%s (%s)" % (name, e))
flush()
changed = [n for n in names if shown(n) != initial[n]]
report(not refused and not changed,
       "every register takes its own value back (refused %s, changed %s)"
       % (refused, changed))

# ---- new values read back from hvgdb, then the old ones -----------------
SAMPLE = {"r15": 0x1122334455667788, "xmm5.v2_int64[0]": 0x0102030405060708,
          "k_gs_base": 0xffff888800001000, "cr2": 0xdead000,
          "gdtr_limit": 0x27, "idtr_base": 0x123000, "tr_base": 0x7000,
          "ldtr_limit": 0x77, "dr1": 0xffffffff81000000, "dr3": 0x4000}
for name, value in SAMPLE.items():
    old = int(gdb.parse_and_eval("$" + name))
    gdb.execute("set $%s = %d" % (name, value))
    flush()
    got = int(gdb.parse_and_eval("$" + name)) & 0xFFFFFFFFFFFFFFFF
    gdb.execute("set $%s = %d" % (name, old))
    flush()
    back = int(gdb.parse_and_eval("$" + name))
    report(got == value and back == old,
           "%s: wrote 0x%x, hvgdb has 0x%x; 0x%x restored" % (name, value,
                                                             got, old))

# what the vCPU cannot take is refused, and nothing changes
for expr, why in (("$cs_base = 0x1000", "cs's hidden part"),
                  ("$ss_attr = 0", "ss's attributes"),
                  ("$tr_attr = 0", "tr's attributes"),
                  ("$dr7 = 0x100000400", "DR7 bits 63:32")):
    name = expr.split()[0][1:]
    before = shown(name)
    try:
        gdb.execute("set " + expr)
        ok = False
    except gdb.error as e:
        ok = "E" in str(e)
    flush()
    report(ok and shown(name) == before,
           "writing %s is refused (%s), the value kept" % (why, expr))

# ---- what the values are ----------------------------------------------------
# hvgdb's boot GDT (docs/booting.md) and guests/lib's IDT
report(reg("gdtr_base") == 0x1000 and reg("gdtr_limit") == 0x17,
       "gdtr is the boot GDT: 0x%x/0x%x" % (reg("gdtr_base"),
                                           reg("gdtr_limit")))
idt = int(gdb.parse_and_eval("(unsigned long)&idt"))
idt_size = int(gdb.parse_and_eval("sizeof(idt)"))
report(reg("idtr_base") == idt and reg("idtr_limit") == idt_size - 1,
       "idtr is the guest's idt at 0x%x, limit 0x%x: 0x%x/0x%x"
       % (idt, idt_size - 1, reg("idtr_base"), reg("idtr_limit")))
# the hidden part of cs, decoded by gdb from the description's flags type
cs_attr = run("info registers cs_attr")
fields = cs_attr[cs_attr.find("[") + 1:cs_attr.find("]")].split()
report({"type=0xb", "S", "P", "L", "G"} <= set(fields) or
       {"type=11", "S", "P", "L", "G"} <= set(fields),
       "cs_attr: 64-bit code, present: %r" % cs_attr.strip())
report(reg("cs_base") == 0 and reg("ds_limit") == 0xffffffff,
       "flat cs base and ds limit: 0x%x 0x%x" % (reg("cs_base"),
                                                reg("ds_limit")))
tr_type = reg("tr_attr") & 0xf
report(tr_type == 0xb and reg("ldtr_attr") & (1 << 16),
       "a busy 64-bit TSS in tr (type %d), no LDT" % tr_type)
report(reg("dr7") == 0x400 and reg("dr6") == 0xffff0ff0,
       "debug registers at their reset values: dr7 0x%x dr6 0x%x"
       % (reg("dr7"), reg("dr6")))
# gdb's amd64 puts every integer register in `info registers`; lldb's
# plain `register read` keeps to the general ones (e2e.lldb_registers)
out = run("info registers")
report(all(("\n%s " % n) in out for n in ("gdtr_base", "cs_attr", "tr",
                                          "dr7")),
       "info registers lists the descriptor and debug registers")
out = run("p $idtr_base")
report("<idt>" in out, "idtr_base prints as a pointer to idt: %r"
       % out.strip())

# ---- the guest runs: registers change (QEMU's check) ------------------------
before = {n: shown(n) for n in names}
bp = gdb.Breakpoint("demo_mix")
gdb.execute("continue")
bp.delete()
moved = [n for n in names if shown(n) != before[n]]
report("rip" in moved, "%d registers changed as the guest ran: %s"
       % (len(moved), moved[:8]))
gdb.execute("detach")
finish()
