/* A payment's route: the amounts and expiries of each hop's HTLC (BOLT #7 "HTLC Fees",
 * BOLT #4 payloads), the route from an invoice's route hint over one of our channels,
 * and the onion that carries it.
 *
 * A route is a list of hops; hop i is the HTLC that goes over channel `scid` into
 * node `node_id`, with the fee and CLTV delta that the node before it charges for that
 * channel (its channel_update, or the invoice's `r` entry). The first hop is our own
 * channel: we charge ourselves nothing, so its fee and delta are ignored. */
#ifndef ALIGHT_LN_ROUTE_H
#define ALIGHT_LN_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "ln/invoice.h"
#include "ln/onion.h"
#include "util/err.h"

/* The most CLTV a route may lock our funds for, over the tip: two weeks of blocks
 * (LDK's and LND's default limit). */
#define AL_ROUTE_MAX_CLTV 2016

typedef struct al_route_hop {
	uint8_t node_id[AL_PUBKEY_LEN];
	uint64_t scid;
	uint32_t fee_base_msat;
	uint32_t fee_proportional_millionths;
	uint16_t cltv_expiry_delta;
} al_route_hop;

typedef struct al_route {
	size_t n;
	al_route_hop hops[AL_ONION_MAX_HOPS];
	/* The HTLC into hop i: amount and absolute expiry. amount[0] / cltv[0] is what we
	 * send; amount[n - 1] is what the payee receives. */
	uint64_t amount_msat[AL_ONION_MAX_HOPS];
	uint32_t cltv_expiry[AL_ONION_MAX_HOPS];
	uint64_t fee_msat; /* amount[0] - amount[n - 1] */
} al_route;

/* BOLT #7: "fee_base_msat + ( amount_to_forward * fee_proportional_millionths /
 * 1000000 )". AL_E_RANGE on overflow. */
AL_WARN_UNUSED al_err al_route_fee(uint64_t *fee, uint64_t amount_msat, uint32_t base,
                                   uint32_t ppm);

/* Amounts and expiries for `n` hops delivering `amount_msat` to the last with
 * `final_cltv` (absolute: the tip plus the payee's min_final_cltv_expiry_delta, plus
 * any shadow offset). Errors: AL_E_ONION_HOPS (0 or more than AL_ONION_MAX_HOPS),
 * AL_E_RANGE (an amount overflows), AL_E_ROUTE_CLTV (the first expiry lies more than
 * AL_ROUTE_MAX_CLTV past `height`). */
AL_WARN_UNUSED al_err al_route_compute(al_route *r, const al_route_hop *hops, size_t n,
                                       uint64_t amount_msat, uint32_t final_cltv, uint32_t height);

/* The hops to pay `inv` over our channel `scid` to `peer`: straight to the payee when
 * the peer is the payee, otherwise through the invoice's route hint `hint` (whose
 * first node must be the peer) to the payee. AL_E_ROUTE_NO_PATH when neither holds,
 * AL_E_ONION_HOPS when the hint is too long. */
AL_WARN_UNUSED al_err al_route_from_invoice(al_route_hop *hops, size_t *n, const al_invoice *inv,
                                            size_t hint, uint64_t scid,
                                            const uint8_t peer[AL_PUBKEY_LEN]);

/* The onion for route `r`: forward payloads (amt_to_forward, outgoing_cltv_value,
 * short_channel_id of the next channel) and the payee's final payload (payment_data
 * with `payment_secret` and `total_msat`, and `metadata` when given), bound to
 * `payment_hash`. shared_secrets as al_onion_create. */
AL_WARN_UNUSED al_err al_route_onion(uint8_t packet[AL_ONION_LEN], uint8_t (*shared_secrets)[32],
                                     const al_secp *secp, const al_privkey *session_key,
                                     const al_route *r, const uint8_t payment_hash[32],
                                     const uint8_t payment_secret[32], uint64_t total_msat,
                                     const uint8_t *metadata, size_t metadata_len);

#endif
