#include "crypto/secp.h"

#include <string.h>

#include <secp256k1_ecdh.h>
#include <secp256k1_preallocated.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include "util/mem.h"

struct al_secp {
	secp256k1_context *ctx;
	unsigned long illegal;
};

/* libsecp256k1 results (valid key or not) are public by design; see al_declassify. */
static int pub(int ret)
{
	al_declassify(&ret, sizeof(ret));
	return ret;
}

#define CTX_OFFSET ((sizeof(struct al_secp) + 15) & ~(size_t)15)

/* libsecp256k1 calls this on API misuse instead of returning an error code; the
 * call that triggered it still returns 0, which the wrappers turn into an error. */
static void on_illegal(const char *msg, void *data)
{
	(void)msg;
	((struct al_secp *)data)->illegal++;
}

size_t al_secp_size(void)
{
	return CTX_OFFSET + secp256k1_context_preallocated_size(SECP256K1_CONTEXT_NONE);
}

al_err al_secp_create(al_secp **out, void *mem, size_t len, const uint8_t *seed)
{
	struct al_secp *s = mem;

	*out = NULL;
	if (!mem || len < al_secp_size() || ((uintptr_t)mem & 15))
		return AL_E_ARG;
	s->illegal = 0;
	s->ctx = secp256k1_context_preallocated_create((uint8_t *)mem + CTX_OFFSET,
	                                               SECP256K1_CONTEXT_NONE);
	if (!s->ctx)
		return AL_E_CRYPTO;
	secp256k1_context_set_illegal_callback(s->ctx, on_illegal, s);
	if (seed && !secp256k1_context_randomize(s->ctx, seed)) {
		al_secp_destroy(s);
		return AL_E_CRYPTO;
	}
	*out = s;
	return AL_OK;
}

void al_secp_destroy(al_secp *s)
{
	if (!s)
		return;
	secp256k1_context_preallocated_destroy(s->ctx);
	al_memzero((uint8_t *)s + CTX_OFFSET,
	           secp256k1_context_preallocated_size(SECP256K1_CONTEXT_NONE));
	s->ctx = NULL;
}

unsigned long al_secp_illegal_count(const al_secp *s)
{
	return s->illegal;
}

void al_privkey_clear(al_privkey *k)
{
	al_memzero(k, sizeof(*k));
}

bool al_privkey_valid(const al_secp *s, const al_privkey *k)
{
	return pub(secp256k1_ec_seckey_verify(s->ctx, k->k)) == 1;
}

al_err al_pubkey_from_privkey(const al_secp *s, al_pubkey *out, const al_privkey *k)
{
	if (!pub(secp256k1_ec_pubkey_create(s->ctx, &out->pk, k->k))) {
		memset(out, 0, sizeof(*out));
		return AL_E_PRIVKEY;
	}
	return AL_OK;
}

al_err al_pubkey_parse(const al_secp *s, al_pubkey *out, const uint8_t *in, size_t len)
{
	if ((len != 33 && len != 65) || !secp256k1_ec_pubkey_parse(s->ctx, &out->pk, in, len)) {
		memset(out, 0, sizeof(*out));
		return AL_E_PUBKEY;
	}
	return AL_OK;
}

void al_pubkey_serialize(const al_secp *s, uint8_t out[AL_PUBKEY_LEN], const al_pubkey *pk)
{
	size_t len = AL_PUBKEY_LEN;

	if (!secp256k1_ec_pubkey_serialize(s->ctx, out, &len, &pk->pk, SECP256K1_EC_COMPRESSED))
		memset(out, 0, AL_PUBKEY_LEN);
}

int al_pubkey_cmp(const al_secp *s, const al_pubkey *a, const al_pubkey *b)
{
	return secp256k1_ec_pubkey_cmp(s->ctx, &a->pk, &b->pk);
}

bool al_pubkey_eq(const al_secp *s, const al_pubkey *a, const al_pubkey *b)
{
	return al_pubkey_cmp(s, a, b) == 0;
}

al_err al_ecdsa_sign(const al_secp *s, al_ecdsa_sig *sig, const uint8_t msg32[32],
                     const al_privkey *k)
{
	if (!pub(secp256k1_ecdsa_sign(s->ctx, &sig->s, msg32, k->k, NULL, NULL))) {
		memset(sig, 0, sizeof(*sig));
		return AL_E_PRIVKEY;
	}
	return AL_OK;
}

al_err al_ecdsa_sign_recoverable(const al_secp *s, uint8_t sig64[64], int *recid,
                                 const uint8_t msg32[32], const al_privkey *k)
{
	secp256k1_ecdsa_recoverable_signature sig;

	if (!pub(secp256k1_ecdsa_sign_recoverable(s->ctx, &sig, msg32, k->k, NULL, NULL))) {
		memset(sig64, 0, 64);
		*recid = 0;
		return AL_E_PRIVKEY;
	}
	secp256k1_ecdsa_recoverable_signature_serialize_compact(s->ctx, sig64, recid, &sig);
	/* The signature is public once made. */
	al_declassify(sig64, 64);
	al_declassify(recid, sizeof(*recid));
	return AL_OK;
}

al_err al_ecdsa_recover(const al_secp *s, al_pubkey *out, const uint8_t sig64[64], int recid,
                        const uint8_t msg32[32])
{
	secp256k1_ecdsa_recoverable_signature sig;

	memset(out, 0, sizeof(*out));
	if (recid < 0 || recid > 3 ||
	    !secp256k1_ecdsa_recoverable_signature_parse_compact(s->ctx, &sig, sig64, recid))
		return AL_E_SIG_ENCODING;
	if (!secp256k1_ecdsa_recover(s->ctx, &out->pk, &sig, msg32)) {
		memset(out, 0, sizeof(*out));
		return AL_E_SIG_INVALID;
	}
	return AL_OK;
}

al_err al_ecdsa_sign_low_r(const al_secp *s, al_ecdsa_sig *sig, const uint8_t msg32[32],
                           const al_privkey *k)
{
	uint8_t extra[32] = {0}, compact[64];
	uint32_t counter = 0;

	for (;;) {
		if (!pub(secp256k1_ecdsa_sign(s->ctx, &sig->s, msg32, k->k, NULL,
		                              counter ? extra : NULL))) {
			memset(sig, 0, sizeof(*sig));
			return AL_E_PRIVKEY;
		}
		/* The signature is public: its r may be branched on. */
		secp256k1_ecdsa_signature_serialize_compact(s->ctx, compact, &sig->s);
		al_declassify(compact, 1);
		if (compact[0] < 0x80)
			return AL_OK;
		/* Core: WriteLE32(extra_entropy, ++counter). */
		counter++;
		for (size_t i = 0; i < 4; i++)
			extra[i] = (uint8_t)(counter >> (8 * i));
	}
}

al_err al_ecdsa_verify(const al_secp *s, const al_ecdsa_sig *sig, const uint8_t msg32[32],
                       const al_pubkey *pk)
{
	if (secp256k1_ecdsa_verify(s->ctx, &sig->s, msg32, &pk->pk))
		return AL_OK;
	/* libsecp256k1 rejects high-S outright; say so when that is the reason. */
	if (secp256k1_ecdsa_signature_normalize(s->ctx, NULL, &sig->s))
		return AL_E_SIG_HIGH_S;
	return AL_E_SIG_INVALID;
}

al_err al_ecdsa_sig_parse_der(const al_secp *s, al_ecdsa_sig *sig, const uint8_t *der, size_t len)
{
	if (!secp256k1_ecdsa_signature_parse_der(s->ctx, &sig->s, der, len)) {
		memset(sig, 0, sizeof(*sig));
		return AL_E_SIG_ENCODING;
	}
	return AL_OK;
}

al_err al_ecdsa_sig_serialize_der(const al_secp *s, uint8_t *out, size_t *outlen,
                                  const al_ecdsa_sig *sig)
{
	if (!secp256k1_ecdsa_signature_serialize_der(s->ctx, out, outlen, &sig->s))
		return AL_E_BUFSIZE;
	return AL_OK;
}

al_err al_ecdsa_sig_parse_compact(const al_secp *s, al_ecdsa_sig *sig, const uint8_t in[64])
{
	if (!secp256k1_ecdsa_signature_parse_compact(s->ctx, &sig->s, in)) {
		memset(sig, 0, sizeof(*sig));
		return AL_E_SIG_ENCODING;
	}
	return AL_OK;
}

void al_ecdsa_sig_serialize_compact(const al_secp *s, uint8_t out[64], const al_ecdsa_sig *sig)
{
	if (!secp256k1_ecdsa_signature_serialize_compact(s->ctx, out, &sig->s))
		memset(out, 0, 64);
}

bool al_ecdsa_sig_normalize(const al_secp *s, al_ecdsa_sig *out, const al_ecdsa_sig *in)
{
	return secp256k1_ecdsa_signature_normalize(s->ctx, &out->s, &in->s) == 1;
}

al_err al_ecdh(const al_secp *s, uint8_t out[32], const al_pubkey *pk, const al_privkey *k)
{
	/* libsecp256k1's default ECDH hash is SHA-256 over the compressed point, which
	 * is exactly BOLT #8's ECDH. */
	if (!pub(secp256k1_ecdh(s->ctx, out, &pk->pk, k->k, NULL, NULL))) {
		memset(out, 0, 32);
		return AL_E_PRIVKEY;
	}
	return AL_OK;
}

al_err al_xonly_from_privkey(const al_secp *s, al_xonly *out, const al_privkey *k)
{
	secp256k1_keypair kp;
	al_err err = AL_OK;

	if (!pub(secp256k1_keypair_create(s->ctx, &kp, k->k)) ||
	    !pub(secp256k1_keypair_xonly_pub(s->ctx, &out->pk, NULL, &kp))) {
		memset(out, 0, sizeof(*out));
		err = AL_E_PRIVKEY;
	}
	al_memzero(&kp, sizeof(kp));
	return err;
}

al_err al_xonly_parse(const al_secp *s, al_xonly *out, const uint8_t in[32])
{
	if (!secp256k1_xonly_pubkey_parse(s->ctx, &out->pk, in)) {
		memset(out, 0, sizeof(*out));
		return AL_E_PUBKEY;
	}
	return AL_OK;
}

void al_xonly_serialize(const al_secp *s, uint8_t out[32], const al_xonly *pk)
{
	if (!secp256k1_xonly_pubkey_serialize(s->ctx, out, &pk->pk))
		memset(out, 0, 32);
}

al_err al_schnorr_sign(const al_secp *s, uint8_t sig[64], const uint8_t *msg, size_t msglen,
                       const al_privkey *k, const uint8_t *aux32)
{
	secp256k1_keypair kp;
	secp256k1_schnorrsig_extraparams extra = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
	al_err err = AL_OK;

	extra.ndata = (void *)aux32;
	if (!pub(secp256k1_keypair_create(s->ctx, &kp, k->k))) {
		err = AL_E_PRIVKEY;
	} else if (!pub(secp256k1_schnorrsig_sign_custom(s->ctx, sig, msg, msglen, &kp, &extra))) {
		err = AL_E_CRYPTO;
	}
	if (err != AL_OK)
		memset(sig, 0, 64);
	al_memzero(&kp, sizeof(kp));
	return err;
}

al_err al_schnorr_verify(const al_secp *s, const uint8_t sig[64], const uint8_t *msg, size_t msglen,
                         const al_xonly *pk)
{
	return secp256k1_schnorrsig_verify(s->ctx, sig, msg, msglen, &pk->pk) ? AL_OK
	                                                                      : AL_E_SIG_INVALID;
}

al_err al_privkey_tweak_add(const al_secp *s, al_privkey *k, const uint8_t tweak[32])
{
	return pub(secp256k1_ec_seckey_tweak_add(s->ctx, k->k, tweak)) ? AL_OK : AL_E_TWEAK;
}

al_err al_privkey_tweak_mul(const al_secp *s, al_privkey *k, const uint8_t tweak[32])
{
	return pub(secp256k1_ec_seckey_tweak_mul(s->ctx, k->k, tweak)) ? AL_OK : AL_E_TWEAK;
}

al_err al_pubkey_tweak_add(const al_secp *s, al_pubkey *pk, const uint8_t tweak[32])
{
	return secp256k1_ec_pubkey_tweak_add(s->ctx, &pk->pk, tweak) ? AL_OK : AL_E_TWEAK;
}

al_err al_pubkey_tweak_mul(const al_secp *s, al_pubkey *pk, const uint8_t tweak[32])
{
	return secp256k1_ec_pubkey_tweak_mul(s->ctx, &pk->pk, tweak) ? AL_OK : AL_E_TWEAK;
}

al_err al_pubkey_combine(const al_secp *s, al_pubkey *out, const al_pubkey *a, const al_pubkey *b)
{
	const secp256k1_pubkey *ins[2] = {&a->pk, &b->pk};

	if (!secp256k1_ec_pubkey_combine(s->ctx, &out->pk, ins, 2)) {
		memset(out, 0, sizeof(*out));
		return AL_E_TWEAK;
	}
	return AL_OK;
}
