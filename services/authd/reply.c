/*
 * reply.c - how sembark-authd answers an auth.call: one api.reply frame
 * (runtime/api_reply.c) holding the HTTP status, the JSON body (jansson,
 * compact, UTF-8) and the cookie instructions for ingressd (set_token +
 * token_max_age, clear_token, retry_after). Error bodies have API.md's shapes:
 * {"error","message"} and, for 422, {"error":"validation_failed",
 * "message","fields":{...}}. Loop thread only.
 *
 * Every reply function takes the request by reference and sets it to
 * NULL, so a second reply to one request cannot happen by accident. A
 * frame that cannot be built (out of memory) still gets an answer: an
 * rpc error, which ingressd turns into 503.
 */
#include <errno.h>
#include <stdlib.h>

#include <jansson.h>

#include "api_reply.h"
#include "authd.h"
#include "log.h"

/* authd_reply - api.reply{status, body (stolen JSON; NULL = empty), extra} */
void authd_reply(struct rpc_request **req, int status, struct json_t *body,
		 const struct authd_reply_extra *extra)
{
	struct ipc_api_reply_extra x = { 0 };
	int r;

	if (!req || !*req) {
		json_decref(body);
		return;
	}
	if (extra)
		x = (struct ipc_api_reply_extra){ .set_token = extra->set_token,
						  .token_max_age = extra->token_max_age,
						  .clear_token = extra->clear_token,
						  .retry_after = extra->retry_after };
	r = ipc_api_reply_send(*req, status, body, extra ? &x : NULL);
	*req = NULL;
	json_decref(body);
	if (r < 0)
		log_error_errno(r, "cannot encode an api.reply", LOG_I("status", status));
}

static json_t *s_error_body(const char *code, const char *message)
{
	return json_pack("{s:s, s:s}", "error", code, "message", message);
}

/* authd_reply_error - {"error": code, "message": message} with status */
void authd_reply_error(struct rpc_request **req, int status, const char *code,
		       const char *message)
{
	authd_reply(req, status, s_error_body(code, message), NULL);
}

/* authd_reply_invalid - 422 validation_failed with fields (stolen) */
void authd_reply_invalid(struct rpc_request **req, struct json_t *fields)
{
	json_t *body = s_error_body("validation_failed", "some fields are not valid");

	if (body && fields)
		json_object_set(body, "fields", fields);
	json_decref(fields);
	authd_reply(req, 422, body, NULL);
}

/* authd_reply_db - a database failure r (sqlstate: of an SQL error): logged, answered 503 */
void authd_reply_db(struct rpc_request **req, int r, const char *sqlstate, const char *what)
{
	if (r == -ENOTCONN)
		log_debug("database unavailable", LOG_S("during", what));
	else if (r == -ETIMEDOUT)
		log_warning("database statement timed out", LOG_S("during", what));
	else
		log_error_errno(r, "database statement failed", LOG_S("during", what),
				LOG_S("sqlstate", sqlstate ? sqlstate : ""));
	authd_reply_error(req, 503, "service_unavailable",
			  "the service is temporarily unavailable, try again");
}

/* authd_reply_unauthenticated - 401 unauthenticated; clears a cookie that was sent */
void authd_reply_unauthenticated(struct rpc_request **req, bool had_token)
{
	struct authd_reply_extra x = { .clear_token = had_token };

	authd_reply(req, 401,
		    s_error_body("unauthenticated", "a session is required: log in first"), &x);
}

/* authd_reply_throttled - 429 too_many_requests with retry_after */
void authd_reply_throttled(struct rpc_request **req, int64_t retry_after)
{
	struct authd_reply_extra x = { .retry_after = retry_after > 0 ? retry_after : 1 };
	json_t *body = s_error_body("too_many_requests",
				    "too many failed sign-in attempts, try again later");

	if (body)
		json_object_set_new(body, "retry_after", json_integer(x.retry_after));
	authd_reply(req, 429, body, &x);
}

/* authd_reply_signed_in - status {"user","team"} (+ body's members) with s's new session cookie */
void authd_reply_signed_in(struct authd *a, struct rpc_request **req,
			   const struct authd_session *s, const char *token, int status,
			   struct json_t *body)
{
	/* The row's life began a few milliseconds ago: whole seconds below
	 * the lifetime keep Max-Age within the session's remaining life. */
	struct authd_reply_extra x = {
		.set_token = token,
		.token_max_age = MAX(a->b.d.cfg.auth.session_lifetime - 1, 1),
	};

	if (body) {
		json_object_set_new(body, "user", authd_json_user(s));
		json_object_set_new(body, "team", authd_json_team(s));
	}
	authd_reply(req, status, body, &x);
	authd_signal(a, "sign_in", s->user_id, s->team_id);
}

/* authd_json_user - {id, email, name, role} of s */
struct json_t *authd_json_user(const struct authd_session *s)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "id", s->user_id, "email", s->email, "name",
			 s->name, "role", s->role);
}

/* authd_json_team - {id, name} of s's team */
struct json_t *authd_json_team(const struct authd_session *s)
{
	return json_pack("{s:s, s:s}", "id", s->team_id, "name", s->team_name);
}
