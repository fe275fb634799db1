/* The control API's requests: the node's (GET /v1/getinfo, GET and POST /v1/peers) and
 * the on-chain wallet's (POST /v1/wallet/<command>), see src/enclave/api.c, are relayed
 * to the enclave, which answers them; a connect is answered later through the api_done
 * ocall (peers.c passes it to rpc_complete). This file knows no sockets: a request in,
 * a status and a body out. */
#include <string.h>

#include "alightd.h"
#include "jsonw.h"

void api_error_body(al_wb *w, const char *msg)
{
	jw_raw(w, "{\"error\":{\"message\":");
	jw_str(w, msg);
	jw_raw(w, "}}");
}

api_result api_handle(alightd *d, const char *method, const char *target, const uint8_t *body,
                      size_t body_len, rpc_token token, int *status, al_wb *w)
{
	size_t outlen = 0;
	int32_t st = 500;
	al_err e;

	*status = 200;
	if (d->enc == NULL) {
		*status = 503;
		api_error_body(w, "the enclave is not loaded");
		return API_DONE;
	}
	e = (al_err)d->enc->ec->api(d->node, token, method, strlen(method), target, strlen(target),
	                            body, body_len, w->p + w->len, w->cap - w->len, &outlen, &st);
	peers_settle(d);
	if (e == AL_E_ENC_PENDING)
		return API_PENDING;
	if (e == AL_OK) {
		w->len += outlen;
		*status = st;
		return API_DONE;
	}
	*status = 500;
	api_error_body(w, e == AL_E_BUFSIZE ? "response too large" : al_err_str(e));
	return API_DONE;
}
