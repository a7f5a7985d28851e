#!/usr/bin/env bash
# Runs a test binary against Debian 12's kernel: fetches the package into
# CACHE_DIR when missing (fetch-debian-kernel.sh), extracts the vmlinux
# from the bzImage's XZ payload (as the kernel's scripts/extract-vmlinux
# does) and runs TEST VMLINUZ VMLINUX. Exit 77 (CTest skip) only when the
# network is unavailable.
#
#   debian_kernel_test.sh CACHE_DIR TEST
set -euo pipefail

cache=$1
test_bin=$2
here=$(cd "$(dirname "$0")" && pwd)

set +e
vmlinuz=$("$here/fetch-debian-kernel.sh" "$cache" </dev/null)
rc=$?
set -e
if [ $rc -eq 77 ]; then
  echo "SKIP: Debian kernel not cached and the network is unavailable"
  exit 77
fi
[ $rc -eq 0 ] || exit $rc

vmlinux=$cache/vmlinux
if [ ! -s "$vmlinux" ]; then
  # The payload: payload_offset (0x248) bytes into the protected-mode
  # kernel, which starts after (setup_sects (0x1f1) + 1) sectors.
  read -r setup_sects < <(od -An -tu1 -j $((0x1f1)) -N1 "$vmlinuz")
  read -r payload_off payload_len < <(od -An -tu4 -j $((0x248)) -N8 "$vmlinuz")
  start=$(( (setup_sects + 1) * 512 + payload_off ))
  # --single-stream: the payload ends with the decompressed size, which
  # is not part of the XZ stream.
  dd if="$vmlinuz" bs=64K iflag=skip_bytes,count_bytes skip="$start" \
     count="$payload_len" status=none | xz -dc --single-stream >"$vmlinux.tmp"
  mv "$vmlinux.tmp" "$vmlinux"
fi

exec "$test_bin" "$vmlinuz" "$vmlinux"
