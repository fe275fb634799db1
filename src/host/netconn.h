/* Sockets for the HTTP server and client: TCP/Unix connect and listen, and a
 * connection that carries either plain bytes or the core TLS engine's ciphertext
 * (crypto/tls.h), with a timeout on every wait. Used by httpd.c and httpc.c. */
#ifndef ALIGHT_HOST_NETCONN_H
#define ALIGHT_HOST_NETCONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/tls.h"
#include "util/err.h"

#define AL_NET_ADDR_MAX 128

typedef struct al_conn {
	int fd;
	bool use_tls;
	al_tls tls;               /* when use_tls; must not move (see crypto/tls.h) */
	unsigned io_timeout_ms;   /* each wait for the socket */
	const atomic_bool *abort; /* optional: a set flag ends waits with AL_E_NET_CLOSED */
	bool abort_waits;         /* whether `abort` applies to the current wait */
	uint8_t scratch[16384];   /* ciphertext staging */
} al_conn;

/* Connect to host:port (a name or an address literal, IPv6 without brackets), trying
 * each resolved address with connect_timeout_ms. Errors: AL_E_NET_RESOLVE,
 * AL_E_NET_CONNECT, AL_E_NET_TIMEOUT. */
AL_WARN_UNUSED al_err al_net_connect(int *fd, const char *host, uint16_t port,
                                     unsigned connect_timeout_ms);

/* Listen on "host:port", "[v6]:port" or "unix:/path". Writes the bound address in the
 * same syntax to addr and the port (0 for Unix) to *port. Errors: AL_E_ARG (syntax),
 * AL_E_NET_RESOLVE, AL_E_NET_LISTEN. */
AL_WARN_UNUSED al_err al_net_listen(int *fd, char addr[AL_NET_ADDR_MAX], uint16_t *port,
                                    const char *spec);

/* "127.0.0.1:5555", "[::1]:5555" or "unix" for a connected socket's peer. */
void al_net_peer_name(int fd, char out[AL_NET_ADDR_MAX]);

/* Wrap a connected socket (the connection owns it from now on). */
void al_conn_init(al_conn *c, int fd, unsigned io_timeout_ms);
/* Run the TLS handshake over the socket, t having been initialised (client or server)
 * in c->tls by the caller; sets use_tls. */
AL_WARN_UNUSED al_err al_conn_tls_handshake(al_conn *c);
/* Send all of data. */
AL_WARN_UNUSED al_err al_conn_write(al_conn *c, const void *data, size_t len);
/* Receive 1..cap bytes into out, waiting at most timeout_ms. AL_E_NET_CLOSED at end of
 * stream (for TLS: close_notify; AL_E_TLS_TRUNCATED without it), AL_E_NET_TIMEOUT. */
AL_WARN_UNUSED al_err al_conn_read(al_conn *c, void *out, size_t cap, size_t *n,
                                   unsigned timeout_ms);
/* Send close_notify (TLS, best effort) and close the socket. */
void al_conn_close(al_conn *c);

/* Read a whole (PEM) file of at most 64 MiB into malloc'd memory, NUL-terminated
 * (buf[*len] == 0); NULL if it cannot be read. */
uint8_t *al_net_read_file(const char *path, size_t *len);
/* Wipe and free what al_net_read_file returned (keys are secrets). */
void al_net_free_file(uint8_t *p, size_t len);

#endif
