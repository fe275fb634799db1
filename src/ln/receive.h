/* BOLT #4 at the final node: deciding each incoming HTLC of a payment to this node,
 * and collecting multi-part payments ("HTLC sets") until they are whole or time out.
 *
 * Sans-I/O: the caller hands in each HTLC once it is irrevocably committed, with its
 * decoded final payload and what the node knows of the payment hash (an invoice
 * lookup), plus the chain height and the time; the engine answers with decisions,
 * each HTLC exactly once: fulfil (with the preimage) or fail (with the BOLT #4
 * failure message for al_onion_failure_create). A set is fulfilled whole or not at
 * all. The caller persists that an invoice is paid before it releases the preimage to
 * any peer (persist before you speak). Fixed capacity, caller-owned memory. */
#ifndef ALIGHT_LN_RECEIVE_H
#define ALIGHT_LN_RECEIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ln/payload.h"
#include "util/err.h"

/* Payments being collected at once, parts per payment, decisions not yet taken. */
#define AL_RECV_MAX_SETS      16
#define AL_RECV_MAX_PARTS     16
#define AL_RECV_MAX_DECISIONS (AL_RECV_MAX_SETS * AL_RECV_MAX_PARTS + 8)
/* BOLT #4: "MUST fail all HTLCs in the HTLC set after some reasonable timeout. SHOULD
 * wait for at least 60 seconds after the initial HTLC." */
#define AL_RECV_MPP_TIMEOUT_MS 60000

/* BOLT #4 failure codes a final node gives. */
#define AL_RECV_TEMPORARY_NODE_FAILURE 0x2002 /* NODE|2: no room to collect the part */
#define AL_RECV_UNKNOWN_PAYMENT        0x400f /* PERM|15 incorrect_or_unknown_payment_details */
#define AL_RECV_FINAL_INCORRECT_CLTV   18
#define AL_RECV_FINAL_INCORRECT_AMOUNT 19
#define AL_RECV_INVALID_ONION_PAYLOAD  0x4016 /* PERM|22 */
#define AL_RECV_MPP_TIMEOUT            23
/* The longest failure message these make: code, htlc_msat and height. */
#define AL_RECV_FAILURE_MAX 16

/* What the node knows of a payment hash: its invoice, if any. */
typedef struct al_recv_invoice {
	bool known; /* an invoice of this node with this hash, not yet paid */
	uint8_t preimage[32];
	uint8_t payment_secret[32];
	bool has_amount;
	uint64_t amount_msat;
	uint32_t min_final_cltv_expiry_delta;
	uint64_t expires_at; /* unix seconds: timestamp + expiry */
} al_recv_invoice;

/* One incoming HTLC addressed to this node. */
typedef struct al_recv_htlc {
	uint64_t id; /* the caller's handle for it (channel and HTLC id) */
	uint8_t payment_hash[32];
	uint64_t amount_msat;
	uint32_t cltv_expiry;
	al_hop_payload payload; /* decoded with final = true */
} al_recv_htlc;

typedef enum al_recv_kind {
	AL_RECV_FULFILL = 1,
	AL_RECV_FAIL = 2,
} al_recv_kind;

typedef struct al_recv_decision {
	al_recv_kind kind;
	uint64_t id;
	uint8_t payment_hash[32];
	uint8_t preimage[32];                 /* FULFILL */
	uint64_t total_msat;                  /* FULFILL: what the whole set paid */
	uint8_t failure[AL_RECV_FAILURE_MAX]; /* FAIL: code and data, for al_onion_failure_create */
	size_t failure_len;
} al_recv_decision;

typedef struct al_recv_part {
	uint64_t id;
	uint64_t amount_msat;
} al_recv_part;

typedef struct al_recv_set {
	bool used;
	uint8_t payment_hash[32];
	uint8_t preimage[32];
	uint64_t total_msat; /* what the senders promised */
	uint64_t sum_msat;   /* what arrived */
	uint64_t started_ms;
	size_t n_parts;
	al_recv_part parts[AL_RECV_MAX_PARTS];
} al_recv_set;

typedef struct al_recv {
	al_recv_set sets[AL_RECV_MAX_SETS];
	al_recv_decision q[AL_RECV_MAX_DECISIONS];
	size_t q_head, q_len;
	uint64_t fulfilled, failed; /* HTLCs decided, for the caller's counters */
} al_recv;

void al_recv_init(al_recv *r);

/* Decide or collect one HTLC. Time `now_ms` (monotonic), wall clock `now_unix`
 * (seconds, for the invoice's expiry), the chain tip `height`. Every outcome is a
 * decision to take with al_recv_next (possibly later, for a part that waits for the
 * rest of its set). AL_E_RECV_FULL when the decision queue has no room: nothing
 * changed, take decisions and offer the HTLC again. */
AL_WARN_UNUSED al_err al_recv_offer(al_recv *r, const al_recv_htlc *h, const al_recv_invoice *inv,
                                    uint32_t height, uint64_t now_ms, uint64_t now_unix);

/* Fail every set that has waited AL_RECV_MPP_TIMEOUT_MS since its first part with
 * mpp_timeout (as far as the queue has room; the rest on the next call). */
void al_recv_tick(al_recv *r, uint64_t now_ms);

/* The next decision, in order; false when there is none. */
bool al_recv_next(al_recv *r, al_recv_decision *out);

/* HTLCs held in sets, waiting for the rest of their payment. */
size_t al_recv_waiting(const al_recv *r);

/* The checks of the HTLC against its own final payload (no invoice needed):
 * AL_RECV_FINAL_INCORRECT_CLTV, AL_RECV_FINAL_INCORRECT_AMOUNT, or 0. al_recv_offer makes
 * them first; a keysend payment has nothing else to be checked against. */
uint16_t al_recv_check_htlc(const al_recv_htlc *h);

/* A final node's failure message (code, then the data BOLT #4 gives it): for
 * incorrect_or_unknown_payment_details htlc_msat and `value` the height, for
 * final_incorrect_cltv_expiry `value` the HTLC's cltv_expiry, for
 * final_incorrect_htlc_amount htlc_msat; none for the others. Its length. */
size_t al_recv_failure(uint8_t out[AL_RECV_FAILURE_MAX], uint16_t code, uint64_t htlc_msat,
                       uint32_t value);

/* Wipe the engine (its sets hold preimages). */
void al_recv_clear(al_recv *r);

#endif
