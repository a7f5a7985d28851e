/* The host terminal's raw mode and its restoration (see host_terminal.h). */
#include "cli/host_terminal.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

/* Process-wide: a signal handler must find them. */
static struct termios saved_mode;
static int saved_fd = -1;
static volatile sig_atomic_t mode_changed;

static const int fatal_signals[] = {
	SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS,
	SIGQUIT, SIGHUP, SIGALRM, SIGUSR2, SIGXCPU, SIGXFSZ,
};
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))
static struct sigaction previous[NFATAL];

void host_terminal_restore(void)
{
	if (!mode_changed)
		return;
	mode_changed = 0;
	/* TCSANOW: waiting for output to drain could block a signal
	 * handler on a terminal stopped by flow control. */
	tcsetattr(saved_fd, TCSANOW, &saved_mode);
}

/* A fault the CPU raised comes back when the faulting instruction runs
 * again after we return, this time to the previous handler (a sanitizer
 * reports it with the real address). A signal someone sent does not come
 * back by itself: send it again. */
static bool sent_by_a_process(const siginfo_t *info)
{
	return info->si_code <= 0; /* SI_USER, SI_TKILL, SI_QUEUE, ... */
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
	int saved_errno = errno;

	(void)uctx;
	host_terminal_restore();
	for (size_t i = 0; i < NFATAL; i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &previous[i], NULL);
	bool synchronous = (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
			    sig == SIGFPE || sig == SIGTRAP) &&
			   !sent_by_a_process(info);
	if (!synchronous)
		raise(sig); /* blocked until we return, then handled */
	errno = saved_errno;
}

static int install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal_signal;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < NFATAL; i++)
		if (sigaction(fatal_signals[i], &sa, &previous[i]))
			return -errno;
	return 0;
}

/* Raw as in QEMU's char-stdio.c with signal=off, written anew. */
static struct termios raw_mode(const struct termios *cooked)
{
	struct termios t = *cooked;

	t.c_iflag &= (tcflag_t)~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
				 IGNCR | ICRNL | IXON);
	t.c_oflag |= OPOST;
	t.c_lflag &= (tcflag_t)~(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
	t.c_cflag &= (tcflag_t)~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return t;
}

int host_terminal_make_raw(int fd, char *err, size_t errlen)
{
	static bool atexit_done;
	struct termios raw;
	int rc;

	if (saved_fd >= 0) {
		snprintf(err, errlen, "the terminal is already in raw mode");
		return -EBUSY;
	}
	if (tcgetattr(fd, &saved_mode)) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the terminal's mode: %s",
			 strerror(-rc));
		return rc;
	}
	rc = install_handlers();
	if (rc) {
		snprintf(err, errlen, "cannot install signal handlers: %s",
			 strerror(-rc));
		return rc;
	}
	if (!atexit_done && atexit(host_terminal_restore) == 0)
		atexit_done = true;
	saved_fd = fd;
	raw = raw_mode(&saved_mode);
	/* Set before the change: a signal right after it must undo it. */
	mode_changed = 1;
	if (tcsetattr(fd, TCSANOW, &raw)) {
		rc = -errno;
		mode_changed = 0;
		snprintf(err, errlen, "cannot put the terminal in raw mode: %s",
			 strerror(-rc));
		return rc;
	}
	return 0;
}
