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

/* One call waiting for its backend. */
struct forward_call {
	struct ingress *app;
	struct http_exchange *ex;
	const struct ingress_forward *fw;
	struct rpc_client *to;
	uint64_t id;
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

static bool s_status_ok(const struct ingress_forward *fw, int64_t status)
{
	return status == 200 || (status == 202 && (fw->flags & FORWARD_ACCEPTED)) ||
	       (status >= 400 && status < 500) || status == 503;
}

static bool s_body_ok(const struct ipc_api_reply *rep)
{
	json_t *j = json_loadb(rep->body, rep->body_len, JSON_REJECT_DUPLICATES, NULL);
	bool ok = json_is_object(j);

	json_decref(j);
	return ok;
}

static void s_reply(int r, enum ipc_msg_type type, const void *buf, size_t len, void *userdata)
{
	struct forward_call *call = userdata;
	struct ipc_api_reply rep;
	uint64_t id;

	http_exchange_on_abort(call->ex, NULL, NULL);
	if (r == 0 && type == IPC_MSG_API_REPLY && ipc_decode_api_reply(buf, len, &id, &rep) == 0) {
		if (s_status_ok(call->fw, rep.status) && s_body_ok(&rep))
			http_respond(call->ex, (int)rep.status, JSON_TYPE, rep.body, rep.body_len,
				     NULL, 0);
		else
			s_unavailable(call->ex, call->fw, "did not answer in time");
		ipc_free_api_reply(&rep);
	} else {
		s_unavailable(call->ex, call->fw, "did not answer in time");
	}
	free(call);
}

static void s_abort(void *userdata)
{
	struct forward_call *call = userdata;

	rpc_cancel(call->to, call->id);
	free(call);
}

/* s_send - api.call for who; -errno when it could not be sent */
static int s_send(struct forward_call *call, const struct ipc_auth_identity *who)
{
	const struct http_request *req = call->ex->req;
	bool body = call->fw->flags & FORWARD_BODY;
	_cleanup_free_ struct ipc_api_call *msg = calloc(1, sizeof(*msg));
	struct ipc_buf b;
	int r;

	if (!msg)
		return -ENOMEM;
	if (!call->to)
		return -ENOTCONN;
	snprintf(msg->op, sizeof(msg->op), "%s", call->fw->op);
	snprintf(msg->session_id, sizeof(msg->session_id), "%s", who->session_id);
	snprintf(msg->user_id, sizeof(msg->user_id), "%s", who->user_id);
	snprintf(msg->team_id, sizeof(msg->team_id), "%s", who->team_id);
	snprintf(msg->role, sizeof(msg->role), "%s", who->role);
	snprintf(msg->query, sizeof(msg->query), "%s",
		 (call->fw->flags & FORWARD_QUERY) ? req->query : "");
	msg->body = body ? (char *)req->body : (char *)"";
	msg->body_len = body ? req->body_len : 0;
	ipc_buf_init(&b);
	call->id = rpc_next_id(call->to);
	r = ipc_encode_api_call(&b, call->id, msg);
	if (r >= 0)
		r = rpc_call(call->to, call->id, b.data, b.size,
			     call->app->cfg->ingress.rpc_timeout_ms, s_reply, call);
	if (r < 0)
		rpc_cancel(call->to, call->id); /* no callback may come later */
	ipc_buf_done(&b);
	return r;
}

/* ingress_forward_call - api.call fw->op for who; its api.reply (or a 503) answers ex */
void ingress_forward_call(struct ingress *app, struct http_exchange *ex,
			  const struct ingress_forward *fw, const struct ipc_auth_identity *who)
{
	struct forward_call *call = calloc(1, sizeof(*call));

	if (!call) {
		http_respond_error(ex, 503, "service_unavailable", "temporarily out of resources");
		return;
	}
	*call = (struct forward_call){
		.app = app, .ex = ex, .fw = fw, .to = s_client(app, fw->backend),
	};
	if (s_send(call, who) < 0) {
		free(call);
		s_unavailable(ex, fw, "is not available");
		return;
	}
	http_exchange_on_abort(ex, s_abort, call);
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
