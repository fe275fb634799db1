/* blockchain.transaction.get(tx_hash, verbose=true): the object Bitcoin Core v25's
 * getrawtransaction gives with verbosity 1 (see electrum.h; "asm" and "desc" are left
 * out). */
#include <stdlib.h>
#include <string.h>

#include "btc/address.h"
#include "btc/script.h"
#include "btc/tx.h"
#include "electrum.h"
#include "util/hex.h"

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *j;

	if (!s || al_hex_encode(s, 2 * n + 1, p, n) != AL_OK)
		exit(1);
	j = json_stringn(s, 2 * n);
	free(s);
	return j;
}

static json_t *id_json(const uint8_t h[32])
{
	char s[65];

	al_txid_to_hex(s, h);
	return json_string(s);
}

/* Core's GetTxnOutputType names (script/solver.cpp). */
static const char *core_type(const uint8_t *s, size_t n)
{
	int ver;
	const uint8_t *prog;
	size_t plen;

	if (al_script_is_p2pkh(s, n, NULL))
		return "pubkeyhash";
	if (al_script_is_p2sh(s, n, NULL))
		return "scripthash";
	if (al_script_is_witness_program(s, n, &ver, &prog, &plen)) {
		if (ver == 0 && plen == 20)
			return "witness_v0_keyhash";
		if (ver == 0 && plen == 32)
			return "witness_v0_scripthash";
		if (ver == 1 && plen == 32)
			return "witness_v1_taproot";
		return ver == 0 ? "nonstandard" : "witness_unknown";
	}
	if ((n == 35 && s[0] == 33 && s[34] == AL_OP_CHECKSIG) ||
	    (n == 67 && s[0] == 65 && s[66] == AL_OP_CHECKSIG))
		return "pubkey";
	if (n >= 1 && s[0] == AL_OP_RETURN)
		return "nulldata";
	return "nonstandard";
}

static json_t *witness_json(const al_tx_in *in)
{
	json_t *w = json_array();

	for (size_t k = 0; k < in->n_witness; k++)
		json_array_append_new(w, hex_json(in->witness[k].p, in->witness[k].len));
	return w;
}

static json_t *vin_json(const dc_tx *t, size_t i)
{
	const al_tx_in *in = &t->tx.in[i];
	json_t *j = json_object(), *ss;

	if (t->coinbase) {
		json_object_set_new(j, "coinbase", hex_json(in->script_sig.p, in->script_sig.len));
	} else {
		json_object_set_new(j, "txid", id_json(in->txid));
		json_object_set_new(j, "vout", json_integer(in->vout));
		ss = json_object();
		json_object_set_new(ss, "hex", hex_json(in->script_sig.p, in->script_sig.len));
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
	json_object_set_new(spk, "hex", hex_json(o->script.p, o->script.len));
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
	json_object_set_new(j, "txid", id_json(t->txid));
	json_object_set_new(j, "hash", id_json(wtxid));
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
	json_object_set_new(j, "hex", hex_json(t->raw, t->len));
	if (t->block) {
		json_object_set_new(j, "blockhash", id_json(t->block->hash));
		json_object_set_new(j, "confirmations",
		                    json_integer(dc_tip(c)->height - t->block->height + 1));
		json_object_set_new(j, "time", json_integer(t->block->hdr.time));
		json_object_set_new(j, "blocktime", json_integer(t->block->hdr.time));
	}
	return j;
}
