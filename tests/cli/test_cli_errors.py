#!/usr/bin/env python3
"""Every bad input to `hvgdb` ends with status 2 and exactly one stderr line
starting "hvgdb: ", with no crash and no hang; --help and --version work.

usage: test_cli_errors.py HVGDB"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_elf  # noqa: E402
import tiny_kernels  # noqa: E402

TIMEOUT = 60  # a hang; generous for a loaded host
failures = []


def run(hvgdb, args, preexec=None):
    try:
        p = subprocess.run([hvgdb] + args, capture_output=True,
                           timeout=TIMEOUT, preexec_fn=preexec,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    return p


def check_error(name, hvgdb, args, needle=None, preexec=None):
    p = run(hvgdb, args, preexec)
    if p is None:
        failures.append(f"{name}: hung (no exit within {TIMEOUT}s)")
        return
    err = p.stderr.decode(errors="replace")
    lines = err.splitlines()
    problems = []
    if p.returncode < 0:
        problems.append(f"killed by signal {-p.returncode}")
    elif p.returncode != 2:
        problems.append(f"status {p.returncode}, want 2")
    if len(lines) != 1 or not err.endswith("\n"):
        problems.append(f"{len(lines)} stderr lines, want 1")
    elif not lines[0].startswith("hvgdb: "):
        problems.append("stderr line does not start with 'hvgdb: '")
    if needle and needle not in err:
        problems.append(f"stderr does not mention {needle!r}")
    if p.stdout:
        problems.append(f"unexpected stdout {p.stdout[:80]!r}")
    if problems:
        failures.append(f"{name}: {'; '.join(problems)} "
                        f"[stderr: {err.strip()[:200]!r}]")
    else:
        print(f"ok   {name}: {lines[0]}")


def run_measured(hvgdb, args):
    """(status, stderr, peak RSS in KiB), or None on a hang."""
    p = subprocess.Popen([hvgdb] + args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watchdog = threading.Timer(TIMEOUT, p.kill)
    watchdog.start()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    watchdog.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode == -signal.SIGKILL:
        return None
    return p.returncode, err.decode(errors="replace"), usage.ru_maxrss


def check_file_checks(hvgdb, tmp):
    """A FIFO is refused without waiting for a writer; a sparse 1 GiB file
    is refused without being read into memory (peak RSS stays far below
    its size)."""
    fifo = os.path.join(tmp, "fifo.elf")
    os.mkfifo(fifo)
    check_error("FIFO as guest", hvgdb, ["run", fifo], "not a regular file")

    sparse = os.path.join(tmp, "sparse.elf")
    with open(sparse, "wb") as fh:
        fh.truncate(1 << 30)
    res = run_measured(hvgdb, ["run", sparse])
    if res is None:
        failures.append("sparse 1 GiB file: hung")
        return
    status, err, rss_kib = res
    if status != 2 or len(err.splitlines()) != 1 or rss_kib > 128 * 1024:
        failures.append(f"sparse 1 GiB file: status {status}, peak RSS "
                        f"{rss_kib} KiB (want 2, < 128 MiB) [{err.strip()!r}]")
    else:
        print(f"ok   sparse 1 GiB file: peak RSS {rss_kib} KiB: "
              f"{err.strip()}")

    # a guest followed by 1 GiB of sections that are not loaded (as a
    # kernel's debug information) runs, and only its segments are read
    padded = os.path.join(tmp, "padded.elf")
    with open(padded, "wb") as fh:
        fh.write(tiny_elf.elf64(tiny_elf.echo_guest()))
        fh.truncate(1 << 30)
    res = run_measured(hvgdb, ["run", padded])
    if res is None or res[0] != (0x21 << 1 | 1) or res[2] > 128 * 1024:
        failures.append(f"guest with 1 GiB of unloaded data: {res!r} "
                        "(want status 67, peak RSS < 128 MiB)")
    else:
        print(f"ok   guest with 1 GiB of unloaded data: peak RSS "
              f"{res[2]} KiB")


def check_gdb_addresses(hvgdb, good_elf):
    """--gdb :PORT is [HOST:]PORT with the default host; a wildcard
    address is served but warned about, in one line."""
    p = run(hvgdb, ["run", "--gdb", ":0", good_elf])
    if p is None or p.returncode != (0x21 << 1 | 1) or \
            b"listening on port" not in p.stderr or b"warning" in p.stderr:
        failures.append(f"--gdb :0 not accepted: {p!r}")
    else:
        print("ok   --gdb :0 accepted, no warning")
    for spec in ("0.0.0.0:0", "[::]:0"):
        p = run(hvgdb, ["run", "--gdb", spec, good_elf])
        warnings = [ln for ln in (p.stderr if p else b"").splitlines()
                    if b"warning" in ln]
        if (p is None or p.returncode != (0x21 << 1 | 1) or
                len(warnings) != 1 or b"full control" not in warnings[0]):
            failures.append(f"--gdb {spec}: want one warning line: {p!r}")
        else:
            print(f"ok   --gdb {spec}: {warnings[0].decode()}")


def as_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def main():
    hvgdb = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="hvgdb-cli-")
    os.chmod(tmp, 0o755)
    good = tiny_elf.elf64(tiny_elf.echo_guest())
    files = {
        "good.elf": good,
        "empty.elf": b"",
        "garbage.elf": os.urandom(4096),
        "truncated_header.elf": good[:30],
        "truncated_segment.elf": good[:tiny_elf.CODE_OFFSET + 4],
        "class32.elf": tiny_elf.elf64(tiny_elf.echo_guest(), elf_class=1),
        "i386.elf": tiny_elf.elf64(tiny_elf.echo_guest(),
                                   machine=tiny_elf.EM_386),
        "dyn.elf": tiny_elf.elf64(tiny_elf.echo_guest(),
                                  etype=tiny_elf.ET_DYN),
        "beyond_ram.elf": tiny_elf.elf64(tiny_elf.echo_guest(),
                                         paddr=0x10000000),
        "memsz_beyond_ram.elf": tiny_elf.elf64(tiny_elf.echo_guest(),
                                               memsz=0x400000),
        "low.elf": tiny_elf.elf64(tiny_elf.echo_guest(), paddr=0x10000),
        "entry_outside.elf": tiny_elf.elf64(tiny_elf.echo_guest(),
                                            entry=0x200000),
        "bz.img": tiny_kernels.bzimage(),
        "bz32.img": tiny_kernels.bzimage(xloadflags=0),
        "bz211.img": tiny_kernels.bzimage(version=0x020b),
        "bz_truncated.img": tiny_kernels.bzimage()[:0x240],
        "mb1.img": tiny_kernels.multiboot1(),
        "mb1_badsum.img": tiny_kernels.multiboot1(checksum_ok=False),
        "initrd.cpio": b"070701" + bytes(122),
    }
    for name, data in files.items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    f = lambda n: os.path.join(tmp, n)  # noqa: E731
    unreadable = f("unreadable.elf")
    with open(unreadable, "wb") as fh:
        fh.write(good)
    os.chmod(unreadable, 0)
    os.mkdir(f("dir.elf"))

    sparse_initrd = f("big.initrd")
    with open(sparse_initrd, "wb") as fh:
        fh.truncate(64 << 20)
    cases = [
        ("bzImage without 64-bit entry", ["run", f("bz32.img")],
         "bzImage without a 64-bit entry point (xloadflags)"),
        ("bzImage protocol 2.11", ["run", f("bz211.img")],
         "bzImage with boot protocol 2.11"),
        ("truncated bzImage", ["run", f("bz_truncated.img")], "bzImage"),
        ("bzImage too big for RAM", ["run", "--memory", "16M", f("bz.img")],
         "--memory"),
        ("bzImage command line over cmdline_size",
         ["run", "--append", "x" * 256, f("bz.img")], "(cmdline_size)"),
        ("bzImage -- args over cmdline_size",
         ["run", f("bz.img"), "--", "y" * 300], "(cmdline_size)"),
        ("initrd larger than RAM", ["run", "--memory", "32M", "--initrd",
                                    sparse_initrd, f("bz.img")],
         "does not fit"),
        ("missing initrd", ["run", "--initrd", f("nope.cpio"), f("bz.img")],
         "No such file"),
        ("initrd is a directory", ["run", "--initrd", f("dir.elf"),
                                   f("bz.img")], "directory"),
        ("--initrd with an hvgdb ELF", ["run", "--initrd", f("initrd.cpio"),
                                        f("good.elf")], "takes no --initrd"),
        ("17 initrds", ["run"] + ["--initrd", f("initrd.cpio")] * 17 +
         [f("bz.img")], "more than 16"),
        ("--append and -- args", ["run", "--append", "a", f("good.elf"),
                                  "--", "b"], "not both"),
        ("Multiboot bad checksum", ["run", f("mb1_badsum.img")],
         "bad checksum"),
        ("no command", [], "missing command"),
        ("unknown command", ["start", f("good.elf")], "unknown command"),
        ("unknown top-level option", ["--bogus"], "unknown option"),
        ("no guest", ["run"], "missing guest"),
        ("two guests", ["run", f("good.elf"), f("good.elf")], "unexpected"),
        ("missing file", ["run", f("nope.elf")], "No such file"),
        ("directory", ["run", f("dir.elf")], "directory"),
        ("empty file", ["run", f("empty.elf")], "empty"),
        ("garbage file", ["run", f("garbage.elf")], None),
        ("truncated header", ["run", f("truncated_header.elf")], None),
        ("truncated segment", ["run", f("truncated_segment.elf")], None),
        ("ELF32", ["run", f("class32.elf")], None),
        ("wrong machine", ["run", f("i386.elf")], None),
        ("ET_DYN", ["run", f("dyn.elf")], None),
        ("segment beyond RAM", ["run", "--memory", "64M",
                                f("beyond_ram.elf")], None),
        ("memsz beyond RAM", ["run", "--memory", "2M",
                              f("memsz_beyond_ram.elf")], None),
        ("segment below 1 MiB", ["run", f("low.elf")], None),
        ("entry outside segments", ["run", f("entry_outside.elf")], None),
        ("zero cpus", ["run", "--cpus", "0", f("good.elf")], "CPU count"),
        ("65 cpus", ["run", "--cpus=65", f("good.elf")], "CPU count"),
        ("huge cpus", ["run", "--cpus", "99999999999999999999",
                       f("good.elf")], "CPU count"),
        ("garbage cpus", ["run", "--cpus", "two", f("good.elf")],
         "CPU count"),
        ("zero memory", ["run", "--memory", "0", f("good.elf")], "memory"),
        ("tiny memory", ["run", "--memory", "1M", f("good.elf")], "memory"),
        ("oversized memory", ["run", "--memory", "4G", f("good.elf")],
         "memory"),
        ("overflowing memory", ["run", "--memory=999999999999999999999G",
                                f("good.elf")], "memory"),
        ("garbage memory", ["run", "--memory", "lots", f("good.elf")],
         "memory"),
        ("unaligned memory", ["run", "--memory", "2097153",
                              f("good.elf")], "4K"),
        ("unknown option", ["run", "--frobnicate", f("good.elf")],
         "unknown option"),
        ("unknown short option", ["run", "-x", f("good.elf")],
         "unknown option"),
        ("missing value", ["run", f("good.elf"), "--memory"],
         "needs a value"),
        ("empty value", ["run", "--cpus=", f("good.elf")], "needs a value"),
        ("flag with value", ["run", "--wait=yes", "-s", f("good.elf")],
         "takes no value"),
        ("wait without gdb", ["run", "--wait", f("good.elf")], "--gdb"),
        ("-S without -s", ["run", "-S", f("good.elf")], "--gdb"),
        ("bad vendor", ["run", "--cpu-vendor", "via", f("good.elf")],
         "vendor"),
        ("bad backend", ["run", "--backend", "kvm", f("good.elf")],
         "backend"),
        ("bad serial", ["run", "--serial", "tty", f("good.elf")], "serial"),
        ("bad gdb address", ["run", "--gdb", "host:port", f("good.elf")],
         "--gdb"),
        ("unwritable serial file", ["run", "--serial",
                                    "file:" + f("dir.elf"), f("good.elf")],
         "serial"),
        ("newline in argument", ["run", "--cpus", "1\n2", f("good.elf")],
         "CPU count"),
        ("command line too long", ["run", f("good.elf"), "--",
                                   "x" * 5000], "command line"),
    ]
    for name, args, needle in cases:
        check_error(name, hvgdb, args, needle)

    if os.geteuid() == 0:
        # root reads anything: drop to nobody for this one case. nobody may
        # not reach the build tree (a clone under a 0700 mktemp directory),
        # so it runs a copy of hvgdb from the test's own directory.
        hvgdb_copy = f("hvgdb")
        shutil.copy(hvgdb, hvgdb_copy)
        os.chmod(hvgdb_copy, 0o755)
        check_error("unreadable file", hvgdb_copy, ["run", unreadable],
                    "Permission denied", preexec=as_nobody)
    else:
        check_error("unreadable file", hvgdb, ["run", unreadable],
                    "Permission denied")

    check_file_checks(hvgdb, tmp)
    check_gdb_addresses(hvgdb, f("good.elf"))

    p = run(hvgdb, ["--help"])
    if (p is None or p.returncode != 0 or p.stderr or
            b"hvgdb run [options] KERNEL" not in p.stdout or
            b"--initrd FILE" not in p.stdout or
            b"--cpu-vendor" not in p.stdout):
        failures.append(f"--help: {p!r}")
    else:
        print("ok   --help")
    p = run(hvgdb, ["run", "--help"])
    if p is None or p.returncode != 0 or b"Usage" not in p.stdout:
        failures.append(f"run --help: {p!r}")
    else:
        print("ok   run --help")
    p = run(hvgdb, ["--version"])
    if (p is None or p.returncode != 0 or p.stderr or
            not p.stdout.startswith(b"hvgdb ") or
            p.stdout.count(b"\n") != 1):
        failures.append(f"--version: {p!r}")
    else:
        print(f"ok   --version: {p.stdout.decode().strip()}")

    shutil.rmtree(tmp, ignore_errors=True)
    for msg in failures:
        print("FAIL " + msg)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
