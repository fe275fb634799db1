/* The on-chain wallet behind the control API (issue 4): host/wallet_svc.h, reached as
 *
 *   POST /v1/wallet/<command>   {"args":["...", ...]}   (body optional without args)
 *
 * for the commands newaddress, walletbalance, listfunds, sendtoaddress <address> <sat>
 * and bumpfee <txid> <sat_per_vbyte>; the answer is wallet_svc's JSON. The wallet
 * exists only when alightd runs with --esplora URL.
 *
 * Every command syncs with the Esplora server first, with blocking HTTP requests: while
 * one runs, the loop (and so every peer) waits. Moving the sync into the loop as
 * sans-I/O requests is the next step for it (chain/sync.h already has that shape). */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alightd.h"
#include "api_parse.h"
#include "host/wallet_svc.h"
#include "jsonw.h"
#include "util/hex.h"

#define WALLET_PREFIX "/v1/wallet/"

al_err wallet_open(alightd *d, const char *esplora, const char *ca_file, const char *pin_hex,
                   const char *words)
{
	static uint8_t pin[1][AL_TLS_PIN_LEN];
	char dir[PATH_MAX];
	al_httpc_config cfg = {0};
	al_err e;

	if (esplora == NULL)
		return AL_OK;
	cfg.ca_file = ca_file;
	if (pin_hex != NULL) {
		if (strlen(pin_hex) != 2 * AL_TLS_PIN_LEN ||
		    al_hex_decode_exact(pin[0], AL_TLS_PIN_LEN, pin_hex) != AL_OK) {
			logf_("wallet: --esplora-pin wants 64 hex digits (SHA-256 of the SPKI)");
			return AL_E_ARG;
		}
		cfg.pins = (const uint8_t(*)[AL_TLS_PIN_LEN])pin;
		cfg.n_pins = 1;
	}
	if (snprintf(dir, sizeof(dir), "%s/wallet", d->datadir) >= (int)sizeof(dir))
		return AL_E_ARG;
	e = al_wallet_svc_open(&d->wallet, d->secp, d->np->net, dir, words, esplora, &cfg);
	if (e != AL_OK)
		logf_("wallet: cannot open (esplora %s): %s", esplora, al_err_str(e));
	else
		logf_("wallet open esplora=%s", esplora);
	return e;
}

void wallet_close(alightd *d)
{
	if (d->wallet != NULL)
		al_wallet_svc_close(d->wallet);
	d->wallet = NULL;
}

/* json_dumps' memory belongs to jansson's allocator (rpc.c points it at a scratch). */
static void json_free(void *p)
{
	json_malloc_t m;
	json_free_t f;

	json_get_alloc_funcs(&m, &f);
	f(p);
}

bool wallet_route(alightd *d, const char *method, const char *target, const uint8_t *body,
                  size_t body_len, int *status, al_wb *w)
{
	const char *args[API_WALLET_MAX_ARGS] = {0};
	char cmd[32];
	size_t plen = strcspn(target, "?"), n;
	json_t *root = NULL, *res;
	al_err e;
	char *s;

	if (plen <= strlen(WALLET_PREFIX) || strncmp(target, WALLET_PREFIX, strlen(WALLET_PREFIX)))
		return false;
	if (plen - strlen(WALLET_PREFIX) >= sizeof(cmd)) {
		*status = 404;
		api_error_body(w, "no such wallet command");
		return true;
	}
	memcpy(cmd, target + strlen(WALLET_PREFIX), plen - strlen(WALLET_PREFIX));
	cmd[plen - strlen(WALLET_PREFIX)] = '\0';
	if (strcmp(method, "POST") != 0) {
		*status = 405;
		api_error_body(w, "method not allowed (wallet commands are POST)");
		return true;
	}
	if (d->wallet == NULL) {
		*status = 503;
		api_error_body(w, "no wallet: start alightd with --esplora URL");
		return true;
	}
	if (!api_wallet_args(&root, args, &n, body, body_len)) {
		*status = 400;
		api_error_body(w, "body must be {\"args\":[\"...\", ...]} (at most 4 strings)");
		return true;
	}
	res = al_wallet_svc_call(d->wallet, cmd, args, n, &e);
	json_decref(root);
	s = res != NULL ? json_dumps(res, JSON_COMPACT) : NULL;
	json_decref(res);
	if (s == NULL) {
		*status = 500;
		api_error_body(w, "out of memory");
		return true;
	}
	*status = e == AL_OK ? 200 : e == AL_E_ARG ? 400 : 502;
	jw_raw(w, s);
	json_free(s);
	return true;
}
