#!/usr/bin/env python3
"""Sums up a scheduling trace written with HVGDB_SCHED_TRACE=FILE.

    sched-trace-report.py TRACE [--bin MS] [--map System.map] [--events N]

Per time bin (guest time from the first record): how long each vCPU held
the execution lock, the interrupts taken per vector, the IPIs sent per
vector and why the lock was given up (release reasons: 1 hlt, 2 a stop
request such as an IPI or a kick, 4 PAUSE-loop exiting, 8 end of the slice,
16 an exit to report). Then the guest RIPs where vCPUs most often gave the
lock up, named from a symbol list when one is given (System.map, or the
guest's /proc/kallsyms: Debian ships a placeholder System.map). --events N prints the
first N records as they are, with names.
"""
import argparse
import bisect
from collections import Counter, defaultdict


def load_map(path):
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tTwW":
                syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def namer(map_path):
    if not map_path:
        return hex
    addrs, names = load_map(map_path)

    def name(x):
        i = bisect.bisect_right(addrs, x) - 1
        if i < 0 or x - addrs[i] > 0x100000:
            return hex(x)
        return f"{names[i]}+{x - addrs[i]:#x}"
    return name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--bin", type=float, default=500.0, help="ms per row")
    ap.add_argument("--map", help="System.map or kallsyms for guest RIPs")
    ap.add_argument("--events", type=int, default=0)
    args = ap.parse_args()
    name = namer(args.map)

    records = []
    with open(args.trace) as f:
        for line in f:
            t, vcpu, ev, a, b = line.split()
            records.append((int(t), int(vcpu), ev, int(a), int(b, 16)))
    if not records:
        print("empty trace")
        return
    t0 = records[0][0]

    if args.events:
        for t, vcpu, ev, a, b in records[:args.events]:
            where = name(b) if b >> 63 else hex(b)
            print(f"{(t - t0) / 1e6:10.3f} ms vCPU {vcpu} {ev:8} {a:8} {where}")
        return

    held_since = {}
    busy = defaultdict(float)
    intr, ipis, why = Counter(), Counter(), Counter()
    release_rips = Counter()
    ncpus = 1 + max(r[1] for r in records)
    for t, vcpu, ev, a, b in records:
        ms = (t - t0) / 1e6
        row = int(ms // args.bin)
        if ev == "acquire":
            held_since[vcpu] = ms
        elif ev == "release" and vcpu in held_since:
            busy[row, vcpu] += ms - held_since.pop(vcpu)
            why[row, a] += 1
            release_rips[b] += 1
        elif ev == "intr":
            intr[row, a] += 1
        elif ev == "ipi":
            ipis[row, b & 0xff] += 1
    rows = 1 + max(k[0] for k in busy) if busy else 0

    def per_row(counter, row):
        return " ".join(f"{k:#x}:{n}" if counter is not why else f"{k}:{n}"
                        for (r, k), n in sorted(counter.items()) if r == row)

    print(f"{'time':>8}  lock held per vCPU (ms)")
    for row in range(rows):
        held = " ".join(f"{busy[row, c]:6.1f}" for c in range(ncpus))
        print(f"{row * args.bin / 1000:7.2f}s [{held}] "
              f"intr[{per_row(intr, row)}] ipi[{per_row(ipis, row)}] "
              f"release[{per_row(why, row)}]")
    print("\nwhere the lock was given up most often:")
    for rip, n in release_rips.most_common(15):
        print(f"{n:8} {name(rip) if rip >> 63 else hex(rip)}")


if __name__ == "__main__":
    main()
