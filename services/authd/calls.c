/*
 * calls.c - sembark-authd's front door for HTTP API operations: the
 * handler of each row of ipc/operations.def that authd owns, the auth.call
 * handler that decodes the frame, parses the body with jansson, resolves
 * the caller's session and checks the row's WHO before the handler runs,
 * and the auth.check handler ingressd uses for the routes of the other
 * daemons. Peer: ingressd (DEALER -> our ROUTER). Loop thread. The
 * helpers every handler uses are in fields.c, password jobs in pw_job.c.
 *
 * Order of checks for every call: unknown op (404), body not a JSON
 * object (400), no live session (401), role too low (403), then the op
 * itself (its 404 / 422 / 409 ...). The request frame's body and token
 * are wiped before they are freed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"

/* authd's handler of each row of ipc/operations.def (NULL: another daemon's) */
static const authd_op_fn s_handlers[_IPC_OP_MAX] = {
#define IPC_OP(e, stem, wire, method, path, daemon, who, flags) \
	[IPC_OP_##e] = IPC_OP_HANDLER(authd, daemon, stem),
#include "operations.def"
#undef IPC_OP
};

/* authd_op_find - authd's operation of this wire name, NULL when unknown or another's */
const struct ipc_op_info *authd_op_find(const char *wire)
{
	enum ipc_op op = ipc_op_from_wire(wire);

	return op >= 0 && s_handlers[op] ? &ipc_ops[op] : NULL;
}

/* s_parse_body - the JSON object of an op that takes one ("" counts as {}) */
static int s_parse_body(const struct ipc_auth_call *m, json_t **ret)
{
	json_error_t err;
	json_t *v;

	if (m->body_len == 0)
		v = json_object();
	else
		v = json_loadb(m->body, m->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!v)
		return -EBADMSG;
	if (!json_is_object(v)) {
		json_decref(v);
		return -EBADMSG;
	}
	*ret = v;
	return 0;
}

/* s_deadline_us - when the caller stops waiting: its deadline_ms, else ingressd's wait, 1..60 s */
static int64_t s_deadline_us(const struct authd *a, const struct ipc_auth_call *m)
{
	int64_t ms = m->has_deadline_ms ? m->deadline_ms : a->b.d.cfg.ingress.rpc_timeout_ms;

	return mono_us() + MIN(MAX(ms, (int64_t)1), (int64_t)60000) * 1000;
}

/* s_ctx_free - the call is over: its body and secrets go (the task's free) */
static void s_ctx_free(struct authd_task *t)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	json_decref(c->body);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* s_admit - the lookup's answer: true when the caller may run the op; else answered */
static bool s_admit(struct authd_ctx *c, int r)
{
	if (r == -ENOENT) {
		authd_reply_unauthenticated(&c->req, c->token[0] != '\0');
		return false;
	}
	if (r < 0) {
		authd_reply_error(&c->req, 503, "service_unavailable",
				  "the service is temporarily unavailable, try again");
		return false;
	}
	if (c->s.two_factor_pending && !(c->op->flags & IPC_OPF_BEFORE_2FA)) {
		authd_reply_error(&c->req, 403, "two_factor_enrolment_required",
				  "your team requires two-factor login: turn it on in your account first");
		return false;
	}
	if (!ipc_op_allows(c->op->who, c->s.role)) {
		log_info("access denied", LOG_S("op", c->op->wire), LOG_S("user_id", c->s.user_id),
			 LOG_S("role", c->s.role));
		authd_reply_error(&c->req, 403, "forbidden", "your role does not allow this");
		return false;
	}
	return true;
}

/* s_authenticated - the caller's session is known (or not): run the op, or refuse */
static void s_authenticated(int r, const struct authd_session *s, void *userdata)
{
	struct authd_ctx *c = userdata;

	if (r == 0)
		c->s = *s;
	if (s_admit(c, r))
		s_handlers[c->op->op](c);
	authd_task_settle(&c->t);
}

/* s_call - one decoded auth.call, answered exactly once (maybe after the session lookup) */
static void s_call(struct authd *a, struct rpc_request *req, const struct ipc_auth_call *m)
{
	struct authd_ctx *c = calloc(1, sizeof(*c));

	if (!c) {
		(void)rpc_reply_error(req, "internal", "out of memory");
		return;
	}
	*c = (struct authd_ctx){ .a = a, .req = req, .deadline_us = s_deadline_us(a, m) };
	c->t = (struct authd_task){ .a = a, .reqp = &c->req, .deadline_us = c->deadline_us,
				    .free = s_ctx_free };
	snprintf(c->token_buf, sizeof(c->token_buf), "%s", m->token);
	snprintf(c->target_buf, sizeof(c->target_buf), "%s", m->target);
	c->token = c->token_buf;
	c->target = c->target_buf;
	c->op = authd_op_find(m->op);
	if (!c->op) {
		log_debug("auth.call of an unknown op", LOG_S("op", m->op));
		authd_reply_error(&c->req, 404, "not_found", "no such operation");
	} else if ((c->op->flags & IPC_OPF_JSON) && s_parse_body(m, &c->body) < 0) {
		authd_reply_error(&c->req, 400, "bad_request", "the body must be a JSON object");
	} else if (c->op->who != IPC_WHO_ANYONE) {
		authd_session_find(a, c->token, s_authenticated, c); /* settles c */
		return;
	} else {
		s_handlers[c->op->op](c);
	}
	authd_task_settle(&c->t); /* now, or when its last statement answered */
}

/* authd_handle_call - decode auth.call, check session and role, run the op */
void authd_handle_call(struct backend *b, struct rpc_request *req, const void *buf, size_t len)
{
	struct ipc_auth_call m;
	uint64_t id;

	if (ipc_decode_auth_call(buf, len, &id, &m) < 0) {
		(void)rpc_reply_error(req, "bad_message", "malformed auth.call");
		return;
	}
	s_call(b->owner, req, &m);
	if (m.body)
		sodium_memzero(m.body, m.body_len);
	sodium_memzero(m.token, sizeof(m.token));
	sodium_memzero(m.target, sizeof(m.target));
	ipc_free_auth_call(&m);
}

static void s_reply_identity(struct rpc_request *req, const struct authd_session *s)
{
	struct ipc_auth_identity m = { 0 };
	struct ipc_buf out;

	snprintf(m.session_id, sizeof(m.session_id), "%s", s->id);
	snprintf(m.user_id, sizeof(m.user_id), "%s", s->user_id);
	snprintf(m.team_id, sizeof(m.team_id), "%s", s->team_id);
	snprintf(m.email, sizeof(m.email), "%s", s->email);
	snprintf(m.role, sizeof(m.role), "%s", s->role);
	ipc_buf_init(&out);
	if (ipc_encode_auth_identity(&out, rpc_request_id(req), &m) < 0)
		(void)rpc_reply_error(req, "internal", "cannot encode auth.identity");
	else
		(void)rpc_reply(req, out.data, out.size);
	ipc_buf_done(&out);
}

/* s_checked - auth.check's answer: the identity, or an error */
static void s_checked(int r, const struct authd_session *s, void *userdata)
{
	struct rpc_request *req = userdata;

	if (r == -ENOENT)
		(void)rpc_reply_error(req, "unauthenticated", "no live session for this token");
	else if (r == 0 && s->two_factor_pending)
		(void)rpc_reply_error(req, "two_factor_pending", "two-factor login must be turned on first");
	else if (r < 0)
		(void)rpc_reply_error(req, "unavailable", "the database is unavailable");
	else
		s_reply_identity(req, s);
}

/* authd_handle_check - decode auth.check, answer auth.identity or error (after the lookup) */
void authd_handle_check(struct backend *b, struct rpc_request *req, const void *buf, size_t len)
{
	struct ipc_auth_check m;
	uint64_t id;

	if (ipc_decode_auth_check(buf, len, &id, &m) < 0) {
		(void)rpc_reply_error(req, "bad_message", "malformed auth.check");
		return;
	}
	authd_session_find(b->owner, m.token, s_checked, req);
	sodium_memzero(m.token, sizeof(m.token));
	ipc_free_auth_check(&m);
}
