#!/usr/bin/env python3
"""How Debian's Linux ends under hvgdb when it does not power off: a kernel
panic (init exits, or a sysrq crash) with panic=0 (it spins for ever) and
panic=-1 (it resets at once), a reboot, and a halt.

    linux_panic_test.py HVGDB INITRD_DIR VMLINUZ VMLINUX

Every panic keeps the kernel's panic message on the serial port and ends
hvgdb with status 3 and one line naming it; with a debugger attached, gdb
sees a SIGSEGV stop on the panicking vCPU first and `continue` then ends the
VM with status 3. `reboot -f` ends hvgdb with status 0, as QEMU's
-no-reboot does (checked against QEMU 7.2). `halt -f` leaves every CPU in
hlt with interrupts off: status 3, "every vCPU halted".
"""
import os
import shutil
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 600  # a loaded CI machine; a hang is still a failure
WHY_INIT = "Attempted to kill init!"
failures = []


def check(cond, what, log=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
        if log:
            print(log[-3000:])


def boot(hvgdb, initrd, vmlinux, append):
    argv = [hvgdb, "run", "--memory", "512M", "--initrd", initrd,
            "--append", "console=ttyS0 " + append, vmlinux]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=TIMEOUT)
    return (p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace"))


def expect_panic(run, append, why, after):
    rc, out, err = run(append)
    what = append
    check("Kernel panic - not syncing: " + why in out,
          "%s: the panic message is on the serial port" % what, out)
    check(rc == 3, "%s: status 3 (got %d)" % (what, rc), err)
    last = err.strip().splitlines()[-1] if err.strip() else ""
    check("kernel panic%s: %s" % (after, why) in last,
          "%s: one line names the panic: %r" % (what, last))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_panic_with_debugger(hvgdb, initrd, vmlinux):
    port = free_port()
    hv = subprocess.Popen(
        [hvgdb, "run", "--memory", "512M", "--initrd", initrd, "--append",
         "console=ttyS0 hvgdb_init=panic", "--gdb", "127.0.0.1:%d" % port,
         "--wait", vmlinux],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    gdb = subprocess.run(
        ["gdb", "-q", "-n", "-batch", "-ex", "set pagination off",
         "-ex", "target remote 127.0.0.1:%d" % port, "-ex", "continue",
         "-ex", "monitor info vcpus", "-ex", "continue"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=TIMEOUT)
    out, err = hv.communicate(timeout=60)
    text = gdb.stdout + gdb.stderr
    check("received signal SIGSEGV" in text,
          "with gdb attached the panic is a SIGSEGV stop", text)
    check("crashed" in text and "kernel panic: " + WHY_INIT in text,
          "monitor info vcpus names the panic", text)
    check("terminated with signal SIGSEGV" in text,
          "continue then ends the VM as a crash", text)
    check(hv.returncode == 3, "and hvgdb with status 3 (got %d)"
          % hv.returncode, err.decode(errors="replace"))
    check("Kernel panic - not syncing: " + WHY_INIT in out.decode(
        errors="replace"), "the serial output is kept")


def main():
    hvgdb, initrd_dir, _vmlinuz, vmlinux = sys.argv[1:5]
    initrd = subprocess.run([os.path.join(HERE, "make-initramfs.sh"),
                             initrd_dir], check=True, stdout=subprocess.PIPE,
                            text=True).stdout.strip()

    def run(append):
        return boot(hvgdb, initrd, vmlinux, append)

    out = expect_panic(run, "hvgdb_init=panic", WHY_INIT, "")
    check("---[ end Kernel panic" in out, "panic=0: the kernel's last "
          "line is kept")
    expect_panic(run, "hvgdb_init=panic panic=-1", WHY_INIT,
                 ", then a reset")
    expect_panic(run, "hvgdb_init=sysrq-crash", "sysrq triggered crash", "")
    test_panic_with_debugger(hvgdb, initrd, vmlinux)

    rc, out, err = run("hvgdb_init=reboot")
    check("reboot: Restarting system" in out and rc == 0,
          "reboot -f ends hvgdb with status 0 (got %d)" % rc, out + err)
    qemu = shutil.which("qemu-system-x86_64")
    if qemu:
        q = subprocess.run([qemu, "-kernel", vmlinux, "-initrd", initrd,
                            "-append", "console=ttyS0 hvgdb_init=reboot",
                            "-nographic", "-m", "512", "-no-reboot"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        check(q.returncode == 0 and b"Restarting system" in q.stdout,
              "as QEMU -no-reboot: status %d" % q.returncode)
    else:
        print("QEMU not installed: reboot comparison skipped")

    rc, out, err = run("hvgdb_init=halt")
    check("reboot: System halted" in out and rc == 3 and
          "every vCPU halted with interrupts off" in err,
          "halt -f: status 3 (got %d), every vCPU halted" % rc, out + err)
    if failures:
        sys.exit("FAIL: %d check(s)" % len(failures))
    print("PASS")


if __name__ == "__main__":
    main()
