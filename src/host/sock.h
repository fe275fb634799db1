/* TCP and Unix sockets for the host's programs (alightd): numeric addresses, non-blocking listen
 * and dial, and the text form of an address. Failures return -1 (or false) with errno set by the
 * failing call. */
#ifndef ALIGHT_HOST_SOCK_H
#define ALIGHT_HOST_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* "[v6]:port" plus NUL always fits. */
#define SOCK_ADDR_STRLEN 64

typedef struct sock_addr {
	struct sockaddr_storage ss;
	socklen_t len;
} sock_addr;

/* Parse "HOST:PORT" with HOST an IPv4 literal, a bracketed IPv6 literal ("[::1]:9735")
 * or "localhost" (127.0.0.1). Names are not resolved: a DNS lookup would block the
 * single-threaded loop. false for anything else (errno EINVAL). */
bool sock_parse(sock_addr *out, const char *s);
/* "1.2.3.4:9735" or "[::1]:9735". */
void sock_format(char out[SOCK_ADDR_STRLEN], const struct sockaddr *sa);
/* The port of an address. */
unsigned sock_port(const sock_addr *a);
/* Set the port (false beyond 65535). */
bool sock_set_port(sock_addr *a, unsigned port);

/* Non-blocking, close-on-exec descriptor. */
bool sock_nonblock(int fd);
/* A listening TCP socket bound to `a` (SO_REUSEADDR; IPV6_V6ONLY for v6), non-blocking;
 * `bound` (may be NULL) receives the real address (port 0 resolved). */
int sock_listen_tcp(const sock_addr *a, sock_addr *bound);
/* Start a non-blocking TCP connect; completion shows as writability (check
 * sock_error). */
int sock_dial_tcp(const sock_addr *a);
/* The pending error of a socket (SO_ERROR), 0 if none. */
int sock_error(int fd);
/* A listening Unix socket at `path` with mode 0600 (created under umask 077 so that it
 * is never reachable by others, even briefly); a stale socket file is replaced. */
int sock_listen_unix(const char *path);

#endif
