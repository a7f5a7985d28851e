#!/usr/bin/env bash
# Sums CTest summary lines ("N% tests passed, F tests failed out of T") of
# several logs into one closing line "P passed, F failed". A log without a
# summary (a suite that did not run) counts as one failure.
passed=0 failed=0
for log in "$@"; do
  line=$(grep -h '% tests passed, .* tests failed out of' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    failed=$((failed + 1))
    continue
  fi
  f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  t=$(sed -E 's/.* tests failed out of ([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + t - f))
  failed=$((failed + f))
done
echo "$passed passed, $failed failed"
