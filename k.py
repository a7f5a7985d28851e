import gdb, os, signal, threading
gdb.execute("set confirm off")
gdb.execute("file /work/wt-fastpaths/build-asan/guests/demo.elf")
gdb.execute("target remote /tmp/fp_ref/k.sock")
pid = os.getpid()
threading.Timer(0.5, lambda: os.kill(pid, signal.SIGINT)).start()
gdb.execute("continue")
gdb.execute("kill")
