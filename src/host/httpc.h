/* A blocking HTTP/1.1 client over TCP, plain or TLS.
 *
 * It drives the core codec (util/http.h) and the core TLS engine (crypto/tls.h) over a
 * byte stream (al_httpc_transport): a socket in the host (al_httpc_new), the enclave's
 * stream ocalls inside it (al_httpc_new_over; this file is compiled into the enclave
 * image too, without its socket and file parts). The stream only carries ciphertext. One al_httpc
 * keeps one connection alive and reuses it for the next request to the same scheme, host and port;
 * a GET or HEAD that finds the kept connection closed by the server before any response byte is
 * retried once on a new connection.
 *
 * Not thread-safe: one al_httpc per thread. A response with any status is AL_OK; the
 * caller checks res->status. */
#ifndef ALIGHT_HOST_HTTPC_H
#define ALIGHT_HOST_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/tls.h"
#include "util/err.h"
#include "util/http.h"

#define AL_HTTPC_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

typedef struct al_httpc_config {
	/* Trust for https: a CA PEM file and/or PEM bytes, and/or pins (SHA-256 of the
	 * server's SubjectPublicKeyInfo, crypto/tls.h). With none of them, the system
	 * roots in AL_HTTPC_SYSTEM_CA. With only pins, the pin is the whole identity. */
	const char *ca_file;
	const uint8_t *ca_pem;
	size_t ca_pem_len;
	const uint8_t (*pins)[AL_TLS_PIN_LEN];
	size_t n_pins;
	/* Optional client certificate (mutual TLS), PEM files. */
	const char *client_cert_file;
	const char *client_key_file;
	bool allow_tls12;            /* accept TLS 1.2 servers (default: 1.3 only) */
	unsigned connect_timeout_ms; /* default 10000 */
	unsigned io_timeout_ms;      /* each wait for the socket; default 30000 */
	size_t max_head;             /* response head; default AL_HTTP_DEFAULT_MAX_HEAD */
	size_t max_body;             /* response body; default 16 MiB */
} al_httpc_config;

typedef struct al_httpc al_httpc;

/* A blocking byte stream to host:port. recv returns 1..cap bytes, AL_E_NET_CLOSED at
 * end of stream, AL_E_NET_TIMEOUT; errors are AL_E_NET_*. now: the wall clock in
 * seconds (certificate validity). */
typedef struct al_httpc_transport {
	void *ctx;
	al_err (*open)(void *ctx, uint64_t *h, const char *host, uint16_t port,
	               unsigned timeout_ms);
	al_err (*send)(void *ctx, uint64_t h, const uint8_t *p, size_t n);
	al_err (*recv)(void *ctx, uint64_t h, uint8_t *p, size_t cap, size_t *n,
	               unsigned timeout_ms);
	void (*close)(void *ctx, uint64_t h);
	int64_t (*now)(void *ctx);
} al_httpc_transport;

typedef struct al_httpc_response {
	int status;
	al_http_response http; /* status line and fields (strings point into the buffer) */
	const uint8_t *body;   /* NUL-terminated for convenience (body[body_len] == 0) */
	size_t body_len;
	uint8_t *buf_; /* private: owns the bytes above */
} al_httpc_response;

/* Errors: AL_E_NET_FILE (unreadable CA or client certificate file), AL_E_TLS_PEM,
 * AL_E_TLS_CONFIG, AL_E_NOMEM. */
AL_WARN_UNUSED al_err al_httpc_new(al_httpc **out, const al_httpc_config *cfg);
void al_httpc_free(al_httpc *c);
/* The same over the transport t (copied), reading no file: cfg names none, and https
 * needs ca_pem or pins (AL_E_TLS_CONFIG otherwise). */
AL_WARN_UNUSED al_err al_httpc_new_over(al_httpc **out, const al_httpc_config *cfg,
                                        const al_httpc_transport *t);

/* Send one request and read the response. `fields` must not contain Host or
 * Content-Length (added from url and body). Errors: AL_E_HTTP_URL(_SCHEME), AL_E_NET_*
 * (resolve, connect, I/O, timeout, closed), AL_E_TLS_* (handshake, verification: see
 * al_httpc_error_detail), AL_E_HTTP_* (malformed response, AL_E_HTTP_BODY_TOO_LARGE
 * beyond max_body). On error *res is empty and needs no free. */
AL_WARN_UNUSED al_err al_httpc_request(al_httpc *c, al_httpc_response *res, const char *method,
                                       const char *url, const al_http_field *fields,
                                       size_t n_fields, const uint8_t *body, size_t body_len);
AL_WARN_UNUSED al_err al_httpc_get(al_httpc *c, al_httpc_response *res, const char *url);
AL_WARN_UNUSED al_err al_httpc_post(al_httpc *c, al_httpc_response *res, const char *url,
                                    const char *content_type, const uint8_t *body, size_t body_len);
void al_httpc_response_free(al_httpc_response *res);

/* A field of the response (case-insensitive), NULL if absent. */
const char *al_httpc_header(const al_httpc_response *res, const char *name);
/* A static description of the last error's cause (e.g. the certificate verify reason),
 * "" if none. */
const char *al_httpc_error_detail(const al_httpc *c);
/* Close the kept-alive connection, if any. */
void al_httpc_disconnect(al_httpc *c);

#endif
