/* HTTP/1.1 codec: RFC 9112 examples, every truncation of valid messages (always
 * "need more", never an error), oversize inputs, request smuggling shapes (CL+TE, double
 * CL, TE variants, obs-fold, bare CR/LF, space before colon), chunked decoding in place
 * with extensions and trailers, pipelining, writers round-tripping through the parser,
 * header injection refused, URLs. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/http.h"

static al_http_request req;
static al_http_response res;

/* Parse a copy of s (the parser writes into its buffer). */
static al_err preq(const char *s, const al_http_limits *lim)
{
	static uint8_t buf[1 << 16];
	size_t n = strlen(s);
	memcpy(buf, s, n);
	return al_http_parse_request(&req, lim, buf, n);
}

static al_err pres(const char *s, unsigned flags)
{
	static uint8_t buf[1 << 16];
	size_t n = strlen(s);
	memcpy(buf, s, n);
	return al_http_parse_response(&res, NULL, buf, n, flags);
}

/* Every strict prefix of a valid message is "need more"; the whole parses. */
static void truncations(const char *s, bool response, unsigned flags)
{
	size_t n = strlen(s);
	static uint8_t buf[1 << 16]; /* outlives the call: callers read req/res */
	for (size_t i = 0; i < n; i++) {
		al_err e;
		memcpy(buf, s, i);
		e = response ? al_http_parse_response(&res, NULL, buf, i, flags)
		             : al_http_parse_request(&req, NULL, buf, i);
		if (e != AL_E_HTTP_INCOMPLETE) {
			fprintf(stderr, "prefix %zu of %zu: %s\n", i, n, al_err_name(e));
			CHECK(false);
			break;
		}
	}
	memcpy(buf, s, n);
	CHECK_OK(response ? al_http_parse_response(&res, NULL, buf, n, flags)
	                  : al_http_parse_request(&req, NULL, buf, n));
}

static void test_requests(void)
{
	/* RFC 9112 3.2.1 example, with a body. */
	CHECK_OK(preq("GET /where?q=now HTTP/1.1\r\nHost: www.example.com\r\n\r\n", NULL));
	CHECK(strcmp(req.method, "GET") == 0);
	CHECK(strcmp(req.target, "/where?q=now") == 0);
	CHECK(req.version_minor == 1 && req.keep_alive && req.body == NULL);
	CHECK(strcmp(al_http_request_header(&req, "HOST"), "www.example.com") == 0);
	CHECK(req.msg_len == strlen("GET /where?q=now HTTP/1.1\r\nHost: www.example.com\r\n\r\n"));

	CHECK_OK(preq("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	              "X-Empty:\r\nX-Ws: \t a b \t\r\nConnection: close\r\n\r\nhello",
	              NULL));
	CHECK(req.framing == AL_HTTP_BODY_LENGTH && req.body_len == 5);
	CHECK(memcmp(req.body, "hello", 5) == 0);
	CHECK(strcmp(al_http_request_header(&req, "x-empty"), "") == 0);
	CHECK(strcmp(al_http_request_header(&req, "x-ws"), "a b") == 0);
	CHECK(!req.keep_alive);
	CHECK(al_http_request_header(&req, "absent") == NULL);

	/* HTTP/1.0: no Host needed, close by default, keep-alive on request. */
	CHECK_OK(preq("GET / HTTP/1.0\r\n\r\n", NULL));
	CHECK(req.version_minor == 0 && !req.keep_alive);
	CHECK_OK(preq("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", NULL));
	CHECK(req.keep_alive);
	CHECK_OK(preq("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", NULL));
	CHECK_OK(preq("GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n", NULL));
	CHECK_OK(preq("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", NULL));
	CHECK_OK(preq("\r\n\r\nGET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", NULL));
	CHECK_OK(preq("GET / HTTP/1.9\r\nHost: h\r\n\r\n", NULL));
	CHECK(req.version_minor == 1);
	CHECK_OK(preq("GET / HTTP/1.1\r\nHost:\r\n\r\n", NULL)); /* empty Host is allowed */
	CHECK_OK(preq("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n", NULL)); /* obs-text */

	/* Expect: 100-continue is visible with the head before the body arrives. */
	CHECK_ERR(preq("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	               "Content-Length: 10\r\n\r\nabc",
	               NULL),
	          AL_E_HTTP_INCOMPLETE);
	CHECK(req.head_len > 0 && req.expect_continue && req.content_length == 10);
}

static void test_bad_requests(void)
{
	static const struct {
		const char *msg;
		al_err want;
	} t[] = {
	    {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", AL_E_HTTP_REQUEST_LINE},
	    {"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", AL_E_HTTP_METHOD},
	    {" GET / HTTP/1.1\r\nHost: h\r\n\r\n", AL_E_HTTP_REQUEST_LINE},
	    {"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", AL_E_HTTP_TARGET},
	    {"GET x HTTP/1.1\r\nHost: h\r\n\r\n", AL_E_HTTP_TARGET},
	    {"GET /#f HTTP/1.1\r\nHost: h\r\n\r\n", AL_E_HTTP_TARGET},
	    {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", AL_E_HTTP_VERSION},
	    {"GET / http/1.1\r\nHost: h\r\n\r\n", AL_E_HTTP_VERSION},
	    {"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", AL_E_HTTP_VERSION},
	    {"GET / HTTP/1.1\r\n\r\n", AL_E_HTTP_HOST},
	    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", AL_E_HTTP_HOST},
	    {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", AL_E_HTTP_HOST},
	    {"GET / HTTP/1.1\nHost: h\r\n\r\n", AL_E_HTTP_LINE_ENDING},
	    {"GET / HTTP/1.1\r\nHost: h\n\r\n", AL_E_HTTP_LINE_ENDING},
	    {"GET / HTTP/1.1\r\nHost: h\r\n\n", AL_E_HTTP_LINE_ENDING},
	    {"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", AL_E_HTTP_LINE_ENDING},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", AL_E_HTTP_OBS_FOLD},
	    {"GET / HTTP/1.1\r\n Host: h\r\n\r\n", AL_E_HTTP_OBS_FOLD},
	    {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", AL_E_HTTP_SPACE_BEFORE_COLON},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX\t: y\r\n\r\n", AL_E_HTTP_SPACE_BEFORE_COLON},
	    {"GET / HTTP/1.1\r\nHost: h\r\n: y\r\n\r\n", AL_E_HTTP_HEADER_NAME},
	    {"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", AL_E_HTTP_HEADER_NAME},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX(: y\r\n\r\n", AL_E_HTTP_HEADER_NAME},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", AL_E_HTTP_HEADER_VALUE},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", AL_E_HTTP_HEADER_VALUE},
	    /* smuggling: RFC 9112 6.1, 6.3 */
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n"
	     "\r\n0\r\n\r\n",
	     AL_E_HTTP_CL_AND_TE},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n"
	     "\r\n0\r\n\r\n",
	     AL_E_HTTP_CL_AND_TE},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	     AL_E_HTTP_CONTENT_LENGTH},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc",
	     AL_E_HTTP_CONTENT_LENGTH},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc",
	     AL_E_HTTP_CONTENT_LENGTH},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\nabc",
	     AL_E_HTTP_CONTENT_LENGTH},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", AL_E_HTTP_CONTENT_LENGTH},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	     AL_E_HTTP_CONTENT_LENGTH},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	     AL_E_HTTP_TRANSFER_ENCODING},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	     AL_E_HTTP_TRANSFER_ENCODING},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	     AL_E_HTTP_TRANSFER_ENCODING},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n",
	     AL_E_HTTP_TRANSFER_ENCODING},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;a=b\r\n\r\n",
	     AL_E_HTTP_TRANSFER_ENCODING},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n",
	     AL_E_HTTP_TRANSFER_ENCODING},
	    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	     AL_E_HTTP_TRANSFER_ENCODING},
	    {"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	     AL_E_HTTP_REQUEST_LINE},
	    /* chunked framing */
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n",
	     AL_E_HTTP_CHUNK},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
	     AL_E_HTTP_CHUNK},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc",
	     AL_E_HTTP_LINE_ENDING},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n",
	     AL_E_HTTP_LINE_ENDING},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc",
	     AL_E_HTTP_CHUNK},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc",
	     AL_E_HTTP_CHUNK},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"b\nc\"\r\n",
	     AL_E_HTTP_LINE_ENDING},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n",
	     AL_E_HTTP_CHUNK},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : y\r\n\r\n",
	     AL_E_HTTP_SPACE_BEFORE_COLON},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "fffffffffffffffffffff\r\n",
	     AL_E_HTTP_BODY_TOO_LARGE},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		al_err e = preq(t[i].msg, NULL);
		if (e != t[i].want) {
			fprintf(stderr, "case %zu: got %s want %s\n", i, al_err_name(e),
			        al_err_name(t[i].want));
			CHECK(false);
		}
	}
	/* An invalid byte is reported as soon as it is seen, not only at the line end. */
	CHECK_ERR(preq("GET /\x01", NULL), AL_E_HTTP_TARGET);
	CHECK_ERR(preq("GET / HTTP/1.1\r\nHo st", NULL), AL_E_HTTP_SPACE_BEFORE_COLON);
	CHECK_ERR(preq("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01", NULL), AL_E_HTTP_HEADER_VALUE);
}

static void test_chunked(void)
{
	const char *m = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
	                "4\r\nWiki\r\n"
	                "5;ext=val;q=\"a \\\" b\"\r\npedia\r\n"
	                "000E ; x\r\n in\r\n\r\nchunks.\r\n"
	                "0\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\n"
	                "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t n = strlen(m);
	uint8_t *buf = malloc(n);

	memcpy(buf, m, n);
	CHECK_OK(al_http_parse_request(&req, NULL, buf, n));
	CHECK(req.framing == AL_HTTP_BODY_CHUNKED);
	CHECK(req.body_len == 23);
	CHECK(memcmp(req.body, "Wikipedia in\r\n\r\nchunks.", 23) == 0);
	/* Pipelining: the next request starts at msg_len. */
	CHECK(strncmp((const char *)buf + req.msg_len, "GET /next", 9) == 0);
	CHECK_OK(al_http_parse_request(&req, NULL, buf + req.msg_len, n - req.msg_len));
	CHECK(strcmp(req.target, "/next") == 0);
	free(buf);
	/* Every prefix is incomplete. */
	truncations("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	            "4;a=\"q\"\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n",
	            false, 0);
	CHECK(req.body_len == 9 && memcmp(req.body, "Wikipedia", 9) == 0);
	truncations("POST /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n"
	            "Connection: keep-alive\r\n\r\nhello world",
	            false, 0);
	truncations("\r\nGET / HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n", false, 0);
}

static void test_limits(void)
{
	al_http_limits lim = {64, 3, 10};
	char big[200];

	CHECK_ERR(preq("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &lim),
	          AL_E_HTTP_TOO_MANY_HEADERS);
	CHECK_OK(preq("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", &lim));
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	big[sizeof(big) - 1] = 0;
	CHECK_ERR(preq(big, &lim), AL_E_HTTP_HEAD_TOO_LARGE);
	/* A head of exactly max_head bytes fits; one more does not. */
	{
		char h[65];
		const char *pre = "GET / HTTP/1.1\r\nHost: ";
		size_t pl = strlen(pre);
		memcpy(h, pre, pl);
		memset(h + pl, 'x', 64 - pl - 4);
		memcpy(h + 60, "\r\n\r\n", 4);
		h[64] = 0;
		CHECK_OK(preq(h, &lim));
		CHECK(req.head_len == 64);
		lim.max_head = 63;
		CHECK_ERR(preq(h, &lim), AL_E_HTTP_HEAD_TOO_LARGE);
		lim.max_head = 64;
	}
	/* The body limit is checked from Content-Length before the body arrives. */
	CHECK_ERR(preq("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", &lim),
	          AL_E_HTTP_BODY_TOO_LARGE);
	CHECK_OK(preq("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", &lim));
	CHECK_ERR(preq("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	               "6\r\nabcdef\r\n5\r\n",
	               &lim),
	          AL_E_HTTP_BODY_TOO_LARGE);
	lim.max_head = 1000;
	CHECK_OK(preq("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	              "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n",
	              &lim));
	CHECK(req.body_len == 10);
	CHECK(al_http_max_message(&lim) == 1000 + 2 * 10 + 1000);
}

static void test_responses(void)
{
	const char *r =
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
	CHECK_OK(pres(r, 0));
	CHECK(res.status == 200 && strcmp(res.reason, "OK") == 0 && res.keep_alive);
	CHECK(res.body_len == 2 && memcmp(res.body, "ok", 2) == 0);
	CHECK(strcmp(al_http_response_header(&res, "content-type"), "text/plain") == 0);
	truncations(r, true, 0);
	/* Close-delimited bodies complete only at end of stream. */
	CHECK_ERR(pres("HTTP/1.1 200 OK\r\n\r\nabc", 0), AL_E_HTTP_INCOMPLETE);
	CHECK_OK(pres("HTTP/1.1 200 OK\r\n\r\nabc", AL_HTTP_RES_EOF));
	CHECK(res.framing == AL_HTTP_BODY_CLOSE && res.body_len == 3 && !res.keep_alive);
	CHECK_ERR(pres("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", AL_HTTP_RES_EOF),
	          AL_E_TRUNCATED);
	CHECK_ERR(pres("HTTP/1.1 200 O", AL_HTTP_RES_EOF), AL_E_TRUNCATED);
	/* No body for HEAD, 1xx, 204, 304. */
	CHECK_OK(pres("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", AL_HTTP_RES_HEAD));
	CHECK(res.body_len == 0 && res.keep_alive);
	CHECK_OK(pres("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 0));
	CHECK(res.status == 100 && res.msg_len == 25);
	CHECK_OK(pres("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 0));
	CHECK(res.body_len == 0);
	CHECK_OK(pres("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 0));
	CHECK(res.status == 404 && res.reason_len == 0);
	CHECK_OK(pres("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0));
	CHECK(!res.keep_alive);
	CHECK_OK(pres("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	              "3\r\nabc\r\n0\r\n\r\n",
	              0));
	CHECK(res.body_len == 3 && memcmp(res.body, "abc", 3) == 0);
	CHECK_ERR(pres("HTTP/1.1 20 OK\r\n\r\n", 0), AL_E_HTTP_STATUS_LINE);
	CHECK_ERR(pres("HTTP/1.1 099 OK\r\n\r\n", 0), AL_E_HTTP_STATUS_LINE);
	CHECK_ERR(pres("HTTP/1.1 200OK\r\n\r\n", 0), AL_E_HTTP_STATUS_LINE);
	CHECK_ERR(pres("HTTP/1.1 200 O\x01K\r\n\r\n", 0), AL_E_HTTP_STATUS_LINE);
	CHECK_ERR(pres("HTTQ/1.1 200 OK\r\n\r\n", 0), AL_E_HTTP_VERSION);
	CHECK_ERR(pres("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n"
	               "\r\n",
	               0),
	          AL_E_HTTP_CL_AND_TE);
	CHECK_ERR(pres("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0),
	          AL_E_HTTP_TRANSFER_ENCODING);
}

static void test_writers(void)
{
	uint8_t buf[512];
	al_wb w;
	al_http_field f[] = {{"Content-Type", "application/json"}, {"X-A", "1"}};
	al_http_field bad_v[] = {{"X", "a\r\nInjected: 1"}};
	al_http_field bad_n[] = {{"X Y", "1"}};
	al_http_field res_f[] = {{"Content-Length", "1"}};
	const char *want = "POST /v1/x HTTP/1.1\r\nHost: [::1]:8080\r\nContent-Type: "
	                   "application/json\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n{}";

	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(al_http_write_request(&w, "POST", "/v1/x", "[::1]:8080", f, 2,
	                               (const uint8_t *)"{}", 2));
	CHECK(w.len == strlen(want) && memcmp(buf, want, w.len) == 0);
	CHECK_OK(al_http_parse_request(&req, NULL, buf, w.len));
	CHECK(req.body_len == 2);
	al_wb_init(&w, buf, sizeof(buf));
	CHECK_ERR(al_http_write_request(&w, "GET", "/", "h", bad_v, 1, NULL, 0),
	          AL_E_HTTP_HEADER_VALUE);
	CHECK_ERR(al_http_write_request(&w, "GET", "/", "h", bad_n, 1, NULL, 0),
	          AL_E_HTTP_HEADER_NAME);
	CHECK_ERR(al_http_write_request(&w, "GET", "/ x", "h", NULL, 0, NULL, 0), AL_E_HTTP_TARGET);
	CHECK_ERR(al_http_write_request(&w, "G T", "/", "h", NULL, 0, NULL, 0), AL_E_HTTP_METHOD);
	CHECK_ERR(al_http_write_request(&w, "GET", "/", "h\r\n", NULL, 0, NULL, 0), AL_E_HTTP_HOST);
	CHECK_ERR(al_http_write_request(&w, "GET", "/", "h", res_f, 1, NULL, 0), AL_E_ARG);
	/* A GET without a body has no Content-Length. */
	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(al_http_write_request(&w, "GET", "/", "h", NULL, 0, NULL, 0));
	CHECK(w.len == strlen("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
	/* Too small a buffer. */
	al_wb_init(&w, buf, 10);
	CHECK_ERR(al_http_write_request(&w, "GET", "/", "h", NULL, 0, NULL, 0), AL_E_BUFSIZE);

	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(al_http_write_response(&w, 404, f, 1, (const uint8_t *)"nope", 4, true));
	CHECK_OK(al_http_parse_response(&res, NULL, buf, w.len, 0));
	CHECK(res.status == 404 && strcmp(res.reason, "Not Found") == 0 && !res.keep_alive);
	CHECK(res.body_len == 4);
	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(al_http_write_response(&w, 204, NULL, 0, NULL, 0, false));
	CHECK(w.len == strlen("HTTP/1.1 204 No Content\r\n\r\n"));
	CHECK_ERR(al_http_write_response_head(&w, 204, NULL, NULL, 0, 3, false), AL_E_ARG);
	CHECK_ERR(al_http_write_response_head(&w, 200, NULL, res_f, 1, 3, false), AL_E_ARG);
	CHECK_ERR(al_http_write_response_head(&w, 200, "a\nb", NULL, 0, 3, false),
	          AL_E_HTTP_HEADER_VALUE);
	/* Chunked writing round-trips. */
	al_wb_init(&w, buf, sizeof(buf));
	CHECK_OK(
	    al_http_write_response_head(&w, 200, NULL, NULL, 0, AL_HTTP_LENGTH_CHUNKED, false));
	CHECK_OK(al_http_write_chunk(&w, (const uint8_t *)"0123456789abcdefXYZ", 19));
	CHECK_OK(al_http_write_chunk(&w, (const uint8_t *)"!", 1));
	CHECK_OK(al_http_write_chunk(&w, NULL, 0));
	CHECK_OK(al_http_parse_response(&res, NULL, buf, w.len, 0));
	CHECK(res.body_len == 20 && memcmp(res.body, "0123456789abcdefXYZ!", 20) == 0);
	CHECK(strcmp(al_http_reason(431), "Request Header Fields Too Large") == 0);
}

static void test_urls(void)
{
	al_url u;
	const char *s = "https://blockstream.info/api/blocks/tip/height#frag";
	CHECK_OK(al_url_parse(&u, s, strlen(s)));
	CHECK(u.https && u.port == 443 && strcmp(u.host, "blockstream.info") == 0);
	CHECK(u.path_len == strlen("/api/blocks/tip/height"));
	CHECK(strncmp(u.path, "/api/blocks/tip/height", u.path_len) == 0);
	CHECK(strcmp(u.authority, "blockstream.info") == 0);
	s = "http://[::1]:3002/x?y=1";
	CHECK_OK(al_url_parse(&u, s, strlen(s)));
	CHECK(!u.https && u.host_is_ip6 && u.port == 3002 && strcmp(u.host, "::1") == 0);
	CHECK(strcmp(u.authority, "[::1]:3002") == 0);
	CHECK(u.path_len == 6);
	s = "HTTP://127.0.0.1";
	CHECK_OK(al_url_parse(&u, s, strlen(s)));
	CHECK(u.port == 80 && u.path_len == 1 && u.path[0] == '/');
	s = "http://h:/";
	CHECK_OK(al_url_parse(&u, s, strlen(s)));
	CHECK(u.port == 80);
	CHECK_ERR(al_url_parse(&u, "ftp://h/", 8), AL_E_HTTP_URL_SCHEME);
	CHECK_ERR(al_url_parse(&u, "h/x", 3), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http://u:p@h/", 13), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http://h:0/", 11), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http://h:65536/", 15), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http://h:8x/", 12), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http:///x", 9), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http://[::1/", 12), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http://[::1]x/", 14), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http://h x/", 11), AL_E_HTTP_URL);
	CHECK_ERR(al_url_parse(&u, "http://h?q", 10), AL_E_HTTP_URL);
}

int main(void)
{
	test_requests();
	test_bad_requests();
	test_chunked();
	test_limits();
	test_responses();
	test_writers();
	test_urls();
	return al_t_finish();
}
