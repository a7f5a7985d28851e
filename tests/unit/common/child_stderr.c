/* run_capturing_stderr (child_stderr.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "child_stderr.h"

const char *run_capturing_stderr(void (*fn)(void *arg), void *arg,
				 int *status)
{
	static char out[1024];
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL); /* nothing buffered is written twice */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(out) - 1 &&
	       (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	return out;
}
