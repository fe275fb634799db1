/* BOLT #9 feature bits: sets, their wire form, dependencies and negotiation.
 *
 * BOLT #9: "Flags are numbered from the least-significant bit, at bit 0 (i.e. 0x1,
 * an _even_ bit). They are generally assigned in pairs so that features can be
 * introduced as optional (_odd_ bits) and later upgraded to be compulsory (_even_
 * bits), which will be refused by outdated nodes."
 *
 * An al_features holds bits 0 to AL_FEATURES_MAX_BITS - 1 by number; the wire form
 * (init, node_announcement, invoices) is a big-endian byte string whose last byte
 * holds bits 0-7, converted with al_features_merge_wire and al_features_to_wire. */
#ifndef ALIGHT_LN_FEATURES_H
#define ALIGHT_LN_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Well above every assigned bit; larger even bits are refused, odd ones ignored. */
#define AL_FEATURES_MAX_BITS 256

typedef struct al_features {
	uint8_t bits[AL_FEATURES_MAX_BITS / 8]; /* bit n is bits[n / 8] & (1 << n % 8) */
} al_features;

/* The compulsory (even) bit of each named feature; the optional bit is one more. */
enum al_feature {
	AL_FEATURE_DATA_LOSS_PROTECT = 0,
	AL_FEATURE_INITIAL_ROUTING_SYNC = 3, /* odd only: "There is no _even_ bit" */
	AL_FEATURE_UPFRONT_SHUTDOWN_SCRIPT = 4,
	AL_FEATURE_GOSSIP_QUERIES = 6,
	AL_FEATURE_VAR_ONION_OPTIN = 8,
	AL_FEATURE_GOSSIP_QUERIES_EX = 10,
	AL_FEATURE_STATIC_REMOTEKEY = 12,
	AL_FEATURE_PAYMENT_SECRET = 14,
	AL_FEATURE_BASIC_MPP = 16,
	AL_FEATURE_LARGE_CHANNEL = 18,
	AL_FEATURE_ANCHOR_OUTPUTS = 20,
	AL_FEATURE_ANCHORS_ZERO_FEE_HTLC_TX = 22,
	AL_FEATURE_ROUTE_BLINDING = 24,
	AL_FEATURE_SHUTDOWN_ANYSEGWIT = 26,
	AL_FEATURE_CHANNEL_TYPE = 44,
	AL_FEATURE_SCID_ALIAS = 46,
	AL_FEATURE_PAYMENT_METADATA = 48,
	AL_FEATURE_ZEROCONF = 50,
};

#define AL_FEATURE_REQ(bit) ((unsigned)(bit) & ~1u)
#define AL_FEATURE_OPT(bit) ((unsigned)(bit) | 1u)

void al_features_clear(al_features *f);
/* Set one bit; AL_E_RANGE at or above AL_FEATURES_MAX_BITS. */
AL_WARN_UNUSED al_err al_features_set(al_features *f, unsigned bit);
/* Exactly this bit is set. */
bool al_features_has(const al_features *f, unsigned bit);
/* BOLT #1: a feature is "offered" if set "as either even or odd": either bit of the
 * pair that `bit` belongs to. */
bool al_features_offered(const al_features *f, unsigned bit);
/* The pair's even (compulsory) bit is set. */
bool al_features_required(const al_features *f, unsigned bit);
/* The feature's name for either bit of a pair BOLT #9 assigns, NULL otherwise. */
const char *al_feature_name(unsigned bit);

/* OR a wire-form bit string (big-endian, bit 0 in the last byte) into f: the two
 * init bitmaps are merged by calling this on each. A set even bit at or above
 * AL_FEATURES_MAX_BITS is a compulsory feature no one here knows: AL_E_WIRE_FEATURES
 * with *bad set to it (bad may be NULL); such odd bits are dropped. */
AL_WARN_UNUSED al_err al_features_merge_wire(al_features *f, unsigned *bad, const uint8_t *v,
                                             size_t len);
/* BOLT #1: "SHOULD use the minimum length required to represent the `features`
 * field": the number of bytes up to the highest set bit (0 for none). */
size_t al_features_wire_len(const al_features *f);
/* Write f into exactly len bytes, big-endian, zero-padded at the front;
 * AL_E_BUFSIZE if len < al_features_wire_len(f). */
AL_WARN_UNUSED al_err al_features_to_wire(uint8_t *out, size_t len, const al_features *f);

/* BOLT #9: "MUST set all transitive feature dependencies"; BOLT #1: "if the feature
 * vector does not set all known, transitive dependencies: MUST close the
 * connection." AL_E_WIRE_FEATURE_DEPS names the first offered feature (its even bit)
 * whose dependency is not offered in *feature and *depends (either may be NULL). */
AL_WARN_UNUSED al_err al_features_check_deps(unsigned *feature, unsigned *depends,
                                             const al_features *f);

/* Accept a peer's (merged) init features against the ones we sent.
 *
 * BOLT #1: "upon receiving unknown _even_ feature bits that are non-zero: MUST
 * close the connection." A bit is known here when we offered its feature; anything
 * else we do not implement. AL_E_WIRE_FEATURES with *bad (may be NULL) the first
 * such bit, or the errors of al_features_check_deps on the peer's set.
 *
 * On success `negotiated` holds every negotiated feature. BOLT #1: "A feature is
 * *negotiated* if either both peers offered it, or the local node offered it as
 * even". Its even bit is set when either side required it, else its odd bit, so
 * al_features_offered() tells whether a feature is negotiated. */
AL_WARN_UNUSED al_err al_features_negotiate(al_features *negotiated, unsigned *bad,
                                            const al_features *local, const al_features *remote);

#endif
