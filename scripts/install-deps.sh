#!/usr/bin/env bash
# Installs the Debian packages hvgdb needs, only those that are missing.
# Safe without a terminal (CI runs it with no standard input).
set -euo pipefail

packages=(
  build-essential cmake pkg-config make
  libunicorn-dev libcmocka-dev
  gdb lldb python3
  qemu-system-x86
  clang libclang-rt-14-dev
  llvm-14  # llvm-symbolizer: sanitizer and fuzzer reports with source lines
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
