/*
 * http_parser.c - sembark-ingressd's HTTP/1.1 request parser (see
 * http_parser.h for what it accepts and refuses).
 *
 * A byte-at-a-time state machine for the head, so that a request may
 * arrive split anywhere and every limit is checked on the byte that breaks
 * it; the head is copied into one fixed buffer with NULs in place of the
 * delimiters (never more bytes stored than consumed), then checked as a
 * whole for the framing rules that guard against request smuggling.
 * Internet-facing: every byte here comes from an untrusted client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_parser.h"
#include "macro.h"

#define NONE ((size_t)-1)

enum {
	S_START,       /* before the request line; empty lines are skipped */
	S_START_LF,
	S_METHOD,
	S_PATH,
	S_SCHEME,      /* absolute-form: "http" or "https" up to ':' */
	S_SLASHES,     /* ... the "//" after it */
	S_AUTHORITY,   /* ... host[:port], checked as a Host value, then dropped */
	S_QUERY,
	S_VERSION,
	S_LINE_LF,     /* LF that ends the request line */
	S_FIELD_START,
	S_FIELD_NAME,
	S_FIELD_OWS,
	S_FIELD_VALUE,
	S_FIELD_LF,
	S_HEAD_LF,     /* LF of the empty line that ends the head */
	S_HEAD_DONE,
	S_BODY,
	S_DONE,
	S_ERROR,
};

static const char s_version[] = "HTTP/";

static bool s_is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool s_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* unreserved or sub-delims of RFC 3986: what a reg-name holds besides %XX */
static bool s_is_host_char(unsigned char c)
{
	return s_is_alnum(c) || (c && strchr("-._~!$&'()*+,;=", c));
}

/* s_port_ok - RFC 3986 port: *DIGIT to the end */
static bool s_port_ok(const char *s)
{
	return s[strspn(s, "0123456789")] == '\0';
}

/* s_host_ok - RFC 9110 7.2: uri-host [":" port], or empty (a target without authority) */
static bool s_host_ok(const char *s)
{
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end || end == s + 1)
			return false;
		for (const char *q = s + 1; q < end; q++)
			if (!s_is_host_char((unsigned char)*q) && *q != ':')
				return false;
		s = end + 1;
		return *s == '\0' || (*s == ':' && s_port_ok(s + 1));
	}
	for (; *s && *s != ':'; s++) {
		if (*s == '%') {
			if (!s_is_hex((unsigned char)s[1]) || !s_is_hex((unsigned char)s[2]))
				return false;
			s += 2;
		} else if (!s_is_host_char((unsigned char)*s)) {
			return false;
		}
	}
	return *s == '\0' || s_port_ok(s + 1);
}

static bool s_is_tchar(unsigned char c)
{
	return s_is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* a byte of a request target: visible ASCII except '#', '%' followed by two hex digits */
static bool s_target_byte_ok(struct http_parser *p, unsigned char c)
{
	if (p->pct > 0) {
		p->pct--;
		return s_is_hex(c);
	}
	if (c == '%')
		p->pct = 2;
	return c > 0x20 && c < 0x7f && c != '#';
}

static int s_fail(struct http_parser *p, int status, const char *error)
{
	p->state = S_ERROR;
	p->status = status;
	p->error = error;
	return -1;
}

static void s_put(struct http_parser *p, char c)
{
	p->head[p->out++] = c;
}

/* http_parser_init - a parser with these limits; memory comes on first use */
void http_parser_init(struct http_parser *p, const struct http_limits *lim)
{
	*p = (struct http_parser){ .lim = *lim, .query_at = NONE };
}

/* http_parser_done - free the parser's memory; init again before reuse */
void http_parser_done(struct http_parser *p)
{
	http_parser_reset(p);
	free(p->head);
	free(p->hdrs);
	p->head = NULL;
	p->hdrs = NULL;
}

/* http_parser_reset - forget the current request, keep the buffers */
void http_parser_reset(struct http_parser *p)
{
	free(p->body);
	p->body = NULL;
	p->req = (struct http_request){ 0 };
	p->status = 0;
	p->error = NULL;
	p->state = S_START;
	p->head_len = p->out = 0;
	p->path_at = 0;
	p->query_at = NONE;
	p->name_at = p->value_at = 0;
	p->vpos = p->pct = p->major = 0;
	p->body_got = 0;
}

/* http_parser_started - has any byte of a request been consumed? */
bool http_parser_started(const struct http_parser *p)
{
	return p->head_len > 0;
}

/* http_parser_head_done - is the request head complete? */
bool http_parser_head_done(const struct http_parser *p)
{
	return p->state >= S_HEAD_DONE && p->state != S_ERROR;
}

static int s_method_byte(struct http_parser *p, unsigned char c)
{
	if (c == ' ') {
		if (p->out == 0)
			return s_fail(p, 400, "malformed request line");
		s_put(p, '\0');
		p->path_at = p->out;
		p->state = S_PATH;
		return 0;
	}
	if (!s_is_tchar(c))
		return s_fail(p, 400, "malformed request line");
	s_put(p, (char)c);
	return 0;
}

static int s_target_end(struct http_parser *p)
{
	if (p->pct > 0)
		return s_fail(p, 400, "malformed percent-encoding in the request target");
	s_put(p, '\0');
	p->state = S_VERSION;
	return 0;
}

static bool s_method_is(const struct http_parser *p, const char *method)
{
	return strcmp(p->head, method) == 0; /* the method, NUL-terminated, starts the head */
}

/*
 * s_target_start - the first byte of the target picks its form (RFC 9112
 * 3.2): '/' origin-form, a letter absolute-form (http or https only);
 * the asterisk-form of OPTIONS and CONNECT's authority-form ask for what
 * sembark does not implement (501); anything else is malformed.
 */
static int s_target_start(struct http_parser *p, unsigned char c)
{
	if (s_method_is(p, "CONNECT"))
		return s_fail(p, 501, "CONNECT is not implemented");
	if (c == '*' && s_method_is(p, "OPTIONS"))
		return s_fail(p, 501, "OPTIONS * is not implemented");
	if (c == '/') {
		s_put(p, '/');
		return 0;
	}
	if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z'))
		return s_fail(p, 400, "the request target must be a path starting with '/'");
	s_put(p, (char)c);
	p->state = S_SCHEME;
	return 0;
}

static int s_target_byte(struct http_parser *p, unsigned char c)
{
	if (p->state == S_PATH && p->out == p->path_at)
		return s_target_start(p, c);
	if (c == ' ')
		return s_target_end(p);
	if (!s_target_byte_ok(p, c))
		return s_fail(p, 400, "invalid character in the request target");
	if (c == '?' && p->state == S_PATH) {
		s_put(p, '\0');
		p->query_at = p->out;
		p->state = S_QUERY;
		return 0;
	}
	s_put(p, (char)c);
	return 0;
}

/* s_scheme_byte - absolute-form: the scheme, kept at path_at until its ':' */
static int s_scheme_byte(struct http_parser *p, unsigned char c)
{
	const char *scheme = p->head + p->path_at;

	if (c != ':') {
		if (!s_is_alnum(c) && c != '+' && c != '-' && c != '.')
			return s_fail(p, 400, "malformed absolute-form request target");
		s_put(p, (char)c);
		return 0;
	}
	s_put(p, '\0');
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		return s_fail(p, 400, "an absolute-form request target must be an http or https URI");
	p->out = p->path_at;
	p->state = S_SLASHES;
	return 0;
}

static int s_slashes_byte(struct http_parser *p, unsigned char c)
{
	if (c != '/')
		return s_fail(p, 400, "malformed absolute-form request target");
	if (++p->vpos == 2) {
		p->vpos = 0;
		p->state = S_AUTHORITY;
	}
	return 0;
}

/*
 * s_authority_byte - absolute-form: host[:port] up to '/', '?' or SP,
 * checked like a Host value (no userinfo, no empty host: RFC 9110 4.2.1,
 * 4.2.4), then dropped; the path that follows is "/" when empty.
 */
static int s_authority_byte(struct http_parser *p, unsigned char c)
{
	const char *host = p->head + p->path_at;

	if (c != '/' && c != '?' && c != ' ') {
		if (c <= 0x20 || c >= 0x7f)
			return s_fail(p, 400, "invalid character in the request target");
		s_put(p, (char)c);
		return 0;
	}
	s_put(p, '\0');
	if (*host == '\0' || *host == ':' || !s_host_ok(host))
		return s_fail(p, 400, "invalid host in the request target");
	p->out = p->path_at;
	s_put(p, '/');
	p->state = S_PATH;
	return c == '/' ? 0 : s_target_byte(p, c);
}

/*
 * s_version_byte - "HTTP/" DIGIT "." DIGIT, then CR. HTTP/1.2 to 1.9 are
 * taken as 1.1 (RFC 9110 2.5: the highest minor version implemented);
 * another major version is 505 once the line is complete.
 */
static int s_version_byte(struct http_parser *p, unsigned char c)
{
	size_t n = sizeof(s_version) - 1;

	if (p->vpos < n) {
		if (c != (unsigned char)s_version[p->vpos++])
			return s_fail(p, 400, "malformed HTTP version");
		return 0;
	}
	if (p->vpos == n + 3) {
		if (c != '\r')
			return s_fail(p, 400, "malformed request line");
		if (p->major != 1)
			return s_fail(p, 505, "only HTTP/1.x is supported");
		p->state = S_LINE_LF;
		return 0;
	}
	if (p->vpos == n + 1 ? c != '.' : c < '0' || c > '9')
		return s_fail(p, 400, "malformed HTTP version");
	if (p->vpos == n)
		p->major = c - '0';
	else if (p->vpos == n + 2)
		p->req.version_minor = c == '0' ? 0 : 1;
	p->vpos++;
	return 0;
}

static int s_field_start(struct http_parser *p, unsigned char c)
{
	if (c == '\r') {
		p->state = S_HEAD_LF;
		return 0;
	}
	if (c == ' ' || c == '\t')
		return s_fail(p, 400, "folded or indented header lines are not accepted");
	if (!s_is_tchar(c))
		return s_fail(p, 400, "malformed header field name");
	if (p->req.n_headers >= p->lim.max_headers)
		return s_fail(p, 431, "too many header fields");
	p->name_at = p->out;
	s_put(p, (char)c);
	p->state = S_FIELD_NAME;
	return 0;
}

static int s_field_name(struct http_parser *p, unsigned char c)
{
	if (c == ':') {
		s_put(p, '\0');
		p->value_at = p->out;
		p->state = S_FIELD_OWS;
		return 0;
	}
	if (!s_is_tchar(c))
		return s_fail(p, 400, "malformed header field name");
	s_put(p, (char)c);
	return 0;
}

static int s_field_end(struct http_parser *p)
{
	while (p->out > p->value_at && (p->head[p->out - 1] == ' ' || p->head[p->out - 1] == '\t'))
		p->out--;
	s_put(p, '\0');
	p->hdrs[p->req.n_headers++] = (struct http_header){
		.name = p->head + p->name_at,
		.value = p->head + p->value_at,
	};
	p->state = S_FIELD_LF;
	return 0;
}

static int s_field_value(struct http_parser *p, unsigned char c)
{
	if (p->state == S_FIELD_OWS) {
		if (c == ' ' || c == '\t')
			return 0;
		p->state = S_FIELD_VALUE;
	}
	if (c == '\r')
		return s_field_end(p);
	if (c != '\t' && (c < 0x20 || c == 0x7f))
		return s_fail(p, 400, "invalid character in a header field value");
	s_put(p, (char)c);
	return 0;
}

static int s_expect_lf(struct http_parser *p, unsigned char c, int next)
{
	if (c != '\n')
		return s_fail(p, 400, "lines must end with CRLF");
	p->state = next;
	return 0;
}

/* s_content_length - 1*DIGIT, saturating at UINT64_MAX */
static bool s_content_length(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return true;
}

/* s_connection - look for the "close" and "keep-alive" options in a Connection value */
static void s_connection(const char *v, bool *close, bool *keep)
{
	while (*v) {
		size_t n;

		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (n == 5 && strncasecmp(v, "close", 5) == 0)
			*close = true;
		else if (n == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			*keep = true;
		v += n;
	}
}

struct head_facts {
	unsigned hosts, te_lines, te_chunked;
	bool has_length, close, keep, te_last_chunked;
};

/* s_transfer_codings - count the chunked members of a Transfer-Encoding line; is the last one? */
static void s_transfer_codings(const char *v, struct head_facts *f)
{
	f->te_lines++;
	while (*v) {
		size_t n, m;

		v += strspn(v, " \t,");
		n = strcspn(v, ",");
		if (n == 0)
			break;
		for (m = n; m > 0 && (v[m - 1] == ' ' || v[m - 1] == '\t'); m--)
			;
		f->te_last_chunked = m == 7 && strncasecmp(v, "chunked", 7) == 0;
		f->te_chunked += f->te_last_chunked;
		v += n;
	}
}

static int s_check_field(struct http_parser *p, const struct http_header *h, struct head_facts *f)
{
	uint64_t v;

	if (strcasecmp(h->name, "content-length") == 0) {
		if (!s_content_length(h->value, &v))
			return s_fail(p, 400, "invalid Content-Length");
		if (f->has_length)
			return s_fail(p, 400, "more than one Content-Length header");
		f->has_length = true;
		p->req.content_length = v;
	} else if (strcasecmp(h->name, "transfer-encoding") == 0) {
		s_transfer_codings(h->value, f);
	} else if (strcasecmp(h->name, "host") == 0) {
		if (!s_host_ok(h->value))
			return s_fail(p, 400, "invalid Host header");
		f->hosts++;
	} else if (strcasecmp(h->name, "connection") == 0) {
		s_connection(h->value, &f->close, &f->keep);
	} else if (strcasecmp(h->name, "expect") == 0) {
		p->req.expect_continue = strcasecmp(h->value, "100-continue") == 0;
	}
	return 0;
}

/*
 * s_check_transfer_encoding - RFC 9112 6.1 and 6.3: with Content-Length or
 * in HTTP/1.0 the framing is faulty (400; a smuggling attempt); chunked
 * not last, or twice, leaves the length unknown (400); a valid chunked
 * body is well framed but not implemented here (501). Every case closes.
 */
static int s_check_transfer_encoding(struct http_parser *p, const struct head_facts *f)
{
	if (f->te_lines == 0)
		return 0;
	if (f->has_length)
		return s_fail(p, 400, "Transfer-Encoding with Content-Length is refused");
	if (p->req.version_minor == 0)
		return s_fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request is refused");
	if (f->te_chunked != 1 || !f->te_last_chunked)
		return s_fail(p, 400, "chunked must be the last transfer coding, and only once");
	return s_fail(p, 501, "chunked request bodies are not supported; send Content-Length");
}

/* s_head_complete - the empty line arrived: check framing, fill req */
static int s_head_complete(struct http_parser *p)
{
	struct head_facts f = { 0 };

	for (size_t i = 0; i < p->req.n_headers; i++)
		if (s_check_field(p, &p->hdrs[i], &f) < 0)
			return -1;
	if (s_check_transfer_encoding(p, &f) < 0)
		return -1;
	if (f.hosts > 1)
		return s_fail(p, 400, "more than one Host header");
	if (f.hosts == 0 && p->req.version_minor == 1)
		return s_fail(p, 400, "HTTP/1.1 requests need a Host header");

	p->req.method = p->head;
	p->req.path = p->head + p->path_at;
	p->req.query = p->query_at == NONE ? "" : p->head + p->query_at;
	p->req.headers = p->hdrs;
	p->req.keep_alive = !f.close && (p->req.version_minor == 1 || f.keep);
	p->state = S_HEAD_DONE;
	return 1;
}

/* s_head_byte - one byte of the head: 0 go on, 1 head complete, -1 error */
static int s_head_byte(struct http_parser *p, unsigned char c)
{
	if (++p->head_len > p->lim.max_header_bytes)
		return s_fail(p, 431, "request line and headers too large");

	switch (p->state) {
	case S_START:
		if (c == '\r') {
			p->state = S_START_LF;
			return 0;
		}
		p->state = S_METHOD;
		return s_method_byte(p, c);
	case S_START_LF:
		return s_expect_lf(p, c, S_START);
	case S_METHOD:
		return s_method_byte(p, c);
	case S_PATH:
	case S_QUERY:
		return s_target_byte(p, c);
	case S_SCHEME:
		return s_scheme_byte(p, c);
	case S_SLASHES:
		return s_slashes_byte(p, c);
	case S_AUTHORITY:
		return s_authority_byte(p, c);
	case S_VERSION:
		return s_version_byte(p, c);
	case S_LINE_LF:
		return s_expect_lf(p, c, S_FIELD_START);
	case S_FIELD_START:
		return s_field_start(p, c);
	case S_FIELD_NAME:
		return s_field_name(p, c);
	case S_FIELD_OWS:
	case S_FIELD_VALUE:
		return s_field_value(p, c);
	case S_FIELD_LF:
		return s_expect_lf(p, c, S_FIELD_START);
	case S_HEAD_LF:
		if (c != '\n')
			return s_fail(p, 400, "lines must end with CRLF");
		return s_head_complete(p);
	default:
		abort();
	}
}

static int s_alloc(struct http_parser *p)
{
	if (p->head)
		return 0;
	p->head = malloc(p->lim.max_header_bytes + 1);
	p->hdrs = calloc(MAX(p->lim.max_headers, 1), sizeof(*p->hdrs));
	if (!p->head || !p->hdrs) {
		free(p->head);
		free(p->hdrs);
		p->head = NULL;
		p->hdrs = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int s_feed_head(struct http_parser *p, const unsigned char *d, size_t len, size_t *ret)
{
	int r = s_alloc(p);

	if (r < 0)
		return r;
	for (size_t i = 0; i < len; i++) {
		r = s_head_byte(p, d[i]);
		if (r != 0) {
			*ret = i + 1;
			return r > 0 ? HTTP_PARSE_HEAD : HTTP_PARSE_ERROR;
		}
	}
	*ret = len;
	return HTTP_PARSE_AGAIN;
}

static int s_feed_body(struct http_parser *p, const unsigned char *d, size_t len, size_t *ret)
{
	uint64_t want = p->req.content_length - p->body_got;
	size_t n = (size_t)MIN((uint64_t)len, want);

	if (n > 0)
		memcpy(p->body + p->body_got, d, n);
	p->body_got += n;
	*ret = n;
	if (p->body_got < p->req.content_length)
		return HTTP_PARSE_AGAIN;
	p->body[p->body_got] = '\0';
	p->req.body = p->body;
	p->req.body_len = (size_t)p->body_got;
	p->state = S_DONE;
	return HTTP_PARSE_DONE;
}

/* http_parser_feed - consume bytes, say what happened (see http_parser.h) */
int http_parser_feed(struct http_parser *p, const void *data, size_t len, size_t *ret_consumed)
{
	*ret_consumed = 0;
	switch (p->state) {
	case S_HEAD_DONE:
		return HTTP_PARSE_HEAD;
	case S_BODY:
		return s_feed_body(p, data, len, ret_consumed);
	case S_DONE:
		return HTTP_PARSE_DONE;
	case S_ERROR:
		return HTTP_PARSE_ERROR;
	default:
		return s_feed_head(p, data, len, ret_consumed);
	}
}

/* http_parser_begin_body - accept a body of at most limit bytes */
int http_parser_begin_body(struct http_parser *p, uint64_t limit)
{
	if (p->state != S_HEAD_DONE)
		return -EINVAL;
	if (p->req.content_length > limit)
		return -EFBIG;
	if (p->req.content_length == 0) {
		p->req.body = "";
		p->state = S_DONE;
		return 0;
	}
	p->body = malloc((size_t)p->req.content_length + 1);
	if (!p->body)
		return -ENOMEM;
	p->state = S_BODY;
	return 0;
}

/* http_request_header - first header named `name` (case-insensitive), or NULL */
const char *http_request_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}
