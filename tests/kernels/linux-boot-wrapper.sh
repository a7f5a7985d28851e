#!/usr/bin/env bash
# debian_kernel_test.sh runs TEST VMLINUZ VMLINUX; the boot test also needs
# hvgdb and its cache directory, which CTest passes in the environment.
set -euo pipefail
exec "$(dirname "$0")/linux_boot_test.py" "$HVGDB" "$LINUX_BOOT_DIR" "$@"
