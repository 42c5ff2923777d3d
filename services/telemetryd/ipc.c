/*
 * ipc.c - sembark-telemetryd's dispatch table: one handler per message type
 * it serves on its ROUTER ([ipc] telemetryd). shared/backend.c has already
 * checked the envelope and the peer graph, answers ping, and answers
 * "unknown_type" for a type with no entry here. Each handler decodes its
 * body strictly and replies exactly once (now, or after the commit).
 *
 *   api.call          from ingressd: op "telemetry.ingest" (ingest.c) or
 *                     "telemetry.summary" (summary.c) -> api.reply
 *   telemetry.signal  from authd: sign_in / sign_out (signal.c) -> ack
 */
#include <stdlib.h>
#include <string.h>

#include "telemetryd.h"

/* s_handle_api_call - decode an api.call and route it by op */
static void s_handle_api_call(struct backend *b, struct rpc_request *req, const void *buf,
			      size_t len)
{
	struct telemetryd *x = b->owner;
	_cleanup_free_ struct ipc_api_call *call = calloc(1, sizeof(*call));
	uint64_t id;

	if (!call) {
		(void)rpc_reply_error(req, "unavailable", "out of memory");
		return;
	}
	if (ipc_decode_api_call(buf, len, &id, call) < 0) {
		(void)rpc_reply_error(req, "bad_message", "malformed api.call");
		return;
	}
	if (strcmp(call->op, "telemetry.ingest") == 0)
		telemetryd_ingest(x, req, call);
	else if (strcmp(call->op, "telemetry.summary") == 0)
		telemetryd_summary(x, req, call);
	else
		(void)rpc_reply_error(req, "bad_message", "unknown op for telemetryd");
	ipc_free_api_call(call);
}

const backend_handler_fn telemetryd_handlers[_IPC_MSG_MAX] = {
	[IPC_MSG_PING] = NULL, /* the default ping answer */
	[IPC_MSG_API_CALL] = s_handle_api_call,
	[IPC_MSG_TELEMETRY_SIGNAL] = telemetryd_handle_signal,
};
