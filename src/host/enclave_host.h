/* The enclave loader and the host side of the ocall table (platform `sim`).
 *
 * ARCHITECTURE.md, "The enclave boundary". The host measures the image (SHA-256 of the
 * file's bytes, read from the same descriptor it then loads, so what is measured is
 * what runs), maps the enclave's heap (MAP_NORESERVE: untouched pages cost nothing),
 * loads the image, resolves its one entry point and initialises it. From then on it
 * talks to the enclave only through the ecall table (h->ec) and answers its ocalls:
 *   - time (CLOCK_MONOTONIC, wall clock), entropy (getrandom), log lines: here;
 *   - quotes: here, from the simulated quoting enclave (al_enclave_host_platform);
 *   - storage: here, directory stores (host/store_dir.h) holding sealed records only:
 *     the enclave's own state (node anchors) in `state`, and every node's records in
 *     its own subdirectory of each configured store (`stores`, one per replica);
 *     completions are queued and delivered by al_enclave_host_complete, never from
 *     inside the ocall (ecalls do not nest);
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

#include "enclave/abi.h"
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

/* Replicas of every node's records, each a directory. */
#define AL_ENCLAVE_HOST_STORES 4

typedef struct al_enclave_host_config {
	const char *image; /* NULL: al_enclave_default_image() */
	size_t heap_size;  /* 0: AL_ENCLAVE_HEAP_DEFAULT (512 MiB) */
	const char *state; /* directory for node anchors and the platform secret; NULL: none
	                      (storage ocalls then fail with AL_E_STORE_BACKEND) */
	/* The replicas of the nodes' records: directories, created if needed (node k's
	 * records in <store>/node-<k>). None: <state>/store0. */
	const char *stores[AL_ENCLAVE_HOST_STORES];
	size_t n_stores;
	uint32_t quorum; /* 0: every replica */
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
	struct al_host_store *open; /* (node, replica) stores opened so far */
	struct al_conn *streams[4]; /* the stream ocalls' sockets */
	struct al_enc_done *done_head, *done_tail;
	struct al_sim_platform *plat; /* the quoting platform (al_enclave_host_platform) */
	bool quiet;
	uint64_t ocalls;
};

/* <directory of the running program>/../lib/libalight_enclave.so, into out. */
AL_WARN_UNUSED al_err al_enclave_default_image(char *out, size_t cap);

/* Measure a file: SHA-256 of its bytes. AL_E_HOST_IO. */
AL_WARN_UNUSED al_err al_enclave_measure_file(uint8_t out[32], const char *path);

/* Load, measure and initialise. Errors: AL_E_ENC_LOAD (file, dlopen, entry point),
 * AL_E_ENC_ABI (the image refuses our ocall table), AL_E_HOST_IO (heap mapping,
 * state directory, platform secret), and whatever the init ecall returns
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

/* Deliver queued storage completions (store_done ecalls); returns how many. Call it
 * after every ecall; completions can queue further storage work. */
size_t al_enclave_host_complete(al_enclave_host *h);

/* Parse a size with an optional K, M or G suffix (powers of 1024). */
AL_WARN_UNUSED al_err al_enclave_parse_size(size_t *out, const char *s);

#endif
