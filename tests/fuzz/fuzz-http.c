/*
 * fuzz-http.c - libFuzzer harness for ingressd's HTTP/1.1 request parser
 * (services/ingressd/http_parser.c), the code that reads every byte a
 * client sends. An input is a byte stream on one connection: requests
 * parsed one after the other (pipelining), each body taken when the head
 * allows it, until an error, a body over the limit, or the end.
 *
 * The stream is parsed twice: in one piece, and cut at points the first
 * byte of the input chooses (pieces of 1 to 24 bytes, as a slow or
 * malicious client sends them). Both must give the same requests, field by
 * field, and the same ending: how the bytes arrive must never change what
 * is understood. Every request the parser completes must hold its
 * promises (a path that starts with '/', HTTP/1.0 or 1.1, a body of
 * Content-Length bytes, headers with names). Build and run: `make fuzz`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUESTS_MAX 32
#define BODY_LIMIT 4096
#define FIELD_MAX 48

enum ending { END_MORE, END_ERROR, END_TOO_BIG, END_LIMIT };

/* What one request was, in a form two runs can be compared by. */
struct seen {
	char method[FIELD_MAX], path[FIELD_MAX], query[FIELD_MAX], host[FIELD_MAX];
	int version_minor;
	size_t n_headers;
	uint64_t content_length;
	int keep_alive, expect_continue;
	size_t body_len;
	uint64_t body_hash;
};

struct run {
	struct seen req[REQUESTS_MAX];
	size_t n;
	enum ending end;
	int status; /* with END_ERROR */
};

static const struct http_limits s_lim = { .max_header_bytes = 1024, .max_headers = 16 };

static uint64_t s_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
	return h;
}

/* the statuses the parser refuses with: malformed, too large, not implemented, other version */
static int s_error_status(int status)
{
	return status == 400 || status == 431 || status == 501 || status == 505;
}

/* s_check - the promises of a completed request; a copy of it into s */
static void s_note(const struct http_request *r, struct seen *s)
{
	const char *host = http_request_header(r, "host");

	if (!r->method || !r->method[0] || !r->path || r->path[0] != '/' || !r->query ||
	    (r->version_minor != 0 && r->version_minor != 1) || r->body_len != r->content_length ||
	    (r->body_len && !r->body))
		abort();
	for (size_t i = 0; i < r->n_headers; i++)
		if (!r->headers[i].name || !r->headers[i].name[0] || !r->headers[i].value)
			abort();
	memset(s, 0, sizeof(*s));
	snprintf(s->method, sizeof(s->method), "%s", r->method);
	snprintf(s->path, sizeof(s->path), "%s", r->path);
	snprintf(s->query, sizeof(s->query), "%s", r->query);
	snprintf(s->host, sizeof(s->host), "%s", host ? host : "");
	s->version_minor = r->version_minor;
	s->n_headers = r->n_headers;
	s->content_length = r->content_length;
	s->keep_alive = r->keep_alive;
	s->expect_continue = r->expect_continue;
	s->body_len = r->body_len;
	s->body_hash = s_hash(r->body ? r->body : "", r->body_len);
}

/* s_piece - the next piece's size: all that is left (cut == 0), else 1..24 from the cut state */
static size_t s_piece(uint32_t *cut, size_t left)
{
	if (*cut == 0)
		return left;
	*cut = *cut * 1103515245u + 12345u;
	return left < 1 + (*cut >> 16) % 24 ? left : 1 + (*cut >> 16) % 24;
}

/* s_parse - the requests of data[0..n) as the parser sees them, fed in pieces chosen by cut */
static void s_parse(const uint8_t *data, size_t n, uint32_t cut, struct run *out)
{
	struct http_parser p;
	size_t off = 0;
	int must_feed = 0; /* a body was accepted: feed even with nothing left (empty body) */

	memset(out, 0, sizeof(*out));
	out->end = END_MORE;
	http_parser_init(&p, &s_lim);
	while ((off < n || must_feed) && out->n < REQUESTS_MAX) {
		size_t piece = s_piece(&cut, n - off), used = 0;
		int r = http_parser_feed(&p, data + off, piece, &used);

		must_feed = 0;
		if (used > piece)
			abort();
		off += used;
		if (r == HTTP_PARSE_AGAIN) {
			if (used != piece)
				abort(); /* "all input consumed" */
		} else if (r == HTTP_PARSE_HEAD) {
			int b = http_parser_begin_body(&p, BODY_LIMIT);

			if (b == -EFBIG) {
				out->end = END_TOO_BIG;
				break;
			}
			if (b < 0)
				abort();
			must_feed = 1;
		} else if (r == HTTP_PARSE_DONE) {
			s_note(&p.req, &out->req[out->n++]);
			http_parser_reset(&p);
		} else if (r == HTTP_PARSE_ERROR) {
			if (!s_error_status(p.status) || !p.error)
				abort();
			out->end = END_ERROR;
			out->status = p.status;
			break;
		} else {
			abort(); /* -ENOMEM: not under the fuzzer's limits */
		}
	}
	if (out->n == REQUESTS_MAX)
		out->end = END_LIMIT;
	http_parser_done(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, cut;

	if (size < 1)
		return 0;
	s_parse(data + 1, size - 1, 0, &whole);
	s_parse(data + 1, size - 1, 1u + data[0], &cut);
	if (whole.n != cut.n || whole.end != cut.end || whole.status != cut.status ||
	    memcmp(whole.req, cut.req, whole.n * sizeof(whole.req[0])) != 0) {
		fprintf(stderr, "fuzz-http: %zu requests and end %d whole, %zu and end %d in pieces\n",
			whole.n, whole.end, cut.n, cut.end);
		abort();
	}
	return 0;
}
