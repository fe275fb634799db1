/* alight-devchain's Electrum protocol: the request parser (apps/alight-devchain/
 * electrum_parse.c, pure: bytes -> JSON-RPC requests with decoded parameters) and, behind
 * it, a session answering from a real chain (electrum.c).
 *
 * Input: newline-separated request lines, as a client sends them. Each line goes first
 * to the parser alone, whose results must be consistent (a known method; every required
 * parameter present; an error with a JSON-RPC code otherwise), then to a session whose
 * every output line must be JSON-RPC 2.0: a response carrying "jsonrpc":"2.0" and an id
 * member, or a batch of them, or a notification. After each input the session is told
 * the chain changed (broadcasts may have changed the mempool) and its notifications are
 * checked the same way.
 *
 * The chain lives in a scratch directory for the whole run and starts with 110 blocks
 * mined with a fixed extranonce (the faucet's coinbases have the same ids on every run)
 * and one faucet payment in the mempool. */
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devchain.h"
#include "electrum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static dc_chain chain;
static el_limits limits;
static bool ready;

static void cleanup(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	dc_close(&chain);
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

static void setup(void)
{
	static const uint8_t script[34] = {0x00, 0x20, 1, 2, 3};
	uint8_t(*hashes)[32], txid[32];
	dc_reject rej;

	if (ready)
		return;
	/* Memory-backed when it can be: fsyncs are free there. */
	strcpy(dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/alight-fuzz-XXXXXX"
	                                          : "/tmp/alight-fuzz-XXXXXX");
	if (mkdtemp(dir) == NULL || dc_open(&chain, dir) != 0)
		abort();
	chain.extranonce = 1;
	hashes = malloc(110 * sizeof(*hashes));
	if (hashes == NULL ||
	    !dc_mine(&chain, 110, chain.faucet_script, sizeof(chain.faucet_script), hashes) ||
	    !dc_faucet(&chain, script, sizeof(script), 100000, txid, &rej))
		abort();
	free(hashes);
	el_limits_default(&limits);
	atexit(cleanup);
	ready = true;
}

static void check_parser(const char *line, size_t len)
{
	el_error err;
	json_t *doc = el_parse_line(line, len, &err);

	if (!doc) {
		if (err.code != EL_ERR_PARSE && err.code != EL_ERR_INVALID)
			abort();
		return;
	}
	for (size_t i = 0; i < (json_is_array(doc) ? json_array_size(doc) : 1); i++) {
		json_t *obj = json_is_array(doc) ? json_array_get(doc, i) : doc;
		el_req req;

		if (el_parse_request(obj, &req, &err)) {
			if (req.method >= EL_N_METHODS ||
			    strcmp(el_method_name(req.method),
			           json_string_value(json_object_get(obj, "method"))) != 0)
				abort();
		} else if (err.code != EL_ERR_INVALID && err.code != EL_ERR_METHOD &&
		           err.code != EL_ERR_PARAMS) {
			abort();
		}
	}
	json_decref(doc);
}

static void check_response(json_t *j)
{
	json_t *v = json_object_get(j, "jsonrpc");

	if (!json_is_object(j) || !json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
		abort();
	if (json_object_get(j, "method"))
		return; /* a notification */
	if (!json_object_get(j, "id") ||
	    (json_object_get(j, "result") == NULL) == (json_object_get(j, "error") == NULL))
		abort();
	v = json_object_get(j, "error");
	if (v && (!json_is_integer(json_object_get(v, "code")) ||
	          !json_is_string(json_object_get(v, "message"))))
		abort();
}

/* Every line the session queued is JSON-RPC 2.0; the queue is emptied. */
static void check_output(el_session *s)
{
	el_buf *o = &s->out;

	while (el_buf_pending(o) > 0) {
		const char *p = (const char *)o->p + o->off;
		const char *nl = memchr(p, '\n', el_buf_pending(o));
		json_t *j;

		if (!nl)
			abort();
		j = json_loadb(p, (size_t)(nl - p), 0, NULL);
		if (!j)
			abort();
		if (json_is_array(j)) {
			for (size_t i = 0; i < json_array_size(j); i++)
				check_response(json_array_get(j, i));
		} else {
			check_response(j);
		}
		json_decref(j);
		el_buf_consume(o, (size_t)(nl - p) + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	el_session s;
	size_t start = 0, n_dirty;

	setup();
	el_session_init(&s, &limits, 50001);
	while (start < size && !s.cut) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) : size - start;

		check_parser((const char *)data + start, len);
		el_session_line(&s, &chain, (const char *)data + start, len);
		check_output(&s);
		start += len + 1;
	}
	el_session_notify(&s, &chain, chain.index.dirty, chain.index.n_dirty);
	check_output(&s);
	(void)dc_index_take_dirty(&chain, &n_dirty);
	el_session_free(&s);
	return 0;
}
