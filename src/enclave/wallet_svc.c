/* The on-chain wallet inside the enclave (see wallet_svc.h). */
#include "enclave/wallet_svc.h"

#include <stdlib.h>
#include <string.h>

#include "btc/address.h"
#include "btc/bip39.h"
#include "btc/interp.h"
#include "chain/block.h"
#include "crypto/mem.h"
#include "host/chain_client.h"
#include "wallet/wallet.h"

#define SVC_NS        "wallet"
#define SVC_KEY       "state"
#define SVC_STATE_MAX (8u << 20)
/* The fee-estimate target (blocks) for sends. */
#define SVC_FEE_TARGET 6

struct al_wallet_svc {
	const al_secp *secp;
	al_net net;
	al_sync sync;
	al_wallet wallet;
	al_arena arena, scratch, kv_scratch;
	uint8_t *mem, *scratch_mem, *kv_mem, *state;
	al_kv kv;
	int64_t version; /* of the persisted state, 0 if none */
	al_chain_client *client;
	bool wallet_ok, kv_ok;
};

static void sync_config(al_sync_config *cfg, al_net net)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->net = net;
	al_genesis_header(&cfg->checkpoint, net);
	cfg->checkpoint_height = 0;
	cfg->max_headers = 20000;
	cfg->max_new_headers = 20000;
	cfg->max_txs = 4096;
	cfg->max_outputs = 64;
	cfg->max_scripts = 2 * AL_WALLET_MAX_INDEX + 16;
	cfg->raw_cap = 4u << 20;
}

static al_err alloc_all(al_wallet_svc *s, const al_sync_config *cfg)
{
	size_t n = al_sync_mem_size(cfg) + al_wallet_mem_size() + 4096;
	size_t sn = al_interp_scratch_size() + (4u << 20);
	size_t kn = SVC_STATE_MAX + (1u << 20);

	s->mem = malloc(n);
	s->scratch_mem = malloc(sn);
	s->kv_mem = malloc(kn);
	s->state = malloc(SVC_STATE_MAX);
	if (!s->mem || !s->scratch_mem || !s->kv_mem || !s->state)
		return AL_E_NOMEM;
	al_arena_init(&s->arena, s->mem, n);
	al_arena_init(&s->scratch, s->scratch_mem, sn);
	al_arena_init(&s->kv_scratch, s->kv_mem, kn);
	return AL_OK;
}

static al_err load_state(al_wallet_svc *s)
{
	size_t len;
	al_err e =
	    al_kv_get(&s->kv, s->state, SVC_STATE_MAX, &len, &s->version, SVC_NS, SVC_KEY, 0);

	if (e == AL_E_STORE_NOT_FOUND) {
		s->version = 0;
		return AL_OK;
	}
	AL_TRY(e);
	return al_wallet_load(&s->wallet, s->state, len);
}

static al_err save_state(al_wallet_svc *s)
{
	al_wb w;

	al_wb_init(&w, s->state, SVC_STATE_MAX);
	al_wallet_save(&s->wallet, &w);
	if (!al_wb_ok(&w))
		return AL_E_BUFSIZE;
	AL_TRY(al_kv_put(&s->kv, SVC_NS, SVC_KEY, s->state, w.len, s->version));
	s->version = al_kv_version_after(s->version);
	return AL_OK;
}

al_err al_wallet_svc_open(al_wallet_svc **out, const al_secp *secp, al_net net,
                          const uint8_t seed[AL_BIP39_SEED_LEN], const char *esplora_url,
                          const al_wallet_svc_env *env)
{
	al_sync_config sc;
	al_wallet_svc *s;
	al_err e;

	if (net != AL_NET_REGTEST)
		return AL_E_ARG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return AL_E_NOMEM;
	s->secp = secp;
	s->net = net;
	sync_config(&sc, net);
	e = alloc_all(s, &sc);
	if (e == AL_OK)
		e = al_sync_init(&s->sync, &s->arena, &sc);
	if (e == AL_OK)
		e = al_wallet_init(&s->wallet, secp, &s->arena, &s->scratch, &s->sync, net, seed,
		                   AL_BIP39_SEED_LEN);
	s->wallet_ok = e == AL_OK;
	if (e == AL_OK)
		e = al_kv_init(&s->kv, env->be, env->be_ctx, &s->kv_scratch, env->rng, seed,
		               AL_BIP39_SEED_LEN, 0);
	s->kv_ok = e == AL_OK;
	if (e == AL_OK)
		e = load_state(s);
	if (e == AL_OK)
		e = al_chain_client_new_over(&s->client, esplora_url, env->http, env->transport);
	if (e != AL_OK) {
		al_wallet_svc_close(s);
		return e;
	}
	*out = s;
	return AL_OK;
}

void al_wallet_svc_close(al_wallet_svc *s)
{
	if (!s)
		return;
	al_chain_client_free(s->client);
	if (s->kv_ok)
		al_kv_clear(&s->kv);
	if (s->wallet_ok)
		al_wallet_clear(&s->wallet);
	if (s->scratch_mem)
		al_memzero(s->scratch_mem, s->scratch.cap);
	free(s->mem);
	free(s->scratch_mem);
	free(s->kv_mem);
	free(s->state);
	free(s);
}

/* ---- JSON ------------------------------------------------------------------------------ */

/* "<what e means>: <detail>" (or without the detail), truncated to the buffer. */
static void cat(char *msg, size_t cap, size_t *n, const char *s)
{
	while (*s && *n + 1 < cap)
		msg[(*n)++] = *s++;
	msg[*n] = 0;
}

static json_t *err_obj(al_err e, const char *detail)
{
	char msg[512];
	size_t n = 0;

	cat(msg, sizeof(msg), &n, al_err_str(e));
	if (detail && *detail) {
		cat(msg, sizeof(msg), &n, ": ");
		cat(msg, sizeof(msg), &n, detail);
	}
	return json_pack("{s:s,s:s}", "code", al_err_name(e), "message", msg);
}

static json_t *fail(al_err *err, al_err e, const char *detail)
{
	*err = e;
	return json_pack("{s:o}", "error", err_obj(e, detail));
}

static const char *net_detail(al_wallet_svc *s, al_err e)
{
	return e >= AL_E_NET_RESOLVE && e <= AL_E_NET_FILE ? al_chain_client_detail(s->client) : "";
}

static json_t *hash_json(const uint8_t h[32])
{
	char hex[65];

	al_txid_to_hex(hex, h);
	return json_string(hex);
}

static al_err do_sync(al_wallet_svc *s)
{
	al_err e = al_chain_client_sync_wallet(s->client, &s->wallet);

	if (e == AL_OK)
		e = save_state(s);
	return e;
}

static json_t *cmd_sync(al_wallet_svc *s)
{
	uint8_t tip[32];
	uint64_t req, bytes;

	al_sync_tip_hash(&s->sync, tip);
	al_chain_client_counters(s->client, &req, &bytes);
	return json_pack("{s:I,s:o,s:I,s:I}", "tip_height",
	                 (json_int_t)al_sync_tip_height(&s->sync), "tip_hash", hash_json(tip),
	                 "requests", (json_int_t)req, "bytes", (json_int_t)bytes);
}

static json_t *cmd_balance(al_wallet_svc *s)
{
	const al_wallet_balance *b = al_wallet_get_balance(&s->wallet);

	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "total_balance",
	                 (json_int_t)(b->confirmed.sat + b->unconfirmed.sat), "confirmed_balance",
	                 (json_int_t)b->confirmed.sat, "unconfirmed_balance",
	                 (json_int_t)b->unconfirmed.sat, "immature_balance",
	                 (json_int_t)b->immature.sat, "tip_height",
	                 (json_int_t)al_sync_tip_height(&s->sync));
}

static json_t *cmd_listfunds(al_wallet_svc *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < al_wallet_utxo_count(&s->wallet); i++) {
		const al_wallet_utxo *u = al_wallet_utxo_at(&s->wallet, i);
		char addr[AL_SEGWIT_ADDR_BUFLEN] = "";
		json_t *o;

		if (al_wallet_address(&s->wallet, addr, sizeof(addr), u->chain, u->index) != AL_OK)
			addr[0] = 0;
		o = json_pack("{s:o,s:I,s:I,s:s,s:s,s:I}", "txid", hash_json(u->txid), "output",
		              (json_int_t)u->vout, "amount_sat", (json_int_t)u->value.sat,
		              "address", addr, "status",
		              u->confirmations ? "confirmed" : "unconfirmed", "confirmations",
		              (json_int_t)u->confirmations);
		if (u->confirmations)
			json_object_set_new(o, "blockheight", json_integer(u->height));
		json_array_append_new(a, o);
	}
	return json_pack("{s:o}", "outputs", a);
}

static json_t *cmd_newaddress(al_wallet_svc *s, al_err *err)
{
	char addr[AL_SEGWIT_ADDR_BUFLEN];
	al_err e = al_wallet_new_address(&s->wallet, addr, sizeof(addr));

	if (e == AL_OK)
		e = save_state(s);
	if (e != AL_OK)
		return fail(err, e, NULL);
	return json_pack("{s:s}", "address", addr);
}

/* A decimal number that fits 64 bits: digits only. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Broadcast, then record and persist. */
static al_err publish(al_wallet_svc *s, const uint8_t *raw, size_t len, char *msg, size_t cap)
{
	AL_TRY(al_chain_client_broadcast(s->client, raw, len, msg, cap));
	AL_TRY(al_wallet_commit_tx(&s->wallet, raw, len));
	return save_state(s);
}

static json_t *cmd_send(al_wallet_svc *s, const char *addr, const char *amt, al_err *err)
{
	uint8_t prog[AL_WITPROG_MAX], script[AL_SEGWIT_SCRIPT_MAXLEN], txid[32];
	static uint8_t raw[400000];
	size_t plen, slen, len;
	unsigned ver;
	uint64_t sat, rate;
	char msg[512];
	al_sat fee;
	al_err e;

	e = al_segwit_addr_decode(&ver, prog, &plen, s->net, addr, strlen(addr));
	if (e == AL_OK)
		e = al_segwit_script(script, sizeof(script), &slen, ver, prog, plen);
	if (e != AL_OK)
		return fail(err, e, "address");
	if (!parse_u64(amt, &sat))
		return fail(err, AL_E_ARG, "amount");
	e = al_chain_client_fee(s->client, SVC_FEE_TARGET, &rate);
	/* The server's estimate is untrusted: clamped, and the fee caps apply. */
	if (e == AL_OK)
		e = al_wallet_send(&s->wallet, raw, sizeof(raw), &len, txid, &fee, script, slen,
		                   al_sat_of(sat), al_wallet_fee_clamp(&s->wallet.caps, rate),
		                   NULL);
	msg[0] = 0;
	if (e == AL_OK)
		e = publish(s, raw, len, msg, sizeof(msg));
	if (e != AL_OK)
		return fail(err, e, msg);
	return json_pack("{s:o,s:I}", "txid", hash_json(txid), "fee_sat", (json_int_t)fee.sat);
}

static json_t *cmd_bumpfee(al_wallet_svc *s, const char *id, const char *rate_s, al_err *err)
{
	static uint8_t raw[400000];
	uint8_t txid[32], new_txid[32];
	uint64_t rate;
	size_t len;
	char msg[512];
	al_sat fee;
	al_err e;

	if (al_txid_from_hex(txid, id) != AL_OK)
		return fail(err, AL_E_ARG, "txid");
	if (!parse_u64(rate_s, &rate) || rate == 0 || rate > AL_ESPLORA_MAX_FEERATE)
		return fail(err, AL_E_ARG, "sat_per_vbyte");
	e = al_wallet_bump_fee(&s->wallet, raw, sizeof(raw), &len, new_txid, &fee, txid,
	                       rate * 1000, NULL);
	msg[0] = 0;
	if (e == AL_OK)
		e = publish(s, raw, len, msg, sizeof(msg));
	if (e != AL_OK)
		return fail(err, e, msg);
	return json_pack("{s:o,s:o,s:I}", "txid", hash_json(new_txid), "replaces", hash_json(txid),
	                 "fee_sat", (json_int_t)fee.sat);
}

json_t *al_wallet_svc_call(al_wallet_svc *s, const char *cmd, const char *const *args,
                           size_t n_args, al_err *err)
{
	bool reads = !strcmp(cmd, "walletbalance") || !strcmp(cmd, "listfunds");
	al_err e;
	json_t *r;

	*err = AL_OK;
	if (!(reads || (!strcmp(cmd, "sync") && n_args == 0) ||
	      (!strcmp(cmd, "newaddress") && n_args == 0) ||
	      (!strcmp(cmd, "sendtoaddress") && n_args == 2) ||
	      (!strcmp(cmd, "bumpfee") && n_args == 2)) ||
	    (reads && n_args != 0))
		return fail(err, AL_E_ARG, "unknown command or wrong arguments");
	e = do_sync(s);
	if (e != AL_OK && !reads)
		return fail(err, e, net_detail(s, e));
	if (!strcmp(cmd, "sync"))
		return cmd_sync(s);
	if (!strcmp(cmd, "newaddress"))
		return cmd_newaddress(s, err);
	if (!strcmp(cmd, "sendtoaddress"))
		return cmd_send(s, args[0], args[1], err);
	if (!strcmp(cmd, "bumpfee"))
		return cmd_bumpfee(s, args[0], args[1], err);
	r = !strcmp(cmd, "walletbalance") ? cmd_balance(s) : cmd_listfunds(s);
	if (e != AL_OK)
		json_object_set_new(r, "sync_error", err_obj(e, net_detail(s, e)));
	return r;
}
