#include "ln/onion.h"

#include <string.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "util/bigsize.h"
#include "util/cursor.h"
#include "util/mem.h"

#define ROUTING_LEN AL_ONION_HOP_PAYLOADS_LEN
#define HMAC_LEN    32
/* Offsets in the packet. */
#define OFF_KEY     1
#define OFF_ROUTING (1 + AL_PUBKEY_LEN)
#define OFF_HMAC    (OFF_ROUTING + ROUTING_LEN)

/* BOLT #4 "Key Generation": "the key-type's ASCII bytes as the HMAC key and the
 * 32-byte shared secret as the message", for rho, mu, um, pad and ammag. */
static al_err gen_key(uint8_t out[32], const char *type, const uint8_t secret[32])
{
	return al_hmac_sha256(out, type, strlen(type), secret, 32);
}

/* HMAC-SHA256 of a ‖ b under `key`: the onion's HMAC covers hop_payloads followed by
 * the associated data. */
static al_err hmac2(uint8_t out[32], const uint8_t key[32], const uint8_t *a, size_t alen,
                    const uint8_t *b, size_t blen)
{
	uint8_t buf[ROUTING_LEN + AL_ONION_ASSOC_MAX];
	al_err err;

	if (alen + blen > sizeof(buf))
		return AL_E_ARG;
	memcpy(buf, a, alen);
	if (blen)
		memcpy(buf + alen, b, blen);
	err = al_hmac_sha256(out, key, 32, buf, alen + blen);
	al_memzero(buf, alen + blen);
	return err;
}

/* XOR the ChaCha20 stream of gen_key(type, secret) into buf. */
static al_err xor_stream(uint8_t *buf, size_t len, const char *type, const uint8_t secret[32])
{
	uint8_t key[32];
	al_err err = gen_key(key, type, secret);

	if (err == AL_OK)
		err = al_chacha20_xor(buf, len, key);
	al_memzero(key, sizeof(key));
	return err;
}

/* BOLT #4: "the blinding factor ... is the SHA256 hash value of the concatenation of
 * the public key serialized in its compressed format and the shared secret." */
static void blinding_factor(uint8_t out[32], const uint8_t epub[AL_PUBKEY_LEN],
                            const uint8_t secret[32])
{
	uint8_t buf[AL_PUBKEY_LEN + 32];

	memcpy(buf, epub, AL_PUBKEY_LEN);
	memcpy(buf + AL_PUBKEY_LEN, secret, 32);
	al_sha256(out, buf, sizeof(buf));
	al_memzero(buf, sizeof(buf));
}

/* A hop's share of hop_payloads: bigsize length, payload, HMAC. */
static size_t hop_size(const al_onion_hop *h)
{
	return al_bigsize_len(h->payload_len) + h->payload_len + HMAC_LEN;
}

/* BOLT #4 "Filler Generation": the bytes the last hop finds at the end of its
 * hop_payloads, which every earlier hop's shift pulled in as its rho stream over
 * zeroes. Hop i's stream lands at offset ROUTING_LEN minus what the hops before it
 * used, and runs to its own share's end. */
static al_err filler(uint8_t *out, size_t len, const al_onion_hop *hops, size_t n,
                     const uint8_t (*secrets)[32])
{
	uint8_t stream[2 * ROUTING_LEN];
	size_t i, used = 0, start, end;
	al_err err = AL_OK;

	memset(out, 0, len);
	for (i = 0; i + 1 < n && err == AL_OK; i++) {
		memset(stream, 0, sizeof(stream));
		err = xor_stream(stream, sizeof(stream), "rho", secrets[i]);
		start = ROUTING_LEN - used;
		used += hop_size(&hops[i]);
		end = ROUTING_LEN + hop_size(&hops[i]);
		for (size_t k = 0; k < end - start; k++)
			out[k] ^= stream[start + k];
	}
	al_memzero(stream, sizeof(stream));
	return err;
}

/* The per-hop ephemeral keys and shared secrets: BOLT #4 "Packet Construction". */
static al_err derive_secrets(uint8_t (*secrets)[32], uint8_t first_epub[AL_PUBKEY_LEN],
                             const al_secp *secp, const al_privkey *session_key,
                             const al_onion_hop *hops, size_t n)
{
	al_privkey ek = *session_key;
	al_pubkey epk;
	uint8_t epub[AL_PUBKEY_LEN], b[32];
	al_err err = AL_OK;
	size_t i;

	for (i = 0; i < n && err == AL_OK; i++) {
		err = al_pubkey_from_privkey(secp, &epk, &ek);
		if (err != AL_OK)
			break;
		al_pubkey_serialize(secp, epub, &epk);
		if (i == 0)
			memcpy(first_epub, epub, AL_PUBKEY_LEN);
		err = al_ecdh(secp, secrets[i], &hops[i].node, &ek);
		if (err != AL_OK)
			break;
		blinding_factor(b, epub, secrets[i]);
		err = al_privkey_tweak_mul(secp, &ek, b);
	}
	al_privkey_clear(&ek);
	al_memzero(b, sizeof(b));
	return err;
}

al_err al_onion_create(uint8_t packet[AL_ONION_LEN], uint8_t (*secrets)[32], const al_secp *secp,
                       const al_privkey *session_key, const al_onion_hop *hops, size_t n,
                       const uint8_t *assoc, size_t assoc_len)
{
	uint8_t routing[ROUTING_LEN], fill[ROUTING_LEN], next_hmac[HMAC_LEN] = {0};
	uint8_t epub[AL_PUBKEY_LEN];
	size_t i, total = 0, fill_len, size;
	al_err err;
	al_wb w;

	memset(packet, 0, AL_ONION_LEN);
	if (n == 0 || n > AL_ONION_MAX_HOPS)
		return AL_E_ONION_HOPS;
	if (assoc_len > AL_ONION_ASSOC_MAX)
		return AL_E_ARG;
	for (i = 0; i < n; i++) {
		/* "`length` values of 0 and 1 are reserved". */
		if (hops[i].payload_len < 2)
			return AL_E_ONION_PAYLOAD;
		if (hops[i].payload_len > ROUTING_LEN || hop_size(&hops[i]) > ROUTING_LEN - total)
			return AL_E_ONION_TOO_LONG;
		total += hop_size(&hops[i]);
	}
	err = derive_secrets(secrets, epub, secp, session_key, hops, n);
	fill_len = total - hop_size(&hops[n - 1]);
	if (err == AL_OK)
		err = filler(fill, fill_len, hops, n, (const uint8_t(*)[32])secrets);
	/* "the 1300-byte hop_payloads field is initialized with ... a pseudo-random stream
	 * from the pad key" (derived from the session key). */
	if (err == AL_OK) {
		memset(routing, 0, sizeof(routing));
		err = xor_stream(routing, sizeof(routing), "pad", session_key->k);
	}
	for (i = n; i-- > 0 && err == AL_OK;) {
		uint8_t mu[32];

		size = hop_size(&hops[i]);
		memmove(routing + size, routing, ROUTING_LEN - size);
		al_wb_init(&w, routing, size);
		al_wb_bigsize(&w, hops[i].payload_len);
		al_wb_bytes(&w, hops[i].payload, hops[i].payload_len);
		al_wb_bytes(&w, next_hmac, HMAC_LEN);
		err = w.err;
		if (err == AL_OK)
			err = xor_stream(routing, ROUTING_LEN, "rho", secrets[i]);
		if (err == AL_OK && i == n - 1)
			memcpy(routing + ROUTING_LEN - fill_len, fill, fill_len);
		if (err == AL_OK)
			err = gen_key(mu, "mu", secrets[i]);
		if (err == AL_OK)
			err = hmac2(next_hmac, mu, routing, ROUTING_LEN, assoc, assoc_len);
		al_memzero(mu, sizeof(mu));
	}
	if (err == AL_OK) {
		packet[0] = 0;
		memcpy(packet + OFF_KEY, epub, AL_PUBKEY_LEN);
		memcpy(packet + OFF_ROUTING, routing, ROUTING_LEN);
		memcpy(packet + OFF_HMAC, next_hmac, HMAC_LEN);
	} else {
		memset(packet, 0, AL_ONION_LEN);
		memset(secrets, 0, 32 * n);
	}
	al_memzero(fill, sizeof(fill));
	return err;
}

void al_onion_peeled_clear(al_onion_peeled *p)
{
	al_memzero(p, sizeof(*p));
}

static al_err peel(al_onion_peeled *out, const al_secp *secp, const al_privkey *node_key,
                   const uint8_t packet[AL_ONION_LEN], const uint8_t *assoc, size_t assoc_len)
{
	uint8_t mu[32], hmac[32], b[32], buf[2 * ROUTING_LEN];
	al_pubkey epk;
	size_t len, prefix, shift;
	al_cur c;
	al_err err;

	if (assoc_len > AL_ONION_ASSOC_MAX)
		return AL_E_ARG;
	/* "if the onion `version` byte is unknown: return an `invalid_onion_version`". */
	if (packet[0] != 0)
		return AL_E_ONION_VERSION;
	if (al_pubkey_parse(secp, &epk, packet + OFF_KEY, AL_PUBKEY_LEN) != AL_OK)
		return AL_E_ONION_KEY;
	AL_TRY(al_ecdh(secp, out->shared_secret, &epk, node_key));
	/* "if the onion HMAC is incorrect: return an `invalid_onion_hmac`"; compared in
	 * constant time, as a forger could otherwise learn it byte by byte. */
	AL_TRY(gen_key(mu, "mu", out->shared_secret));
	err = hmac2(hmac, mu, packet + OFF_ROUTING, ROUTING_LEN, assoc, assoc_len);
	al_memzero(mu, sizeof(mu));
	AL_TRY(err);
	if (!al_memeq_ct(hmac, packet + OFF_HMAC, HMAC_LEN))
		return AL_E_ONION_HMAC;

	/* Decrypt hop_payloads extended by 1300 zero bytes; the payload is at the front,
	 * the next packet's hop_payloads after this hop's share. */
	memcpy(buf, packet + OFF_ROUTING, ROUTING_LEN);
	memset(buf + ROUTING_LEN, 0, ROUTING_LEN);
	AL_TRY(xor_stream(buf, sizeof(buf), "rho", out->shared_secret));
	al_cur_init(&c, buf, ROUTING_LEN);
	len = (size_t)al_cur_bigsize(&c);
	if (!al_cur_ok(&c) || len < 2 || len > al_cur_remaining(&c) ||
	    al_cur_remaining(&c) - len < HMAC_LEN) {
		al_memzero(buf, sizeof(buf));
		return AL_E_ONION_PAYLOAD;
	}
	prefix = ROUTING_LEN - al_cur_remaining(&c);
	memcpy(out->payload, buf + prefix, len);
	out->payload_len = len;
	shift = prefix + len + HMAC_LEN;
	memcpy(hmac, buf + prefix + len, HMAC_LEN);
	/* "If `next_hmac` is not all-zero (not the final node)". */
	out->final = al_memeq_ct(hmac, (const uint8_t[HMAC_LEN]){0}, HMAC_LEN);
	if (!out->final) {
		out->next[0] = 0;
		blinding_factor(b, packet + OFF_KEY, out->shared_secret);
		err = al_pubkey_tweak_mul(secp, &epk, b);
		if (err != AL_OK) {
			al_memzero(buf, sizeof(buf));
			return err;
		}
		al_pubkey_serialize(secp, out->next + OFF_KEY, &epk);
		memcpy(out->next + OFF_ROUTING, buf + shift, ROUTING_LEN);
		memcpy(out->next + OFF_HMAC, hmac, HMAC_LEN);
	}
	al_memzero(buf, sizeof(buf));
	return AL_OK;
}

al_err al_onion_peel(al_onion_peeled *out, const al_secp *secp, const al_privkey *node_key,
                     const uint8_t packet[AL_ONION_LEN], const uint8_t *assoc, size_t assoc_len)
{
	al_err err;

	memset(out, 0, sizeof(*out));
	err = peel(out, secp, node_key, packet, assoc, assoc_len);
	if (err != AL_OK)
		al_onion_peeled_clear(out);
	return err;
}

uint16_t al_onion_malformed_code(al_err err)
{
	switch (err) {
	case AL_E_ONION_VERSION:
		return AL_ONION_INVALID_ONION_VERSION;
	case AL_E_ONION_HMAC:
		return AL_ONION_INVALID_ONION_HMAC;
	case AL_E_ONION_KEY:
		return AL_ONION_INVALID_ONION_KEY;
	default:
		return 0;
	}
}

const char *al_onion_failure_name(uint16_t code)
{
	static const struct {
		uint16_t code;
		const char *name;
	} names[] = {
	    {AL_ONION_PERM | 1, "invalid_realm"},
	    {AL_ONION_NODE | 2, "temporary_node_failure"},
	    {AL_ONION_PERM | AL_ONION_NODE | 2, "permanent_node_failure"},
	    {AL_ONION_PERM | AL_ONION_NODE | 3, "required_node_feature_missing"},
	    {AL_ONION_BADONION | AL_ONION_PERM | 4, "invalid_onion_version"},
	    {AL_ONION_BADONION | AL_ONION_PERM | 5, "invalid_onion_hmac"},
	    {AL_ONION_BADONION | AL_ONION_PERM | 6, "invalid_onion_key"},
	    {AL_ONION_UPDATE | 7, "temporary_channel_failure"},
	    {AL_ONION_PERM | 8, "permanent_channel_failure"},
	    {AL_ONION_PERM | 9, "required_channel_feature_missing"},
	    {AL_ONION_PERM | 10, "unknown_next_peer"},
	    {AL_ONION_UPDATE | 11, "amount_below_minimum"},
	    {AL_ONION_UPDATE | 12, "fee_insufficient"},
	    {AL_ONION_UPDATE | 13, "incorrect_cltv_expiry"},
	    {AL_ONION_UPDATE | 14, "expiry_too_soon"},
	    {AL_ONION_PERM | 15, "incorrect_or_unknown_payment_details"},
	    {18, "final_incorrect_cltv_expiry"},
	    {19, "final_incorrect_htlc_amount"},
	    {AL_ONION_UPDATE | 20, "channel_disabled"},
	    {21, "expiry_too_far"},
	    {AL_ONION_PERM | 22, "invalid_onion_payload"},
	    {23, "mpp_timeout"},
	    {AL_ONION_BADONION | AL_ONION_PERM | 24, "invalid_onion_blinding"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return NULL;
}

al_err al_onion_failure_wrap(uint8_t *pkt, size_t len, const uint8_t secret[32])
{
	/* "Generate the node's `ammag` key, generate the pseudo-random byte streams, and
	 * apply the result to obfuscate the return packet." */
	return xor_stream(pkt, len, "ammag", secret);
}

al_err al_onion_failure_create(uint8_t *out, size_t cap, size_t *outlen, const uint8_t secret[32],
                               const uint8_t *msg, size_t msg_len)
{
	/* "MUST set `pad` such that the `failure_len` plus `pad_len` is at least 256.
	 * SHOULD set `pad` such that the `failure_len` plus `pad_len` is equal to 256." */
	size_t pad = msg_len < AL_ONION_FAILURE_MIN_BODY ? AL_ONION_FAILURE_MIN_BODY - msg_len : 0;
	size_t len = HMAC_LEN + 2 + msg_len + 2 + pad;
	uint8_t um[32];
	al_err err;
	al_wb w;

	*outlen = 0;
	if (msg_len < 2)
		return AL_E_ARG;
	if (len > AL_ONION_FAILURE_MAX)
		return AL_E_ONION_FAILURE_LEN;
	if (cap < len)
		return AL_E_BUFSIZE;
	al_wb_init(&w, out + HMAC_LEN, len - HMAC_LEN);
	al_wb_be16(&w, (uint16_t)msg_len);
	al_wb_bytes(&w, msg, msg_len);
	al_wb_be16(&w, (uint16_t)pad);
	memset(out + HMAC_LEN + 2 + msg_len + 2, 0, pad);
	AL_TRY(w.err);
	/* "an HMAC over the message using the `um` key". */
	err = gen_key(um, "um", secret);
	if (err == AL_OK)
		err = al_hmac_sha256(out, um, 32, out + HMAC_LEN, len - HMAC_LEN);
	al_memzero(um, sizeof(um));
	if (err == AL_OK)
		err = al_onion_failure_wrap(out, len, secret);
	if (err != AL_OK) {
		memset(out, 0, len);
		return err;
	}
	*outlen = len;
	return AL_OK;
}

al_err al_onion_failure_decode(size_t *origin, uint8_t *msg, size_t cap, size_t *msg_len,
                               const uint8_t (*secrets)[32], size_t n, const uint8_t *pkt,
                               size_t len)
{
	uint8_t buf[AL_ONION_FAILURE_MAX], um[32], hmac[32];
	size_t i, flen, plen;
	al_err err = AL_E_ONION_FAILURE_UNKNOWN;
	bool match = false;

	*origin = 0;
	*msg_len = 0;
	if (len < HMAC_LEN + 4 || len > sizeof(buf))
		return AL_E_ONION_FAILURE_LEN;
	memcpy(buf, pkt, len);
	/* BOLT #4 "Origin node": peel each hop's obfuscation in route order until the
	 * HMAC under that hop's um key matches. */
	for (i = 0; i < n && !match; i++) {
		AL_TRY(al_onion_failure_wrap(buf, len, secrets[i]));
		AL_TRY(gen_key(um, "um", secrets[i]));
		err = al_hmac_sha256(hmac, um, 32, buf + HMAC_LEN, len - HMAC_LEN);
		al_memzero(um, sizeof(um));
		AL_TRY(err);
		match = al_memeq_ct(hmac, buf, HMAC_LEN);
		if (match)
			*origin = i;
	}
	if (!match)
		return AL_E_ONION_FAILURE_UNKNOWN;
	flen = (size_t)buf[HMAC_LEN] << 8 | buf[HMAC_LEN + 1];
	if (flen < 2 || flen > len - HMAC_LEN - 4)
		return AL_E_ONION_FAILURE_MALFORMED;
	plen = (size_t)buf[HMAC_LEN + 2 + flen] << 8 | buf[HMAC_LEN + 3 + flen];
	if (plen != len - HMAC_LEN - 4 - flen)
		return AL_E_ONION_FAILURE_MALFORMED;
	if (cap < flen)
		return AL_E_BUFSIZE;
	memcpy(msg, buf + HMAC_LEN + 2, flen);
	*msg_len = flen;
	return AL_OK;
}
