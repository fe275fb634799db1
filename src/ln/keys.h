/* BOLT #3 key derivation: per-commitment points, the per-commitment public and
 * private keys derived from a basepoint, and the blinded revocation keys.
 *
 * All results are written to caller structures; intermediate scalars are wiped. */
#ifndef ALIGHT_LN_KEYS_H
#define ALIGHT_LN_KEYS_H

#include <stdint.h>

#include "crypto/secp.h"
#include "util/err.h"

/* SHA256(a || b) over the compressed encodings of two points: the tweak of every
 * BOLT #3 key derivation and the commitment number obscurer. */
void al_ln_sha256_points(const al_secp *ctx, uint8_t out[32], const al_pubkey *a,
                         const al_pubkey *b);

/* BOLT #3: per_commitment_point = per_commitment_secret * G */
AL_WARN_UNUSED al_err al_ln_per_commitment_point(const al_secp *ctx, al_pubkey *out,
                                                 const uint8_t per_commitment_secret[32]);

/* BOLT #3: pubkey = basepoint + SHA256(per_commitment_point || basepoint) * G
 * (localpubkey, local_htlcpubkey, remote_htlcpubkey, local_delayedpubkey,
 * remote_delayedpubkey). AL_E_TWEAK if the result would be the point at infinity. */
AL_WARN_UNUSED al_err al_ln_derive_pubkey(const al_secp *ctx, al_pubkey *out,
                                          const al_pubkey *basepoint,
                                          const al_pubkey *per_commitment_point);

/* BOLT #3: privkey = basepoint_secret + SHA256(per_commitment_point || basepoint)
 * The basepoint is computed from `basepoint_secret`. On error *out is zeroed. */
AL_WARN_UNUSED al_err al_ln_derive_privkey(const al_secp *ctx, al_privkey *out,
                                           const al_privkey *basepoint_secret,
                                           const al_pubkey *per_commitment_point);

/* BOLT #3: revocationpubkey = revocation_basepoint * SHA256(revocation_basepoint ||
 * per_commitment_point) + per_commitment_point * SHA256(per_commitment_point ||
 * revocation_basepoint) */
AL_WARN_UNUSED al_err al_ln_revocation_pubkey(const al_secp *ctx, al_pubkey *out,
                                              const al_pubkey *revocation_basepoint,
                                              const al_pubkey *per_commitment_point);

/* BOLT #3: revocationprivkey = revocation_basepoint_secret * SHA256(revocation_basepoint
 * || per_commitment_point) + per_commitment_secret * SHA256(per_commitment_point ||
 * revocation_basepoint)
 * Both points are computed from the secrets. On error *out is zeroed. */
AL_WARN_UNUSED al_err al_ln_revocation_privkey(const al_secp *ctx, al_privkey *out,
                                               const al_privkey *revocation_basepoint_secret,
                                               const uint8_t per_commitment_secret[32]);

/* A node's channel basepoints (BOLT #2 open_channel / accept_channel). */
typedef struct al_ln_basepoints {
	al_pubkey revocation;
	al_pubkey payment;
	al_pubkey delayed_payment;
	al_pubkey htlc;
} al_ln_basepoints;

/* The keys of one commitment transaction, named from its owner's ("local") view. */
typedef struct al_ln_keyset {
	al_pubkey revocation;    /* revocationpubkey */
	al_pubkey local_delayed; /* local_delayedpubkey */
	al_pubkey local_htlc;    /* local_htlcpubkey */
	al_pubkey remote_htlc;   /* remote_htlcpubkey */
	al_pubkey remote;        /* remotepubkey */
} al_ln_keyset;

/* Every key of the commitment transaction owned by `local` at its
 * per_commitment_point, for option_static_remotekey and option_anchors channels
 * (BOLT #3: "If `option_static_remotekey` or `option_anchors` is negotiated, the
 * `remotepubkey` is simply the remote node's `payment_basepoint`"). The revocation
 * key uses the remote node's revocation_basepoint: only it can punish. */
AL_WARN_UNUSED al_err al_ln_keyset_derive(const al_secp *ctx, al_ln_keyset *out,
                                          const al_ln_basepoints *local,
                                          const al_ln_basepoints *remote,
                                          const al_pubkey *per_commitment_point);

#endif
