/* TLS 1.3 with OpenSSL 3 (libssl) as a sans-I/O engine.
 *
 * The engine never touches a socket or a file: OpenSSL runs over memory BIOs, and the
 * caller moves ciphertext between them and the network (or, inside an enclave, the
 * host's relay). One step of the caller's loop:
 *
 *   1. send al_tls_take() bytes (al_tls_out_pending() says how many are waiting);
 *   2. if the last call returned AL_E_TLS_WANT, receive bytes and al_tls_feed() them,
 *      or al_tls_feed_eof() when the transport hit end-of-file;
 *   3. call al_tls_handshake() until AL_OK, then al_tls_write() / al_tls_read().
 *
 * Always flush output before waiting for input: the peer may be waiting for it.
 *
 * Trust (al_tls_config). A client checks the server certificate with every check that
 * is configured, and at least one must be:
 *  - ca_pem, or roots (a set of roots built once and shared by many contexts, such as
 *    the CA bundle compiled into the enclave image): the chain must end at one of these
 *    roots, every certificate valid at the `now` given to al_tls_client_init, and, when
 *    a server name is given, the leaf must match it (DNS name or IP address SAN,
 *    RFC 6125) -> AL_E_TLS_VERIFY / _HOSTNAME;
 *  - pins: SHA-256 of the leaf's DER SubjectPublicKeyInfo must equal one of them
 *    -> AL_E_TLS_PIN. Without ca_pem a pin alone is the whole identity (self-signed
 *    servers such as alight-store in development): no chain, date or name check;
 *  - verify: a hook called during the handshake with the leaf certificate, after the
 *    checks above passed; returning anything but AL_OK aborts the handshake with
 *    AL_E_TLS_PEER_REJECTED and the hook's error kept in al_tls_hook_error() (RA-TLS
 *    verifies attestation evidence inside the certificate this way).
 * A server asks for a client certificate only with verify_peer set, and then checks it
 * the same way (no host name).
 *
 * Time is an input: certificate validity is checked against the caller's `now` (Unix
 * seconds), never the system clock. Randomness comes from OpenSSL's DRBG, and memory
 * from OpenSSL's allocator (routed to the enclave heap with CRYPTO_set_mem_functions).
 *
 * Errors are sticky: after a failure every call returns the same error, and
 * al_tls_error_detail() gives a static description of the cause (the X.509 verify
 * reason, the alert received, or OpenSSL's reason string). */
#ifndef ALIGHT_CRYPTO_TLS_H
#define ALIGHT_CRYPTO_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* OpenSSL's own types, by their struct tags, so callers need not include OpenSSL. */
struct ssl_st;
struct ssl_ctx_st;
struct bio_st;
struct x509_st;
struct evp_pkey_st;

#define AL_TLS_PIN_LEN  32
#define AL_TLS_MAX_NAME 255

/* Roots parsed once and shared: every context given them takes a reference, so the
 * set lives until its last user is cleared. Immutable once built. */
typedef struct al_tls_roots al_tls_roots;

/* Parse one or more PEM certificates (anything between them is ignored, as in a CA
 * bundle); *count gets how many. AL_E_TLS_PEM when none parses or one is refused,
 * AL_E_NOMEM. */
AL_WARN_UNUSED al_err al_tls_roots_new(al_tls_roots **out, const uint8_t *pem, size_t len,
                                       size_t *count);
/* Drop this reference (contexts keep theirs). */
void al_tls_roots_free(al_tls_roots *r);

/* Verify hook: `leaf` is the peer's certificate (borrowed for the call), also given as
 * DER. Return AL_OK to accept; any other value rejects the peer. */
typedef al_err (*al_tls_verify_fn)(void *arg, struct x509_st *leaf, const uint8_t *der,
                                   size_t der_len);

typedef struct al_tls_config {
	/* Our certificate chain (leaf first) and private key, as PEM bytes, or as OpenSSL
	 * objects (the context takes its own references), e.g. an RA-TLS certificate made
	 * inside the enclave. Required for a server; optional for a client (mutual TLS). */
	const uint8_t *cert_pem;
	size_t cert_pem_len;
	const uint8_t *key_pem;
	size_t key_pem_len;
	struct x509_st *cert;
	struct evp_pkey_st *key;
	/* Trust in the peer (see the top of this file). */
	const uint8_t *ca_pem; /* one or more PEM certificates */
	size_t ca_pem_len;
	const al_tls_roots *roots; /* instead of ca_pem (both: AL_E_TLS_CONFIG) */
	const uint8_t (*pins)[AL_TLS_PIN_LEN];
	size_t n_pins;
	al_tls_verify_fn verify;
	void *verify_arg;
	bool verify_peer; /* server: require and check a client certificate */
	bool allow_tls12; /* client: accept a TLS 1.2 server (default: TLS 1.3 only) */
} al_tls_config;

/* Shared, immutable after init: one per configuration, used by any number of
 * connections (also from several threads). Must outlive them. */
typedef struct al_tls_ctx {
	struct ssl_ctx_st *ssl_ctx;
	bool server;
	bool has_ca;
	uint8_t (*pins)[AL_TLS_PIN_LEN];
	size_t n_pins;
	al_tls_verify_fn verify;
	void *verify_arg;
} al_tls_ctx;

/* One connection. Fields are private; OpenSSL keeps a pointer to it, so it must not be
 * moved (copied elsewhere) between init and clear. */
typedef struct al_tls {
	struct ssl_st *ssl;
	struct bio_st *net_in;  /* ciphertext from the peer, read by OpenSSL */
	struct bio_st *net_out; /* ciphertext for the peer, written by OpenSSL */
	const al_tls_ctx *ctx;
	int64_t now;
	al_err err;
	al_err hook_err;
	const char *detail;
	bool established;
	bool eof;
	bool closed; /* close_notify received */
	char name[AL_TLS_MAX_NAME + 1];
} al_tls;

/* Build a context. Errors: AL_E_TLS_PEM (unparsable cert, key or CA), AL_E_TLS_CONFIG
 * (key does not match the certificate, server without a certificate, client without
 * any trust configured), AL_E_CRYPTO. */
AL_WARN_UNUSED al_err al_tls_ctx_init(al_tls_ctx *ctx, bool server, const al_tls_config *cfg);
void al_tls_ctx_clear(al_tls_ctx *ctx);

/* Start a client connection. server_name (may be NULL) is sent as SNI when it is a DNS
 * name and checked against the certificate when ca_pem is configured; `now` is Unix
 * time for validity checks. */
AL_WARN_UNUSED al_err al_tls_client_init(al_tls *t, const al_tls_ctx *ctx, const char *server_name,
                                         int64_t now);
AL_WARN_UNUSED al_err al_tls_server_init(al_tls *t, const al_tls_ctx *ctx, int64_t now);
/* Free the connection's OpenSSL state; t may then be initialised again. */
void al_tls_clear(al_tls *t);

/* Ciphertext received from the peer (all of it is taken). */
AL_WARN_UNUSED al_err al_tls_feed(al_tls *t, const uint8_t *data, size_t len);
/* The transport reached end-of-file: no more ciphertext will come. */
void al_tls_feed_eof(al_tls *t);
/* Ciphertext waiting to be sent, and taking up to cap bytes of it (returns the count). */
size_t al_tls_out_pending(const al_tls *t);
size_t al_tls_take(al_tls *t, uint8_t *out, size_t cap);

/* Advance the handshake: AL_OK once established, AL_E_TLS_WANT when it needs bytes
 * from the peer (after sending what is pending), else the failure. */
AL_WARN_UNUSED al_err al_tls_handshake(al_tls *t);
bool al_tls_established(const al_tls *t);

/* Encrypt all of data[0..len) into the outgoing ciphertext. AL_E_TLS_STATE before the
 * handshake completed or after al_tls_close. */
AL_WARN_UNUSED al_err al_tls_write(al_tls *t, const void *data, size_t len);
/* Decrypt up to cap bytes: AL_OK with *n > 0; AL_E_TLS_WANT if no complete record is
 * buffered; AL_E_TLS_CLOSED after the peer's close_notify; AL_E_TLS_TRUNCATED if the
 * transport ended without one; other errors for bad records. Completes the handshake
 * first if needed. */
AL_WARN_UNUSED al_err al_tls_read(al_tls *t, void *out, size_t cap, size_t *n);
/* Queue our close_notify (then send al_tls_take bytes). */
AL_WARN_UNUSED al_err al_tls_close(al_tls *t);

/* The sticky error (AL_OK if none), a static description of its cause, and the error a
 * verify hook returned (AL_OK if it did not reject). */
al_err al_tls_error(const al_tls *t);
const char *al_tls_error_detail(const al_tls *t);
al_err al_tls_hook_error(const al_tls *t);

/* After the handshake: the peer's leaf certificate (borrowed, NULL if none), the
 * SHA-256 of its SubjectPublicKeyInfo, and the protocol ("TLSv1.3"). */
struct x509_st *al_tls_peer_cert(const al_tls *t);
AL_WARN_UNUSED al_err al_tls_peer_pin(const al_tls *t, uint8_t out[AL_TLS_PIN_LEN]);
const char *al_tls_version(const al_tls *t);

/* The pin of the first certificate in a PEM buffer: SHA-256 of its DER
 * SubjectPublicKeyInfo (the value `openssl x509 -pubkey | openssl pkey -pubin -outform
 * der | sha256sum` prints). Errors: AL_E_TLS_PEM. */
AL_WARN_UNUSED al_err al_tls_pin_from_pem(uint8_t out[AL_TLS_PIN_LEN], const uint8_t *pem,
                                          size_t pem_len);

#endif
