#!/bin/sh
# /init of the CPU hot-plug test's initramfs (linux_hotplug_test.py): takes
# every CPU but 0 offline and back online, three rounds each, and after each
# online runs a program pinned to that CPU; each step is reported through
# /dev/kmsg (synchronous). Then powers off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
say() { echo "hvgdb-hotplug: $*" >/dev/kmsg; }
n=$(/bin/busybox nproc)
say "cpus $n"
ok=0
round=1
while [ $round -le 3 ]; do
  i=1
  while [ $i -lt "$n" ]; do
    f=/sys/devices/system/cpu/cpu$i/online
    if echo 0 >$f && [ "$(/bin/busybox cat $f)" = 0 ]; then
      say "round $round cpu$i offline"
    else
      ok=1
    fi
    if echo 1 >$f && [ "$(/bin/busybox cat $f)" = 1 ] &&
       /bin/busybox taskset -c $i /bin/busybox true; then
      say "round $round cpu$i online, ran"
    else
      ok=1
    fi
    i=$((i + 1))
  done
  round=$((round + 1))
done
[ $ok -eq 0 ] && say "done, cpus $(/bin/busybox nproc)" || say "FAILED"
/bin/busybox poweroff -f
