/* Esplora request paths and response parsers (see esplora.h). */
#include "chain/esplora.h"

#include <jansson.h>
#include <string.h>

#include "crypto/hash.h"
#include "util/hex.h"

/* ---- paths ----------------------------------------------------------------------- */

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	p[n] = 0;
	return p + n;
}

static char *put_u32(char *p, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	*p = 0;
	return p;
}

/* Display order (reversed), as Esplora prints txids and block hashes. */
static char *put_hash(char *p, const uint8_t h[32])
{
	al_txid_to_hex(p, h);
	return p + 64;
}

void al_esplora_path_tip_hash(char *out)
{
	put_str(out, "/blocks/tip/hash");
}

void al_esplora_path_tip_height(char *out)
{
	put_str(out, "/blocks/tip/height");
}

void al_esplora_path_block_height(char *out, uint32_t height)
{
	put_u32(put_str(out, "/block-height/"), height);
}

void al_esplora_path_header(char *out, const uint8_t hash[32])
{
	put_str(put_hash(put_str(out, "/block/"), hash), "/header");
}

void al_esplora_path_block(char *out, const uint8_t hash[32])
{
	put_hash(put_str(out, "/block/"), hash);
}

void al_esplora_path_tx(char *out, const uint8_t txid[32], const char *suffix)
{
	char s[16] = {0};
	size_t n = strlen(suffix);

	memcpy(s, suffix, n < sizeof(s) ? n : sizeof(s) - 1);
	put_str(put_hash(put_str(out, "/tx/"), txid), s);
}

void al_esplora_path_outspend(char *out, const uint8_t txid[32], uint32_t vout)
{
	put_u32(put_str(put_hash(put_str(out, "/tx/"), txid), "/outspend/"), vout);
}

void al_esplora_path_script_txs(char *out, const uint8_t *script, size_t len,
                                const uint8_t *last_seen)
{
	uint8_t sh[32];
	char *p = put_str(out, "/scripthash/");

	al_sha256(sh, script, len);
	if (al_hex_encode(p, 65, sh, 32) != AL_OK)
		p[0] = 0;
	p = put_str(p + 64, "/txs");
	if (last_seen)
		put_hash(put_str(p, "/chain/"), last_seen);
}

void al_esplora_path_fee_estimates(char *out)
{
	put_str(out, "/fee-estimates");
}

void al_esplora_path_broadcast(char *out)
{
	put_str(out, "/tx");
}

/* ---- text ------------------------------------------------------------------------ */

/* The body without one trailing newline. */
static size_t trim_nl(const uint8_t *body, size_t len)
{
	if (len > 0 && body[len - 1] == '\n')
		len--;
	return len;
}

al_err al_esplora_parse_height(uint32_t *height, const uint8_t *body, size_t len)
{
	uint64_t v = 0;

	len = trim_nl(body, len);
	if (len == 0 || len > 10 || (len > 1 && body[0] == '0'))
		return AL_E_ESPLORA_TEXT;
	for (size_t i = 0; i < len; i++) {
		if (body[i] < '0' || body[i] > '9')
			return AL_E_ESPLORA_TEXT;
		v = v * 10 + (uint64_t)(body[i] - '0');
	}
	if (v > AL_BLOCK_MAX_HEIGHT)
		return AL_E_ESPLORA_TEXT;
	*height = (uint32_t)v;
	return AL_OK;
}

/* Exactly 2 * n hex digits into out (natural order). */
static al_err hex_exact(uint8_t *out, size_t n, const uint8_t *s, size_t len)
{
	char buf[161];

	if (len != 2 * n || len >= sizeof(buf))
		return AL_E_ESPLORA_TEXT;
	memcpy(buf, s, len);
	buf[len] = 0;
	return al_hex_decode_exact(out, n, buf) == AL_OK ? AL_OK : AL_E_ESPLORA_TEXT;
}

static void reverse32(uint8_t h[32])
{
	for (size_t i = 0; i < 16; i++) {
		uint8_t t = h[i];

		h[i] = h[31 - i];
		h[31 - i] = t;
	}
}

al_err al_esplora_parse_hash(uint8_t hash[32], const uint8_t *body, size_t len)
{
	uint8_t h[32];

	AL_TRY(hex_exact(h, 32, body, trim_nl(body, len)));
	reverse32(h);
	memcpy(hash, h, 32);
	return AL_OK;
}

al_err al_esplora_parse_header(al_block_header *h, const uint8_t *body, size_t len)
{
	uint8_t raw[AL_BLOCK_HEADER_LEN];

	AL_TRY(hex_exact(raw, sizeof(raw), body, trim_nl(body, len)));
	return al_block_header_parse(h, raw, sizeof(raw));
}

al_err al_esplora_parse_tx_hex(al_tx *tx, const uint8_t **raw, size_t *raw_len, al_arena *a,
                               const uint8_t txid[32], const uint8_t *body, size_t len)
{
	size_t mark = al_arena_mark(a), n;
	uint8_t *buf, id[32];
	al_err e;

	len = trim_nl(body, len);
	if (len == 0 || len % 2 || len / 2 > AL_TX_MAX_SIZE)
		return AL_E_ESPLORA_TEXT;
	n = len / 2;
	AL_TRY(al_arena_alloc(a, n, 1, (void **)&buf));
	if (al_hex_decode(buf, n, &n, (const char *)body, len) != AL_OK) {
		e = AL_E_ESPLORA_TEXT;
		goto fail;
	}
	e = al_tx_parse(tx, a, buf, n);
	if (e != AL_OK)
		goto fail;
	al_tx_txid(tx, id);
	if (memcmp(id, txid, 32) != 0) {
		e = AL_E_SYNC_TXID;
		goto fail;
	}
	*raw = buf;
	*raw_len = n;
	return AL_OK;
fail:
	al_arena_release(a, mark);
	return e;
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *load(const uint8_t *body, size_t len)
{
	json_error_t jerr;

	return json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
}

/* An integer member in 0..max. */
static bool get_uint(const json_t *o, const char *key, uint64_t max, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* A 64-digit display-order hash (a member, or the value itself when key is NULL). */
static bool get_hash(const json_t *o, const char *key, uint8_t out[32])
{
	const json_t *v = key ? json_object_get(o, key) : o;
	const char *s = json_string_value(v);

	if (!s || json_string_length(v) != 64)
		return false;
	return al_esplora_parse_hash(out, (const uint8_t *)s, 64) == AL_OK;
}

static al_err status_from(al_esplora_status *st, const json_t *o)
{
	const json_t *c = json_object_get(o, "confirmed");
	uint64_t h;

	if (!json_is_object(o) || !json_is_boolean(c))
		return AL_E_ESPLORA_FIELD;
	memset(st, 0, sizeof(*st));
	if (!json_is_true(c))
		return AL_OK;
	if (!get_uint(o, "block_height", AL_BLOCK_MAX_HEIGHT, &h) ||
	    !get_hash(o, "block_hash", st->block_hash))
		return AL_E_ESPLORA_FIELD;
	st->confirmed = true;
	st->height = (uint32_t)h;
	return AL_OK;
}

al_err al_esplora_parse_status(al_esplora_status *st, const uint8_t *body, size_t len)
{
	json_t *j = load(body, len);
	al_esplora_status tmp;
	al_err e;

	if (!j)
		return AL_E_ESPLORA_JSON;
	e = status_from(&tmp, j);
	json_decref(j);
	if (e == AL_OK)
		*st = tmp;
	return e;
}

static al_err proof_from(al_esplora_proof *p, const json_t *j)
{
	const json_t *m = json_object_get(j, "merkle");
	uint64_t h, pos;

	if (!json_is_object(j) || !get_uint(j, "block_height", AL_BLOCK_MAX_HEIGHT, &h) ||
	    !get_uint(j, "pos", AL_BLOCK_MAX_TX - 1, &pos) || !json_is_array(m) ||
	    json_array_size(m) > AL_ESPLORA_MAX_BRANCH)
		return AL_E_ESPLORA_FIELD;
	p->height = (uint32_t)h;
	p->pos = (uint32_t)pos;
	p->n_branch = json_array_size(m);
	for (size_t i = 0; i < p->n_branch; i++) {
		if (!get_hash(json_array_get(m, i), NULL, p->branch[i]))
			return AL_E_ESPLORA_FIELD;
		/* The branch hashes are printed reversed like txids. */
	}
	return AL_OK;
}

al_err al_esplora_parse_proof(al_esplora_proof *p, const uint8_t *body, size_t len)
{
	json_t *j = load(body, len);
	al_err e;

	if (!j)
		return AL_E_ESPLORA_JSON;
	e = proof_from(p, j);
	json_decref(j);
	return e;
}

static al_err block_from(al_esplora_block *b, const json_t *j)
{
	uint64_t h, n;

	if (!json_is_object(j) || !get_hash(j, "id", b->hash) ||
	    !get_uint(j, "height", AL_BLOCK_MAX_HEIGHT, &h) ||
	    !get_uint(j, "tx_count", AL_BLOCK_MAX_TX, &n) || n == 0 ||
	    !get_hash(j, "merkle_root", b->merkle_root))
		return AL_E_ESPLORA_FIELD;
	b->height = (uint32_t)h;
	b->tx_count = (uint32_t)n;
	return AL_OK;
}

al_err al_esplora_parse_block(al_esplora_block *b, const uint8_t *body, size_t len)
{
	json_t *j = load(body, len);
	al_esplora_block tmp;
	al_err e;

	if (!j)
		return AL_E_ESPLORA_JSON;
	e = block_from(&tmp, j);
	json_decref(j);
	if (e == AL_OK)
		*b = tmp;
	return e;
}

static al_err outspend_from(al_esplora_outspend *o, const json_t *j)
{
	const json_t *s = json_object_get(j, "spent");
	uint64_t vin;

	if (!json_is_object(j) || !json_is_boolean(s))
		return AL_E_ESPLORA_FIELD;
	memset(o, 0, sizeof(*o));
	if (!json_is_true(s))
		return AL_OK;
	if (!get_hash(j, "txid", o->txid) || !get_uint(j, "vin", AL_TX_MAX_INPUTS - 1, &vin))
		return AL_E_ESPLORA_FIELD;
	o->spent = true;
	o->vin = (uint32_t)vin;
	return status_from(&o->status, json_object_get(j, "status"));
}

al_err al_esplora_parse_outspend(al_esplora_outspend *o, const uint8_t *body, size_t len)
{
	json_t *j = load(body, len);
	al_esplora_outspend tmp;
	al_err e;

	if (!j)
		return AL_E_ESPLORA_JSON;
	e = outspend_from(&tmp, j);
	json_decref(j);
	if (e == AL_OK)
		*o = tmp;
	return e;
}

static al_err txids_from(uint8_t (*txids)[32], size_t cap, size_t *n, size_t *n_conf,
                         const json_t *j)
{
	al_esplora_status st;

	if (!json_is_array(j) || json_array_size(j) > cap)
		return AL_E_ESPLORA_FIELD;
	*n_conf = 0;
	for (size_t i = 0; i < json_array_size(j); i++) {
		const json_t *t = json_array_get(j, i);

		if (!json_is_object(t) || !get_hash(t, "txid", txids[i]))
			return AL_E_ESPLORA_FIELD;
		AL_TRY(status_from(&st, json_object_get(t, "status")));
		*n_conf += st.confirmed;
	}
	*n = json_array_size(j);
	return AL_OK;
}

al_err al_esplora_parse_txids(uint8_t (*txids)[32], size_t cap, size_t *n, size_t *n_confirmed,
                              const uint8_t *body, size_t len)
{
	json_t *j = load(body, len);
	al_err e;

	if (!j)
		return AL_E_ESPLORA_JSON;
	e = txids_from(txids, cap, n, n_confirmed, j);
	json_decref(j);
	return e;
}

static al_err fee_from(uint64_t *out, unsigned target, const json_t *j)
{
	const char *key;
	json_t *v;
	uint32_t best_t = 0, low_t = UINT32_MAX;
	double best = -1, low = -1;

	if (!json_is_object(j))
		return AL_E_ESPLORA_FIELD;
	json_object_foreach((json_t *)j, key, v)
	{
		uint32_t t;
		double r;

		if (al_esplora_parse_height(&t, (const uint8_t *)key, strlen(key)) != AL_OK ||
		    t < 1 || t > 1008 || !json_is_number(v))
			return AL_E_ESPLORA_FIELD;
		r = json_number_value(v);
		if (!(r >= 0 && r <= AL_ESPLORA_MAX_FEERATE))
			return AL_E_ESPLORA_FIELD;
		if (t <= target && t > best_t) {
			best_t = t;
			best = r;
		}
		if (t < low_t) {
			low_t = t;
			low = r;
		}
	}
	if (best < 0)
		best = low;
	if (best < 0)
		return AL_E_RANGE;
	*out = (uint64_t)(best * 1000.0);
	if ((double)*out < best * 1000.0)
		(*out)++;
	return AL_OK;
}

al_err al_esplora_parse_fee(uint64_t *sat_per_kvb, unsigned target, const uint8_t *body, size_t len)
{
	json_t *j = load(body, len);
	al_err e;

	if (!j)
		return AL_E_ESPLORA_JSON;
	e = fee_from(sat_per_kvb, target, j);
	json_decref(j);
	return e;
}
