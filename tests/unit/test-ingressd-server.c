/*
 * test-ingressd-server.c - sembark-ingressd's HTTP server, routes and
 * /healthz, end to end in one process: a real listening socket on
 * 127.0.0.1, real libevent, real ZeroMQ RPC clients talking to three real
 * rpc_server backends (inproc://) that answer pongs, answer "no database",
 * stay silent or answer late. The loop runs in a second thread; the test
 * thread is the HTTP client with blocking sockets, and inspects the
 * server only through callbacks run inside the loop.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/testlib.h"
#include <event2/event.h>
#include <event2/thread.h>
#include <zmq.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "macro.h"
#include "rpc.h"
#include "services/ingressd/ingressd.h"

#define HELD_MAX 16
#define SLOW_MS 300
#define HEALTH_TIMEOUT_MS 200
#define REQUEST_TIMEOUT_MS 400
#define IDLE_TIMEOUT_MS 400
#define MAX_CONNECTIONS 6

enum backend_mode { B_OK, B_NO_DB, B_SILENT, B_SLOW };

struct backend {
	const char *name;
	enum ipc_peer self;
	enum backend_mode mode;
	struct rpc_server *srv;
	struct rpc_request *held[HELD_MAX];
	size_t n_held;
	struct event *timer;
};

struct fixture {
	struct event_base *base;
	void *zctx;
	struct sembark_config cfg;
	struct ingress app;
	struct backend be[3];
	struct test_loop_thread loop;
	int port;
};

/* ---- running code inside the loop ---------------------------------------- */

/* s_in_loop(f, fn, arg) - run fn(f, arg) on f->base's loop thread and wait */
TEST_DEFINE_IN_LOOP(fixture)

/* ---- backends --------------------------------------------------------------- */

static void s_pong(struct backend *b, struct rpc_request *req, bool database)
{
	struct ipc_pong pong = { .database = database, .pid = getpid(), .uptime_s = 1 };
	struct ipc_buf buf;

	snprintf(pong.service, sizeof(pong.service), "%s", b->name);
	ipc_buf_init(&buf);
	assert_int_equal(ipc_encode_pong(&buf, rpc_request_id(req), &pong), 0);
	(void)rpc_reply(req, buf.data, buf.size);
	ipc_buf_done(&buf);
}

static void s_slow_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct backend *b = userdata;

	for (size_t i = 0; i < b->n_held; i++)
		s_pong(b, b->held[i], true);
	b->n_held = 0;
}

static void s_backend_handle(struct rpc_request *req, enum ipc_msg_type type, const void *buf,
			     size_t len, void *userdata)
{
	struct backend *b = userdata;
	struct timeval tv = { 0, SLOW_MS * 1000 };

	if (type != IPC_MSG_PING) {
		rpc_reply_error(req, "bad_message", "ping only");
		return;
	}
	if (b->mode == B_OK || b->mode == B_NO_DB) {
		s_pong(b, req, b->mode == B_OK);
		return;
	}
	assert_true(b->n_held < HELD_MAX);
	b->held[b->n_held++] = req;
	if (b->mode == B_SLOW)
		evtimer_add(b->timer, &tv);
}

static void s_backend_free(struct backend *b)
{
	b->srv = rpc_server_free(b->srv);
	for (size_t i = 0; i < b->n_held; i++)
		(void)rpc_reply_error(b->held[i], "gone", "test over"); /* frees it */
	b->n_held = 0;
	if (b->timer)
		event_free(b->timer);
}

/* ---- fixture ----------------------------------------------------------------- */

static void s_config(struct sembark_config *cfg)
{
	config_defaults(cfg);
	snprintf(cfg->ipc.authd, sizeof(cfg->ipc.authd), "inproc://test-authd");
	snprintf(cfg->ipc.telemetryd, sizeof(cfg->ipc.telemetryd), "inproc://test-telemetryd");
	snprintf(cfg->ipc.logd, sizeof(cfg->ipc.logd), "inproc://test-logd");
	cfg->ingress.health_timeout_ms = HEALTH_TIMEOUT_MS;
	cfg->ingress.max_body = 1024;
	cfg->ingress.max_telemetry_body = 4096;
	cfg->ingress.max_header_bytes = 1024;
	cfg->ingress.max_headers = 16;
}

static void s_backends_start(struct fixture *f)
{
	static const char *const names[3] = { "authd", "telemetryd", "logd" };
	static const enum ipc_peer selves[3] = { IPC_PEER_AUTHD, IPC_PEER_TELEMETRYD, IPC_PEER_LOGD };
	const char *endpoints[3] = { f->cfg.ipc.authd, f->cfg.ipc.telemetryd, f->cfg.ipc.logd };
	const struct rpc_opts opts = { .hwm = 1000, .max_msg = 1 << 20 };
	struct rpc_client **clients[3] = { &f->app.authd, &f->app.telemetryd, &f->app.logd };

	for (size_t i = 0; i < 3; i++) {
		struct backend *b = &f->be[i];

		*b = (struct backend){ .name = names[i], .self = selves[i], .mode = B_OK };
		b->timer = evtimer_new(f->base, s_slow_cb, b);
		assert_non_null(b->timer);
		assert_int_equal(rpc_server_new(f->base, f->zctx, endpoints[i], b->self, &opts,
						s_backend_handle, b, &b->srv), 0);
		assert_int_equal(rpc_client_new(f->base, f->zctx, endpoints[i], &opts, clients[i]), 0);
	}
}

static void s_server_start(struct fixture *f)
{
	const struct http_server_limits lim = {
		.http = { .max_header_bytes = 1024, .max_headers = 16 },
		.max_connections = MAX_CONNECTIONS,
		.idle_timeout_ms = IDLE_TIMEOUT_MS,
		.request_timeout_ms = REQUEST_TIMEOUT_MS,
	};
	const struct http_server_hooks hooks = {
		.head = ingress_on_head,
		.request = ingress_on_request,
		.userdata = &f->app,
	};
	int fd = -1;

	assert_int_equal(ingress_listen_open("127.0.0.1:0", false, &fd), 0);
	f->port = ingress_listen_port(fd);
	assert_true(f->port > 0);
	assert_int_equal(http_server_new(f->base, fd, &lim, &hooks, &f->app.srv), 0);
}

static int s_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	f->zctx = zmq_ctx_new();
	assert_non_null(f->base);
	assert_non_null(f->zctx);
	s_config(&f->cfg);
	f->app = (struct ingress){ .cfg = &f->cfg };
	s_backends_start(f);
	s_server_start(f);
	assert_int_equal(test_loop_thread_start(&f->loop, f->base), 0);
	*state = f;
	return 0;
}

static void s_teardown_in_loop(struct fixture *f, void *arg)
{
	f->app.srv = http_server_free(f->app.srv); /* aborts waiting handlers */
	f->app.authd = rpc_client_free(f->app.authd);
	f->app.telemetryd = rpc_client_free(f->app.telemetryd);
	f->app.logd = rpc_client_free(f->app.logd);
	for (size_t i = 0; i < 3; i++)
		s_backend_free(&f->be[i]);
	test_loop_thread_end(&f->loop);
}

static int s_teardown(void **state)
{
	struct fixture *f = *state;

	s_in_loop(f, s_teardown_in_loop, NULL);
	test_loop_thread_join(&f->loop);
	zmq_ctx_term(f->zctx);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void s_set_modes_in_loop(struct fixture *f, void *arg)
{
	const enum backend_mode *modes = arg;

	for (size_t i = 0; i < 3; i++)
		f->be[i].mode = modes[i];
}

static void s_set_modes(struct fixture *f, enum backend_mode a, enum backend_mode t,
			enum backend_mode l)
{
	enum backend_mode modes[3] = { a, t, l };

	s_in_loop(f, s_set_modes_in_loop, modes);
}

/* ---- the HTTP client: testlib's test_http_* ------------------------------------- */

static int64_t s_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* s_wait_healthy - the RPC clients connect asynchronously */
static void s_wait_healthy(struct fixture *f)
{
	struct test_http_resp r;

	for (int i = 0; i < 100; i++) {
		test_http_exchange(f->port,
				   "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r);
		if (r.status == 200)
			return;
		usleep(20000);
	}
	fail_msg("backends never became healthy");
}

/* ---- /healthz -------------------------------------------------------------------- */

static void test_healthz_ok(void **state)
{
	struct fixture *f = *state;
	struct test_http_resp r;

	s_wait_healthy(f);
	test_http_exchange(f->port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body,
			    "{\"status\":\"ok\",\"services\":{\"authd\":\"ok\",\"telemetryd\":\"ok\",\"logd\":\"ok\"}}");
	assert_string_equal(test_http_header(&r, "Content-Type"), "application/json; charset=utf-8");
	assert_string_equal(test_http_header(&r, "Cache-Control"), "no-store");
}

static void test_healthz_down(void **state)
{
	struct fixture *f = *state;
	struct test_http_resp r;
	int64_t t0;

	s_wait_healthy(f);
	s_set_modes(f, B_OK, B_NO_DB, B_SILENT);
	t0 = s_ms();
	test_http_exchange(f->port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	assert_true(s_ms() - t0 >= HEALTH_TIMEOUT_MS - 20);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body,
			    "{\"status\":\"down\",\"services\":{\"authd\":\"ok\",\"telemetryd\":\"down\",\"logd\":\"down\"}}");
	assert_string_equal(test_http_header(&r, "Cache-Control"), "no-store");
}

struct counts {
	size_t logd_pending, inflight, connections;
};

static void s_counts_in_loop(struct fixture *f, void *arg)
{
	struct counts *n = arg;

	n->logd_pending = rpc_pending(f->app.logd);
	n->inflight = http_server_inflight(f->app.srv);
	n->connections = http_server_connections(f->app.srv);
}

static void test_healthz_client_leaves(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c));
	struct counts n;

	assert_non_null(c);
	s_wait_healthy(f);
	s_set_modes(f, B_OK, B_OK, B_SILENT);
	test_http_open(c, f->port);
	test_http_send_str(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	usleep(50000);
	s_in_loop(f, s_counts_in_loop, &n);
	assert_int_equal(n.logd_pending, 1);
	assert_int_equal(n.inflight, 1);
	test_http_close(c);
	usleep(50000);
	/* the ping to logd was cancelled, not left to time out */
	s_in_loop(f, s_counts_in_loop, &n);
	assert_int_equal(n.logd_pending, 0);
	assert_int_equal(n.inflight, 0);
	assert_int_equal(n.connections, 0);
	free(c);
}

/* ---- every answer: status, error code, headers ------------------------------------- */

struct answer_case {
	const char *name;
	const char *req;  /* without the empty line when body is set */
	const char *body; /* sent with its Content-Length */
	int status;
	const char *error; /* expected "error" code, NULL for success bodies */
	bool no_store;
	const char *allow;
};

#define JSON_POST(path, type, body) \
	"POST " path " HTTP/1.1\r\nHost: t\r\nContent-Type: " type "\r\n", body

/* a JSON POST with extra header lines (each ending in \r\n) */
#define JSON_POST_H(path, hdrs, body) \
	"POST " path " HTTP/1.1\r\nHost: t\r\n" hdrs "Content-Type: application/json\r\n", body

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n", NULL
#define JT "application/json"

static const struct answer_case s_answers[] = {
	{ "security.txt", GET("/.well-known/security.txt"), 200, NULL, false, NULL },
	{ "unknown path", GET("/nothing?token=x"), 404, "not_found", true, NULL },
	{ "unknown api path", GET("/api/nothing"), 404, "not_found", true, NULL },
	{ "trailing slash", GET("/healthz/"), 404, "not_found", true, NULL },
	{ "POST healthz", "POST /healthz HTTP/1.1\r\nHost: t\r\n", "", 405, "method_not_allowed", true,
	  "GET, HEAD" },
	{ "DELETE login", "DELETE /api/login HTTP/1.1\r\nHost: t\r\n\r\n", NULL, 405,
	  "method_not_allowed", true, "POST" },
	{ "GET invite accept", GET("/api/invites/abc/accept"), 405, "method_not_allowed", true, "POST" },
	{ "empty invite code", JSON_POST("/api/invites//accept", JT, "{}"), 404, "not_found", true, NULL },
	{ "bad request line", "GET /a b c\r\n\r\n", NULL, 400, "bad_request", true, NULL },
	{ "chunked body", "POST /api/login HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "0\r\n\r\n", NULL, 501, "not_implemented", true, NULL },
	{ "HTTP/2.0", "GET /healthz HTTP/2.0\r\nHost: t\r\n\r\n", NULL, 505,
	  "http_version_not_supported", true, NULL },
	/* an unknown or lower-case method: 405 with Allow, 404 on an unknown path (no 501) */
	{ "unknown method", "PROPFIND /healthz HTTP/1.1\r\nHost: t\r\n\r\n", NULL, 405,
	  "method_not_allowed", true, "GET, HEAD" },
	{ "lower-case method", "get /api/login HTTP/1.1\r\nHost: t\r\n\r\n", NULL, 405,
	  "method_not_allowed", true, "POST" },
	{ "unknown method and path", "FOO /nothing HTTP/1.1\r\nHost: t\r\n\r\n", NULL, 404,
	  "not_found", true, NULL },
	{ "absolute-form", GET("http://t:80/.well-known/security.txt"), 200, NULL, false, NULL },
	{ "smuggling", "POST /api/login HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
		       "Transfer-Encoding: chunked\r\n\r\n{}", NULL, 400, "bad_request", true, NULL },
	{ "too many headers",
	  "GET /healthz HTTP/1.1\r\nHost: t\r\n1: 1\r\n2: 2\r\n3: 3\r\n4: 4\r\n5: 5\r\n6: 6\r\n"
	  "7: 7\r\n8: 8\r\n9: 9\r\n10: 1\r\n11: 1\r\n12: 1\r\n13: 1\r\n14: 1\r\n15: 1\r\n16: 1\r\n\r\n",
	  NULL, 431, "bad_request", true, NULL },
	{ "wrong type", JSON_POST("/api/login", "text/plain", "{}"), 415, "unsupported_media_type", true,
	  NULL },
	{ "other charset", JSON_POST("/api/login", JT "; charset=latin1", "{}"), 415,
	  "unsupported_media_type", true, NULL },
	{ "broken json", JSON_POST("/api/teams", JT, "{\"a\":"), 400, "bad_request", true, NULL },
	{ "duplicate key", JSON_POST("/api/tokens", JT, "{\"a\":1,\"a\":2}"), 400, "bad_request", true,
	  NULL },
	{ "invalid utf-8", JSON_POST("/api/login", JT, "{\"a\":\"\xc3\x28\"}"), 400, "bad_request", true,
	  NULL },
	{ "not an object", JSON_POST("/api/login", JT, "[]"), 400, "bad_request", true, NULL },
	/* this fixture has no CSRF key: the routes that need a CSRF token fail closed */
	{ "login without CSRF key", JSON_POST("/api/login", "Application/JSON; Charset=\"UTF-8\"", "{}"),
	  503, "service_unavailable", true, NULL },
	{ "invite accept without CSRF key", JSON_POST("/api/invites/c0de/accept", JT, "{}"), 503,
	  "service_unavailable", true, NULL },
	/* the Origin check comes before the CSRF token */
	{ "login cross-site Origin", JSON_POST_H("/api/login", "Origin: https://evil.example\r\n", "{}"),
	  403, "origin_mismatch", true, NULL },
	{ "accept cross-site fetch",
	  JSON_POST_H("/api/invites/c0de/accept", "Sec-Fetch-Site: cross-site\r\n", "{}"), 403,
	  "origin_mismatch", true, NULL },
	{ "logout foreign Referer", JSON_POST_H("/api/logout", "Referer: http://evil.example/x\r\n", "{}"),
	  403, "origin_mismatch", true, NULL },
	/* a session is required before anything is asked of a backend */
	{ "telemetry without session", JSON_POST("/api/telemetry/events", JT, "{}"), 401,
	  "unauthenticated", true, NULL },
	{ "me without session", GET("/api/me"), 401, "unauthenticated", true, NULL },
};

static void s_check_security_headers(const struct test_http_resp *r)
{
	assert_string_equal(test_http_header(r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(test_http_header(r, "Referrer-Policy"), "same-origin");
	assert_string_equal(test_http_header(r, "X-Frame-Options"), "DENY");
	assert_non_null(strstr(test_http_header(r, "Content-Security-Policy"), "default-src 'self'"));
	assert_non_null(strstr(test_http_header(r, "Content-Security-Policy"), "frame-ancestors 'none'"));
	assert_non_null(test_http_header(r, "Date"));
	assert_null(test_http_header(r, "Strict-Transport-Security"));
}

static void s_check_answer(const struct answer_case *t, const struct test_http_resp *r)
{
	char code[96];

	if (r->status != t->status)
		fail_msg("%s: status %d, expected %d", t->name, r->status, t->status);
	s_check_security_headers(r);
	assert_int_equal(strtoul(test_http_header(r, "Content-Length"), NULL, 10), r->body_len);
	if (t->no_store)
		assert_string_equal(test_http_header(r, "Cache-Control"), "no-store");
	else
		assert_null(test_http_header(r, "Cache-Control"));
	if (t->allow)
		assert_string_equal(test_http_header(r, "Allow"), t->allow);
	if (!t->error)
		return;
	assert_string_equal(test_http_header(r, "Content-Type"), "application/json; charset=utf-8");
	snprintf(code, sizeof(code), "{\"error\":\"%s\",\"message\":\"", t->error);
	assert_memory_equal(r->body, code, strlen(code));
	assert_string_equal(r->body + r->body_len - 2, "\"}");
}

static void test_answers(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(s_answers); i++) {
		const struct answer_case *t = &s_answers[i];
		char req[2048];
		struct test_http_resp r;

		if (t->body)
			snprintf(req, sizeof(req), "%sContent-Length: %zu\r\n\r\n%s", t->req,
				 strlen(t->body), t->body);
		else
			snprintf(req, sizeof(req), "%s", t->req);
		test_http_exchange(f->port, req, &r);
		s_check_answer(t, &r);
	}
}

static void test_security_txt(void **state)
{
	struct fixture *f = *state;
	struct test_http_resp r;
	char text[1024];
	int n = ingress_security_txt(&f->cfg, 0, text, sizeof(text));

	assert_true(n > 0);
	assert_string_equal(text, "Contact: mailto:security@example.com\n"
				  "Expires: 1970-06-30T00:00:00Z\n"
				  "Preferred-Languages: en\n"
				  "Canonical: http://127.0.0.1:8080/.well-known/security.txt\n");
	test_http_exchange(f->port, "GET /.well-known/security.txt HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(test_http_header(&r, "Content-Type"), "text/plain; charset=utf-8");
	assert_memory_equal(r.body, "Contact: mailto:security@example.com\nExpires: 20", 48);
	assert_non_null(strstr(r.body, "\nPreferred-Languages: en\n"));
}

static void test_head(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c));
	struct test_http_resp r;

	assert_non_null(c);
	test_http_open(c, f->port);
	test_http_send_str(c, "HEAD /.well-known/security.txt HTTP/1.1\r\nHost: t\r\n"
			      "Connection: close\r\n\r\n");
	assert_int_equal(test_http_read(c, &r, true), 0);
	assert_int_equal(r.status, 200);
	assert_true(strtoul(test_http_header(&r, "Content-Length"), NULL, 10) > 100);
	test_http_expect_eof(c); /* no body followed */
	test_http_close(c);
	free(c);
}

/* ---- connections -------------------------------------------------------------------- */

static void test_pipelined_in_order(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c));
	struct test_http_resp r;

	assert_non_null(c);
	s_wait_healthy(f);
	s_set_modes(f, B_OK, B_OK, B_SLOW);
	test_http_open(c, f->port);
	/* the first waits for a late backend; the second must still come second */
	test_http_send_str(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
		      "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n"
		      "GET /.well-known/security.txt HTTP/1.0\r\n\r\n");
	assert_int_equal(test_http_read(c, &r, false), 0);
	assert_int_equal(r.status, 503); /* SLOW_MS is over HEALTH_TIMEOUT_MS */
	assert_string_equal(test_http_header(&r, "Connection"), "keep-alive");
	assert_int_equal(test_http_read(c, &r, false), 0);
	assert_int_equal(r.status, 404);
	assert_int_equal(test_http_read(c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(test_http_header(&r, "Connection"), "close"); /* HTTP/1.0 */
	test_http_expect_eof(c);
	test_http_close(c);
	free(c);
}

static void test_request_timeout(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c));
	struct test_http_resp r;
	int64_t t0 = s_ms();

	assert_non_null(c);
	test_http_open(c, f->port);
	test_http_send_str(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n"); /* and never the end */
	usleep(REQUEST_TIMEOUT_MS * 1000 / 2);
	test_http_send_str(c, "X-Slow: 1\r\n"); /* trickling does not extend the deadline */
	assert_int_equal(test_http_read(c, &r, false), 0);
	assert_int_equal(r.status, 408);
	assert_true(s_ms() - t0 >= REQUEST_TIMEOUT_MS - 20);
	assert_true(s_ms() - t0 < REQUEST_TIMEOUT_MS * 3);
	assert_string_equal(r.body, "{\"error\":\"request_timeout\",\"message\":\"the request did not arrive in time\"}");
	assert_string_equal(test_http_header(&r, "Connection"), "close");
	s_check_security_headers(&r);
	test_http_expect_eof(c);
	test_http_close(c);
	free(c);
}

static void test_idle_timeout(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c));
	struct test_http_resp r;
	int64_t t0;

	assert_non_null(c);
	test_http_open(c, f->port);
	test_http_send_str(c, "GET /.well-known/security.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(test_http_read(c, &r, false), 0);
	t0 = s_ms();
	test_http_expect_eof(c); /* closed silently once idle */
	assert_true(s_ms() - t0 >= IDLE_TIMEOUT_MS - 50);
	test_http_close(c);
	free(c);
}

static void test_body_too_large(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c));
	const size_t big = 1 << 20;
	char *body = malloc(big);
	char head[256];
	struct test_http_resp r;

	assert_non_null(c);
	assert_non_null(body);
	memset(body, 'a', big);
	/* max_body is 1024 here: the answer comes from Content-Length alone */
	snprintf(head, sizeof(head),
		 "POST /api/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n", big);
	test_http_open(c, f->port);
	test_http_send_str(c, head);
	/* and the whole body still goes out without a reset (lingering close) */
	test_http_send(c, body, big);
	assert_int_equal(test_http_read(c, &r, false), 0);
	assert_int_equal(r.status, 413);
	assert_string_equal(r.body, "{\"error\":\"payload_too_large\",\"message\":\"the request body is too large\"}");
	assert_string_equal(test_http_header(&r, "Connection"), "close");
	test_http_close(c);
	free(c);
	free(body);
}

static void test_body_limits_at_bound(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *path;
		size_t len;
		int status;
	} cases[] = {
		{ "/api/login", 1024, 400 },            /* read, then not JSON */
		{ "/api/login", 1025, 413 },
		{ "/nothing", 1024, 404 },
		{ "/nothing", 1025, 413 },
		{ "/api/telemetry/events", 4096, 400 }, /* its own, larger limit */
		{ "/api/telemetry/events", 4097, 413 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char req[8192];
		int n = snprintf(req, sizeof(req),
				 "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
				 "Content-Length: %zu\r\n\r\n", cases[i].path, cases[i].len);
		struct test_http_resp r;

		memset(req + n, ' ', cases[i].len);
		req[n + cases[i].len] = '\0';
		test_http_exchange(f->port, req, &r);
		if (r.status != cases[i].status)
			fail_msg("%s %zu: %d", cases[i].path, cases[i].len, r.status);
	}
}

static void test_connection_limit(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c) * (MAX_CONNECTIONS + 1));
	struct test_http_resp r;

	assert_non_null(c);
	for (size_t i = 0; i < MAX_CONNECTIONS; i++)
		test_http_open(&c[i], f->port);
	usleep(50000);
	test_http_open(&c[MAX_CONNECTIONS], f->port);
	assert_int_equal(test_http_read(&c[MAX_CONNECTIONS], &r, false), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(test_http_header(&r, "Connection"), "close");
	s_check_security_headers(&r);
	test_http_expect_eof(&c[MAX_CONNECTIONS]);
	/* the ones inside the limit are served */
	test_http_send_str(&c[0], "GET /.well-known/security.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(test_http_read(&c[0], &r, false), 0);
	assert_int_equal(r.status, 200);
	for (size_t i = 0; i <= MAX_CONNECTIONS; i++)
		test_http_close(&c[i]);
	free(c);
}

static void test_expect_continue(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c));
	struct test_http_resp r;

	assert_non_null(c);
	test_http_open(c, f->port);
	test_http_send_str(c, "POST /api/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
		      "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
	assert_int_equal(test_http_read(c, &r, false), 0);
	assert_int_equal(r.status, 100);
	test_http_send_str(c, "{}");
	assert_int_equal(test_http_read(c, &r, false), 0);
	assert_int_equal(r.status, 503);
	test_http_close(c);
	free(c);
}

/* ---- stopping ----------------------------------------------------------------------- */

static void s_slow_authd_in_loop(struct fixture *f, void *arg)
{
	f->be[0].mode = B_SLOW;
	f->cfg.ingress.health_timeout_ms = SLOW_MS * 3;
}

static void s_stop_in_loop(struct fixture *f, void *arg)
{
	http_server_stop(f->app.srv);
}

static void test_stop_drains(void **state)
{
	struct fixture *f = *state;
	struct test_http_client *c = malloc(sizeof(*c) * 2);
	struct counts n;
	struct test_http_resp r;

	assert_non_null(c);
	s_wait_healthy(f);
	/* c[0]: idle keep-alive connection; c[1]: a request waiting for a late backend */
	test_http_open(&c[0], f->port);
	test_http_send_str(&c[0], "GET /.well-known/security.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(test_http_read(&c[0], &r, false), 0);
	s_in_loop(f, s_slow_authd_in_loop, NULL);
	test_http_open(&c[1], f->port);
	test_http_send_str(&c[1], "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	usleep(50000);

	s_in_loop(f, s_stop_in_loop, NULL);
	s_in_loop(f, s_counts_in_loop, &n);
	assert_int_equal(n.inflight, 1);
	assert_int_equal(n.connections, 1); /* the idle one was closed */
	test_http_expect_eof(&c[0]);
	assert_true(test_http_connect(f->port) < 0); /* no longer accepting */

	/* the request under way is still answered, then the connection closes */
	assert_int_equal(test_http_read(&c[1], &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(test_http_header(&r, "Connection"), "close");
	test_http_expect_eof(&c[1]);
	s_in_loop(f, s_counts_in_loop, &n);
	assert_int_equal(n.inflight, 0);
	test_http_close(&c[0]);
	test_http_close(&c[1]);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthz_ok, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_healthz_down, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_healthz_client_leaves, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_answers, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_security_txt, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_head, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_in_order, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_request_timeout, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_body_too_large, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_body_limits_at_bound, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_expect_continue, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_stop_drains, s_setup, s_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	log_open("ingressd-test");
	log_set_level(LOG_LEVEL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
