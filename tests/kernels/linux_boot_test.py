#!/usr/bin/env python3
"""Debian's Linux boots to /init under hvgdb and powers off (ACPI S5).

    linux_boot_test.py HVGDB INITRD_DIR VMLINUZ VMLINUX

Boots VMLINUX (PVH entry) with the busybox initramfs of make-initramfs.sh on
1 vCPU, asserts the marker of its /init and exit status 0, then boots the
same kernel, initrd and command line under QEMU (the reference) and checks
that hvgdb's serial log has no error or warning line QEMU's has not,
except the documented ones in ALLOWED. Prints both boot times.
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

PROBLEM = re.compile(r"error|warn|fail|unable|bug|panic|call trace|"
                     r"not working|timed out|stall", re.I)


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


def main():
    hvgdb, initrd_dir, _vmlinuz, vmlinux = sys.argv[1:5]
    here = os.path.dirname(os.path.abspath(__file__))
    initrd = subprocess.run([os.path.join(here, "make-initramfs.sh"),
                             initrd_dir], check=True, stdout=subprocess.PIPE,
                            text=True).stdout.strip()

    rc, out, err, secs = boot([hvgdb, "run", "--memory", "512M", "--initrd",
                               initrd, "--append", APPEND, vmlinux])
    with open(os.path.join(initrd_dir, "hvgdb-serial.log"), "w") as f:
        f.write(out)
    if MARKER not in out:
        print(out[-4000:], err[-2000:], sep="\n")
        sys.exit(f"FAIL: no '{MARKER}' on hvgdb's serial port")
    if rc != 0:
        print(out[-2000:], err[-2000:], sep="\n")
        sys.exit(f"FAIL: hvgdb exited {rc}, want 0 (ACPI S5 power-off)")
    print(f"hvgdb: marker and status 0 in {secs:.2f} s "
          f"(Run /init at {run_init_time(out)} s guest time)")

    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("QEMU not installed: log comparison skipped")
        return
    qrc, qout, qerr, qsecs = boot([qemu, "-kernel", vmlinux, "-initrd",
                                   initrd, "-append", APPEND, "-nographic",
                                   "-m", "512", "-no-reboot"])
    with open(os.path.join(initrd_dir, "qemu-serial.log"), "w") as f:
        f.write(qout)
    if MARKER not in qout:
        sys.exit(f"FAIL: the reference QEMU boot did not reach /init "
                 f"(status {qrc}): {qerr[-500:]}")
    print(f"qemu:  marker and status {qrc} in {qsecs:.2f} s "
          f"(Run /init at {run_init_time(qout)} s guest time)")
    extra = sorted(t for t in problems(out) - problems(qout)
                   if not any(re.search(a, t) for a in ALLOWED))
    for t in sorted(problems(qout) - problems(out)):
        print(f"only under QEMU: {t}")
    if extra:
        for t in extra:
            print(f"only under hvgdb: {t}")
        sys.exit("FAIL: hvgdb's boot prints errors or warnings QEMU's "
                 "does not (above)")
    print("PASS")


if __name__ == "__main__":
    main()
