/* HTTP/1.1 message codec (RFC 9112). See http.h for the parsing contract and policy. */
#include "util/http.h"

#include <string.h>

/* --- character classes (RFC 9110 5.6.2, 5.5) -------------------------------------- */

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 * "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_vchar(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 5.5: field-value = *field-content; field-vchar = VCHAR / obs-text, with SP
 * and HTAB between. Everything else (NUL, CR, LF, other controls, DEL) is invalid. */
static bool is_field_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool al_http_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((uint8_t)a[i]) != lower((uint8_t)b[i]))
			return false;
	return true;
}

static bool name_is(const al_http_header *h, const char *name)
{
	size_t n = strlen(name);
	return h->name_len == n && al_http_ieq(h->name, name, n);
}

/* --- limits -------------------------------------------------------------------------- */

static al_http_limits norm_limits(const al_http_limits *lim)
{
	al_http_limits l = {0};
	if (lim)
		l = *lim;
	if (l.max_head == 0)
		l.max_head = AL_HTTP_DEFAULT_MAX_HEAD;
	if (l.max_headers == 0 || l.max_headers > AL_HTTP_MAX_HEADERS)
		l.max_headers = AL_HTTP_MAX_HEADERS;
	if (l.max_body == 0)
		l.max_body = AL_HTTP_DEFAULT_MAX_BODY;
	return l;
}

static size_t max_chunked_raw(const al_http_limits *l)
{
	return 2 * l->max_body + l->max_head;
}

size_t al_http_max_message(const al_http_limits *lim)
{
	al_http_limits l = norm_limits(lim);
	return l.max_head + max_chunked_raw(&l);
}

/* --- lines ----------------------------------------------------------------------------- */

/* A line in buf[start..end); `complete` if its CRLF was seen (next is after it). */
typedef struct line {
	size_t start, end, next;
	bool complete;
} line;

/* Find the line starting at `pos`, looking at no byte at or beyond `lim_end`. A CR must
 * be followed by LF; a LF must be preceded by CR (RFC 9112 2.2). */
static al_err get_line(const uint8_t *b, size_t pos, size_t lim_end, line *ln)
{
	ln->start = pos;
	ln->complete = false;
	for (size_t i = pos; i < lim_end; i++) {
		if (b[i] == '\n')
			return AL_E_HTTP_LINE_ENDING;
		if (b[i] != '\r')
			continue;
		ln->end = i;
		if (i + 1 >= lim_end)
			return AL_OK; /* CR seen, LF not yet */
		if (b[i + 1] != '\n')
			return AL_E_HTTP_LINE_ENDING;
		ln->next = i + 2;
		ln->complete = true;
		return AL_OK;
	}
	ln->end = lim_end;
	return AL_OK;
}

/* "HTTP/1.x" at p[0..n), or a prefix of it when !complete. */
static al_err check_version(const uint8_t *p, size_t n, bool complete, uint8_t *minor)
{
	static const char pat[] = "HTTP/1.";
	for (size_t i = 0; i < n && i < 7; i++)
		if (p[i] != (uint8_t)pat[i])
			return AL_E_HTTP_VERSION;
	if (n > 7 && !is_digit(p[7]))
		return AL_E_HTTP_VERSION;
	if (n > 8 || (complete && n != 8))
		return AL_E_HTTP_VERSION;
	if (n == 8)
		*minor = p[7] == '0' ? 0 : 1; /* RFC 9112 2.3: higher minor read as 1.1 */
	return AL_OK;
}

static bool target_form_ok(const al_http_request *r)
{
	const char *t = r->target;
	size_t n = r->target_len;
	for (size_t i = 0; i < n; i++)
		if (t[i] == '#')
			return false;
	if (t[0] == '/')
		return true; /* origin-form */
	if (n == 1 && t[0] == '*')
		return r->method_len == 7 && memcmp(r->method, "OPTIONS", 7) == 0;
	if (r->method_len == 7 && memcmp(r->method, "CONNECT", 7) == 0)
		return true; /* authority-form */
	for (size_t i = 0; i + 2 < n; i++)
		if (t[i] == ':' && t[i + 1] == '/' && t[i + 2] == '/')
			return i > 0; /* absolute-form */
	return false;
}

/* RFC 9112 3: request-line = method SP request-target SP HTTP-version */
static al_err parse_request_line(al_http_request *r, const uint8_t *b, const line *ln)
{
	const uint8_t *p = b + ln->start;
	size_t n = ln->end - ln->start, i = 0, t0;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i < n && p[i] != ' ')
		return AL_E_HTTP_METHOD;
	if (i == 0 && (n > 0 || ln->complete))
		return AL_E_HTTP_REQUEST_LINE;
	r->method = (const char *)p;
	r->method_len = i;
	if (i == n)
		return ln->complete ? AL_E_HTTP_REQUEST_LINE : AL_OK;
	t0 = ++i;
	while (i < n && is_vchar(p[i]))
		i++;
	if (i < n && p[i] != ' ')
		return AL_E_HTTP_TARGET;
	if (i == t0 && (i < n || ln->complete))
		return AL_E_HTTP_REQUEST_LINE;
	r->target = (const char *)p + t0;
	r->target_len = i - t0;
	if (i == n)
		return ln->complete ? AL_E_HTTP_REQUEST_LINE : AL_OK;
	i++;
	AL_TRY(check_version(p + i, n - i, ln->complete, &r->version_minor));
	if (ln->complete && !target_form_ok(r))
		return AL_E_HTTP_TARGET;
	return AL_OK;
}

/* RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. A
 * missing "SP reason" after the code is tolerated (some servers send "HTTP/1.1 200"). */
static al_err parse_status_line(al_http_response *r, const uint8_t *b, const line *ln)
{
	const uint8_t *p = b + ln->start;
	size_t n = ln->end - ln->start;
	int status = 0;

	AL_TRY(check_version(p, n < 8 ? n : 8, ln->complete && n <= 8, &r->version_minor));
	if (n <= 8)
		return ln->complete ? AL_E_HTTP_STATUS_LINE : AL_OK;
	if (p[8] != ' ')
		return AL_E_HTTP_STATUS_LINE;
	for (size_t i = 9; i < 12 && i < n; i++) {
		if (!is_digit(p[i]))
			return AL_E_HTTP_STATUS_LINE;
		status = status * 10 + (p[i] - '0');
	}
	if (n < 12)
		return ln->complete ? AL_E_HTTP_STATUS_LINE : AL_OK;
	if (status < 100 || (n > 12 && p[12] != ' '))
		return AL_E_HTTP_STATUS_LINE;
	for (size_t i = 13; i < n; i++)
		if (!is_field_char(p[i]))
			return AL_E_HTTP_STATUS_LINE;
	r->status = status;
	r->reason = (const char *)p + (n > 12 ? 13 : 12);
	r->reason_len = n > 12 ? n - 13 : 0;
	return AL_OK;
}

/* RFC 9112 5: field-line = field-name ":" OWS field-value OWS */
static al_err parse_field_line(al_http_header *h, const uint8_t *b, const line *ln)
{
	const uint8_t *p = b + ln->start;
	size_t n = ln->end - ln->start, i = 0, v0, v1;

	if (n > 0 && is_ows(p[0]))
		return AL_E_HTTP_OBS_FOLD; /* RFC 9112 5.2 obs-fold, or 2.2 space after start */
	while (i < n && is_tchar(p[i]))
		i++;
	if (i < n && is_ows(p[i]))
		return AL_E_HTTP_SPACE_BEFORE_COLON;
	if (i < n && p[i] != ':')
		return AL_E_HTTP_HEADER_NAME;
	if (i == n && ln->complete)
		return AL_E_HTTP_HEADER_NAME; /* no colon */
	if (i == 0 && i < n)
		return AL_E_HTTP_HEADER_NAME; /* empty name */
	h->name = (const char *)p;
	h->name_len = i;
	if (i == n)
		return AL_OK;
	for (size_t j = i + 1; j < n; j++)
		if (!is_field_char(p[j]))
			return AL_E_HTTP_HEADER_VALUE;
	v0 = i + 1;
	v1 = n;
	while (v0 < v1 && is_ows(p[v0]))
		v0++;
	while (v1 > v0 && is_ows(p[v1 - 1]))
		v1--;
	h->value = (const char *)p + v0;
	h->value_len = v1 - v0;
	return AL_OK;
}

/* Parse the start line and the fields. AL_E_HTTP_INCOMPLETE until the empty line. */
typedef al_err (*start_fn)(void *msg, const uint8_t *b, const line *ln);

typedef struct head {
	al_http_header *headers;
	size_t *n_headers;
	size_t head_len;
} head;

static al_err req_start(void *msg, const uint8_t *b, const line *ln)
{
	return parse_request_line(msg, b, ln);
}

static al_err res_start(void *msg, const uint8_t *b, const line *ln)
{
	return parse_status_line(msg, b, ln);
}

/* Skip up to AL_HTTP_MAX_LEADING_CRLF empty lines (requests only). */
static al_err skip_leading_crlf(const uint8_t *b, size_t end, size_t *pos)
{
	for (int k = 0; k <= AL_HTTP_MAX_LEADING_CRLF; k++) {
		if (*pos >= end)
			return AL_E_HTTP_INCOMPLETE;
		if (b[*pos] == '\n')
			return AL_E_HTTP_LINE_ENDING;
		if (b[*pos] != '\r')
			return AL_OK;
		if (*pos + 1 >= end)
			return AL_E_HTTP_INCOMPLETE;
		if (b[*pos + 1] != '\n')
			return AL_E_HTTP_LINE_ENDING;
		*pos += 2;
	}
	return AL_E_HTTP_REQUEST_LINE;
}

/* Result when the bytes ran out at `end`: more may come unless the head limit is hit. */
static al_err need_more(size_t end, size_t len, const al_http_limits *l)
{
	(void)len;
	return end >= l->max_head ? AL_E_HTTP_HEAD_TOO_LARGE : AL_E_HTTP_INCOMPLETE;
}

static al_err parse_head(head *hd, void *msg, start_fn start, bool request, const uint8_t *b,
                         size_t len, const al_http_limits *l)
{
	size_t end = len < l->max_head ? len : l->max_head, pos = 0;
	line ln;

	if (request) {
		al_err e = skip_leading_crlf(b, end, &pos);
		if (e == AL_E_HTTP_INCOMPLETE)
			return need_more(end, len, l);
		AL_TRY(e);
	}
	AL_TRY(get_line(b, pos, end, &ln));
	AL_TRY(start(msg, b, &ln));
	if (!ln.complete)
		return need_more(end, len, l);
	pos = ln.next;
	*hd->n_headers = 0;
	for (;;) {
		AL_TRY(get_line(b, pos, end, &ln));
		if (ln.complete && ln.end == ln.start)
			break;
		if (*hd->n_headers >= l->max_headers && (ln.end > ln.start || ln.complete))
			return AL_E_HTTP_TOO_MANY_HEADERS;
		if (ln.end > ln.start || ln.complete)
			AL_TRY(parse_field_line(&hd->headers[*hd->n_headers], b, &ln));
		if (!ln.complete)
			return need_more(end, len, l);
		(*hd->n_headers)++;
		pos = ln.next;
	}
	hd->head_len = ln.next;
	return AL_OK;
}

/* --- framing (RFC 9112 6) ------------------------------------------------------------ */

typedef struct framing_info {
	bool has_cl, has_te, te_chunked;
	uint64_t cl;
	size_t hosts;
	bool host_ok;
	bool conn_close, conn_keep_alive, expect_continue;
} framing_info;

static al_err parse_content_length(const al_http_header *h, framing_info *f)
{
	uint64_t v = 0;
	/* RFC 9110 8.6: Content-Length = 1*DIGIT. A repeated or list value is refused. */
	if (f->has_cl || h->value_len == 0)
		return AL_E_HTTP_CONTENT_LENGTH;
	for (size_t i = 0; i < h->value_len; i++) {
		uint8_t c = (uint8_t)h->value[i];
		if (!is_digit(c) || v > (UINT64_MAX - 9) / 10)
			return AL_E_HTTP_CONTENT_LENGTH;
		v = v * 10 + (uint64_t)(c - '0');
	}
	f->has_cl = true;
	f->cl = v;
	return AL_OK;
}

/* Transfer-Encoding must come to exactly one coding, "chunked", without parameters. */
static al_err parse_transfer_encoding(const al_http_header *h, framing_info *f)
{
	const char *v = h->value;
	size_t n = h->value_len, i = 0;

	f->has_te = true;
	while (i < n) {
		size_t a, z;
		while (i < n && (is_ows((uint8_t)v[i]) || v[i] == ','))
			i++;
		a = i;
		while (i < n && v[i] != ',')
			i++;
		z = i;
		while (z > a && is_ows((uint8_t)v[z - 1]))
			z--;
		if (z == a)
			continue;
		if (f->te_chunked || z - a != 7 || !al_http_ieq(v + a, "chunked", 7))
			return AL_E_HTTP_TRANSFER_ENCODING;
		f->te_chunked = true;
	}
	return AL_OK;
}

/* RFC 9112 3.2: Host = uri-host [ ":" port ]; an empty value is allowed. */
static bool host_value_ok(const al_http_header *h)
{
	for (size_t i = 0; i < h->value_len; i++) {
		uint8_t c = (uint8_t)h->value[i];
		bool unreserved = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		                  (c >= 'A' && c <= 'Z') || (c != 0 && strchr("-._~", c));
		if (!unreserved && !(c != 0 && strchr("%!$&'()*+,;=:[]", c)))
			return false;
	}
	return true;
}

static al_err scan_fields(const al_http_header *hs, size_t n, framing_info *f)
{
	memset(f, 0, sizeof(*f));
	f->host_ok = true;
	for (size_t i = 0; i < n; i++) {
		const al_http_header *h = &hs[i];
		if (name_is(h, "content-length")) {
			AL_TRY(parse_content_length(h, f));
		} else if (name_is(h, "transfer-encoding")) {
			AL_TRY(parse_transfer_encoding(h, f));
		} else if (name_is(h, "host")) {
			f->hosts++;
			f->host_ok = f->host_ok && host_value_ok(h);
		} else if (name_is(h, "connection")) {
			f->conn_close |= al_http_has_token(h->value, h->value_len, "close");
			f->conn_keep_alive |=
			    al_http_has_token(h->value, h->value_len, "keep-alive");
		} else if (name_is(h, "expect")) {
			f->expect_continue =
			    h->value_len == 12 && al_http_ieq(h->value, "100-continue", 12);
		}
	}
	/* RFC 9112 6.1: "A server MAY reject a request that contains both Content-Length
	 * and Transfer-Encoding or process such a request in accordance with the
	 * Transfer-Encoding alone. Regardless, the server MUST close the connection". */
	if (f->has_cl && f->has_te)
		return AL_E_HTTP_CL_AND_TE;
	if (f->has_te && !f->te_chunked)
		return AL_E_HTTP_TRANSFER_ENCODING;
	return AL_OK;
}

/* --- chunked (RFC 9112 7.1) ---------------------------------------------------------- */

typedef struct cscan {
	uint8_t *b;   /* body start */
	size_t len;   /* bytes available */
	size_t limit; /* raw bytes allowed */
	size_t pos;
} cscan;

/* Ran out of bytes: more may come, unless the raw limit is reached. */
static al_err cs_more(const cscan *s)
{
	return s->len >= s->limit ? AL_E_HTTP_BODY_TOO_LARGE : AL_E_HTTP_INCOMPLETE;
}

static size_t cs_end(const cscan *s)
{
	return s->len < s->limit ? s->len : s->limit;
}

static al_err cs_crlf(cscan *s)
{
	size_t end = cs_end(s);
	if (s->pos >= end)
		return cs_more(s);
	if (s->b[s->pos] == '\n')
		return AL_E_HTTP_LINE_ENDING;
	if (s->b[s->pos] != '\r')
		return AL_E_HTTP_CHUNK;
	if (s->pos + 1 >= end)
		return cs_more(s);
	if (s->b[s->pos + 1] != '\n')
		return AL_E_HTTP_LINE_ENDING;
	s->pos += 2;
	return AL_OK;
}

/* The byte at pos, or a "need more" result. */
static al_err cs_peek(const cscan *s, uint8_t *c)
{
	if (s->pos >= cs_end(s))
		return cs_more(s);
	*c = s->b[s->pos];
	return AL_OK;
}

static al_err cs_token(cscan *s)
{
	uint8_t c;
	size_t p0 = s->pos;
	for (;;) {
		AL_TRY(cs_peek(s, &c));
		if (!is_tchar(c))
			return s->pos > p0 ? AL_OK : AL_E_HTTP_CHUNK;
		s->pos++;
	}
}

static void cs_bws(cscan *s)
{
	while (s->pos < cs_end(s) && is_ows(s->b[s->pos]))
		s->pos++;
}

/* RFC 9110 5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE */
static al_err cs_quoted(cscan *s)
{
	uint8_t c;
	s->pos++;
	for (;;) {
		AL_TRY(cs_peek(s, &c));
		s->pos++;
		if (c == '"')
			return AL_OK;
		if (c == '\\') {
			AL_TRY(cs_peek(s, &c));
			s->pos++;
		}
		if (!is_field_char(c))
			return c == '\r' || c == '\n' ? AL_E_HTTP_LINE_ENDING : AL_E_HTTP_CHUNK;
	}
}

/* chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) */
static al_err cs_ext(cscan *s)
{
	uint8_t c;
	for (;;) {
		cs_bws(s);
		AL_TRY(cs_peek(s, &c));
		if (c == '\r' || c == '\n')
			return AL_OK;
		if (c != ';')
			return AL_E_HTTP_CHUNK;
		s->pos++;
		cs_bws(s);
		AL_TRY(cs_token(s));
		cs_bws(s);
		AL_TRY(cs_peek(s, &c));
		if (c != '=')
			continue;
		s->pos++;
		cs_bws(s);
		AL_TRY(cs_peek(s, &c));
		AL_TRY(c == '"' ? cs_quoted(s) : cs_token(s));
	}
}

static al_err cs_size(cscan *s, size_t max_body, uint64_t *size)
{
	uint8_t c;
	size_t p0 = s->pos;
	*size = 0;
	for (;;) {
		AL_TRY(cs_peek(s, &c));
		if (hex_val(c) < 0)
			break;
		if (*size > (UINT64_MAX >> 4))
			return AL_E_HTTP_BODY_TOO_LARGE;
		*size = *size * 16 + (uint64_t)hex_val(c);
		if (*size > max_body)
			return AL_E_HTTP_BODY_TOO_LARGE;
		s->pos++;
	}
	return s->pos > p0 ? AL_OK : AL_E_HTTP_CHUNK;
}

/* trailer-section = *( field-line CRLF ), then CRLF. Fields are checked, then dropped. */
static al_err cs_trailers(cscan *s, const al_http_limits *l)
{
	size_t t0 = s->pos, end = cs_end(s);
	for (;;) {
		line ln;
		al_http_header h;
		size_t lim = end < t0 + l->max_head ? end : t0 + l->max_head;
		AL_TRY(get_line(s->b, s->pos, lim, &ln));
		if (ln.end > ln.start || ln.complete) {
			if (ln.complete && ln.end == ln.start) {
				s->pos = ln.next;
				return AL_OK;
			}
			AL_TRY(parse_field_line(&h, s->b, &ln));
		}
		if (!ln.complete)
			return lim == t0 + l->max_head ? AL_E_HTTP_HEAD_TOO_LARGE : cs_more(s);
		s->pos = ln.next;
	}
}

/* Scan a chunked body; with `decode`, move the data to the front of the body in place.
 * The data is only ever moved to bytes already scanned, so a first pass without decode
 * and a second with it see the same input. */
static al_err scan_chunked(cscan *s, const al_http_limits *l, bool decode, size_t *out_len)
{
	size_t out = 0;
	for (;;) {
		uint64_t size;
		AL_TRY(cs_size(s, l->max_body, &size));
		AL_TRY(cs_ext(s));
		AL_TRY(cs_crlf(s));
		if (size == 0)
			break;
		if (out + size > l->max_body)
			return AL_E_HTTP_BODY_TOO_LARGE;
		if (cs_end(s) - s->pos < size)
			return cs_more(s);
		if (decode)
			memmove(s->b + out, s->b + s->pos, (size_t)size);
		out += (size_t)size;
		s->pos += (size_t)size;
		AL_TRY(cs_crlf(s));
	}
	AL_TRY(cs_trailers(s, l));
	*out_len = out;
	return AL_OK;
}

/* --- body and completion ------------------------------------------------------------- */

typedef struct body_out {
	const uint8_t *body;
	size_t body_len;
	size_t msg_len;
} body_out;

static al_err read_body(body_out *o, al_http_framing fr, uint64_t cl, uint8_t *buf, size_t len,
                        size_t head_len, const al_http_limits *l, bool eof)
{
	size_t avail = len - head_len;
	o->body = NULL;
	o->body_len = 0;
	o->msg_len = head_len;
	if (fr == AL_HTTP_BODY_NONE)
		return AL_OK;
	if (fr == AL_HTTP_BODY_LENGTH) {
		if (cl > l->max_body)
			return AL_E_HTTP_BODY_TOO_LARGE;
		if (avail < cl)
			return AL_E_HTTP_INCOMPLETE;
		o->body = buf + head_len;
		o->body_len = (size_t)cl;
		o->msg_len = head_len + (size_t)cl;
		return AL_OK;
	}
	if (fr == AL_HTTP_BODY_CLOSE) {
		if (avail > l->max_body)
			return AL_E_HTTP_BODY_TOO_LARGE;
		if (!eof)
			return AL_E_HTTP_INCOMPLETE;
		o->body = buf + head_len;
		o->body_len = avail;
		o->msg_len = len;
		return AL_OK;
	}
	cscan s = {buf + head_len, avail, max_chunked_raw(l), 0};
	size_t n;
	AL_TRY(scan_chunked(&s, l, false, &n));
	s.pos = 0;
	AL_TRY(scan_chunked(&s, l, true, &n));
	o->body = buf + head_len;
	o->body_len = n;
	o->msg_len = head_len + s.pos;
	return AL_OK;
}

/* Write NUL over the byte after every field name and value, now that the head is
 * complete and valid (each is followed by ':', OWS or CR). */
static void terminate_fields(al_http_header *hs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		((char *)hs[i].name)[hs[i].name_len] = '\0';
		((char *)hs[i].value)[hs[i].value_len] = '\0';
	}
}

/* A head-only view of what the framing fields say, shared by both parsers. */
static al_http_framing framing_of(const framing_info *f)
{
	if (f->te_chunked)
		return AL_HTTP_BODY_CHUNKED;
	return f->has_cl ? AL_HTTP_BODY_LENGTH : AL_HTTP_BODY_NONE;
}

al_err al_http_parse_request(al_http_request *req, const al_http_limits *lim, uint8_t *buf,
                             size_t len)
{
	al_http_limits l = norm_limits(lim);
	head hd = {req->headers, &req->n_headers, 0};
	framing_info f;
	body_out o;

	memset(req, 0, offsetof(al_http_request, headers));
	req->n_headers = 0;
	req->body = NULL;
	req->body_len = req->head_len = req->msg_len = 0;
	req->content_length = 0;
	req->framing = AL_HTTP_BODY_NONE;
	req->keep_alive = req->expect_continue = false;
	if (!buf && len)
		return AL_E_ARG;
	AL_TRY(parse_head(&hd, req, req_start, true, buf, len, &l));
	AL_TRY(scan_fields(req->headers, req->n_headers, &f));
	/* RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing. */
	if (f.has_te && req->version_minor == 0)
		return AL_E_HTTP_TRANSFER_ENCODING;
	/* RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request) status code to any
	 * HTTP/1.1 request message that lacks a Host header field and to any request
	 * message that contains more than one Host header field line or a Host header
	 * field with an invalid field value." */
	if ((req->version_minor == 1 && f.hosts == 0) || f.hosts > 1 || !f.host_ok)
		return AL_E_HTTP_HOST;
	req->framing = framing_of(&f);
	req->content_length = f.cl;
	req->keep_alive = req->version_minor == 1 ? !f.conn_close : f.conn_keep_alive;
	req->expect_continue = f.expect_continue;
	req->head_len = hd.head_len;
	if (f.has_cl && f.cl > l.max_body)
		return AL_E_HTTP_BODY_TOO_LARGE;
	AL_TRY(read_body(&o, req->framing, f.cl, buf, len, hd.head_len, &l, false));
	((char *)req->method)[req->method_len] = '\0';
	((char *)req->target)[req->target_len] = '\0';
	terminate_fields(req->headers, req->n_headers);
	req->body = o.body;
	req->body_len = o.body_len;
	req->msg_len = o.msg_len;
	return AL_OK;
}

static void reset_response(al_http_response *res)
{
	res->status = 0;
	res->reason = NULL;
	res->reason_len = 0;
	res->version_minor = 0;
	res->n_headers = 0;
	res->framing = AL_HTTP_BODY_NONE;
	res->content_length = 0;
	res->body = NULL;
	res->body_len = res->head_len = res->msg_len = 0;
	res->keep_alive = false;
}

/* RFC 9112 6.3, in order: no body for HEAD, 1xx, 204 and 304; chunked; Content-Length;
 * otherwise the body lasts until the connection closes. */
static al_http_framing response_framing(const al_http_response *res, const framing_info *f,
                                        unsigned flags)
{
	if ((flags & AL_HTTP_RES_HEAD) || res->status < 200 || res->status == 204 ||
	    res->status == 304)
		return AL_HTTP_BODY_NONE;
	if (f->te_chunked)
		return AL_HTTP_BODY_CHUNKED;
	return f->has_cl ? AL_HTTP_BODY_LENGTH : AL_HTTP_BODY_CLOSE;
}

al_err al_http_parse_response(al_http_response *res, const al_http_limits *lim, uint8_t *buf,
                              size_t len, unsigned flags)
{
	al_http_limits l = norm_limits(lim);
	head hd = {res->headers, &res->n_headers, 0};
	framing_info f;
	body_out o;
	al_err e;

	reset_response(res);
	if (!buf && len)
		return AL_E_ARG;
	e = parse_head(&hd, res, res_start, false, buf, len, &l);
	if (e == AL_OK)
		e = scan_fields(res->headers, res->n_headers, &f);
	if (e == AL_OK && f.has_te && res->version_minor == 0)
		e = AL_E_HTTP_TRANSFER_ENCODING;
	if (e == AL_OK) {
		res->framing = response_framing(res, &f, flags);
		res->content_length = f.cl;
		res->keep_alive = res->framing != AL_HTTP_BODY_CLOSE &&
		                  (res->version_minor == 1 ? !f.conn_close : f.conn_keep_alive);
		res->head_len = hd.head_len;
		e = read_body(&o, res->framing, f.cl, buf, len, hd.head_len, &l,
		              flags & AL_HTTP_RES_EOF);
	}
	if (e == AL_E_HTTP_INCOMPLETE && (flags & AL_HTTP_RES_EOF))
		return AL_E_TRUNCATED;
	AL_TRY(e);
	((char *)res->reason)[res->reason_len] = '\0';
	terminate_fields(res->headers, res->n_headers);
	res->body = o.body;
	res->body_len = o.body_len;
	res->msg_len = o.msg_len;
	return AL_OK;
}

/* --- lookup ---------------------------------------------------------------------------- */

const al_http_header *al_http_find(const al_http_header *headers, size_t n, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (headers[i].name_len == nl && al_http_ieq(headers[i].name, name, nl))
			return &headers[i];
	return NULL;
}

const char *al_http_request_header(const al_http_request *req, const char *name)
{
	const al_http_header *h = al_http_find(req->headers, req->n_headers, name);
	return h ? h->value : NULL;
}

const char *al_http_response_header(const al_http_response *res, const char *name)
{
	const al_http_header *h = al_http_find(res->headers, res->n_headers, name);
	return h ? h->value : NULL;
}

bool al_http_has_token(const char *value, size_t value_len, const char *token)
{
	size_t tl = strlen(token), i = 0;
	while (i < value_len) {
		size_t a, z;
		while (i < value_len && (is_ows((uint8_t)value[i]) || value[i] == ','))
			i++;
		a = i;
		while (i < value_len && value[i] != ',')
			i++;
		z = i;
		while (z > a && is_ows((uint8_t)value[z - 1]))
			z--;
		if (z - a == tl && tl > 0 && al_http_ieq(value + a, token, tl))
			return true;
	}
	return false;
}

/* --- writers ---------------------------------------------------------------------------- */

static bool token_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((uint8_t)*s))
			return false;
	return true;
}

/* RFC 9110 5.5: no CR, LF, NUL or other controls but HTAB; no leading/trailing space
 * (which a recipient would strip, changing the value). */
static bool value_ok(const char *s)
{
	size_t n;
	if (!s)
		return false;
	n = strlen(s);
	if (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return false;
	}
	return true;
}

static bool target_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((uint8_t)*s < 0x21 || (uint8_t)*s > 0x7e)
			return false;
	return true;
}

static void wb_str(al_wb *w, const char *s)
{
	al_wb_bytes(w, s, strlen(s));
}

static void wb_dec(al_wb *w, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	al_wb_bytes(w, tmp + sizeof(tmp) - n, n);
}

static void wb_hex(al_wb *w, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	al_wb_bytes(w, tmp + sizeof(tmp) - n, n);
}

static bool ieq_str(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && al_http_ieq(a, b, n);
}

/* Check and write the caller's fields; names in `reserved` belong to the writer. */
static al_err write_fields(al_wb *w, const al_http_field *f, size_t n, const char *const *reserved)
{
	for (size_t i = 0; i < n; i++) {
		if (!token_ok(f[i].name))
			return AL_E_HTTP_HEADER_NAME;
		if (!value_ok(f[i].value))
			return AL_E_HTTP_HEADER_VALUE;
		for (const char *const *r = reserved; *r; r++)
			if (ieq_str(f[i].name, *r))
				return AL_E_ARG;
	}
	for (size_t i = 0; i < n; i++) {
		wb_str(w, f[i].name);
		al_wb_bytes(w, ": ", 2);
		wb_str(w, f[i].value);
		al_wb_bytes(w, "\r\n", 2);
	}
	return AL_OK;
}

static void wb_field_u64(al_wb *w, const char *name, uint64_t v)
{
	wb_str(w, name);
	al_wb_bytes(w, ": ", 2);
	wb_dec(w, v);
	al_wb_bytes(w, "\r\n", 2);
}

al_err al_http_write_request(al_wb *w, const char *method, const char *target, const char *host,
                             const al_http_field *fields, size_t n_fields, const uint8_t *body,
                             size_t body_len)
{
	static const char *const reserved[] = {"host", "content-length", "transfer-encoding", NULL};
	bool with_len;

	if (!token_ok(method))
		return AL_E_HTTP_METHOD;
	if (!target_ok(target))
		return AL_E_HTTP_TARGET;
	if (!host || !value_ok(host))
		return AL_E_HTTP_HOST;
	if ((n_fields && !fields) || (body_len && !body))
		return AL_E_ARG;
	wb_str(w, method);
	al_wb_u8(w, ' ');
	wb_str(w, target);
	wb_str(w, " HTTP/1.1\r\nHost: ");
	wb_str(w, host);
	al_wb_bytes(w, "\r\n", 2);
	AL_TRY(write_fields(w, fields, n_fields, reserved));
	/* RFC 9110 8.6: "A user agent SHOULD send Content-Length in a request when the
	 * method defines a meaning for enclosed content and it is not sending
	 * Transfer-Encoding." */
	with_len = body_len > 0 || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
	           !strcmp(method, "PATCH");
	if (with_len)
		wb_field_u64(w, "Content-Length", body_len);
	al_wb_bytes(w, "\r\n", 2);
	if (body_len)
		al_wb_bytes(w, body, body_len);
	return w->err;
}

al_err al_http_write_response_head(al_wb *w, int status, const char *reason,
                                   const al_http_field *fields, size_t n_fields,
                                   uint64_t content_length, bool close)
{
	static const char *const reserved[] = {"content-length", "transfer-encoding", NULL};
	bool no_body = status < 200 || status == 204;

	if (status < 100 || status > 999)
		return AL_E_ARG;
	if (!reason)
		reason = al_http_reason(status);
	if (!value_ok(reason))
		return AL_E_HTTP_HEADER_VALUE;
	/* RFC 9110 8.6: "A server MUST NOT send a Content-Length header field in any
	 * response with a status code of 1xx (Informational) or 204 (No Content)." */
	if (no_body && content_length != 0)
		return AL_E_ARG;
	if (n_fields && !fields)
		return AL_E_ARG;
	wb_str(w, "HTTP/1.1 ");
	wb_dec(w, (uint64_t)status);
	al_wb_u8(w, ' ');
	wb_str(w, reason);
	al_wb_bytes(w, "\r\n", 2);
	AL_TRY(write_fields(w, fields, n_fields, reserved));
	if (content_length == AL_HTTP_LENGTH_CHUNKED)
		wb_str(w, "Transfer-Encoding: chunked\r\n");
	else if (!no_body && (status != 304 || content_length > 0))
		wb_field_u64(w, "Content-Length", content_length);
	if (close)
		wb_str(w, "Connection: close\r\n");
	al_wb_bytes(w, "\r\n", 2);
	return w->err;
}

al_err al_http_write_response(al_wb *w, int status, const al_http_field *fields, size_t n_fields,
                              const uint8_t *body, size_t body_len, bool close)
{
	if (body_len && !body)
		return AL_E_ARG;
	AL_TRY(al_http_write_response_head(w, status, NULL, fields, n_fields, body_len, close));
	if (body_len)
		al_wb_bytes(w, body, body_len);
	return w->err;
}

al_err al_http_write_chunk(al_wb *w, const uint8_t *data, size_t len)
{
	if (len && !data)
		return AL_E_ARG;
	wb_hex(w, len);
	al_wb_bytes(w, "\r\n", 2);
	if (len) {
		al_wb_bytes(w, data, len);
		al_wb_bytes(w, "\r\n", 2);
	} else {
		al_wb_bytes(w, "\r\n", 2);
	}
	return w->err;
}

const char *al_http_reason(int status)
{
	static const struct {
		int code;
		const char *text;
	} t[] = {
	    {100, "Continue"},
	    {101, "Switching Protocols"},
	    {200, "OK"},
	    {201, "Created"},
	    {202, "Accepted"},
	    {204, "No Content"},
	    {206, "Partial Content"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {304, "Not Modified"},
	    {307, "Temporary Redirect"},
	    {308, "Permanent Redirect"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {409, "Conflict"},
	    {411, "Length Required"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {415, "Unsupported Media Type"},
	    {422, "Unprocessable Content"},
	    {429, "Too Many Requests"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].code == status)
			return t[i].text;
	return "Unknown";
}

/* --- URLs (RFC 3986 3) --------------------------------------------------------------- */

static bool reg_name_char(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool ip6_char(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	       c == ':' || c == '.';
}

static al_err url_scheme(al_url *u, const char *s, size_t len, size_t *pos)
{
	if (len >= 7 && al_http_ieq(s, "http://", 7)) {
		u->https = false;
		*pos = 7;
		return AL_OK;
	}
	if (len >= 8 && al_http_ieq(s, "https://", 8)) {
		u->https = true;
		*pos = 8;
		return AL_OK;
	}
	for (size_t i = 0; i + 2 < len; i++)
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			return AL_E_HTTP_URL_SCHEME;
	return AL_E_HTTP_URL;
}

static al_err url_port(al_url *u, const char *p, size_t n)
{
	uint32_t v = 0;
	u->port = u->https ? 443 : 80;
	if (n == 0)
		return AL_OK; /* RFC 3986 3.2.3: an empty port is the default */
	if (n > 5)
		return AL_E_HTTP_URL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return AL_E_HTTP_URL;
		v = v * 10 + (uint32_t)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return AL_E_HTTP_URL;
	u->port = (uint16_t)v;
	return AL_OK;
}

/* authority = host [ ":" port ], host = "[" IPv6 "]" / reg-name / IPv4 */
static al_err url_authority(al_url *u, const char *a, size_t n)
{
	size_t hl, rest;
	const char *h = a;

	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (!close)
			return AL_E_HTTP_URL;
		h = a + 1;
		hl = (size_t)(close - h);
		rest = (size_t)(close + 1 - a);
		u->host_is_ip6 = true;
		for (size_t i = 0; i < hl; i++)
			if (!ip6_char((uint8_t)h[i]))
				return AL_E_HTTP_URL;
	} else {
		const char *colon = memchr(a, ':', n);
		hl = colon ? (size_t)(colon - a) : n;
		rest = hl;
		for (size_t i = 0; i < hl; i++)
			if (!reg_name_char((uint8_t)h[i]))
				return AL_E_HTTP_URL;
	}
	if (hl == 0 || hl > AL_URL_MAX_HOST)
		return AL_E_HTTP_URL;
	memcpy(u->host, h, hl);
	u->host[hl] = '\0';
	if (rest < n && a[rest] != ':')
		return AL_E_HTTP_URL;
	AL_TRY(rest < n ? url_port(u, a + rest + 1, n - rest - 1) : url_port(u, a, 0));
	return AL_OK;
}

static void url_make_authority(al_url *u)
{
	al_wb w;
	al_wb_init(&w, u->authority, sizeof(u->authority) - 1);
	if (u->host_is_ip6)
		al_wb_u8(&w, '[');
	wb_str(&w, u->host);
	if (u->host_is_ip6)
		al_wb_u8(&w, ']');
	if (u->port != (u->https ? 443 : 80)) {
		al_wb_u8(&w, ':');
		wb_dec(&w, u->port);
	}
	u->authority[w.len < sizeof(u->authority) ? w.len : sizeof(u->authority) - 1] = '\0';
}

al_err al_url_parse(al_url *u, const char *url, size_t len)
{
	size_t pos, a0, end;

	memset(u, 0, sizeof(*u));
	if (!url)
		return AL_E_ARG;
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)url[i] < 0x21 || (uint8_t)url[i] > 0x7e)
			return AL_E_HTTP_URL;
	AL_TRY(url_scheme(u, url, len, &pos));
	a0 = pos;
	while (pos < len && url[pos] != '/' && url[pos] != '?' && url[pos] != '#')
		pos++;
	if (memchr(url + a0, '@', pos - a0))
		return AL_E_HTTP_URL; /* user info */
	AL_TRY(url_authority(u, url + a0, pos - a0));
	url_make_authority(u);
	end = pos;
	while (end < len && url[end] != '#')
		end++;
	if (pos < end && url[pos] == '?')
		return AL_E_HTTP_URL;
	if (pos == end) {
		u->path = "/";
		u->path_len = 1;
	} else {
		u->path = url + pos;
		u->path_len = end - pos;
	}
	return AL_OK;
}
