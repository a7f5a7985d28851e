#!/usr/bin/env bash
# `make demo-linux`: Debian 12's own kernel under hvgdb, with an interactive
# busybox shell on this terminal and the debug server listening.
#
#   demo-linux.sh BUILD_DIR [CPUS] [GDB_LISTEN]
#
# The kernel is fetched and cached, its vmlinux extracted, and the
# initramfs built exactly as the Linux tests do it (tests/kernels/).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
export HVGDB=$build/src/cli/hvgdb
export LINUX_BOOT_DIR=$build/linux-boot
export DEMO_CPUS=${2:-2}
export DEMO_GDB=${3:-127.0.0.1:1234}
set +e
"$root/tests/kernels/debian_kernel_test.sh" "$build/kernel-cache" \
  "$root/scripts/demo-linux-boot.sh"
rc=$?
set -e
if [ $rc -eq 77 ]; then
  echo "demo-linux: Debian's kernel is not cached and the network is unavailable" >&2
  exit 1
fi
exit $rc
