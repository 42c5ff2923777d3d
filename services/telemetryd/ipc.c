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
const backend_op_fn telemetryd_ops[_IPC_OP_MAX] = {
#define IPC_OP(e, stem, wire, method, path, daemon, who, flags) \
	[IPC_OP_##e] = IPC_OP_HANDLER(telemetryd, daemon, stem),
#include "operations.def"
#undef IPC_OP
};

const backend_handler_fn telemetryd_handlers[_IPC_MSG_MAX] = {
	[IPC_MSG_PING] = NULL, /* the default ping answer */
	[IPC_MSG_API_CALL] = ipc_api_call_serve, /* telemetryd_ops */
	[IPC_MSG_TELEMETRY_SIGNAL] = telemetryd_handle_signal,
};
