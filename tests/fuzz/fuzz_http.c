/* HTTP/1.1 requests and responses (chunked included), and URLs.
 *
 * The first byte picks the mode: bit 0 request/response, bit 1 small limits, bits 2-3
 * the response flags (EOF, HEAD). Whatever the input, parsing must not crash or read
 * outside the buffer and must give AL_OK, "need more", or an HTTP error. A message
 * that parses must fit in the input with its body inside it; for a short input, every
 * strict prefix of it must be "need more" (never an error, never a different message);
 * a parsed request written back with the writer must parse to the same method, target
 * and body. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool expected_err(al_err e)
{
	return e == AL_OK || e == AL_E_TRUNCATED ||
	       (e >= AL_E_HTTP_INCOMPLETE && e <= AL_E_HTTP_HOST);
}

static al_err parse(bool response, const al_http_limits *lim, unsigned flags, uint8_t *buf,
                    size_t len, al_http_request *req, al_http_response *res)
{
	if (response)
		return al_http_parse_response(res, lim, buf, len, flags);
	return al_http_parse_request(req, lim, buf, len);
}

static void check_prefixes(bool response, const al_http_limits *lim, unsigned flags,
                           const uint8_t *data, size_t msg_len)
{
	static al_http_request req;
	static al_http_response res;
	uint8_t *buf = malloc(msg_len ? msg_len : 1);
	if (!buf)
		abort();
	for (size_t i = 0; i < msg_len; i++) {
		memcpy(buf, data, i);
		if (parse(response, lim, flags & ~AL_HTTP_RES_EOF, buf, i, &req, &res) !=
		    AL_E_HTTP_INCOMPLETE)
			abort();
	}
	free(buf);
}

/* Write the request back and parse it again. */
static void round_trip(const al_http_request *req)
{
	static al_http_field fields[AL_HTTP_MAX_HEADERS];
	static al_http_request again;
	const char *host = al_http_request_header(req, "host");
	al_http_limits big = {4 * AL_HTTP_DEFAULT_MAX_HEAD, 0, 0};
	size_t n = 0, cap = 2 * AL_HTTP_DEFAULT_MAX_HEAD + req->body_len + 64;
	uint8_t *out;
	al_wb w;

	for (size_t i = 0; i < req->n_headers; i++) {
		const char *name = req->headers[i].name;
		if (!strcasecmp(name, "host") || !strcasecmp(name, "content-length") ||
		    !strcasecmp(name, "transfer-encoding"))
			continue;
		fields[n].name = name;
		fields[n].value = req->headers[i].value;
		n++;
	}
	if (n + 2 > AL_HTTP_MAX_HEADERS)
		return; /* Host and Content-Length would not fit in the table */
	out = malloc(cap);
	if (!out)
		abort();
	al_wb_init(&w, out, cap);
	if (al_http_write_request(&w, req->method, req->target, host ? host : "", fields, n,
	                          req->body, req->body_len) != AL_OK)
		abort();
	if (al_http_parse_request(&again, &big, out, w.len) != AL_OK)
		abort();
	if (strcmp(again.method, req->method) || strcmp(again.target, req->target) ||
	    again.body_len != req->body_len ||
	    (req->body_len && memcmp(again.body, req->body, req->body_len)) ||
	    again.msg_len != w.len)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static al_http_request req;
	static al_http_response res;
	al_http_limits small = {256, 8, 512};
	const al_http_limits *lim;
	bool response;
	unsigned flags;
	uint8_t *buf;
	al_url url;
	al_err e;

	if (size < 1)
		return 0;
	response = data[0] & 1;
	lim = (data[0] & 2) ? &small : NULL;
	flags = ((data[0] >> 2) & 1 ? AL_HTTP_RES_EOF : 0) |
	        ((data[0] >> 3) & 1 ? AL_HTTP_RES_HEAD : 0);
	data++;
	size--;
	e = al_url_parse(&url, (const char *)data, size);
	if (e != AL_OK && e != AL_E_HTTP_URL && e != AL_E_HTTP_URL_SCHEME)
		abort();
	if (e == AL_OK && url.path_len > 1 &&
	    (url.path < (const char *)data || url.path + url.path_len > (const char *)data + size))
		abort();

	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	e = parse(response, lim, flags, buf, size, &req, &res);
	if (!expected_err(e))
		abort();
	if (e == AL_OK) {
		size_t msg_len = response ? res.msg_len : req.msg_len;
		const uint8_t *body = response ? res.body : req.body;
		size_t body_len = response ? res.body_len : req.body_len;
		if (msg_len > size || (body && (body < buf || body + body_len > buf + size)))
			abort();
		if (!response)
			round_trip(&req);
		if (size <= 600 && !(response && (flags & AL_HTTP_RES_EOF)))
			check_prefixes(response, lim, flags, data, msg_len);
	}
	free(buf);
	return 0;
}
