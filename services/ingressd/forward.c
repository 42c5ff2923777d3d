/*
 * forward.c - sembark-ingressd's routes answered by telemetryd and logd
 * (the rows of ipc/operations.def whose daemon is telemetryd or logd:
 * POST /api/telemetry/events, GET /api/telemetry/summary, GET /api/audit),
 * one sequence for all, read from the operation's row.
 *
 * The shared checks of routes.c have run (413 over the route's body
 * limit, 405, 415, 400 for a body that is not one JSON object). Then:
 * 413 for a body over the api.call limit (JSON routes), 400 for a query
 * string over it (QUERY routes); ingress_with_identity() (session.c):
 * Origin (403), a session (401), CSRF for a cookie-authenticated POST
 * (419; a Bearer request needs none), and authd's auth.check. The identity
 * (session, user, team, role) and, as the row says, the raw query string
 * and the body go to the owning daemon as api.call {op, session_id,
 * user_id, team_id, role, query, body} with [ingress] rpc_timeout_ms. That
 * daemon checks the role and the fields; its api.reply passes through
 * when the status is 200, 4xx or 503 (202 too for ACCEPTED rows) and the
 * body is one JSON object; anything else becomes 503, as do no answer in
 * time, the daemon not connected and an "error" reply. A client that
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
	const struct ipc_op_info *op;
};

static struct rpc_client *s_client(const struct ingress *app, const struct ipc_op_info *op)
{
	return op->daemon == IPC_PEER_LOGD ? app->logd : app->telemetryd;
}

/* s_unavailable - 503 "<what the daemon serves> <why>" */
static void s_unavailable(struct http_exchange *ex, const struct ipc_op_info *op, const char *why)
{
	char msg[MESSAGE_MAX];

	snprintf(msg, sizeof(msg), "%s %s",
		 op->daemon == IPC_PEER_LOGD ? "the audit trail" : "telemetry", why);
	http_respond_error(ex, 503, "service_unavailable", msg);
}

/* s_done - the backend's api.reply passes through, or 503 */
static void s_done(struct ingress_call *c, int r, enum ipc_msg_type type, const void *buf,
		   size_t len)
{
	struct forward_call *call = (struct forward_call *)c;
	unsigned how = (call->op->flags & IPC_OPF_ACCEPTED) ? PASS_ACCEPTED : 0;
	struct ipc_api_reply rep;
	uint64_t id;

	if (r == 0 && type == IPC_MSG_API_REPLY && ipc_decode_api_reply(buf, len, &id, &rep) == 0) {
		if (ingress_api_reply_passes(&rep, how))
			http_respond(c->ex, (int)rep.status, JSON_TYPE, rep.body, rep.body_len, NULL, 0);
		else
			s_unavailable(c->ex, call->op, "did not answer in time");
		ipc_free_api_reply(&rep);
	} else {
		s_unavailable(c->ex, call->op, "did not answer in time");
	}
}

/* s_start - api.call for who; answered 503 here when it cannot be sent */
static void s_start(struct forward_call *call, const struct ipc_auth_identity *who)
{
	const struct http_request *req = call->call.ex->req;
	const struct ipc_op_info *op = call->op;
	bool body = op->flags & IPC_OPF_JSON;
	_cleanup_free_ struct ipc_api_call *msg = calloc(1, sizeof(*msg));
	char why[MESSAGE_MAX];
	struct ipc_buf b;
	int r = msg ? 0 : -ENOMEM;

	ipc_buf_init(&b);
	if (msg) {
		snprintf(msg->op, sizeof(msg->op), "%s", op->wire);
		snprintf(msg->session_id, sizeof(msg->session_id), "%s", who->session_id);
		snprintf(msg->user_id, sizeof(msg->user_id), "%s", who->user_id);
		snprintf(msg->team_id, sizeof(msg->team_id), "%s", who->team_id);
		snprintf(msg->role, sizeof(msg->role), "%s", who->role);
		snprintf(msg->query, sizeof(msg->query), "%s",
			 (op->flags & IPC_OPF_QUERY) ? req->query : "");
		msg->body = body ? (char *)req->body : (char *)"";
		msg->body_len = body ? req->body_len : 0;
		r = ipc_encode_api_call(&b, call->call.id, msg);
	}
	snprintf(why, sizeof(why), "%s", op->daemon == IPC_PEER_LOGD ? "the audit trail is not available"
								      : "telemetry is not available");
	(void)ingress_call_start(&call->call, &b, r, why);
}

/* ingress_forward_call - api.call op for who; its api.reply (or a 503) answers ex */
void ingress_forward_call(struct ingress *app, struct http_exchange *ex,
			  const struct ipc_op_info *op, const struct ipc_auth_identity *who)
{
	struct forward_call *call =
		ingress_call_new(app, ex, s_client(app, op), sizeof(*call), s_done);

	if (!call)
		return;
	call->op = op;
	s_start(call, who);
}

static void s_with_identity(struct ingress *app, struct http_exchange *ex,
			    const struct ipc_auth_identity *who, void *userdata)
{
	ingress_forward_call(app, ex, userdata, who);
}

/* s_limits - the api.call's own limits: 413 for the body, 400 for the query string */
static bool s_limits(struct http_exchange *ex, const struct ipc_op_info *op)
{
	if ((op->flags & IPC_OPF_JSON) && ex->req->body_len > INGRESS_API_BODY_MAX) {
		http_respond_error(ex, 413, "payload_too_large", "the request body is too large");
		return false;
	}
	if ((op->flags & IPC_OPF_QUERY) && strlen(ex->req->query) > INGRESS_API_QUERY_MAX) {
		http_respond_error(ex, 400, "bad_request", "the query string is too long");
		return false;
	}
	return true;
}

/* ingress_handle_forward - a telemetryd or logd route: limits, identity, api.call */
void ingress_handle_forward(struct ingress *app, struct http_exchange *ex)
{
	const struct ipc_op_info *op = ex->match.route->op;

	if (s_limits(ex, op))
		ingress_with_identity(app, ex, ingress_guard_flags(op), s_with_identity, (void *)op);
}
