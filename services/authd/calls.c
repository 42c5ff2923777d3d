/*
 * calls.c - sembark-authd's front door for HTTP API operations: the op
 * table (op name -> handler, who may call it, whether it takes a JSON
 * body), the auth.call handler that decodes the frame, parses the body
 * with jansson, resolves the caller's session and checks the role before
 * the op runs, and the auth.check handler ingressd uses for the routes of
 * the other daemons. Peer: ingressd (DEALER -> our ROUTER). Loop thread.
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

static const struct authd_op s_ops[] = {
	{ "signup", AUTHD_ACCESS_ANYONE, true, authd_op_signup },
	{ "invite.get", AUTHD_ACCESS_ANYONE, false, authd_op_invite_get },
	{ "invite.accept", AUTHD_ACCESS_ANYONE, true, authd_op_invite_accept },
	{ "login", AUTHD_ACCESS_ANYONE, true, authd_op_login },
	{ "token", AUTHD_ACCESS_ANYONE, true, authd_op_token },
	{ "logout", AUTHD_ACCESS_SESSION, false, authd_op_logout },
	{ "me", AUTHD_ACCESS_SESSION, false, authd_op_me },
	{ "password", AUTHD_ACCESS_SESSION, true, authd_op_password },
	{ "sessions", AUTHD_ACCESS_SESSION, false, authd_op_sessions },
	{ "session.revoke", AUTHD_ACCESS_SESSION, false, authd_op_session_revoke },
	{ "sessions.revoke_others", AUTHD_ACCESS_SESSION, false, authd_op_sessions_revoke_others },
	{ "team", AUTHD_ACCESS_SESSION, false, authd_op_team },
	{ "team.invite", AUTHD_ACCESS_ADMIN, false, authd_op_team_invite },
	{ "team.invite.rotate", AUTHD_ACCESS_ADMIN, false, authd_op_team_invite_rotate },
	{ "member.update", AUTHD_ACCESS_OWNER, true, authd_op_member_update },
	{ "member.remove", AUTHD_ACCESS_ADMIN, false, authd_op_member_remove },
};

/* authd_op_find - the op called name, NULL when unknown */
const struct authd_op *authd_op_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(s_ops); i++)
		if (strcmp(s_ops[i].name, name) == 0)
			return &s_ops[i];
	return NULL;
}

/* authd_role_rank - owner 3, admin 2, member 1, anything else 0 */
int authd_role_rank(const char *role)
{
	if (strcmp(role, "owner") == 0)
		return 3;
	if (strcmp(role, "admin") == 0)
		return 2;
	if (strcmp(role, "member") == 0)
		return 1;
	return 0;
}

/* authd_get_texts - columns 0..n-1 of row into cols; 0 or the first db_get_text error */
int authd_get_texts(const PGresult *res, int row, const struct authd_col *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = db_get_text(res, row, (int)i, cols[i].buf, cols[i].size);

		if (r < 0)
			return r;
	}
	return 0;
}

/* authd_field_set - fields[key] = why, keeping the first reason per key */
void authd_field_set(struct json_t *fields, const char *key, const char *why)
{
	if (fields && !json_object_get(fields, key))
		json_object_set_new(fields, key, json_string(why));
}

/* authd_field_str - body[key] as a string, or NULL after noting why not */
const char *authd_field_str(struct json_t *body, const char *key, struct json_t *fields,
			    bool optional, size_t *ret_len)
{
	json_t *v = body ? json_object_get(body, key) : NULL;

	if (!v || json_is_null(v)) {
		if (!optional)
			authd_field_set(fields, key, "is required");
		return NULL;
	}
	if (!json_is_string(v)) {
		authd_field_set(fields, key, "must be a string");
		return NULL;
	}
	if (ret_len)
		*ret_len = json_string_length(v);
	return json_string_value(v);
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

static bool s_allowed(const struct authd_ctx *c)
{
	static const int need[_AUTHD_ACCESS_MAX] = {
		[AUTHD_ACCESS_ANYONE] = 0,
		[AUTHD_ACCESS_SESSION] = 1,
		[AUTHD_ACCESS_ADMIN] = 2,
		[AUTHD_ACCESS_OWNER] = 3,
	};

	return authd_role_rank(c->s.role) >= need[c->op->access];
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
	if (!s_allowed(c)) {
		log_info("access denied", LOG_S("op", c->op->name), LOG_S("user_id", c->s.user_id),
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
	if (c.op->body && s_parse_body(m, &c.body) < 0) {
		authd_reply_error(&c.req, 400, "bad_request", "the body must be a JSON object");
		return;
	}
	if (c.op->access == AUTHD_ACCESS_ANYONE || s_authenticate(&c) == 0)
		c.op->fn(&c);
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
