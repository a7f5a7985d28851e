#!/usr/bin/env python3
"""Stock gdb against gdbstub_mock_server: threads, registers, memory, step.

No guest exists behind the mock, so breakpoints are not hit here; this
checks what gdb makes of our target description and replies.
Usage: gdb_smoke.py PATH/TO/gdbstub_mock_server [intel|amd]
"""
import re
import subprocess
import sys


def main(server, cpu):
    proc = subprocess.Popen([server, "--vcpus", "3", "--cpu", cpu],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        port = int(proc.stdout.readline().split()[1])
        cmds = [
            "set pagination off",
            "set confirm off",
            # gdb's default 2 s for an answer is short for a busy host
            "set remotetimeout 60",
            f"target remote 127.0.0.1:{port}",
            "info threads",
            "info registers rip rsp rbp eflags cs cr0 cr3 efer fs_base k_gs_base",
            "p $xmm0.uint128",
            "p/x $st0",
            "x/8xb 0x1000",
            "set var $rbx = 0x1122334455667788",
            "p/x $rbx",
            "set {unsigned char}0x2000 = 0xab",
            "x/1xb 0x2000",
            "thread 3",
            "p $pc",
            "set scheduler-locking on",
            "stepi",
            "p $pc",
            "thread 1",
            "p $pc",
            "monitor help",
            "detach",
        ]
        args = ["gdb", "-nx", "-q", "-batch"]
        for c in cmds:
            args += ["-ex", c]
        out = subprocess.run(args, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             timeout=60).stdout
        print(out)
        checks = [
            r"\* 1\s+Thread 1 \(vCPU 0, \w+, 64-bit\)",
            r"3\s+Thread 3 \(vCPU 2,",
            r"rip\s+0x1[0-9a-f]{3}",
            r"cr3\s+0x",
            r"efer\s+0x",
            r"k_gs_base\s+0x",
            r"0x1000:\s+0x90\s+0x90",
            r"\$\d+ = 0x1122334455667788",
            r"0x2000:\s+0xab",
            r"hvgdb monitor commands",
            r"Inferior 1 \(Remote target\) detached",
        ]
        for pat in checks:
            if not re.search(pat, out):
                print(f"gdb_smoke: missing /{pat}/")
                return 1
        # stepi on thread 3 with scheduler-locking: +1, thread 1 unmoved
        pcs = re.findall(r"\$\d+ = \(void \(\*\)\(\)\) (0x[0-9a-f]+)", out)
        # one toy instruction: +1, or the jump back at loop offset 0xf
        before = int(pcs[0], 16) if pcs else 0
        want = before - 0xF if before & 0xFF == 0x0F else before + 1
        if len(pcs) != 3 or int(pcs[1], 16) != want:
            print("gdb_smoke: stepi did not move thread 3 by one:", pcs)
            return 1
        first = re.search(r"\* 1\s+Thread 1 .*? (0x[0-9a-f]+) in", out)
        if not first or int(first.group(1), 16) != int(pcs[2], 16):
            print("gdb_smoke: thread 1 moved under scheduler-locking")
            return 1
        if "warning: Remote failure" in out or "Remote 'g' packet" in out:
            return 1
        print("gdb_smoke: ok")
        return 0
    finally:
        proc.terminate()
        proc.wait(timeout=60)  # generous: a busy host


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "intel"))
