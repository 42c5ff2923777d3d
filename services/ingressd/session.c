/*
 * session.c - sembark-ingressd's view of who is calling, and the checks
 * every account (and later telemetry and audit) route runs before it asks
 * a backend anything.
 *
 * The session token comes from `Authorization: Bearer <token>` (native
 * clients: the session cookie is then ignored and no CSRF token is
 * needed, since nothing ambient was sent) or from the session cookie
 * (sembark_session, __Host-sembark_session when the public origin is
 * https). A token is exactly 40 lowercase hex characters; anything else
 * counts as no token. Whether the session is alive is authd's to say.
 *
 * ingress_guard() runs, in this order: the per-client-address rate (429
 * with Retry-After), the Origin check on state-changing methods (403
 * origin_mismatch), the presence of a session token (401
 * unauthenticated), the CSRF token (419 csrf_mismatch). The CSRF token is
 * required on every POST/PUT/PATCH/DELETE authenticated by cookie and on
 * the anonymous browser routes (login, sign-up, invite accept); it must
 * be valid for the current binding: the session cookie when one is sent,
 * else the browser-binding cookie. ingress_with_identity() adds authd's
 * auth.check and hands the identity to the route's continuation.
 *
 * The cookie sets: GET /api/csrf, after a login (set_token) and after a
 * logout (clear_token). Nothing here logs a token, cookie or address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "config.h"
#include "daemon.h"
#include "ingressd.h"
#include "ipc.h"
#include "macro.h"
#include "rpc.h"

/* ---- the token ---------------------------------------------------------- */

/* ingress_token_valid - exactly 40 lowercase hex characters? */
bool ingress_token_valid(const char *s, size_t len)
{
	if (!s || len != INGRESS_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool s_tls(const struct ingress *app)
{
	return ingress_origin_is_tls(app->cfg->ingress.public_origin);
}

static const char *s_session_name(const struct ingress *app)
{
	return s_tls(app) ? COOKIE_SESSION_TLS : COOKIE_SESSION;
}

static const char *s_browser_name(const struct ingress *app)
{
	return s_tls(app) ? COOKIE_BROWSER_TLS : COOKIE_BROWSER;
}

/* s_cookie_token - the session cookie's token into out, or false */
static bool s_cookie_token(const struct ingress *app, const struct http_request *req,
			   char out[INGRESS_TOKEN_LEN + 1])
{
	char v[COOKIE_VALUE_MAX + 1];
	int r = ingress_request_cookie(req, s_session_name(app), v, sizeof(v));
	bool ok = r >= 0 && ingress_token_valid(v, (size_t)r);

	if (ok)
		memcpy(out, v, INGRESS_TOKEN_LEN + 1);
	sodium_memzero(v, sizeof(v));
	return ok;
}

/* s_bearer - "Bearer <token>" (scheme case-insensitive); false when not a Bearer header */
static bool s_bearer(const struct http_request *req, struct ingress_session *s)
{
	const char *v = http_request_header(req, "Authorization");
	size_t n;

	if (!v || strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
		return false;
	v += 6 + strspn(v + 6, " \t");
	n = strlen(v);
	s->via = INGRESS_AUTH_BEARER;
	if (ingress_token_valid(v, n))
		memcpy(s->token, v, INGRESS_TOKEN_LEN + 1);
	return true;
}

/* ingress_session_wipe - forget a session's tokens (for _cleanup_) */
void ingress_session_wipe(struct ingress_session *s)
{
	sodium_memzero(s, sizeof(*s));
}

/* ingress_session_get - what the checks need from req, read once */
void ingress_session_get(const struct ingress *app, const struct http_request *req,
			 struct ingress_session *ret)
{
	*ret = (struct ingress_session){ .via = INGRESS_AUTH_NONE };
	(void)s_cookie_token(app, req, ret->cookie_token);
	ret->browser_len = ingress_request_cookie(req, s_browser_name(app), ret->browser,
						  sizeof(ret->browser));
	ret->xsrf = http_request_header(req, "X-XSRF-TOKEN");
	ingress_origin_headers_get(req, &ret->from);
	if (s_bearer(req, ret) || ret->cookie_token[0] == '\0')
		return;
	ret->via = INGRESS_AUTH_COOKIE;
	memcpy(ret->token, ret->cookie_token, sizeof(ret->token));
}

/* ---- the checks ----------------------------------------------------------- */

static bool s_unsafe(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* s_check_rate - 429 when this client address is over [ingress] client_rate_limit */
static bool s_check_rate(struct ingress *app, struct http_exchange *ex)
{
	uint8_t addr[16];
	size_t len = 0;
	char secs[16];
	struct http_out_header retry = { "Retry-After", secs };
	int wait;

	if (!app->ratelimit || http_exchange_peer(ex, addr, &len) < 0)
		return true;
	wait = ingress_ratelimit_take(app->ratelimit, addr, len, mono_us());
	sodium_memzero(addr, sizeof(addr));
	if (wait <= 0)
		return true;
	snprintf(secs, sizeof(secs), "%d", wait);
	http_respond_error_ex(ex, 429, "too_many_requests",
			      "too many requests from this address; try again later", &retry, 1);
	return false;
}

/* s_binding - what the CSRF token must be bound to: the session cookie, else the browser's */
static int s_binding(const struct ingress_session *s, struct csrf_binding *ret)
{
	if (s->cookie_token[0])
		return ingress_csrf_bind_session(s->cookie_token, INGRESS_TOKEN_LEN, ret);
	if (s->browser_len < 0)
		return s->browser_len;
	return ingress_csrf_bind_browser(s->browser, (size_t)s->browser_len, ret);
}

/* s_check_csrf - 419 unless X-XSRF-TOKEN is valid for the current binding */
static bool s_check_csrf(struct ingress *app, struct http_exchange *ex,
			 const struct ingress_session *s)
{
	char tok[CSRF_HEADER_MAX];
	struct csrf_binding b;
	int n;

	if (!app->csrf) {
		http_respond_error(ex, 503, "service_unavailable", "CSRF protection is not configured");
		return false;
	}
	n = s->xsrf ? ingress_csrf_header_decode(s->xsrf, tok, sizeof(tok)) : -ENOENT;
	if (n < 0 || s_binding(s, &b) < 0 || !ingress_csrf_verify(app->csrf, &b, tok, (size_t)n)) {
		http_respond_error(ex, 419, "csrf_mismatch",
				   "missing or invalid X-XSRF-TOKEN: get one from GET /api/csrf");
		return false;
	}
	return true;
}

static bool s_needs_csrf(const struct http_request *req, unsigned flags,
			 const struct ingress_session *s)
{
	if (!s_unsafe(req->method) || (flags & GUARD_NATIVE))
		return false;
	return (flags & GUARD_ANON_CSRF) || s->via == INGRESS_AUTH_COOKIE;
}

/* ingress_guard_flags - the GUARD_* flags of an operation (its WHO and FLAGS) */
unsigned ingress_guard_flags(const struct ipc_op_info *op)
{
	unsigned g = 0;

	if (op->who != IPC_WHO_ANYONE)
		g |= GUARD_SESSION;
	if (op->flags & IPC_OPF_RATE)
		g |= GUARD_CLIENT_RATE;
	if (op->flags & IPC_OPF_ANON_CSRF)
		g |= GUARD_ANON_CSRF;
	if (op->flags & IPC_OPF_NATIVE)
		g |= GUARD_NATIVE;
	return g;
}

/* ingress_guard - the checks of a route before its backend call; false when answered */
bool ingress_guard(struct ingress *app, struct http_exchange *ex, unsigned flags,
		   struct ingress_session *ret)
{
	const struct http_request *req = ex->req;

	if ((flags & GUARD_CLIENT_RATE) && !s_check_rate(app, ex))
		return false;
	ingress_session_get(app, req, ret);
	if (s_unsafe(req->method) &&
	    !ingress_origin_headers_ok(app->cfg->ingress.public_origin, &ret->from)) {
		sodium_memzero(ret, sizeof(*ret));
		http_respond_error(ex, 403, "origin_mismatch",
				   "this request did not come from the application's origin");
		return false;
	}
	if ((flags & GUARD_SESSION) && ret->token[0] == '\0') {
		sodium_memzero(ret, sizeof(*ret));
		http_respond_error(ex, 401, "unauthenticated", "a session is required: log in first");
		return false;
	}
	if (s_needs_csrf(req, flags, ret) && !s_check_csrf(app, ex, ret)) {
		sodium_memzero(ret, sizeof(*ret));
		return false;
	}
	return true;
}

/* ---- auth.check ------------------------------------------------------------ */

/* One auth.check waiting for authd. */
struct identity_call {
	struct ingress_call call; /* first: backend_call.c frees it */
	ingress_identity_fn fn;
	void *userdata;
};

/*
 * s_identity_error - an error reply: "unauthenticated" is 401,
 * "two_factor_pending" 403 (the team requires two-factor login first),
 * anything else 503
 */
static void s_identity_error(struct http_exchange *ex, const void *buf, size_t len)
{
	struct ipc_error err;
	uint64_t id;
	bool unauth = false, pending = false;

	if (ipc_decode_error(buf, len, &id, &err) == 0) {
		unauth = strcmp(err.code, "unauthenticated") == 0;
		pending = strcmp(err.code, "two_factor_pending") == 0;
		ipc_free_error(&err);
	}
	if (unauth)
		http_respond_error(ex, 401, "unauthenticated", "the session has ended: log in again");
	else if (pending)
		http_respond_error(ex, 403, "two_factor_enrolment_required",
				   "your team requires two-factor login: turn it on in your account first");
	else
		http_respond_error(ex, 503, "service_unavailable", "accounts did not answer in time");
}

/* s_identity_done - authd's answer to auth.check, or none */
static void s_identity_done(struct ingress_call *c, int r, enum ipc_msg_type type,
			    const void *buf, size_t len)
{
	struct identity_call *ic = (struct identity_call *)c;
	struct ipc_auth_identity who;
	uint64_t id;

	if (r == 0 && type == IPC_MSG_AUTH_IDENTITY &&
	    ipc_decode_auth_identity(buf, len, &id, &who) == 0) {
		ic->fn(c->app, c->ex, &who, ic->userdata);
		ipc_free_auth_identity(&who);
	} else if (r == 0 && type == IPC_MSG_ERROR) {
		s_identity_error(c->ex, buf, len);
	} else {
		http_respond_error(c->ex, 503, "service_unavailable", "accounts did not answer in time");
	}
}

/* s_identity_start - auth.check for token; answered 503 here when it cannot be sent */
static void s_identity_start(struct identity_call *ic, const char *token)
{
	struct ipc_auth_check msg = { 0 };
	struct ipc_buf b;
	int r;

	snprintf(msg.token, sizeof(msg.token), "%s", token);
	ipc_buf_init(&b);
	r = ipc_encode_auth_check(&b, ic->call.id, &msg);
	sodium_memzero(&msg, sizeof(msg));
	(void)ingress_call_start(&ic->call, &b, r, "accounts are not available");
}

/* ingress_with_identity - the guard, then auth.check, then fn with the identity */
void ingress_with_identity(struct ingress *app, struct http_exchange *ex, unsigned flags,
			   ingress_identity_fn fn, void *userdata)
{
	_cleanup_(ingress_session_wipe) struct ingress_session s = { 0 };
	struct identity_call *ic;

	if (!ingress_guard(app, ex, GUARD_SESSION | flags, &s))
		return;
	ic = ingress_call_new(app, ex, app->authd, sizeof(*ic), s_identity_done);
	if (!ic)
		return;
	ic->fn = fn;
	ic->userdata = userdata;
	s_identity_start(ic, s.token);
}

/* ---- the cookies ------------------------------------------------------------ */

static int s_add(const struct ingress *app, struct ingress_set_cookies *sc, const char *name,
		 const char *value, long long max_age, unsigned flags)
{
	int r;

	if (sc->n >= INGRESS_SET_COOKIES)
		return -ENOBUFS;
	if (s_tls(app))
		flags |= COOKIE_SECURE;
	r = ingress_cookie_format(sc->value[sc->n], SET_COOKIE_MAX, name, value, max_age, flags);
	if (r < 0)
		return r;
	sc->h[sc->n] = (struct http_out_header){ "Set-Cookie", sc->value[sc->n] };
	sc->n++;
	return 0;
}

/* s_add_xsrf - XSRF-TOKEN for binding b (readable by scripts: not HttpOnly) */
static int s_add_xsrf(const struct ingress *app, struct ingress_set_cookies *sc,
		      const struct csrf_binding *b, long long max_age)
{
	char tok[CSRF_TOKEN_LEN + 1];

	ingress_csrf_issue(app->csrf, b, tok);
	return s_add(app, sc, COOKIE_XSRF, tok, max_age, 0);
}

/* s_add_new_browser - a fresh browser-binding cookie; its binding in *ret */
static int s_add_new_browser(const struct ingress *app, struct ingress_set_cookies *sc,
			     struct csrf_binding *ret)
{
	char id[CSRF_BROWSER_ID_LEN + 1];
	int r;

	ingress_csrf_browser_id(id);
	r = ingress_csrf_bind_browser(id, CSRF_BROWSER_ID_LEN, ret);
	if (r >= 0)
		r = s_add(app, sc, s_browser_name(app), id, -1, COOKIE_HTTPONLY);
	return r;
}

/* ingress_cookies_csrf - GET /api/csrf: XSRF-TOKEN for the current binding (+ browser cookie) */
int ingress_cookies_csrf(const struct ingress *app, const struct http_request *req,
			 struct ingress_set_cookies *sc)
{
	_cleanup_(ingress_session_wipe) struct ingress_session s = { 0 };
	struct csrf_binding browser, b;
	int r = 0;

	sc->n = 0;
	if (!app->csrf)
		return -ENOKEY;
	ingress_session_get(app, req, &s);
	if (s.browser_len < 0 ||
	    ingress_csrf_bind_browser(s.browser, (size_t)s.browser_len, &browser) < 0)
		r = s_add_new_browser(app, sc, &browser);
	b = browser;
	if (r >= 0 && s.cookie_token[0])
		r = ingress_csrf_bind_session(s.cookie_token, INGRESS_TOKEN_LEN, &b);
	return r < 0 ? r : s_add_xsrf(app, sc, &b, -1);
}

/* ingress_cookies_login - a new session: its cookie, a new browser id, XSRF-TOKEN bound to it */
int ingress_cookies_login(const struct ingress *app, const char *token, long long max_age,
			  struct ingress_set_cookies *sc)
{
	struct csrf_binding b;
	int r;

	sc->n = 0;
	if (!app->csrf)
		return -ENOKEY;
	r = ingress_csrf_bind_session(token, strlen(token), &b);
	if (r < 0)
		return r;
	r = s_add(app, sc, s_session_name(app), token, max_age, COOKIE_HTTPONLY);
	if (r >= 0)
		r = s_add_new_browser(app, sc, &(struct csrf_binding){ 0 });
	if (r >= 0)
		r = s_add_xsrf(app, sc, &b, max_age);
	return r;
}

/* ingress_cookies_logout - clear the session cookie; new browser id and pre-login XSRF-TOKEN */
int ingress_cookies_logout(const struct ingress *app, struct ingress_set_cookies *sc)
{
	struct csrf_binding b;
	int r;

	sc->n = 0;
	if (!app->csrf)
		return -ENOKEY;
	r = s_add(app, sc, s_session_name(app), "", 0, COOKIE_HTTPONLY);
	if (r >= 0)
		r = s_add_new_browser(app, sc, &b);
	if (r >= 0)
		r = s_add_xsrf(app, sc, &b, -1);
	return r;
}
