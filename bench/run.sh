#!/bin/sh
# make bench: hvgdb against QEMU. $1 = build directory; the rest goes to
# bench.py (--quick, --reps N, --duration S, --only ROWS; see --help).
set -e
build=${1:-build}
[ $# -gt 0 ] && shift
exec python3 "$(dirname "$0")/bench.py" "$build" "$@"
