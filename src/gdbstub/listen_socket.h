/* Listening socket for "[HOST:]PORT" (default host 127.0.0.1) or
 * "unix:PATH", and per-connection socket options. */
#ifndef HVGDB_GDBSTUB_LISTEN_SOCKET_H
#define HVGDB_GDBSTUB_LISTEN_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct listen_socket {
	int fd;
	int port;            /* bound TCP port, 0 for unix sockets */
	char unix_path[108]; /* to unlink at close; "" for TCP */
	bool all_interfaces; /* TCP bound to 0.0.0.0 or [::] */
	dev_t unix_dev;      /* the socket file we created */
	ino_t unix_ino;
};

/* 0, or -errno with a one-line reason in err. A unix socket path held by
 * a live server is refused (-EADDRINUSE), a stale one is replaced; the
 * socket file is created with mode 0600 whatever the umask. */
int listen_socket_open(struct listen_socket *ls, const char *spec, char *err,
		       size_t errlen);
void listen_socket_close(struct listen_socket *ls);
/* TCP_NODELAY (TCP only), close-on-exec. The server never blocks on the
 * connection: it sends with MSG_DONTWAIT (out_queue.h). */
void connection_configure(int fd);

#endif
