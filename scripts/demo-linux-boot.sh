#!/usr/bin/env bash
# Boots the demo (scripts/demo-linux.sh runs this through
# tests/kernels/debian_kernel_test.sh, which fetches the kernel first).
#
#   demo-linux-boot.sh VMLINUZ VMLINUX
#
# Environment: HVGDB, LINUX_BOOT_DIR (initramfs), DEMO_CPUS, DEMO_GDB.
set -euo pipefail
vmlinux=$2
here=$(cd "$(dirname "$0")" && pwd)
initrd=$("$here/../tests/kernels/make-initramfs.sh" "$LINUX_BOOT_DIR")
hvgdb=("$HVGDB" run --cpus "$DEMO_CPUS" --memory 512M --initrd "$initrd"
       --append "console=ttyS0 hvgdb_init=shell" --gdb "$DEMO_GDB"
       "$vmlinux")
cat <<TEXT
== Debian's kernel, $DEMO_CPUS vCPU(s), a busybox shell on this terminal
   Ctrl-A x quits hvgdb, Ctrl-A h lists the keys; Ctrl-C goes to the guest;
   'exit' in the shell powers the machine off.
== The debug server listens on $DEMO_GDB; from another terminal:
   gdb $vmlinux -ex 'target remote ${DEMO_GDB#127.0.0.1}'
TEXT
if [ -t 0 ]; then
  exec "${hvgdb[@]}"
fi
# Not a terminal (a pipe, a file, /dev/null, a CI job): its lines go to the
# guest's shell as typed lines, then 'exit', which powers the guest off.
# Without it the shell would wait forever for input that never comes.
echo "== standard input is not a terminal: its lines go to the shell, then 'exit'"
set +e +o pipefail
{ cat; printf '\nexit\n'; } | "${hvgdb[@]}"
exit "${PIPESTATUS[1]}"
