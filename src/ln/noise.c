#include "ln/noise.h"

#include <stddef.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "util/mem.h"

/* BOLT #8: "where `protocolName = "Noise_XK_secp256k1_ChaChaPoly_SHA256"` encoded as
 * an ASCII string." and "where `prologue` is the ASCII string: `lightning`." */
static const char protocol_name[] = "Noise_XK_secp256k1_ChaChaPoly_SHA256";
static const char prologue[] = "lightning";

/* BOLT #8: "A version of 0 indicates that no change is necessary ... Clients MUST
 * reject handshake attempts initiated with an unknown version." */
#define HANDSHAKE_VERSION 0

static void wipe_secrets(al_noise *c)
{
	al_memzero(c->ck, sizeof(c->ck));
	al_memzero(c->temp_k, sizeof(c->temp_k));
	al_privkey_clear(&c->ls);
	al_privkey_clear(&c->e);
	al_memzero(c->sk, sizeof(c->sk));
	al_memzero(c->rk, sizeof(c->rk));
	al_memzero(c->sck, sizeof(c->sck));
	al_memzero(c->rck, sizeof(c->rck));
}

/* Record a sticky error where it happened; nothing more goes out (BOLT #8: "MUST
 * terminate the connection without any further messages"). */
static al_err fail(al_noise *c, al_err e)
{
	c->err = e;
	c->err_phase = c->phase;
	c->closed = true;
	c->app_ready = false;
	c->ooff = c->olen = 0;
	wipe_secrets(c);
	return e;
}

/* h = SHA-256(h || data) */
static void mix_hash(al_noise *c, const void *data, size_t len)
{
	al_sha256_ctx s;

	al_sha256_init(&s);
	al_sha256_update(&s, c->h, sizeof(c->h));
	al_sha256_update(&s, data, len);
	al_sha256_final(&s, c->h);
}

/* ck, k = HKDF(ck, ikm): BOLT #8: "All invocations of `HKDF` implicitly return 64
 * bytes of cryptographic randomness using the extract-and-expand component". */
static al_err hkdf2(uint8_t ck[32], uint8_t k[32], const uint8_t *ikm, size_t ikmlen)
{
	uint8_t out[64];
	al_err e = al_hkdf_sha256(out, sizeof(out), ck, 32, ikm, ikmlen, NULL, 0);

	if (e == AL_OK) {
		memcpy(ck, out, 32);
		memcpy(k, out + 32, 32);
	}
	al_memzero(out, sizeof(out));
	return e;
}

/* ss = ECDH(pk, k); ck, temp_k = HKDF(ck, ss) */
static al_err mix_ecdh(al_noise *c, const al_pubkey *pk, const al_privkey *k)
{
	uint8_t ss[32];
	al_err e = al_ecdh(c->secp, ss, pk, k);

	if (e == AL_OK)
		e = hkdf2(c->ck, c->temp_k, ss, sizeof(ss));
	al_memzero(ss, sizeof(ss));
	return e;
}

/* BOLT #8: "encryptWithAD(k, n, ad, plaintext)" with k = temp_k and ad = h. */
static al_err encrypt_with_ad(al_noise *c, uint8_t *out, uint64_t n, const void *pt, size_t len)
{
	uint8_t nonce[AL_AEAD_NONCE_LEN];

	al_aead_bolt8_nonce(nonce, n);
	return al_aead_seal(out, c->temp_k, nonce, c->h, sizeof(c->h), pt, len);
}

/* BOLT #8: "decryptWithAD(k, n, ad, ciphertext)"; a failed MAC check is ours to
 * name. `out` receives len - 16 bytes. */
static al_err decrypt_with_ad(al_noise *c, uint8_t *out, uint64_t n, const uint8_t *ct, size_t len)
{
	uint8_t nonce[AL_AEAD_NONCE_LEN];
	al_err e;

	al_aead_bolt8_nonce(nonce, n);
	e = al_aead_open(out, c->temp_k, nonce, c->h, sizeof(c->h), ct, len);
	return e == AL_E_AEAD_AUTH ? AL_E_NOISE_MAC : e;
}

/* BOLT #8 "Handshake State Initialization": h = SHA-256(protocolName); ck = h;
 * h = SHA-256(h || prologue); h = SHA-256(h || responder's static public key). */
static void init_hash(al_noise *c, const al_pubkey *responder)
{
	uint8_t pub[AL_PUBKEY_LEN];

	al_sha256(c->h, protocol_name, sizeof(protocol_name) - 1);
	memcpy(c->ck, c->h, sizeof(c->ck));
	mix_hash(c, prologue, sizeof(prologue) - 1);
	al_pubkey_serialize(c->secp, pub, responder);
	mix_hash(c, pub, sizeof(pub));
}

static void reset(al_noise *c, const al_secp *secp, bool initiator)
{
	/* The frame buffers need no clearing: only bytes written into them are read. */
	memset(c, 0, offsetof(al_noise, ibuf));
	c->secp = secp;
	c->initiator = initiator;
	c->err = AL_OK;
	c->phase = AL_NOISE_ACT1;
	c->ineed = AL_NOISE_ACT1_LEN;
}

/* Act One and Act Two sender actions, which differ only in the remote key:
 * "1. e = generateKey()" (the caller's), "2. h = SHA-256(h ||
 * e.pub.serializeCompressed())", "3. ss = ECDH(rs, e.priv)" (Act Two: re),
 * "4. ck, temp_k1 = HKDF(ck, ss)", "5. c = encryptWithAD(temp_k1, 0, h, zero)",
 * "6. h = SHA-256(h || c)", "7. Send m = 0 || e.pub.serializeCompressed() || c". */
static al_err act_send_e(al_noise *c, const al_pubkey *remote)
{
	uint8_t *m = c->obuf;
	al_pubkey epub;

	AL_TRY(al_pubkey_from_privkey(c->secp, &epub, &c->e));
	m[0] = HANDSHAKE_VERSION;
	al_pubkey_serialize(c->secp, m + 1, &epub);
	mix_hash(c, m + 1, AL_PUBKEY_LEN);
	AL_TRY(mix_ecdh(c, remote, &c->e));
	AL_TRY(encrypt_with_ad(c, m + 34, 0, NULL, 0));
	mix_hash(c, m + 34, AL_NOISE_MAC_LEN);
	c->ooff = 0;
	c->olen = AL_NOISE_ACT1_LEN;
	return AL_OK;
}

/* Act One and Act Two receiver actions: "2. Parse the read message (m) into v, re and
 * c", "3. If v is an unrecognized handshake version, then the responder MUST abort
 * the connection attempt.", "4. h = SHA-256(h || re.serializeCompressed())",
 * "5. ss = ECDH(re, s.priv)" (Act Two: e.priv), "6. ck, temp_k1 = HKDF(ck, ss)",
 * "7. p = decryptWithAD(temp_k1, 0, h, c)" ("If the MAC check in this operation
 * fails ... MUST terminate the connection"), "8. h = SHA-256(h || c)". */
static al_err act_recv_e(al_noise *c, const al_privkey *local)
{
	const uint8_t *m = c->ibuf;
	uint8_t none[1];

	if (m[0] != HANDSHAKE_VERSION)
		return AL_E_NOISE_VERSION;
	/* "deserialized into a point on the curve using affine coordinates as encoded
	 * by the key's serialized composed format": 33 bytes, so compressed only. */
	if (al_pubkey_parse(c->secp, &c->re, m + 1, AL_PUBKEY_LEN) != AL_OK)
		return AL_E_NOISE_PUBKEY;
	mix_hash(c, m + 1, AL_PUBKEY_LEN);
	AL_TRY(mix_ecdh(c, &c->re, local));
	AL_TRY(decrypt_with_ad(c, none, 0, m + 34, AL_NOISE_MAC_LEN));
	mix_hash(c, m + 34, AL_NOISE_MAC_LEN);
	return AL_OK;
}

/* The end of Act Three on both sides: BOLT #8: "sk, rk = HKDF(ck, zero)" for the
 * initiator and "rk, sk = HKDF(ck, zero)" for the responder; "rn = 0, sn = 0". Key
 * rotation starts from "the chaining key obtained at the end of Act Three", once per
 * direction. The handshake secrets are no longer needed. */
static al_err split(al_noise *c)
{
	uint8_t out[64];
	al_err e = al_hkdf_sha256(out, sizeof(out), c->ck, sizeof(c->ck), NULL, 0, NULL, 0);

	if (e == AL_OK) {
		memcpy(c->initiator ? c->sk : c->rk, out, 32);
		memcpy(c->initiator ? c->rk : c->sk, out + 32, 32);
		memcpy(c->sck, c->ck, sizeof(c->ck));
		memcpy(c->rck, c->ck, sizeof(c->ck));
		c->sn = c->rn = 0;
		al_memzero(c->ck, sizeof(c->ck));
		al_memzero(c->temp_k, sizeof(c->temp_k));
		al_privkey_clear(&c->e);
		al_privkey_clear(&c->ls);
		c->phase = AL_NOISE_TRANSPORT;
		c->ilen = 0;
		c->ineed = AL_NOISE_HDR_LEN;
		c->in_body = false;
	}
	al_memzero(out, sizeof(out));
	return e;
}

/* Act Three sender actions (the initiator): "1. c = encryptWithAD(temp_k2, 1, h,
 * s.pub.serializeCompressed())", "2. h = SHA-256(h || c)", "3. ss = ECDH(re,
 * s.priv)", "4. ck, temp_k3 = HKDF(ck, ss)", "5. t = encryptWithAD(temp_k3, 0, h,
 * zero)", "6. sk, rk = HKDF(ck, zero)", "8. Send m = 0 || c || t". */
static al_err act3_send(al_noise *c)
{
	uint8_t *m = c->obuf, pub[AL_PUBKEY_LEN];

	m[0] = HANDSHAKE_VERSION;
	al_pubkey_serialize(c->secp, pub, &c->ls_pub);
	AL_TRY(encrypt_with_ad(c, m + 1, 1, pub, sizeof(pub)));
	mix_hash(c, m + 1, AL_PUBKEY_LEN + AL_NOISE_MAC_LEN);
	AL_TRY(mix_ecdh(c, &c->re, &c->ls));
	AL_TRY(encrypt_with_ad(c, m + 50, 0, NULL, 0));
	AL_TRY(split(c));
	c->ooff = 0;
	c->olen = AL_NOISE_ACT3_LEN;
	return AL_OK;
}

/* Act Three receiver actions (the responder): "3. If v is an unrecognized handshake
 * version, then the responder MUST abort the connection attempt.", "4. rs =
 * decryptWithAD(temp_k2, 1, h, c)", "5. h = SHA-256(h || c)", "6. ss = ECDH(rs,
 * e.priv)", "7. ck, temp_k3 = HKDF(ck, ss)", "8. p = decryptWithAD(temp_k3, 0, h, t)"
 * ("If the MAC check in this operation fails, then the responder MUST terminate the
 * connection"), "9. rk, sk = HKDF(ck, zero)". */
static al_err act3_recv(al_noise *c)
{
	const uint8_t *m = c->ibuf;
	uint8_t rs[AL_PUBKEY_LEN], none[1];

	if (m[0] != HANDSHAKE_VERSION)
		return AL_E_NOISE_VERSION;
	AL_TRY(decrypt_with_ad(c, rs, 1, m + 1, AL_PUBKEY_LEN + AL_NOISE_MAC_LEN));
	/* The initiator's node id is public by design once authenticated. */
	al_declassify(rs, sizeof(rs));
	if (al_pubkey_parse(c->secp, &c->rs, rs, sizeof(rs)) != AL_OK)
		return AL_E_NOISE_PUBKEY;
	mix_hash(c, m + 1, AL_PUBKEY_LEN + AL_NOISE_MAC_LEN);
	AL_TRY(mix_ecdh(c, &c->rs, &c->e));
	AL_TRY(decrypt_with_ad(c, none, 0, m + 50, AL_NOISE_MAC_LEN));
	return split(c);
}

/* BOLT #8 "Lightning Message Key Rotation": "rotating the key once the nonce
 * dedicated to it exceeds 1000": "2. ck', k' = HKDF(ck, k)", "3. Reset the nonce
 * for the key to n = 0.", "4. k = k'", "5. ck = ck'". */
static al_err next_nonce(uint8_t ck[32], uint8_t k[32], uint64_t *n)
{
	if (++*n < AL_NOISE_ROTATE_EVERY)
		return AL_OK;
	*n = 0;
	return hkdf2(ck, k, k, 32);
}

/* BOLT #8: "A zero-length byte slice is to be passed as the AD", "The nonce sn MUST
 * be incremented after this step." */
static al_err transport_seal(al_noise *c, uint8_t *out, const uint8_t *pt, size_t len)
{
	uint8_t nonce[AL_AEAD_NONCE_LEN];

	al_aead_bolt8_nonce(nonce, c->sn);
	AL_TRY(al_aead_seal(out, c->sk, nonce, NULL, 0, pt, len));
	return next_nonce(c->sck, c->sk, &c->sn);
}

/* The same for receiving: "The nonce rn MUST be incremented after this step." */
static al_err transport_open(al_noise *c, uint8_t *out, const uint8_t *ct, size_t len)
{
	uint8_t nonce[AL_AEAD_NONCE_LEN];
	al_err e;

	al_aead_bolt8_nonce(nonce, c->rn);
	e = al_aead_open(out, c->rk, nonce, NULL, 0, ct, len);
	if (e != AL_OK)
		return e == AL_E_AEAD_AUTH ? AL_E_NOISE_MAC : e;
	return next_nonce(c->rck, c->rk, &c->rn);
}

/* BOLT #8 "Receiving and Decrypting Messages": "1. Read _exactly_ 18 bytes", "3.
 * Decrypt lc ... to obtain the size of the encrypted packet l", "4. Read _exactly_
 * l+16 bytes", "5. Decrypt c ... to obtain decrypted plaintext packet p". The body
 * is decrypted in place at the start of ibuf. */
static al_err recv_frame_part(al_noise *c)
{
	uint8_t l[2];

	if (c->in_body) {
		AL_TRY(transport_open(c, c->ibuf, c->ibuf, c->ineed));
		c->app_len = c->ineed - AL_NOISE_MAC_LEN;
		/* An authenticated message is public to us: the peer wrote it, and the
		 * layers above parse it like any other input. */
		al_declassify(c->ibuf, c->app_len);
		c->app_ready = true;
		return AL_OK;
	}
	AL_TRY(transport_open(c, l, c->ibuf, AL_NOISE_HDR_LEN));
	/* An authenticated length is public: the peer chose it. */
	al_declassify(l, sizeof(l));
	c->ilen = 0;
	c->ineed = ((size_t)l[0] << 8 | l[1]) + AL_NOISE_MAC_LEN;
	c->in_body = true;
	return AL_OK;
}

/* A complete act or frame part is in ibuf. */
static al_err recv_unit(al_noise *c)
{
	switch (c->phase) {
	case AL_NOISE_ACT1: /* the responder */
		AL_TRY(act_recv_e(c, &c->ls));
		c->phase = AL_NOISE_ACT2;
		AL_TRY(act_send_e(c, &c->re));
		c->phase = AL_NOISE_ACT3;
		c->ilen = 0;
		c->ineed = AL_NOISE_ACT3_LEN;
		return AL_OK;
	case AL_NOISE_ACT2: /* the initiator */
		AL_TRY(act_recv_e(c, &c->e));
		c->phase = AL_NOISE_ACT3;
		return act3_send(c);
	case AL_NOISE_ACT3: /* the responder */
		return act3_recv(c);
	default:
		return recv_frame_part(c);
	}
}

al_err al_noise_init_initiator(al_noise *c, const al_secp *secp, const al_privkey *ls,
                               const al_pubkey *rs, const al_privkey *e)
{
	al_err err;

	reset(c, secp, true);
	c->ls = *ls;
	c->e = *e;
	c->rs = *rs;
	/* "The initiating node mixes in the responding node's static public key". */
	init_hash(c, rs);
	err = al_pubkey_from_privkey(secp, &c->ls_pub, ls);
	if (err == AL_OK)
		err = act_send_e(c, &c->rs);
	if (err != AL_OK)
		return fail(c, err);
	c->phase = AL_NOISE_ACT2;
	c->ineed = AL_NOISE_ACT2_LEN;
	return AL_OK;
}

al_err al_noise_init_responder(al_noise *c, const al_secp *secp, const al_privkey *ls,
                               const al_privkey *e)
{
	reset(c, secp, false);
	c->ls = *ls;
	c->e = *e;
	if (al_pubkey_from_privkey(secp, &c->ls_pub, ls) != AL_OK || !al_privkey_valid(secp, e))
		return fail(c, AL_E_PRIVKEY);
	/* "The responding node mixes in their local static public key". */
	init_hash(c, &c->ls_pub);
	return AL_OK;
}

void al_noise_clear(al_noise *c)
{
	al_memzero(c, sizeof(*c));
	c->closed = true;
}

/* Bytes recvrec takes now; 0 when it is not available. During the handshake an act
 * is taken only once the previous one has gone out, so replies never overwrite it. */
static size_t recv_room(const al_noise *c)
{
	if (c->closed || c->app_ready)
		return 0;
	if (c->phase != AL_NOISE_TRANSPORT) {
		bool ours = c->initiator ? c->phase == AL_NOISE_ACT2 : c->phase != AL_NOISE_ACT2;
		if (!ours || c->ooff < c->olen)
			return 0;
	}
	return c->ineed - c->ilen;
}

static bool sendapp_open(const al_noise *c)
{
	return !c->closed && c->phase == AL_NOISE_TRANSPORT && c->olen == 0;
}

unsigned al_noise_state(const al_noise *c)
{
	unsigned s = 0;

	if (c->app_ready)
		s |= AL_NOISE_RECVAPP;
	if (c->closed)
		return s | AL_NOISE_CLOSED;
	if (c->ooff < c->olen)
		s |= AL_NOISE_SENDREC;
	if (recv_room(c))
		s |= AL_NOISE_RECVREC;
	if (sendapp_open(c))
		s |= AL_NOISE_SENDAPP;
	return s;
}

al_noise_phase al_noise_current_phase(const al_noise *c)
{
	return (al_noise_phase)c->phase;
}

al_err al_noise_error(const al_noise *c, al_noise_phase *where)
{
	if (where)
		*where = (al_noise_phase)c->err_phase;
	return c->err;
}

al_err al_noise_remote_pubkey(const al_noise *c, al_pubkey *out)
{
	bool known = c->initiator ? c->phase != 0 : c->phase == AL_NOISE_TRANSPORT;

	if (!known)
		return AL_E_NOISE_STATE;
	*out = c->rs;
	return AL_OK;
}

uint8_t *al_noise_recvrec_buf(al_noise *c, size_t *len)
{
	*len = recv_room(c);
	return *len ? c->ibuf + c->ilen : NULL;
}

al_err al_noise_recvrec_ack(al_noise *c, size_t n)
{
	size_t room;
	al_err e;

	if (c->err != AL_OK)
		return c->err;
	if (n == 0)
		return AL_OK;
	if (c->closed)
		return AL_E_NOISE_STATE;
	room = recv_room(c);
	if (n > room)
		return fail(c, AL_E_NOISE_STATE);
	c->ilen += n;
	if (c->ilen < c->ineed)
		return AL_OK;
	e = recv_unit(c);
	return e == AL_OK ? AL_OK : fail(c, e);
}

al_err al_noise_recvrec_eof(al_noise *c)
{
	if (c->err != AL_OK || c->closed)
		return c->err;
	/* BOLT #8: "Read _exactly_ 18 bytes" / "Read _exactly_ l+16 bytes": an end
	 * anywhere but between frames cuts one short. */
	if (c->phase != AL_NOISE_TRANSPORT || (!c->app_ready && (c->in_body || c->ilen != 0)))
		return fail(c, AL_E_TRUNCATED);
	c->closed = true;
	c->ooff = c->olen = 0;
	wipe_secrets(c);
	return AL_OK;
}

const uint8_t *al_noise_sendrec_buf(const al_noise *c, size_t *len)
{
	*len = c->closed ? 0 : c->olen - c->ooff;
	return *len ? c->obuf + c->ooff : NULL;
}

al_err al_noise_sendrec_ack(al_noise *c, size_t n)
{
	if (c->err != AL_OK)
		return c->err;
	if (n == 0)
		return AL_OK;
	if (c->closed)
		return AL_E_NOISE_STATE;
	if (n > c->olen - c->ooff)
		return fail(c, AL_E_NOISE_STATE);
	c->ooff += n;
	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	return AL_OK;
}

uint8_t *al_noise_sendapp_buf(al_noise *c, size_t *len)
{
	if (!sendapp_open(c)) {
		*len = 0;
		return NULL;
	}
	*len = AL_NOISE_MAX_MSG;
	return c->obuf + AL_NOISE_HDR_LEN;
}

/* BOLT #8 "Encrypting and Sending Messages": "1. let l = len(m)", "2. Serialize l into
 * 2 bytes encoded as a big-endian integer.", "3. Encrypt l (using ChaChaPoly-1305,
 * sn, and sk), to obtain lc (18 bytes)", "4. Finally, encrypt the message itself (m)
 * using the same procedure", "5. Send lc || c over the network buffer." The body is
 * sealed where the caller wrote it, right after the room left for lc. */
al_err al_noise_sendapp_ack(al_noise *c, size_t len)
{
	uint8_t l[2];
	uint8_t *body = c->obuf + AL_NOISE_HDR_LEN;
	al_err e;

	if (c->err != AL_OK)
		return c->err;
	if (len > AL_NOISE_MAX_MSG)
		return AL_E_NOISE_LENGTH;
	if (!sendapp_open(c))
		return AL_E_NOISE_STATE;
	l[0] = (uint8_t)(len >> 8);
	l[1] = (uint8_t)len;
	e = transport_seal(c, c->obuf, l, sizeof(l));
	if (e == AL_OK)
		e = transport_seal(c, body, body, len);
	if (e != AL_OK)
		return fail(c, e);
	c->ooff = 0;
	c->olen = AL_NOISE_HDR_LEN + len + AL_NOISE_MAC_LEN;
	return AL_OK;
}

const uint8_t *al_noise_recvapp_buf(const al_noise *c, size_t *len)
{
	*len = c->app_ready ? c->app_len : 0;
	return c->app_ready ? c->ibuf : NULL;
}

al_err al_noise_recvapp_ack(al_noise *c)
{
	if (c->err != AL_OK)
		return c->err;
	if (!c->app_ready)
		return AL_E_NOISE_STATE;
	c->app_ready = false;
	c->in_body = false;
	c->ilen = 0;
	c->ineed = AL_NOISE_HDR_LEN;
	return AL_OK;
}
