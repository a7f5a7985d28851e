#include "gdbstub/listen_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Connections wait here while the previous session is torn down. */
#define LISTEN_BACKLOG 64

/*
 * Makes path free for our bind: nothing there, or a socket nobody listens
 * on any more (a stale one from a crashed run: connect() is refused), which
 * is removed. A live server's socket is never taken over, and anything
 * that is not a socket is left for bind() to refuse.
 */
static int claim_unix_path(const struct sockaddr_un *sa, char *err,
			   size_t errlen)
{
	struct stat st;

	if (lstat(sa->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		int e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		return -e;
	}
	int rc = connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
	int e = rc ? errno : 0;
	close(probe);
	if (e == ECONNREFUSED) {
		unlink(sa->sun_path);
		return 0;
	}
	/* connected, or EAGAIN (its backlog is full): someone serves it */
	if (e == 0 || e == EAGAIN) {
		snprintf(err, errlen, "in use by a running server");
		return -EADDRINUSE;
	}
	snprintf(err, errlen, "cannot check the socket already there: %s",
		 strerror(e));
	return -e;
}

static int open_unix(struct listen_socket *ls, const char *path, char *err,
		     size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	if (path[0] == 0 || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "unix socket path empty or too long");
		return -EINVAL;
	}
	strcpy(sa.sun_path, path);
	int rc = claim_unix_path(&sa, err, errlen);
	if (rc)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		return -e;
	}
	/* Linux creates the file with the socket inode's mode minus the
	 * umask: set 0600 on the inode before bind, so the file never exists
	 * with a wider mode, whatever the umask (a chmod after bind leaves a
	 * window, and changing the umask affects every thread). */
	if (fchmod(fd, S_IRUSR | S_IWUSR) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, LISTEN_BACKLOG)) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on unix:%s: %s", path,
			 strerror(e));
		close(fd);
		return -e;
	}
	/* remembered so that close removes this file and no other */
	if (stat(path, &st) == 0) {
		ls->unix_dev = st.st_dev;
		ls->unix_ino = st.st_ino;
	}
	ls->fd = fd;
	ls->port = 0;
	snprintf(ls->unix_path, sizeof(ls->unix_path), "%s", path);
	return 0;
}

static int parse_port(const char *s, int *port)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* 0.0.0.0 or [::], however it was spelled (e.g. "0", "::", a name) */
static bool bound_to_any_address(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
			&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
	       htonl(INADDR_ANY);
}

static int open_tcp(struct listen_socket *ls, const char *spec, char *err,
		    size_t errlen)
{
	char host[256] = "127.0.0.1";
	const char *colon = strrchr(spec, ':');
	const char *port_text = spec;
	int port;

	if (colon) {
		size_t n = (size_t)(colon - spec);
		if (n >= sizeof(host)) {
			snprintf(err, errlen, "host name too long");
			return -EINVAL;
		}
		memcpy(host, spec, n);
		host[n] = 0;
		/* [::1]:1234 */
		if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
			memmove(host, host + 1, n - 2);
			host[n - 2] = 0;
		}
		if (host[0] == 0)
			strcpy(host, "127.0.0.1");
		port_text = colon + 1;
	}
	if (parse_port(port_text, &port)) {
		snprintf(err, errlen, "bad port in \"%s\" (want [HOST:]PORT or unix:PATH)",
			 spec);
		return -EINVAL;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	char port_str[8];
	snprintf(port_str, sizeof(port_str), "%d", port);
	int gai = getaddrinfo(host, port_str, &hints, &res);
	if (gai) {
		snprintf(err, errlen, "cannot resolve \"%s\": %s", host,
			 gai_strerror(gai));
		return -EINVAL;
	}
	int rc = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, LISTEN_BACKLOG)) {
			rc = -errno;
			close(fd);
			continue;
		}
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		ls->fd = fd;
		ls->port = ss.ss_family == AF_INET6
				   ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
				   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
		ls->all_interfaces = bound_to_any_address(&ss);
		ls->unix_path[0] = 0;
		rc = 0;
		break;
	}
	freeaddrinfo(res);
	if (rc)
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port,
			 strerror(-rc));
	return rc;
}

int listen_socket_open(struct listen_socket *ls, const char *spec, char *err,
		       size_t errlen)
{
	memset(ls, 0, sizeof(*ls));
	ls->fd = -1;
	if (!spec) {
		snprintf(err, errlen, "no listen address");
		return -EINVAL;
	}
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(ls, spec + 5, err, errlen);
	return open_tcp(ls, spec, err, errlen);
}

void listen_socket_close(struct listen_socket *ls)
{
	struct stat st;

	/* Only our own file: another server may have replaced it since
	 * (e.g. after removing it by hand). */
	if (ls->unix_path[0] && lstat(ls->unix_path, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == ls->unix_dev &&
	    st.st_ino == ls->unix_ino)
		unlink(ls->unix_path);
	ls->unix_path[0] = 0;
	if (ls->fd >= 0)
		close(ls->fd);
	ls->fd = -1;
}

void connection_configure(int fd)
{
	int one = 1;

	/* fails harmlessly on unix sockets */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}
