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

/* s_authenticate - the caller's session and role; replies when refused */
static int s_authenticate(struct authd_ctx *c)
{
	int r;

	r = authd_session_lookup(c->a, c->token, &c->s);
	if (r == -ENOENT) {
		authd_reply_unauthenticated(&c->req, c->token[0] != '\0');
		return r;
	}
	if (r < 0) {
		authd_reply_db(&c->req, r, c->a, "session lookup");
		return r;
	}
	if (!ipc_op_allows(c->op->who, c->s.role)) {
		log_info("access denied", LOG_S("op", c->op->wire), LOG_S("user_id", c->s.user_id),
			 LOG_S("role", c->s.role));
		authd_reply_error(&c->req, 403, "forbidden", "your role does not allow this");
		return -EPERM;
	}
	return 0;
}

/* s_call - one decoded auth.call, answered exactly once */
static void s_call(struct authd *a, struct rpc_request *req, const struct ipc_auth_call *m)
{
	struct authd_ctx c = { .a = a, .req = req, .token = m->token, .target = m->target };

	c.op = authd_op_find(m->op);
	if (!c.op) {
		log_debug("auth.call of an unknown op", LOG_S("op", m->op));
		authd_reply_error(&c.req, 404, "not_found", "no such operation");
		return;
	}
	if ((c.op->flags & IPC_OPF_JSON) && s_parse_body(m, &c.body) < 0) {
		authd_reply_error(&c.req, 400, "bad_request", "the body must be a JSON object");
		return;
	}
	if (c.op->who == IPC_WHO_ANYONE || s_authenticate(&c) == 0)
		s_handlers[c.op->op](&c);
	json_decref(c.body);
	if (c.req)
		abort(); /* an op returned without answering: our bug */
	sodium_memzero(&c.s, sizeof(c.s));
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

/* authd_handle_check - decode auth.check, answer auth.identity or error */
void authd_handle_check(struct backend *b, struct rpc_request *req, const void *buf, size_t len)
{
	struct authd_session s;
	struct ipc_auth_check m;
	uint64_t id;
	int r;

	if (ipc_decode_auth_check(buf, len, &id, &m) < 0) {
		(void)rpc_reply_error(req, "bad_message", "malformed auth.check");
		return;
	}
	r = authd_session_lookup(b->owner, m.token, &s);
	sodium_memzero(m.token, sizeof(m.token));
	ipc_free_auth_check(&m);
	if (r == -ENOENT)
		(void)rpc_reply_error(req, "unauthenticated", "no live session for this token");
	else if (r < 0)
		(void)rpc_reply_error(req, "unavailable", "the database is unavailable");
	else
		s_reply_identity(req, &s);
}
