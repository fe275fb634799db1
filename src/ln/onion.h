/* BOLT #4 onion routing: the Sphinx packet (construction at the sender, peeling at
 * each hop) and failure messages (created at the failing hop, obfuscated on the way
 * back, attributed by the sender).
 *
 * BOLT #4: "onion_packet: version (1 byte), public_key (33 bytes), hop_payloads
 * (1300 bytes), hmac (32 bytes)". Hop payloads are opaque here (a bigsize length, the
 * TLV payload, the next HMAC); what a payload says is the payment layer's business.
 * Nothing here allocates: packets, secrets and results live in caller memory, and
 * every shared secret and key is wiped after use. */
#ifndef ALIGHT_LN_ONION_H
#define ALIGHT_LN_ONION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secp.h"
#include "util/err.h"

#define AL_ONION_HOP_PAYLOADS_LEN 1300
#define AL_ONION_LEN              (1 + AL_PUBKEY_LEN + AL_ONION_HOP_PAYLOADS_LEN + 32) /* 1366 */
/* The longest route built here: 27 hops of the smallest payload a forward needs
 * (amount, cltv, channel: 1 + 15 + 32 bytes) fill 1300 bytes; 20 is LND's and LDK's
 * route limit, and routes are far shorter in practice. */
#define AL_ONION_MAX_HOPS 20
/* BOLT #4: "The associated data is the payment_hash". Up to 64 bytes accepted. */
#define AL_ONION_ASSOC_MAX 64

/* BOLT #4 failure codes of the packet itself (update_fail_malformed_htlc). */
#define AL_ONION_BADONION               0x8000
#define AL_ONION_PERM                   0x4000
#define AL_ONION_NODE                   0x2000
#define AL_ONION_UPDATE                 0x1000
#define AL_ONION_INVALID_ONION_VERSION  (AL_ONION_BADONION | AL_ONION_PERM | 4)
#define AL_ONION_INVALID_ONION_HMAC     (AL_ONION_BADONION | AL_ONION_PERM | 5)
#define AL_ONION_INVALID_ONION_KEY      (AL_ONION_BADONION | AL_ONION_PERM | 6)
#define AL_ONION_INVALID_ONION_PAYLOAD  (AL_ONION_PERM | 22)
#define AL_ONION_TEMPORARY_NODE_FAILURE (AL_ONION_NODE | 2)

typedef struct al_onion_hop {
	al_pubkey node;
	const uint8_t *payload; /* the TLV payload, without its length */
	size_t payload_len;
} al_onion_hop;

/* Build the onion for `n_hops` hops (1..AL_ONION_MAX_HOPS) with `session_key` (fresh
 * randomness, an input). shared_secrets[i] receives hop i's shared secret: the sender
 * keeps them to attribute a failure (al_onion_failure_decode), then wipes them.
 * Errors: AL_E_ONION_HOPS, AL_E_ONION_PAYLOAD (an empty payload: BOLT #4's length 0
 * is the retired legacy format), AL_E_ONION_TOO_LONG (the payloads and their HMACs
 * exceed 1300 bytes), AL_E_ARG (associated data above AL_ONION_ASSOC_MAX), a secp
 * error for an invalid session key. On error nothing is written but zeroes. */
AL_WARN_UNUSED al_err al_onion_create(uint8_t packet[AL_ONION_LEN], uint8_t (*shared_secrets)[32],
                                      const al_secp *secp, const al_privkey *session_key,
                                      const al_onion_hop *hops, size_t n_hops, const uint8_t *assoc,
                                      size_t assoc_len);

/* One hop's view of a packet. */
typedef struct al_onion_peeled {
	uint8_t shared_secret[32]; /* for a failure this hop may have to create */
	uint8_t payload[AL_ONION_HOP_PAYLOADS_LEN];
	size_t payload_len;
	/* BOLT #4: "if the HMAC is all zeros: this is the final node". */
	bool final;
	uint8_t next[AL_ONION_LEN]; /* the packet for the next hop unless final */
} al_onion_peeled;

/* Peel `packet` with this node's key. Errors name what BOLT #4 makes the node answer
 * with update_fail_malformed_htlc (al_onion_malformed_code): AL_E_ONION_VERSION
 * ("if the onion version byte is unknown"), AL_E_ONION_KEY ("if the ephemeral key
 * in the onion is unparsable"), AL_E_ONION_HMAC ("if the onion HMAC is incorrect",
 * compared in constant time); and AL_E_ONION_PAYLOAD for a hop payload whose length
 * is zero, not canonical, or runs past the 1300 bytes (invalid_onion_payload, an
 * ordinary failure). On error *out is zeroed. */
AL_WARN_UNUSED al_err al_onion_peel(al_onion_peeled *out, const al_secp *secp,
                                    const al_privkey *node_key, const uint8_t packet[AL_ONION_LEN],
                                    const uint8_t *assoc, size_t assoc_len);
/* BOLT #4's name of a failure code ("temporary_channel_failure"), NULL for a code it
 * does not define. */
const char *al_onion_failure_name(uint16_t code);
/* The failure code for update_fail_malformed_htlc, 0 for errors that are not. */
uint16_t al_onion_malformed_code(al_err err);
/* Wipe a peeled packet's secret and payload. */
void al_onion_peeled_clear(al_onion_peeled *p);

/* Failure messages. BOLT #4: "failuremsg_len (2 bytes), failuremsg, pad_len (2 bytes),
 * pad" behind a 32-byte HMAC, "the message and the padding MUST be at least 256
 * bytes". AL_ONION_FAILURE_MAX bounds what is created and decoded here. */
#define AL_ONION_FAILURE_MIN_BODY 256
#define AL_ONION_FAILURE_MAX      1400

/* At the failing hop: `msg` (failure code and data, at least 2 bytes) into an
 * obfuscated packet of *outlen bytes in `out` (`cap` bytes). Errors: AL_E_ARG for a
 * message shorter than 2 bytes, AL_E_ONION_FAILURE_LEN beyond AL_ONION_FAILURE_MAX,
 * AL_E_BUFSIZE. */
AL_WARN_UNUSED al_err al_onion_failure_create(uint8_t *out, size_t cap, size_t *outlen,
                                              const uint8_t shared_secret[32], const uint8_t *msg,
                                              size_t msg_len);
/* At each hop on the way back: "obfuscate the packet using its ammag key". */
AL_WARN_UNUSED al_err al_onion_failure_wrap(uint8_t *pkt, size_t len,
                                            const uint8_t shared_secret[32]);
/* At the sender, with the route's shared secrets in order: unwrap hop by hop until an
 * HMAC matches; *origin gets that hop's index and `msg` (`cap` bytes) the failure
 * message (*msg_len bytes). AL_E_ONION_FAILURE_UNKNOWN when no hop's HMAC matches
 * (the route garbled it: BOLT #4 leaves such a failure unattributable),
 * AL_E_ONION_FAILURE_LEN for a packet outside 32 + 2 + 2 .. AL_ONION_FAILURE_MAX
 * bytes, AL_E_ONION_FAILURE_MALFORMED when the matching hop's lengths do not fit the
 * packet or the message is shorter than its 2-byte code. */
AL_WARN_UNUSED al_err al_onion_failure_decode(size_t *origin, uint8_t *msg, size_t cap,
                                              size_t *msg_len, const uint8_t (*shared_secrets)[32],
                                              size_t n_hops, const uint8_t *pkt, size_t len);

#endif
