#include "service.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct call {
	st_service *svc;
	const al_httpd_req *req;
	al_httpd_res *res;
	al_arena a;
	st_scope scope;
} call;

static void reply(al_httpd_res *res, int status, const uint8_t *body, size_t len)
{
	al_httpd_res_status(res, status);
	if (al_httpd_res_header(res, "Content-Type", AL_VSS_CONTENT_TYPE) != AL_OK ||
	    (len && al_httpd_res_body(res, body, len) != AL_OK))
		al_httpd_res_text(res, 500, "response too large");
}

static void reply_message(al_httpd_res *res, int status, al_vss_code code, const char *msg)
{
	uint8_t buf[512], mem[64];
	al_arena a;
	size_t n;

	al_arena_init(&a, mem, sizeof(mem));
	if (al_vss_encode_error(&a, buf, sizeof(buf), &n, code, msg) != AL_OK)
		n = 0;
	reply(res, status, buf, n);
}

/* The status and ErrorCode VSS gives the failure, and our precise reason as message. */
static void reply_error(al_httpd_res *res, al_err e)
{
	al_vss_code code;
	int status;

	al_vss_error_status(e, &status, &code);
	reply_message(res, status, code, al_err_str(e));
}

/* A response message: ask the encoder for the size, then encode into a fresh buffer. */
typedef al_err (*encode_fn)(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, const void *msg);

static al_err reply_encoded(call *c, encode_fn enc, const void *msg)
{
	uint8_t *buf;
	size_t n = 0;
	al_err e = enc(&c->a, NULL, 0, &n, msg);

	if (e != AL_E_BUFSIZE && e != AL_OK)
		return e;
	buf = malloc(n ? n : 1);
	if (!buf)
		return AL_E_NOMEM;
	e = enc(&c->a, buf, n, &n, msg);
	if (e == AL_OK)
		reply(c->res, 200, buf, n);
	free(buf);
	return e;
}

static al_err enc_get(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, const void *msg)
{
	return al_vss_encode_get_resp(a, out, cap, outlen, msg);
}

static al_err enc_list(al_arena *a, uint8_t *out, size_t cap, size_t *outlen, const void *msg)
{
	return al_vss_encode_list_resp(a, out, cap, outlen, msg);
}

static al_err do_get(call *c)
{
	const st_db *db = &c->svc->db;
	al_vss_get_req r;
	al_vss_kv kv;
	uint8_t *value = NULL;
	size_t len = 0;
	int64_t version = 0;
	al_err e;

	AL_TRY(al_vss_decode_get_req(&c->a, &r, c->req->body, c->req->body_len));
	c->scope.store_id = r.store_id;
	/* vss-server: the reserved key reads as the global version, with no value. */
	if (strcmp(r.key, AL_VSS_GLOBAL_VERSION_KEY) == 0)
		e = db->ops->global(db->ctx, &c->scope, &version);
	else
		e = db->ops->get(db->ctx, &c->scope, r.key, &value, &len, &version);
	kv = (al_vss_kv){r.key, r.keylen, version, value, len};
	if (e == AL_OK)
		e = reply_encoded(c, enc_get, &kv);
	free(value);
	return e;
}

static al_err do_put(call *c)
{
	const st_db *db = &c->svc->db;
	al_vss_put_req r;

	AL_TRY(al_vss_decode_put_req(&c->a, &r, c->req->body, c->req->body_len));
	c->scope.store_id = r.store_id;
	AL_TRY(db->ops->put(db->ctx, &c->scope, &r));
	reply(c->res, 200, NULL, 0); /* PutObjectResponse {} */
	return AL_OK;
}

static al_err do_delete(call *c)
{
	const st_db *db = &c->svc->db;
	al_vss_delete_req r;

	AL_TRY(al_vss_decode_delete_req(&c->a, &r, c->req->body, c->req->body_len));
	c->scope.store_id = r.store_id;
	AL_TRY(db->ops->del(db->ctx, &c->scope, &r.item));
	reply(c->res, 200, NULL, 0); /* DeleteObjectResponse {} */
	return AL_OK;
}

typedef struct page {
	al_vss_kv items[AL_VSS_PAGE_MAX];
	size_t n;
	int64_t last;
} page;

static al_err add_item(void *arg, const char *key, size_t keylen, int64_t version, int64_t seq)
{
	page *p = arg;
	char *k;

	if (p->n == AL_VSS_PAGE_MAX || !(k = malloc(keylen + 1)))
		return AL_E_STORE_BACKEND;
	memcpy(k, key, keylen);
	k[keylen] = 0;
	p->items[p->n++] = (al_vss_kv){k, keylen, version, NULL, 0};
	p->last = seq;
	return AL_OK;
}

/* Our page token: the creation number of the last object listed, in decimal. */
static al_err parse_token(int64_t *before, const char *t)
{
	int64_t v = 0;

	*before = INT64_MAX;
	if (!t || !t[0])
		return AL_OK;
	for (; *t; t++) {
		if (*t < '0' || *t > '9' || v > (INT64_MAX - (*t - '0')) / 10)
			return AL_E_VSS_PAGE;
		v = v * 10 + (*t - '0');
	}
	if (v <= 0)
		return AL_E_VSS_PAGE;
	*before = v;
	return AL_OK;
}

static al_err do_list(call *c)
{
	const st_db *db = &c->svc->db;
	al_vss_list_req r;
	al_vss_list_resp out = {0};
	page *p = calloc(1, sizeof(*p));
	char token[24] = "";
	int64_t before, global = 0;
	size_t limit, i;
	bool first;
	al_err e;

	if (!p)
		return AL_E_NOMEM;
	e = al_vss_decode_list_req(&c->a, &r, c->req->body, c->req->body_len);
	if (e == AL_OK)
		e = parse_token(&before, r.page_token);
	if (e != AL_OK)
		goto done;
	c->scope.store_id = r.store_id;
	/* "If the `page_size` is 0 or not set, the server will decide"; it may also
	 * "further constrain the maximum number of results returned in a single page". */
	limit = r.page_size > 0 && r.page_size < AL_VSS_PAGE_MAX ? (size_t)r.page_size
	                                                         : AL_VSS_PAGE_MAX;
	first = before == INT64_MAX;
	e = db->ops->list(db->ctx, &c->scope, r.key_prefix, r.key_prefix ? strlen(r.key_prefix) : 0,
	                  before, limit, first ? &global : NULL, add_item, p);
	if (e != AL_OK)
		goto done;
	/* A full page may have a successor; a short one is the last ("" ends the list). */
	if (p->n == limit)
		snprintf(token, sizeof(token), "%" PRId64, p->last);
	out = (al_vss_list_resp){p->items, p->n, token, first, global};
	e = reply_encoded(c, enc_list, &out);
done:
	for (i = 0; i < p->n; i++)
		free((void *)p->items[i].key);
	free(p);
	return e;
}

static al_err dispatch(call *c, al_vss_op op)
{
	switch (op) {
	case AL_VSS_GET:
		return do_get(c);
	case AL_VSS_PUT:
		return do_put(c);
	case AL_VSS_DELETE:
		return do_delete(c);
	case AL_VSS_LIST:
		return do_list(c);
	}
	return AL_E_ARG;
}

void st_service_handle(void *arg, const al_httpd_req *req, al_httpd_res *res)
{
	call c = {.svc = arg, .req = req, .res = res};
	const char *auth;
	size_t size;
	uint8_t *mem;
	al_vss_op op;
	al_err e;

	/* Constant, valid fields: adding them cannot fail. */
	if (al_httpd_res_header(res, AL_VSS_PROTOCOL_HEADER, AL_VSS_PROTOCOL_VERSION) != AL_OK) {
		al_httpd_res_text(res, 500, "response header");
		return;
	}
	if (!al_vss_op_from_path(&op, req->path, strlen(req->path))) {
		reply_message(res, 404, AL_VSS_INVALID_REQUEST, "unknown path");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		if (al_httpd_res_header(res, "Allow", "POST") != AL_OK) {
			al_httpd_res_text(res, 500, "response header");
			return;
		}
		reply_message(res, 405, AL_VSS_INVALID_REQUEST, "method not allowed: use POST");
		return;
	}
	/* The user is whoever signed: everything below is scoped to that key. */
	auth = al_http_request_header(req->http, "authorization");
	e = al_vss_auth_verify(c.svc->secp, c.scope.user, auth, auth ? strlen(auth) : 0,
	                       (uint64_t)time(NULL));
	if (e == AL_OK && req->body_len > c.svc->max_body)
		e = AL_E_VSS_TOO_LARGE;
	if (e != AL_OK) {
		reply_error(res, e);
		return;
	}
	size = al_vss_decode_arena_size(req->body_len);
	mem = malloc(size);
	if (!mem) {
		reply_error(res, AL_E_NOMEM);
		return;
	}
	al_arena_init(&c.a, mem, size);
	e = dispatch(&c, op);
	if (e != AL_OK)
		reply_error(res, e);
	free(mem);
}
