/* blockchain.transaction.get(tx_hash, verbose=true): the object Bitcoin Core v25's
 * getrawtransaction gives with verbosity 1 (see electrum.h; "asm" and "desc" are left
 * out). */

#include "btc/address.h"
#include "btc/tx.h"
#include "electrum.h"

/* Core's GetTxnOutputType names (script/solver.cpp). */
static const char *core_type(const uint8_t *s, size_t n)
{
	static const char *const names[DC_SPK_N] = {
	    [DC_SPK_P2PKH] = "pubkeyhash",
	    [DC_SPK_P2SH] = "scripthash",
	    [DC_SPK_P2WPKH] = "witness_v0_keyhash",
	    [DC_SPK_P2WSH] = "witness_v0_scripthash",
	    [DC_SPK_P2TR] = "witness_v1_taproot",
	    [DC_SPK_WITNESS_V0_OTHER] = "nonstandard",
	    [DC_SPK_WITNESS_FUTURE] = "witness_unknown",
	    [DC_SPK_P2PK] = "pubkey",
	    [DC_SPK_OP_RETURN] = "nulldata",
	    [DC_SPK_EMPTY] = "nonstandard",
	    [DC_SPK_OTHER] = "nonstandard",
	};

	return names[dc_script_kind(s, n)];
}

static json_t *witness_json(const al_tx_in *in)
{
	json_t *w = json_array();

	for (size_t k = 0; k < in->n_witness; k++)
		json_array_append_new(w, dc_json_hex(in->witness[k].p, in->witness[k].len));
	return w;
}

static json_t *vin_json(const dc_tx *t, size_t i)
{
	const al_tx_in *in = &t->tx.in[i];
	json_t *j = json_object(), *ss;

	if (t->coinbase) {
		json_object_set_new(j, "coinbase",
		                    dc_json_hex(in->script_sig.p, in->script_sig.len));
	} else {
		json_object_set_new(j, "txid", dc_json_hash(in->txid));
		json_object_set_new(j, "vout", json_integer(in->vout));
		ss = json_object();
		json_object_set_new(ss, "hex", dc_json_hex(in->script_sig.p, in->script_sig.len));
		json_object_set_new(j, "scriptSig", ss);
	}
	if (in->n_witness)
		json_object_set_new(j, "txinwitness", witness_json(in));
	json_object_set_new(j, "sequence", json_integer(in->sequence));
	return j;
}

static json_t *vout_json(const al_tx_out *o, uint32_t n)
{
	json_t *j = json_object(), *spk = json_object();
	char addr[AL_SEGWIT_ADDR_BUFLEN];

	/* Core prints the amount in BTC (ValueFromAmount). */
	json_object_set_new(j, "value", json_real((double)o->amount.sat / 1e8));
	json_object_set_new(j, "n", json_integer(n));
	json_object_set_new(spk, "hex", dc_json_hex(o->script.p, o->script.len));
	if (dc_script_address(addr, sizeof(addr), o->script.p, o->script.len))
		json_object_set_new(spk, "address", json_string(addr));
	json_object_set_new(spk, "type", json_string(core_type(o->script.p, o->script.len)));
	json_object_set_new(j, "scriptPubKey", spk);
	return j;
}

json_t *el_tx_verbose(const dc_chain *c, const dc_tx *t)
{
	json_t *j = json_object(), *vin = json_array(), *vout = json_array();
	uint8_t wtxid[32];

	al_tx_wtxid(&t->tx, wtxid);
	json_object_set_new(j, "txid", dc_json_hash(t->txid));
	json_object_set_new(j, "hash", dc_json_hash(wtxid));
	json_object_set_new(j, "version", json_integer(t->tx.version));
	json_object_set_new(j, "size", json_integer((json_int_t)t->len));
	json_object_set_new(j, "vsize", json_integer((json_int_t)al_tx_vsize(&t->tx)));
	json_object_set_new(j, "weight", json_integer((json_int_t)al_tx_weight(&t->tx)));
	json_object_set_new(j, "locktime", json_integer(t->tx.locktime));
	for (size_t i = 0; i < t->tx.n_in; i++)
		json_array_append_new(vin, vin_json(t, i));
	for (uint32_t i = 0; i < t->tx.n_out; i++)
		json_array_append_new(vout, vout_json(&t->tx.out[i], i));
	json_object_set_new(j, "vin", vin);
	json_object_set_new(j, "vout", vout);
	json_object_set_new(j, "hex", dc_json_hex(t->raw, t->len));
	if (t->block) {
		json_object_set_new(j, "blockhash", dc_json_hash(t->block->hash));
		json_object_set_new(j, "confirmations",
		                    json_integer(dc_tip(c)->height - t->block->height + 1));
		json_object_set_new(j, "time", json_integer(t->block->hdr.time));
		json_object_set_new(j, "blocktime", json_integer(t->block->hdr.time));
	}
	return j;
}
