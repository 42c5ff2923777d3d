/*
 * auth_routes.c - sembark-ingressd's account API (API.md "Endpoints" but
 * telemetry and audit): GET /api/csrf here, every other route an
 * auth.call to authd.
 *
 * For each route: the shared checks of routes.c (404, 405, 415, 400) have
 * run; then ingress_guard() (429, 403, 401, 419, see session.c); then a
 * path parameter that cannot be an id or code ({code}, {id}: at most 64
 * bytes of A-Z a-z 0-9 - _ . ~) is 404 here; then auth.call {op, token,
 * target, body} with [ingress] rpc_timeout_ms. authd validates the body,
 * the session and the role, and its api.reply carries the final status
 * and JSON body, which pass through (a status outside 200..499 other than
 * 503, or a body that is not a JSON object, is 503: never garbage, never
 * a 500). set_token puts a new session in the cookie and re-binds the CSRF
 * token to it; clear_token clears the cookie; retry_after becomes
 * Retry-After. No answer, authd not connected, or an error reply: 503
 * service_unavailable. A client that leaves first has its call cancelled.
 * Tokens and request bodies (passwords) are wiped from our buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "ingressd.h"
#include "ipc.h"
#include "macro.h"
#include "rpc.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define AUTH_TARGET_MAX 64     /* auth.call target */
#define AUTH_BODY_MAX 65536    /* auth.call body */

_Static_assert(sizeof(((struct ipc_auth_call *)0)->target) == AUTH_TARGET_MAX + 1, "target size");

/* One auth.call waiting for authd. */
struct auth_call {
	struct ingress_call call; /* first: backend_call.c frees it */
	const struct ipc_op_info *op;
	enum ingress_auth_via via;
};

/* ---- GET /api/csrf ---------------------------------------------------------- */

/* ingress_handle_csrf - GET /api/csrf: 204 and the CSRF cookies */
void ingress_handle_csrf(struct ingress *app, struct http_exchange *ex)
{
	struct ingress_set_cookies sc;

	if (ingress_cookies_csrf(app, ex->req, &sc) < 0) {
		http_respond_error(ex, 503, "service_unavailable", "CSRF protection is not configured");
		return;
	}
	http_respond(ex, 204, NULL, NULL, 0, sc.h, sc.n);
}

/* ---- the reply --------------------------------------------------------------- */

static void s_unavailable(struct http_exchange *ex)
{
	http_respond_error(ex, 503, "service_unavailable", "accounts did not answer in time");
}

/* s_reply_cookies - the Set-Cookie lines this reply calls for */
static int s_reply_cookies(const struct auth_call *call, const struct ipc_api_reply *rep,
			   struct ingress_set_cookies *sc)
{
	const struct sembark_config *cfg = call->call.app->cfg;
	unsigned guard = ingress_guard_flags(call->op);
	bool cookies = !(guard & GUARD_NATIVE) &&
		       !((guard & GUARD_SESSION) && call->via == INGRESS_AUTH_BEARER);
	long long age;

	sc->n = 0;
	if (!cookies)
		return 0;
	if (rep->set_token[0]) {
		if (!ingress_token_valid(rep->set_token, strlen(rep->set_token)))
			return -EBADMSG;
		age = rep->has_token_max_age ? rep->token_max_age : cfg->auth.session_lifetime;
		age = MAX(MIN(age, (long long)cfg->auth.session_lifetime), 1LL);
		return ingress_cookies_login(call->call.app, rep->set_token, age, sc);
	}
	if (rep->clear_token)
		return ingress_cookies_logout(call->call.app, sc);
	return 0;
}

/* s_answer - send authd's answer on */
static void s_answer(struct auth_call *call, const struct ipc_api_reply *rep)
{
	struct http_out_header extra[INGRESS_SET_COOKIES + 1];
	struct ingress_set_cookies sc;
	char retry[24];
	size_t n;

	if (!ingress_api_reply_passes(rep, PASS_ANY_2XX) || s_reply_cookies(call, rep, &sc) < 0) {
		s_unavailable(call->call.ex);
		return;
	}
	memcpy(extra, sc.h, sc.n * sizeof(sc.h[0]));
	n = sc.n;
	if (rep->has_retry_after && rep->retry_after > 0) {
		snprintf(retry, sizeof(retry), "%lld", (long long)MIN(rep->retry_after, 86400));
		extra[n++] = (struct http_out_header){ "Retry-After", retry };
	}
	http_respond(call->call.ex, (int)rep->status, JSON_TYPE, rep->body,
		     rep->status == 204 ? 0 : rep->body_len, extra, n);
	sodium_memzero(&sc, sizeof(sc));
}

/* s_done - authd's answer, or none */
static void s_done(struct ingress_call *c, int r, enum ipc_msg_type type, const void *buf,
		   size_t len)
{
	struct auth_call *call = (struct auth_call *)c;
	struct ipc_api_reply rep;
	uint64_t id;

	if (r == 0 && type == IPC_MSG_API_REPLY && ipc_decode_api_reply(buf, len, &id, &rep) == 0) {
		s_answer(call, &rep);
		if (rep.body)
			sodium_memzero(rep.body, rep.body_len);
		sodium_memzero(rep.set_token, sizeof(rep.set_token));
		ipc_free_api_reply(&rep);
	} else {
		s_unavailable(c->ex);
	}
}

/* ---- the call --------------------------------------------------------------- */

/* s_target_ok - a path parameter that may be an id or an invite code */
static bool s_target_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= AUTH_TARGET_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~") == n;
}

/* s_start - encode auth.call and send it; answered 503 here when it cannot be sent */
static void s_start(struct auth_call *call, const struct ingress_session *s)
{
	const struct http_exchange *ex = call->call.ex;
	bool json = ex->match.route->flags & ROUTE_JSON;
	struct ipc_auth_call msg = {
		.body = json ? (char *)ex->req->body : (char *)"",
		.body_len = json ? ex->req->body_len : 0,
	};
	struct ipc_buf b;
	int r;

	snprintf(msg.op, sizeof(msg.op), "%s", call->op->wire);
	msg.deadline_ms = call->call.app->cfg->ingress.rpc_timeout_ms; /* how long we wait */
	msg.has_deadline_ms = true;
	snprintf(msg.token, sizeof(msg.token), "%s", s->token);
	if (ex->match.n_params > 0) /* s_target_ok: at most AUTH_TARGET_MAX bytes */
		memcpy(msg.target, ex->match.params[0], strlen(ex->match.params[0]) + 1);
	ipc_buf_init(&b);
	r = ipc_encode_auth_call(&b, call->call.id, &msg);
	sodium_memzero(msg.token, sizeof(msg.token));
	(void)ingress_call_start(&call->call, &b, r, "accounts are not available");
}

/* s_precheck - what is answered before authd is asked; false when answered */
static bool s_precheck(struct http_exchange *ex)
{
	if (ex->match.n_params > 0 && !s_target_ok(ex->match.params[0])) {
		http_respond_error(ex, 404, "not_found", "there is nothing at this path");
		return false;
	}
	if (ex->req->body_len > AUTH_BODY_MAX) {
		http_respond_error(ex, 413, "payload_too_large", "the request body is too large");
		return false;
	}
	return true;
}

/* ingress_handle_auth - every account route: checks, then auth.call to authd */
void ingress_handle_auth(struct ingress *app, struct http_exchange *ex)
{
	const struct ipc_op_info *op = ex->match.route->op;
	_cleanup_(ingress_session_wipe) struct ingress_session s = { 0 };
	struct auth_call *call;

	if (!ingress_guard(app, ex, ingress_guard_flags(op), &s) || !s_precheck(ex))
		return;
	call = ingress_call_new(app, ex, app->authd, sizeof(*call), s_done);
	if (call) {
		call->op = op;
		call->via = s.via;
		s_start(call, &s);
	}
	/* the body may hold passwords: ours is the parser's copy, not needed again */
	if (ex->req->body_len > 0)
		sodium_memzero((char *)ex->req->body, ex->req->body_len);
}
