/*
 * forward.c - sembark-ingressd's api.call routes (telemetry to
 * telemetryd, the audit trail to logd): one sequence for all, each route
 * described by a struct ingress_forward. The route has checked its own
 * limits (query string, body size) before or after the identity.
 *
 * ingress_with_identity() (session.c): Origin (403), a session (401),
 * CSRF for a cookie-authenticated POST (419), and authd's auth.check. The
 * identity (session, user, team, role) and, as the route says, the raw
 * query string and the body go to the backend as api.call {op,
 * session_id, user_id, team_id, role, query, body} with [ingress]
 * rpc_timeout_ms. Its api.reply passes through when the status is 200,
 * 4xx or 503 (202 too with FORWARD_ACCEPTED) and the body is one JSON
 * object; anything else becomes 503, as do no answer in time, the backend
 * not connected (-EAGAIN, -ENOTCONN) and an "error" reply. A client that
 * leaves first has its call cancelled. Nothing of the client (address,
 * token) is passed on, and nothing here looks inside the body.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ingressd.h"
#include "ipc.h"
#include "macro.h"
#include "rpc.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define MESSAGE_MAX 128

_Static_assert(sizeof(((struct ipc_api_call *)0)->query) == INGRESS_API_QUERY_MAX + 1,
	       "query size");

/* One api.call waiting for its backend. */
struct forward_call {
	struct ingress_call call; /* first: backend_call.c frees it */
	const struct ingress_forward *fw;
};

static struct rpc_client *s_client(const struct ingress *app, enum ingress_backend b)
{
	return b == INGRESS_BACKEND_LOGD ? app->logd : app->telemetryd;
}

/* s_unavailable - 503 "<name> <why>" */
static void s_unavailable(struct http_exchange *ex, const struct ingress_forward *fw,
			  const char *why)
{
	char msg[MESSAGE_MAX];

	snprintf(msg, sizeof(msg), "%s %s", fw->name, why);
	http_respond_error(ex, 503, "service_unavailable", msg);
}

/* s_done - the backend's api.reply passes through, or 503 */
static void s_done(struct ingress_call *c, int r, enum ipc_msg_type type, const void *buf,
		   size_t len)
{
	struct forward_call *call = (struct forward_call *)c;
	unsigned how = (call->fw->flags & FORWARD_ACCEPTED) ? PASS_ACCEPTED : 0;
	struct ipc_api_reply rep;
	uint64_t id;

	if (r == 0 && type == IPC_MSG_API_REPLY && ipc_decode_api_reply(buf, len, &id, &rep) == 0) {
		if (ingress_api_reply_passes(&rep, how))
			http_respond(c->ex, (int)rep.status, JSON_TYPE, rep.body, rep.body_len, NULL, 0);
		else
			s_unavailable(c->ex, call->fw, "did not answer in time");
		ipc_free_api_reply(&rep);
	} else {
		s_unavailable(c->ex, call->fw, "did not answer in time");
	}
}

/* s_start - api.call for who; answered 503 here when it cannot be sent */
static void s_start(struct forward_call *call, const struct ipc_auth_identity *who)
{
	const struct http_request *req = call->call.ex->req;
	const struct ingress_forward *fw = call->fw;
	bool body = fw->flags & FORWARD_BODY;
	_cleanup_free_ struct ipc_api_call *msg = calloc(1, sizeof(*msg));
	char why[MESSAGE_MAX];
	struct ipc_buf b;
	int r = msg ? 0 : -ENOMEM;

	ipc_buf_init(&b);
	if (msg) {
		snprintf(msg->op, sizeof(msg->op), "%s", fw->op);
		snprintf(msg->session_id, sizeof(msg->session_id), "%s", who->session_id);
		snprintf(msg->user_id, sizeof(msg->user_id), "%s", who->user_id);
		snprintf(msg->team_id, sizeof(msg->team_id), "%s", who->team_id);
		snprintf(msg->role, sizeof(msg->role), "%s", who->role);
		snprintf(msg->query, sizeof(msg->query), "%s",
			 (fw->flags & FORWARD_QUERY) ? req->query : "");
		msg->body = body ? (char *)req->body : (char *)"";
		msg->body_len = body ? req->body_len : 0;
		r = ipc_encode_api_call(&b, call->call.id, msg);
	}
	snprintf(why, sizeof(why), "%s is not available", fw->name);
	(void)ingress_call_start(&call->call, &b, r, why);
}

/* ingress_forward_call - api.call fw->op for who; its api.reply (or a 503) answers ex */
void ingress_forward_call(struct ingress *app, struct http_exchange *ex,
			  const struct ingress_forward *fw, const struct ipc_auth_identity *who)
{
	struct forward_call *call =
		ingress_call_new(app, ex, s_client(app, fw->backend), sizeof(*call), s_done);

	if (!call)
		return;
	call->fw = fw;
	s_start(call, who);
}

static void s_with_identity(struct ingress *app, struct http_exchange *ex,
			    const struct ipc_auth_identity *who, void *userdata)
{
	ingress_forward_call(app, ex, userdata, who);
}

/* ingress_forward - the caller's identity (ingress_with_identity), then ingress_forward_call */
void ingress_forward(struct ingress *app, struct http_exchange *ex,
		     const struct ingress_forward *fw)
{
	ingress_with_identity(app, ex, 0, s_with_identity, (void *)fw);
}
