#!/usr/bin/env bash
# Packs a test initramfs into OUT_DIR/NAME.cpio (kept there as a cache;
# never committed): Debian's busybox-static, INIT as /init, and each FILE in
# /bin. Prints the path.
#
#   make-initramfs.sh OUT_DIR [NAME INIT [FILE...]]
#
# Without NAME: the Linux tests' initrd.cpio, whose /init prints "hvgdb-init:
# up" and then does what `hvgdb_init=WHAT` on the kernel command line asks
# (the kernel hands unknown name=value parameters to init as environment
# variables):
#
#   (none)       power the machine off (ACPI S5)
#   shell        an interactive shell on the console (job control, every
#                busybox applet); powers off when it exits
#   panic        /init exits: "Attempted to kill init!"
#   sysrq-crash  echo c > /proc/sysrq-trigger: a kernel crash (an oops in
#                a sysrq handler, which panics)
#   reboot       reboot -f: the reset paths of the reboot= setting
#   halt         halt -f: every CPU stops with interrupts off
set -euo pipefail

out=$1
name=${2:-initrd}
init_script=${3:-}
shift $(($# < 3 ? $# : 3))
cpio_file=$out/$name.cpio
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! command -v cpio >/dev/null; then
  echo "make-initramfs.sh: needs busybox-static and cpio (scripts/install-deps.sh)" >&2
  exit 1
fi
# A dynamically linked busybox would need its libraries in the archive.
if file -L "$busybox" 2>/dev/null | grep -q dynamically; then
  echo "make-initramfs.sh: $busybox is not static (install busybox-static)" >&2
  exit 1
fi
fresh=yes
for f in "$0" "$busybox" $init_script "$@"; do
  [ "$cpio_file" -nt "$f" ] || fresh=no
done
if [ -s "$cpio_file" ] && [ $fresh = yes ]; then
  echo "$cpio_file"
  exit 0
fi

mkdir -p "$out"
root=$(mktemp -d "$out/initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
for f in "$@"; do
  cp "$f" "$root/bin/"
done
if [ -n "$init_script" ]; then
  cp "$init_script" "$root/init"
else
cat >"$root/init" <<'INIT'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
# Through the kernel's console (/dev/kmsg), which writes synchronously: a
# tty write may still sit in the serial driver's buffer at poweroff -f.
echo "hvgdb-init: up" >/dev/kmsg
echo "hvgdb-init: up"
case "$hvgdb_init" in
shell)
	/bin/busybox --install -s /bin
	echo "hvgdb-init: shell (exit powers off)"
	# cttyhack opens the console's real tty (ttyS0) as the controlling
	# terminal of a new session: Ctrl-C and job control work.
	setsid cttyhack sh
	poweroff -f ;;
panic)
	echo "hvgdb-init: init exits" >/dev/kmsg
	exit 1 ;;
sysrq-crash)
	echo "hvgdb-init: sysrq crash" >/dev/kmsg
	echo c >/proc/sysrq-trigger ;;
reboot)
	echo "hvgdb-init: reboot" >/dev/kmsg
	/bin/busybox reboot -f ;;
halt)
	echo "hvgdb-init: halt" >/dev/kmsg
	/bin/busybox halt -f ;;
esac
/bin/busybox poweroff -f
INIT
fi
chmod 755 "$root/init"
# newc is the format the kernel unpacks; owners root, as a packaged image.
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
   cpio --null --create --format=newc --owner=0:0 --quiet) >"$cpio_file.tmp"
mv "$cpio_file.tmp" "$cpio_file"
echo "$cpio_file"
