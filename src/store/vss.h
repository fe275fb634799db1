/* The VSS protocol: requests, responses and the signature authorization header.
 *
 * ARCHITECTURE.md, "Interfaces users already know": the storage service speaks the
 * VSS API of lightningdevkit/vss-server (proto/vss.proto is our wire-compatible copy
 * of its proto/vss.proto). A client POSTs a protobuf body to <base>/getObject,
 * /putObjects, /deleteObject or /listKeyVersions (the base URL ends in "/vss") with
 * "Content-Type: application/octet-stream" and an Authorization header; a 200 carries
 * the response message, any other status an ErrorResponse:
 *   409 CONFLICT_EXCEPTION, 400 INVALID_REQUEST_EXCEPTION, 500 INTERNAL_SERVER_EXCEPTION,
 *   404 NO_SUCH_KEY_EXCEPTION, 401 AUTH_EXCEPTION (vss-server rust/server/src/vss_service.rs),
 * and 413 for a body over the server's limit.
 *
 * Semantics (vss.proto and vss-server's KvStore test suite, api/src/kv_store_tests.rs):
 *   - key-level versions: "For the first write of any `key`, the `version` should be
 *     '0'"; a conditional write succeeds only "if the current DB version against the
 *     `key` is the same as in the request" and the version then becomes version + 1;
 *     "-1 ... will perform a non-conditional write query, after which the `version`
 *     against the `key` is reset to '1'". A mismatch is CONFLICT_EXCEPTION.
 *   - putObjects: transaction_items and delete_items "are written in a
 *     database-transaction in an all-or-nothing fashion" and "must have distinct keys";
 *     a delete item fails with a conflict if the item does not exist or (unless -1)
 *     its version differs. At most 1000 items (vss-server MAX_PUT_REQUEST_ITEM_COUNT).
 *   - global_version: if present, the put succeeds only if the store's global version
 *     equals it, and then increments it; a put without it leaves it alone (as
 *     vss-server does). getObject of the key "global_version" returns the global
 *     version (0 for a fresh store) with an empty value; that key is reserved.
 *   - deleteObject is idempotent: an absent key or a version mismatch deletes nothing
 *     and still succeeds.
 *   - listKeyVersions: keys starting with key_prefix, newest first (creation order),
 *     at most page_size (server cap 100) per page, values not set; global_version only
 *     on the first page (no page_token), read before the keys; next_page_token "" on
 *     the last page.
 *
 * Strings. Store ids, keys, prefixes and tokens are proto3 strings: valid UTF-8. We
 * also refuse NUL inside them (AL_E_VSS_STRING), so that decoded strings are plain C
 * strings with no two keys colliding. Keys are 1..AL_VSS_KEY_MAX bytes.
 *
 * Authorization (vss-server rust/auth-impls/src/signature.rs, the
 * SignatureValidatingAuthorizer; vss-client src/headers/sigs_auth.rs, SigsAuthProvider,
 * which ldk-node uses): the header value is
 *     hex(pubkey, 33-byte compressed) || hex(sig, 64-byte compact ECDSA) || decimal(t)
 * where sig signs SHA-256("VSS Signature Authorizer Signing Salt Constant" padded with
 * '.' to 64 bytes || pubkey || the decimal string of t) and t, in seconds since the
 * UNIX epoch, must be within 24 hours of the server's clock. The user is the public
 * key: every object lives under (user, store_id, key), so a request signed by one key
 * never reaches another key's objects. The header proves key possession only; anyone
 * who sees it may replay it within the window, so it travels over TLS.
 *
 * Memory: decoders unpack with protobuf-c into the caller's arena (no malloc);
 * decoded structures point into the arena. Encoders use the arena for scratch and
 * release it; they write into the caller's buffer and, when `cap` is too small
 * (pass 0 to ask), fail with AL_E_BUFSIZE and set *outlen to the size needed. */
#ifndef ALIGHT_STORE_VSS_H
#define ALIGHT_STORE_VSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "util/arena.h"
#include "util/err.h"

/* VSS: "set the `version` against the `key` to '-1'" to skip the check. */
#define AL_VSS_NO_CHECK           ((int64_t)-1)
#define AL_VSS_MAX_ITEMS          1000
#define AL_VSS_PAGE_MAX           100
#define AL_VSS_KEY_MAX            2048
#define AL_VSS_STORE_ID_MAX       1024
#define AL_VSS_TOKEN_MAX          64
#define AL_VSS_GLOBAL_VERSION_KEY "global_version"
#define AL_VSS_CONTENT_TYPE       "application/octet-stream"
/* vss-server answers every request with this header. */
#define AL_VSS_PROTOCOL_HEADER  "vss-protocol-version"
#define AL_VSS_PROTOCOL_VERSION "0.1.0"

/* The signature scheme. */
#define AL_VSS_AUTH_WINDOW  (24 * 60 * 60)
#define AL_VSS_AUTH_PREFIX  ((33 + 64) * 2)
#define AL_VSS_AUTH_MAX     (AL_VSS_AUTH_PREFIX + 20)
#define AL_VSS_SIGNING_SALT "VSS Signature Authorizer Signing Salt Constant.................."

typedef enum al_vss_op {
	AL_VSS_GET,
	AL_VSS_PUT,
	AL_VSS_DELETE,
	AL_VSS_LIST,
} al_vss_op;

/* ErrorCode of vss.proto. */
typedef enum al_vss_code {
	AL_VSS_UNKNOWN = 0,
	AL_VSS_CONFLICT = 1,
	AL_VSS_INVALID_REQUEST = 2,
	AL_VSS_INTERNAL_SERVER = 3,
	AL_VSS_NO_SUCH_KEY = 4,
	AL_VSS_AUTH_EXCEPTION = 5,
} al_vss_code;

/* One KeyValue. Encoders read `key` as a C string (keylen is ignored); decoders set
 * both. `value` may be NULL when len is 0. */
typedef struct al_vss_kv {
	const char *key;
	size_t keylen;
	int64_t version;
	const uint8_t *value;
	size_t len;
} al_vss_kv;

typedef struct al_vss_get_req {
	const char *store_id;
	const char *key;
	size_t keylen;
} al_vss_get_req;

typedef struct al_vss_put_req {
	const char *store_id;
	bool has_global_version;
	int64_t global_version;
	const al_vss_kv *puts; /* transaction_items */
	size_t nputs;
	const al_vss_kv *dels; /* delete_items (values ignored) */
	size_t ndels;
} al_vss_put_req;

typedef struct al_vss_delete_req {
	const char *store_id;
	al_vss_kv item; /* key_value; its value is ignored */
} al_vss_delete_req;

typedef struct al_vss_list_req {
	const char *store_id;
	const char *key_prefix; /* NULL: absent (all keys) */
	int32_t page_size;      /* 0: absent (the server decides) */
	const char *page_token; /* NULL: absent (first page) */
} al_vss_list_req;

typedef struct al_vss_list_resp {
	const al_vss_kv *items; /* key_versions: keys and versions, no values */
	size_t n;
	const char *next_page_token; /* "" (or absent) on the last page */
	bool has_global_version;     /* first page only */
	int64_t global_version;
} al_vss_list_resp;

/* The path of an operation relative to the base URL ("/getObject" ...). */
const char *al_vss_op_path(al_vss_op op);
/* Recognise a request path "/vss/getObject" ... ; false for anything else. */
bool al_vss_op_from_path(al_vss_op *op, const char *path, size_t len);

/* ---- requests (client encodes, server decodes) ----
 * Decoders check everything listed above: AL_E_VSS_DECODE (not the message),
 * AL_E_VSS_STRING, AL_E_VSS_KEY (empty, too long, or the reserved key written),
 * AL_E_VSS_VERSION (below -1), AL_E_VSS_ITEMS, AL_E_VSS_DUPLICATE, AL_E_VSS_PAGE
 * (negative page size, token too long), AL_E_VSS_INVALID (deleteObject without an
 * item), AL_E_NOMEM (the arena cannot hold the message). Encoders check the same. */
AL_WARN_UNUSED al_err al_vss_encode_get_req(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                                            const al_vss_get_req *r);
AL_WARN_UNUSED al_err al_vss_decode_get_req(al_arena *a, al_vss_get_req *r, const uint8_t *body,
                                            size_t len);
AL_WARN_UNUSED al_err al_vss_encode_put_req(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                                            const al_vss_put_req *r);
AL_WARN_UNUSED al_err al_vss_decode_put_req(al_arena *a, al_vss_put_req *r, const uint8_t *body,
                                            size_t len);
AL_WARN_UNUSED al_err al_vss_encode_delete_req(al_arena *a, uint8_t *out, size_t cap,
                                               size_t *outlen, const al_vss_delete_req *r);
AL_WARN_UNUSED al_err al_vss_decode_delete_req(al_arena *a, al_vss_delete_req *r,
                                               const uint8_t *body, size_t len);
AL_WARN_UNUSED al_err al_vss_encode_list_req(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                                             const al_vss_list_req *r);
AL_WARN_UNUSED al_err al_vss_decode_list_req(al_arena *a, al_vss_list_req *r, const uint8_t *body,
                                             size_t len);

/* Arena bytes that decoding a request body of `len` bytes may need (generous for
 * every well-formed request; a hostile one that needs more gets AL_E_NOMEM). */
size_t al_vss_decode_arena_size(size_t len);

/* ---- responses (server encodes, client decodes) ---- */
AL_WARN_UNUSED al_err al_vss_encode_get_resp(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                                             const al_vss_kv *kv);
/* AL_E_VSS_RESPONSE if the response has no value (vss-client: "VSS Server API
 * Violation") or, when `key` is not NULL, names another key. */
AL_WARN_UNUSED al_err al_vss_decode_get_resp(al_arena *a, al_vss_kv *kv, const uint8_t *body,
                                             size_t len, const char *key);
AL_WARN_UNUSED al_err al_vss_encode_list_resp(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                                              const al_vss_list_resp *r);
AL_WARN_UNUSED al_err al_vss_decode_list_resp(al_arena *a, al_vss_list_resp *r, const uint8_t *body,
                                              size_t len);
/* putObjects and deleteObject answer an empty message; a body that does not decode as
 * one is AL_E_VSS_DECODE. */
AL_WARN_UNUSED al_err al_vss_decode_empty_resp(al_arena *a, const uint8_t *body, size_t len);

/* ErrorResponse { error_code, message }. */
AL_WARN_UNUSED al_err al_vss_encode_error(al_arena *a, uint8_t *out, size_t cap, size_t *outlen,
                                          al_vss_code code, const char *message);

/* Client: classify an answer. 2xx: AL_OK. Otherwise the ErrorResponse's code decides
 * (CONFLICT -> AL_E_VSS_CONFLICT, NO_SUCH_KEY -> AL_E_VSS_NO_SUCH_KEY, AUTH ->
 * AL_E_VSS_AUTH, INVALID_REQUEST -> AL_E_VSS_INVALID, INTERNAL_SERVER ->
 * AL_E_VSS_SERVER); a body without a known code falls back on the status (409, 404,
 * 401/403, 400, 413 -> AL_E_VSS_TOO_LARGE, 5xx) and anything else is AL_E_VSS_HTTP.
 * `message` (may be NULL) receives the server's message, NUL-terminated and cut to
 * `msgcap` bytes, or "". */
al_err al_vss_response_status(al_arena *a, int http_status, const uint8_t *body, size_t len,
                              char *message, size_t msgcap);

/* Server: the HTTP status and ErrorCode for a failure. */
void al_vss_error_status(al_err e, int *http_status, al_vss_code *code);

/* ---- authorization ---- */

/* The Authorization header value for key `k` at time `now` (seconds since the UNIX
 * epoch), NUL-terminated into `out` (at least AL_VSS_AUTH_MAX + 1 bytes). */
AL_WARN_UNUSED al_err al_vss_auth_sign(const al_secp *ctx, char *out, size_t cap, size_t *outlen,
                                       const al_privkey *k, uint64_t now);
/* Check a header value (`hdr` of `len` bytes, NULL when the request had none) at
 * server time `now`; on success `user` is the signer's compressed public key. Errors:
 * AL_E_VSS_AUTH_MISSING, AL_E_VSS_AUTH_FORMAT (length, hex, timestamp digits),
 * AL_E_VSS_AUTH_TIME, AL_E_VSS_AUTH_KEY, AL_E_VSS_AUTH_SIG (including high-S). */
AL_WARN_UNUSED al_err al_vss_auth_verify(const al_secp *ctx, uint8_t user[AL_PUBKEY_LEN],
                                         const char *hdr, size_t len, uint64_t now);

/* True for the AL_E_VSS_AUTH_* errors (all answered 401). */
bool al_vss_is_auth_error(al_err e);

#endif
