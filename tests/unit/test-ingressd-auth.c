/*
 * test-ingressd-auth.c - sembark-ingressd's account routes end to end in
 * one process (auth_routes.c, session.c): a real HTTP server on
 * 127.0.0.1, a real ZeroMQ RPC client, and a scripted authd (a real
 * rpc_server on inproc://) that records each auth.call and answers what
 * the case says, including answers a correct authd never gives (garbage
 * bodies, 500, bad tokens, silence). Table-driven: each case is a request
 * (origin, cookies, CSRF token kind, Authorization, body), authd's
 * script, and the expected status, Set-Cookie lines, Retry-After and
 * auth.call fields. Also: GET /api/csrf, ingress_with_identity() on a
 * test route, the per-client rate limit.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

#define ORIGIN "http://127.0.0.1:8080"
#define KEY "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define B1 "00112233445566778899aabbccddeeff"
#define B2 "ffeeddccbbaa99887766554433221100"
#define T1 "0123456789abcdef0123456789abcdef01234567"
#define T2 "76543210fedcba9876543210fedcba9876543210"
#define RPC_TIMEOUT_MS 150

/* ---- the scripted authd ------------------------------------------------------- */

enum script_kind { SCRIPT_REPLY, SCRIPT_ERROR, SCRIPT_SILENT, SCRIPT_WRONG_TYPE };

struct script {
	enum script_kind kind;
	int status;
	const char *body;
	const char *set_token;
	int64_t max_age; /* 0: absent */
	bool clear_token;
	int64_t retry_after; /* 0: absent */
};

struct seen {
	int calls;
	char op[33], token[41], target[65], body[1024];
};

struct fixture {
	struct event_base *base;
	void *zctx;
	struct sembark_config cfg;
	struct ingress app;
	struct rpc_server *authd;
	struct rpc_request *held[8];
	size_t n_held;
	struct script script;
	struct seen seen;
	struct test_loop_thread loop;
	int port;
};

static void s_reply_script(struct fixture *f, struct rpc_request *req)
{
	const struct script *s = &f->script;
	struct ipc_api_reply rep = {
		.status = s->status,
		.body = (char *)(s->body ? s->body : ""),
		.body_len = s->body ? strlen(s->body) : 0,
		.token_max_age = s->max_age,
		.has_token_max_age = s->max_age != 0,
		.clear_token = s->clear_token,
		.retry_after = s->retry_after,
		.has_retry_after = s->retry_after != 0,
	};
	struct ipc_buf b;

	snprintf(rep.set_token, sizeof(rep.set_token), "%s", s->set_token ? s->set_token : "");
	ipc_buf_init(&b);
	if (s->kind == SCRIPT_WRONG_TYPE)
		assert_int_equal(ipc_encode_ack(&b, rpc_request_id(req), &(struct ipc_ack){ 0 }), 0);
	else
		assert_int_equal(ipc_encode_api_reply(&b, rpc_request_id(req), &rep), 0);
	(void)rpc_reply(req, b.data, b.size);
	ipc_buf_done(&b);
}

static void s_handle_call(struct fixture *f, struct rpc_request *req, const void *buf, size_t len)
{
	struct ipc_auth_call call;
	uint64_t id;

	assert_int_equal(ipc_decode_auth_call(buf, len, &id, &call), 0);
	f->seen.calls++;
	snprintf(f->seen.op, sizeof(f->seen.op), "%s", call.op);
	snprintf(f->seen.token, sizeof(f->seen.token), "%s", call.token);
	snprintf(f->seen.target, sizeof(f->seen.target), "%s", call.target);
	snprintf(f->seen.body, sizeof(f->seen.body), "%.*s", (int)call.body_len, call.body);
	ipc_free_auth_call(&call);
	switch (f->script.kind) {
	case SCRIPT_ERROR:
		(void)rpc_reply_error(req, "db_down", "no database");
		break;
	case SCRIPT_SILENT:
		assert_true(f->n_held < ELEMENTSOF(f->held));
		f->held[f->n_held++] = req;
		break;
	default:
		s_reply_script(f, req);
	}
}

/* auth.check: T1 is alive, T2 has ended, anything else finds authd broken */
static void s_handle_check(struct fixture *f, struct rpc_request *req, const void *buf, size_t len)
{
	struct ipc_auth_check chk;
	struct ipc_auth_identity who = { 0 };
	struct ipc_buf b;
	uint64_t id;

	assert_int_equal(ipc_decode_auth_check(buf, len, &id, &chk), 0);
	f->seen.calls++;
	snprintf(f->seen.op, sizeof(f->seen.op), "check");
	snprintf(f->seen.token, sizeof(f->seen.token), "%s", chk.token);
	if (strcmp(chk.token, T2) == 0) {
		(void)rpc_reply_error(req, "unauthenticated", "session ended");
		return;
	}
	if (strcmp(chk.token, T1) != 0) {
		(void)rpc_reply_error(req, "db_down", "no database");
		return;
	}
	snprintf(who.session_id, sizeof(who.session_id), "s-1");
	snprintf(who.user_id, sizeof(who.user_id), "u-1");
	snprintf(who.team_id, sizeof(who.team_id), "t-1");
	snprintf(who.email, sizeof(who.email), "a@example.com");
	snprintf(who.role, sizeof(who.role), "owner");
	ipc_buf_init(&b);
	assert_int_equal(ipc_encode_auth_identity(&b, rpc_request_id(req), &who), 0);
	(void)rpc_reply(req, b.data, b.size);
	ipc_buf_done(&b);
}

static void s_authd_handle(struct rpc_request *req, enum ipc_msg_type type, const void *buf,
			   size_t len, void *userdata)
{
	struct fixture *f = userdata;

	if (type == IPC_MSG_AUTH_CALL)
		s_handle_call(f, req, buf, len);
	else if (type == IPC_MSG_AUTH_CHECK)
		s_handle_check(f, req, buf, len);
	else
		(void)rpc_reply_error(req, "unknown_type", "test authd");
}

/* ---- a test route for ingress_with_identity ----------------------------------- */

static void s_identified(struct ingress *app, struct http_exchange *ex,
			 const struct ipc_auth_identity *who, void *userdata)
{
	json_t *o = json_pack("{s:s, s:s}", "user_id", who->user_id, "role", who->role);

	assert_ptr_equal(userdata, app);
	http_respond_json(ex, 200, o);
	json_decref(o);
}

static void s_handle_whoami(struct ingress *app, struct http_exchange *ex)
{
	ingress_with_identity(app, ex, 0, s_identified, app);
}

static const struct ingress_route s_test_routes[] = {
	{ "GET", "/t/whoami", s_handle_whoami, 0, NULL },
	{ "POST", "/t/whoami", s_handle_whoami, 0, NULL },
};

static bool s_is_test_route(const struct http_exchange *ex)
{
	return ex->match.route >= s_test_routes &&
	       ex->match.route < s_test_routes + ELEMENTSOF(s_test_routes);
}

static uint64_t s_on_head(struct http_exchange *ex, void *userdata)
{
	if (strncmp(ex->req->path, "/t/", 3) != 0)
		return ingress_on_head(ex, userdata);
	route_match(s_test_routes, ELEMENTSOF(s_test_routes), ex->req->method, ex->req->path,
		    &ex->match);
	ex->route_name = ex->match.route ? ex->match.route->pattern : NULL;
	return 1024;
}

static void s_on_request(struct http_exchange *ex, void *userdata)
{
	if (ex->match.result == ROUTE_FOUND && s_is_test_route(ex))
		ex->match.route->handler(userdata, ex);
	else
		ingress_on_request(ex, userdata);
}

/* ---- fixture -------------------------------------------------------------------- */

/* s_in_loop(f, fn, arg) - run fn(f, arg) on f->base's loop thread and wait */
TEST_DEFINE_IN_LOOP(fixture)

static void s_start(struct fixture *f)
{
	const struct rpc_opts opts = { .hwm = 1000, .max_msg = 1 << 21 };
	const struct http_server_limits lim = {
		.http = { .max_header_bytes = 8192, .max_headers = 32 },
		.max_connections = 16,
		.idle_timeout_ms = 2000,
		.request_timeout_ms = 2000,
	};
	const struct http_server_hooks hooks = { .head = s_on_head, .request = s_on_request, .userdata = &f->app };
	int fd = -1;

	assert_int_equal(rpc_server_new(f->base, f->zctx, "inproc://auth-test", IPC_PEER_AUTHD, &opts,
					s_authd_handle, f, &f->authd), 0);
	assert_int_equal(rpc_client_new(f->base, f->zctx, "inproc://auth-test", &opts, &f->app.authd),
			 0);
	assert_int_equal(ingress_csrf_new(KEY, strlen(KEY), &f->app.csrf), 0);
	assert_int_equal(ingress_listen_open("127.0.0.1:0", false, &fd), 0);
	f->port = ingress_listen_port(fd);
	assert_int_equal(http_server_new(f->base, fd, &lim, &hooks, &f->app.srv), 0);
}

static int s_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	f->zctx = zmq_ctx_new();
	config_defaults(&f->cfg);
	f->cfg.ingress.rpc_timeout_ms = RPC_TIMEOUT_MS;
	f->cfg.auth.session_lifetime = 86400;
	f->app = (struct ingress){ .cfg = &f->cfg };
	s_start(f);
	assert_int_equal(test_loop_thread_start(&f->loop, f->base), 0);
	usleep(20000); /* the inproc client connects */
	*state = f;
	return 0;
}

static void s_teardown_in_loop(struct fixture *f, void *arg)
{
	f->app.srv = http_server_free(f->app.srv);
	f->app.authd = rpc_client_free(f->app.authd);
	f->authd = rpc_server_free(f->authd);
	for (size_t i = 0; i < f->n_held; i++)
		(void)rpc_reply_error(f->held[i], "gone", "test over");
	f->app.csrf = ingress_csrf_free(f->app.csrf);
	f->app.ratelimit = ingress_ratelimit_free(f->app.ratelimit);
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

static void s_script_in_loop(struct fixture *f, void *arg)
{
	f->script = *(const struct script *)arg;
	f->seen = (struct seen){ 0 };
}

static void s_seen_in_loop(struct fixture *f, void *arg)
{
	*(struct seen *)arg = f->seen;
}

/* ---- building requests ------------------------------------------------------------ */

enum xsrf { X_NONE, X_B1, X_B2, X_S1, X_S2, X_GARBAGE, X_B1_ENCODED };

struct request {
	const char *method, *path;
	const char *origin;        /* NULL: none */
	const char *cookie;        /* NULL: none */
	enum xsrf xsrf;
	const char *authorization; /* NULL: none */
	const char *body;          /* NULL: no body */
	const char *extra;         /* extra header lines, each ending in \r\n */
};

static void s_xsrf(struct fixture *f, enum xsrf x, char *out, size_t size)
{
	struct csrf_binding b;
	char tok[CSRF_TOKEN_LEN + 1];

	switch (x) {
	case X_B1:
	case X_B1_ENCODED:
		assert_int_equal(ingress_csrf_bind_browser(B1, 32, &b), 0);
		break;
	case X_B2:
		assert_int_equal(ingress_csrf_bind_browser(B2, 32, &b), 0);
		break;
	case X_S1:
		assert_int_equal(ingress_csrf_bind_session(T1, 40, &b), 0);
		break;
	case X_S2:
		assert_int_equal(ingress_csrf_bind_session(T2, 40, &b), 0);
		break;
	default:
		snprintf(out, size, "%s", x == X_GARBAGE ? "AAAAAAAAAAAAAAAAAAAAAA.x" : "");
		return;
	}
	ingress_csrf_issue(f->app.csrf, &b, tok);
	if (x != X_B1_ENCODED) {
		snprintf(out, size, "%s", tok);
		return;
	}
	for (size_t i = 0; i < CSRF_TOKEN_LEN && 3 * i + 4 <= size; i++)
		snprintf(out + 3 * i, 4, "%%%02X", (unsigned char)tok[i]);
}

static void s_build(struct fixture *f, const struct request *q, char *out, size_t size)
{
	char xsrf[256] = "";
	int n;

	s_xsrf(f, q->xsrf, xsrf, sizeof(xsrf));
	n = snprintf(out, size, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n", q->method,
		     q->path);
	if (q->origin)
		n += snprintf(out + n, size - n, "Origin: %s\r\n", q->origin);
	if (q->cookie)
		n += snprintf(out + n, size - n, "Cookie: %s\r\n", q->cookie);
	if (q->xsrf != X_NONE)
		n += snprintf(out + n, size - n, "X-XSRF-TOKEN: %s\r\n", xsrf);
	if (q->authorization)
		n += snprintf(out + n, size - n, "Authorization: %s\r\n", q->authorization);
	if (q->extra)
		n += snprintf(out + n, size - n, "%s", q->extra);
	if (q->body)
		n += snprintf(out + n, size - n,
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			      strlen(q->body), q->body);
	else
		n += snprintf(out + n, size - n, "\r\n");
	assert_true((size_t)n < size);
}

/* ---- the account routes ------------------------------------------------------------- */

#define OK_REPLY(st, body) { SCRIPT_REPLY, (st), (body), NULL, 0, false, 0 }
#define LOGIN_BODY "{\"email\":\"a@example.com\",\"password\":\"pw\"}"

struct auth_case {
	const char *name;
	struct request q;
	struct script script;
	int status;
	const char *error;       /* expected "error" in the body, or NULL */
	const char *op;          /* the auth.call op, NULL: authd not called */
	const char *token;       /* auth.call token */
	const char *target;      /* auth.call target */
	const char *body;        /* auth.call body */
	const char *cookies[3];  /* Set-Cookie prefixes, in order; NULL-ended */
	const char *retry_after; /* expected Retry-After, or NULL for none */
};

static const struct auth_case s_cases[] = {
	/* anonymous browser requests: Origin and CSRF */
	{ "login ok", { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1, X_B1, NULL, LOGIN_BODY, NULL },
	  { SCRIPT_REPLY, 200, "{\"user\":{}}", T2, 100, false, 0 }, 200, NULL, "login", "", "",
	  LOGIN_BODY,
	  { "sembark_session=" T2 "; Path=/; Max-Age=100; HttpOnly; SameSite=Lax", "sembark_csrf=",
	    "XSRF-TOKEN=" }, NULL },
	{ "login, header %XX-encoded",
	  { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1, X_B1_ENCODED, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(401, "{\"error\":\"invalid_credentials\",\"message\":\"x\"}"), 401,
	  "invalid_credentials", "login", "", "", LOGIN_BODY, { NULL }, NULL },
	{ "login without Origin", { "POST", "/api/login", NULL, "sembark_csrf=" B1, X_B1, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(401, "{\"error\":\"invalid_credentials\",\"message\":\"x\"}"), 401,
	  "invalid_credentials", "login", "", "", LOGIN_BODY, { NULL }, NULL },
	{ "login, no token", { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1, X_NONE, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(200, "{}"), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, no browser cookie", { "POST", "/api/login", ORIGIN, NULL, X_B1, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(200, "{}"), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, another browser's token",
	  { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1, X_B2, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(200, "{}"), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, garbage token", { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1, X_GARBAGE, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(200, "{}"), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, Bearer does not spare CSRF",
	  { "POST", "/api/login", ORIGIN, NULL, X_NONE, "Bearer " T1, LOGIN_BODY, NULL },
	  OK_REPLY(200, "{}"), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, session-bound token with its session cookie",
	  { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1 "; sembark_session=" T1, X_S1, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(401, "{\"error\":\"invalid_credentials\",\"message\":\"x\"}"), 401,
	  "invalid_credentials", "login", T1, "", LOGIN_BODY, { NULL }, NULL },
	{ "login, pre-login token while a session cookie is sent",
	  { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1 "; sembark_session=" T1, X_B1, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(200, "{}"), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, browser cookie twice",
	  { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1 "; sembark_csrf=" B1, X_B1, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(200, "{}"), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, cross-site Origin before CSRF",
	  { "POST", "/api/login", "http://evil.example", NULL, X_NONE, NULL, LOGIN_BODY, NULL },
	  OK_REPLY(200, "{}"), 403, "origin_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, Sec-Fetch-Site cross-site",
	  { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1, X_B1, NULL, LOGIN_BODY, "Sec-Fetch-Site: cross-site\r\n" },
	  OK_REPLY(200, "{}"), 403, "origin_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "login, foreign Referer",
	  { "POST", "/api/login", NULL, "sembark_csrf=" B1, X_B1, NULL, LOGIN_BODY, "Referer: http://evil.example/\r\n" },
	  OK_REPLY(200, "{}"), 403, "origin_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "signup sets the session",
	  { "POST", "/api/teams", ORIGIN, "sembark_csrf=" B1, X_B1, NULL, "{}", NULL },
	  { SCRIPT_REPLY, 201, "{\"team\":{}}", T1, 0, false, 0 }, 201, NULL, "signup", "", "", "{}",
	  { "sembark_session=" T1 "; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax", "sembark_csrf=",
	    "XSRF-TOKEN=" }, NULL },
	{ "signup, Max-Age never past the lifetime",
	  { "POST", "/api/teams", ORIGIN, "sembark_csrf=" B1, X_B1, NULL, "{}", NULL },
	  { SCRIPT_REPLY, 201, "{}", T1, 999999, false, 0 }, 201, NULL, "signup", "", "", "{}",
	  { "sembark_session=" T1 "; Path=/; Max-Age=86400;", "sembark_csrf=", "XSRF-TOKEN=" }, NULL },
	{ "invite accept",
	  { "POST", "/api/invites/c0de-_.~/accept", ORIGIN, "sembark_csrf=" B1, X_B1, NULL, "{}", NULL },
	  { SCRIPT_REPLY, 201, "{}", T1, 60, false, 0 }, 201, NULL, "invite.accept", "", "c0de-_.~",
	  "{}", { "sembark_session=" T1 "; Path=/; Max-Age=60;", "sembark_csrf=", "XSRF-TOKEN=" }, NULL },
	{ "invite accept without CSRF",
	  { "POST", "/api/invites/c0de/accept", ORIGIN, "sembark_csrf=" B1, X_NONE, NULL, "{}", NULL },
	  OK_REPLY(201, "{}"), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "invite get", { "GET", "/api/invites/c0de", NULL, NULL, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(404, "{\"error\":\"not_found\",\"message\":\"x\"}"), 404, "not_found", "invite.get",
	  "", "c0de", "", { NULL }, NULL },
	{ "invite code with %XX", { "GET", "/api/invites/c0%2Fde", NULL, NULL, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{}"), 404, "not_found", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "invite code of 65 bytes",
	  { "GET", "/api/invites/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
	    NULL, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{}"), 404, "not_found", NULL, NULL, NULL, NULL, { NULL }, NULL },
	/* native clients */
	{ "token: no CSRF, no cookie",
	  { "POST", "/api/tokens", NULL, NULL, X_NONE, NULL, "{\"device_name\":\"cli\"}", NULL },
	  { SCRIPT_REPLY, 201, "{\"token\":\"" T2 "\"}", T2, 100, false, 0 }, 201, NULL, "token", "",
	  "", "{\"device_name\":\"cli\"}", { NULL }, NULL },
	{ "token, cross-site Origin", { "POST", "/api/tokens", "null", NULL, X_NONE, NULL, "{}", NULL },
	  OK_REPLY(201, "{}"), 403, "origin_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	/* session routes */
	{ "me without a session", { "GET", "/api/me", NULL, NULL, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{}"), 401, "unauthenticated", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "me with a malformed cookie", { "GET", "/api/me", NULL, "sembark_session=ABC", X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{}"), 401, "unauthenticated", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "me with the cookie twice",
	  { "GET", "/api/me", NULL, "sembark_session=" T1 "; sembark_session=" T2, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{}"), 401, "unauthenticated", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "me with the TLS cookie name over http",
	  { "GET", "/api/me", NULL, "__Host-sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{}"), 401, "unauthenticated", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "me", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{\"user\":{}}"), 200, NULL, "me", T1, "", "", { NULL }, NULL },
	{ "me, dead session (authd says)", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(401, "{\"error\":\"unauthenticated\",\"message\":\"x\"}"), 401, "unauthenticated",
	  "me", T1, "", "", { NULL }, NULL },
	{ "me, Bearer over cookie",
	  { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, "Bearer " T2, NULL, NULL },
	  OK_REPLY(200, "{}"), 200, NULL, "me", T2, "", "", { NULL }, NULL },
	{ "me, malformed Bearer ignores the cookie",
	  { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, "Bearer xyz", NULL, NULL },
	  OK_REPLY(200, "{}"), 401, "unauthenticated", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "logout without CSRF", { "POST", "/api/logout", ORIGIN, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(204, ""), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "logout with another session's token",
	  { "POST", "/api/logout", ORIGIN, "sembark_session=" T1, X_S2, NULL, NULL, NULL },
	  OK_REPLY(204, ""), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "logout with a pre-login token",
	  { "POST", "/api/logout", ORIGIN, "sembark_csrf=" B1 "; sembark_session=" T1, X_B1, NULL, NULL, NULL },
	  OK_REPLY(204, ""), 419, "csrf_mismatch", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "logout", { "POST", "/api/logout", ORIGIN, "sembark_session=" T1, X_S1, NULL, "{\"x\":1}", NULL },
	  { SCRIPT_REPLY, 204, "", NULL, 0, true, 0 }, 204, NULL, "logout", T1, "", "",
	  { "sembark_session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; "
	    "SameSite=Lax", "sembark_csrf=", "XSRF-TOKEN=" }, NULL },
	{ "logout by Bearer: no CSRF, no cookies",
	  { "POST", "/api/logout", NULL, "sembark_session=" T1, X_NONE, "Bearer " T2, NULL, NULL },
	  { SCRIPT_REPLY, 204, "", NULL, 0, true, 0 }, 204, NULL, "logout", T2, "", "", { NULL }, NULL },
	{ "logout without a session", { "POST", "/api/logout", ORIGIN, NULL, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(204, ""), 401, "unauthenticated", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "member update",
	  { "PATCH", "/api/team/members/u-42", ORIGIN, "sembark_session=" T1, X_S1, NULL, "{\"role\":\"admin\"}", NULL },
	  OK_REPLY(200, "{\"id\":\"u-42\"}"), 200, NULL, "member.update", T1, "u-42",
	  "{\"role\":\"admin\"}", { NULL }, NULL },
	{ "member remove", { "DELETE", "/api/team/members/u-42", ORIGIN, "sembark_session=" T1, X_S1, NULL, NULL, NULL },
	  OK_REPLY(204, ""), 204, NULL, "member.remove", T1, "u-42", "", { NULL }, NULL },
	{ "session revoke, odd id",
	  { "DELETE", "/api/sessions/a%2Fb", ORIGIN, "sembark_session=" T1, X_S1, NULL, NULL, NULL },
	  OK_REPLY(204, ""), 404, "not_found", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "session revoke, odd id, no session",
	  { "DELETE", "/api/sessions/a%2Fb", ORIGIN, NULL, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(204, ""), 401, "unauthenticated", NULL, NULL, NULL, NULL, { NULL }, NULL },
	{ "revoke others", { "POST", "/api/sessions/revoke-others", ORIGIN, "sembark_session=" T1, X_S1, NULL, NULL, NULL },
	  OK_REPLY(204, ""), 204, NULL, "sessions.revoke_others", T1, "", "", { NULL }, NULL },
	{ "rotate", { "POST", "/api/team/invite/rotate", NULL, NULL, X_NONE, "Bearer " T1, NULL, NULL },
	  OK_REPLY(200, "{}"), 200, NULL, "team.invite.rotate", T1, "", "", { NULL }, NULL },
	{ "password", { "POST", "/api/password", ORIGIN, "sembark_session=" T1, X_S1, NULL, "{\"a\":1}", NULL },
	  OK_REPLY(204, ""), 204, NULL, "password", T1, "", "{\"a\":1}", { NULL }, NULL },
	{ "team", { "GET", "/api/team", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{}"), 200, NULL, "team", T1, "", "", { NULL }, NULL },
	{ "team invite", { "GET", "/api/team/invite", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(403, "{\"error\":\"forbidden\",\"message\":\"x\"}"), 403, "forbidden", "team.invite",
	  T1, "", "", { NULL }, NULL },
	{ "sessions", { "GET", "/api/sessions", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{\"sessions\":[]}"), 200, NULL, "sessions", T1, "", "", { NULL }, NULL },
	/* what authd answers, checked */
	{ "Retry-After passed on", { "GET", "/api/invites/c0de", NULL, NULL, X_NONE, NULL, NULL, NULL },
	  { SCRIPT_REPLY, 429, "{\"error\":\"too_many_requests\",\"message\":\"x\"}", NULL, 0, false, 7 },
	  429, "too_many_requests", "invite.get", "", "c0de", "", { NULL }, "7" },
	{ "body not JSON", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "{\"a\":"), 503, "service_unavailable", "me", T1, "", "", { NULL }, NULL },
	{ "body not an object", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, "[1]"), 503, "service_unavailable", "me", T1, "", "", { NULL }, NULL },
	{ "no body on 200", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(200, ""), 503, "service_unavailable", "me", T1, "", "", { NULL }, NULL },
	{ "status 500", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(500, "{\"error\":\"internal\"}"), 503, "service_unavailable", "me", T1, "", "",
	  { NULL }, NULL },
	{ "status 302", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(302, "{}"), 503, "service_unavailable", "me", T1, "", "", { NULL }, NULL },
	{ "status 99", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  OK_REPLY(99, "{}"), 503, "service_unavailable", "me", T1, "", "", { NULL }, NULL },
	{ "bad set_token",
	  { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1, X_B1, NULL, LOGIN_BODY, NULL },
	  { SCRIPT_REPLY, 200, "{}", "ABCDEF", 100, false, 0 }, 503, "service_unavailable", "login",
	  "", "", LOGIN_BODY, { NULL }, NULL },
	{ "error reply", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  { SCRIPT_ERROR, 0, NULL, NULL, 0, false, 0 }, 503, "service_unavailable", "me", T1, "", "",
	  { NULL }, NULL },
	{ "wrong reply type", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  { SCRIPT_WRONG_TYPE, 0, NULL, NULL, 0, false, 0 }, 503, "service_unavailable", "me", T1, "",
	  "", { NULL }, NULL },
	{ "silence", { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  { SCRIPT_SILENT, 0, NULL, NULL, 0, false, 0 }, 503, "service_unavailable", "me", T1, "", "",
	  { NULL }, NULL },
};

static void s_check_cookies(const struct auth_case *t, const struct test_http_resp *r)
{
	int want = 0;

	while (want < 3 && t->cookies[want])
		want++;
	if (test_http_header_count(r, "Set-Cookie") != want)
		fail_msg("%s: %d Set-Cookie, expected %d\n%s", t->name,
			 test_http_header_count(r, "Set-Cookie"), want, r->head);
	for (int i = 0; i < want; i++)
		if (strncmp(test_http_header_n(r, "Set-Cookie", i), t->cookies[i],
			    strlen(t->cookies[i])) != 0)
			fail_msg("%s: Set-Cookie %s, expected %s...", t->name,
				 test_http_header_n(r, "Set-Cookie", i), t->cookies[i]);
}

static void s_check_call(struct fixture *f, const struct auth_case *t)
{
	struct seen seen;

	s_in_loop(f, s_seen_in_loop, &seen);
	if (!t->op) {
		if (seen.calls != 0)
			fail_msg("%s: authd was called (%s)", t->name, seen.op);
		return;
	}
	if (seen.calls != 1)
		fail_msg("%s: %d calls", t->name, seen.calls);
	assert_string_equal(seen.op, t->op);
	assert_string_equal(seen.token, t->token);
	assert_string_equal(seen.target, t->target);
	assert_string_equal(seen.body, t->body);
}

static void s_check_case(struct fixture *f, const struct auth_case *t,
			 const struct test_http_resp *r)
{
	const char *retry = test_http_header_n(r, "Retry-After", 0);
	char want[96];

	if (r->status != t->status)
		fail_msg("%s: status %d, expected %d: %s", t->name, r->status, t->status, r->body);
	if (t->error) {
		snprintf(want, sizeof(want), "{\"error\":\"%s\",", t->error);
		if (strncmp(r->body, want, strlen(want)) != 0)
			fail_msg("%s: body %s", t->name, r->body);
	}
	if (t->status == 204)
		assert_string_equal(r->body, "");
	if ((retry == NULL) != (t->retry_after == NULL) ||
	    (retry && strcmp(retry, t->retry_after) != 0))
		fail_msg("%s: Retry-After %s", t->name, retry ? retry : "-");
	assert_string_equal(test_http_header_n(r, "Cache-Control", 0), "no-store");
	s_check_cookies(t, r);
	s_check_call(f, t);
}

static void test_auth_routes(void **state)
{
	struct fixture *f = *state;
	char req[4096];
	struct test_http_resp r;

	for (size_t i = 0; i < ELEMENTSOF(s_cases); i++) {
		const struct auth_case *t = &s_cases[i];

		s_in_loop(f, s_script_in_loop, (void *)&t->script);
		s_build(f, &t->q, req, sizeof(req));
		test_http_exchange(f->port, req, &r);
		s_check_case(f, t, &r);
	}
}

/* After login, the XSRF-TOKEN set is bound to the new session, not to the browser. */
static void test_login_rebinds(void **state)
{
	struct fixture *f = *state;
	const struct script sc = { SCRIPT_REPLY, 200, "{}", T2, 100, false, 0 };
	const struct request q = { "POST", "/api/login", ORIGIN, "sembark_csrf=" B1, X_B1, NULL,
				   LOGIN_BODY, NULL };
	struct csrf_binding session, browser, fresh;
	char req[4096], tok[CSRF_TOKEN_LEN + 1], id[CSRF_BROWSER_ID_LEN + 1];
	struct test_http_resp r;

	s_in_loop(f, s_script_in_loop, (void *)&sc);
	s_build(f, &q, req, sizeof(req));
	test_http_exchange(f->port, req, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(sscanf(test_http_header_n(&r, "Set-Cookie", 1), "sembark_csrf=%32[0-9a-f];",
				id), 1);
	assert_string_not_equal(id, B1);
	assert_int_equal(sscanf(test_http_header_n(&r, "Set-Cookie", 2),
				"XSRF-TOKEN=%66[A-Za-z0-9_.-];", tok), 1);
	assert_int_equal(ingress_csrf_bind_session(T2, 40, &session), 0);
	assert_int_equal(ingress_csrf_bind_browser(B1, 32, &browser), 0);
	assert_int_equal(ingress_csrf_bind_browser(id, 32, &fresh), 0);
	assert_true(ingress_csrf_verify(f->app.csrf, &session, tok, strlen(tok)));
	assert_false(ingress_csrf_verify(f->app.csrf, &browser, tok, strlen(tok)));
	assert_false(ingress_csrf_verify(f->app.csrf, &fresh, tok, strlen(tok)));
	assert_non_null(strstr(test_http_header_n(&r, "Set-Cookie", 2), "; Max-Age=100; SameSite=Lax"));
}

/* ---- GET /api/csrf ------------------------------------------------------------------ */

static void s_get_csrf(struct fixture *f, const char *cookie, struct test_http_resp *r)
{
	const struct request q = { "GET", "/api/csrf", NULL, cookie, X_NONE, NULL, NULL, NULL };
	char req[1024];

	s_build(f, &q, req, sizeof(req));
	test_http_exchange(f->port, req, r);
	assert_int_equal(r->status, 204);
	assert_string_equal(r->body, "");
	assert_null(test_http_header_n(r, "Content-Type", 0));
}

/* s_xsrf_of - the XSRF-TOKEN of the answer verifies for binding b */
static bool s_xsrf_of(struct fixture *f, const struct test_http_resp *r,
		      const struct csrf_binding *b)
{
	char tok[CSRF_TOKEN_LEN + 1];

	for (int i = 0; test_http_header_n(r, "Set-Cookie", i); i++)
		if (sscanf(test_http_header_n(r, "Set-Cookie", i), "XSRF-TOKEN=%66[A-Za-z0-9_.-]; Path=/; "
			   "SameSite=Lax", tok) == 1)
			return ingress_csrf_verify(f->app.csrf, b, tok, strlen(tok));
	return false;
}

static void test_csrf_route(void **state)
{
	struct fixture *f = *state;
	struct csrf_binding b;
	char id[CSRF_BROWSER_ID_LEN + 1];
	struct test_http_resp r;

	/* a new browser: both cookies */
	s_get_csrf(f, NULL, &r);
	assert_int_equal(test_http_header_count(&r, "Set-Cookie"), 2);
	assert_int_equal(sscanf(test_http_header_n(&r, "Set-Cookie", 0), "sembark_csrf=%32[0-9a-f]",
				id), 1);
	assert_string_equal(test_http_header_n(&r, "Set-Cookie", 0) + 13 + 32,
			    "; Path=/; HttpOnly; SameSite=Lax");
	assert_int_equal(ingress_csrf_bind_browser(id, 32, &b), 0);
	assert_true(s_xsrf_of(f, &r, &b));
	/* a known browser: the token only */
	s_get_csrf(f, "sembark_csrf=" B1, &r);
	assert_int_equal(test_http_header_count(&r, "Set-Cookie"), 1);
	assert_int_equal(ingress_csrf_bind_browser(B1, 32, &b), 0);
	assert_true(s_xsrf_of(f, &r, &b));
	/* a malformed browser cookie is replaced */
	s_get_csrf(f, "sembark_csrf=zz", &r);
	assert_int_equal(test_http_header_count(&r, "Set-Cookie"), 2);
	/* with a session: bound to it */
	s_get_csrf(f, "sembark_csrf=" B1 "; sembark_session=" T1, &r);
	assert_int_equal(test_http_header_count(&r, "Set-Cookie"), 1);
	assert_int_equal(ingress_csrf_bind_session(T1, 40, &b), 0);
	assert_true(s_xsrf_of(f, &r, &b));
}

/* With an https public origin: __Host- names and Secure everywhere. */
static void s_tls_in_loop(struct fixture *f, void *arg)
{
	snprintf(f->cfg.ingress.public_origin, sizeof(f->cfg.ingress.public_origin),
		 "https://sembark.example");
}

static void test_tls_cookies(void **state)
{
	struct fixture *f = *state;
	const struct script sc = { SCRIPT_REPLY, 200, "{}", T2, 100, false, 0 };
	const struct request login = { "POST", "/api/login", "https://sembark.example",
				       "__Host-sembark_csrf=" B1, X_B1, NULL, LOGIN_BODY, NULL };
	const struct request plain = { "POST", "/api/login", ORIGIN, "__Host-sembark_csrf=" B1, X_B1,
				       NULL, LOGIN_BODY, NULL };
	char req[4096];
	struct test_http_resp r;

	s_in_loop(f, s_tls_in_loop, NULL);
	s_get_csrf(f, NULL, &r);
	assert_true(strncmp(test_http_header_n(&r, "Set-Cookie", 0), "__Host-sembark_csrf=", 20) == 0);
	assert_non_null(strstr(test_http_header_n(&r, "Set-Cookie", 0),
			       "; HttpOnly; SameSite=Lax; Secure"));
	assert_non_null(strstr(test_http_header_n(&r, "Set-Cookie", 1), "; SameSite=Lax; Secure"));
	s_in_loop(f, s_script_in_loop, (void *)&sc);
	s_build(f, &login, req, sizeof(req));
	test_http_exchange(f->port, req, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(test_http_header_n(&r, "Set-Cookie", 0),
			    "__Host-sembark_session=" T2 "; Path=/; Max-Age=100; HttpOnly; SameSite=Lax; Secure");
	/* the http origin is now another origin */
	s_build(f, &plain, req, sizeof(req));
	test_http_exchange(f->port, req, &r);
	assert_int_equal(r.status, 403);
}

/* ---- ingress_with_identity ------------------------------------------------------------ */

struct identity_case {
	const char *name;
	struct request q;
	int status;
	const char *body; /* exact, or the error code */
	bool checked;     /* auth.check was sent */
};

static const struct identity_case s_identity[] = {
	{ "no session", { "GET", "/t/whoami", NULL, NULL, X_NONE, NULL, NULL, NULL }, 401,
	  "unauthenticated", false },
	{ "live session", { "GET", "/t/whoami", NULL, "sembark_session=" T1, X_NONE, NULL, NULL, NULL },
	  200, "{\"user_id\":\"u-1\",\"role\":\"owner\"}", true },
	{ "ended session", { "GET", "/t/whoami", NULL, "sembark_session=" T2, X_NONE, NULL, NULL, NULL },
	  401, "unauthenticated", true },
	{ "malformed Bearer", { "GET", "/t/whoami", NULL, NULL, X_NONE, "Bearer " T1 "x", NULL, NULL }, 401,
	  "unauthenticated", false },
	{ "authd error", { "GET", "/t/whoami", NULL, NULL, X_NONE,
			   "Bearer 1111111111111111111111111111111111111111", NULL, NULL },
	  503, "service_unavailable", true },
	{ "POST by cookie needs CSRF",
	  { "POST", "/t/whoami", ORIGIN, "sembark_session=" T1, X_NONE, NULL, NULL, NULL }, 419,
	  "csrf_mismatch", false },
	{ "POST by cookie with CSRF",
	  { "POST", "/t/whoami", ORIGIN, "sembark_session=" T1, X_S1, NULL, NULL, NULL }, 200,
	  "{\"user_id\":\"u-1\",\"role\":\"owner\"}", true },
	{ "POST by Bearer", { "POST", "/t/whoami", NULL, NULL, X_NONE, "Bearer " T1, NULL, NULL }, 200,
	  "{\"user_id\":\"u-1\",\"role\":\"owner\"}", true },
	{ "POST cross-site", { "POST", "/t/whoami", "http://evil.example", NULL, X_NONE, "Bearer " T1, NULL, NULL },
	  403, "origin_mismatch", false },
};

static void test_with_identity(void **state)
{
	struct fixture *f = *state;
	const struct script none = { 0 };
	char req[4096], want[96];
	struct seen seen;
	struct test_http_resp r;

	for (size_t i = 0; i < ELEMENTSOF(s_identity); i++) {
		const struct identity_case *t = &s_identity[i];

		s_in_loop(f, s_script_in_loop, (void *)&none);
		s_build(f, &t->q, req, sizeof(req));
		test_http_exchange(f->port, req, &r);
		if (r.status != t->status)
			fail_msg("%s: %d %s", t->name, r.status, r.body);
		snprintf(want, sizeof(want), "{\"error\":\"%s\",", t->body);
		if (strcmp(r.body, t->body) != 0 && strncmp(r.body, want, strlen(want)) != 0)
			fail_msg("%s: %s", t->name, r.body);
		s_in_loop(f, s_seen_in_loop, &seen);
		assert_int_equal(seen.calls, t->checked ? 1 : 0);
	}
}

/* ---- the per-client rate ------------------------------------------------------------- */

static void s_rate_in_loop(struct fixture *f, void *arg)
{
	assert_int_equal(ingress_ratelimit_new(2, 1024, &f->app.ratelimit), 0);
}

static void test_client_rate(void **state)
{
	struct fixture *f = *state;
	const struct script sc = OK_REPLY(404, "{\"error\":\"not_found\",\"message\":\"x\"}");
	const struct request inv = { "GET", "/api/invites/c0de", NULL, NULL, X_NONE, NULL, NULL, NULL };
	const struct request tok = { "POST", "/api/tokens", NULL, NULL, X_NONE, NULL, "{}", NULL };
	const struct request me = { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL,
				    NULL };
	char req[4096];
	struct test_http_resp r;

	s_in_loop(f, s_rate_in_loop, NULL);
	s_in_loop(f, s_script_in_loop, (void *)&sc);
	s_build(f, &inv, req, sizeof(req));
	test_http_exchange(f->port, req, &r);
	assert_int_equal(r.status, 404);
	s_build(f, &tok, req, sizeof(req));
	test_http_exchange(f->port, req, &r);
	assert_int_equal(r.status, 404);
	test_http_exchange(f->port, req, &r);
	assert_int_equal(r.status, 429);
	assert_string_equal(test_http_header_n(&r, "Retry-After", 0), "30");
	assert_non_null(strstr(r.body, "\"error\":\"too_many_requests\""));
	/* routes outside sign-up, login, token and invite are not counted */
	s_build(f, &me, req, sizeof(req));
	test_http_exchange(f->port, req, &r);
	assert_int_equal(r.status, 404);
}

/* ---- a client that leaves while authd thinks ----------------------------------------- */

static void s_pending_in_loop(struct fixture *f, void *arg)
{
	*(size_t *)arg = rpc_pending(f->app.authd);
}

static void test_client_leaves(void **state)
{
	struct fixture *f = *state;
	const struct script sc = { SCRIPT_SILENT, 0, NULL, NULL, 0, false, 0 };
	const struct request me = { "GET", "/api/me", NULL, "sembark_session=" T1, X_NONE, NULL, NULL,
				    NULL };
	char req[1024];
	size_t pending = 0;
	int fd;

	s_in_loop(f, s_script_in_loop, (void *)&sc);
	s_build(f, &me, req, sizeof(req));
	fd = test_http_connect(f->port);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	usleep(50000);
	s_in_loop(f, s_pending_in_loop, &pending);
	assert_int_equal(pending, 1);
	close(fd);
	usleep(50000);
	s_in_loop(f, s_pending_in_loop, &pending);
	assert_int_equal(pending, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth_routes, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_login_rebinds, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_csrf_route, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_tls_cookies, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_with_identity, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_client_rate, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_client_leaves, s_setup, s_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	log_open("ingressd-test");
	log_set_level(LOG_LEVEL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
