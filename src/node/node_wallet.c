/* The node's on-chain wallet (wallet/wallet.h over chain/sync.h), driven by effects:
 * each command is a job that syncs with the user's chain server through FETCH effects
 * (the driver carries them over TLS that terminates inside the enclave), then acts,
 * persists, and answers once that is durable.
 *
 *   POST /v1/wallet/<command>   {"args":["...", ...]}   (body optional without args)
 *
 *   sync                              {"tip_height","tip_hash","requests","bytes"}
 *   newaddress                        {"address"}
 *   walletbalance                     {"total_balance","confirmed_balance",
 *                                      "unconfirmed_balance","immature_balance",
 *                                      "tip_height"} (LND's names, satoshis)
 *   listfunds                         {"outputs":[{"txid","output","amount_sat","address",
 *                                      "status","confirmations","blockheight"?}]}
 *   sendtoaddress <address> <sat>     {"txid","fee_sat"}
 *   bumpfee <txid> <sat_per_vbyte>    {"txid","replaces","fee_sat"}
 *
 * Every command syncs first. When that fails, walletbalance and listfunds still answer
 * from the last committed state with "sync_error":{"code","message"}; the others fail
 * with it. Errors are {"error":{"code":"AL_E_...","message"}}: 400 for wrong arguments,
 * 502 when the command failed. One job runs at a time; up to NODE_JOBQ wait.
 *
 * The header chain, scratch memory and fee estimates are the enclave's, shared by its
 * nodes (al_node_shared). A sync step that another node's step overtook (the shared
 * chain moved under it, or its header stage was taken) runs again, up to STEP_RETRIES
 * times. The wallet starts small and doubles its transaction table and their bytes
 * (saved, and opened again larger) when a step finds them full, up to 4,096
 * transactions and 4 MiB. */
#include <string.h>

#include "btc/address.h"
#include "btc/interp.h"
#include "chain/block.h"
#include "chain/esplora.h"
#include "crypto/hash.h"
#include "util/mem.h"
#include "node/api_parse.h"
#include "node/node_int.h"
#include "util/hex.h"
#include "wallet/wallet.h"

#define WALLET_STATE_MAX (8u << 20)
#define WALLET_TX_MAX    400000
/* The fee-estimate target (blocks) for sends. */
#define FEE_TARGET 6
/* Sync steps per command: the gap may need several rounds to find every address used. */
#define SYNC_ROUNDS 16
/* Steps run again per command when another node's step overtook them. */
#define STEP_RETRIES 8
/* Sizes: level k holds 64 << k transactions and 64 KiB << k of their bytes. A P2WPKH
 * payment is 140 to 230 bytes: 1 KiB per transaction leaves room for larger ones. */
#define LEVEL_MAX 6
#define LEVEL_TXS 64u
#define LEVEL_RAW (64u << 10)
/* Headers a step stages itself: a few blocks since the last step (more: the shared
 * chain's stage). */
#define OWN_HEADERS 32

enum phase { PH_IDLE = 0, PH_SYNC, PH_FEE, PH_BROADCAST };

/* The job in progress. */
struct job_state {
	enum phase phase;
	node_job job;
	uint64_t req; /* the FETCH in flight */
	int rounds, retries;
	al_err sync_err;
	char detail[160];
	uint8_t *tx; /* the transaction to broadcast (node_alloc) */
	size_t tx_len;
	uint8_t txid[32], replaces[32];
	al_sat fee;
	uint64_t requests, bytes;
};

struct node_wallet {
	al_sync sync;
	al_wallet wallet;
	al_arena arena;
	uint8_t *mem;
	size_t mem_len;
	unsigned level;
	bool wallet_ok;
	struct job_state js;
};

static al_arena *scratch_of(al_node *n)
{
	return &n->env.shared->scratch;
}

static void sync_config(al_sync_config *cfg, al_node *n, unsigned level)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->headers = al_node_shared_headers(n->env.shared);
	cfg->scratch = scratch_of(n);
	cfg->max_new_headers = OWN_HEADERS;
	cfg->max_txs = LEVEL_TXS << level;
	cfg->max_outputs = 64;
	cfg->max_scripts = 2 * AL_WALLET_MAX_INDEX + 16;
	cfg->raw_cap = (size_t)LEVEL_RAW << level;
}

static void wallet_free(al_node *n, struct node_wallet *w)
{
	if (w->wallet_ok)
		al_wallet_clear(&w->wallet);
	node_free(n, w->mem, w->mem_len);
	node_free(n, w, sizeof(*w));
}

void node_wallet_close(al_node *n)
{
	struct node_wallet *w = n->wallet;

	if (!w)
		return;
	al_sync_abort(&w->sync); /* gives back the shared header stage if it held it */
	if (w->js.tx)
		node_free(n, w->js.tx, w->js.tx_len);
	wallet_free(n, w);
	n->wallet = NULL;
}

/* A wallet of size `level` from saved state (or new). *short_room: it did not fit. */
static al_err wallet_make(al_node *n, unsigned level, const uint8_t *state, size_t len,
                          struct node_wallet **out, bool *short_room)
{
	struct node_wallet *w;
	al_sync_config sc;
	al_err e;

	*out = NULL;
	*short_room = false;
	if (!(w = node_alloc(n, sizeof(*w))))
		return AL_E_NOMEM;
	sync_config(&sc, n, level);
	w->level = level;
	w->mem_len = al_sync_mem_size(&sc) + al_wallet_mem_size() + 4096;
	if (!(w->mem = node_alloc(n, w->mem_len))) {
		node_free(n, w, sizeof(*w));
		return AL_E_NOMEM;
	}
	al_arena_init(&w->arena, w->mem, w->mem_len);
	e = al_sync_init(&w->sync, &w->arena, &sc);
	if (e == AL_OK)
		e = al_wallet_init(&w->wallet, n->env.secp, &w->arena, scratch_of(n), &w->sync,
		                   n->cfg.net, n->keys.seed, sizeof(n->keys.seed));
	w->wallet_ok = e == AL_OK;
	if (e == AL_OK && state)
		e = al_wallet_load(&w->wallet, state, len);
	if (e != AL_OK) {
		*short_room = e == AL_E_SYNC_FULL && al_sync_short_of_room(&w->sync);
		wallet_free(n, w);
		return e;
	}
	*out = w;
	return AL_OK;
}

al_err node_wallet_open(al_node *n, const uint8_t *state, size_t len)
{
	al_headers *hc = al_node_shared_headers(n->env.shared);
	bool short_room = true;
	al_err e = AL_E_SYNC_FULL;

	if (!hc)
		return AL_E_SYNC_NO_CHECKPOINT;
	if (hc->cfg.net != n->cfg.net)
		return AL_E_ARG;
	for (unsigned level = 0; level <= LEVEL_MAX && short_room; level++)
		e = wallet_make(n, level, state, len, &n->wallet, &short_room);
	return e;
}

/* The wallet, twice the size, from its saved state; the job goes on. */
static al_err wallet_grow(al_node *n)
{
	struct node_wallet *w = n->wallet, *bigger;
	uint8_t *state;
	size_t len;
	bool short_room;
	al_err e;

	if (w->level >= LEVEL_MAX)
		return AL_E_SYNC_FULL;
	AL_TRY(node_wallet_save(n, &state, &len));
	e = wallet_make(n, w->level + 1, state, len, &bigger, &short_room);
	node_free(n, state, len);
	AL_TRY(e);
	bigger->js = w->js;
	al_sync_abort(&w->sync);
	wallet_free(n, w);
	n->wallet = bigger;
	node_log(n, 2, "wallet: grown for more transactions", "");
	return AL_OK;
}

al_err node_wallet_save(const al_node *n, uint8_t **out, size_t *len)
{
	al_node *m = (al_node *)n;
	uint8_t *tmp = node_alloc(m, WALLET_STATE_MAX);
	al_wb w;

	*out = NULL;
	*len = 0;
	if (!tmp)
		return AL_E_NOMEM;
	al_wb_init(&w, tmp, WALLET_STATE_MAX);
	al_wallet_save(&n->wallet->wallet, &w);
	if (al_wb_ok(&w) && (*out = node_alloc(m, w.len)) != NULL) {
		memcpy(*out, tmp, w.len);
		*len = w.len;
	}
	node_free(m, tmp, WALLET_STATE_MAX);
	return !al_wb_ok(&w) ? AL_E_BUFSIZE : *out ? AL_OK : AL_E_NOMEM;
}

uint64_t node_wallet_mtp(const al_node *n)
{
	const struct node_wallet *w = n->wallet;
	uint32_t t[11], tip, k = 0;

	if (!w)
		return 0;
	tip = al_sync_tip_height(&w->sync);
	/* BIP 113: the median of the last 11 blocks' timestamps. */
	for (uint32_t i = 0; i < 11 && i <= tip; i++) {
		const al_hdr *h = al_sync_header_at(&w->sync, tip - i);
		if (!h)
			break;
		uint32_t v = h->h.time, j = k++;
		while (j > 0 && t[j - 1] > v) {
			t[j] = t[j - 1];
			j--;
		}
		t[j] = v;
	}
	return k ? t[k / 2] : 0;
}

uint64_t al_node_trusted_wall(const al_node *n)
{
	uint64_t mtp = node_wallet_mtp(n);
	return n->wall > mtp ? n->wall : mtp;
}

json_t *node_wallet_info(const al_node *n)
{
	if (!n->wallet)
		return json_pack("{s:b}", "open", 0);
	return json_pack("{s:b,s:I,s:b}", "open", 1, "tip_height",
	                 (json_int_t)al_sync_tip_height(&n->wallet->sync), "busy", n->job_running);
}

/* --- answers ------------------------------------------------------------------------ */

static json_t *hash_json(const uint8_t h[32])
{
	char hex[65];
	al_txid_to_hex(hex, h);
	return json_string(hex);
}

static void job_end(al_node *n)
{
	struct node_wallet *w = n->wallet;

	if (w->js.tx)
		node_free(n, w->js.tx, w->js.tx_len);
	w->js.tx = NULL;
	w->js.tx_len = 0;
	w->js.phase = PH_IDLE;
	n->job_running = false;
}

/* A job of the node's own (token 0): its channels hear the outcome, nobody is answered. */
static bool internal(const node_job *j)
{
	return j->token == 0;
}

static void job_fail(al_node *n, al_err e, const char *detail)
{
	const node_job *j = &n->wallet->js.job;

	if (!internal(j))
		node_answer(n, j->token, e == AL_E_ARG ? 400 : 502,
		            json_pack("{s:o}", "error", node_err_obj(e, detail)), 0);
	else if (!strcmp(j->cmd, "chanopen"))
		node_chan_open_fee(n, e, 0);
	else if (!strcmp(j->cmd, "chanbcast"))
		node_chan_tx_done(n, e, detail);
	job_end(n);
}

static json_t *balance_json(struct node_wallet *w)
{
	const al_wallet_balance *b = al_wallet_get_balance(&w->wallet);
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "total_balance",
	                 (json_int_t)(b->confirmed.sat + b->unconfirmed.sat), "confirmed_balance",
	                 (json_int_t)b->confirmed.sat, "unconfirmed_balance",
	                 (json_int_t)b->unconfirmed.sat, "immature_balance",
	                 (json_int_t)b->immature.sat, "tip_height",
	                 (json_int_t)al_sync_tip_height(&w->sync));
}

static json_t *listfunds_json(struct node_wallet *w)
{
	json_t *a = json_array();
	for (size_t i = 0; i < al_wallet_utxo_count(&w->wallet); i++) {
		const al_wallet_utxo *u = al_wallet_utxo_at(&w->wallet, i);
		char addr[AL_SEGWIT_ADDR_BUFLEN] = "";
		json_t *o;

		if (al_wallet_address(&w->wallet, addr, sizeof(addr), u->chain, u->index) != AL_OK)
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

/* --- chain requests ----------------------------------------------------------------- */

/* A FETCH of base URL + path. */
static al_err fetch(al_node *n, const char *method, const char *path, const uint8_t *body,
                    size_t len)
{
	char url[NODE_URL_MAX + AL_ESPLORA_PATH_MAX];
	size_t b = strlen(n->chain.url), p = strlen(path);
	al_node_fx fx = {.kind = AL_NODE_FX_FETCH, .method = method};

	while (b > 0 && n->chain.url[b - 1] == '/')
		b--;
	if (b + p >= sizeof(url))
		return AL_E_HTTP_URL;
	memcpy(url, n->chain.url, b);
	memcpy(url + b, path, p + 1);
	fx.req = n->wallet->js.req = node_new_req(n);
	n->wallet->js.requests++;
	return node_fx_push(n, &fx, body, len, url, 0);
}

static void act(al_node *n);
static void sync_next(al_node *n);
static void pay(al_node *n, uint64_t rate);

/* A step failed, changing nothing: it runs again when another node's step overtook it
 * or when a larger wallet would take what it found; else the job goes on with it. */
static void step_failed(al_node *n, al_err e)
{
	struct node_wallet *w = n->wallet;
	bool again = false;

	if (e == AL_E_SYNC_CHAIN_MOVED || e == AL_E_SYNC_BUSY)
		again = w->js.retries++ < STEP_RETRIES;
	else if (e == AL_E_SYNC_FULL && al_sync_short_of_room(&w->sync))
		again = wallet_grow(n) == AL_OK;
	w = n->wallet;
	if (again) {
		al_sync_begin(&w->sync);
		sync_next(n);
		return;
	}
	w->js.sync_err = e;
	act(n);
}

/* The next request of the sync step, or the step's end. */
static void sync_next(al_node *n)
{
	struct node_wallet *w = n->wallet;
	const al_sync_request *rq;
	bool more = false;
	al_err e;

	for (;;) {
		e = al_sync_next(&w->sync, &rq);
		if (e == AL_OK && rq) {
			e = fetch(n, rq->method == AL_ESPLORA_POST ? "POST" : "GET", rq->path, NULL,
			          0);
			if (e == AL_OK)
				return;
			al_sync_abort(&w->sync);
		}
		if (e != AL_OK) {
			step_failed(n, e);
			return;
		}
		e = al_wallet_update(&w->wallet, &more);
		if (e != AL_OK || !more || ++w->js.rounds >= SYNC_ROUNDS)
			break;
		al_sync_begin(&w->sync);
	}
	w->js.sync_err = e;
	if (e == AL_OK) {
		node_persist_wallet(n); /* what the sync learned */
		node_chan_chain(n, &w->sync);
	}
	act(n);
}

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

/* Who answers fee estimates: the server's URL and the trust the user gave it. */
static void fee_key(const al_node *n, uint8_t key[32])
{
	al_sha256_ctx c;
	uint8_t len[8];
	size_t url_len = strlen(n->chain.url);

	al_sha256_init(&c);
	al_write_le64(len, url_len);
	al_sha256_update(&c, len, 8);
	al_sha256_update(&c, n->chain.url, url_len);
	al_write_le64(len, n->chain.ca_len);
	al_sha256_update(&c, len, 8);
	if (n->chain.ca_len)
		al_sha256_update(&c, n->chain.ca, n->chain.ca_len);
	al_write_le64(len, n->chain.n_pins);
	al_sha256_update(&c, len, 8);
	al_sha256_update(&c, n->chain.pins, n->chain.n_pins * 32);
	al_sha256_final(&c, key);
}

/* The payment of `amount` to `script`, or (script NULL) the bump of w->js.replaces,
 * built in scratch; what was built is kept until the broadcast is answered. */
static al_err build(al_node *n, const uint8_t *script, size_t slen, al_sat amount, uint64_t rate)
{
	const al_wallet_send_opts opts = {.held = node_onc_holds, .held_arg = n};
	struct node_wallet *w = n->wallet;
	al_arena *sc = scratch_of(n);
	size_t mark = al_arena_mark(sc), len = 0;
	uint8_t *buf;
	al_err e = al_arena_alloc(sc, WALLET_TX_MAX, 1, (void **)&buf);

	if (e == AL_OK && !script)
		e = al_wallet_bump_fee(&w->wallet, buf, WALLET_TX_MAX, &len, w->js.txid, &w->js.fee,
		                       w->js.replaces, rate, NULL);
	else if (e == AL_OK)
		e = al_wallet_send(&w->wallet, buf, WALLET_TX_MAX, &len, w->js.txid, &w->js.fee,
		                   script, slen, amount, rate, &opts);
	if (e == AL_OK && !(w->js.tx = node_alloc(n, len)))
		e = AL_E_NOMEM;
	if (e == AL_OK) {
		memcpy(w->js.tx, buf, len);
		w->js.tx_len = len;
	}
	al_arena_release(sc, mark);
	return e;
}

static void broadcast(al_node *n)
{
	struct node_wallet *w = n->wallet;
	char *hex = node_alloc(n, 2 * w->js.tx_len + 1);
	char path[AL_ESPLORA_PATH_MAX];
	al_err e =
	    hex ? al_hex_encode(hex, 2 * w->js.tx_len + 1, w->js.tx, w->js.tx_len) : AL_E_NOMEM;

	al_esplora_path_broadcast(path);
	if (e == AL_OK)
		e = fetch(n, "POST", path, (const uint8_t *)hex, 2 * w->js.tx_len);
	node_free(n, hex, 2 * w->js.tx_len + 1);
	if (e != AL_OK)
		job_fail(n, e, "broadcast");
	else
		w->js.phase = PH_BROADCAST;
}

/* The chain server's fee estimates, for the job in progress (fee_done follows). */
static void ask_fee(al_node *n)
{
	char path[AL_ESPLORA_PATH_MAX];

	al_esplora_path_fee_estimates(path);
	if (fetch(n, "GET", path, NULL, 0) != AL_OK) {
		job_fail(n, AL_E_NODE_BUSY, "fee estimates");
		return;
	}
	n->wallet->js.phase = PH_FEE;
}

/* The synced wallet does what the job asked. */
static void act(al_node *n)
{
	struct node_wallet *w = n->wallet;
	const node_job *j = &w->js.job;
	bool reads = !strcmp(j->cmd, "walletbalance") || !strcmp(j->cmd, "listfunds");
	uint64_t gate = n->batch_next;

	/* A channel's transaction goes out even when the sync failed: it may be why. */
	if (w->js.sync_err != AL_OK && !reads && strcmp(j->cmd, "chanbcast")) {
		job_fail(n, w->js.sync_err, w->js.detail);
		return;
	}
	if (!strcmp(j->cmd, "chanbcast")) {
		const uint8_t *tx;
		size_t len;
		al_tx t;
		al_arena *sc = scratch_of(n);
		size_t mark = al_arena_mark(sc);
		al_err e = node_chan_next_tx(n, &tx, &len) ? AL_OK : AL_E_ARG;

		if (e == AL_OK && len > WALLET_TX_MAX)
			e = AL_E_TOO_LARGE;
		if (e == AL_OK)
			e = al_tx_parse(&t, sc, tx, len);
		if (e == AL_OK) {
			al_tx_txid(&t, w->js.txid);
			if (!(w->js.tx = node_alloc(n, len)))
				e = AL_E_NOMEM;
		}
		if (e == AL_OK) {
			memcpy(w->js.tx, tx, len);
			w->js.tx_len = len;
		}
		al_arena_release(sc, mark);
		if (e != AL_OK) {
			job_fail(n, e, "a channel's transaction");
			return;
		}
		broadcast(n);
		return;
	}
	if (!strcmp(j->cmd, "chansync")) {
		uint8_t key[32];
		uint64_t rate;

		/* The channels heard what the sync found. On-chain claims aim for the
		 * server's estimate: fetched when none is fresh, for the next step. */
		fee_key(n, key);
		if (!node_onc_any(n) ||
		    node_fee_get(n->env.shared, key, al_node_trusted_wall(n), &rate)) {
			job_end(n);
			return;
		}
		ask_fee(n);
		return;
	}
	if (!strcmp(j->cmd, "sync")) {
		uint8_t tip[32];
		al_sync_tip_hash(&w->sync, tip);
		node_answer(n, j->token, 200,
		            json_pack("{s:I,s:o,s:I,s:I}", "tip_height",
		                      (json_int_t)al_sync_tip_height(&w->sync), "tip_hash",
		                      hash_json(tip), "requests", (json_int_t)w->js.requests,
		                      "bytes", (json_int_t)w->js.bytes),
		            gate);
	} else if (reads) {
		json_t *r;
		bool more;

		/* The last committed state, as the shared chain shows it now: another node's
		 * sync may have moved the chain since this wallet's last good step. */
		if (w->js.sync_err != AL_OK && al_wallet_update(&w->wallet, &more) != AL_OK)
			node_log(n, 1, "wallet: cannot rebuild the balance", "");
		r = !strcmp(j->cmd, "walletbalance") ? balance_json(w) : listfunds_json(w);
		if (w->js.sync_err != AL_OK)
			json_object_set_new(r, "sync_error",
			                    node_err_obj(w->js.sync_err, w->js.detail));
		node_answer(n, j->token, 200, r, w->js.sync_err == AL_OK ? gate : 0);
	} else if (!strcmp(j->cmd, "newaddress")) {
		char addr[AL_SEGWIT_ADDR_BUFLEN];
		al_err e = al_wallet_new_address(&w->wallet, addr, sizeof(addr));
		if (e != AL_OK) {
			job_fail(n, e, NULL);
			return;
		}
		/* Never hand out an address a restart could hand out again. */
		node_answer(n, j->token, 200, json_pack("{s:s}", "address", addr),
		            node_persist_wallet(n));
	} else if (!strcmp(j->cmd, "sendtoaddress") || !strcmp(j->cmd, "chanopen")) {
		uint8_t key[32];
		uint64_t rate;

		fee_key(n, key);
		if (node_fee_get(n->env.shared, key, al_node_trusted_wall(n), &rate)) {
			pay(n, rate);
			return;
		}
		ask_fee(n);
		return;
	} else { /* bumpfee */
		uint64_t rate;
		al_err e = AL_OK;
		if (al_txid_from_hex(w->js.replaces, j->args[0]) != AL_OK)
			e = AL_E_ARG;
		else if (!parse_u64(j->args[1], &rate) || rate == 0 ||
		         rate > AL_ESPLORA_MAX_FEERATE)
			e = AL_E_ARG;
		else
			e = build(n, NULL, 0, al_sat_of(0), rate * 1000);
		if (e != AL_OK) {
			job_fail(n, e, e == AL_E_ARG ? "txid or sat_per_vbyte" : NULL);
			return;
		}
		broadcast(n);
		return;
	}
	job_end(n);
}

/* The payment at `rate` (the server's word, sat per 1000 vB): clamped, and held to the
 * fee caps by the wallet. */
static void pay(al_node *n, uint64_t rate)
{
	struct node_wallet *w = n->wallet;
	uint8_t prog[AL_WITPROG_MAX], script[AL_SEGWIT_SCRIPT_MAXLEN];
	size_t plen, slen;
	unsigned ver;
	uint64_t sat;
	al_err e;

	if (!strcmp(w->js.job.cmd, "chanopen")) {
		job_end(n);
		node_chan_open_fee(n, AL_OK, al_wallet_fee_clamp(&w->wallet.caps, rate));
		return;
	}
	if (!strcmp(w->js.job.cmd, "chansync")) {
		job_end(n); /* the estimate is kept for the engines' next step */
		return;
	}
	e = al_segwit_addr_decode(&ver, prog, &plen, n->cfg.net, w->js.job.args[0],
	                          strlen(w->js.job.args[0]));
	if (e == AL_OK)
		e = al_segwit_script(script, sizeof(script), &slen, ver, prog, plen);
	if (e != AL_OK) {
		job_fail(n, e, "address");
		return;
	}
	if (!parse_u64(w->js.job.args[1], &sat)) {
		job_fail(n, AL_E_ARG, "amount");
		return;
	}
	e = build(n, script, slen, al_sat_of(sat), al_wallet_fee_clamp(&w->wallet.caps, rate));
	if (e == AL_E_WALLET_FEE_RATE_CAP || e == AL_E_WALLET_FEE_ABS_CAP ||
	    e == AL_E_WALLET_FEE_SHARE_CAP) {
		uint8_t key[32];

		/* Not kept for the next payment, this node's or another's: the server may have
		 * lied, or the fees moved; it is asked again. */
		fee_key(n, key);
		node_fee_drop(n->env.shared, key);
	}
	if (e != AL_OK) {
		job_fail(n, e, NULL);
		return;
	}
	broadcast(n);
}

/* The fee estimate is in: kept for the nodes that use this server, then the payment. */
static void fee_done(al_node *n, const uint8_t *body, size_t len)
{
	uint8_t key[32];
	uint64_t rate;
	al_err e = al_esplora_parse_fee(&rate, FEE_TARGET, body, len);

	if (e != AL_OK) {
		job_fail(n, e, "fee estimates");
		return;
	}
	fee_key(n, key);
	node_fee_put(n->env.shared, key, al_node_trusted_wall(n), rate);
	pay(n, rate);
}

/* The server took the transaction (or refused it, with Core's reason). */
static void broadcast_done(al_node *n, int http_status, const uint8_t *body, size_t len)
{
	struct node_wallet *w = n->wallet;
	char msg[256];
	uint8_t got[32];
	al_err e;

	if (http_status != 200) {
		size_t k = len < sizeof(msg) - 1 ? len : sizeof(msg) - 1;
		for (size_t i = 0; i < k; i++)
			msg[i] = body[i] >= 0x20 && body[i] < 0x7f ? (char)body[i] : '?';
		msg[k] = 0;
		job_fail(n, AL_E_ESPLORA_STATUS, msg);
		return;
	}
	e = al_esplora_parse_hash(got, body, len);
	if (e == AL_OK && memcmp(got, w->js.txid, 32))
		e = AL_E_SYNC_TXID;
	if (e == AL_OK)
		e = al_wallet_commit_tx(&w->wallet, w->js.tx, w->js.tx_len);
	if (e == AL_E_SYNC_FULL && al_sync_short_of_room(&w->sync) && wallet_grow(n) == AL_OK) {
		w = n->wallet;
		e = al_wallet_commit_tx(&w->wallet, w->js.tx, w->js.tx_len);
	}
	if (e != AL_OK) {
		job_fail(n, e, NULL);
		return;
	}
	if (internal(&w->js.job)) {
		job_end(n);
		node_persist_wallet(n);
		node_chan_tx_done(n, AL_OK, NULL);
		return;
	}
	json_t *r = json_pack("{s:o,s:I}", "txid", hash_json(w->js.txid), "fee_sat",
	                      (json_int_t)w->js.fee.sat);
	if (!strcmp(w->js.job.cmd, "bumpfee"))
		json_object_set_new(r, "replaces", hash_json(w->js.replaces));
	node_answer(n, w->js.job.token, 200, r, node_persist_wallet(n));
	job_end(n);
}

void node_wallet_fetch_done(al_node *n, uint64_t req, al_err status, int http_status,
                            const uint8_t *body, size_t len)
{
	struct node_wallet *w = n->wallet;
	al_err e;

	if (!w || w->js.phase == PH_IDLE || req != w->js.req)
		return; /* not the request in flight: ignored */
	w->js.req = 0;
	if (status == AL_OK)
		w->js.bytes += len;
	if (w->js.phase == PH_SYNC) {
		if (status != AL_OK) {
			al_sync_abort(&w->sync);
			w->js.sync_err = status;
			act(n);
			return;
		}
		e = al_sync_on_response(&w->sync, http_status, body, len);
		if (e != AL_OK)
			step_failed(n, e);
		else
			sync_next(n);
	} else if (status != AL_OK) {
		job_fail(n, status, w->js.phase == PH_FEE ? "fee estimates" : "broadcast");
	} else if (w->js.phase == PH_FEE) {
		if (http_status != 200)
			job_fail(n, AL_E_ESPLORA_STATUS, "fee estimates");
		else
			fee_done(n, body, len);
	} else {
		broadcast_done(n, http_status, body, len);
	}
}

void al_node_fetch_done(al_node *n, uint64_t req, al_err status, int http_status,
                        const uint8_t *body, size_t len, uint64_t now, uint64_t wall)
{
	n->now = now > n->now ? now : n->now;
	n->wall = wall > n->wall ? wall : n->wall;
	if (n->state == AL_NODE_READY)
		node_wallet_fetch_done(n, req, status, http_status, body, len);
	node_wallet_run(n);
}

/* --- jobs --------------------------------------------------------------------------- */

static bool command_ok(const char *cmd, size_t nargs)
{
	return ((!strcmp(cmd, "sync") || !strcmp(cmd, "newaddress") ||
	         !strcmp(cmd, "walletbalance") || !strcmp(cmd, "listfunds")) &&
	        nargs == 0) ||
	       ((!strcmp(cmd, "sendtoaddress") || !strcmp(cmd, "bumpfee")) && nargs == 2);
}

void node_wallet_request(al_node *n, uint64_t token, const char *cmd, const uint8_t *body,
                         size_t len)
{
	const char *args[AL_NODE_WALLET_MAX_ARGS] = {0};
	json_t *root = NULL;
	size_t nargs = 0;
	node_job *j;

	if (!n->wallet) {
		node_answer(n, token, 503,
		            json_pack("{s:o}", "error", node_err_obj(AL_E_NODE_CHAIN, NULL)), 0);
		return;
	}
	if (!al_node_wallet_args(&root, args, &nargs, body, len)) {
		json_decref(root);
		node_answer(
		    n, token, 400,
		    node_error_json("body must be {\"args\":[\"...\", ...]} (at most 4 strings)"),
		    0);
		return;
	}
	if (strlen(cmd) >= sizeof(j->cmd) || !command_ok(cmd, nargs)) {
		json_decref(root);
		node_answer(n, token, 400,
		            json_pack("{s:o}", "error",
		                      node_err_obj(AL_E_ARG, "unknown command or wrong arguments")),
		            0);
		return;
	}
	if (n->njobs == NODE_JOBQ) {
		json_decref(root);
		node_answer(n, token, 503, node_error_json(al_err_str(AL_E_NODE_BUSY)), 0);
		return;
	}
	j = &n->jobs[n->njobs];
	memset(j, 0, sizeof(*j));
	j->token = token;
	memcpy(j->cmd, cmd, strlen(cmd) + 1);
	for (size_t i = 0; i < nargs; i++) {
		size_t al = strlen(args[i]);
		if (al >= sizeof(j->args[i])) {
			json_decref(root);
			node_answer(n, token, 400, node_error_json("argument too long"), 0);
			return;
		}
		memcpy(j->args[i], args[i], al + 1);
	}
	j->nargs = nargs;
	n->njobs++;
	json_decref(root);
}

void node_wallet_run(al_node *n)
{
	struct node_wallet *w = n->wallet;

	if (!w || n->job_running || n->njobs == 0 || n->state != AL_NODE_READY || !node_fx_room(n))
		return;
	w->js.job = n->jobs[0];
	memmove(&n->jobs[0], &n->jobs[1], (n->njobs - 1) * sizeof(n->jobs[0]));
	n->njobs--;
	n->job_running = true;
	w->js.phase = PH_SYNC;
	w->js.rounds = w->js.retries = 0;
	w->js.sync_err = AL_OK;
	w->js.detail[0] = 0;
	node_chan_watch(n, &w->sync);
	al_sync_begin(&w->sync);
	sync_next(n);
}

al_err node_wallet_internal(al_node *n, const char *cmd)
{
	node_job *j;

	for (size_t i = 0; i < n->njobs; i++)
		if (internal(&n->jobs[i]) && !strcmp(n->jobs[i].cmd, cmd))
			return AL_OK; /* one waiting does what a second would */
	if (n->njobs == NODE_JOBQ)
		return AL_E_NODE_BUSY;
	j = &n->jobs[n->njobs++];
	memset(j, 0, sizeof(*j));
	memcpy(j->cmd, cmd, strlen(cmd) + 1);
	return AL_OK;
}

al_err node_wallet_build(al_node *n, uint8_t *out, size_t cap, size_t *len, uint8_t txid[32],
                         al_sat *fee, const uint8_t *script, size_t slen, al_sat amount,
                         uint64_t rate)
{
	const al_wallet_send_opts opts = {.held = node_onc_holds, .held_arg = n};

	if (!n->wallet)
		return AL_E_NODE_CHAIN;
	return al_wallet_send(&n->wallet->wallet, out, cap, len, txid, fee, script, slen, amount,
	                      al_wallet_fee_clamp(&n->wallet->wallet.caps, rate), &opts);
}

al_err node_wallet_script(al_node *n, uint8_t *script, size_t *len)
{
	char addr[AL_SEGWIT_ADDR_BUFLEN];
	uint8_t prog[AL_WITPROG_MAX];
	size_t plen;
	unsigned ver;

	if (!n->wallet)
		return AL_E_NODE_CHAIN;
	AL_TRY(al_wallet_new_address(&n->wallet->wallet, addr, sizeof(addr)));
	node_persist_wallet(n); /* never hand out an index twice */
	AL_TRY(al_segwit_addr_decode(&ver, prog, &plen, n->cfg.net, addr, strlen(addr)));
	return al_segwit_script(script, AL_CHAN_MAX_SCRIPT, len, ver, prog, plen);
}

uint32_t node_wallet_feerate_kw(al_node *n)
{
	uint8_t key[32];
	uint64_t rate;

	if (!n->wallet)
		return 0;
	fee_key(n, key);
	if (!node_fee_get(n->env.shared, key, al_node_trusted_wall(n), &rate))
		return 0;
	/* sat per 1000 vB to sat per 1000 weight units. */
	rate = al_wallet_fee_clamp(&n->wallet->wallet.caps, rate) / 4;
	return rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
}

al_wallet *node_wallet_of(al_node *n)
{
	return n->wallet ? &n->wallet->wallet : NULL;
}

uint32_t node_tip_height(const al_node *n)
{
	return n->wallet ? al_sync_tip_height(&n->wallet->sync) : 0;
}
