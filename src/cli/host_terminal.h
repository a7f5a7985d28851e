/*
 * The host terminal of an interactive serial console: raw while the guest
 * owns it, the user's own mode back on every way out of hvgdb.
 *
 * Raw as QEMU's -serial stdio without signals: no echo and no line editing
 * (the guest's tty does both), no keys turned into signals (Ctrl-C, Ctrl-Z
 * and Ctrl-\ are bytes for the guest), no CR/LF translation or flow control
 * on input, 8-bit characters. Output processing stays on, so lines hvgdb
 * itself writes (stderr) still start at the left margin.
 *
 * Ways out covered: a normal return from main or exit() (atexit), the
 * explicit host_terminal_restore of the run's teardown and of the second
 * SIGINT/SIGTERM (_exit), and fatal signals (SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGQUIT, SIGHUP, SIGALRM, SIGUSR2,
 * SIGXCPU, SIGXFSZ): their handler restores the terminal and hands the
 * signal to the handler installed before (a sanitizer's, or the default
 * action: core dump or exit). SIGKILL cannot be caught: after `kill -9`,
 * `stty sane` (or `reset`) gives the terminal back.
 */
#ifndef HVGDB_CLI_HOST_TERMINAL_H
#define HVGDB_CLI_HOST_TERMINAL_H

#include <stddef.h>

/* Put the terminal on fd in raw mode, remembering its mode. Once per
 * process. 0, or -errno with one line in err (nothing changed). */
int host_terminal_make_raw(int fd, char *err, size_t errlen);
/* Give the terminal its remembered mode back. Idempotent, a no-op when
 * nothing was changed; async-signal-safe. */
void host_terminal_restore(void);

#endif
