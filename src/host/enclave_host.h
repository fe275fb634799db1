/* The enclave loader and the host side of the ocall table (platform `sim`).
 *
 * ARCHITECTURE.md, "The enclave boundary". The host measures the image (SHA-256 of the
 * file's bytes, read from the same descriptor it then loads, so what is measured is
 * what runs), maps the enclave's heap (MAP_NORESERVE: untouched pages cost nothing),
 * loads the image, resolves its one entry point and initialises it. From then on it
 * talks to the enclave only through the ecall table (h->ec) and answers its ocalls:
 *   - time (CLOCK_MONOTONIC, wall clock), entropy (getrandom), log lines: here;
 *   - quotes: here, from the simulated quoting enclave (al_enclave_host_platform);
 *   - storage: here, holding sealed records only: the enclave's own state (node
 *     anchors) in the directory `state` (host/store_dir.h), and every node's records on
 *     each configured replica (`stores`): a directory (node k's records in its
 *     subdirectory node-<k>, synchronous), or a remote VSS server (host/store_remote.h:
 *     store_id node-<k>, requests queued to a worker thread per replica, so that the
 *     ocall returns at once and no network wait ever stalls the caller's loop).
 *     Completions are queued and delivered by al_enclave_host_complete on the caller's
 *     thread, never from inside an ocall (ecalls do not nest); a remote completion
 *     makes al_enclave_host_wake_fd readable, for the caller's loop to call it;
 *   - network, the timer and node events: the application's (al_enclave_net), since it
 *     owns the sockets and the event loop;
 *   - outbound streams (the chain server's): here, blocking TCP sockets
 *     (host/netconn.h) carrying what the enclave sends, ciphertext for https.
 * The platform secret of the simulation (what a CPU's fused seal key is on hardware)
 * is kept in a file beside the storage, created on first use. */
#ifndef ALIGHT_HOST_ENCLAVE_HOST_H
#define ALIGHT_HOST_ENCLAVE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "enclave/abi.h"
#include "host/httpc.h"
#include "util/err.h"

/* The application's side of the network and timer ocalls (see enclave/abi.h). The
 * callbacks must not make ecalls; queue the work and make them afterwards. */
typedef struct al_enclave_net {
	void *arg;
	int32_t (*send)(void *arg, al_enc_conn conn, const uint8_t *buf, size_t len, size_t *taken);
	int32_t (*close)(void *arg, al_enc_conn conn);
	void (*read_ctl)(void *arg, al_enc_conn conn, int32_t want_read);
	void (*timer_arm)(void *arg, uint64_t deadline_ms);
	/* Optional: outbound connections the enclave asks for, and the answers of its
	 * control API that come later (enclave/abi.h net_dial, api_done). */
	int32_t (*dial)(void *arg, uint32_t node, const char *addr, size_t addrlen,
	                al_enc_conn *conn, char *why, size_t whycap);
	void (*api_done)(void *arg, uint64_t token, int32_t status, const uint8_t *body,
	                 size_t len);
	/* Optional: a node's life (AL_ENC_NODE_*). */
	void (*node_event)(void *arg, uint32_t node, int32_t event, int32_t status);
} al_enclave_net;

/* Replicas of every node's records, each a directory or a remote store. */
#define AL_ENCLAVE_HOST_STORES 4

typedef struct al_enclave_host_config {
	const char *image; /* NULL: al_enclave_default_image() */
	size_t heap_size;  /* 0: AL_ENCLAVE_HEAP_DEFAULT (512 MiB) */
	const char *state; /* directory for node anchors and the platform secret; NULL: none
	                      (storage ocalls then fail with AL_E_STORE_BACKEND) */
	/* The replicas of the nodes' records: directories, created if needed (node k's
	 * records in <store>/node-<k>), or remote stores' URLs (al_store_is_url: http(s)
	 * ending in /vss). None: <state>/store0. */
	const char *stores[AL_ENCLAVE_HOST_STORES];
	size_t n_stores;
	uint32_t quorum; /* 0: every replica */
	/* For remote stores: the host's account key with them (copied), their TLS trust
	 * and timeouts (files read and PEM copied at open; pins are kept by reference and
	 * must outlive the host), and how many requests each may queue (0: a default per
	 * node slot). */
	const al_privkey *store_key;
	al_httpc_config store_http;
	size_t store_queue;
	/* The simulated platform secret; NULL: read from (or created in) <state>. */
	const uint8_t *platform_secret;
	uint8_t chain_hash[32];
	char network[16]; /* "regtest" when empty */
	uint32_t coin;
	uint32_t max_nodes;           /* 0: 16 */
	uint32_t max_conns;           /* 0: 256 (connection slots shared by the nodes) */
	uint32_t node_max_peers;      /* 0: 64 */
	uint32_t node_max_handshakes; /* 0: 16 */
	/* Peer manager timers in ms (UINT64_MAX: the manager's default, 0 disables). A
	 * config made with zeroed memory asks for defaults: set them to UINT64_MAX with
	 * al_enclave_host_config_default. */
	uint64_t handshake_timeout_ms, ping_interval_ms, pong_timeout_ms, idle_timeout_ms;
	uint64_t chain_poll_ms; /* 0: the enclave's default (enclave/abi.h) */
	al_enclave_net net;
	bool quiet; /* drop the enclave's INFO and DEBUG log lines */
	/* Crash tests (alightd --test-kill-at K:P): the process dies by SIGKILL at the
	 * kill_at-th write of a node's records to a directory store (0: never), before it
	 * (kill_phase 0) or once it is durable but not yet told to the enclave (1), as a
	 * machine losing power or an operator's kill would. The host is untrusted anyway:
	 * this gives it no power it did not have. */
	uint64_t kill_at;
	int kill_phase;
} al_enclave_host_config;

/* Zero everything, timers at the peer manager's defaults. */
void al_enclave_host_config_default(al_enclave_host_config *cfg);

typedef struct al_enclave_host al_enclave_host;

struct al_enclave_host {
	const al_ecalls *ec; /* the enclave's ecall table */
	uint8_t measurement[32];
	size_t heap_size;
	/* private below */
	void *dl;
	void *heap;
	al_ocalls oc;
	al_enclave_net net;
	struct al_store_dir *state; /* the enclave's own: node anchors */
	char *store_root[AL_ENCLAVE_HOST_STORES];
	size_t n_stores;
	struct al_host_store *open; /* (node, replica) directory stores opened so far */
	struct al_store_remote *remote[AL_ENCLAVE_HOST_STORES]; /* NULL: a directory */
	struct al_conn *streams[4];                             /* the stream ocalls' sockets */
	struct al_enc_doneq *done;    /* completions waiting for their store_done ecall */
	struct al_sim_platform *plat; /* the quoting platform (al_enclave_host_platform) */
	bool quiet;
	uint64_t ocalls;
	uint64_t kill_at, writes; /* al_enclave_host_config.kill_at, node writes so far */
	int kill_phase;
};

/* <directory of the running program>/../lib/libalight_enclave.so, into out. */
AL_WARN_UNUSED al_err al_enclave_default_image(char *out, size_t cap);

/* Measure a file: SHA-256 of its bytes. AL_E_HOST_IO. */
AL_WARN_UNUSED al_err al_enclave_measure_file(uint8_t out[32], const char *path);

/* Load, measure and initialise. Errors: AL_E_ENC_LOAD (file, dlopen, entry point),
 * AL_E_ENC_ABI (the image refuses our ocall table), AL_E_HOST_IO (heap mapping,
 * state directory, platform secret), AL_E_ARG (a remote store without store_key, or a
 * bad URL), al_store_remote_open's errors, and whatever the init ecall returns
 * (AL_E_NOMEM for a heap too small). On failure nothing stays mapped or open. */
AL_WARN_UNUSED al_err al_enclave_host_open(al_enclave_host **out,
                                           const al_enclave_host_config *cfg);
/* Shut the enclave down, unmap its heap and close the storage. The image stays
 * mapped: its static OpenSSL keeps process-wide state (as an SGX enclave lives as long
 * as its process). */
void al_enclave_host_close(al_enclave_host *h);

/* Load the simulated platform from `dir` (host/sim_platform.h; NULL: $ALIGHT_SIM_DIR)
 * to answer the enclave's quote ocall: DCAP v3 quotes whose MRENCLAVE is
 * h->measurement, the loader's measurement of the image. Until this succeeds the
 * quote ocall fails with AL_E_HOST_IO. Errors as al_sim_platform_load. */
AL_WARN_UNUSED al_err al_enclave_host_platform(al_enclave_host *h, const char *dir);

/* Deliver queued storage completions (store_done ecalls), in the order they were
 * queued; returns how many. Call it after every ecall and whenever the wake descriptor
 * is readable; completions can queue further storage work. */
size_t al_enclave_host_complete(al_enclave_host *h);
/* A descriptor (eventfd) that turns readable when a remote store's completion is
 * queued: watch it for reading in the loop and call al_enclave_host_complete. */
int al_enclave_host_wake_fd(const al_enclave_host *h);

/* Parse a size with an optional K, M or G suffix (powers of 1024). */
AL_WARN_UNUSED al_err al_enclave_parse_size(size_t *out, const char *s);

#endif
