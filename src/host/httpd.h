/* A small HTTP/1.1 server for alight-store, alight-devchain and alightd's control API.
 *
 * The server listens on TCP (IPv4 or IPv6, port 0 picks a free port) or on a Unix
 * socket, optionally with TLS 1.3 (the core engine, crypto/tls.h, over the socket).
 * Requests are parsed with the core codec (util/http.h); each complete request goes to
 * the handler callback, which fills in a response (status, fields, body) through the
 * al_httpd_res_* calls. The server adds Content-Length, Date is not sent.
 *
 * Concurrency: one thread per connection, at most max_conns at once (beyond that a
 * connection is answered 503 and closed). With `serialize`, handler calls run one at a
 * time under a mutex, which suits a single SQLite connection behind them.
 *
 * Keep-alive as the client asks (RFC 9112 9.3). Malformed requests are answered 400
 * with the parser's reason as text/plain, oversize ones 413 (431 for too many or too
 * large header fields), unknown transfer codings 501, and the connection is closed.
 * A client that sends nothing for io_timeout_ms in the middle of a request, or stays
 * idle longer than idle_timeout_ms between requests, is disconnected (a request that
 * was begun gets 408). "Expect: 100-continue" is answered.
 *
 * al_httpd_stop() stops accepting, lets connections finish the request in progress
 * (bounded by io_timeout_ms), and joins every thread. */
#ifndef ALIGHT_HOST_HTTPD_H
#define ALIGHT_HOST_HTTPD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/tls.h"
#include "util/err.h"
#include "util/http.h"

typedef struct al_httpd al_httpd;
typedef struct al_httpd_res al_httpd_res;

/* What the handler sees; everything is valid for the duration of the call. */
typedef struct al_httpd_req {
	const al_http_request *http; /* method, target, fields, framing */
	const char *method;          /* NUL-terminated */
	const char *path;            /* target up to '?', NUL-terminated, not decoded */
	const char *query;           /* after '?', "" if none */
	const uint8_t *body;         /* decoded body (never NULL; body_len may be 0) */
	size_t body_len;
	const char *peer;  /* "127.0.0.1:53124", "[::1]:53124" or "unix" */
	const al_tls *tls; /* the TLS connection (client certificate etc.), NULL if plain */
} al_httpd_req;

typedef void (*al_httpd_handler)(void *arg, const al_httpd_req *req, al_httpd_res *res);

typedef struct al_httpd_config {
	/* "127.0.0.1:8080", "0.0.0.0:0", "[::1]:0", "localhost:0" or "unix:/path/to.sock"
	 * (an existing socket file at that path is replaced). */
	const char *listen;
	/* HTTPS: PEM files for the certificate chain and key; both or neither. Or a
	 * ready TLS server context (tls_ctx, borrowed; takes precedence). */
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_client_ca_file; /* optional: require client certificates */
	const al_tls_ctx *tls_ctx;
	al_httpd_handler handler;
	void *handler_arg;
	bool serialize;           /* one handler call at a time */
	unsigned max_conns;       /* default 64 */
	size_t max_head;          /* default AL_HTTP_DEFAULT_MAX_HEAD */
	size_t max_headers;       /* default AL_HTTP_MAX_HEADERS */
	size_t max_body;          /* request body; default AL_HTTP_DEFAULT_MAX_BODY */
	size_t max_response;      /* response body; default 64 MiB */
	unsigned io_timeout_ms;   /* default 10000 */
	unsigned idle_timeout_ms; /* default 60000 */
} al_httpd_config;

/* Bind, listen and start serving in background threads. Errors: AL_E_ARG (bad config
 * or listen string), AL_E_NET_RESOLVE, AL_E_NET_LISTEN, AL_E_NET_FILE (unreadable
 * certificate or key file), AL_E_TLS_* (unusable certificate/key), AL_E_NOMEM. */
AL_WARN_UNUSED al_err al_httpd_start(al_httpd **out, const al_httpd_config *cfg);
/* The bound TCP port (0 for a Unix socket) and the bound address as "127.0.0.1:43211",
 * "[::1]:43211" or "unix:/path". */
uint16_t al_httpd_port(const al_httpd *s);
const char *al_httpd_address(const al_httpd *s);
/* Stop and free (see above). s may be NULL. */
void al_httpd_stop(al_httpd *s);
/* Block the calling thread until SIGINT or SIGTERM arrives (installs handlers for
 * both), for programs whose main thread has nothing else to do. */
void al_httpd_wait_for_signal(void);

/* --- building the response inside a handler (default: 200, no fields, empty body) */
void al_httpd_res_status(al_httpd_res *r, int status);
/* Add a field (copied). Content-Length, Transfer-Encoding and Connection are the
 * server's (AL_E_ARG); an invalid name or value is AL_E_HTTP_HEADER_NAME/_VALUE. */
AL_WARN_UNUSED al_err al_httpd_res_header(al_httpd_res *r, const char *name, const char *value);
/* Append to the body. Beyond max_response: AL_E_TOO_LARGE, and the client gets 500. */
AL_WARN_UNUSED al_err al_httpd_res_body(al_httpd_res *r, const void *data, size_t len);
al_err al_httpd_res_printf(al_httpd_res *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Status, "Content-Type: text/plain; charset=utf-8" and the text plus "\n", replacing
 * any body written so far. */
void al_httpd_res_text(al_httpd_res *r, int status, const char *text);
/* Close the connection after this response. */
void al_httpd_res_close(al_httpd_res *r);

#endif
