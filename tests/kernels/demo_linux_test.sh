#!/usr/bin/env bash
# `make demo-linux` (scripts/demo-linux.sh) end to end without a terminal:
# Debian's kernel boots on its default 2 vCPUs to the busybox shell, a
# piped command runs there, and the demo ends by itself with status 0 (the
# demo sends 'exit' after its input); with no input at all (/dev/null) it
# ends too. Exit 77 (CTest skip) when the kernel cannot be fetched for
# lack of network.
#
#   demo_linux_test.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/tests/kernels/fetch-debian-kernel.sh" "$build/kernel-cache" >/dev/null
rc=$?
[ $rc -eq 0 ] || exit $rc
fail=0
check() { # check WHAT CONDITION...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

# The default vCPU count is what is tested: no CPUS argument. Port 0: the
# kernel picks a free one, so parallel runs do not collide on 1234.
demo() { timeout 600 "$root/scripts/demo-linux.sh" "$build" "" 127.0.0.1:0; }

# shellcheck disable=SC2016 # $(nproc) is for the guest's shell
out=$(printf 'echo cpus=$(nproc)\n' | demo 2>&1)
rc=$?
check "piped: the demo ends with status 0 (is $rc)" [ $rc -eq 0 ]
check "piped: Linux brought up 2 CPUs" grep -q "smp: Brought up 1 node, 2 CPUs" <<<"$out"
check "piped: the command ran in the guest's shell (nproc = 2)" grep -q "cpus=2" <<<"$out"
check "piped: the shell's exit powered the guest off" grep -q "reboot: Power down" <<<"$out"
[ $fail -eq 0 ] || tail -n 40 <<<"$out"

out=$(demo </dev/null 2>&1)
rc=$?
check "no input: the demo ends with status 0 (is $rc)" [ $rc -eq 0 ]
check "no input: the shell started and powered the guest off" \
  grep -q "reboot: Power down" <<<"$out"
[ $fail -eq 0 ] || tail -n 40 <<<"$out"
exit $fail
