/* Two channel engines (two signers from two seeds, two nodes) wired together in one
 * process: SEND effects go to the other side's al_chan_recv, PERSIST effects are
 * kept and completed in an order the test controls (seeded), BROADCAST, WATCH and
 * EVENT effects are recorded. A node's "disk" is its last record reported durable;
 * a restart drops everything else and loads it.
 *
 * The harness checks, on every effect delivered, that no SEND leaves while a PERSIST
 * delivered before it is incomplete, and that a commitment_signed, revoke_and_ack or
 * funding_signed is covered by the durable record (loading it gives a channel that
 * already holds that commitment or revocation). Every commitment and HTLC
 * transaction can be checked by the script interpreter with keys the harness derives
 * itself (h_verify). */
#ifndef ALIGHT_TESTS_CHAN_HARNESS_H
#define ALIGHT_TESTS_CHAN_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ln/channel.h"
#include "ln/signer.h"

#define H_MAX_MSGS      4096
#define H_MAX_EVENTS    4096
#define H_MAX_BCAST     16
#define H_MAX_PREIMAGES 2048

typedef struct hmsg {
	uint8_t *p;
	size_t len;
} hmsg;

typedef struct hevent {
	al_chan_event_kind kind;
	uint64_t htlc_id;
	al_msat amount;
	uint8_t hash[32];
	uint8_t preimage[32];
	al_err err;
	bool must_fail;
	uint8_t reason[32]; /* HTLC_FAILED: the reason's first bytes */
	size_t reason_len;  /* its whole length */
} hevent;

typedef struct hbcast {
	al_chan_broadcast_kind kind;
	uint8_t *p;
	size_t len;
	uint8_t txid[32];
	uint64_t number; /* COMMITMENT: our commitment number when it went out */
} hbcast;

typedef struct hnode {
	const char *name;
	al_signer_root root;
	uint32_t index;
	uint8_t *signer_mem;
	al_signer *signer;
	/* The signer as al_signer_init made it: checks load with a copy; a restart
	 * derives again unless fast_restart. */
	uint8_t *signer_fresh;
	bool fast_restart;
	al_chan_config cfg;
	uint8_t *mem;
	size_t mem_len;
	al_chan *ch;
	al_chan_env env;
	al_arena scratch;
	uint8_t *scratch_mem;
	size_t scratch_len;
	/* Disk: the last record reported durable, and monitor entries. */
	uint8_t *disk;
	size_t disk_len;
	bool has_disk;
	size_t monitors;
	/* A PERSIST delivered and not yet reported. */
	bool pending;
	uint64_t pending_id;
	al_chan_persist_kind pending_kind;
	uint8_t *pending_rec;
	size_t pending_len;
	/* To the peer (in flight, lost on disconnection). */
	hmsg out[H_MAX_MSGS];
	size_t n_out, out_head;
	uint64_t sent_by_type[256];
	hevent ev[H_MAX_EVENTS];
	size_t n_ev;
	hbcast bc[H_MAX_BCAST];
	size_t n_bc;
	size_t watches;
	/* Funding the harness built for FUNDING_NEEDED. */
	bool funding_needed;
	uint8_t funding_spk[34];
	al_sat funding_amount;
	/* Policy: hold persists this many pump rounds (0: complete at once). */
	unsigned persist_delay, held_rounds;
	bool persist_stuck;   /* never complete (a crash is coming) */
	bool check_durable;   /* check each protected SEND against the disk */
	bool strip_fee_range; /* its closing_signed lose fee_range (a legacy peer) */
	/* Flip a byte of the next message of this type it sends (0: none). */
	uint16_t corrupt_type;
	size_t corrupt_at;
	size_t protected_checked;
} hnode;

typedef struct hpair {
	hnode a, b; /* a opens */
	bool connected;
	uint64_t rng;
	al_secp *unused;
	/* Preimages of every payment hash used, for HTLC-success witnesses. */
	uint8_t pre[H_MAX_PREIMAGES][32];
	uint8_t hash[H_MAX_PREIMAGES][32];
	size_t n_pre;
	size_t verified_txs; /* commitment and HTLC transactions run by the interpreter */
	/* Called with every message a node sends (e.g. to print it). */
	void (*on_send)(void *arg, const hnode *from, const uint8_t *msg, size_t len);
	void *on_send_arg;
	/* Called with every monitor entry a node persists (for the on-chain tests). */
	void (*on_monitor)(void *arg, const hnode *n, uint64_t number, const uint8_t *entry,
	                   size_t len);
	void *on_monitor_arg;
} hpair;

/* Set up both nodes (not opened): seeds from `seed`; a's config = *cfg_a (or the
 * default), b's likewise. */
void h_init(hpair *p, uint64_t seed, const al_chan_config *cfg_a, const al_chan_config *cfg_b);
void h_free(hpair *p);
/* Open a -> b with `type`, `funding` sat and `push` msat, fund it, confirm it and run
 * until both see AL_CHAN_EV_READY. Returns false (with CHECK failures) otherwise. */
bool h_open(hpair *p, al_ln_chan_type type, uint64_t funding, uint64_t push, uint32_t feerate);
/* Stop after the funding exchange (no confirmations). */
bool h_open_unconfirmed(hpair *p, al_ln_chan_type type, uint64_t funding, uint64_t push,
                        uint32_t feerate);
void h_confirm(hpair *p, uint32_t depth);

/* Move everything that can move, until nothing does. */
void h_pump(hpair *p);
/* Deliver effects of one node once (no message delivery). */
void h_drain(hpair *p, hnode *n);
/* Deliver at most one queued message from `from` to the other side. */
bool h_deliver_one(hpair *p, hnode *from);
/* Complete the node's outstanding PERSIST, if any. */
void h_complete(hnode *n);

void h_disconnect(hpair *p);
void h_reconnect(hpair *p);
/* Crash `n`: drop its memory and its in-flight persist, reload from its disk. The
 * connection drops too. */
void h_restart(hpair *p, hnode *n);

/* A payment hash of a fresh preimage (remembered for HTLC-success witnesses). */
void h_new_payment(hpair *p, uint8_t hash[32], uint8_t preimage[32]);
bool h_preimage_of(const hpair *p, const uint8_t hash[32], uint8_t out[32]);
/* Offer an HTLC from `n` (a zeroed onion with a recognisable first byte). */
al_err h_add(hpair *p, hnode *n, uint64_t msat, uint32_t cltv, uint64_t *id, uint8_t hash[32]);

/* The last event of `kind` at n (from index `from`), or NULL. */
const hevent *h_find_event(const hnode *n, al_chan_event_kind kind, size_t from);
size_t h_count_events(const hnode *n, al_chan_event_kind kind);

/* Balances of both nodes add up to the funding in both commitments, and each side's
 * view of a commitment equals the other's when their numbers agree. */
void h_check_balances(hpair *p);
/* Sign n's latest commitment with keys the harness derives from n's seed, add the
 * peer's signature, run the interpreter on the 2-of-2 spend, then every HTLC
 * transaction of it (HTLC-success with the preimage). Returns the number of
 * transactions verified, or -1 after a CHECK failure. */
int h_verify(hpair *p, hnode *n);
/* A BROADCAST transaction spends the funding output: run the interpreter. */
bool h_verify_funding_spend(hpair *p, hnode *n, const hbcast *b);

/* The test's deterministic generator. */
uint64_t h_rand(hpair *p);

#endif
