/* The enclave boundary: THE one table of ecalls and ocalls.
 *
 * ARCHITECTURE.md, "The enclave boundary". The trusted part is libalight_enclave.so,
 * built from the core and src/enclave/ only, which exports exactly one symbol:
 *
 *   const al_ecalls *alight_enclave_entry(const al_ocalls *ocalls);
 *
 * The host (src/host/enclave_host.h) loads the image, calls the entry with its ocall
 * table and from then on talks to the enclave only through the returned ecall table.
 * Network, storage, time and entropy reach the enclave only as ocalls; everything the
 * enclave does to the world leaves it as ocalls.
 *
 * Rules of the boundary (the same ones an SGX edger8r interface enforces):
 *   - plain C types only: fixed-width integers, byte buffers with explicit lengths,
 *     and the flat structs below (no pointers into the other side's memory survive a
 *     call; the callee copies what it keeps);
 *   - every buffer crossing in is copied by the enclave before it is used, so the
 *     host changing it afterwards (or during the call, from another thread) cannot
 *     change what the enclave decided;
 *   - results are al_err values as int32_t (AL_OK == 0);
 *   - ecalls are not re-entrant: the host makes one ecall at a time, and never from
 *     inside an ocall (ocalls that complete later do so with a later ecall: storage);
 *   - secrets never cross in plaintext: the log ocall carries no key material, and
 *     storage only ever sees sealed blobs.
 *
 * The tables are versioned: `abi` must equal AL_ENCLAVE_ABI_VERSION and `size` the
 * size of the struct the caller was built with; the entry point refuses a host built
 * against another ABI (it returns NULL). */
#ifndef ALIGHT_ENCLAVE_ABI_H
#define ALIGHT_ENCLAVE_ABI_H

#include <stddef.h>
#include <stdint.h>

#define AL_ENCLAVE_ABI_VERSION 4u
/* The image's only exported symbol. */
#define AL_ENCLAVE_ENTRY_SYMBOL "alight_enclave_entry"
/* Default heap handed to the enclave at load (--enclave-heap). */
#define AL_ENCLAVE_HEAP_DEFAULT ((size_t)512 << 20)
/* The smallest heap the enclave accepts (its own state plus OpenSSL's set-up). */
#define AL_ENCLAVE_HEAP_MIN ((size_t)1 << 20)

/* Connection ids are chosen by the host, unique among live connections. */
typedef uint64_t al_enc_conn;

/* Log levels of the log ocall. */
enum { AL_ENC_LOG_ERROR = 0, AL_ENC_LOG_WARN = 1, AL_ENC_LOG_INFO = 2, AL_ENC_LOG_DEBUG = 3 };

/* One item of a kv_put_batch (store/kv.h al_kv_bitem): value NULL deletes. */
typedef struct al_enc_kv_item {
	uint8_t name[32];
	const uint8_t *value;
	uint64_t len;
	int64_t version;
} al_enc_kv_item;

/* One object of a kv_list. */
typedef struct al_enc_kv_entry {
	uint8_t name[32];
	int64_t version;
} al_enc_kv_entry;

/* ---- ocalls: implemented by the host, called by the enclave ---------------------- */

typedef struct al_ocalls {
	uint32_t abi;  /* AL_ENCLAVE_ABI_VERSION */
	uint32_t size; /* sizeof(al_ocalls) */
	void *host;    /* opaque, passed back as the first argument of every ocall */

	/* Network. Hand `len` bytes for connection `conn` to the host, which copies
	 * them; *taken receives how many it accepted (less when its buffer is full:
	 * the enclave offers the rest after the next net_writable ecall). */
	int32_t (*net_send)(void *host, al_enc_conn conn, const uint8_t *buf, size_t len,
	                    size_t *taken);
	/* Close the socket; the host answers with the net_closed ecall. */
	int32_t (*net_close)(void *host, al_enc_conn conn);
	/* Whether the enclave takes bytes of this connection now (1) or not (0). The host
	 * keeps what net_recv did not consume and offers it again once reading is on. */
	void (*net_read_ctl)(void *host, al_enc_conn conn, int32_t want_read);

	/* Storage: objects named by 32 opaque bytes, holding sealed blobs only. Both
	 * complete asynchronously with the store_done ecall carrying the same `req`
	 * (never from inside the ocall). A get of an absent object completes with
	 * AL_E_STORE_NOT_FOUND; a put completes only once the blob is durable. */
	int32_t (*store_get)(void *host, uint64_t req, const uint8_t name[32]);
	int32_t (*store_put)(void *host, uint64_t req, const uint8_t name[32], const uint8_t *blob,
	                     size_t len);

	/* Time: a monotonic clock in milliseconds and the wall clock in seconds since
	 * 1970. Untrusted hints: the enclave never lets its monotonic time go back. */
	void (*time_now)(void *host, uint64_t *mono_ms, uint64_t *wall_s);
	/* Arm the host's single timer for the enclave at an absolute mono_ms deadline
	 * (UINT64_MAX: disarm); it fires with the timer ecall. */
	void (*timer_arm)(void *host, uint64_t deadline_ms);
	/* Entropy: fill `len` bytes (getrandom in the sim; RDRAND in SGX). */
	int32_t (*random)(void *host, uint8_t *out, size_t len);
	/* One log line (not NUL-terminated); never carries secrets. */
	void (*log)(void *host, int32_t level, const char *line, size_t len);

	/* Dial `addr` (HOST:PORT as the control API received it, not NUL-terminated)
	 * for `node`: the host starts a TCP connect and names the connection (*conn);
	 * a later failure arrives as net_error then net_closed. An immediate failure
	 * returns AL_E_ARG (not an address the host dials) or AL_E_HOST_IO, with a
	 * message (NUL-terminated) in why[0..whycap). */
	int32_t (*net_dial)(void *host, uint32_t node, const char *addr, size_t addrlen,
	                    al_enc_conn *conn, char *why, size_t whycap);
	/* The answer to an api ecall that returned AL_E_ENC_PENDING (same token): an
	 * HTTP status and a JSON body. */
	void (*api_done)(void *host, uint64_t token, int32_t status, const uint8_t *body,
	                 size_t len);

	/* ABI v3. A quote of this enclave binding `report_data` (the SGX REPORTDATA, 64
	 * bytes): at most cap bytes into out, *len set (an SGX DCAP v3 quote). On SGX
	 * hardware the quoting enclave (QE) is outside this enclave too: the enclave
	 * makes an EREPORT for the QE, the host carries it there and the quote back, and
	 * the CPU's report key is what keeps the host from forging it. In platform `sim`
	 * the host's simulated QE (host/sim_platform.h) writes MRENCLAVE = the loader's
	 * measurement of this image and signs with keys the host holds: a malicious host
	 * could quote any measurement and any report data, so sim quoting proves NOTHING
	 * against the host. It exists to exercise the real byte paths (the DCAP quote
	 * layout, the RA-TLS certificate, the client's verification). AL_E_HOST_IO when
	 * the host has no quoting platform, AL_E_BUFSIZE when cap is too small. */
	int32_t (*quote)(void *host, const uint8_t report_data[64], uint8_t *out, size_t cap,
	                 size_t *len);

	/* ABI v4: synchronous ocalls for the on-chain wallet, which runs inside (a wallet
	 * command blocks the host's loop while it runs). They return when done.
	 *
	 * Outbound byte streams (the wallet's Esplora client). The host sees ciphertext
	 * only: for https the TLS session (its keys, the certificate checks against the CA
	 * bytes or pins handed to wallet_open) terminates inside the enclave. stream_open
	 * connects to host:port (host not NUL-terminated) within timeout_ms and names the
	 * stream (*stream); stream_send sends all len bytes; stream_recv waits at most
	 * timeout_ms for 1..cap bytes (*n; 0 with AL_OK is end of stream); stream_close
	 * ends it. Errors are AL_E_NET_* (resolve, connect, timeout, I/O), AL_E_ARG for
	 * an unknown stream, AL_E_ENC_FULL when the host has no free stream slot. */
	int32_t (*stream_open)(void *host, const char *hostname, size_t len, uint16_t port,
	                       uint32_t timeout_ms, uint64_t *stream);
	int32_t (*stream_send)(void *host, uint64_t stream, const uint8_t *buf, size_t len);
	int32_t (*stream_recv)(void *host, uint64_t stream, uint8_t *buf, size_t cap, size_t *n,
	                       uint32_t timeout_ms);
	void (*stream_close)(void *host, uint64_t stream);

	/* The wallet's key-value backend, mirroring store/kv.h's al_kv_backend (same
	 * results and semantics), served by the host from a directory store (DIR/wallet).
	 * The host sees opaque 32-byte names and records sealed inside by al_kv only:
	 * ciphertext, never a key or a value in the clear. kv_list writes up to cap
	 * entries (a name then a version, al_enc_kv_entry) and *count how many there are
	 * (AL_E_BUFSIZE when more than cap). */
	int32_t (*kv_get)(void *host, const uint8_t name[32], uint8_t *buf, size_t cap, size_t *len,
	                  int64_t *version);
	int32_t (*kv_put_batch)(void *host, const struct al_enc_kv_item *items, size_t n,
	                        int64_t global_version);
	int32_t (*kv_del)(void *host, const uint8_t name[32], int64_t version);
	int32_t (*kv_list)(void *host, const uint8_t *prefix, size_t prefixlen,
	                   struct al_enc_kv_entry *out, size_t cap, size_t *count,
	                   int64_t *global_version);
	int32_t (*kv_global_version)(void *host, int64_t *out);
} al_ocalls;

/* ---- ecalls: implemented by the enclave ----------------------------------------- */

/* Handed to the init ecall. The enclave copies it. */
typedef struct al_enclave_config {
	uint32_t size; /* sizeof(al_enclave_config) */
	/* The whole heap, given once (mmap'ed by the host, 16-byte aligned): every
	 * allocation inside the enclave comes from it. */
	void *heap;
	uint64_t heap_len;
	/* The simulated platform (sim only; in SGX the CPU supplies both): the
	 * measurement, SHA-256 of the image as loaded, and the platform's secret from
	 * which sealing keys derive (it stands in for the CPU's fused seal key). */
	uint8_t measurement[32];
	uint8_t platform_secret[32];
	/* The chain nodes serve (BOLT #0 chain_hash, as init `networks` carries it). */
	uint8_t chain_hash[32];
	/* Limits: user nodes hosted, connections across them, and per node the peers
	 * and concurrent BOLT #8 handshakes (each node's arena is sized by them). */
	uint32_t max_nodes;
	uint32_t max_conns;
	uint32_t node_max_peers;
	uint32_t node_max_handshakes;
} al_enclave_config;

/* A node whose identity key derives from a BIP 39 seed (node_seed), with its peer
 * manager's limits and timers and the public facts its control API reports. */
typedef struct al_enclave_node_params {
	uint32_t size; /* sizeof(al_enclave_node_params) */
	uint32_t coin; /* BIP 44 coin type: the key is LND's m/1017'/coin'/6'/0/0 */
	uint32_t max_peers;
	uint32_t max_handshakes;
	/* Peer manager timers in ms; UINT64_MAX keeps the manager's default, 0 disables. */
	uint64_t handshake_timeout_ms, ping_interval_ms, pong_timeout_ms, idle_timeout_ms;
	char network[16]; /* NUL-terminated, e.g. "regtest" */
	char listen[64];  /* the peers' address, "" if none */
} al_enclave_node_params;

/* Figures the stats ecall reports (heap in bytes). */
typedef struct al_enclave_stats {
	uint64_t heap_size;     /* bytes under management */
	uint64_t heap_used;     /* in use now, allocator headers included */
	uint64_t heap_high;     /* high-water mark of heap_used */
	uint64_t heap_allocs;   /* live allocations */
	uint64_t heap_failed;   /* allocations refused (exhaustion) */
	uint64_t heap_foreign;  /* frees of pointers outside the heap (ignored) */
	uint64_t crypto_allocs; /* allocations OpenSSL made through our functions */
	uint32_t crypto_routed; /* 1 when CRYPTO_set_mem_functions took effect */
	uint32_t nodes;         /* user nodes loaded */
	uint32_t nodes_ready;   /* nodes whose key is persisted (they accept peers) */
	uint32_t conns;         /* live connections */
	uint64_t handshakes;    /* BOLT #8 handshakes + init exchanges completed */
	uint64_t messages_in;   /* messages delivered to nodes */
	uint64_t node_arena;    /* bytes of one node's arena */
} al_enclave_stats;

/* Node information (public only). */
typedef struct al_enclave_node_info {
	uint32_t node;
	uint32_t ready; /* its sealed key is durable; it accepts connections */
	/* AL_OK when ready, AL_E_ENC_NOT_READY while its key is being stored or
	 * loaded, else why loading failed (e.g. AL_E_SEAL_MEASUREMENT). */
	int32_t status;
	uint8_t node_id[33];
	uint32_t peers_pending;
	uint32_t peers_connected;
} al_enclave_node_info;

typedef struct al_ecalls {
	uint32_t abi;  /* AL_ENCLAVE_ABI_VERSION */
	uint32_t size; /* sizeof(al_ecalls) */

	/* First call. Takes the heap, routes OpenSSL, jansson and protobuf-c to it,
	 * builds the secp256k1 context. AL_E_ENC_STATE if called twice, AL_E_ARG for a
	 * config out of range, AL_E_NOMEM if the heap is too small. */
	int32_t (*init)(const al_enclave_config *cfg);
	/* Wipe every secret and stop; later ecalls fail with AL_E_ENC_STATE. The heap
	 * is the host's again when this returns. */
	void (*shutdown)(void);
	void (*stats)(al_enclave_stats *out);

	/* Nodes. node_create makes a new node (key from entropy), seals its key and
	 * stores it; node_open loads node `index` from its sealed blob. Either way the
	 * node becomes ready (accepts connections) when the storage ocall completes:
	 * persist before you speak. *node gets its index. AL_E_NOMEM when the heap
	 * cannot hold another node (nothing changes), AL_E_ENC_FULL at max_nodes. */
	int32_t (*node_create)(uint32_t *node);
	int32_t (*node_open)(uint32_t index);
	/* Unload a node, wiping its secrets and closing its connections (their
	 * net_closed ecalls still follow); its heap is free at once. */
	int32_t (*node_unload)(uint32_t node);
	int32_t (*node_info)(uint32_t node, al_enclave_node_info *out);

	/* Network events. net_accept: an inbound TCP connection for node `node`.
	 * net_connect: the host connected to the peer `their_id` (33 bytes) for `node`.
	 * net_recv: bytes arrived; *consumed says how many the enclave took (the host
	 * keeps the rest, see net_read_ctl). net_eof: the peer ended its stream after
	 * every byte was consumed. net_writable: the socket drained. net_closed: the
	 * socket is gone (after net_close, or on an error): the connection's last call. */
	int32_t (*net_accept)(uint32_t node, al_enc_conn conn);
	int32_t (*net_connect)(uint32_t node, al_enc_conn conn, const uint8_t their_id[33]);
	int32_t (*net_recv)(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed);
	int32_t (*net_eof)(al_enc_conn conn);
	int32_t (*net_writable)(al_enc_conn conn);
	int32_t (*net_closed)(al_enc_conn conn);

	/* The timer armed with timer_arm fired. */
	void (*timer)(void);
	/* A storage ocall completed: status is AL_OK or an al_err; for a get, the blob
	 * (copied by the enclave). */
	void (*store_done)(uint64_t req, int32_t status, const uint8_t *blob, size_t len);

	/* Query/control API: a JSON request in, a JSON answer out (*outlen bytes, not
	 * NUL-terminated). AL_E_BUFSIZE with *outlen the size needed. */
	int32_t (*request)(const uint8_t *in, size_t inlen, uint8_t *out, size_t cap,
	                   size_t *outlen);

	/* A node from a BIP 39 mnemonic (words, not NUL-terminated): the enclave derives
	 * the key, the host wipes its copy. Ready at once (nothing to persist: the seed
	 * is the backup). Errors as node_create, and AL_E_BIP39_* for bad words. */
	int32_t (*node_seed)(const al_enclave_node_params *p, const char *words, size_t len,
	                     uint32_t *node);
	/* net_accept with the peer's address (public, for listpeers and the logs). */
	int32_t (*net_accept_from)(uint32_t node, al_enc_conn conn, const char *addr,
	                           size_t addrlen);
	/* Why the socket failed (e.g. "Connection refused"); net_closed follows. */
	int32_t (*net_error)(al_enc_conn conn, const char *why, size_t len);
	/* The node's control API (REST, LND's paths: GET /v1/getinfo, GET and POST
	 * /v1/peers): method, target and body in, an HTTP status and a JSON body out.
	 * AL_E_ENC_PENDING: the answer comes later through the api_done ocall with
	 * `token`. AL_E_BUFSIZE with *outlen the size needed. */
	int32_t (*api)(uint32_t node, uint64_t token, const char *method, size_t mlen,
	               const char *target, size_t tlen, const uint8_t *body, size_t blen,
	               uint8_t *out, size_t cap, size_t *outlen, int32_t *status);

	/* ABI v3: the control API over RA-TLS, terminated inside the enclave.
	 *
	 * ctl_setup: make the TLS key (here, from OpenSSL's DRBG fed by the random
	 * ocall) and the self-signed certificate carrying a quote that binds it (the
	 * quote ocall; enclave/ratls.h), and take the bearer token clients must present
	 * ("Authorization: Bearer <token>", token = 64 hex digits as DIR/rpc.token holds
	 * them; the host wipes its copy). Once only: AL_E_ENC_STATE the second time.
	 *
	 * Control connections (ids chosen by the host, distinct from the peers'):
	 * ctl_accept, an inbound TCP connection for `node`'s control API; ctl_recv,
	 * ciphertext arrived (*consumed as net_recv); ctl_eof, the client ended its
	 * stream; ctl_writable, the socket drained; ctl_closed, the socket is gone (the
	 * connection's last call). Ciphertext leaves through net_send, the end through
	 * net_close, read interest through net_read_ctl: the same ocalls as peers. One
	 * request per connection (HTTP/1.1, answered with Connection: close), the routes
	 * of `api`. AL_E_ENC_STATE before ctl_setup, AL_E_ENC_FULL when every control
	 * slot is busy, AL_E_ENC_UNKNOWN for an id not (or no longer) known. */
	int32_t (*ctl_setup)(const char *token, size_t len);
	int32_t (*ctl_accept)(uint32_t node, al_enc_conn conn);
	int32_t (*ctl_recv)(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed);
	int32_t (*ctl_eof)(al_enc_conn conn);
	int32_t (*ctl_writable)(al_enc_conn conn);
	int32_t (*ctl_closed)(al_enc_conn conn);

	/* ABI v4: the on-chain wallet of `node`, inside the enclave. Its keys derive from
	 * the seed node_seed was given (not handed in again; the enclave keeps that seed
	 * only until this call, or until the node is unloaded). It syncs from the Esplora
	 * API root `url` (http or https, not NUL-terminated) through the stream ocalls
	 * and persists through the kv ocalls. For https, trust is ca_pem (PEM bytes, the
	 * host reads --esplora-ca's file or the system roots) and/or n_pins SHA-256 pins
	 * of the server's SubjectPublicKeyInfo (32 bytes each). The wallet answers the
	 * control API's POST /v1/wallet/<command> (api and the RA-TLS connections).
	 * AL_E_ENC_STATE for a node without a seed or with a wallet already, AL_E_ARG for
	 * another network than regtest, AL_E_HTTP_URL*, AL_E_STORE_* (its state). */
	int32_t (*wallet_open)(uint32_t node, const char *url, size_t urllen, const uint8_t *ca_pem,
	                       size_t ca_len, const uint8_t *pins, size_t n_pins);
} al_ecalls;

/* Control connections served at once (ctl_accept beyond: AL_E_ENC_FULL). */
#define AL_ENCLAVE_CTL_MAX 8
/* The bearer token's length in hex digits. */
#define AL_ENCLAVE_CTL_TOKEN_LEN 64

/* The entry point's type: NULL when the ocall table's abi or size do not match, or
 * a required ocall is missing. */
typedef const al_ecalls *al_enclave_entry_fn(const al_ocalls *ocalls);

#endif
