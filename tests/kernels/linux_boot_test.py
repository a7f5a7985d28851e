#!/usr/bin/env python3
"""Debian's Linux boots to /init under hvgdb and powers off (ACPI S5).

    linux_boot_test.py HVGDB INITRD_DIR VMLINUZ VMLINUX

Boots VMLINUX (PVH entry) with the busybox initramfs of make-initramfs.sh on
1, 2 and 4 vCPUs (LINUX_BOOT_CPUS="1 2 4 8" to choose), and for each count
asserts the marker of its /init, exit status 0, that Linux brought up
every CPU ("smp: Brought up 1 node, N CPUs") and that it uses the CPU
model's x2APIC and TSC-deadline timer (QEMU 7.2's TCG offers neither, so
its log is not asked for them); then boots the same kernel,
initrd and command line under QEMU with -smp N (the reference) and checks
that hvgdb's serial log has no error or warning line QEMU's has not,
except the documented ones in ALLOWED. Prints both boot times.

LINUX_BOOT_IMAGE=bzimage boots VMLINUZ instead, the bzImage through the
64-bit boot protocol with its own decompressor and KASLR, under hvgdb and
QEMU alike (the marker, the CPUs and the log comparison as above).

hvgdb inherits this script's environment unchanged: HVGDB_EXEC=serial (or
parallel) there chooses how its vCPUs execute instead of hvgdb's default;
the mode is then printed with each boot, and its serial logs are named
after it so that they do not replace those of a default run.
"""
import os
import re
import shutil
import subprocess
import sys
import time

MARKER = "hvgdb-init: up"
APPEND = "console=ttyS0"
TIMEOUT = 600  # the CI machine is slow; a hang is still a failure

# Lines QEMU does not print, and why they are expected under hvgdb.
ALLOWED = [
    # hvgdb's CPU model has no PMU (QEMU's qemu64 prints its own variant).
    r"Performance Events: unsupported p6 CPU model",
    # Bugs reported for hvgdb's CPUID family/model, not the platform.
    r"RETBleed: WARNING",
    r"MDS: Vulnerable", r"MMIO Stale Data: Vulnerable",
    r"intel_pstate: CPU model not supported",
    # No machine-check banks in the CPU model.
    r"mce: Unable to init MCE device",
]

# "unstable": the clocksource watchdog's verdict on the TSC, a warning
# whatever its wording ("Marking clocksource 'tsc-early' as unstable").
PROBLEM = re.compile(r"error|warn|fail|unable|unstable|bug|panic|"
                     r"call trace|not working|timed out|stall", re.I)
BROUGHT_UP = re.compile(r"smp: Brought up \d+ nodes?, (\d+) CPUs?")
# What Linux prints when it switches its LAPIC to x2APIC mode and finds
# the TSC-deadline timer (arch/x86/kernel/apic/apic.c).
APIC_LINES = ["x2apic enabled", "TSC deadline timer available"]


def problems(log):
    out = set()
    for line in log.splitlines():
        text = re.sub(r"^\[\s*[0-9.]+\]\s*", "", line).strip()
        # Numbers (addresses, sizes, times) differ between runs.
        text = re.sub(r"0x[0-9a-f]+|\d+", "N", text)
        if PROBLEM.search(text):
            out.add(text)
    return out


def boot(argv):
    start = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace"), time.monotonic() - start


def run_init_time(log):
    m = re.search(r"\[\s*([0-9.]+)\] Run /init", log)
    return m.group(1) if m else "?"


def cpus_brought_up(log):
    m = BROUGHT_UP.search(log)
    return int(m.group(1)) if m else 0


# HVGDB_EXEC as hvgdb sees it (inherited); empty means hvgdb's default.
EXEC_MODE = os.environ.get("HVGDB_EXEC", "")
# Which of the kernel's two images boots: vmlinux (PVH) or the bzImage.
IMAGE = os.environ.get("LINUX_BOOT_IMAGE", "vmlinux")


def boot_hvgdb(hvgdb, initrd, vmlinux, ncpus, log_dir):
    rc, out, err, secs = boot([hvgdb, "run", "--cpus", str(ncpus),
                               "--memory", "512M", "--initrd", initrd,
                               "--append", APPEND, vmlinux])
    mode = f".exec-{EXEC_MODE}" if EXEC_MODE else ""
    mode += f".{IMAGE}" if IMAGE != "vmlinux" else ""
    log = os.path.join(log_dir, f"hvgdb-serial-{ncpus}{mode}.log")
    with open(log, "w") as f:
        f.write(out)
    # hvgdb's own messages (an AP's triple fault, an unclaimed port) are
    # kept too: a failed boot is judged from both.
    with open(log.replace("hvgdb-serial-", "hvgdb-stderr-"), "w") as f:
        f.write(err)
    print(f"hvgdb, {ncpus} vCPUs: serial log in {log}")
    if MARKER not in out:
        print(out[-4000:], err[-2000:], sep="\n")
        sys.exit(f"FAIL ({ncpus} vCPUs): no '{MARKER}' on hvgdb's serial "
                 "port")
    if rc != 0:
        print(out[-2000:], err[-2000:], sep="\n")
        sys.exit(f"FAIL ({ncpus} vCPUs): hvgdb exited {rc}, want 0 (ACPI "
                 "S5 power-off)")
    if cpus_brought_up(out) != ncpus:
        print(out[-4000:], err[-2000:], sep="\n")
        sys.exit(f"FAIL: Linux brought up {cpus_brought_up(out)} of "
                 f"{ncpus} vCPUs")
    missing = [t for t in APIC_LINES if t not in out]
    if missing:
        print(out[-4000:])
        sys.exit(f"FAIL ({ncpus} vCPUs): no {missing} in hvgdb's serial log")
    print(f"hvgdb, {ncpus} vCPUs, {IMAGE}"
          f"{' (HVGDB_EXEC=' + EXEC_MODE + ')' if EXEC_MODE else ''}: "
          f"marker, {ncpus} CPUs up, x2APIC with "
          f"the TSC-deadline timer and status 0 in "
          f"{secs:.2f} s (Run /init at {run_init_time(out)} s guest time)")
    return out


def boot_qemu(qemu, initrd, vmlinux, ncpus, log_dir):
    qrc, qout, qerr, qsecs = boot([qemu, "-kernel", vmlinux, "-initrd",
                                   initrd, "-append", APPEND, "-nographic",
                                   "-m", "512", "-smp", str(ncpus),
                                   "-no-reboot"])
    tag = f".{IMAGE}" if IMAGE != "vmlinux" else ""
    with open(os.path.join(log_dir, f"qemu-serial-{ncpus}{tag}.log"),
              "w") as f:
        f.write(qout)
    if MARKER not in qout or cpus_brought_up(qout) != ncpus:
        sys.exit(f"FAIL: the reference QEMU boot (-smp {ncpus}) did not "
                 f"reach /init with every CPU (status {qrc}): "
                 f"{qerr[-500:]}")
    print(f"qemu,  {ncpus} vCPUs: marker and status {qrc} in {qsecs:.2f} s "
          f"(Run /init at {run_init_time(qout)} s guest time)")
    return qout


def compare(out, qout, ncpus):
    """Fails on an error or warning line that only hvgdb's log has."""
    extra = sorted(t for t in problems(out) - problems(qout)
                   if not any(re.search(a, t) for a in ALLOWED))
    for t in sorted(problems(qout) - problems(out)):
        print(f"only under QEMU -smp {ncpus}: {t}")
    for t in extra:
        print(f"only under hvgdb --cpus {ncpus}: {t}")
    return not extra


def main():
    hvgdb, initrd_dir, vmlinuz, vmlinux = sys.argv[1:5]
    if IMAGE not in ("vmlinux", "bzimage"):
        sys.exit(f"LINUX_BOOT_IMAGE must be vmlinux or bzimage, not {IMAGE}")
    kernel = vmlinuz if IMAGE == "bzimage" else vmlinux
    here = os.path.dirname(os.path.abspath(__file__))
    initrd = subprocess.run([os.path.join(here, "make-initramfs.sh"),
                             initrd_dir], check=True, stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    counts = [int(n) for n in os.environ.get("LINUX_BOOT_CPUS",
                                             "1 2 4").split()]
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("QEMU not installed: log comparison skipped")
    clean = True
    for ncpus in counts:
        out = boot_hvgdb(hvgdb, initrd, kernel, ncpus, initrd_dir)
        if qemu:
            qout = boot_qemu(qemu, initrd, kernel, ncpus, initrd_dir)
            clean = compare(out, qout, ncpus) and clean
    if not clean:
        sys.exit("FAIL: hvgdb's boot prints errors or warnings QEMU's "
                 "does not (above)")
    print("PASS")


if __name__ == "__main__":
    main()
