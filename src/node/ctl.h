/* The user's channel, sans-I/O: one TLS 1.3 connection terminated where this runs (inside
 * the enclave), carrying one HTTP/1.1 request and its answer.
 *
 * ARCHITECTURE.md, "The trust boundary": "The user's app (alight-cli) verifies the
 * enclave's measurement over RA-TLS and authenticates with a credential derived from
 * the user's own seed (a client key the enclave derives too and compares)." The server
 * side is this engine: the TLS context (the enclave's RA-TLS identity, with
 * al_ctl_tls_config) requires a client certificate; TLS 1.3's CertificateVerify proves
 * the client holds its key; al_ctl_poll hands out the request together with the pin of
 * that key (SHA-256 of its SubjectPublicKeyInfo), which the caller compares with the
 * credential each node derived from its seed (node/keys.h). Nothing the host made (no
 * token, no file) takes part, and the host relays ciphertext only.
 *
 * Shape: caller-owned memory (al_ctl must not move while initialised: OpenSSL points
 * to it), ciphertext in with al_ctl_feed, out with al_ctl_take, a sticky failure. */
#ifndef ALIGHT_NODE_CTL_H
#define ALIGHT_NODE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/tls.h"
#include "util/http.h"

#define AL_CTL_IN_MAX (80 * 1024) /* a request: head and body */

typedef enum al_ctl_state {
	AL_CTL_WANT = 1,    /* needs ciphertext (send al_ctl_take's bytes first) */
	AL_CTL_REQUEST = 2, /* a whole request is here: answer it (al_ctl_answer) */
	AL_CTL_DONE = 3,    /* answered; send al_ctl_take's bytes, then close */
	AL_CTL_FAILED = 4,  /* handshake or protocol failure: close (al_ctl_error) */
} al_ctl_state;

typedef struct al_ctl {
	al_tls tls;
	uint8_t in[AL_CTL_IN_MAX];
	size_t in_len;
	al_http_request req;
	uint8_t pin[32];
	al_ctl_state state;
	al_err err;
	bool eof;
} al_ctl;

/* A server configuration for the channel: our identity (cert, key), a client
 * certificate required, any key accepted at the handshake (binding it to a node is the
 * caller's decision, by pin). */
void al_ctl_tls_config(al_tls_config *cfg, struct x509_st *cert, struct evp_pkey_st *key);

AL_WARN_UNUSED al_err al_ctl_init(al_ctl *c, const al_tls_ctx *ctx, int64_t now);
/* Wipe the request (it may carry a seed) and free the TLS state. */
void al_ctl_clear(al_ctl *c);

/* Ciphertext from the client; its end. */
void al_ctl_feed(al_ctl *c, const uint8_t *p, size_t n);
void al_ctl_feed_eof(al_ctl *c);
/* Ciphertext for the client: up to cap bytes, the count returned. */
size_t al_ctl_take(al_ctl *c, uint8_t *out, size_t cap);

/* Advance: the handshake, then the request. REQUEST once a request is whole: *req and
 * *pin (the client key's pin) are valid until al_ctl_answer or al_ctl_clear. A
 * malformed request is answered here (400/413) and the state is DONE. */
al_ctl_state al_ctl_poll(al_ctl *c, const al_http_request **req, const uint8_t **pin);
/* The answer (Connection: close), then close_notify. AL_E_ARG unless REQUEST. */
AL_WARN_UNUSED al_err al_ctl_answer(al_ctl *c, int status, const uint8_t *body, size_t len);
/* Why it failed (AL_OK if it did not), with the TLS detail. */
al_err al_ctl_error(const al_ctl *c);
const char *al_ctl_detail(const al_ctl *c);

#endif
