/*
 * ipc.c - sembark-telemetryd's dispatch table: one handler per message type
 * it serves on its ROUTER ([ipc] telemetryd). shared/backend.c has already
 * checked the envelope and the peer graph, answers ping, and answers
 * "unknown_type" for a type with no entry here. Each handler decodes its
 * body strictly and replies exactly once.
 */
#include "telemetryd.h"

const backend_handler_fn telemetryd_handlers[_IPC_MSG_MAX] = {
	[IPC_MSG_PING] = NULL, /* the default ping answer */
};
