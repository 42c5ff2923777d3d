/*
 * test-ingressd-http.c - table-driven tests of sembark-ingressd's HTTP/1.1
 * request parser (services/ingressd/http_parser.c): every valid request
 * split at every byte boundary and fed byte by byte, every class of
 * malformed request, each limit at its bound and one past it, request
 * smuggling shapes, pipelining and reuse after reset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/ingressd/http_parser.h"
#include "macro.h"

#define BIG_LIMIT (1u << 20)
/* a literal that holds NUL bytes, with its length */
#define LIT(s) s, sizeof(s) - 1

static const struct http_limits s_limits = { .max_header_bytes = 1024, .max_headers = 8 };

/* ---- helpers ------------------------------------------------------------ */

/* s_feed_to - feed in[*pos..end), starting bodies under limit; returns the last result */
static int s_feed_to(struct http_parser *p, const char *in, size_t *pos, size_t end, uint64_t limit)
{
	for (;;) {
		size_t used = 0;
		int r = http_parser_feed(p, in + *pos, end - *pos, &used);

		*pos += used;
		if (r == HTTP_PARSE_HEAD) {
			int b = http_parser_begin_body(p, limit);

			if (b < 0)
				return b;
			continue;
		}
		if (r != HTTP_PARSE_AGAIN || *pos == end)
			return r;
	}
}

/* s_parse_split - feed [0, split) then [split, len); returns the result, *ret_pos the bytes used */
static int s_parse_split(struct http_parser *p, const char *in, size_t len, size_t split,
			 uint64_t limit, size_t *ret_pos)
{
	size_t pos = 0;
	int r = s_feed_to(p, in, &pos, split, limit);

	if (r == HTTP_PARSE_AGAIN)
		r = s_feed_to(p, in, &pos, len, limit);
	*ret_pos = pos;
	return r;
}

/* s_parse_bytes - feed one byte at a time */
static int s_parse_bytes(struct http_parser *p, const char *in, size_t len, uint64_t limit,
			 size_t *ret_pos)
{
	size_t pos = 0;
	int r = HTTP_PARSE_AGAIN;

	while (pos < len && r == HTTP_PARSE_AGAIN)
		r = s_feed_to(p, in, &pos, pos + 1, limit);
	if (r == HTTP_PARSE_AGAIN)
		r = s_feed_to(p, in, &pos, len, limit); /* an empty body completes with no byte */
	*ret_pos = pos;
	return r;
}

/* ---- valid requests ----------------------------------------------------- */

struct valid_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *method, *path, *query;
	int minor;
	size_t n_headers;
	uint64_t content_length;
	bool keep_alive, expect_continue;
	const char *body;
	const char *hname, *hvalue; /* one header to look up */
};

static const struct valid_case s_valid[] = {
	{ "get 1.1", "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/healthz", "", 1, 1, 0, true, false, "", "host", "a" },
	{ "get 1.0 without Host closes", "GET / HTTP/1.0\r\n\r\n",
	  0, "GET", "/", "", 0, 0, 0, false, false, "", NULL, NULL },
	{ "1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	  0, "GET", "/", "", 0, 1, 0, true, false, "", "connection", "Keep-Alive" },
	{ "1.1 close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	  0, "GET", "/", "", 1, 2, 0, false, false, "", NULL, NULL },
	{ "close among options", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n",
	  0, "GET", "/", "", 1, 2, 0, false, false, "", NULL, NULL },
	{ "post with body", "POST /api/login HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	  0, "POST", "/api/login", "", 1, 2, 5, true, false, "hello", "content-length", "5" },
	{ "Content-Length 0", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	  0, "POST", "/x", "", 1, 2, 0, true, false, "", NULL, NULL },
	{ "binary body", LIT("PUT /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n\0\r\n"),
	  "PUT", "/b", "", 1, 2, 3, true, false, NULL, NULL, NULL },
	{ "value whitespace trimmed", "GET / HTTP/1.1\r\nHost: a\r\nX-A: \t a  b \t \r\n\r\n",
	  0, "GET", "/", "", 1, 2, 0, true, false, "", "x-a", "a  b" },
	{ "empty value", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n",
	  0, "GET", "/", "", 1, 2, 0, true, false, "", "X-EMPTY", "" },
	{ "empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
	  0, "GET", "/", "", 1, 1, 0, true, false, "", "host", "" },
	{ "query", "GET /a/b?x=1&y=%20z HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/a/b", "x=1&y=%20z", 1, 1, 0, true, false, "", NULL, NULL },
	{ "question mark in query", "GET /a?b?c HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/a", "b?c", 1, 1, 0, true, false, "", NULL, NULL },
	{ "empty query", "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/a", "", 1, 1, 0, true, false, "", NULL, NULL },
	{ "percent-encoded path", "GET /a%2Fb%c3%a9 HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/a%2Fb%c3%a9", "", 1, 1, 0, true, false, "", NULL, NULL },
	{ "obs-text value", "GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n",
	  0, "GET", "/", "", 1, 2, 0, true, false, "", "x-name", "caf\xc3\xa9" },
	{ "leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/", "", 1, 1, 0, true, false, "", NULL, NULL },
	{ "expect 100-continue",
	  "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nz",
	  0, "POST", "/x", "", 1, 3, 1, true, true, "z", NULL, NULL },
	{ "token method", "M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "M-SEARCH", "/x", "", 1, 1, 0, true, false, "", NULL, NULL },
	{ "lower-case method kept", "get /x HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "get", "/x", "", 1, 1, 0, true, false, "", NULL, NULL },
	{ "token header name", "GET / HTTP/1.1\r\nHost: a\r\nX!#$%&'*+-.^_`|~9: v\r\n\r\n",
	  0, "GET", "/", "", 1, 2, 0, true, false, "", "x!#$%&'*+-.^_`|~9", "v" },
	{ "sub-delims in path", "GET /a:b@c!$&'()*+,;=-._~ HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/a:b@c!$&'()*+,;=-._~", "", 1, 1, 0, true, false, "", NULL, NULL },
	/* absolute-form (RFC 9112 3.2.2: a server MUST accept it); the authority is dropped */
	{ "absolute-form", "GET http://a/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/x", "y=1", 1, 1, 0, true, false, "", NULL, NULL },
	{ "absolute-form, no path", "GET HTTPS://a.example:8443 HTTP/1.1\r\nHost: b\r\n\r\n",
	  0, "GET", "/", "", 1, 1, 0, true, false, "", NULL, NULL },
	{ "absolute-form, query without path", "GET http://a?q HTTP/1.1\r\nHost: a\r\n\r\n",
	  0, "GET", "/", "q", 1, 1, 0, true, false, "", NULL, NULL },
	{ "absolute-form, IP literal", "GET http://[::1]:80/p HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
	  0, "GET", "/p", "", 1, 1, 0, true, false, "", "host", "[::1]:80" },
	{ "absolute-form, %XX host", "GET http://a%2Db.c:/p%41 HTTP/1.1\r\nHost: a%2db.c:\r\n\r\n",
	  0, "GET", "/p%41", "", 1, 1, 0, true, false, "", NULL, NULL },
	/* RFC 9110 2.5: a higher minor version is taken as the highest implemented */
	{ "HTTP/1.2 as 1.1", "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
	  0, "GET", "/", "", 1, 1, 0, true, false, "", NULL, NULL },
	{ "HTTP/1.9 needs Host", "GET / HTTP/1.9\r\nHost: a:8080\r\nConnection: close\r\n\r\n",
	  0, "GET", "/", "", 1, 2, 0, false, false, "", "host", "a:8080" },
	{ "reg-name Host", "GET / HTTP/1.1\r\nHost: x-1.example~_!$&'()*+,;=:\r\n\r\n",
	  0, "GET", "/", "", 1, 1, 0, true, false, "", NULL, NULL },
	{ "eight headers (the limit)",
	  "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\n\r\n",
	  0, "GET", "/", "", 1, 8, 0, true, false, "", "g", "7" },
};

static void s_check_valid(const struct valid_case *t, const struct http_request *req)
{
	size_t blen = t->body ? strlen(t->body) : 3;

	assert_string_equal(req->method, t->method);
	assert_string_equal(req->path, t->path);
	assert_string_equal(req->query, t->query);
	assert_int_equal(req->version_minor, t->minor);
	assert_int_equal(req->n_headers, t->n_headers);
	assert_int_equal(req->content_length, t->content_length);
	assert_int_equal(req->keep_alive, t->keep_alive);
	assert_int_equal(req->expect_continue, t->expect_continue);
	assert_int_equal(req->body_len, blen);
	if (t->body)
		assert_memory_equal(req->body, t->body, blen);
	else
		assert_memory_equal(req->body, "\0\r\n", 3);
	if (t->hname) {
		assert_non_null(http_request_header(req, t->hname));
		assert_string_equal(http_request_header(req, t->hname), t->hvalue);
	}
	assert_null(http_request_header(req, "x-not-there"));
}

static size_t s_len(const char *in, size_t len)
{
	return len ? len : strlen(in);
}

static void test_valid_every_split(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_valid); i++) {
		const struct valid_case *t = &s_valid[i];
		size_t len = s_len(t->in, t->len);

		for (size_t split = 0; split <= len; split++) {
			struct http_parser p;
			size_t pos;
			int r;

			http_parser_init(&p, &s_limits);
			r = s_parse_split(&p, t->in, len, split, BIG_LIMIT, &pos);
			if (r != HTTP_PARSE_DONE)
				fail_msg("%s: split %zu: result %d (%s)", t->name, split, r,
					 p.error ? p.error : "-");
			assert_int_equal(pos, len);
			s_check_valid(t, &p.req);
			http_parser_done(&p);
		}
	}
}

static void test_valid_byte_by_byte(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_valid); i++) {
		const struct valid_case *t = &s_valid[i];
		size_t len = s_len(t->in, t->len), pos;
		struct http_parser p;

		http_parser_init(&p, &s_limits);
		assert_int_equal(s_parse_bytes(&p, t->in, len, BIG_LIMIT, &pos), HTTP_PARSE_DONE);
		assert_int_equal(pos, len);
		s_check_valid(t, &p.req);
		http_parser_done(&p);
	}
}

/* ---- malformed requests -------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	int status;
};

static const struct bad_case s_bad[] = {
	/* request line */
	{ "absolute-form ftp", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form empty host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form port only", "GET http://:80/x HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form one slash", "GET http:/a/x HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form no slash", "GET http:a HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form bad host", "GET http://a{b}/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form bad port", "GET http://a:8x/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form fragment", "GET http://a#f HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "absolute-form NUL", LIT("GET http://a\0/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "scheme with colon only", "GET :// HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "scheme bad byte", "GET ht_tp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, 501 },
	{ "asterisk-form GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "authority-form", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 501 },
	{ "authority-form GET", "GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, 400 },
	{ "HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0, 505 },
	{ "HTTP/0.9 version", "GET / HTTP/0.9\r\n\r\n", 0, 505 },
	{ "HTTP/3.1", "GET / HTTP/3.1\r\nHost: a\r\n\r\n", 0, 505 },
	{ "HTTP/1.x", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 0, 400 },
	{ "HTTP/11.1", "GET / HTTP/11.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "HTTP/1", "GET / HTTP/1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "HTTP/0.9", "GET /\r\n\r\n", 0, 400 },
	{ "lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "version trailer", "GET / HTTP/1.11\r\nHost: a\r\n\r\n", 0, 400 },
	{ "double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "space before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "bad method byte", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "bad percent", "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "short percent", "GET /%4 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "bad percent in query", "GET /?a=%G0 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "control in target", "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "non-ASCII in target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "NUL in target", LIT("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "bare LF request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 0, 400 },
	{ "CR without LF", "GET / HTTP/1.1\r\rHost: a\r\n\r\n", 0, 400 },
	{ "bare LF first", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "bare CR first", "\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	/* header fields */
	{ "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0, 400 },
	{ "tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 0, 400 },
	{ "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 0, 400 },
	{ "obs-fold tab", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 0, 400 },
	{ "indented first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 0, 400 },
	{ "no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 0, 400 },
	{ "no colon no space", "GET / HTTP/1.1\r\nHosta\r\n\r\n", 0, 400 },
	{ "empty name", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 0, 400 },
	{ "bad name byte", "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 0, 400 },
	{ "non-ASCII name", "GET / HTTP/1.1\r\nH\xc3\xa9: a\r\nHost: a\r\n\r\n", 0, 400 },
	{ "control in value", "GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n", 0, 400 },
	{ "DEL in value", "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 0, 400 },
	{ "NUL in value", LIT("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"), 400 },
	{ "bare LF in value", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 0, 400 },
	{ "bare LF field end", "GET / HTTP/1.1\r\nHost: a\r\nX: b\n\r\n", 0, 400 },
	{ "bare LF head end", "GET / HTTP/1.1\r\nHost: a\r\n\n", 0, 400 },
	{ "CR CR head end", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 0, 400 },
	{ "missing Host 1.1", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 0, 400 },
	{ "two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 0, 400 },
	{ "two Hosts 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 0, 400 },
	{ "Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 0, 400 },
	{ "Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 0, 400 },
	{ "Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 0, 400 },
	{ "Host bad port", "GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 0, 400 },
	{ "Host bad %XX", "GET / HTTP/1.1\r\nHost: a%z1\r\n\r\n", 0, 400 },
	{ "Host short %XX", "GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", 0, 400 },
	{ "Host open bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 0, 400 },
	{ "Host empty brackets", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 0, 400 },
	{ "Host after bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 0, 400 },
	{ "Host bad 1.0", "GET / HTTP/1.0\r\nHost: a\"b\r\n\r\n", 0, 400 },
	/* framing and smuggling */
	/* a valid chunked body is not implemented (501); every other TE is faulty framing (400) */
	{ "chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	  0, 501 },
	{ "chunked lower-case", "POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: CHUNKED \r\n\r\n",
	  0, 501 },
	{ "gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked,\r\n\r\n",
	  0, 501 },
	{ "gzip then chunked lines",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	  0, 501 },
	{ "chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	  0, 400 },
	{ "chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,chunked\r\n\r\n",
	  0, 400 },
	{ "chunked lines twice",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	  0, 400 },
	{ "chunked with parameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;a=1\r\n\r\n",
	  0, 400 },
	{ "gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 400 },
	{ "TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", 0, 400 },
	{ "TE commas", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ,\r\n\r\n", 0, 400 },
	{ "identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 0, 400 },
	{ "TE 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400 },
	{ "CL then TE",
	  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
	  0, 400 },
	{ "TE then CL",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
	  0, 400 },
	{ "TE with space before colon",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc",
	  0, 400 },
	{ "equal repeated CL",
	  "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length:2\r\n\r\nhi", 0, 400 },
	{ "TE chunked, CL 0",
	  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 0, 400 },
	{ "conflicting CL",
	  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 0, 400 },
	{ "CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 0, 400 },
	{ "CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 0, 400 },
	{ "CL negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 0, 400 },
	{ "CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", 0, 400 },
	{ "CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 0, 400 },
	{ "CL inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 0, 400 },
	{ "CL letters", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 0, 400 },
	/* limits (1024 bytes, 8 fields) */
	{ "nine headers",
	  "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n\r\n",
	  0, 431 },
};

static void s_check_bad(const struct bad_case *t, struct http_parser *p, int r)
{
	size_t used = 99;

	if (r != HTTP_PARSE_ERROR)
		fail_msg("%s: result %d, expected an error", t->name, r);
	assert_int_equal(p->status, t->status);
	assert_non_null(p->error);
	/* an error is final */
	assert_int_equal(http_parser_feed(p, "GET", 3, &used), HTTP_PARSE_ERROR);
	assert_int_equal(used, 0);
}

static void test_bad_every_split(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_bad); i++) {
		const struct bad_case *t = &s_bad[i];
		size_t len = s_len(t->in, t->len);

		for (size_t split = 0; split <= len; split++) {
			struct http_parser p;
			size_t pos;

			http_parser_init(&p, &s_limits);
			s_check_bad(t, &p, s_parse_split(&p, t->in, len, split, BIG_LIMIT, &pos));
			http_parser_done(&p);
		}
	}
}

static void test_bad_byte_by_byte(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_bad); i++) {
		const struct bad_case *t = &s_bad[i];
		struct http_parser p;
		size_t pos;

		http_parser_init(&p, &s_limits);
		s_check_bad(t, &p, s_parse_bytes(&p, t->in, s_len(t->in, t->len), BIG_LIMIT, &pos));
		http_parser_done(&p);
	}
}

/* ---- limits --------------------------------------------------------------- */

/* s_request_of_size - a valid GET whose head is exactly size bytes */
static char *s_request_of_size(size_t size)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
	static const char post[] = "\r\n\r\n";
	size_t fixed = sizeof(pre) - 1 + sizeof(post) - 1;
	char *s = malloc(size + 1);

	assert_non_null(s);
	assert_true(size > fixed);
	memcpy(s, pre, sizeof(pre) - 1);
	memset(s + sizeof(pre) - 1, 'p', size - fixed);
	memcpy(s + size - (sizeof(post) - 1), post, sizeof(post));
	return s;
}

static void test_head_bytes_limit(void **state)
{
	const size_t sizes[] = { s_limits.max_header_bytes, s_limits.max_header_bytes + 1 };

	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		_cleanup_free_ char *in = s_request_of_size(sizes[i]);
		struct http_parser p;
		size_t pos;
		int r;

		assert_int_equal(strlen(in), sizes[i]);
		for (size_t split = 0; split <= sizes[i]; split += 7) {
			http_parser_init(&p, &s_limits);
			r = s_parse_split(&p, in, sizes[i], split, BIG_LIMIT, &pos);
			if (i == 0) {
				assert_int_equal(r, HTTP_PARSE_DONE);
				assert_int_equal(pos, sizes[i]);
			} else {
				assert_int_equal(r, HTTP_PARSE_ERROR);
				assert_int_equal(p.status, 431);
				/* refused on the byte past the limit, not later */
				assert_int_equal(pos, s_limits.max_header_bytes + 1);
			}
			http_parser_done(&p);
		}
	}
}

static void test_head_bytes_count_leading_lines(void **state)
{
	_cleanup_free_ char *base = s_request_of_size(s_limits.max_header_bytes - 2);
	char in[2048];
	struct http_parser p;
	size_t pos;

	snprintf(in, sizeof(in), "\r\n%s", base);
	http_parser_init(&p, &s_limits);
	assert_int_equal(s_parse_split(&p, in, strlen(in), 0, BIG_LIMIT, &pos), HTTP_PARSE_DONE);
	http_parser_done(&p);

	snprintf(in, sizeof(in), "\r\n\r\n%s", base);
	http_parser_init(&p, &s_limits);
	assert_int_equal(s_parse_split(&p, in, strlen(in), 0, BIG_LIMIT, &pos), HTTP_PARSE_ERROR);
	assert_int_equal(p.status, 431);
	http_parser_done(&p);
}

static void test_long_request_line(void **state)
{
	char in[2048] = "GET /";
	struct http_parser p;
	size_t pos;

	memset(in + 5, 'a', 1500);
	strcpy(in + 1505, " HTTP/1.1\r\nHost: a\r\n\r\n");
	http_parser_init(&p, &s_limits);
	assert_int_equal(s_parse_bytes(&p, in, strlen(in), BIG_LIMIT, &pos), HTTP_PARSE_ERROR);
	assert_int_equal(p.status, 431);
	http_parser_done(&p);
}

struct body_case {
	const char *cl;
	uint64_t limit;
	int begin;
};

static const struct body_case s_bodies[] = {
	{ "0", 0, 0 },
	{ "10", 10, 0 },
	{ "11", 10, -EFBIG },
	{ "65536", 65536, 0 },
	{ "65537", 65536, -EFBIG },
	{ "18446744073709551615", 65536, -EFBIG },
	{ "99999999999999999999999999", 65536, -EFBIG },
	{ "00000000000000000000000010", 10, 0 },
};

static void test_body_limit(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_bodies); i++) {
		char in[256];
		struct http_parser p;
		size_t used;

		snprintf(in, sizeof(in), "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n",
			 s_bodies[i].cl);
		http_parser_init(&p, &s_limits);
		assert_int_equal(http_parser_feed(&p, in, strlen(in), &used), HTTP_PARSE_HEAD);
		assert_int_equal(used, strlen(in));
		assert_true(http_parser_head_done(&p));
		assert_int_equal(http_parser_begin_body(&p, s_bodies[i].limit), s_bodies[i].begin);
		http_parser_done(&p);
	}
}

/* ---- sequences ------------------------------------------------------------ */

static void test_pipelined(void **state)
{
	static const char in[] = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
				 "GET /b?q HTTP/1.1\r\nHost: a\r\n\r\n"
				 "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	static const char *const paths[] = { "/a", "/b", "/c" };
	struct http_parser p;
	size_t pos = 0, len = sizeof(in) - 1;

	http_parser_init(&p, &s_limits);
	assert_false(http_parser_started(&p));
	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		assert_int_equal(s_feed_to(&p, in, &pos, len, BIG_LIMIT), HTTP_PARSE_DONE);
		assert_true(http_parser_started(&p));
		assert_string_equal(p.req.path, paths[i]);
		assert_int_equal(p.req.keep_alive, i < 2);
		/* done is sticky and consumes nothing */
		{
			size_t used = 7;

			assert_int_equal(http_parser_feed(&p, in + pos, len - pos, &used), HTTP_PARSE_DONE);
			assert_int_equal(used, 0);
		}
		http_parser_reset(&p);
		assert_false(http_parser_started(&p));
	}
	assert_int_equal(pos, len);
	http_parser_done(&p);
}

static void test_head_waits_for_begin_body(void **state)
{
	static const char in[] = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxy";
	struct http_parser p;
	size_t used;

	http_parser_init(&p, &s_limits);
	assert_int_equal(http_parser_feed(&p, in, sizeof(in) - 1, &used), HTTP_PARSE_HEAD);
	assert_int_equal(used, sizeof(in) - 3);
	/* without begin_body, nothing of the body is taken */
	assert_int_equal(http_parser_feed(&p, in + used, 2, &used), HTTP_PARSE_HEAD);
	assert_int_equal(used, 0);
	assert_int_equal(http_parser_begin_body(&p, 2), 0);
	assert_int_equal(http_parser_begin_body(&p, 2), -EINVAL);
	assert_int_equal(http_parser_feed(&p, "x", 1, &used), HTTP_PARSE_AGAIN);
	assert_int_equal(http_parser_feed(&p, "yGET", 4, &used), HTTP_PARSE_DONE);
	assert_int_equal(used, 1);
	assert_string_equal(p.req.body, "xy");
	/* reset in the middle of a body frees it (checked under ASan) */
	http_parser_reset(&p);
	assert_int_equal(http_parser_feed(&p, in, sizeof(in) - 2, &used), HTTP_PARSE_HEAD);
	assert_int_equal(http_parser_begin_body(&p, 10), 0);
	assert_int_equal(http_parser_feed(&p, in + used, 1, &used), HTTP_PARSE_AGAIN);
	http_parser_done(&p);
}

static void test_empty_input(void **state)
{
	struct http_parser p;
	size_t used = 5;

	http_parser_init(&p, &s_limits);
	assert_int_equal(http_parser_feed(&p, "", 0, &used), HTTP_PARSE_AGAIN);
	assert_int_equal(used, 0);
	assert_false(http_parser_started(&p));
	assert_int_equal(http_parser_feed(&p, "\r\n", 2, &used), HTTP_PARSE_AGAIN);
	assert_true(http_parser_started(&p));
	http_parser_done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_every_split),
		cmocka_unit_test(test_valid_byte_by_byte),
		cmocka_unit_test(test_bad_every_split),
		cmocka_unit_test(test_bad_byte_by_byte),
		cmocka_unit_test(test_head_bytes_limit),
		cmocka_unit_test(test_head_bytes_count_leading_lines),
		cmocka_unit_test(test_long_request_line),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_head_waits_for_begin_body),
		cmocka_unit_test(test_empty_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
