/*
 * http_parser.h - sembark-ingressd's incremental HTTP/1.1 request parser.
 *
 * Pure code: no I/O, no event loop, no logging. Bytes go in through
 * http_parser_feed() in pieces of any size; the parser copies the request
 * line and header fields into one buffer of [ingress] max_header_bytes and
 * stops at two points so that the caller can act between them:
 *
 *   HTTP_PARSE_HEAD  request line and headers are complete and valid; the
 *                    caller picks the route and its body limit and calls
 *                    http_parser_begin_body() (413 before any body byte);
 *   HTTP_PARSE_DONE  the body (Content-Length bytes) is complete too.
 *
 * Bytes after the request (a pipelined next request) are never consumed;
 * http_parser_reset() readies the parser for the next request.
 *
 * Accepted: origin-form targets ("/path?query") and http/https
 * absolute-form ones (the authority checked and dropped; req.path is what
 * follows, "/" when empty), HTTP/1.0 and 1.1 (1.2 to 1.9 taken as 1.1),
 * CRLF line ends, token header names with no space before ':', bodies
 * framed by one Content-Length. Refused with 400: other target forms,
 * malformed versions, bare LF or CR, obs-fold, control bytes, a
 * Content-Length that is not all digits or is sent twice,
 * Transfer-Encoding with Content-Length or in HTTP/1.0 or without chunked
 * as its one last coding, a missing (HTTP/1.1), repeated or invalid Host.
 * Refused with 501: a chunked body (well framed, not implemented),
 * "OPTIONS *", CONNECT. Refused with 505: a major version other than 1.
 * Refused with 431: more than max_header_bytes from the first byte of the
 * request line to the end of the empty line (inclusive), or more than
 * max_headers header fields.
 */
#ifndef INGRESSD_HTTP_PARSER_H
#define INGRESSD_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_limits {
	size_t max_header_bytes; /* request line + headers + CRLFs */
	size_t max_headers;      /* header field lines */
};

struct http_header {
	const char *name;  /* as sent (compare case-insensitively) */
	const char *value; /* leading and trailing SP/HTAB removed */
};

struct http_request {
	const char *method;       /* token, case-sensitive ("GET") */
	const char *path;         /* the target up to '?', starts with '/' */
	const char *query;        /* after the first '?', "" when none */
	int version_minor;        /* HTTP/1.<minor>: 0 or 1 */
	const struct http_header *headers;
	size_t n_headers;
	uint64_t content_length;  /* 0 when absent; UINT64_MAX when too large to count */
	bool keep_alive;          /* HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive" */
	bool expect_continue;     /* "Expect: 100-continue" */
	const char *body;         /* NUL-terminated copy, content_length bytes */
	size_t body_len;
};

enum http_parse_result {
	HTTP_PARSE_AGAIN,  /* all input consumed, need more */
	HTTP_PARSE_HEAD,   /* head complete: call http_parser_begin_body() */
	HTTP_PARSE_DONE,   /* request complete */
	HTTP_PARSE_ERROR,  /* see status and error; the connection must close */
};

struct http_parser {
	struct http_limits lim;
	struct http_request req;
	int status;          /* on HTTP_PARSE_ERROR: 400, 431, 501 or 505 */
	const char *error;   /* on HTTP_PARSE_ERROR: a fixed text for the client */

	/* private */
	int state;
	char *head;          /* max_header_bytes + 1, allocated on first use */
	size_t head_len;     /* bytes of the head consumed so far */
	size_t out;          /* bytes written into head */
	struct http_header *hdrs; /* max_headers */
	size_t path_at, query_at, name_at, value_at;
	unsigned vpos, pct, major;
	char *body;
	uint64_t body_got;
};

/* http_parser_init - a parser with these limits; memory comes on first use */
void http_parser_init(struct http_parser *p, const struct http_limits *lim);
/* http_parser_done - free the parser's memory; init again before reuse */
void http_parser_done(struct http_parser *p);
/* http_parser_reset - forget the current request, keep the buffers */
void http_parser_reset(struct http_parser *p);

/*
 * http_parser_feed - consume bytes from data (at most len) and say what
 * happened; *ret_consumed is how many were used (the rest belongs to what
 * follows). Returns -ENOMEM on allocation failure, else a result above.
 */
int http_parser_feed(struct http_parser *p, const void *data, size_t len, size_t *ret_consumed);

/*
 * http_parser_begin_body - after HTTP_PARSE_HEAD: accept a body of at most
 * limit bytes. Returns 0, -EFBIG when Content-Length is over limit (answer
 * 413 and close) or -ENOMEM. Feed again afterwards: HTTP_PARSE_DONE comes
 * once the body is complete (at once for an empty body).
 */
int http_parser_begin_body(struct http_parser *p, uint64_t limit);

/* http_parser_started - has any byte of a request been consumed? */
bool http_parser_started(const struct http_parser *p);
/* http_parser_head_done - is the request head complete? */
bool http_parser_head_done(const struct http_parser *p);

/* http_request_header - first header named `name` (case-insensitive), or NULL */
const char *http_request_header(const struct http_request *req, const char *name);

#endif
