#!/bin/sh
# /init of the debugger-hold test's initramfs (linux_hold_test.py).
# Prints what the test needs (the sync system call's address, the timer
# devices in use), waits for the test's go (a line on the console, sent once
# gdb has its breakpoint set), enters sync(2), where gdb holds the whole VM
# for a minute, then lets the kernel's watchdogs look for ten seconds and
# copies its dmesg to the console before powering off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
# /dev/kmsg writes synchronously to the console (a tty write may still sit
# in the serial driver's buffer at poweroff -f).
say() { echo "hvgdb-hold: $*" >/dev/kmsg; }
uptime() { /bin/busybox cut -d' ' -f1 /proc/uptime; }
/bin/busybox awk '$3 == "__x64_sys_sync" { print "hvgdb-hold: sym " $1 }' \
  /proc/kallsyms >/dev/kmsg
say "cpus $(/bin/busybox nproc)"
for dev in /sys/devices/system/clockevents/clockevent[0-9]*; do
  say "clockevent ${dev##*/} $(/bin/busybox cat "$dev/current_device")"
done
say "clocksource $(/bin/busybox cat \
  /sys/devices/system/clocksource/clocksource0/current_clocksource)"
say "ready"
read -r go
say "before $(uptime)"
/bin/busybox sync
say "after $(uptime)"
# The soft-lockup watchdog looks every 4 s, the clocksource watchdog every
# 0.5 s, RCU at every tick.
/bin/busybox sleep 10
say "dmesg begin"
# One open of /dev/kmsg per line: user writes are rate-limited per open.
/bin/busybox dmesg | while IFS= read -r line; do
  echo "hvgdb-hold-dmesg: $line" >/dev/kmsg
done
say "dmesg end"
/bin/busybox poweroff -f
