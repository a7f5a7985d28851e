#!/bin/sh
# /init of the kernel debugging test's initramfs (linux_debug_test.py).
# Prints what the debugger needs (symbols, where the kernel is in physical
# memory), then runs one trapper per CPU while the test's gdb session works
# on the kernel: until the test types a line on the console (its session is
# over; a host under load may take long to get there), at most
# TRAP_SECONDS of guest time. Then reports and powers off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
say() { echo "hvgdb-debug: $*" >/dev/kmsg; }
# One pass over /proc/kallsyms: it is long, and slow to generate.
/bin/busybox awk '$3 ~ /^(_text|page_offset_base|__x64_sys_getpid|__entry_text_(start|end))$/ {
  print "hvgdb-debug: sym " $3 " " $1 }' /proc/kallsyms >/dev/kmsg
/bin/busybox awk -F'[ -]+' '/Kernel code/ {
  print "hvgdb-debug: kernel-code " $2; exit }' /proc/iomem >/dev/kmsg
n=$(/bin/busybox nproc)
say "cpus $n"
i=0
while [ $i -lt "$n" ]; do
  /bin/busybox taskset -c $i /bin/trapper "${TRAP_SECONDS:-600}" cpu$i \
    >/tmp/trapper.$i 2>&1 &
  pids="$pids $!"
  i=$((i + 1))
done
say "ready"
read -r _line
kill -USR1 $pids 2>/dev/null
ok=0
wait
i=0
while [ $i -lt "$n" ]; do
  line=$(/bin/busybox cat /tmp/trapper.$i)
  say "$line"
  case "$line" in *"traps "*) ;; *) ok=1 ;; esac
  set -- $(echo "$line" | /bin/busybox sed 's/.*traps \([0-9]*\)\/\([0-9]*\).*/\1 \2/')
  [ "$1" = "$2" ] && [ "$1" -gt 0 ] || ok=1
  i=$((i + 1))
done
[ $ok -eq 0 ] && say "trappers ok" || say "trappers FAILED"
/bin/busybox poweroff -f
