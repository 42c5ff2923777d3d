/*
 * audit_routes.c - sembark-ingressd's GET /api/audit?limit=N&before=CURSOR
 * (API.md "Audit trail and retention"), answered by sembark-logd.
 *
 * ingress_with_identity() (session.c) resolves the caller: a session by
 * cookie or Bearer (401 without one), then authd's auth.check. A query
 * string over the api.call limit is then 400. The identity (session,
 * user, team, role) and the raw query string go to logd as api.call {op
 * "audit.list"} (forward.c). logd checks the role (403 for a member), the
 * query (422 fields.limit / fields.before) and reads that team's trail;
 * its api.reply passes through when it is 200, 4xx or 503 with a JSON
 * object body. Anything else becomes 503: no answer in time, logd not
 * connected, an "error" reply. Nothing of the client (address, token) is
 * passed on.
 */
#include <string.h>

#include "ingressd.h"

static const struct ingress_forward s_audit_list = {
	.backend = INGRESS_BACKEND_LOGD,
	.op = "audit.list",
	.name = "the audit trail",
	.flags = FORWARD_QUERY,
};

/* s_list - the caller is known: hand the query to logd */
static void s_list(struct ingress *app, struct http_exchange *ex,
		   const struct ipc_auth_identity *who, void *userdata)
{
	if (strlen(ex->req->query) > INGRESS_API_QUERY_MAX) {
		http_respond_error(ex, 400, "bad_request", "the query string is too long");
		return;
	}
	ingress_forward_call(app, ex, &s_audit_list, who);
}

/* ingress_handle_audit - GET /api/audit: session, auth.check, api.call to logd */
void ingress_handle_audit(struct ingress *app, struct http_exchange *ex)
{
	ingress_with_identity(app, ex, 0, s_list, NULL);
}
