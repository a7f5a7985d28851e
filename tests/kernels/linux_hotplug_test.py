#!/usr/bin/env python3
"""CPU hot-plug in Debian's Linux under hvgdb, as under QEMU.

    linux_hotplug_test.py HVGDB INITRD_DIR VMLINUZ VMLINUX

Boots VMLINUX on 4 vCPUs with an initramfs whose /init (hotplug-init.sh)
takes CPUs 1-3 offline and back online three times each and runs a
program pinned to each CPU it brought back. An offline CPU waits in its
hlt loop; bringing it back is an INIT and two STARTUP IPIs, the AP
bring-up of the boot again (the INIT must end the hlt and reset the
LAPIC). Asserts every step on hvgdb's serial log, no failed bring-up,
status 0 (power-off), and the same steps under QEMU -smp 4 (the
reference).
"""
import os
import re
import shutil
import subprocess
import sys

import linux_session

TIMEOUT = 600  # a loaded CI machine; a hang is still a failure
CPUS = 4
ROUNDS = 3


def steps_missing(log):
    want = []
    for r in range(1, ROUNDS + 1):
        for c in range(1, CPUS):
            want += [f"hvgdb-hotplug: round {r} cpu{c} offline",
                     f"hvgdb-hotplug: round {r} cpu{c} online, ran"]
    want.append(f"hvgdb-hotplug: done, cpus {CPUS}")
    return [w for w in want if w not in log]


def boot(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=TIMEOUT)
    return (p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace"))


def main():
    hvgdb, initrd_dir, _vmlinuz, vmlinux = sys.argv[1:5]
    os.makedirs(initrd_dir, exist_ok=True)
    initrd = linux_session.make_initramfs(initrd_dir, "hotplug-initrd",
                                          "hotplug-init.sh")
    failed = False
    rc, out, err = boot([hvgdb, "run", "--cpus", str(CPUS), "--memory",
                         "512M", "--initrd", initrd, "--append",
                         "console=ttyS0", vmlinux])
    missing = steps_missing(out)
    bad = re.findall(r".*do_boot_cpu failed.*|.*CPU\d+ failed.*", out)
    if missing or bad or rc != 0:
        print(out[-4000:], err[-2000:], sep="\n")
        print(f"FAIL: hvgdb (status {rc}): missing {missing[:4]} "
              f"{'...' if len(missing) > 4 else ''} failed bring-ups {bad}")
        failed = True
    else:
        print(f"hvgdb: {ROUNDS} rounds of offline/online on CPUs 1-"
              f"{CPUS - 1}, each ran a pinned program; status 0")
    qemu = shutil.which("qemu-system-x86_64")
    if qemu:
        qrc, qout, _ = boot([qemu, "-kernel", vmlinux, "-initrd", initrd,
                             "-append", "console=ttyS0", "-nographic",
                             "-m", "512", "-smp", str(CPUS), "-no-reboot"])
        qmissing = steps_missing(qout)
        if qmissing:
            print(qout[-3000:])
            print(f"FAIL: the reference QEMU -smp {CPUS} misses "
                  f"{qmissing[:4]} (status {qrc})")
            failed = True
        else:
            print(f"qemu: the same steps (status {qrc})")
    else:
        print("QEMU not installed: reference skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
