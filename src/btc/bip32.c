#include "btc/bip32.h"

#include <string.h>

#include "btc/base58.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "util/cursor.h"

void al_xkey_clear(al_xkey *k)
{
	al_memzero(k, sizeof(*k));
}

/* Split I into I_L (a scalar) and I_R (the chain code). */
#define IL(i) (i)
#define IR(i) ((i) + 32)

al_err al_bip32_master(const al_secp *ctx, al_xkey *out, const uint8_t *seed, size_t seedlen)
{
	static const char key[] = "Bitcoin seed";
	uint8_t i[64];
	al_err err;

	al_xkey_clear(out);
	if (seedlen < AL_BIP32_SEED_MIN || seedlen > AL_BIP32_SEED_MAX)
		return AL_E_RANGE;
	err = al_hmac_sha512(i, key, sizeof(key) - 1, seed, seedlen);
	if (err != AL_OK)
		goto out;
	/* "Use parse256(I_L) as master secret key, and I_R as master chain code. In case
	 * I_L is 0 or >= n, the master key is invalid." */
	memcpy(out->priv.k, IL(i), 32);
	memcpy(out->chaincode, IR(i), 32);
	out->has_priv = true;
	if (!al_privkey_valid(ctx, &out->priv)) {
		err = AL_E_PRIVKEY;
		goto out;
	}
	err = al_pubkey_from_privkey(ctx, &out->pub, &out->priv);
out:
	al_memzero(i, sizeof(i));
	if (err != AL_OK)
		al_xkey_clear(out);
	return err;
}

void al_bip32_fingerprint(const al_secp *ctx, uint8_t fpr[4], const al_xkey *k)
{
	uint8_t ser[AL_PUBKEY_LEN], id[20];

	al_pubkey_serialize(ctx, ser, &k->pub);
	al_hash160(id, ser, sizeof(ser));
	memcpy(fpr, id, 4);
}

/* The HMAC-SHA512 input of CKDpriv / CKDpub. */
static void ckd_data(const al_secp *ctx, uint8_t data[37], const al_xkey *parent, uint32_t index)
{
	if (index & AL_BIP32_HARDENED) {
		/* "Data = 0x00 || ser256(k_par) || ser32(i)" */
		data[0] = 0;
		memcpy(data + 1, parent->priv.k, 32);
	} else {
		/* "Data = serP(point(k_par)) || ser32(i)" */
		al_pubkey_serialize(ctx, data, &parent->pub);
	}
	al_write_be32(data + 33, index);
}

al_err al_bip32_ckd(const al_secp *ctx, al_xkey *out, const al_xkey *parent, uint32_t index)
{
	uint8_t data[37], i[64];
	al_xkey child;
	al_err err;

	if (parent->depth == AL_BIP32_MAX_DEPTH)
		return AL_E_BIP32_DEPTH;
	/* CKDpub: "If so (hardened child): return failure". */
	if ((index & AL_BIP32_HARDENED) && !parent->has_priv)
		return AL_E_BIP32_HARDENED;
	child = *parent;
	ckd_data(ctx, data, parent, index);
	err = al_hmac_sha512(i, parent->chaincode, 32, data, sizeof(data));
	if (err != AL_OK)
		goto out;
	if (parent->has_priv) {
		/* "k_i is parse256(I_L) + k_par (mod n)"; invalid if I_L >= n or k_i = 0. */
		err = al_privkey_tweak_add(ctx, &child.priv, IL(i));
		if (err == AL_OK)
			err = al_pubkey_from_privkey(ctx, &child.pub, &child.priv);
	} else {
		/* "K_i is point(parse256(I_L)) + K_par"; invalid if I_L >= n or K_i is the
		 * point at infinity. */
		err = al_pubkey_tweak_add(ctx, &child.pub, IL(i));
	}
	if (err != AL_OK)
		goto out;
	memcpy(child.chaincode, IR(i), 32);
	al_bip32_fingerprint(ctx, child.parent_fpr, parent);
	child.depth = (uint8_t)(parent->depth + 1);
	child.child = index;
	*out = child;
out:
	al_memzero(data, sizeof(data));
	al_memzero(i, sizeof(i));
	al_xkey_clear(&child);
	return err;
}

al_err al_bip32_derive(const al_secp *ctx, al_xkey *out, const al_xkey *root, const uint32_t *path,
                       size_t n)
{
	al_xkey k = *root;
	al_err err = AL_OK;
	size_t j;

	for (j = 0; j < n && err == AL_OK; j++)
		err = al_bip32_ckd(ctx, &k, &k, path[j]);
	if (err == AL_OK)
		*out = k;
	al_xkey_clear(&k);
	return err;
}

void al_bip32_neuter(al_xkey *out, const al_xkey *in)
{
	if (out != in)
		*out = *in;
	out->has_priv = false;
	al_privkey_clear(&out->priv);
}

/* One decimal index, optionally hardened; *pos advances past it. */
static al_err parse_index(uint32_t *out, const char *s, size_t len, size_t *pos)
{
	size_t p = *pos, start = p;
	uint64_t v = 0;

	while (p < len && s[p] >= '0' && s[p] <= '9') {
		v = v * 10 + (uint64_t)(s[p] - '0');
		if (v >= AL_BIP32_HARDENED)
			return AL_E_BIP32_PATH;
		p++;
	}
	/* An empty component, or a leading zero that would make two spellings of one
	 * path. */
	if (p == start || (s[start] == '0' && p - start > 1))
		return AL_E_BIP32_PATH;
	if (p < len && (s[p] == '\'' || s[p] == 'h' || s[p] == 'H')) {
		v |= AL_BIP32_HARDENED;
		p++;
	}
	*out = (uint32_t)v;
	*pos = p;
	return AL_OK;
}

al_err al_bip32_path_parse(uint32_t *out, size_t cap, size_t *n, const char *path, size_t len)
{
	size_t pos = 1, count = 0;
	uint32_t v = 0;

	*n = 0;
	if (len < 1 || path[0] != 'm')
		return AL_E_BIP32_PATH;
	while (pos < len) {
		if (path[pos++] != '/')
			return AL_E_BIP32_PATH;
		AL_TRY(parse_index(&v, path, len, &pos));
		if (count == AL_BIP32_MAX_DEPTH)
			return AL_E_BIP32_PATH;
		if (count == cap)
			return AL_E_BUFSIZE;
		out[count++] = v;
	}
	*n = count;
	return AL_OK;
}

static uint32_t version_for(al_net net, bool priv)
{
	if (net == AL_NET_MAINNET)
		return priv ? AL_BIP32_XPRV : AL_BIP32_XPUB;
	return priv ? AL_BIP32_TPRV : AL_BIP32_TPUB;
}

al_err al_bip32_serialize(const al_secp *ctx, uint8_t out[AL_BIP32_SERIAL_LEN], const al_xkey *k,
                          al_net net)
{
	if (net != AL_NET_MAINNET && net != AL_NET_TESTNET && net != AL_NET_REGTEST)
		return AL_E_ARG;
	/* version || depth || parent fingerprint || child number || chain code || key */
	al_write_be32(out, version_for(net, k->has_priv));
	out[4] = k->depth;
	memcpy(out + 5, k->parent_fpr, 4);
	al_write_be32(out + 9, k->child);
	memcpy(out + 13, k->chaincode, 32);
	if (k->has_priv) {
		/* "0x00 || ser256(k) for private keys" */
		out[45] = 0;
		memcpy(out + 46, k->priv.k, 32);
	} else {
		al_pubkey_serialize(ctx, out + 45, &k->pub);
	}
	return AL_OK;
}

/* Version to network and key type; AL_E_BIP32_VERSION for anything else. */
static al_err parse_version(uint32_t version, al_net *net, bool *priv)
{
	switch (version) {
	case AL_BIP32_XPRV:
	case AL_BIP32_XPUB:
		*net = AL_NET_MAINNET;
		break;
	case AL_BIP32_TPRV:
	case AL_BIP32_TPUB:
		*net = AL_NET_TESTNET;
		break;
	default:
		return AL_E_BIP32_VERSION;
	}
	*priv = version == AL_BIP32_XPRV || version == AL_BIP32_TPRV;
	return AL_OK;
}

/* The key data's first byte: 0x00 for a private key, 0x02/0x03 for a public one. A
 * valid prefix of the other kind is a version mismatch; any other is bad data. */
static al_err check_prefix(uint8_t prefix, bool priv)
{
	bool pub_prefix = prefix == 0x02 || prefix == 0x03;

	if (priv ? prefix == 0x00 : pub_prefix)
		return AL_OK;
	if (priv ? pub_prefix : prefix == 0x00)
		return AL_E_BIP32_MISMATCH;
	return AL_E_BIP32_KEY;
}

static al_err parse_key(const al_secp *ctx, al_xkey *k, const uint8_t *keydata)
{
	if (!k->has_priv)
		/* "implementations must verify whether the X coordinate in the public key
		 * data corresponds to a point on the curve". */
		return al_pubkey_parse(ctx, &k->pub, keydata, AL_PUBKEY_LEN);
	memcpy(k->priv.k, keydata + 1, 32);
	if (!al_privkey_valid(ctx, &k->priv))
		return AL_E_PRIVKEY;
	return al_pubkey_from_privkey(ctx, &k->pub, &k->priv);
}

al_err al_bip32_parse(const al_secp *ctx, al_xkey *out, al_net *net, const uint8_t *in, size_t len)
{
	static const uint8_t zero4[4];
	uint8_t hdr[13], prefix;
	al_xkey k;
	al_err err;

	al_xkey_clear(out);
	*net = AL_NET_MAINNET;
	memset(&k, 0, sizeof(k));
	if (len != AL_BIP32_SERIAL_LEN)
		return AL_E_BIP32_LENGTH;
	/* Version, depth, parent fingerprint, child number and the key's first byte are
	 * public by design (the xpub shows them); only the chain code and key are not. */
	memcpy(hdr, in, sizeof(hdr));
	prefix = in[45];
	al_declassify(hdr, sizeof(hdr));
	al_declassify(&prefix, sizeof(prefix));
	AL_TRY(parse_version(al_read_be32(hdr), net, &k.has_priv));
	AL_TRY(check_prefix(prefix, k.has_priv));
	k.depth = hdr[4];
	memcpy(k.parent_fpr, hdr + 5, 4);
	k.child = al_read_be32(hdr + 9);
	/* "0x00000000 if master key", for the fingerprint and the child number. */
	if (k.depth == 0 && (memcmp(k.parent_fpr, zero4, 4) != 0 || k.child != 0))
		return AL_E_BIP32_DEPTH;
	memcpy(k.chaincode, in + 13, 32);
	err = parse_key(ctx, &k, in + 45);
	if (err == AL_OK)
		*out = k;
	al_xkey_clear(&k);
	return err;
}

al_err al_bip32_to_base58(const al_secp *ctx, char *out, size_t outcap, const al_xkey *k,
                          al_net net)
{
	uint8_t ser[AL_BIP32_SERIAL_LEN];
	al_err err;

	if (outcap)
		out[0] = '\0';
	err = al_bip32_serialize(ctx, ser, k, net);
	if (err == AL_OK)
		err = al_b58check_encode(out, outcap, ser, sizeof(ser));
	al_memzero(ser, sizeof(ser));
	return err;
}

al_err al_bip32_from_base58(const al_secp *ctx, al_xkey *out, al_net *net, const char *str,
                            size_t len)
{
	uint8_t ser[AL_B58_MAX_DATA];
	size_t n = 0;
	al_err err;

	al_xkey_clear(out);
	*net = AL_NET_MAINNET;
	err = al_b58check_decode(ser, sizeof(ser), &n, str, len);
	/* Too short or too long for Base58Check is the wrong length for a key. */
	if (err == AL_E_TRUNCATED || err == AL_E_TOO_LARGE)
		err = AL_E_BIP32_LENGTH;
	if (err == AL_OK)
		err = al_bip32_parse(ctx, out, net, ser, n);
	al_memzero(ser, sizeof(ser));
	return err;
}
