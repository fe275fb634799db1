/* A blocking HTTP/1.1 client, plain or TLS, over any byte stream.
 *
 * It drives the core codec (util/http.h) and the core TLS engine (crypto/tls.h) over a
 * byte stream the caller provides (al_httpc_transport): a socket in the host
 * (host/httpc.h al_httpc_new), the stream ocalls inside the enclave image. It makes no
 * system call itself and takes its memory from the caller's al_alloc. The stream only
 * carries ciphertext for https: TLS ends where this client runs. One al_httpc keeps one
 * connection alive and reuses it for the next request to the same scheme, host and port;
 * a GET or HEAD that finds the kept connection closed by the server before any response
 * byte is retried once on a new connection.
 *
 * Not thread-safe: one al_httpc per thread. A response with any status is AL_OK; the
 * caller checks res->status. */
#ifndef ALIGHT_NET_HTTPC_H
#define ALIGHT_NET_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/tls.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/http.h"

typedef struct al_httpc_config {
	/* Trust for https: CA PEM bytes and/or pins (SHA-256 of the server's
	 * SubjectPublicKeyInfo, crypto/tls.h); with only pins, the pin is the whole
	 * identity. host/httpc.h also reads ca_file (default: the system roots) and the
	 * client files; al_httpc_new_over refuses file names (AL_E_ARG). */
	const char *ca_file;
	const uint8_t *ca_pem;
	size_t ca_pem_len;
	const al_tls_roots *roots; /* instead of ca_pem: a shared set; must outlive the client */
	const uint8_t (*pins)[AL_TLS_PIN_LEN];
	size_t n_pins;
	/* Optional client certificate (mutual TLS): PEM files (host only), PEM bytes, or
	 * OpenSSL objects (referenced, not owned). */
	const char *client_cert_file;
	const char *client_key_file;
	const uint8_t *client_cert_pem, *client_key_pem;
	size_t client_cert_len, client_key_len;
	struct x509_st *client_cert;
	struct evp_pkey_st *client_key;
	bool allow_tls12; /* accept TLS 1.2 servers (default: 1.3 only) */
	/* Also retry a POST once when the kept-alive connection turns out closed before any
	 * response byte (as GET and HEAD always are): for callers whose requests are safe
	 * to replay, e.g. VSS's, which are reads or conditional writes (a replay of one the
	 * server did apply fails with a conflict instead of applying twice). */
	bool retry_unanswered;
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
	al_err (*stream_open)(void *ctx, uint64_t *h, const char *host, uint16_t port,
	                      unsigned timeout_ms);
	al_err (*stream_send)(void *ctx, uint64_t h, const uint8_t *p, size_t n);
	al_err (*stream_recv)(void *ctx, uint64_t h, uint8_t *p, size_t cap, size_t *n,
	                      unsigned timeout_ms);
	void (*stream_close)(void *ctx, uint64_t h);
	int64_t (*now)(void *ctx);
	/* Optional: called once by al_httpc_free, after the last close (frees ctx). */
	void (*drop)(void *ctx);
} al_httpc_transport;

typedef struct al_httpc_response {
	int status;
	al_http_response http; /* status line and fields (strings point into the buffer) */
	const uint8_t *body;   /* NUL-terminated for convenience (body[body_len] == 0) */
	size_t body_len;
	uint8_t *buf_; /* private: owns the bytes above */
	const al_alloc *mem_;
} al_httpc_response;

/* A client over the transport t (copied; its drop, if any, is called by al_httpc_free,
 * and not on failure here), with memory from `mem` (which must outlive it). The PEM bytes of cfg
 * are copied; https needs ca_pem, roots or pins (AL_E_TLS_CONFIG at the first https request
 * otherwise). AL_E_ARG when cfg names files, AL_E_NOMEM. */
AL_WARN_UNUSED al_err al_httpc_new_over(al_httpc **out, const al_httpc_config *cfg,
                                        const al_httpc_transport *t, const al_alloc *mem);
void al_httpc_free(al_httpc *c);

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
