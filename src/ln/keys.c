#include "ln/keys.h"

#include <string.h>

#include "crypto/hash.h"
#include "util/mem.h"

/* SHA256(a || b) over the compressed encodings of two points. */
void al_ln_sha256_points(const al_secp *ctx, uint8_t out[32], const al_pubkey *a,
                         const al_pubkey *b)
{
	uint8_t ser[AL_PUBKEY_LEN];
	al_sha256_ctx h;

	al_sha256_init(&h);
	al_pubkey_serialize(ctx, ser, a);
	al_sha256_update(&h, ser, sizeof(ser));
	al_pubkey_serialize(ctx, ser, b);
	al_sha256_update(&h, ser, sizeof(ser));
	al_sha256_final(&h, out);
}

al_err al_ln_per_commitment_point(const al_secp *ctx, al_pubkey *out,
                                  const uint8_t per_commitment_secret[32])
{
	al_privkey k;
	al_err e;

	memcpy(k.k, per_commitment_secret, 32);
	e = al_pubkey_from_privkey(ctx, out, &k);
	al_privkey_clear(&k);
	return e;
}

al_err al_ln_derive_pubkey(const al_secp *ctx, al_pubkey *out, const al_pubkey *basepoint,
                           const al_pubkey *per_commitment_point)
{
	uint8_t tweak[32];
	al_err e;

	/* BOLT #3: pubkey = basepoint + SHA256(per_commitment_point || basepoint) * G */
	al_ln_sha256_points(ctx, tweak, per_commitment_point, basepoint);
	*out = *basepoint;
	e = al_pubkey_tweak_add(ctx, out, tweak);
	if (e != AL_OK)
		memset(out, 0, sizeof(*out));
	return e;
}

al_err al_ln_derive_privkey(const al_secp *ctx, al_privkey *out, const al_privkey *basepoint_secret,
                            const al_pubkey *per_commitment_point)
{
	al_pubkey basepoint;
	uint8_t tweak[32];
	al_err e;

	e = al_pubkey_from_privkey(ctx, &basepoint, basepoint_secret);
	if (e != AL_OK)
		goto fail;
	/* BOLT #3: privkey = basepoint_secret + SHA256(per_commitment_point || basepoint) */
	al_ln_sha256_points(ctx, tweak, per_commitment_point, &basepoint);
	*out = *basepoint_secret;
	e = al_privkey_tweak_add(ctx, out, tweak);
	al_memzero(tweak, sizeof(tweak));
	if (e == AL_OK)
		return AL_OK;
fail:
	al_privkey_clear(out);
	return e;
}

al_err al_ln_revocation_pubkey(const al_secp *ctx, al_pubkey *out,
                               const al_pubkey *revocation_basepoint,
                               const al_pubkey *per_commitment_point)
{
	uint8_t h1[32], h2[32];
	al_pubkey a = *revocation_basepoint, b = *per_commitment_point;
	al_err e;

	/* BOLT #3: revocationpubkey = revocation_basepoint * SHA256(revocation_basepoint ||
	 * per_commitment_point) + per_commitment_point * SHA256(per_commitment_point ||
	 * revocation_basepoint) */
	al_ln_sha256_points(ctx, h1, revocation_basepoint, per_commitment_point);
	al_ln_sha256_points(ctx, h2, per_commitment_point, revocation_basepoint);
	e = al_pubkey_tweak_mul(ctx, &a, h1);
	if (e == AL_OK)
		e = al_pubkey_tweak_mul(ctx, &b, h2);
	if (e == AL_OK)
		e = al_pubkey_combine(ctx, out, &a, &b);
	if (e != AL_OK)
		memset(out, 0, sizeof(*out));
	return e;
}

al_err al_ln_revocation_privkey(const al_secp *ctx, al_privkey *out,
                                const al_privkey *revocation_basepoint_secret,
                                const uint8_t per_commitment_secret[32])
{
	uint8_t h1[32], h2[32];
	al_pubkey rb, pcp;
	al_privkey part;
	al_err e;

	memcpy(part.k, per_commitment_secret, 32);
	e = al_pubkey_from_privkey(ctx, &rb, revocation_basepoint_secret);
	if (e == AL_OK)
		e = al_pubkey_from_privkey(ctx, &pcp, &part);
	if (e != AL_OK)
		goto done;
	/* BOLT #3: revocationprivkey = revocation_basepoint_secret *
	 * SHA256(revocation_basepoint || per_commitment_point) + per_commitment_secret *
	 * SHA256(per_commitment_point || revocation_basepoint) */
	al_ln_sha256_points(ctx, h1, &rb, &pcp);
	al_ln_sha256_points(ctx, h2, &pcp, &rb);
	*out = *revocation_basepoint_secret;
	e = al_privkey_tweak_mul(ctx, out, h1);
	if (e == AL_OK)
		e = al_privkey_tweak_mul(ctx, &part, h2);
	/* The second product is a valid scalar, so it serves as the tweak to add. */
	if (e == AL_OK)
		e = al_privkey_tweak_add(ctx, out, part.k);
done:
	al_privkey_clear(&part);
	al_memzero(h1, sizeof(h1));
	al_memzero(h2, sizeof(h2));
	if (e != AL_OK)
		al_privkey_clear(out);
	return e;
}

al_err al_ln_keyset_derive(const al_secp *ctx, al_ln_keyset *out, const al_ln_basepoints *local,
                           const al_ln_basepoints *remote, const al_pubkey *per_commitment_point)
{
	const al_pubkey *pcp = per_commitment_point;

	AL_TRY(al_ln_revocation_pubkey(ctx, &out->revocation, &remote->revocation, pcp));
	AL_TRY(al_ln_derive_pubkey(ctx, &out->local_delayed, &local->delayed_payment, pcp));
	AL_TRY(al_ln_derive_pubkey(ctx, &out->local_htlc, &local->htlc, pcp));
	AL_TRY(al_ln_derive_pubkey(ctx, &out->remote_htlc, &remote->htlc, pcp));
	out->remote = remote->payment;
	return AL_OK;
}
