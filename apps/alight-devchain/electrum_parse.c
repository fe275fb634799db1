/* Electrum protocol requests: one newline-delimited line -> JSON-RPC 2.0 request objects
 * with decoded parameters (see electrum.h). Pure: no chain, no I/O, no global state.
 *
 * JSON-RPC 2.0, "Request object": "jsonrpc" is exactly "2.0" (absent is taken as 1.0,
 * which the Electrum protocol also allows), "method" a string, "params" an array or an
 * object (or omitted), "id" a string, a number or null; without "id" it is a
 * notification and gets no response. Electrum protocol: "If using JSON RPC 2.0's feature
 * of parameter passing by name, the names shown in the description of the method ...
 * MUST be used." */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "btc/tx.h"
#include "electrum.h"

typedef enum el_ptype { EL_P_NONE, EL_P_UINT, EL_P_BOOL, EL_P_HASH, EL_P_STR, EL_P_PROTO } el_ptype;

typedef struct el_pspec {
	const char *name;
	el_ptype type;
	bool required;
} el_pspec;

typedef struct el_mspec {
	const char *name;
	el_pspec p[EL_MAX_PARAMS];
} el_mspec;

/* Signatures from protocol-methods.rst (1.4; get_merkle's height optional as in 1.5). */
static const el_mspec methods[EL_N_METHODS] = {
    [EL_SERVER_VERSION] = {"server.version",
                           {{"client_name", EL_P_STR, false},
                            {"protocol_version", EL_P_PROTO, false}}},
    [EL_SERVER_BANNER] = {"server.banner", {{0}}},
    [EL_SERVER_DONATION_ADDRESS] = {"server.donation_address", {{0}}},
    [EL_SERVER_PEERS_SUBSCRIBE] = {"server.peers.subscribe", {{0}}},
    [EL_SERVER_PING] = {"server.ping", {{0}}},
    [EL_SERVER_FEATURES] = {"server.features", {{0}}},
    [EL_HEADERS_SUBSCRIBE] = {"blockchain.headers.subscribe", {{0}}},
    [EL_BLOCK_HEADER] = {"blockchain.block.header",
                         {{"height", EL_P_UINT, true}, {"cp_height", EL_P_UINT, false}}},
    [EL_BLOCK_HEADERS] = {"blockchain.block.headers",
                          {{"start_height", EL_P_UINT, true},
                           {"count", EL_P_UINT, true},
                           {"cp_height", EL_P_UINT, false}}},
    [EL_ESTIMATEFEE] = {"blockchain.estimatefee",
                        {{"number", EL_P_UINT, true}, {"mode", EL_P_STR, false}}},
    [EL_RELAYFEE] = {"blockchain.relayfee", {{0}}},
    [EL_FEE_HISTOGRAM] = {"mempool.get_fee_histogram", {{0}}},
    [EL_SH_SUBSCRIBE] = {"blockchain.scripthash.subscribe", {{"scripthash", EL_P_HASH, true}}},
    [EL_SH_UNSUBSCRIBE] = {"blockchain.scripthash.unsubscribe", {{"scripthash", EL_P_HASH, true}}},
    [EL_SH_GET_HISTORY] = {"blockchain.scripthash.get_history", {{"scripthash", EL_P_HASH, true}}},
    [EL_SH_GET_MEMPOOL] = {"blockchain.scripthash.get_mempool", {{"scripthash", EL_P_HASH, true}}},
    [EL_SH_LISTUNSPENT] = {"blockchain.scripthash.listunspent", {{"scripthash", EL_P_HASH, true}}},
    [EL_SH_GET_BALANCE] = {"blockchain.scripthash.get_balance", {{"scripthash", EL_P_HASH, true}}},
    [EL_TX_GET] = {"blockchain.transaction.get",
                   {{"tx_hash", EL_P_HASH, true}, {"verbose", EL_P_BOOL, false}}},
    [EL_TX_GET_MERKLE] = {"blockchain.transaction.get_merkle",
                          {{"tx_hash", EL_P_HASH, true}, {"height", EL_P_UINT, false}}},
    [EL_TX_BROADCAST] = {"blockchain.transaction.broadcast", {{"raw_tx", EL_P_STR, true}}},
    [EL_TX_ID_FROM_POS] = {"blockchain.transaction.id_from_pos",
                           {{"height", EL_P_UINT, true},
                            {"tx_pos", EL_P_UINT, true},
                            {"merkle", EL_P_BOOL, false}}},
};

const char *el_method_name(el_method m)
{
	return m < EL_N_METHODS ? methods[m].name : "?";
}

bool el_error_set(el_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return false;
}

#define fail el_error_set

json_t *el_parse_line(const char *line, size_t len, el_error *err)
{
	json_error_t je;
	json_t *j;

	/* JSON_REJECT_DUPLICATES: one meaning per request. jansson checks UTF-8 and refuses
	 * NUL bytes in strings unless asked to allow them. */
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		fail(err, EL_ERR_PARSE, "parse error: %.120s", je.text);
		return NULL;
	}
	if (!json_is_object(j) && !(json_is_array(j) && json_array_size(j) > 0)) {
		json_decref(j);
		fail(err, EL_ERR_INVALID, "%s", "invalid request: not an object or a batch");
		return NULL;
	}
	return j;
}

/* A protocol version: "1.4", dotted numbers, at most 15 characters. */
static bool version_string(const json_t *v, char out[16])
{
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;

	if (!s || n == 0 || n > 15 || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return false;
	}
	memcpy(out, s, n + 1);
	return true;
}

static bool decode_param(const el_pspec *ps, const json_t *v, el_param *out, el_error *err)
{
	json_int_t n;

	switch (ps->type) {
	case EL_P_UINT:
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 || n > 0xffffffffLL)
			return fail(err, EL_ERR_PARAMS, "%s must be a non-negative integer",
			            ps->name);
		out->u = (uint64_t)n;
		break;
	case EL_P_BOOL:
		if (!json_is_boolean(v))
			return fail(err, EL_ERR_PARAMS, "%s must be a boolean", ps->name);
		out->b = json_is_true(v);
		break;
	case EL_P_HASH:
		/* Hashes travel in display order (reversed); a txid's internal order, and for
		 * a script hash ("the least-significant byte appears first") the SHA-256 as
		 * computed. */
		if (!json_is_string(v) || json_string_length(v) != 64 ||
		    al_txid_from_hex(out->h, json_string_value(v)) != AL_OK)
			return fail(err, EL_ERR_PARAMS, "%s must be 64 hex digits", ps->name);
		break;
	case EL_P_STR:
		if (!json_is_string(v))
			return fail(err, EL_ERR_PARAMS, "%s must be a string", ps->name);
		out->s = json_string_value(v);
		out->s_len = json_string_length(v);
		break;
	case EL_P_PROTO:
		/* server.version: "protocol_version ... either a single string or a list of
		 * two strings [protocol_min, protocol_max]". */
		if (json_is_array(v) && json_array_size(v) == 2) {
			if (!version_string(json_array_get(v, 0), out->pmin) ||
			    !version_string(json_array_get(v, 1), out->pmax))
				return fail(err, EL_ERR_PARAMS, "%s: bad version", ps->name);
		} else if (version_string(v, out->pmin)) {
			memcpy(out->pmax, out->pmin, sizeof(out->pmax));
		} else {
			return fail(err, EL_ERR_PARAMS, "%s: bad version", ps->name);
		}
		break;
	case EL_P_NONE:
		return fail(err, EL_ERR_PARAMS, "%s", "too many parameters");
	}
	out->present = true;
	return true;
}

static bool decode_params(const el_mspec *ms, const json_t *params, el_req *req, el_error *err)
{
	size_t np = 0;

	while (np < EL_MAX_PARAMS && ms->p[np].name)
		np++;
	if (!params) {
		/* A request without arguments carries no "params". */
	} else if (json_is_array(params)) {
		if (json_array_size(params) > np)
			return fail(err, EL_ERR_PARAMS, "too many parameters for %s", ms->name);
		for (size_t i = 0; i < json_array_size(params); i++) {
			/* A trailing null stands for an omitted optional parameter. */
			if (json_is_null(json_array_get(params, i)) && !ms->p[i].required)
				continue;
			if (!decode_param(&ms->p[i], json_array_get(params, i), &req->p[i], err))
				return false;
		}
	} else if (json_is_object(params)) {
		const char *key;
		json_t *v;

		json_object_foreach((json_t *)params, key, v)
		{
			size_t i = 0;

			while (i < np && strcmp(ms->p[i].name, key) != 0)
				i++;
			if (i == np)
				return fail(err, EL_ERR_PARAMS, "unknown parameter %.100s", key);
			if (json_is_null(v) && !ms->p[i].required)
				continue;
			if (!decode_param(&ms->p[i], v, &req->p[i], err))
				return false;
		}
	} else {
		return fail(err, EL_ERR_INVALID, "%s",
		            "invalid request: params not a list or object");
	}
	for (size_t i = 0; i < np; i++) {
		if (ms->p[i].required && !req->p[i].present)
			return fail(err, EL_ERR_PARAMS, "missing parameter %s", ms->p[i].name);
	}
	return true;
}

bool el_parse_request(json_t *obj, el_req *req, el_error *err)
{
	json_t *id, *ver, *method;
	const char *name;

	memset(req, 0, sizeof(*req));
	if (!json_is_object(obj))
		return fail(err, EL_ERR_INVALID, "%s", "invalid request: not an object");
	id = json_object_get(obj, "id");
	if (id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id))
		return fail(err, EL_ERR_INVALID, "%s", "invalid request: bad id");
	req->id = id;
	ver = json_object_get(obj, "jsonrpc");
	if (ver && (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0))
		return fail(err, EL_ERR_INVALID, "%s", "invalid request: jsonrpc is not \"2.0\"");
	method = json_object_get(obj, "method");
	if (!json_is_string(method))
		return fail(err, EL_ERR_INVALID, "%s", "invalid request: no method");
	name = json_string_value(method);
	for (int m = 0; m < EL_N_METHODS; m++) {
		if (strcmp(methods[m].name, name) == 0 &&
		    strlen(name) == json_string_length(method)) {
			req->method = (el_method)m;
			return decode_params(&methods[m], json_object_get(obj, "params"), req, err);
		}
	}
	return fail(err, EL_ERR_METHOD, "unknown method \"%.100s\"", name);
}
