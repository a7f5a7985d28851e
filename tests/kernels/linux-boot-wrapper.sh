#!/usr/bin/env bash
# debian_kernel_test.sh runs TEST VMLINUZ VMLINUX; the Linux tests also need
# hvgdb and the directory for their initramfs and logs, which CTest passes
# in the environment, with LINUX_TEST naming the test script (default: the
# boot test).
set -euo pipefail
exec "$(dirname "$0")/${LINUX_TEST:-linux_boot_test.py}" "$HVGDB" "$LINUX_BOOT_DIR" "$@"
