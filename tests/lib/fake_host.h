/* A host for tests: loads the real enclave image (libalight_enclave.so) and answers its
 * ocalls itself, honestly or with the lies a test asks for; plays the user over the
 * user channel (a TLS 1.3 client with the user's credential, checking the enclave's
 * RA-TLS evidence against the simulation root and the image's measurement) and the
 * operator (the api ecall).
 *
 * Storage is real: directory stores (host/store_dir.h) under the test's state
 * directory, one per replica, each node in its own subdirectory, completions queued and
 * delivered after the ecall that asked (fh_settle), as alightd's host does. Quotes come
 * from the build's simulated platform. Everything else is in memory: no sockets, except
 * the stream ocalls, which connect for real (a chain server the test started) unless a
 * test intercepts them. */
#ifndef ALIGHT_TESTS_FAKE_HOST_H
#define ALIGHT_TESTS_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/abi.h"
#include "util/err.h"

/* BIP 39 test vectors' mnemonics (entropy 00..00 and ff..ff, 256 bits; "legal winner"
 * 7f7f..7f), the users these tests provision. */
#define ZERO_WORDS                                                                                 \
	"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " \
	"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " \
	"abandon art"
#define FF_WORDS                                                                                   \
	"zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo " \
	"zoo vote"
#define LEGAL_WORDS                                                                                \
	"legal winner thank year wave sausage worth useful legal winner thank year wave sausage "  \
	"worth useful legal winner thank year wave sausage worth title"

#define FH_MAX_CONNS   64
#define FH_MAX_LOG     64
#define FH_MAX_STREAMS 32 /* the enclave keeps up to 16 chain connections open */

typedef struct fh_conn {
	bool used, closed, read;
	al_enc_conn id;
	uint8_t out[1 << 17]; /* what the enclave sent, not yet taken */
	size_t out_len;
} fh_conn;

typedef struct fake_host fake_host;

/* A test's hook on a stream: called with what the enclave sends on a stream; it may
 * answer instead of the real server (return true with the answer in *reply). */
typedef bool (*fh_stream_hook)(void *arg, const uint8_t *req, size_t len, uint8_t **reply,
                               size_t *reply_len);

struct fake_host {
	const al_ecalls *ec;
	uint8_t measurement[32];
	char state[256]; /* the state directory (anchors, the platform secret) */
	char stores[4][300];
	size_t n_stores;
	/* what the host does */
	bool constant_random;     /* the random ocall answers zeros */
	bool refuse_puts;         /* every store_put fails */
	bool hold_completions;    /* completions wait for fh_release */
	uint64_t mono_ms, wall_s; /* the clock it tells (wall 0: the real one) */
	fh_stream_hook stream_hook;
	void *stream_arg;
	/* what it saw */
	fh_conn conns[FH_MAX_CONNS];
	uint64_t next_conn;
	uint64_t timer;
	int last_event, last_event_node, last_event_status;
	uint64_t api_token;
	int api_status;
	char api_body[1 << 16];
	size_t api_answers;
	char log[FH_MAX_LOG][256];
	size_t n_log;
	uint64_t puts, gets;
	/* private */
	void *dl;
	void *heap;
	size_t heap_len;
	struct fh_done *done_head, *done_tail;
	struct fh_store *open;
	struct al_store_dir *state_dir;
	struct al_sim_platform *plat;
	struct fh_stream *streams[FH_MAX_STREAMS];
};

typedef struct fh_config {
	const char *image; /* NULL: ALIGHT_ENCLAVE_SO */
	size_t heap;       /* bytes */
	const char *state; /* directory, created */
	size_t n_stores;   /* 1..4: <state>/store<i> */
	uint32_t quorum;   /* 0: all */
	uint32_t max_nodes;
	uint32_t max_conns;
	uint32_t node_max_peers, node_max_handshakes; /* 0: 4 and 2 */
	uint8_t platform_secret[32];
	bool constant_random;
	uint64_t wall_s; /* the wall clock it tells from the start (0: the real one) */
} fh_config;

/* Load, measure, initialise (the enclave's init). AL_OK or the enclave's error. */
al_err fh_open(fake_host *h, const fh_config *cfg);
void fh_close(fake_host *h);
/* Deliver queued completions until none are left (unless held). */
void fh_settle(fake_host *h);
/* Deliver held completions, one (the oldest) or all. */
void fh_release(fake_host *h, bool all);
/* Make the user channel's identity (ctl_setup). */
al_err fh_ctl_setup(fake_host *h);

/* The user: one request over the user channel, with the credential of `mnemonic` (or
 * a fresh key when NULL). Returns the HTTP status (0: no answer; *why then says what
 * failed: the handshake, the evidence), the body into out. */
int fh_user(fake_host *h, const char *mnemonic, const char *method, const char *target,
            const char *body, char *out, size_t cap, char *why, size_t whycap);
/* Provision a node: the seed of `mnemonic`, or (NULL) one made inside, whose words come
 * back into words_out (cap >= 300). The status, the answer's JSON into out. */
int fh_provision(fake_host *h, const char *mnemonic, char *words_out, char *out, size_t cap);
/* The operator: the api ecall on node i; the status of the answer (0 if none came, or
 * the ecall failed: its error into *err). */
int fh_operator(fake_host *h, uint32_t node, const char *method, const char *target,
                const char *body, char *out, size_t cap, al_err *err);

#endif
