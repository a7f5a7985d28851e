#!/usr/bin/env bash
# Packs the Linux boot tests' initramfs into OUT_DIR/initrd.cpio (kept there
# as a cache; never committed): Debian's busybox-static and an /init that
# prints "hvgdb-init: up" and then does what `hvgdb_init=WHAT` on the kernel
# command line asks (the kernel hands unknown name=value parameters to init
# as environment variables):
#
#   (none)       power the machine off (ACPI S5)
#   shell        an interactive shell on the console (job control, every
#                busybox applet); powers off when it exits
#   panic        /init exits: "Attempted to kill init!"
#   sysrq-crash  echo c > /proc/sysrq-trigger: a kernel crash (an oops in
#                a sysrq handler, which panics)
#   reboot       reboot -f: the reset paths of the reboot= setting
#   halt         halt -f: every CPU stops with interrupts off
#
# Prints the path.
#
#   make-initramfs.sh OUT_DIR
set -euo pipefail

out=$1
cpio_file=$out/initrd.cpio
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
if [ -s "$cpio_file" ] && [ "$cpio_file" -nt "$0" ] && [ "$cpio_file" -nt "$busybox" ]; then
  echo "$cpio_file"
  exit 0
fi

mkdir -p "$out"
root=$(mktemp -d "$out/initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
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
chmod 755 "$root/init"
# newc is the format the kernel unpacks; owners root, as a packaged image.
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
   cpio --null --create --format=newc --owner=0:0 --quiet) >"$cpio_file.tmp"
mv "$cpio_file.tmp" "$cpio_file"
echo "$cpio_file"
