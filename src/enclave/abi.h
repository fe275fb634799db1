/* The enclave boundary: THE one table of ecalls and ocalls.
 *
 * ARCHITECTURE.md, "The enclave boundary". The trusted part is libalight_enclave.so,
 * built from the core and src/enclave/ only, which exports exactly one symbol:
 *
 *   const al_ecalls *alight_enclave_entry(const al_ocalls *ocalls);
 *
 * The host (src/host/enclave_host.h) loads the image, calls the entry with its ocall
 * table and from then on talks to the enclave only through the returned ecall table.
 *
 * The host is the adversary (ARCHITECTURE.md, "The trust boundary"). It may call any
 * ecall with any argument, answer any ocall with a lie, never answer, answer twice.
 * Against that, by construction of this table:
 *   - no ecall takes or returns a seed, a key, a token or a plaintext record: the user
 *     provisions a node over the user's channel (ctl_*), which terminates inside, and
 *     authenticates there with a key derived from the user's seed (node/ctl.h);
 *   - no ecall seals, unseals or signs data the caller chose;
 *   - the operator's requests (api) carry the operator's authority only (node/node.h
 *     AL_NODE_OPERATOR): status, peers, connect, disconnect; never the wallet;
 *   - randomness is the CPU's (RDSEED/RDRAND), the random ocall's bytes only mixed in;
 *   - storage holds records sealed inside, on several stores; a store behind another,
 *     or behind the sealed state, is detected (store/rstore.h);
 *   - answers the host makes up (unknown request ids, late or repeated completions)
 *     are ignored; buffers are copied in before use and never trusted for length.
 *
 * Plain C types only (fixed-width integers, byte buffers with explicit lengths, flat
 * structs); the callee copies what it keeps; ecalls are not re-entrant (one at a time,
 * never from inside an ocall); results are al_err values as int32_t (AL_OK == 0; the
 * numbers follow gen/util/err_list.h, so a change of any layer's list is an ABI change). The
 * tables are versioned: the entry point refuses a host built against another ABI. */
#ifndef ALIGHT_ENCLAVE_ABI_H
#define ALIGHT_ENCLAVE_ABI_H

#include <stddef.h>
#include <stdint.h>

#define AL_ENCLAVE_ABI_VERSION 7u
/* The image's only exported symbol. */
#define AL_ENCLAVE_ENTRY_SYMBOL "alight_enclave_entry"
/* Default heap handed to the enclave at load (--enclave-heap). */
#define AL_ENCLAVE_HEAP_DEFAULT ((size_t)512 << 20)
/* The smallest heap the enclave accepts (its own state plus OpenSSL's set-up). */
#define AL_ENCLAVE_HEAP_MIN ((size_t)1 << 20)
/* The `node` of store ocalls for the enclave's own sealed state (a node's anchor: its
 * sealed seed and the global version its records last reached). */
#define AL_ENC_STATE_NODE UINT32_MAX
/* Control (user channel) connections served at once. */
#define AL_ENCLAVE_CTL_MAX 8

/* Connection ids are chosen by the host, unique among live connections (peers and
 * user channels alike). */
typedef uint64_t al_enc_conn;

/* Log levels of the log ocall. */
enum { AL_ENC_LOG_ERROR = 0, AL_ENC_LOG_WARN = 1, AL_ENC_LOG_INFO = 2, AL_ENC_LOG_DEBUG = 3 };

/* What node_event tells the host. */
enum {
	AL_ENC_NODE_EMPTY = 0,       /* node_load found no node in that slot */
	AL_ENC_NODE_READY = 1,       /* serving: the host may give it a peer listener */
	AL_ENC_NODE_FAILED = 2,      /* status says why (e.g. AL_E_STORE_ROLLBACK) */
	AL_ENC_NODE_PROVISIONED = 3, /* a user provisioned a new node in that slot */
};

/* One item of a store_put (store/kv.h al_kv_bitem): value NULL deletes. */
typedef struct al_enc_kv_item {
	uint8_t name[32];
	const uint8_t *value;
	uint64_t len;
	int64_t version;
} al_enc_kv_item;

/* ---- ocalls: implemented by the host, called by the enclave ---------------------- */

typedef struct al_ocalls {
	uint32_t abi;  /* AL_ENCLAVE_ABI_VERSION */
	uint32_t size; /* sizeof(al_ocalls) */
	void *host;    /* opaque, passed back as the first argument of every ocall */

	/* Network. net_send hands `len` bytes for `conn` to the host, which copies them;
	 * *taken is how many it accepted (fewer when its buffer is full: the rest is
	 * offered again after net_writable). net_close closes the socket (net_closed
	 * follows). net_read_ctl: whether the enclave takes bytes of conn now. net_dial:
	 * start a TCP connect to addr (HOST:PORT, not NUL-terminated) for `node`, naming
	 * the connection (*conn); AL_E_ARG or AL_E_HOST_IO with a reason in why. */
	int32_t (*net_send)(void *host, al_enc_conn conn, const uint8_t *buf, size_t len,
	                    size_t *taken);
	int32_t (*net_close)(void *host, al_enc_conn conn);
	void (*net_read_ctl)(void *host, al_enc_conn conn, int32_t want_read);
	int32_t (*net_dial)(void *host, uint32_t node, const char *addr, size_t addrlen,
	                    al_enc_conn *conn, char *why, size_t whycap);

	/* Storage of node `node` (or AL_ENC_STATE_NODE) on replica `store` (0..n_stores-1;
	 * ignored for the state): objects named by 32 opaque bytes holding sealed records,
	 * with store/kv.h's al_kv_backend semantics (get; put_batch with versions and the
	 * store's global version). Each node has its own namespace in every store. Both
	 * complete later with the store_done ecall carrying `req`, never from inside the
	 * ocall; a put completes once durable. */
	int32_t (*store_get)(void *host, uint64_t req, uint32_t node, uint32_t store,
	                     const uint8_t name[32]);
	int32_t (*store_put)(void *host, uint64_t req, uint32_t node, uint32_t store,
	                     const al_enc_kv_item *items, size_t n, int64_t global_version);

	/* Time: a monotonic clock in ms and the wall clock in s. Hints: the enclave never
	 * lets its time go back, and checks certificates against the wall clock only as
	 * far as the chain it verified allows (node/node.h al_node_trusted_wall). */
	void (*time_now)(void *host, uint64_t *mono_ms, uint64_t *wall_s);
	/* The host's single timer for the enclave, at an absolute mono_ms deadline
	 * (UINT64_MAX: disarm); it fires with the timer ecall. */
	void (*timer_arm)(void *host, uint64_t deadline_ms);
	/* Bytes the enclave mixes into its own entropy (never used alone). */
	int32_t (*random)(void *host, uint8_t *out, size_t len);
	/* One log line (not NUL-terminated); never carries secrets. */
	void (*log)(void *host, int32_t level, const char *line, size_t len);
	/* The answer to an api ecall (same token): an HTTP status and a JSON body. */
	void (*api_done)(void *host, uint64_t token, int32_t status, const uint8_t *body,
	                 size_t len);
	/* A quote of this enclave binding `report_data` (64 bytes): at most cap bytes into
	 * out, *len set. On SGX the quoting enclave is outside this enclave and the CPU's
	 * report key keeps the host from forging it; in platform `sim` the host's simulated
	 * QE writes MRENCLAVE = the loader's measurement and signs with keys the host
	 * holds: a sim quote proves NOTHING against the host (see host/sim_quote.h). */
	int32_t (*quote)(void *host, const uint8_t report_data[64], uint8_t *out, size_t cap,
	                 size_t *len);
	/* Outbound byte streams, synchronous: the chain server's (TLS inside for https; the
	 * host sees ciphertext). stream_recv: 1..cap bytes within timeout_ms, 0 with AL_OK
	 * at the end of the stream. Errors are AL_E_NET_*; AL_E_ENC_FULL without a slot. */
	int32_t (*stream_open)(void *host, const char *hostname, size_t len, uint16_t port,
	                       uint32_t timeout_ms, uint64_t *stream);
	int32_t (*stream_send)(void *host, uint64_t stream, const uint8_t *buf, size_t len);
	int32_t (*stream_recv)(void *host, uint64_t stream, uint8_t *buf, size_t cap, size_t *n,
	                       uint32_t timeout_ms);
	void (*stream_close)(void *host, uint64_t stream);
	/* A node's life (AL_ENC_NODE_*), for the host's bookkeeping (listeners). */
	void (*node_event)(void *host, uint32_t node, int32_t event, int32_t status);
} al_ocalls;

/* ---- ecalls: implemented by the enclave ----------------------------------------- */

/* Handed to the init ecall. The enclave copies it. Everything here is public. */
typedef struct al_enclave_config {
	uint32_t size; /* sizeof(al_enclave_config) */
	/* The whole heap, given once (mmap'ed by the host, 16-byte aligned). */
	void *heap;
	uint64_t heap_len;
	/* The simulated platform (sim only; in SGX the CPU supplies both): the measurement
	 * of the image as loaded, and the platform's secret sealing keys derive from. */
	uint8_t measurement[32];
	uint8_t platform_secret[32];
	/* The chain nodes serve (BOLT #0 chain_hash), its name and BIP 44 coin type. */
	uint8_t chain_hash[32];
	char network[16];
	uint32_t coin;
	/* Nodes hosted; connection slots shared by all of them (the pool); per node, peers
	 * and concurrent BOLT #8 handshakes; peer manager timers (UINT64_MAX: default). */
	uint32_t max_nodes;
	uint32_t max_conns;
	uint32_t node_max_peers;
	uint32_t node_max_handshakes;
	uint64_t handshake_timeout_ms, ping_interval_ms, pong_timeout_ms, idle_timeout_ms;
	/* Replicas of every node's records (1..4), and how many must take a write. */
	uint32_t n_stores;
	uint32_t quorum; /* 0: all */
	/* While a node has channels, how often it asks its chain server what changed
	 * (ms, AL_ENCLAVE_POLL_MIN_MS .. AL_ENCLAVE_POLL_MAX_MS; 0: 30 s). Bounded inside: a
	 * host cannot make a node stop looking. */
	uint64_t chain_poll_ms;
} al_enclave_config;

#define AL_ENCLAVE_POLL_MIN_MS 100u
#define AL_ENCLAVE_POLL_MAX_MS 600000u

/* Figures the stats ecall reports. */
typedef struct al_enclave_stats {
	uint64_t heap_size, heap_used, heap_high, heap_allocs, heap_failed, heap_foreign;
	uint64_t crypto_allocs;
	uint32_t crypto_routed;
	uint32_t nodes;       /* slots holding a node */
	uint32_t nodes_ready; /* serving */
	uint32_t conns;       /* live connections (peers and user channels) */
	uint32_t pool_slots, pool_slots_used;
	uint64_t node_bytes;   /* a node's fixed part (al_node_mem_size) */
	uint64_t shared_bytes; /* what the nodes share: header chain, scratch (al_node_shared) */
	uint32_t chain_height; /* the shared header chain's tip */
	uint8_t chain_loaded;  /* it started from its sealed copy */
	uint8_t chain_saved;   /* its sealed copy is up to date */
	uint64_t stale;        /* completions and answers the host made up, ignored */
	uint64_t entropy_cpu;  /* bytes drawn from the CPU */
} al_enclave_stats;

/* Public facts about a node. */
typedef struct al_enclave_node_info {
	uint32_t node;
	uint32_t state; /* 0 free, 1 loading, 2 ready, 3 failed */
	int32_t status; /* AL_OK when ready, else why not (AL_E_ENC_NOT_READY loading) */
	uint8_t node_id[33];
	uint32_t peers_pending, peers_connected;
	uint64_t memory; /* bytes the node holds now */
} al_enclave_node_info;

typedef struct al_ecalls {
	uint32_t abi;  /* AL_ENCLAVE_ABI_VERSION */
	uint32_t size; /* sizeof(al_ecalls) */

	/* First call: takes the heap, routes the libraries to it, seeds the entropy.
	 * AL_E_ENC_STATE if called twice, AL_E_ARG for a config out of range, AL_E_NOMEM,
	 * AL_E_ENC_ENTROPY without CPU entropy. */
	int32_t (*init)(const al_enclave_config *cfg);
	/* Wipe every secret and stop; later ecalls fail with AL_E_ENC_STATE. */
	void (*shutdown)(void);
	void (*stats)(al_enclave_stats *out);

	/* The user channel's RA-TLS identity: a TLS key made inside and a certificate
	 * carrying a quote that binds it (the quote ocall). Once (AL_E_ENC_STATE after). */
	int32_t (*ctl_setup)(void);

	/* Nodes. node_load: read slot `node`'s sealed anchor from the host's state store;
	 * the node then loads its records and becomes ready (node_event), or the slot
	 * stays free for a user to provision (AL_ENC_NODE_EMPTY). node_unload wipes a node
	 * (its connections' net_closed still follow). node_listen: the address the host
	 * serves its peers on (public, for getinfo). */
	int32_t (*node_load)(uint32_t node);
	int32_t (*node_unload)(uint32_t node);
	int32_t (*node_info)(uint32_t node, al_enclave_node_info *out);
	int32_t (*node_listen)(uint32_t node, const char *addr, size_t len);

	/* Peers. net_accept: an inbound TCP connection for `node` from addr (public).
	 * net_recv: bytes arrived, *consumed taken (the host keeps the rest). net_eof: the
	 * peer ended its stream. net_writable: the socket drained. net_closed: the socket
	 * is gone, with the host's reason (may be empty): the connection's last call. */
	int32_t (*net_accept)(uint32_t node, al_enc_conn conn, const char *addr, size_t len);
	int32_t (*net_recv)(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed);
	int32_t (*net_eof)(al_enc_conn conn);
	int32_t (*net_writable)(al_enc_conn conn);
	int32_t (*net_closed)(al_enc_conn conn, const char *why, size_t len);

	/* The timer armed with timer_arm fired. */
	void (*timer)(void);
	/* A storage ocall completed: status AL_OK or an al_err; for a get, the record and
	 * the version the store gives it (copied by the enclave, checked there). */
	void (*store_done)(uint64_t req, int32_t status, const uint8_t *blob, size_t len,
	                   int64_t version);

	/* The operator's request to `node` (the host's own socket): method, target, body
	 * in; the answer always comes through the api_done ocall with `token` (which must
	 * not have its top bit set: those are the enclave's own). AL_E_ENC_UNKNOWN for a
	 * slot without a node, AL_E_ARG for a bad token or oversized input. */
	int32_t (*api)(uint32_t node, uint64_t token, const char *method, size_t mlen,
	               const char *target, size_t tlen, const uint8_t *body, size_t blen);

	/* The user's channel (ctl): TLS 1.3 terminated here with the ctl_setup identity,
	 * a client certificate required; one request per connection, bound to the node
	 * whose credential the client key is (or POST /v1/provision for a new node).
	 * Ciphertext leaves through net_send, the end through net_close, read interest
	 * through net_read_ctl, as for peers. AL_E_ENC_STATE before ctl_setup,
	 * AL_E_ENC_FULL when every control slot is busy. */
	int32_t (*ctl_accept)(al_enc_conn conn);
	int32_t (*ctl_recv)(al_enc_conn conn, const uint8_t *buf, size_t len, size_t *consumed);
	int32_t (*ctl_eof)(al_enc_conn conn);
	int32_t (*ctl_writable)(al_enc_conn conn);
	int32_t (*ctl_closed)(al_enc_conn conn);
} al_ecalls;

/* The entry point's type: NULL when the ocall table's abi or size do not match, or a
 * required ocall is missing. */
typedef const al_ecalls *al_enclave_entry_fn(const al_ocalls *ocalls);

#endif
