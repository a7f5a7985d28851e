#!/usr/bin/env bash
# Installs the Debian packages hvgdb needs, only those that are missing.
# Safe without a terminal (CI runs it with no standard input).
#
# Unicorn must be 2.1 or newer: 2.0.1 (Debian 12's) ignores the guest's page
# tables (it maps every page at virtual = physical), so no real kernel runs on
# it. Debian 13 ships 2.1.1 as libunicorn-dev + libunicorn2t64; the library
# needs only libc6 >= 2.34, so on Debian 12 those two packages are fetched
# from Debian 13's archive with a throw-away apt configuration (the system's
# own sources are not touched, nothing else comes from Debian 13) and
# installed with apt.
set -euo pipefail

UNICORN_MIN=2.1
UNICORN_SUITE=trixie

packages=(
  build-essential cmake pkg-config make
  libcmocka-dev
  gdb lldb python3
  qemu-system-x86
  clang libclang-rt-14-dev
  llvm-14  # llvm-symbolizer: sanitizer and fuzzer reports with source lines
  acpica-tools  # iasl, acpiexec: the ACPI table tests check the tables with them
  xz-utils  # the loader tests extract vmlinux from Debian's bzImage
  busybox-static cpio  # the Linux boot test packs its initramfs from them
)

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# The installed libunicorn-dev's version if it is >= UNICORN_MIN, else nothing.
unicorn_ok() {
  is_installed libunicorn-dev || return 1
  local v
  v=$(dpkg-query -W -f='${Version}' libunicorn-dev)
  dpkg --compare-versions "$v" ge "$UNICORN_MIN"
}

missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done
need_unicorn=0
unicorn_ok || need_unicorn=1

if [ ${#missing[@]} -eq 0 ] && [ $need_unicorn -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  what="${missing[*]}"
  [ $need_unicorn -eq 0 ] || what="$what libunicorn-dev>=$UNICORN_MIN"
  echo "install-deps: missing packages: $what; run as root (make deps)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

[ $need_unicorn -eq 1 ] || exit 0

# Does the system's own archive have a new enough Unicorn (Debian 13 and
# later)? Then take it from there.
apt-get update -qq </dev/null
candidate=$(apt-cache policy libunicorn-dev 2>/dev/null | awk '/Candidate:/ {print $2}')
if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] &&
   dpkg --compare-versions "$candidate" ge "$UNICORN_MIN"; then
  echo "install-deps: installing libunicorn-dev $candidate" >&2
  apt-get install -y -qq --no-install-recommends libunicorn-dev </dev/null >/dev/null
else
  echo "install-deps: installing libunicorn-dev from Debian $UNICORN_SUITE (this system has ${candidate:-none})" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $UNICORN_SUITE main" \
    >"$tmp/sources.list"
  apt_tmp=(-o "Dir::Etc::SourceList=$tmp/sources.list"
           -o "Dir::Etc::SourceParts=$tmp/none"
           -o "Dir::State::Lists=$tmp/lists"
           -o "Dir::Cache=$tmp/cache"
           -o "APT::Sandbox::User=root")
  apt-get "${apt_tmp[@]}" update -qq </dev/null
  (cd "$tmp/debs" && apt-get "${apt_tmp[@]}" download -qq libunicorn2t64 libunicorn-dev </dev/null)
  # apt (not dpkg -i) so that an installed 2.0.1 libunicorn2 is replaced
  # cleanly: the new library Breaks it.
  apt-get install -y -qq --no-install-recommends "$tmp"/debs/*.deb </dev/null >/dev/null
fi

if ! unicorn_ok; then
  echo "install-deps: libunicorn-dev >= $UNICORN_MIN could not be installed" >&2
  exit 1
fi
