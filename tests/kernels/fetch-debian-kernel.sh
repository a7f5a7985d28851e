#!/usr/bin/env bash
# Fetch Debian 12's Linux kernel package into a cache directory (once) and
# extract its bzImage there. Prints the vmlinuz path on stdout.
#
#   fetch-debian-kernel.sh CACHE_DIR
#
# Exit status: 0 with the path printed; 77 (the CTest "skip" code used by the
# tests) when the package cannot be downloaded because the network or the
# archive is unreachable, with a one-line reason on stderr; 1 on any other
# failure. Needs no standard input; never touches the system's packages
# (apt-get download only writes into CACHE_DIR).
set -euo pipefail

cache=${1:?usage: fetch-debian-kernel.sh CACHE_DIR}
mkdir -p "$cache"
cd "$cache"

vmlinuz=$(ls -1 extracted/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
if [ -n "$vmlinuz" ]; then
  echo "$cache/$vmlinuz"
  exit 0
fi

# The newest 6.1 "amd64-unsigned" flavour the configured archive offers
# (not cloud, not rt). apt-cache reads the local package lists only.
pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' </dev/null |
      awk '{print $1}' | sort -V | tail -n1)
if [ -z "$pkg" ]; then
  echo "fetch-debian-kernel: no linux-image-6.1.0-*-amd64-unsigned in the apt lists (run apt-get update)" >&2
  exit 1
fi

deb=$(ls -1 "${pkg}"_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
  if ! out=$(apt-get download -q "$pkg" </dev/null 2>&1); then
    if grep -qiE "could not resolve|failed to fetch|temporary failure|network is unreachable|connection (refused|timed out)|unable to connect" <<<"$out"; then
      echo "fetch-debian-kernel: network unavailable, cannot download $pkg" >&2
      exit 77
    fi
    echo "fetch-debian-kernel: apt-get download $pkg failed: $(tail -n1 <<<"$out")" >&2
    exit 1
  fi
  deb=$(ls -1 "${pkg}"_*.deb | head -n1)
fi

rm -rf extracted.tmp
mkdir extracted.tmp
dpkg-deb --fsys-tarfile "$deb" | tar -x -C extracted.tmp ./boot
mv extracted.tmp extracted
vmlinuz=$(ls -1 extracted/boot/vmlinuz-* | head -n1)
echo "$cache/$vmlinuz"
