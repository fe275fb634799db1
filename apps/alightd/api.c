/* The operator's requests (api.h): the enclave answers for its nodes, with the
 * operator's authority only; the host answers GET /v1/enclave itself (public figures). */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "jsonw.h"
#include "relay.h"

void api_error_body(al_wb *w, const char *msg)
{
	jw_raw(w, "{\"error\":{\"message\":");
	jw_str(w, msg);
	jw_raw(w, "}}");
}

/* GET /v1/enclave: the enclave's figures and its node slots. */
static void enclave_status(alightd *d, al_wb *w)
{
	al_enclave_stats st;

	d->enc->ec->stats(&st);
	jw_raw(w, "{\"platform\":\"sim\",\"measurement\":");
	jw_hex(w, d->enc->measurement, 32);
#define NUM(key, v)                                                                                \
	do {                                                                                       \
		jw_key(w, key, 0);                                                                 \
		jw_u64(w, (uint64_t)(v));                                                          \
	} while (0)
	NUM("heap_size", st.heap_size);
	NUM("heap_used", st.heap_used);
	NUM("heap_high", st.heap_high);
	NUM("heap_failed", st.heap_failed);
	NUM("nodes", st.nodes);
	NUM("nodes_ready", st.nodes_ready);
	NUM("conns", st.conns);
	NUM("pool_slots", st.pool_slots);
	NUM("pool_slots_used", st.pool_slots_used);
	NUM("node_bytes", st.node_bytes);
	NUM("stale_answers", st.stale);
	NUM("entropy_cpu_bytes", st.entropy_cpu);
	jw_raw(w, ",\"slots\":[");
	for (uint32_t i = 0, first = 1; i < d->max_nodes; i++) {
		al_enclave_node_info ni;
		if (d->enc->ec->node_info(i, &ni) != AL_OK || ni.state == 0)
			continue;
		jw_raw(w, first ? "{\"node\":" : ",{\"node\":");
		first = 0;
		jw_u64(w, i);
		jw_raw(w, ",\"state\":");
		jw_str(w, ni.state == 2 ? "ready" : ni.state == 1 ? "loading" : "failed");
		jw_raw(w, ",\"status\":");
		jw_str(w, al_err_name((al_err)ni.status));
		if (ni.state == 2) {
			jw_raw(w, ",\"node_id\":");
			jw_hex(w, ni.node_id, 33);
		}
		NUM("memory", ni.memory);
		jw_raw(w, ",\"listen\":");
		jw_str(w, d->listeners[i].open ? d->listeners[i].addr : "");
		jw_raw(w, "}");
	}
#undef NUM
	jw_raw(w, "]}");
}

/* "/node/<i>/rest" -> i and "/rest"; anything else is node 0. */
static const char *node_of(const char *target, uint32_t *node)
{
	unsigned long v = 0;
	const char *p = target + 6;

	*node = 0;
	if (strncmp(target, "/node/", 6) != 0)
		return target;
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9' && v <= MAX_NODES)
		v = v * 10 + (unsigned long)(*p++ - '0');
	if (*p != '/' || v >= MAX_NODES)
		return NULL;
	*node = (uint32_t)v;
	return p;
}

bool api_handle(alightd *d, const char *method, const char *target, const uint8_t *body,
                size_t body_len, uint64_t token, int *status, al_wb *w)
{
	uint32_t node;
	const char *rest = node_of(target, &node);
	al_err e;

	*status = 200;
	if (!strcmp(target, "/v1/enclave")) {
		if (strcmp(method, "GET")) {
			*status = 405;
			api_error_body(w, "method not allowed");
		} else {
			enclave_status(d, w);
		}
		return true;
	}
	if (!rest) {
		*status = 404;
		api_error_body(w, "no such node (want /node/<index>/v1/...)");
		return true;
	}
	e = (al_err)d->enc->ec->api(node, token, method, strlen(method), rest, strlen(rest), body,
	                            body_len);
	relay_settle(d);
	if (e == AL_OK)
		return false; /* the answer came (or comes) through the api_done ocall */
	*status = e == AL_E_ENC_UNKNOWN ? 404 : e == AL_E_ARG ? 400 : 500;
	api_error_body(w, e == AL_E_ENC_UNKNOWN ? "no node in that slot (a user provisions one "
	                                          "over the user channel)"
	                                        : al_err_str(e));
	return true;
}
