/* The operator's requests (the control socket, rpc.c): to a node inside the enclave with
 * the operator's authority only (status, peers, connect, disconnect; the wallet and
 * everything that spends or reveals are the user's, over the user channel), plus the
 * host's own route GET /v1/enclave. Targets may name a node: /node/<i>/v1/...; without,
 * node 0. */
#ifndef ALIGHTD_API_H
#define ALIGHTD_API_H

#include "alightd.h"
#include "util/cursor.h"

/* Handle one request. true: answered now (*status and the body in w); false: the
 * enclave answers later through d->answer with `token`. */
bool api_handle(alightd *d, const char *method, const char *target, const uint8_t *body,
                size_t body_len, uint64_t token, int *status, al_wb *w);
/* {"error":{"message":...}} into w. */
void api_error_body(al_wb *w, const char *msg);

#endif
