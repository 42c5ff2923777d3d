/*
 * http_server.c - sembark-ingressd's HTTP/1.1 server on libevent
 * bufferevents: accepting, per-connection state, timeouts, limits, and the
 * one response writer that puts the security headers on every answer.
 *
 * A connection moves IDLE -> READING (first byte of a request; the request
 * timer runs) -> BUSY (request complete, with its handler; nothing more is
 * read into the parser, so pipelined requests wait their turn) -> WRITING
 * (answer queued) -> IDLE again (keep-alive; the idle timer runs) or
 * closed. A connection closed because of an error the client caused
 * (400, 408, 413, 431) first answers, then half-closes and drops input
 * for a short while (LINGER), so that the client reads the answer instead
 * of a reset. Answers are plain text or JSON, never HTML.
 *
 * Internet-facing: the client's address is never logged, and kept only in
 * memory as the key of its connection count (conncap.c) while it holds a
 * connection; the access log (access_log.c) records method, route,
 * status, duration and size only.
 * http_exchange_peer() reads it (as bytes) for the per-client rate limit.
 * With TLS (lim.tls_ctx) every connection is a bufferevent_openssl that
 * accepts the handshake; the request timer, armed at accept, bounds the
 * handshake too, and a failed handshake closes that connection only.
 * http_server_set_tls_ctx swaps the context for connections accepted
 * later (certificate renewal); each SSL holds a reference to its own.
 *
 * Admission, at accept and before anything else is done for a connection:
 * over lim.max_connections, or when its address (its client key, IPv6 per
 * /64: client_addr.c) already holds lim.max_connections_per_address
 * (counted in memory by conncap.c), the connection is refused. Over plain
 * HTTP it is answered at once without reading anything (503, or 429 for
 * the per-address cap, both with Retry-After: 1) and lingers like other
 * refusals, at most REJECT_MAX at a time; with TLS, and beyond
 * REJECT_MAX, it is closed at once: no SSL object, no handshake. Each
 * refusal is counted in the access log (access_log_refused).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "daemon.h"
#include "ingressd.h"
#include "log.h"
#include "macro.h"

#define READ_HIGH_WATERMARK (64 * 1024) /* input held while a request is handled */
#define LINGER_IDLE_MS 2000             /* close a lingering connection after this quiet time */
#define LINGER_MAX_US (10 * 1000000LL)  /* ... or after this long in all */
#define REJECT_MAX 64                   /* connections being told 503 at once */
#define ACCEPT_PAUSE_MS 100             /* after accept() failed (EMFILE) */
#define WARN_INTERVAL_US (10 * 1000000LL)

#define JSON_TYPE "application/json; charset=utf-8"

enum conn_state {
	CONN_IDLE,    /* between requests: nothing of the next one yet */
	CONN_READING, /* part of a request has arrived */
	CONN_BUSY,    /* a complete request is with its handler */
	CONN_WRITING, /* the answer is queued */
	CONN_LINGER,  /* answered and half-closed: dropping input until the client closes */
};

struct http_conn {
	struct http_server *srv;
	struct http_conn *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	struct http_parser parser;
	struct http_exchange ex;
	enum conn_state state;
	unsigned served;    /* requests answered on this connection */
	bool close_after;   /* close once the answer is out */
	bool linger_after;  /* ... through LINGER: input may be unread */
	bool rejected;      /* refused at accept: gets one 503 or 429 */
	struct ingress_client_key key; /* counted in srv->cap; len 0: not counted */
	int64_t linger_start_us;
};

/* Why a connection is refused at accept: the limit, and the answer over plain HTTP. */
struct refusal {
	const char *reason; /* the config key: the access log's reason, the warning's field */
	int status;
	const char *code, *message;
	const char *warning;
};

struct http_server {
	struct event_base *base;
	struct http_server_limits lim;
	struct http_server_hooks hooks;
	struct evconnlistener *listener;
	struct event *resume;
	struct http_conn *conns;
	size_t n_conns, n_rejecting;
	struct ingress_conncap *cap; /* lim.max_connections_per_address; NULL: no cap */
	bool stopping;
	int64_t last_limit_warn_us, last_cap_warn_us, last_accept_warn_us;
	struct access_log *access;
	struct http_server_stats stats;
};

static const char s_security_headers[] =
	"X-Content-Type-Options: nosniff\r\n"
	"Referrer-Policy: same-origin\r\n"
	"X-Frame-Options: DENY\r\n"
	"Content-Security-Policy: default-src 'self'; base-uri 'self'; form-action 'self'; "
	"frame-ancestors 'none'\r\n";
static const char s_hsts[] = "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n";
static const char s_fallback_body[] =
	"{\"error\":\"service_unavailable\",\"message\":\"temporarily out of resources\"}";

static const struct refusal s_over_max = {
	"max_connections", 503, "service_unavailable", "too many connections; try again later",
	"connection limit reached, refusing connections",
};
static const struct refusal s_over_cap = {
	"max_connections_per_address", 429, "too_many_connections",
	"too many connections from this address; try again later",
	"connection limit per address reached, refusing that address's connections",
};

static void s_conn_parse(struct http_conn *c);

/* ---- helpers ------------------------------------------------------------ */

static void s_arm(struct http_conn *c, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

static void s_disarm(struct http_conn *c)
{
	evtimer_del(c->timer);
}

static void s_exchange_reset(struct http_conn *c)
{
	c->ex = (struct http_exchange){ .conn = c, .start_us = mono_us() };
}

static void s_exchange_abort(struct http_conn *c)
{
	void (*fn)(void *) = c->ex.abort;

	if (c->state != CONN_BUSY || c->ex.answered || !fn)
		return;
	c->ex.abort = NULL;
	fn(c->ex.abort_data);
}

/* s_uncount - a connection counted for key (len 0: none) has gone */
static void s_uncount(struct http_server *s, struct ingress_client_key *key)
{
	if (key->len != 0 && s->cap)
		ingress_conncap_give(s->cap, key);
	*key = (struct ingress_client_key){ 0 };
}

static void s_conn_free(struct http_conn *c)
{
	struct http_server *s = c->srv;

	s_exchange_abort(c);
	s_uncount(s, &c->key);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->rejected)
		s->n_rejecting--;
	else
		s->n_conns--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	http_parser_done(&c->parser);
	free(c);
}

static bool s_warn_due(int64_t *last)
{
	int64_t now = mono_us();

	if (*last && now - *last < WARN_INTERVAL_US)
		return false;
	*last = now;
	return true;
}

/* ---- the response writer ------------------------------------------------ */

/* http_status_reason - "Not Found" for 404; "Unknown" for codes not used */
const char *http_status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} table[] = {
		{ 100, "Continue" },          { 200, "OK" },
		{ 201, "Created" },           { 202, "Accepted" },
		{ 204, "No Content" },        { 304, "Not Modified" },
		{ 400, "Bad Request" },       { 401, "Unauthorized" },
		{ 403, "Forbidden" },         { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 409, "Conflict" },          { 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" }, { 419, "CSRF Token Mismatch" },
		{ 422, "Unprocessable Content" }, { 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" },   { 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (table[i].status == status)
			return table[i].reason;
	return "Unknown";
}

/* http_format_date - IMF-fixdate of a wall-clock time, for the Date header */
void http_format_date(int64_t time_us, char buf[static 32])
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(time_us / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		snprintf(buf, 32, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(buf, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool s_status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

static void s_add_head(struct evbuffer *out, const struct http_conn *c, int status,
		       const char *content_type, size_t len, const struct http_out_header *extra,
		       size_t n_extra)
{
	char date[32];

	http_format_date(now_us(), date);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, http_status_reason(status),
			    date);
	if (s_status_has_body(status)) {
		evbuffer_add_printf(out, "Content-Length: %zu\r\n", len);
		if (content_type)
			evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type);
	}
	evbuffer_add_printf(out, "Connection: %s\r\n", c->close_after ? "close" : "keep-alive");
	evbuffer_add(out, s_security_headers, sizeof(s_security_headers) - 1);
	if (c->srv->lim.tls)
		evbuffer_add(out, s_hsts, sizeof(s_hsts) - 1);
	if (c->ex.no_store || status >= 400)
		evbuffer_add_printf(out, "Cache-Control: no-store\r\n");
	for (size_t i = 0; i < n_extra; i++)
		evbuffer_add_printf(out, "%s: %s\r\n", extra[i].name, extra[i].value);
	evbuffer_add(out, "\r\n", 2);
}

/* s_log_access - the access log's record of this answer (access_log.c) */
static void s_log_access(const struct http_exchange *ex, int status, size_t bytes)
{
	const struct http_request *req = ex->req;
	const struct http_server *s = ex->conn->srv;
	int64_t us = mono_us() - ex->start_us;

	if (s->hooks.answered)
		s->hooks.answered(ex, status, us, s->hooks.userdata);
	if (s->lim.quiet)
		return;
	access_log_answer(s->access, req ? req->method : NULL, ex->route_name,
			  req ? req->path : NULL, status, us / 1000, bytes);
}

static bool s_must_close(const struct http_conn *c)
{
	const struct http_request *req = c->ex.req;

	return c->close_after || c->srv->stopping || !req || !req->keep_alive;
}

/* http_respond - answer ex (see ingressd.h) */
void http_respond(struct http_exchange *ex, int status, const char *content_type, const void *body,
		  size_t len, const struct http_out_header *extra, size_t n_extra)
{
	struct http_conn *c = ex->conn;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	bool head = ex->req && strcmp(ex->req->method, "HEAD") == 0;
	bool send_body = s_status_has_body(status) && !head;

	if (ex->answered)
		abort(); /* a handler answered twice: our bug */
	ex->answered = true;
	ex->abort = NULL;
	c->close_after = s_must_close(c);
	s_add_head(out, c, status, content_type, len, extra, n_extra);
	if (send_body)
		evbuffer_add(out, body, len);
	if (!c->rejected)
		s_log_access(ex, status, send_body ? len : 0);
	s_disarm(c);
	c->state = CONN_WRITING;
}

/* http_respond_json - answer with this JSON value (a reference is taken) */
void http_respond_json(struct http_exchange *ex, int status, json_t *body)
{
	_cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);

	if (!text) {
		ex->conn->close_after = true;
		http_respond(ex, 503, JSON_TYPE, s_fallback_body, sizeof(s_fallback_body) - 1, NULL, 0);
		return;
	}
	http_respond(ex, status, JSON_TYPE, text, strlen(text), NULL, 0);
}

/* http_respond_error_ex - {"error": code, "message": message} with extra header lines */
void http_respond_error_ex(struct http_exchange *ex, int status, const char *code,
			   const char *message, const struct http_out_header *extra, size_t n_extra)
{
	json_t *o = json_pack("{s:s, s:s}", "error", code, "message", message);
	_cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!text) {
		ex->conn->close_after = true;
		http_respond(ex, 503, JSON_TYPE, s_fallback_body, sizeof(s_fallback_body) - 1, NULL, 0);
		return;
	}
	http_respond(ex, status, JSON_TYPE, text, strlen(text), extra, n_extra);
}

/* http_respond_error - {"error": code, "message": message} */
void http_respond_error(struct http_exchange *ex, int status, const char *code, const char *message)
{
	http_respond_error_ex(ex, status, code, message, NULL, 0);
}

/* http_exchange_on_abort - what to run if the client leaves before the answer */
void http_exchange_on_abort(struct http_exchange *ex, void (*fn)(void *), void *userdata)
{
	ex->abort = fn;
	ex->abort_data = userdata;
}

/* http_exchange_peer - the client's address as raw bytes (4 or 16), never a string */
int http_exchange_peer(const struct http_exchange *ex, uint8_t out[static 16], size_t *ret_len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(bufferevent_getfd(ex->conn->bev), (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	return ingress_client_addr((const struct sockaddr *)&ss, sl, out, ret_len);
}

/* ---- the connection ----------------------------------------------------- */

/* s_answer_early - an error before (or instead of) a complete request: answer and close */
static void s_answer_early(struct http_conn *c, int status, const char *code, const char *message)
{
	c->close_after = true;
	c->linger_after = true;
	http_respond_error(&c->ex, status, code, message);
}

static void s_conn_linger(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	c->state = CONN_LINGER;
	c->linger_start_us = mono_us();
	if (shutdown(bufferevent_getfd(c->bev), SHUT_WR) < 0) {
		s_conn_free(c);
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_enable(c->bev, EV_READ);
	s_arm(c, LINGER_IDLE_MS);
}

static void s_conn_linger_read(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	if (mono_us() - c->linger_start_us > LINGER_MAX_US) {
		s_conn_free(c);
		return;
	}
	s_arm(c, LINGER_IDLE_MS);
}

/* s_conn_begin - the first byte of a request arrived */
static void s_conn_begin(struct http_conn *c)
{
	c->state = CONN_READING;
	c->ex.start_us = mono_us();
	/* the first request's clock has run since accept */
	if (c->served > 0)
		s_arm(c, c->srv->lim.request_timeout_ms);
}

/* s_conn_head - route the head, refuse a body over the route's limit (413) */
static int s_conn_head(struct http_conn *c)
{
	struct http_server *s = c->srv;
	const struct http_request *req = &c->parser.req;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint64_t limit;
	int r;

	c->ex.req = req;
	limit = s->hooks.head(&c->ex, s->hooks.userdata);
	r = http_parser_begin_body(&c->parser, limit);
	if (r == -EFBIG) {
		s_answer_early(c, 413, "payload_too_large", "the request body is too large");
		return -1;
	}
	if (r < 0) {
		s_conn_free(c);
		return -1;
	}
	if (req->expect_continue && req->version_minor == 1 &&
	    req->content_length > evbuffer_get_length(in))
		bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 0;
}

static void s_conn_request(struct http_conn *c)
{
	struct http_server *s = c->srv;

	s_disarm(c);
	c->state = CONN_BUSY;
	s->hooks.request(&c->ex, s->hooks.userdata);
}

/* s_parse_error_code - the JSON error code of a request the parser refused */
static const char *s_parse_error_code(int status)
{
	if (status == 501)
		return "not_implemented";
	if (status == 505)
		return "http_version_not_supported";
	return "bad_request"; /* 400, and 431 (API.md has no code of its own for it) */
}

/* s_conn_feed - one step of the parser on the first input chunk; false: stop */
static bool s_conn_feed(struct http_conn *c, struct evbuffer *in)
{
	struct evbuffer_iovec v = { 0 };
	size_t used = 0;
	int r;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
		v = (struct evbuffer_iovec){ 0 };
	r = http_parser_feed(&c->parser, v.iov_base, v.iov_len, &used);
	evbuffer_drain(in, used);
	switch (r) {
	case HTTP_PARSE_AGAIN:
		return v.iov_len > 0;
	case HTTP_PARSE_HEAD:
		return s_conn_head(c) == 0;
	case HTTP_PARSE_DONE:
		s_conn_request(c);
		return false;
	case HTTP_PARSE_ERROR:
		s_answer_early(c, c->parser.status, s_parse_error_code(c->parser.status),
			       c->parser.error);
		return false;
	default:
		s_conn_free(c); /* out of memory */
		return false;
	}
}

static void s_conn_parse(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (evbuffer_get_length(in) == 0)
		return;
	if (c->state == CONN_IDLE)
		s_conn_begin(c);
	while (s_conn_feed(c, in))
		;
}

/* s_conn_next - the answer is out: get ready for the next request */
static void s_conn_next(struct http_conn *c)
{
	c->served++;
	http_parser_reset(&c->parser);
	s_exchange_reset(c);
	c->state = CONN_IDLE;
	s_arm(c, c->srv->lim.idle_timeout_ms);
	s_conn_parse(c);
}

static void s_read_cb(struct bufferevent *bev, void *userdata)
{
	struct http_conn *c = userdata;

	switch (c->state) {
	case CONN_IDLE:
	case CONN_READING:
		s_conn_parse(c);
		break;
	case CONN_LINGER:
		s_conn_linger_read(c);
		break;
	default:
		break; /* kept for later; the read watermark bounds it */
	}
}

static void s_write_cb(struct bufferevent *bev, void *userdata)
{
	struct http_conn *c = userdata;

	if (c->state != CONN_WRITING)
		return; /* a 100 Continue went out */
	if (c->close_after && c->linger_after)
		s_conn_linger(c);
	else if (c->close_after || c->srv->stopping)
		s_conn_free(c);
	else
		s_conn_next(c);
}

static void s_event_cb(struct bufferevent *bev, short what, void *userdata)
{
	struct http_conn *c = userdata;

	if (what == BEV_EVENT_CONNECTED)
		return; /* the TLS handshake is done */
	/* the client stopped sending but may still read the answer on its way */
	if (c->state == CONN_WRITING && (what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		c->close_after = true;
		c->linger_after = false;
		return;
	}
	s_conn_free(c);
}

static void s_timer_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct http_conn *c = userdata;

	switch (c->state) {
	case CONN_READING:
		s_answer_early(c, 408, "request_timeout", "the request did not arrive in time");
		break;
	case CONN_IDLE:
	case CONN_LINGER:
		s_conn_free(c);
		break;
	default:
		break;
	}
}

/* s_conn_tls - a bufferevent_openssl accepting the handshake on fd */
static struct bufferevent *s_conn_tls(struct http_server *s, int fd)
{
	SSL *ssl = SSL_new(s->lim.tls_ctx);
	struct bufferevent *bev;

	if (!ssl) {
		ERR_clear_error();
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	/* a client that closes without close_notify is at EOF, as over plain TCP */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* s_conn_bufferevent - the connection's bufferevent: TLS when configured */
static struct bufferevent *s_conn_bufferevent(struct http_server *s, int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->lim.tls && s->lim.tls_ctx)
		return s_conn_tls(s, fd);
	return bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
}

static void s_conn_setup(struct http_conn *c)
{
	struct http_server *s = c->srv;
	struct timeval wtv = { .tv_sec = s->lim.request_timeout_ms / 1000,
			       .tv_usec = (s->lim.request_timeout_ms % 1000) * 1000 };

	http_parser_init(&c->parser, &s->lim.http);
	c->ex = (struct http_exchange){ .conn = c, .start_us = mono_us() };
	bufferevent_setcb(c->bev, s_read_cb, s_write_cb, s_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH_WATERMARK);
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	if (c->rejected)
		s->n_rejecting++;
	else
		s->n_conns++;
}

/* s_conn_refused - answer a connection refused at accept without reading it, then linger */
static void s_conn_refused(struct http_conn *c, const struct refusal *why)
{
	static const struct http_out_header retry = { "Retry-After", "1" };

	c->close_after = true;
	c->linger_after = true;
	http_respond_error_ex(&c->ex, why->status, why->code, why->message, &retry, 1);
}

/*
 * s_conn_new - take fd as a client connection counted for *key, or one
 * refused for why (closed at once on failure, and *key uncounted)
 */
static void s_conn_new(struct http_server *s, int fd, struct ingress_client_key *key,
		       const struct refusal *why)
{
	struct http_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		s_uncount(s, key);
		close(fd);
		return;
	}
	c->srv = s;
	c->rejected = why != NULL;
	c->key = *key;
	c->bev = s_conn_bufferevent(s, fd);
	c->timer = evtimer_new(s->base, s_timer_cb, c);
	if (!c->bev || !c->timer) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->timer)
			event_free(c->timer);
		s_uncount(s, &c->key);
		free(c);
		return;
	}
	s_conn_setup(c);
	if (why)
		s_conn_refused(c, why);
	else
		s_arm(c, s->lim.request_timeout_ms);
}

/* ---- the listener ------------------------------------------------------- */

/*
 * s_admit - NULL when the connection from sa may be served (counted for
 * its address in *ret_key when there is a cap), else why not. The address
 * is looked at only as the cap's key, and forgotten here.
 */
static const struct refusal *s_admit(struct http_server *s, const struct sockaddr *sa,
				     int socklen, struct ingress_client_key *ret_key)
{
	uint8_t addr[16];
	size_t len = 0;
	int r;

	*ret_key = (struct ingress_client_key){ 0 };
	if (s->n_conns >= s->lim.max_connections)
		return &s_over_max;
	if (!s->cap || socklen <= 0)
		return NULL;
	r = ingress_client_addr(sa, (size_t)socklen, addr, &len);
	if (r >= 0)
		r = ingress_client_key_make(addr, len, ret_key);
	sodium_memzero(addr, sizeof(addr));
	if (r < 0)
		return NULL; /* not an internet address: nothing to count it under */
	if (ingress_conncap_take(s->cap, ret_key) < 0) {
		*ret_key = (struct ingress_client_key){ 0 };
		return &s_over_cap;
	}
	return NULL;
}

/*
 * s_refuse - a refused connection: answered over plain HTTP while fewer
 * than REJECT_MAX are, else (and always with TLS: no handshake for it)
 * closed at once
 */
static void s_refuse(struct http_server *s, int fd, const struct refusal *why)
{
	struct ingress_client_key none = { 0 };
	bool answer = !s->lim.tls && s->n_rejecting < REJECT_MAX;
	bool per_address = why == &s_over_cap;

	if (per_address)
		s->stats.refused_per_address++;
	else
		s->stats.refused_max++;
	if (s_warn_due(per_address ? &s->last_cap_warn_us : &s->last_limit_warn_us))
		log_warning(why->warning, LOG_I(why->reason, per_address ?
						s->lim.max_connections_per_address :
						s->lim.max_connections));
	access_log_refused(s->access, why->reason, answer ? why->status : 0);
	if (!answer) {
		close(fd);
		return;
	}
	s_conn_new(s, fd, &none, why);
}

static void s_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			int socklen, void *userdata)
{
	struct http_server *s = userdata;
	struct ingress_client_key key;
	const struct refusal *why;

	if (s->stopping) {
		close(fd);
		return;
	}
	why = s_admit(s, sa, socklen, &key);
	if (why) {
		s_refuse(s, fd, why);
	} else {
		s->stats.accepted++;
		s_conn_new(s, fd, &key, NULL);
	}
}

static void s_accept_error_cb(struct evconnlistener *l, void *userdata)
{
	struct http_server *s = userdata;
	struct timeval tv = { .tv_sec = 0, .tv_usec = ACCEPT_PAUSE_MS * 1000 };
	int e = EVUTIL_SOCKET_ERROR();

	if (s_warn_due(&s->last_accept_warn_us))
		log_warning_errno(-e, "accept failed, pausing");
	evconnlistener_disable(l);
	evtimer_add(s->resume, &tv);
}

static void s_resume_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct http_server *s = userdata;

	if (s->listener && !s->stopping)
		evconnlistener_enable(s->listener);
}

/* http_server_new - serve on listen_fd (a listening socket, taken over) */
int http_server_new(struct event_base *base, int listen_fd, const struct http_server_limits *lim,
		    const struct http_server_hooks *hooks, struct http_server **ret)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (!s || evutil_make_socket_nonblocking(listen_fd) < 0) {
		free(s);
		close(listen_fd);
		return -ENOMEM;
	}
	s->base = base;
	s->lim = *lim;
	s->hooks = *hooks;
	if (lim->max_connections_per_address > 0 &&
	    ingress_conncap_new((unsigned)MIN(lim->max_connections_per_address, (size_t)UINT_MAX),
				MAX(lim->max_connections, (size_t)1), &s->cap) < 0) {
		close(listen_fd);
		http_server_free(s);
		return -ENOMEM;
	}
	s->resume = evtimer_new(base, s_resume_cb, s);
	/* backlog 0: the socket is already listening */
	s->listener = evconnlistener_new(base, s_accept_cb, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, listen_fd);
	if (!s->resume || !s->listener || access_log_new(base, &s->access) < 0) {
		if (!s->listener)
			close(listen_fd);
		http_server_free(s);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(s->listener, s_accept_error_cb);
	*ret = s;
	return 0;
}

/* http_server_stop - close the listener and idle connections; answer the rest */
void http_server_stop(struct http_server *s)
{
	struct http_conn *c, *next;

	s->stopping = true;
	if (s->listener)
		evconnlistener_free(s->listener);
	s->listener = NULL;
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_IDLE || c->state == CONN_LINGER)
			s_conn_free(c);
	}
}

/* http_server_inflight - connections with a request being read, handled or written */
size_t http_server_inflight(const struct http_server *s)
{
	size_t n = 0;

	for (const struct http_conn *c = s->conns; c; c = c->next)
		if (!c->rejected && c->state != CONN_IDLE && c->state != CONN_LINGER)
			n++;
	return n;
}

/* http_server_connections - open client connections (without rejected ones) */
size_t http_server_connections(const struct http_server *s)
{
	return s->n_conns;
}

/* http_server_get_stats - the listener's counts so far */
const struct http_server_stats *http_server_get_stats(const struct http_server *s)
{
	return &s->stats;
}

/* http_server_set_tls_ctx - the context new connections get; open ones keep theirs */
void http_server_set_tls_ctx(struct http_server *s, struct ssl_ctx_st *ctx)
{
	s->lim.tls_ctx = ctx;
}

/* http_server_free - close everything, aborting waiting handlers; accepts NULL */
struct http_server *http_server_free(struct http_server *s)
{
	if (!s)
		return NULL;
	while (s->conns)
		s_conn_free(s->conns);
	if (s->listener)
		evconnlistener_free(s->listener);
	if (s->resume)
		event_free(s->resume);
	access_log_free(s->access);
	ingress_conncap_free(s->cap);
	free(s);
	return NULL;
}
