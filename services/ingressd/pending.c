/*
 * pending.c - sembark-ingressd's handlers for API routes whose backend
 * is not wired yet. The routes are in the table already so that the
 * shared checks (413, 415, 400) answer on them exactly as they will later;
 * a request that passes those checks is told 503 service_unavailable.
 */
#include "ingressd.h"

/* ingress_handle_accounts_pending - account routes until authd serves them: 503 */
void ingress_handle_accounts_pending(struct ingress *app, struct http_exchange *ex)
{
	http_respond_error(ex, 503, "service_unavailable", "accounts are not available yet");
}

/* ingress_handle_telemetry_pending - telemetry until telemetryd serves it: 503 */
void ingress_handle_telemetry_pending(struct ingress *app, struct http_exchange *ex)
{
	http_respond_error(ex, 503, "service_unavailable", "telemetry is not available yet");
}
