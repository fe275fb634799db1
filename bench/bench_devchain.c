/* Validation throughput of alight-devchain: what POST /tx costs per P2WPKH spend before
 * the mempool insert (the chain's own indexes are host hash tables and not measured). */
#include "bench_devchain.h"

#include <string.h>

#include "btc/script.h"
#include "btc/sighash.h"
#include "btc/tx.h"
#include "chain/txcheck.h"
#include "crypto/hash.h"

struct dv_ctx {
	const al_secp *secp;
	al_arena arena;
	uint8_t raw[256];
	size_t len;
	uint8_t prev_txid[32];
	uint8_t spk[22];
};

static _Alignas(16) uint8_t heap[1 << 18];

static bool dv_coin(void *arg, const uint8_t txid[32], uint32_t vout, al_coin *out)
{
	struct dv_ctx *c = arg;

	if (vout != 0 || memcmp(txid, c->prev_txid, 32) != 0)
		return false;
	out->out.amount = al_sat_of(100000);
	out->out.script = (al_bytes){c->spk, sizeof(c->spk)};
	out->height = 10;
	out->coinbase = false;
	return true;
}

static uint32_t dv_mtp(void *arg, uint32_t height)
{
	return 1700000000 + height;
}

static int op_validate(void *arg)
{
	struct dv_ctx *c = arg;
	al_txcheck_view v = {dv_coin, dv_mtp, c, 200};
	al_txcheck_result r;
	size_t mark = al_arena_mark(&c->arena);
	uint8_t txid[32];
	al_tx tx;
	int rc = 1;

	if (al_tx_parse(&tx, &c->arena, c->raw, c->len) == AL_OK) {
		al_tx_txid(&tx, txid);
		if (al_tx_check_mempool(c->secp, &tx, &v, &c->arena, &r) == AL_OK)
			rc = 0;
	}
	al_arena_release(&c->arena, mark);
	return rc;
}

/* One signed P2WPKH spend of the view's coin. */
static int build_spend(struct dv_ctx *c)
{
	uint8_t pub[33], h160[20], code[25], digest[32], der[73];
	al_privkey key;
	al_pubkey pk;
	al_ecdsa_sig sig;
	al_bytes items[2];
	size_t dl = 72;
	al_tx tx;
	al_wb w;

	memset(key.k, 0x42, 32);
	al_sha256(c->prev_txid, "bench devchain", 14);
	if (al_pubkey_from_privkey(c->secp, &pk, &key) != AL_OK)
		return -1;
	al_pubkey_serialize(c->secp, pub, &pk);
	al_hash160(h160, pub, 33);
	al_wb_init(&w, c->spk, sizeof(c->spk));
	al_script_p2wpkh(&w, h160);
	if (al_tx_init(&tx, &c->arena, 2, 0, 1, 2) != AL_OK ||
	    al_tx_add_input(&tx, c->prev_txid, 0, 0xfffffffd) != AL_OK ||
	    al_tx_add_output(&tx, al_sat_of(60000), c->spk, sizeof(c->spk)) != AL_OK ||
	    al_tx_add_output(&tx, al_sat_of(39000), c->spk, sizeof(c->spk)) != AL_OK)
		return -1;
	al_wb_init(&w, code, sizeof(code));
	al_script_p2wpkh_scriptcode(&w, h160);
	if (al_sighash_segwit_v0(digest, &tx, 0, code, w.len, al_sat_of(100000), AL_SIGHASH_ALL) !=
	        AL_OK ||
	    al_ecdsa_sign(c->secp, &sig, digest, &key) != AL_OK ||
	    al_ecdsa_sig_serialize_der(c->secp, der, &dl, &sig) != AL_OK)
		return -1;
	al_privkey_clear(&key);
	der[dl] = AL_SIGHASH_ALL;
	items[0] = (al_bytes){der, dl + 1};
	items[1] = (al_bytes){pub, 33};
	if (al_tx_set_witness(&tx, &c->arena, 0, items, 2) != AL_OK)
		return -1;
	al_wb_init(&w, c->raw, sizeof(c->raw));
	al_tx_write(&w, &tx, true);
	c->len = w.len;
	return al_wb_ok(&w) ? 0 : -1;
}

double bench_devchain_validation_rate(const al_secp *secp, bench_rate_fn rate)
{
	static struct dv_ctx c;

	memset(&c, 0, sizeof(c));
	c.secp = secp;
	al_arena_init(&c.arena, heap, sizeof(heap));
	if (build_spend(&c) != 0)
		return -1;
	al_arena_init(&c.arena, heap, sizeof(heap));
	if (op_validate(&c) != 0)
		return -1;
	return rate(op_validate, &c, 64);
}
