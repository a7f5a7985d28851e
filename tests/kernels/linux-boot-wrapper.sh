#!/usr/bin/env bash
# debian_kernel_test.sh runs TEST VMLINUZ VMLINUX; the Linux tests also need
# hvgdb and their cache directory, which CTest passes in the environment:
# LINUX_TEST names the script (default linux_boot_test.py), LINUX_TEST_ARGS
# are appended after the kernel's paths.
set -euo pipefail
here=$(dirname "$0")
# shellcheck disable=SC2086 # LINUX_TEST_ARGS: words on purpose
exec "$here/${LINUX_TEST:-linux_boot_test.py}" "$HVGDB" "$LINUX_BOOT_DIR" \
  "$@" ${LINUX_TEST_ARGS:-}
