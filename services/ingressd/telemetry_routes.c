/*
 * telemetry_routes.c - sembark-ingressd's telemetry API (API.md
 * "Telemetry"): POST /api/telemetry/events and GET /api/telemetry/summary,
 * each an api.call to telemetryd (forward.c).
 *
 * For each route: the shared checks of routes.c have run (413 over
 * [ingress] max_telemetry_body for the events route, 405, 415, 400 for a
 * body that is not one JSON object); then 413 for a body over the
 * api.call limit (events) or 400 for a query string over it (summary);
 * then ingress_forward(): Origin (403), a session (401), CSRF for a
 * cookie-authenticated POST (419; a Bearer request needs none), authd's
 * auth.check, and api.call {op, session_id, user_id, team_id, role,
 * query, body}. telemetryd validates the batch and the role, and its
 * api.reply (status and JSON body) passes through: 202 only once the
 * events are committed. A status other than 200, 202, 4xx or 503, or a
 * body that is not a JSON object, becomes 503; so do no answer in time,
 * telemetryd not connected and an "error" reply. Nothing here looks
 * inside the events; the client address is never passed on.
 */
#include <string.h>

#include "ingressd.h"

static const struct ingress_forward s_ingest = {
	.backend = INGRESS_BACKEND_TELEMETRYD,
	.op = "telemetry.ingest",
	.name = "telemetry",
	.flags = FORWARD_BODY | FORWARD_ACCEPTED,
};

static const struct ingress_forward s_summary = {
	.backend = INGRESS_BACKEND_TELEMETRYD,
	.op = "telemetry.summary",
	.name = "telemetry",
	.flags = FORWARD_QUERY | FORWARD_ACCEPTED,
};

/* ingress_handle_telemetry_events - POST /api/telemetry/events: session, CSRF, api.call */
void ingress_handle_telemetry_events(struct ingress *app, struct http_exchange *ex)
{
	if (ex->req->body_len > INGRESS_API_BODY_MAX) {
		http_respond_error(ex, 413, "payload_too_large", "the request body is too large");
		return;
	}
	ingress_forward(app, ex, &s_ingest);
}

/* ingress_handle_telemetry_summary - GET /api/telemetry/summary?days=N: owner/admin */
void ingress_handle_telemetry_summary(struct ingress *app, struct http_exchange *ex)
{
	if (strlen(ex->req->query) > INGRESS_API_QUERY_MAX) {
		http_respond_error(ex, 400, "bad_request", "the query string is too long");
		return;
	}
	ingress_forward(app, ex, &s_summary);
}
