/* alight-devchain HTTP: the Esplora REST API (Blockstream/esplora API.md, JSON shapes of
 * electrs' esplora mode) plus /mine, /faucet and /reorg. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "btc/address.h"
#include "btc/base58.h"
#include "btc/script.h"
#include "crypto/hash.h"
#include "devchain.h"
#include "electrum.h"
#include "host/httpd.h"
#include "util/hex.h"

/* ---- small helpers ----------------------------------------------------------------- */

static char *hexdup(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (!s || al_hex_encode(s, 2 * n + 1, p, n) != AL_OK) {
		free(s);
		return NULL;
	}
	return s;
}

json_t *dc_json_hex(const uint8_t *p, size_t n)
{
	char *s = hexdup(p, n);
	json_t *j = json_string(s ? s : "");

	free(s);
	return j;
}

json_t *dc_json_hash(const uint8_t h[32])
{
	char s[65];

	al_txid_to_hex(s, h);
	return json_string(s);
}

static void reply_json(al_httpd_res *res, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	al_httpd_res_status(res, 200);
	if (al_httpd_res_header(res, "Content-Type", "application/json") != AL_OK ||
	    al_httpd_res_body(res, s, strlen(s)) != AL_OK)
		al_httpd_res_text(res, 500, "response too large");
	free(s);
}

static void reply_text(al_httpd_res *res, const char *text)
{
	al_httpd_res_status(res, 200);
	if (al_httpd_res_header(res, "Content-Type", "text/plain") != AL_OK ||
	    al_httpd_res_body(res, text, strlen(text)) != AL_OK)
		al_httpd_res_text(res, 500, "response too large");
}

static void reply_bin(al_httpd_res *res, const uint8_t *p, size_t n)
{
	al_httpd_res_status(res, 200);
	if (al_httpd_res_header(res, "Content-Type", "application/octet-stream") != AL_OK ||
	    al_httpd_res_body(res, p, n) != AL_OK)
		al_httpd_res_text(res, 500, "response too large");
}

static void reply_hex(al_httpd_res *res, const uint8_t *p, size_t n)
{
	char *s = hexdup(p, n);

	reply_text(res, s ? s : "");
	free(s);
}

/* ---- scripts: type, asm, address ------------------------------------------------- */

dc_spk dc_script_kind(const uint8_t *s, size_t n)
{
	int ver;
	const uint8_t *prog;
	size_t plen;

	if (al_script_is_p2pkh(s, n, NULL))
		return DC_SPK_P2PKH;
	if (al_script_is_p2sh(s, n, NULL))
		return DC_SPK_P2SH;
	if (al_script_is_witness_program(s, n, &ver, &prog, &plen)) {
		if (ver == 0 && plen == 20)
			return DC_SPK_P2WPKH;
		if (ver == 0 && plen == 32)
			return DC_SPK_P2WSH;
		if (ver == 1 && plen == 32)
			return DC_SPK_P2TR;
		return ver == 0 ? DC_SPK_WITNESS_V0_OTHER : DC_SPK_WITNESS_FUTURE;
	}
	if ((n == 35 && s[0] == 33 && s[34] == AL_OP_CHECKSIG) ||
	    (n == 67 && s[0] == 65 && s[66] == AL_OP_CHECKSIG))
		return DC_SPK_P2PK;
	if (n >= 1 && s[0] == AL_OP_RETURN)
		return DC_SPK_OP_RETURN;
	return n == 0 ? DC_SPK_EMPTY : DC_SPK_OTHER;
}

/* electrs' names for them. */
static const char *script_type(const uint8_t *s, size_t n)
{
	static const char *const names[DC_SPK_N] = {
	    [DC_SPK_P2PKH] = "p2pkh",
	    [DC_SPK_P2SH] = "p2sh",
	    [DC_SPK_P2WPKH] = "v0_p2wpkh",
	    [DC_SPK_P2WSH] = "v0_p2wsh",
	    [DC_SPK_P2TR] = "v1_p2tr",
	    [DC_SPK_WITNESS_V0_OTHER] = "unknown",
	    [DC_SPK_WITNESS_FUTURE] = "unknown",
	    [DC_SPK_P2PK] = "p2pk",
	    [DC_SPK_OP_RETURN] = "op_return",
	    [DC_SPK_EMPTY] = "empty",
	    [DC_SPK_OTHER] = "unknown",
	};

	return names[dc_script_kind(s, n)];
}

/* The address of an output script on regtest; false for none. */
bool dc_script_address(char *out, size_t cap, const uint8_t *s, size_t n)
{
	uint8_t payload[21];
	int ver;
	const uint8_t *prog;
	size_t plen;

	if (al_script_is_witness_program(s, n, &ver, &prog, &plen))
		return al_segwit_addr_encode(out, cap, AL_NET_REGTEST, (unsigned)ver, prog, plen) ==
		       AL_OK;
	if (al_script_is_p2pkh(s, n, payload + 1)) {
		payload[0] = 0x6f; /* regtest/testnet P2PKH version */
		return al_b58check_encode(out, cap, payload, 21) == AL_OK;
	}
	if (al_script_is_p2sh(s, n, payload + 1)) {
		payload[0] = 0xc4;
		return al_b58check_encode(out, cap, payload, 21) == AL_OK;
	}
	return false;
}

static const char *op_name(uint8_t op)
{
	static const struct {
		uint8_t op;
		const char *name;
	} names[] = {
	    {0x00, "OP_0"},
	    {0x4f, "OP_PUSHNUM_NEG1"},
	    {0x61, "OP_NOP"},
	    {0x63, "OP_IF"},
	    {0x64, "OP_NOTIF"},
	    {0x67, "OP_ELSE"},
	    {0x68, "OP_ENDIF"},
	    {0x69, "OP_VERIFY"},
	    {0x6a, "OP_RETURN"},
	    {0x6b, "OP_TOALTSTACK"},
	    {0x6c, "OP_FROMALTSTACK"},
	    {0x73, "OP_IFDUP"},
	    {0x74, "OP_DEPTH"},
	    {0x75, "OP_DROP"},
	    {0x76, "OP_DUP"},
	    {0x77, "OP_NIP"},
	    {0x78, "OP_OVER"},
	    {0x7c, "OP_SWAP"},
	    {0x82, "OP_SIZE"},
	    {0x87, "OP_EQUAL"},
	    {0x88, "OP_EQUALVERIFY"},
	    {0x8b, "OP_1ADD"},
	    {0x8c, "OP_1SUB"},
	    {0x93, "OP_ADD"},
	    {0x94, "OP_SUB"},
	    {0x9a, "OP_BOOLAND"},
	    {0x9b, "OP_BOOLOR"},
	    {0x9c, "OP_NUMEQUAL"},
	    {0x9d, "OP_NUMEQUALVERIFY"},
	    {0xa5, "OP_WITHIN"},
	    {0xa6, "OP_RIPEMD160"},
	    {0xa7, "OP_SHA1"},
	    {0xa8, "OP_SHA256"},
	    {0xa9, "OP_HASH160"},
	    {0xaa, "OP_HASH256"},
	    {0xab, "OP_CODESEPARATOR"},
	    {0xac, "OP_CHECKSIG"},
	    {0xad, "OP_CHECKSIGVERIFY"},
	    {0xae, "OP_CHECKMULTISIG"},
	    {0xaf, "OP_CHECKMULTISIGVERIFY"},
	    {0xb1, "OP_CLTV"},
	    {0xb2, "OP_CSV"},
	    {0xba, "OP_CHECKSIGADD"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].op == op)
			return names[i].name;
	}
	return NULL;
}

/* Disassembly in rust-bitcoin's notation, as electrs prints it. */
static json_t *script_asm(const uint8_t *s, size_t n)
{
	size_t cap = 8 * n + 16, len = 0, i = 0;
	char *out = malloc(cap);
	json_t *j;

	out[0] = 0;
	while (i < n) {
		uint8_t op = s[i++];
		size_t push = 0, hdr = 0;
		const char *name = op_name(op);
		char tmp[40];

		if (op >= 1 && op <= 0x4b) {
			push = op;
			snprintf(tmp, sizeof(tmp), "OP_PUSHBYTES_%u", op);
		} else if (op >= 0x4c && op <= 0x4e) {
			hdr = op == 0x4c ? 1 : op == 0x4d ? 2 : 4;
			for (size_t k = 0; k < hdr && i + k < n; k++)
				push |= (size_t)s[i + k] << (8 * k);
			i += hdr;
			snprintf(tmp, sizeof(tmp), "OP_PUSHDATA%u",
			         op == 0x4c   ? 1
			         : op == 0x4d ? 2
			                      : 4);
		} else if (op >= 0x51 && op <= 0x60) {
			snprintf(tmp, sizeof(tmp), "OP_PUSHNUM_%u", op - 0x50);
		} else if (name) {
			snprintf(tmp, sizeof(tmp), "%s", name);
		} else {
			snprintf(tmp, sizeof(tmp), "OP_UNKNOWN_%u", op);
		}
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", tmp);
		if (i > n || push > n - i) {
			len += (size_t)snprintf(out + len, cap - len, " <push past end>");
			break;
		}
		if (push) {
			char *h = hexdup(s + i, push);

			if (len + 2 * push + 2 >= cap) {
				cap = len + 2 * push + 64;
				out = realloc(out, cap);
			}
			len += (size_t)snprintf(out + len, cap - len, " %s", h);
			free(h);
			i += push;
		}
		if (len + 64 >= cap) {
			cap *= 2;
			out = realloc(out, cap);
		}
	}
	j = json_string(out);
	free(out);
	return j;
}

/* ---- transactions ------------------------------------------------------------------ */

static json_t *tx_status(const dc_tx *t)
{
	json_t *j = json_object();

	json_object_set_new(j, "confirmed", json_boolean(t && t->block));
	if (t && t->block) {
		json_object_set_new(j, "block_height", json_integer(t->block->height));
		json_object_set_new(j, "block_hash", dc_json_hash(t->block->hash));
		json_object_set_new(j, "block_time", json_integer(t->block->hdr.time));
	}
	return j;
}

static json_t *txout_json(const al_tx_out *o)
{
	json_t *j = json_object();
	char addr[AL_SEGWIT_ADDR_BUFLEN];

	json_object_set_new(j, "scriptpubkey", dc_json_hex(o->script.p, o->script.len));
	json_object_set_new(j, "scriptpubkey_asm", script_asm(o->script.p, o->script.len));
	json_object_set_new(j, "scriptpubkey_type",
	                    json_string(script_type(o->script.p, o->script.len)));
	if (dc_script_address(addr, sizeof(addr), o->script.p, o->script.len))
		json_object_set_new(j, "scriptpubkey_address", json_string(addr));
	json_object_set_new(j, "value", json_integer((json_int_t)o->amount.sat));
	return j;
}

static json_t *txin_json(const dc_chain *c, const dc_tx *t, size_t i)
{
	const al_tx_in *in = &t->tx.in[i];
	json_t *j = json_object(), *w = json_array();
	const dc_tx *prev = t->coinbase ? NULL : dc_tx_by_id(c, in->txid);

	json_object_set_new(j, "txid", dc_json_hash(in->txid));
	json_object_set_new(j, "vout", json_integer(in->vout));
	if (prev && in->vout < prev->tx.n_out)
		json_object_set_new(j, "prevout", txout_json(&prev->tx.out[in->vout]));
	else
		json_object_set_new(j, "prevout", json_null());
	json_object_set_new(j, "scriptsig", dc_json_hex(in->script_sig.p, in->script_sig.len));
	json_object_set_new(j, "scriptsig_asm", script_asm(in->script_sig.p, in->script_sig.len));
	for (size_t k = 0; k < in->n_witness; k++)
		json_array_append_new(w, dc_json_hex(in->witness[k].p, in->witness[k].len));
	if (in->n_witness)
		json_object_set_new(j, "witness", w);
	else
		json_decref(w);
	if (prev && in->vout < prev->tx.n_out && in->n_witness > 1 &&
	    al_script_is_p2wsh(prev->tx.out[in->vout].script.p, prev->tx.out[in->vout].script.len,
	                       NULL)) {
		const al_bytes *ws = &in->witness[in->n_witness - 1];

		json_object_set_new(j, "inner_witnessscript_asm", script_asm(ws->p, ws->len));
	}
	json_object_set_new(j, "is_coinbase", json_boolean(t->coinbase));
	json_object_set_new(j, "sequence", json_integer(in->sequence));
	return j;
}

static json_t *tx_json(const dc_chain *c, const dc_tx *t, bool with_status)
{
	json_t *j = json_object(), *vin = json_array(), *vout = json_array();

	json_object_set_new(j, "txid", dc_json_hash(t->txid));
	json_object_set_new(j, "version", json_integer(t->tx.version));
	json_object_set_new(j, "locktime", json_integer(t->tx.locktime));
	for (size_t i = 0; i < t->tx.n_in; i++)
		json_array_append_new(vin, txin_json(c, t, i));
	for (size_t i = 0; i < t->tx.n_out; i++)
		json_array_append_new(vout, txout_json(&t->tx.out[i]));
	json_object_set_new(j, "vin", vin);
	json_object_set_new(j, "vout", vout);
	json_object_set_new(j, "size", json_integer((json_int_t)t->len));
	json_object_set_new(j, "weight", json_integer((json_int_t)al_tx_weight(&t->tx)));
	json_object_set_new(j, "fee", json_integer((json_int_t)t->fee));
	if (with_status)
		json_object_set_new(j, "status", tx_status(t));
	return j;
}

static json_t *outspend_json(const dc_chain *c, const dc_tx *t, uint32_t vout)
{
	json_t *j = json_object();
	dc_spend *s = dc_spender(c, t->txid, vout);

	json_object_set_new(j, "spent", json_boolean(s != NULL));
	if (s) {
		json_object_set_new(j, "txid", dc_json_hash(s->tx->txid));
		json_object_set_new(j, "vin", json_integer(s->vin));
		json_object_set_new(j, "status", tx_status(s->tx));
	}
	return j;
}

/* The leaves of a block's merkle tree. */
static uint8_t (*block_txids(const dc_block *b))[32]
{
	uint8_t(*ids)[32] = malloc(b->n_tx * 32);

	for (size_t i = 0; i < b->n_tx; i++)
		memcpy(ids[i], b->txs[i]->txid, 32);
	return ids;
}

static void tx_merkle_proof(al_httpd_res *res, const dc_tx *t)
{
	uint8_t(*ids)[32], branch[32][32];
	size_t nb;
	json_t *j, *m;

	if (!t->block) {
		al_httpd_res_text(res, 404, "Transaction not found");
		return;
	}
	ids = block_txids(t->block);
	if (al_merkle_branch(branch, 32, &nb, (const uint8_t(*)[32])ids, t->block->n_tx, t->pos) !=
	    AL_OK) {
		free(ids);
		al_httpd_res_text(res, 500, "merkle branch failed");
		return;
	}
	free(ids);
	j = json_object();
	m = json_array();
	json_object_set_new(j, "block_height", json_integer(t->block->height));
	for (size_t i = 0; i < nb; i++)
		json_array_append_new(m, dc_json_hash(branch[i]));
	json_object_set_new(j, "merkle", m);
	json_object_set_new(j, "pos", json_integer(t->pos));
	reply_json(res, j);
}

static void tx_merkleblock_proof(al_httpd_res *res, const dc_tx *t)
{
	uint8_t(*ids)[32];
	bool *match;
	uint8_t *buf;
	size_t cap;
	al_wb w;

	if (!t->block) {
		al_httpd_res_text(res, 404, "Transaction not found");
		return;
	}
	ids = block_txids(t->block);
	match = calloc(t->block->n_tx, sizeof(bool));
	match[t->pos] = true;
	cap = 200 + 33 * t->block->n_tx;
	buf = malloc(cap);
	al_wb_init(&w, buf, cap);
	if (al_merkleblock_write(&w, &t->block->hdr, (const uint8_t(*)[32])ids, t->block->n_tx,
	                         match) == AL_OK)
		reply_hex(res, buf, w.len);
	else
		al_httpd_res_text(res, 500, "merkleblock failed");
	free(buf);
	free(match);
	free(ids);
}

/* A path number as Esplora takes it: decimal digits only (no sign, no spaces, at most 9
 * of them), the whole rest of the segment. */
static bool path_number(const char *p, unsigned long *out)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; p[n] >= '0' && p[n] <= '9'; n++) {
		if (n == 9)
			return false;
		v = v * 10 + (unsigned long)(p[n] - '0');
	}
	*out = v;
	return n > 0 && p[n] == '\0';
}
static void route_tx(dc_chain *c, const char *rest, al_httpd_res *res)
{
	char id[65];
	uint8_t txid[32];
	const char *sub;
	dc_tx *t;

	if (strlen(rest) < 64)
		goto bad;
	memcpy(id, rest, 64);
	id[64] = 0;
	sub = rest + 64;
	if (al_txid_from_hex(txid, id) != AL_OK)
		goto bad;
	t = dc_tx_by_id(c, txid);
	if (!t) {
		al_httpd_res_text(res, 404, "Transaction not found");
		return;
	}
	if (!*sub)
		reply_json(res, tx_json(c, t, true));
	else if (!strcmp(sub, "/hex"))
		reply_hex(res, t->raw, t->len);
	else if (!strcmp(sub, "/raw"))
		reply_bin(res, t->raw, t->len);
	else if (!strcmp(sub, "/status"))
		reply_json(res, tx_status(t));
	else if (!strcmp(sub, "/merkle-proof"))
		tx_merkle_proof(res, t);
	else if (!strcmp(sub, "/merkleblock-proof"))
		tx_merkleblock_proof(res, t);
	else if (!strcmp(sub, "/outspends")) {
		json_t *a = json_array();

		for (uint32_t v = 0; v < t->tx.n_out; v++)
			json_array_append_new(a, outspend_json(c, t, v));
		reply_json(res, a);
	} else if (!strncmp(sub, "/outspend/", 10)) {
		unsigned long v;

		if (!path_number(sub + 10, &v) || v >= t->tx.n_out)
			goto bad;
		reply_json(res, outspend_json(c, t, (uint32_t)v));
	} else {
		al_httpd_res_text(res, 404, "not found");
	}
	return;
bad:
	al_httpd_res_text(res, 400, "Invalid hex string");
}

/* ---- blocks ------------------------------------------------------------------------ */

static json_t *block_json(const dc_block *b)
{
	json_t *j = json_object();
	uint8_t root[32];
	double diff;
	int shift;

	json_object_set_new(j, "id", dc_json_hash(b->hash));
	json_object_set_new(j, "height", json_integer(b->height));
	json_object_set_new(j, "version", json_integer(b->hdr.version));
	json_object_set_new(j, "timestamp", json_integer(b->hdr.time));
	json_object_set_new(j, "tx_count", json_integer((json_int_t)b->n_tx));
	json_object_set_new(j, "size", json_integer((json_int_t)b->len));
	json_object_set_new(j, "weight", json_integer((json_int_t)b->weight));
	memcpy(root, b->hdr.merkle_root, 32);
	json_object_set_new(j, "merkle_root", dc_json_hash(root));
	if (b->height > 0)
		json_object_set_new(j, "previousblockhash", dc_json_hash(b->hdr.prev_hash));
	else
		json_object_set_new(j, "previousblockhash", json_null());
	json_object_set_new(j, "mediantime", json_integer(b->mtp));
	json_object_set_new(j, "nonce", json_integer(b->hdr.nonce));
	json_object_set_new(j, "bits", json_integer(b->hdr.bits));
	/* Core's GetDifficulty: the mainnet minimum target over this one. */
	shift = (int)(b->hdr.bits >> 24);
	diff =
	    (double)0x0000ffff / (double)(b->hdr.bits & 0x00ffffff ? b->hdr.bits & 0x00ffffff : 1);
	for (; shift < 29; shift++)
		diff *= 256.0;
	for (; shift > 29; shift--)
		diff /= 256.0;
	json_object_set_new(j, "difficulty", json_real(diff));
	return j;
}

static void route_block(dc_chain *c, const char *rest, al_httpd_res *res)
{
	char id[65];
	uint8_t hash[32], hdr[AL_BLOCK_HEADER_LEN];
	const char *sub;
	dc_block *b;

	if (strlen(rest) < 64)
		goto bad;
	memcpy(id, rest, 64);
	id[64] = 0;
	sub = rest + 64;
	if (al_txid_from_hex(hash, id) != AL_OK)
		goto bad;
	b = dc_block_by_hash(c, hash);
	if (!b) {
		al_httpd_res_text(res, 404, "Block not found");
		return;
	}
	if (!*sub) {
		reply_json(res, block_json(b));
	} else if (!strcmp(sub, "/header")) {
		al_block_header_write(hdr, &b->hdr);
		reply_hex(res, hdr, sizeof(hdr));
	} else if (!strcmp(sub, "/raw")) {
		reply_bin(res, b->raw, b->len);
	} else if (!strcmp(sub, "/status")) {
		json_t *j = json_object();

		json_object_set_new(j, "in_best_chain", json_boolean(b->active));
		if (b->active) {
			json_object_set_new(j, "height", json_integer(b->height));
			if (b->height + 1 < c->n_blocks)
				json_object_set_new(j, "next_best",
				                    dc_json_hash(c->blocks[b->height + 1]->hash));
			else
				json_object_set_new(j, "next_best", json_null());
		}
		reply_json(res, j);
	} else if (!strcmp(sub, "/txids") && b->txs) {
		json_t *a = json_array();

		for (size_t i = 0; i < b->n_tx; i++)
			json_array_append_new(a, dc_json_hash(b->txs[i]->txid));
		reply_json(res, a);
	} else if (!strncmp(sub, "/txs", 4) && b->txs) {
		unsigned long start = 0;
		json_t *a;

		if ((sub[4] == '/' && !path_number(sub + 5, &start)) || (sub[4] && sub[4] != '/'))
			goto bad;
		a = json_array();

		for (size_t i = start; i < b->n_tx && i < start + 25; i++)
			json_array_append_new(a, tx_json(c, b->txs[i], false));
		reply_json(res, a);
	} else if (!strncmp(sub, "/txid/", 6) && b->txs) {
		unsigned long i;
		char s[65];

		if (!path_number(sub + 6, &i) || i >= b->n_tx)
			goto bad;
		al_txid_to_hex(s, b->txs[i]->txid);
		reply_text(res, s);
	} else {
		al_httpd_res_text(res, 404, "not found");
	}
	return;
bad:
	al_httpd_res_text(res, 400, "Invalid hex string");
}

/* GET /blocks[/:start_height]: the 10 newest blocks from the tip or from start_height,
 * each as GET /block/:hash gives it. */
static void route_blocks(dc_chain *c, const char *sub, al_httpd_res *res)
{
	unsigned long h = dc_tip(c)->height;
	json_t *a;

	if (*sub) {
		if (sub[0] != '/' || sub[1] < '0' || sub[1] > '9') {
			al_httpd_res_text(res, 404, "not found");
			return;
		}
		if (!path_number(sub + 1, &h) || h >= c->n_blocks) {
			al_httpd_res_text(res, 404, "Block not found");
			return;
		}
	}
	a = json_array();
	for (unsigned long i = 0; i < 10; i++) {
		json_array_append_new(a, block_json(c->blocks[h - i]));
		if (h == i)
			break;
	}
	reply_json(res, a);
}

/* ---- addresses and script hashes ---------------------------------------------------- */

typedef struct script_q {
	uint8_t script[AL_SEGWIT_SCRIPT_MAXLEN + 32];
	size_t len;
	uint8_t sh[32]; /* sha256 of the script, when queried by script hash */
	bool by_hash;
} script_q;

static bool out_matches(const script_q *q, const al_tx_out *o)
{
	uint8_t h[32];

	if (q->by_hash) {
		al_sha256(h, o->script.p, o->script.len);
		return memcmp(h, q->sh, 32) == 0;
	}
	return o->script.len == q->len && memcmp(o->script.p, q->script, q->len) == 0;
}

/* Transactions touching the script: funding it, or spending an output that did. */
static bool tx_touches(const dc_chain *c, const dc_tx *t, const script_q *q)
{
	for (size_t i = 0; i < t->tx.n_out; i++) {
		if (out_matches(q, &t->tx.out[i]))
			return true;
	}
	for (size_t i = 0; !t->coinbase && i < t->tx.n_in; i++) {
		const dc_tx *p = dc_tx_by_id(c, t->tx.in[i].txid);

		if (p && t->tx.in[i].vout < p->tx.n_out &&
		    out_matches(q, &p->tx.out[t->tx.in[i].vout]))
			return true;
	}
	return false;
}

static json_t *stats_json(const dc_chain *c, const script_q *q, bool mempool)
{
	uint64_t ftc = 0, fts = 0, stc = 0, sts = 0, txc = 0;
	json_t *j = json_object();

	for (size_t bi = 0; bi < c->txs.nb; bi++) {
		for (dc_map_node *nd = c->txs.b[bi]; nd; nd = nd->next) {
			const dc_tx *t = nd->val;

			if ((t->block != NULL) == mempool || !tx_touches(c, t, q))
				continue;
			txc++;
			for (size_t i = 0; i < t->tx.n_out; i++) {
				if (out_matches(q, &t->tx.out[i])) {
					ftc++;
					fts += t->tx.out[i].amount.sat;
				}
			}
			for (size_t i = 0; !t->coinbase && i < t->tx.n_in; i++) {
				const dc_tx *p = dc_tx_by_id(c, t->tx.in[i].txid);
				uint32_t v = t->tx.in[i].vout;

				if (p && v < p->tx.n_out && out_matches(q, &p->tx.out[v])) {
					stc++;
					sts += p->tx.out[v].amount.sat;
				}
			}
		}
	}
	json_object_set_new(j, "funded_txo_count", json_integer((json_int_t)ftc));
	json_object_set_new(j, "funded_txo_sum", json_integer((json_int_t)fts));
	json_object_set_new(j, "spent_txo_count", json_integer((json_int_t)stc));
	json_object_set_new(j, "spent_txo_sum", json_integer((json_int_t)sts));
	json_object_set_new(j, "tx_count", json_integer((json_int_t)txc));
	return j;
}

static int cmp_newest(const void *a, const void *b)
{
	const dc_tx *x = *(dc_tx *const *)a, *y = *(dc_tx *const *)b;
	uint64_t kx = x->block ? x->block->height : UINT32_MAX,
	         ky = y->block ? y->block->height : UINT32_MAX;

	if (kx != ky)
		return kx > ky ? -1 : 1;
	if (x->block)
		return x->pos > y->pos ? -1 : x->pos < y->pos;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* Transactions touching the script, newest first (mempool, then by height and position). */
static size_t touching(const dc_chain *c, const script_q *q, dc_tx ***out)
{
	dc_tx **list = NULL;
	size_t n = 0, cap = 0;

	for (size_t bi = 0; bi < c->txs.nb; bi++) {
		for (dc_map_node *nd = c->txs.b[bi]; nd; nd = nd->next) {
			if (!tx_touches(c, nd->val, q))
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				list = realloc(list, cap * sizeof(*list));
			}
			list[n++] = nd->val;
		}
	}
	if (n)
		qsort(list, n, sizeof(*list), cmp_newest);
	*out = list;
	return n;
}

/* Esplora's page sizes: 50 mempool transactions, 25 confirmed ones per page. */
#define MEMPOOL_TXS_MAX 50
#define CHAIN_TXS_PAGE  25

static void address_txs(const dc_chain *c, const script_q *q, al_httpd_res *res)
{
	dc_tx **list;
	size_t n = touching(c, q, &list), confirmed = 0, mem = 0;
	json_t *a = json_array();

	/* Up to 50 mempool transactions, then the 25 newest confirmed ones. */
	for (size_t i = 0; i < n; i++) {
		if (list[i]->block ? confirmed++ >= CHAIN_TXS_PAGE : mem++ >= MEMPOOL_TXS_MAX)
			continue;
		json_array_append_new(a, tx_json(c, list[i], true));
	}
	free(list);
	reply_json(res, a);
}

/* GET .../txs/chain[/:last_seen_txid]: confirmed history, 25 per page after the last
 * txid seen (as electrs: an unknown last_seen_txid gives an empty page). */
static void address_txs_chain(const dc_chain *c, const script_q *q, const uint8_t *last_seen,
                              al_httpd_res *res)
{
	dc_tx **list;
	size_t n = touching(c, q, &list), taken = 0;
	bool skipping = last_seen != NULL;
	json_t *a = json_array();

	for (size_t i = 0; i < n && taken < CHAIN_TXS_PAGE; i++) {
		if (!list[i]->block)
			continue;
		if (skipping) {
			skipping = memcmp(list[i]->txid, last_seen, 32) != 0;
			continue;
		}
		json_array_append_new(a, tx_json(c, list[i], true));
		taken++;
	}
	free(list);
	reply_json(res, a);
}

/* GET .../txs/mempool: unconfirmed history, up to 50, no paging. */
static void address_txs_mempool(const dc_chain *c, const script_q *q, al_httpd_res *res)
{
	dc_tx **list;
	size_t n = touching(c, q, &list), taken = 0;
	json_t *a = json_array();

	for (size_t i = 0; i < n && taken < MEMPOOL_TXS_MAX; i++) {
		if (list[i]->block)
			continue;
		json_array_append_new(a, tx_json(c, list[i], true));
		taken++;
	}
	free(list);
	reply_json(res, a);
}

static void address_utxo(const dc_chain *c, const script_q *q, al_httpd_res *res)
{
	json_t *a = json_array();

	for (size_t bi = 0; bi < c->txs.nb; bi++) {
		for (dc_map_node *nd = c->txs.b[bi]; nd; nd = nd->next) {
			const dc_tx *t = nd->val;

			for (uint32_t v = 0; v < t->tx.n_out; v++) {
				json_t *u;

				if (!out_matches(q, &t->tx.out[v]) || dc_spender(c, t->txid, v))
					continue;
				u = json_object();
				json_object_set_new(u, "txid", dc_json_hash(t->txid));
				json_object_set_new(u, "vout", json_integer(v));
				json_object_set_new(u, "status", tx_status(t));
				json_object_set_new(
				    u, "value", json_integer((json_int_t)t->tx.out[v].amount.sat));
				json_array_append_new(a, u);
			}
		}
	}
	reply_json(res, a);
}

/* Decode an address (segwit, or base58 P2PKH/P2SH) for regtest into its script. */
static bool address_script(script_q *q, const char *addr)
{
	uint8_t prog[AL_WITPROG_MAX], payload[32];
	unsigned ver;
	size_t plen;
	al_wb w;

	memset(q, 0, sizeof(*q));
	if (al_segwit_addr_decode(&ver, prog, &plen, AL_NET_REGTEST, addr, strlen(addr)) == AL_OK)
		return al_segwit_script(q->script, sizeof(q->script), &q->len, ver, prog, plen) ==
		       AL_OK;
	if (al_b58check_decode(payload, sizeof(payload), &plen, addr, strlen(addr)) != AL_OK ||
	    plen != 21)
		return false;
	al_wb_init(&w, q->script, sizeof(q->script));
	if (payload[0] == 0x6f)
		al_script_p2pkh(&w, payload + 1);
	else if (payload[0] == 0xc4)
		al_script_p2sh(&w, payload + 1);
	else
		return false;
	q->len = w.len;
	return al_wb_ok(&w);
}

static void route_script(dc_chain *c, const char *rest, bool by_hash, al_httpd_res *res)
{
	char key[128];
	const char *slash = strchr(rest, '/');
	size_t klen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *sub = slash ? slash : "";
	script_q q;
	json_t *j;

	if (klen == 0 || klen >= sizeof(key))
		goto bad;
	memcpy(key, rest, klen);
	key[klen] = 0;
	memset(&q, 0, sizeof(q));
	if (by_hash) {
		/* Esplora's script hash: SHA-256 of the scriptPubKey, hex in natural order. */
		if (al_hex_decode_exact(q.sh, 32, key) != AL_OK)
			goto bad;
		q.by_hash = true;
	} else if (!address_script(&q, key)) {
		goto bad;
	}
	if (!*sub) {
		j = json_object();
		json_object_set_new(j, by_hash ? "scripthash" : "address", json_string(key));
		json_object_set_new(j, "chain_stats", stats_json(c, &q, false));
		json_object_set_new(j, "mempool_stats", stats_json(c, &q, true));
		reply_json(res, j);
	} else if (!strcmp(sub, "/txs")) {
		address_txs(c, &q, res);
	} else if (!strcmp(sub, "/txs/mempool")) {
		address_txs_mempool(c, &q, res);
	} else if (!strcmp(sub, "/txs/chain")) {
		address_txs_chain(c, &q, NULL, res);
	} else if (!strncmp(sub, "/txs/chain/", 11)) {
		uint8_t last[32];

		if (strlen(sub + 11) != 64 || al_txid_from_hex(last, sub + 11) != AL_OK) {
			al_httpd_res_text(res, 400, "Invalid hex string");
			return;
		}
		address_txs_chain(c, &q, last, res);
	} else if (!strcmp(sub, "/utxo")) {
		address_utxo(c, &q, res);
	} else {
		al_httpd_res_text(res, 404, "not found");
	}
	return;
bad:
	al_httpd_res_text(res, 400, by_hash ? "Invalid scripthash" : "Invalid Bitcoin address");
}

/* ---- mempool and fees -------------------------------------------------------------- */

static void route_mempool(dc_chain *c, const char *sub, al_httpd_res *res)
{
	uint64_t vsize = 0, fee = 0;
	json_t *j;

	if (!strcmp(sub, "/txids")) {
		j = json_array();
		for (size_t i = 0; i < c->n_mempool; i++)
			json_array_append_new(j, dc_json_hash(c->mempool[i]->txid));
		reply_json(res, j);
		return;
	}
	j = json_object();
	for (size_t i = 0; i < c->n_mempool; i++) {
		vsize += al_tx_vsize(&c->mempool[i]->tx);
		fee += c->mempool[i]->fee;
	}
	json_object_set_new(j, "count", json_integer((json_int_t)c->n_mempool));
	json_object_set_new(j, "vsize", json_integer((json_int_t)vsize));
	json_object_set_new(j, "total_fee", json_integer((json_int_t)fee));
	json_object_set_new(j, "fee_histogram", json_array());
	reply_json(res, j);
}

/* Estimates from the mempool (dc_fee_rate). */
static void fee_estimates(dc_chain *c, al_httpd_res *res)
{
	static const int targets[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,  13,  14,
	                              15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 144, 504, 1008};
	json_t *j = json_object();

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		char k[8];

		snprintf(k, sizeof(k), "%d", targets[i]);
		json_object_set_new(j, k, json_real(dc_fee_rate(c, (unsigned)targets[i])));
	}
	reply_json(res, j);
}

/* ---- POST -------------------------------------------------------------------------- */

static void reply_reject(al_httpd_res *res, const dc_reject *rej)
{
	json_t *e = json_object();
	char *s;

	json_object_set_new(e, "code", json_integer(rej->code));
	json_object_set_new(e, "message", json_string(rej->msg));
	s = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	al_httpd_res_status(res, 400);
	if (al_httpd_res_header(res, "Content-Type", "text/plain") != AL_OK ||
	    al_httpd_res_printf(res, "sendrawtransaction RPC error: %s", s) != AL_OK)
		al_httpd_res_text(res, 500, "response failed");
	free(s);
}

static void post_tx(dc_chain *c, const al_httpd_req *req, al_httpd_res *res)
{
	size_t n = req->body_len, len;
	char *hex = malloc(n + 1);
	uint8_t *raw = malloc(n / 2 + 1), txid[32];
	dc_reject rej = {0};
	char id[65];

	memcpy(hex, req->body, n);
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' '))
		n--;
	hex[n] = 0;
	if (al_hex_decode(raw, n / 2 + 1, &len, hex, n) != AL_OK) {
		rej.code = -22;
		snprintf(rej.msg, sizeof(rej.msg), "TX decode failed");
		reply_reject(res, &rej);
	} else if (!dc_submit(c, raw, len, txid, &rej)) {
		reply_reject(res, &rej);
	} else {
		al_txid_to_hex(id, txid);
		reply_text(res, id);
	}
	free(hex);
	free(raw);
}

static json_t *parse_body(const al_httpd_req *req, al_httpd_res *res)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)req->body, req->body_len, 0, &err);

	if (!j || !json_is_object(j)) {
		json_decref(j);
		al_httpd_res_text(res, 400, "expected a JSON object");
		return NULL;
	}
	return j;
}

static void post_mine(dc_chain *c, const al_httpd_req *req, al_httpd_res *res)
{
	json_t *j = parse_body(req, res), *a;
	json_int_t n;
	const char *addr;
	script_q q;
	uint8_t(*hashes)[32];

	if (!j)
		return;
	n = json_integer_value(json_object_get(j, "blocks"));
	addr = json_string_value(json_object_get(j, "address"));
	if (n < 1 || n > 10000) {
		al_httpd_res_text(res, 400, "blocks must be between 1 and 10000");
	} else if (addr ? !address_script(&q, addr) : false) {
		al_httpd_res_text(res, 400, "Invalid Bitcoin address");
	} else {
		if (!addr) {
			memcpy(q.script, c->faucet_script, sizeof(c->faucet_script));
			q.len = sizeof(c->faucet_script);
		}
		hashes = malloc((size_t)n * 32);
		if (!dc_mine(c, (unsigned)n, q.script, q.len, hashes)) {
			al_httpd_res_text(res, 500, "mining failed");
		} else {
			a = json_array();
			for (json_int_t i = 0; i < n; i++)
				json_array_append_new(a, dc_json_hash(hashes[i]));
			reply_json(res, a);
		}
		free(hashes);
	}
	json_decref(j);
}

static void post_faucet(dc_chain *c, const al_httpd_req *req, al_httpd_res *res)
{
	json_t *j = parse_body(req, res);
	json_int_t amount;
	const char *addr;
	script_q q;
	uint8_t txid[32];
	dc_reject rej = {0};
	char id[65];

	if (!j)
		return;
	amount = json_integer_value(json_object_get(j, "amount_sat"));
	addr = json_string_value(json_object_get(j, "address"));
	if (!addr || !address_script(&q, addr)) {
		al_httpd_res_text(res, 400, "Invalid Bitcoin address");
	} else if (amount <= 0 || (uint64_t)amount > 100000000000ULL) {
		al_httpd_res_text(res, 400, "amount_sat must be between 1 and 100000000000");
	} else if (!dc_faucet(c, q.script, q.len, (uint64_t)amount, txid, &rej)) {
		reply_reject(res, &rej);
	} else {
		al_txid_to_hex(id, txid);
		reply_text(res, id);
	}
	json_decref(j);
}

static void post_reorg(dc_chain *c, const al_httpd_req *req, al_httpd_res *res)
{
	json_t *j = parse_body(req, res), *out;
	json_int_t depth;
	dc_block *old;

	if (!j)
		return;
	depth = json_integer_value(json_object_get(j, "depth"));
	old = dc_tip(c);
	if (depth < 1 || (size_t)depth >= c->n_blocks) {
		al_httpd_res_text(res, 400, "depth must be between 1 and the tip height");
	} else if (!dc_reorg(c, (unsigned)depth)) {
		al_httpd_res_text(res, 500, "reorg failed");
	} else {
		out = json_object();
		json_object_set_new(out, "old_tip", dc_json_hash(old->hash));
		json_object_set_new(out, "new_tip", dc_json_hash(dc_tip(c)->hash));
		json_object_set_new(out, "height", json_integer(dc_tip(c)->height));
		reply_json(res, out);
	}
	json_decref(j);
}

/* ---- routing ------------------------------------------------------------------------ */

static void route_get(dc_chain *c, const char *p, al_httpd_res *res)
{
	char s[65];

	if (!strcmp(p, "/blocks/tip/height")) {
		snprintf(s, sizeof(s), "%u", dc_tip(c)->height);
		reply_text(res, s);
	} else if (!strcmp(p, "/blocks/tip/hash")) {
		al_txid_to_hex(s, dc_tip(c)->hash);
		reply_text(res, s);
	} else if (!strcmp(p, "/blocks") || !strncmp(p, "/blocks/", 8)) {
		route_blocks(c, p + 7, res);
	} else if (!strncmp(p, "/block-height/", 14)) {
		unsigned long h;

		if (!path_number(p + 14, &h) || h >= c->n_blocks) {
			al_httpd_res_text(res, 404, "Block not found");
			return;
		}
		al_txid_to_hex(s, c->blocks[h]->hash);
		reply_text(res, s);
	} else if (!strncmp(p, "/block/", 7)) {
		route_block(c, p + 7, res);
	} else if (!strncmp(p, "/tx/", 4)) {
		route_tx(c, p + 4, res);
	} else if (!strncmp(p, "/address/", 9)) {
		route_script(c, p + 9, false, res);
	} else if (!strncmp(p, "/scripthash/", 12)) {
		route_script(c, p + 12, true, res);
	} else if (!strcmp(p, "/mempool") || !strcmp(p, "/mempool/txids")) {
		route_mempool(c, p + 8, res);
	} else if (!strcmp(p, "/fee-estimates")) {
		fee_estimates(c, res);
	} else {
		al_httpd_res_text(res, 404, "not found");
	}
}

void dc_http_handler(void *arg, const struct al_httpd_req *req, struct al_httpd_res *res)
{
	dc_chain *c = arg;
	const char *p = req->path;

	/* Esplora deployments often sit under /api; accept both. */
	if (!strncmp(p, "/api/", 5))
		p += 4;
	if (!strcmp(req->method, "GET")) {
		route_get(c, p, res);
	} else if (!strcmp(req->method, "POST")) {
		if (!strcmp(p, "/tx"))
			post_tx(c, req, res);
		else if (!strcmp(p, "/mine"))
			post_mine(c, req, res);
		else if (!strcmp(p, "/faucet"))
			post_faucet(c, req, res);
		else if (!strcmp(p, "/reorg"))
			post_reorg(c, req, res);
		else
			al_httpd_res_text(res, 404, "not found");
	} else {
		al_httpd_res_text(res, 405, "method not allowed");
	}
}
