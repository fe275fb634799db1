/* HTTP/1.1 message codec (RFC 9112), sans-I/O.
 *
 * Parsing works on a caller buffer holding the bytes received so far. Call the parser
 * again with the whole (grown) buffer whenever more bytes arrive:
 *
 *   AL_OK                 a complete message starts at buf[0]; it used msg_len bytes.
 *                         The parser has written NUL terminators over the delimiters
 *                         (so every string field below is a C string) and, for a
 *                         chunked body, decoded the body in place. The next pipelined
 *                         message starts at buf + msg_len.
 *   AL_E_HTTP_INCOMPLETE  every byte seen so far is valid but the message is not
 *                         complete: read more and call again. buf is untouched. If the
 *                         head is complete, head_len is nonzero and the head fields
 *                         (method, headers, framing) are already filled in, so a server
 *                         can answer "Expect: 100-continue" or refuse early.
 *   any other al_err      the message is invalid for the reason named (see the HTTP
 *                         section of util/err.h); buf is untouched. A server answers
 *                         400 (413 for the size errors) and closes the connection.
 *
 * Every prefix of a valid message yields AL_E_HTTP_INCOMPLETE, never an error; an
 * invalid byte yields its error as soon as it is seen. Sizes beyond the caller's
 * limits are errors, never truncation.
 *
 * Policy (strict where RFC 9112 lets a recipient choose, because lenient parsing is
 * what request smuggling feeds on):
 *  - lines end in CRLF; a bare LF or bare CR anywhere in the head or in chunk framing
 *    is AL_E_HTTP_LINE_ENDING (RFC 9112 2.2 allows either);
 *  - obs-fold and whitespace before the first header are rejected (AL_E_HTTP_OBS_FOLD);
 *    whitespace between a field name and the colon is AL_E_HTTP_SPACE_BEFORE_COLON
 *    (RFC 9112 5.1: "A server MUST reject, with a response status code of 400 (Bad
 *    Request), any received request message that contains whitespace between a header
 *    field name and colon.");
 *  - Content-Length together with Transfer-Encoding is AL_E_HTTP_CL_AND_TE (RFC 9112
 *    6.1: "ought to be handled as an error"); duplicate or list-valued Content-Length
 *    is AL_E_HTTP_CONTENT_LENGTH;
 *  - the only transfer coding understood is a single "chunked"; anything else, and any
 *    Transfer-Encoding in an HTTP/1.0 message, is AL_E_HTTP_TRANSFER_ENCODING;
 *  - an HTTP/1.1 request needs exactly one Host field (RFC 9112 3.2), else AL_E_HTTP_HOST;
 *  - up to AL_HTTP_MAX_LEADING_CRLF empty lines before a request line are ignored
 *    (RFC 9112 2.2: "SHOULD ignore at least one empty line (CRLF)").
 *
 * Writers append to an al_wb (util/cursor.h) and refuse fields that would let a value
 * inject a header or a message (CR, LF, NUL, non-token names). */
#ifndef ALIGHT_UTIL_HTTP_H
#define ALIGHT_UTIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"
#include "util/err.h"

/* Capacity of the header table inside a parsed message. */
#define AL_HTTP_MAX_HEADERS      64
#define AL_HTTP_MAX_LEADING_CRLF 8

/* Size limits given by the caller. Zero fields take the defaults below. */
typedef struct al_http_limits {
	size_t max_head;    /* start line + fields + final CRLF (chunk trailers count too) */
	size_t max_headers; /* number of field lines, at most AL_HTTP_MAX_HEADERS */
	size_t max_body;    /* decoded body bytes */
} al_http_limits;

#define AL_HTTP_DEFAULT_MAX_HEAD (16u * 1024u)
#define AL_HTTP_DEFAULT_MAX_BODY (1024u * 1024u)

/* One field line; name and value point into the parsed buffer, NUL-terminated once the
 * parse returned AL_OK (before that, use the lengths). The value has its optional
 * surrounding whitespace removed. */
typedef struct al_http_header {
	const char *name;
	const char *value;
	size_t name_len;
	size_t value_len;
} al_http_header;

/* Framing of a body, as RFC 9112 6.3 determines it. */
typedef enum al_http_framing {
	AL_HTTP_BODY_NONE = 0,   /* no body (request without CL/TE, HEAD/1xx/204/304 response) */
	AL_HTTP_BODY_LENGTH = 1, /* Content-Length */
	AL_HTTP_BODY_CHUNKED = 2,
	AL_HTTP_BODY_CLOSE = 3, /* response delimited by the connection closing */
} al_http_framing;

typedef struct al_http_request {
	const char *method; /* token, e.g. "GET" */
	const char *target; /* request-target as sent, e.g. "/v1/getinfo?x=1" */
	size_t method_len;
	size_t target_len;
	uint8_t version_minor; /* 0 or 1 (HTTP/1.x with x > 1 is read as 1.1) */
	al_http_header headers[AL_HTTP_MAX_HEADERS];
	size_t n_headers;
	al_http_framing framing;
	uint64_t content_length; /* when framing is AL_HTTP_BODY_LENGTH */
	const uint8_t *body;     /* decoded body (inside buf), NULL if none */
	size_t body_len;
	size_t head_len;      /* bytes of the head, leading CRLFs included; 0 while incomplete */
	size_t msg_len;       /* bytes of buf the whole message used (AL_OK only) */
	bool keep_alive;      /* the connection may carry another request after this one */
	bool expect_continue; /* "Expect: 100-continue" */
} al_http_request;

typedef struct al_http_response {
	int status; /* 100..999 */
	const char *reason;
	size_t reason_len;
	uint8_t version_minor;
	al_http_header headers[AL_HTTP_MAX_HEADERS];
	size_t n_headers;
	al_http_framing framing;
	uint64_t content_length;
	const uint8_t *body;
	size_t body_len;
	size_t head_len;
	size_t msg_len;
	bool keep_alive;
} al_http_response;

/* al_http_parse_response flags. */
#define AL_HTTP_RES_EOF  0x1u /* the peer closed: a close-delimited body is complete */
#define AL_HTTP_RES_HEAD 0x2u /* the response answers a HEAD request: it has no body */

/* A chunked body may use at most 2 * max_body + max_head bytes on the wire (framing,
 * extensions and trailers included), else AL_E_HTTP_BODY_TOO_LARGE: together with the
 * head this bounds the buffer a receiver needs to al_http_max_message(lim) bytes. */
size_t al_http_max_message(const al_http_limits *lim);

/* Parse one request at the start of buf[0..len). lim may be NULL for the defaults. */
AL_WARN_UNUSED al_err al_http_parse_request(al_http_request *req, const al_http_limits *lim,
                                            uint8_t *buf, size_t len);

/* Parse one response at the start of buf[0..len). A 1xx interim response is returned
 * as a complete message of its own (no body); the caller skips it and parses again at
 * buf + msg_len. With AL_HTTP_RES_EOF, a message that is still incomplete is
 * AL_E_TRUNCATED. */
AL_WARN_UNUSED al_err al_http_parse_response(al_http_response *res, const al_http_limits *lim,
                                             uint8_t *buf, size_t len, unsigned flags);

/* Case-insensitive lookup of the first field named `name`; NULL if absent. */
const al_http_header *al_http_find(const al_http_header *headers, size_t n, const char *name);
/* Its value (a C string after AL_OK), or NULL if absent. */
const char *al_http_request_header(const al_http_request *req, const char *name);
const char *al_http_response_header(const al_http_response *res, const char *name);
/* Whether a comma-separated field value contains `token` (case-insensitive), as
 * Connection: "keep-alive, Upgrade". */
bool al_http_has_token(const char *value, size_t value_len, const char *token);
/* ASCII case-insensitive equality of n bytes. */
bool al_http_ieq(const char *a, const char *b, size_t n);

/* --- writers ------------------------------------------------------------------ */

/* A field to write. Names must be tokens; values must be free of CR, LF, NUL and other
 * control characters except HTAB (else AL_E_HTTP_HEADER_NAME / AL_E_HTTP_HEADER_VALUE,
 * and nothing useful was written). */
typedef struct al_http_field {
	const char *name;
	const char *value;
} al_http_field;

/* "METHOD target HTTP/1.1", Host, the fields, Content-Length (when body_len > 0 or
 * the method is POST, PUT or PATCH), the empty line, then the body. `host` is the
 * authority (al_url.authority). Fields must not include Host, Content-Length or
 * Transfer-Encoding (AL_E_ARG). Returns w->err (AL_E_BUFSIZE if it did not fit). */
AL_WARN_UNUSED al_err al_http_write_request(al_wb *w, const char *method, const char *target,
                                            const char *host, const al_http_field *fields,
                                            size_t n_fields, const uint8_t *body, size_t body_len);

/* content_length value that writes "Transfer-Encoding: chunked" instead (then send the
 * body with al_http_write_chunk). */
#define AL_HTTP_LENGTH_CHUNKED UINT64_MAX

/* "HTTP/1.1 status reason", the fields, "Content-Length: content_length" and
 * "Connection: close" if `close`, then the empty line. reason NULL takes
 * al_http_reason(status). The caller appends exactly content_length body bytes (none
 * for a HEAD request or a 1xx/204/304 status, for which no Content-Length is written
 * when content_length is 0). */
AL_WARN_UNUSED al_err al_http_write_response_head(al_wb *w, int status, const char *reason,
                                                  const al_http_field *fields, size_t n_fields,
                                                  uint64_t content_length, bool close);

/* The head above followed by the body. */
AL_WARN_UNUSED al_err al_http_write_response(al_wb *w, int status, const al_http_field *fields,
                                             size_t n_fields, const uint8_t *body, size_t body_len,
                                             bool close);

/* One chunk of a chunked body ("<hex>\r\n<data>\r\n"); len 0 writes the last chunk and
 * the empty trailer section ("0\r\n\r\n"). */
AL_WARN_UNUSED al_err al_http_write_chunk(al_wb *w, const uint8_t *data, size_t len);

/* The standard reason phrase for a status ("Not Found"), "Unknown" otherwise. */
const char *al_http_reason(int status);

/* --- URLs ------------------------------------------------------------------- */

#define AL_URL_MAX_HOST 255

/* An absolute http or https URL: scheme "://" host [ ":" port ] [ path-abempty ]
 * [ "?" query ] [ "#" fragment ]. User info ("user@") is refused. */
typedef struct al_url {
	bool https;
	bool host_is_ip6; /* the URL had "[v6]"; host holds it without brackets */
	char host[AL_URL_MAX_HOST + 1];
	uint16_t port;                        /* explicit, else 80 or 443 */
	char authority[AL_URL_MAX_HOST + 10]; /* for Host: "[::1]:8080", default port omitted */
	/* Into the input: path and query, fragment removed; "/" if the URL has no path
	 * (a query without a path, "http://h?q", is AL_E_HTTP_URL). */
	const char *path;
	size_t path_len;
} al_url;

/* Parse url[0..len). Errors: AL_E_HTTP_URL_SCHEME (not http/https), AL_E_HTTP_URL. */
AL_WARN_UNUSED al_err al_url_parse(al_url *u, const char *url, size_t len);

#endif
