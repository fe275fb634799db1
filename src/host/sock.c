/* Socket helpers (see sock.h). */
#include "host/sock.h"

#include "host/loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static bool parse_port(const char *s, unsigned *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return false;
	*port = (unsigned)v;
	return true;
}

static bool parse_v6(sock_addr *out, const char *s)
{
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->ss;
	const char *close = strchr(s, ']');
	char host[INET6_ADDRSTRLEN];
	unsigned port;
	size_t n;

	if (close == NULL || close[1] != ':')
		return false;
	n = (size_t)(close - s - 1);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, s + 1, n);
	host[n] = '\0';
	if (!parse_port(close + 2, &port) || inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
		return false;
	a->sin6_family = AF_INET6;
	a->sin6_port = htons((uint16_t)port);
	out->len = sizeof(*a);
	return true;
}

static bool parse_v4(sock_addr *out, const char *s)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&out->ss;
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	unsigned port;
	size_t n;

	if (colon == NULL)
		return false;
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (!parse_port(colon + 1, &port) || inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return false;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	out->len = sizeof(*a);
	return true;
}

bool sock_parse(sock_addr *out, const char *s)
{
	bool ok;

	memset(out, 0, sizeof(*out));
	ok = s[0] == '[' ? parse_v6(out, s) : parse_v4(out, s);
	if (!ok) {
		memset(out, 0, sizeof(*out));
		errno = EINVAL;
	}
	return ok;
}

void sock_format(char out[SOCK_ADDR_STRLEN], const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, SOCK_ADDR_STRLEN, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, SOCK_ADDR_STRLEN, "%s:%u", host, (unsigned)ntohs(a->sin_port));
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(out, SOCK_ADDR_STRLEN, "unix");
	} else {
		snprintf(out, SOCK_ADDR_STRLEN, "unknown");
	}
}

unsigned sock_port(const sock_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

bool sock_set_port(sock_addr *a, unsigned port)
{
	if (port > 65535)
		return false;
	if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
	return true;
}

bool sock_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
	       fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

static void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

int sock_listen_tcp(const sock_addr *a, sock_addr *bound)
{
	int one = 1;
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (a->ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 || listen(fd, 1024) != 0)
		goto fail;
	if (bound != NULL) {
		bound->len = sizeof(bound->ss);
		if (getsockname(fd, (struct sockaddr *)&bound->ss, &bound->len) != 0)
			goto fail;
	}
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}

int sock_dial_tcp(const sock_addr *a)
{
	int one = 1;
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* Handshake acts and small messages go out at once. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0 && errno != EINPROGRESS) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

int sock_listen_unix(const char *path)
{
	struct sockaddr_un un;
	mode_t old;
	int fd, dirfd, r;

	if (al_unix_addr(&un, &dirfd, path) != AL_OK)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		unlink(path);
		old = umask(077);
		r = bind(fd, (struct sockaddr *)&un, sizeof(un));
		umask(old);
		if (r != 0 || chmod(path, 0600) != 0 || listen(fd, 64) != 0) {
			close_keep_errno(fd);
			fd = -1;
		}
	}
	if (dirfd >= 0)
		close_keep_errno(dirfd);
	return fd;
}
