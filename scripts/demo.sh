#!/usr/bin/env bash
# `make demo`: boot the SMP demo guest under hvgdb and drive a real gdb
# session against it, printing what gdb prints.
set -euo pipefail
build=${1:-build}
hvgdb=$build/src/cli/hvgdb
guest=$build/guests/demo.elf
work=$(mktemp -d)
sock=$work/gdb.sock
serial=$work/serial.txt
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== hvgdb run --cpus 4 --gdb unix:$sock --wait $guest"
"$hvgdb" run --cpus 4 --serial "file:$serial" --gdb "unix:$sock" --wait "$guest" &
pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

echo "== gdb session"
gdb -q -n -batch \
  -ex "file $guest" \
  -ex "target remote $sock" \
  -ex "info threads" \
  -ex "break demo_work_item" \
  -ex "continue" -ex "continue" -ex "continue" -ex "continue" \
  -ex "info threads" \
  -ex "bt" \
  -ex "info registers rip rsp eflags cr3" \
  -ex "stepi" -ex "stepi" -ex "x/3i \$pc" \
  -ex "delete" \
  -ex "monitor info vcpus" \
  -ex "print demo_ticks" \
  -ex "detach" 2>&1 | sed 's/^/  gdb| /'

echo "== the guest keeps running after detach; its UART output so far:"
sleep 1.5
tail -n 8 "$serial" | sed 's/^/  uart| /'
echo "== demo done"
