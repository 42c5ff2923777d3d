/*
 * ipc.c - sembark-telemetryd's dispatch table: one handler per message type
 * it serves on its ROUTER ([ipc] telemetryd). runtime/backend.c has already
 * checked the envelope and the peer graph, answers ping, and answers
 * "unknown_type" for a type with no entry here. Each handler decodes its
 * body strictly and replies exactly once (now, or after the commit).
 *
 *   api.call          from ingressd: the rows of ipc/operations.def whose
 *                     daemon is telemetryd, each by telemetryd_op_<stem>
 *                     (ingest.c, summary.c), behind ipc_api_call_serve()
 *                     (frame, op, role) -> api.reply
 *   telemetry.signal  from authd: sign_in / sign_out (signal.c) -> ack
 */
#include "api_call.h"
#include "telemetryd.h"

/* telemetryd's handler of each row of ipc/operations.def (NULL: another daemon's) */
#define TELEMETRYD_HANDLER_authd(stem) NULL
#define TELEMETRYD_HANDLER_telemetryd(stem) telemetryd_op_##stem
#define TELEMETRYD_HANDLER_logd(stem) NULL

static const ipc_api_handler_fn s_ops[_IPC_OP_MAX] = {
#define IPC_OP(e, stem, wire, method, path, daemon, who, flags) \
	[IPC_OP_##e] = TELEMETRYD_HANDLER_##daemon(stem),
#include "operations.def"
#undef IPC_OP
};

static void s_handle_api_call(struct backend *b, struct rpc_request *req, const void *buf,
			      size_t len)
{
	ipc_api_call_serve(b, req, buf, len, IPC_PEER_TELEMETRYD, s_ops);
}

const backend_handler_fn telemetryd_handlers[_IPC_MSG_MAX] = {
	[IPC_MSG_PING] = NULL, /* the default ping answer */
	[IPC_MSG_API_CALL] = s_handle_api_call,
	[IPC_MSG_TELEMETRY_SIGNAL] = telemetryd_handle_signal,
};
