#include "store/seal.h"

#include <string.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "util/cursor.h"

#define OFF_LENGTH  1
#define OFF_VERSION 5
#define OFF_GLOBAL  13
#define OFF_NAME    21
#define OFF_NONCE   53
#define AD_FIXED    OFF_NONCE

static const char hkdf_salt[] = "alight/store/v1";
static const char info_enc[] = "alight store value encryption key";
static const char info_name[] = "alight store key-name hmac key";

al_err al_seal_keys_derive(al_seal_keys *k, const uint8_t *seed, size_t seedlen)
{
	al_err err;

	if (!k || !seed || seedlen < AL_SEAL_MIN_SEED)
		return AL_E_ARG;
	err = al_hkdf_sha256(k->enc, sizeof(k->enc), hkdf_salt, sizeof(hkdf_salt) - 1, seed,
	                     seedlen, info_enc, sizeof(info_enc) - 1);
	if (err == AL_OK)
		err = al_hkdf_sha256(k->name, sizeof(k->name), hkdf_salt, sizeof(hkdf_salt) - 1,
		                     seed, seedlen, info_name, sizeof(info_name) - 1);
	if (err != AL_OK)
		al_seal_keys_clear(k);
	return err;
}

void al_seal_keys_clear(al_seal_keys *k)
{
	al_memzero(k, sizeof(*k));
}

static bool name_ok(const char *s, bool may_be_empty)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	return n <= AL_SEAL_NAME_MAX && (n > 0 || may_be_empty);
}

/* HMAC(k_name, tag || len(ns) || ns [|| len(key) || key]), first 16 bytes. */
static al_err name_half(const al_seal_keys *k, uint8_t out[16], char tag, const char *ns,
                        const char *key)
{
	uint8_t msg[2 + 2 * (1 + AL_SEAL_NAME_MAX)], mac[32];
	al_wb w;
	al_err err;

	al_wb_init(&w, msg, sizeof(msg));
	al_wb_u8(&w, (uint8_t)tag);
	al_wb_u8(&w, (uint8_t)strlen(ns));
	al_wb_bytes(&w, ns, strlen(ns));
	if (key) {
		al_wb_u8(&w, (uint8_t)strlen(key));
		al_wb_bytes(&w, key, strlen(key));
	}
	err = al_hmac_sha256(mac, k->name, sizeof(k->name), msg, w.len);
	/* Object names are public by design: they are what the operator sees. */
	al_declassify(mac, sizeof(mac));
	memcpy(out, mac, 16);
	al_memzero(msg, sizeof(msg));
	return err;
}

al_err al_seal_ns_tag(const al_seal_keys *k, uint8_t out[AL_SEAL_NS_TAG_LEN], const char *ns)
{
	if (!k || !out || !name_ok(ns, true))
		return AL_E_ARG;
	return name_half(k, out, 'N', ns, NULL);
}

al_err al_seal_name(const al_seal_keys *k, uint8_t out[AL_SEAL_NAME_LEN], const char *ns,
                    const char *key)
{
	if (!k || !out || !name_ok(ns, true) || !name_ok(key, false))
		return AL_E_ARG;
	AL_TRY(name_half(k, out, 'N', ns, NULL));
	return name_half(k, out + AL_SEAL_NS_TAG_LEN, 'K', ns, key);
}

size_t al_seal_record_len(size_t keylen, size_t len)
{
	return AL_SEAL_OVERHEAD + keylen + len;
}

/* Associated data: the header up to the nonce, then len(ns) || ns. */
static size_t make_ad(uint8_t ad[AD_FIXED + 1 + AL_SEAL_NAME_MAX], const uint8_t *hdr,
                      const char *ns)
{
	size_t nslen = strlen(ns);

	memcpy(ad, hdr, AD_FIXED);
	ad[AD_FIXED] = (uint8_t)nslen;
	memcpy(ad + AD_FIXED + 1, ns, nslen);
	return AD_FIXED + 1 + nslen;
}

al_err al_seal_record(const al_seal_keys *k, const al_rng *rng, uint8_t *out, size_t cap,
                      size_t *outlen, const char *ns, const char *key, int64_t version,
                      int64_t global_version, const uint8_t *value, size_t len)
{
	uint8_t ad[AD_FIXED + 1 + AL_SEAL_NAME_MAX];
	uint8_t *pt = out + AL_SEAL_HEADER_LEN;
	size_t keylen, adlen, ptlen;
	al_err err;

	if (!k || !out || !outlen || !name_ok(ns, true) || !name_ok(key, false) ||
	    (!value && len) || len > AL_SEAL_VALUE_MAX || version < 1 || global_version < 1)
		return AL_E_ARG;
	keylen = strlen(key);
	if (cap < al_seal_record_len(keylen, len))
		return AL_E_BUFSIZE;
	out[0] = AL_SEAL_FORMAT_V1;
	al_write_be32(out + OFF_LENGTH, (uint32_t)al_seal_record_len(keylen, len));
	al_write_be64(out + OFF_VERSION, (uint64_t)version);
	al_write_be64(out + OFF_GLOBAL, (uint64_t)global_version);
	AL_TRY(al_seal_name(k, out + OFF_NAME, ns, key));
	AL_TRY(al_rng_fill(rng, out + OFF_NONCE, AL_AEAD_NONCE_LEN));
	pt[0] = (uint8_t)keylen;
	memcpy(pt + 1, key, keylen);
	if (len)
		memcpy(pt + 1 + keylen, value, len);
	ptlen = 1 + keylen + len;
	adlen = make_ad(ad, out, ns);
	err = al_aead_seal(pt, k->enc, out + OFF_NONCE, ad, adlen, pt, ptlen);
	if (err != AL_OK) {
		al_memzero(out, cap);
		return err;
	}
	*outlen = AL_SEAL_HEADER_LEN + ptlen + AL_AEAD_TAG_LEN;
	return AL_OK;
}

/* Classify a record from its (not yet authenticated) header. */
static al_err check_header(const uint8_t *rec, size_t len, const uint8_t *name, int64_t version)
{
	int64_t sealed;

	if (len < 1)
		return AL_E_STORE_TRUNCATED;
	if (rec[0] != AL_SEAL_FORMAT_V1)
		return AL_E_STORE_FORMAT;
	/* Shortest record: a one-byte key and an empty value. */
	if (len < AL_SEAL_OVERHEAD + 1 || len < al_read_be32(rec + OFF_LENGTH))
		return AL_E_STORE_TRUNCATED;
	if (len > al_read_be32(rec + OFF_LENGTH))
		return AL_E_STORE_TAMPERED;
	if (memcmp(rec + OFF_NAME, name, AL_SEAL_NAME_LEN) != 0)
		return AL_E_STORE_SWAPPED; /* until proven, see classify_swap */
	sealed = (int64_t)al_read_be64(rec + OFF_VERSION);
	if (sealed != version)
		return sealed < version ? AL_E_STORE_ROLLBACK : AL_E_STORE_TAMPERED;
	return AL_OK;
}

/* The authentic plaintext must name the object it was found under. */
static al_err check_plaintext(const al_seal_keys *k, al_seal_view *view, const uint8_t *pt,
                              size_t ptlen, const char *ns, const uint8_t *name)
{
	char key[AL_SEAL_NAME_MAX + 1];
	uint8_t want[AL_SEAL_NAME_LEN];
	size_t keylen;

	/* Key names are not secret to the node, which asks for them by name; the value
	 * after them stays secret. */
	al_declassify(pt, 1);
	keylen = pt[0];
	if (keylen == 0 || keylen > ptlen - 1)
		return AL_E_STORE_TAMPERED;
	al_declassify(pt + 1, keylen);
	if (memchr(pt + 1, 0, keylen))
		return AL_E_STORE_TAMPERED;
	memcpy(key, pt + 1, keylen);
	key[keylen] = 0;
	AL_TRY(al_seal_name(k, want, ns, key));
	if (memcmp(want, name, AL_SEAL_NAME_LEN) != 0)
		return AL_E_STORE_TAMPERED;
	view->key = pt + 1;
	view->keylen = keylen;
	view->value = pt + 1 + keylen;
	view->len = ptlen - 1 - keylen;
	return AL_OK;
}

/* A record naming another object is a swap only if it is an authentic record of that
 * object (of the same namespace, the only one whose associated data we can rebuild);
 * a damaged name field is tampering. */
static al_err classify_swap(const al_seal_keys *k, uint8_t *rec, size_t len, const char *ns,
                            const uint8_t *name)
{
	uint8_t ad[AD_FIXED + 1 + AL_SEAL_NAME_MAX];
	size_t adlen, ctlen = len - AL_SEAL_HEADER_LEN;
	al_err err;

	if (memcmp(rec + OFF_NAME, name, AL_SEAL_NS_TAG_LEN) != 0)
		return AL_E_STORE_TAMPERED;
	adlen = make_ad(ad, rec, ns);
	err = al_aead_open(rec + AL_SEAL_HEADER_LEN, k->enc, rec + OFF_NONCE, ad, adlen,
	                   rec + AL_SEAL_HEADER_LEN, ctlen);
	/* Another object's plaintext: not for this caller. */
	al_memzero(rec + AL_SEAL_HEADER_LEN, ctlen);
	return err == AL_OK ? AL_E_STORE_SWAPPED : AL_E_STORE_TAMPERED;
}

al_err al_seal_open(const al_seal_keys *k, al_seal_view *view, uint8_t *rec, size_t len,
                    const char *ns, const uint8_t name[AL_SEAL_NAME_LEN], int64_t version)
{
	uint8_t ad[AD_FIXED + 1 + AL_SEAL_NAME_MAX];
	uint8_t *pt = rec + AL_SEAL_HEADER_LEN;
	size_t adlen, ctlen;
	al_err err;

	if (!k || !view || (!rec && len) || !name || !name_ok(ns, true))
		return AL_E_ARG;
	memset(view, 0, sizeof(*view));
	err = check_header(rec, len, name, version);
	if (err == AL_E_STORE_SWAPPED)
		return classify_swap(k, rec, len, ns, name);
	if (err != AL_OK)
		return err;
	ctlen = len - AL_SEAL_HEADER_LEN;
	adlen = make_ad(ad, rec, ns);
	err = al_aead_open(pt, k->enc, rec + OFF_NONCE, ad, adlen, pt, ctlen);
	if (err == AL_E_AEAD_AUTH)
		return AL_E_STORE_TAMPERED;
	if (err != AL_OK)
		return err;
	err = check_plaintext(k, view, pt, ctlen - AL_AEAD_TAG_LEN, ns, name);
	if (err != AL_OK) {
		al_memzero(pt, ctlen);
		memset(view, 0, sizeof(*view));
		return err;
	}
	view->version = version;
	view->global_version = (int64_t)al_read_be64(rec + OFF_GLOBAL);
	return AL_OK;
}
