/* BOLT #4 hop payloads: the TLV stream each hop finds in its layer of the onion.
 *
 * Decoding checks what the payload alone can tell (the reader requirements "outside
 * a blinded route"); whether the amounts and expiries agree with the incoming HTLC
 * and the channel's policy is the forwarding or receiving code's check. Every refusal
 * is BOLT #4's invalid_onion_payload, whose data names the offending TLV type
 * (al_hop_payload.bad_type) and its byte offset. */
#ifndef ALIGHT_LN_PAYLOAD_H
#define ALIGHT_LN_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* BOLT #4 payload types, and keysend's preimage record (type 5482373484, even: a
 * node that does not take spontaneous payments refuses them). */
#define AL_PAYLOAD_AMT_TO_FORWARD    2
#define AL_PAYLOAD_OUTGOING_CLTV     4
#define AL_PAYLOAD_SHORT_CHANNEL_ID  6
#define AL_PAYLOAD_PAYMENT_DATA      8
#define AL_PAYLOAD_ENCRYPTED_DATA    10
#define AL_PAYLOAD_CURRENT_PATH_KEY  12
#define AL_PAYLOAD_PAYMENT_METADATA  16
#define AL_PAYLOAD_TOTAL_AMOUNT_MSAT 18
#define AL_PAYLOAD_KEYSEND_PREIMAGE  5482373484ULL

typedef struct al_hop_payload {
	uint64_t amt_to_forward;
	uint32_t outgoing_cltv_value;
	bool has_scid;
	uint64_t short_channel_id;
	bool has_payment_data;
	uint8_t payment_secret[32];
	uint64_t total_msat;
	/* Borrowed from the decoded bytes (or the caller's, to encode). */
	const uint8_t *metadata;
	size_t metadata_len;
	bool has_keysend;
	uint8_t keysend_preimage[32];

	/* With an error: the TLV type at fault (0 when the stream itself is broken). */
	uint64_t bad_type;
} al_hop_payload;

/* Decode the payload of a non-final (`final` false) or final hop. Errors: the TLV
 * stream's (order, truncation, unknown even types, value lengths), and
 * AL_E_PAYLOAD_BLINDED (encrypted_recipient_data, current_path_key or
 * total_amount_msat: route blinding is not offered here), AL_E_PAYLOAD_MISSING
 * ("MUST return an error if `amt_to_forward` or `outgoing_cltv_value` are not
 * present"; a non-final hop without `short_channel_id`), AL_E_PAYLOAD_FIELD (a final
 * hop with `short_channel_id`, a non-final one with `payment_data`). On error *out is
 * zeroed but for bad_type. */
AL_WARN_UNUSED al_err al_hop_payload_decode(al_hop_payload *out, const uint8_t *payload, size_t len,
                                            bool final);

/* Encode `p` canonically (types in order, minimal integers) into `out`; AL_E_BUFSIZE
 * when `cap` is short (*outlen then says what is needed). */
AL_WARN_UNUSED al_err al_hop_payload_encode(uint8_t *out, size_t cap, size_t *outlen,
                                            const al_hop_payload *p);

#endif
