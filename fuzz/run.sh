#!/usr/bin/env bash
# make fuzz: every libFuzzer target for SECONDS at once, from its seed corpus.
# New inputs collect in BUILD/fuzz/work/<target>/ (kept between runs, never
# in the seed corpus); crashes go to BUILD/fuzz/artifacts/, logs to
# BUILD/fuzz/logs/. Exits 1 if any target found a crash, leak or hang.
# Usage: fuzz/run.sh BUILD_DIR [SECONDS]   (default 300)
set -uo pipefail

build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
seconds=${2:-300}
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$build" && pwd)/fuzz
mkdir -p "$out/logs" "$out/artifacts"

# Sanitizer findings in third-party code only (see the file).
export LSAN_OPTIONS=suppressions=$here/../tests/sanitizers/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

declare -A pids
for seeds in "$here"/corpus/*/; do
	name=$(basename "$seeds")
	exe=$out/fuzz_$name
	if [ ! -x "$exe" ]; then
		echo "fuzz: $exe not built" >&2
		exit 1
	fi
	mkdir -p "$out/work/$name"
	echo "fuzz: $name for ${seconds}s (log $out/logs/$name.log)"
	"$exe" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$name-" \
		"$out/work/$name" "$seeds" >"$out/logs/$name.log" 2>&1 &
	pids[$name]=$!
done

status=0
for name in "${!pids[@]}"; do
	if wait "${pids[$name]}"; then
		runs=$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$out/logs/$name.log" | tail -1)
		echo "fuzz: $name: clean (${runs:-no stats})"
	else
		status=1
		echo "fuzz: $name: FAILED; the end of its log:"
		grep -E 'ERROR|SUMMARY|Test unit written|property violated' "$out/logs/$name.log" | tail -20
	fi
done
exit $status
