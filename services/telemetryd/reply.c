/*
 * reply.c - how sembark-telemetryd answers an api.call from ingressd: one
 * api.reply frame {status, body} (runtime/api_reply.c) whose body is the JSON
 * text ingressd sends to the HTTP client as is. Every function here
 * consumes the request (rpc_reply frees it), so each request is answered
 * exactly once.
 * If the frame cannot be built, the request still gets an "error" reply,
 * which ingressd turns into 503.
 */
#include "api_reply.h"
#include "telemetryd.h"

/* telemetryd_reply_json - api.reply {status, body = JSON text of body}; frees req */
void telemetryd_reply_json(struct rpc_request *req, int status, json_t *body)
{
	if (!body) {
		(void)rpc_reply_error(req, "internal", "out of memory");
		return;
	}
	(void)ipc_api_reply_send(req, status, body, NULL);
}

/* telemetryd_reply_error - api.reply {status, {"error","message"}}; frees req */
void telemetryd_reply_error(struct rpc_request *req, int status, const char *code,
			    const char *message)
{
	(void)ipc_api_reply_error(req, status, code, message);
}

/* telemetryd_reply_unavailable - api.reply 503 service_unavailable; frees req */
void telemetryd_reply_unavailable(struct rpc_request *req)
{
	telemetryd_reply_error(req, 503, "service_unavailable",
			       "telemetry storage is unavailable; try again");
}
