/* alight-store's request handling (apps/alight-store/service.c) over its SQLite database
 * in a scratch directory, behind the real HTTP server in this process.
 *
 * Input: "METHOD TARGET\n", then an authorization line, then the body. The line is "A"
 * or "B" for a header this target signs now for user A or B, "-" for none, anything
 * else is sent as the header itself. The database persists across inputs, so puts made
 * by one input are read, listed, replaced and deleted by later ones.
 *
 * Every answer carries vss-protocol-version. A 200 goes only to a POST under a signed
 * header and decodes as the operation's response; anything else is an ErrorResponse
 * whose code agrees with the status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_server.h"
#include "service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY (64u << 10)

static app_server server;
static st_service svc;
static char auth[2][AL_VSS_AUTH_MAX + 1];
static uint8_t mem[4 << 20];

static void cleanup(void)
{
	app_server_stop(&server);
	svc.db.ops->close(svc.db.ctx);
}

static void setup(void)
{
	static uint8_t secp_mem[1 << 16] __attribute__((aligned(16)));
	char why[256];
	al_secp *secp;
	al_privkey k;
	size_t n;

	if (svc.secp != NULL)
		return;
	if (al_secp_size() > sizeof(secp_mem) ||
	    al_secp_create(&secp, secp_mem, sizeof(secp_mem), NULL) != AL_OK)
		abort();
	for (int i = 0; i < 2; i++) {
		memset(k.k, 0x21 + i, sizeof(k.k));
		if (al_vss_auth_sign(secp, auth[i], sizeof(auth[i]), &n, &k,
		                     (uint64_t)time(NULL)) != AL_OK)
			abort();
	}
	app_server_mkdir(&server);
	if (st_db_open_sqlite(&svc.db, server.dir, why, sizeof(why)) != AL_OK)
		abort();
	svc.secp = secp;
	svc.max_body = MAX_BODY;
	app_server_start(&server, st_service_handle, &svc, MAX_BODY);
	atexit(cleanup);
}

static void check(const al_httpc_response *res, const char *method, const char *path, bool signed_)
{
	const char *v = al_httpc_header(res, AL_VSS_PROTOCOL_HEADER);
	al_vss_op op;
	al_vss_kv kv;
	al_vss_list_resp list;
	al_arena a;
	al_err e;

	al_arena_init(&a, mem, sizeof(mem));
	if (v == NULL || strcmp(v, AL_VSS_PROTOCOL_VERSION) != 0)
		abort();
	if (res->status != 200) {
		e = al_vss_response_status(&a, res->status, res->body, res->body_len, NULL, 0);
		if (e == AL_OK || e == AL_E_VSS_HTTP)
			abort();
		return;
	}
	if (!signed_ || strcmp(method, "POST") != 0 ||
	    !al_vss_op_from_path(&op, path, strcspn(path, "?")))
		abort();
	switch (op) {
	case AL_VSS_GET:
		e = al_vss_decode_get_resp(&a, &kv, res->body, res->body_len, NULL);
		break;
	case AL_VSS_LIST:
		e = al_vss_decode_list_resp(&a, &list, res->body, res->body_len);
		break;
	default:
		e = al_vss_decode_empty_resp(&a, res->body, res->body_len);
	}
	if (e != AL_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[32], target[512], hdr[256];
	const uint8_t *rest, *nl, *body;
	size_t rest_len, hlen, body_len;
	al_http_field field = {"Authorization", hdr};
	al_httpc_response res;
	bool signed_ = false;
	size_t n_fields = 1;

	setup();
	/* HEAD answers carry no body, so no ErrorResponse to check. */
	if (!app_server_line(data, size, method, target, &rest, &rest_len) ||
	    strcmp(method, "HEAD") == 0)
		return 0;
	nl = memchr(rest, '\n', rest_len);
	hlen = nl ? (size_t)(nl - rest) : rest_len;
	if (hlen >= sizeof(hdr) || memchr(rest, 0, hlen) != NULL)
		return 0;
	body = nl ? nl + 1 : rest + rest_len;
	body_len = (size_t)(rest + rest_len - body);
	if (hlen == 1 && (rest[0] == 'A' || rest[0] == 'B')) {
		strcpy(hdr, auth[rest[0] - 'A']);
		signed_ = true;
	} else if (hlen == 1 && rest[0] == '-') {
		n_fields = 0;
	} else {
		memcpy(hdr, rest, hlen);
		hdr[hlen] = '\0';
	}
	if (app_server_request(&server, &res, method, target, &field, n_fields, body, body_len) !=
	    AL_OK)
		return 0;
	check(&res, method, target, signed_);
	al_httpc_response_free(&res);
	return 0;
}
