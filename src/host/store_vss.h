/* A key-value backend on a VSS server: alight-store, or lightningdevkit's vss-server.
 *
 * The al_kv's opaque 32-byte object names travel as 64-character lowercase hex VSS
 * keys under one store_id; the sealed records are the VSS values; the al_kv's global
 * version is VSS's global_version, which putObjects checks and increments. Every
 * request carries the signature Authorization header (store/vss.h) made with the
 * node's storage identity key, so the server files the objects under that key.
 *
 * The server is as untrusted as any other backend: its answers go back to the al_kv,
 * which opens and checks every record. This module refuses only what is malformed
 * at the protocol level (AL_E_STORE_BACKEND), and maps VSS conflicts to
 * AL_E_STORE_VERSION and missing keys to AL_E_STORE_NOT_FOUND.
 *
 * Every request is safe to replay (a read, or a write conditional on the global version
 * or on an object's version), so a request that finds the kept-alive connection closed
 * is retried once on a new one (al_httpc_config retry_unanswered).
 *
 * Not thread-safe: one al_store_vss per thread, like the al_kv above it. */
#ifndef ALIGHT_HOST_STORE_VSS_H
#define ALIGHT_HOST_STORE_VSS_H

#include "crypto/secp.h"
#include "host/httpc.h"
#include "store/kv.h"

typedef struct al_store_vss al_store_vss;

typedef struct al_store_vss_config {
	const char *url;      /* the base URL, ending in "/vss" */
	const char *store_id; /* VSS store_id, 1..AL_VSS_STORE_ID_MAX bytes */
	const al_privkey *auth_key;
	al_httpc_config http; /* TLS trust, timeouts */
} al_store_vss_config;

/* The key is copied (and wiped on close); nothing is sent until the first call. */
AL_WARN_UNUSED al_err al_store_vss_open(al_store_vss **out, const al_store_vss_config *cfg);
void al_store_vss_close(al_store_vss *s);
/* The last error's cause, for logs: the server's message or the network's, or "". */
const char *al_store_vss_detail(const al_store_vss *s);
/* The last failure as it happened, before the backend table folded it into
 * AL_E_STORE_BACKEND: AL_E_NET_* (unreachable, timed out), AL_E_TLS_*, AL_E_HTTP_*,
 * AL_E_VSS_* (the server's error answer); AL_OK after a success. */
al_err al_store_vss_cause(const al_store_vss *s);
/* Switch to another VSS store_id (1..AL_VSS_STORE_ID_MAX bytes; AL_E_ARG otherwise)
 * for the calls that follow: one client serves many stores of the same user. */
AL_WARN_UNUSED al_err al_store_vss_set_store_id(al_store_vss *s, const char *store_id);

/* The backend table; its ctx is the al_store_vss. */
extern const al_kv_backend al_store_vss_backend;

#endif
