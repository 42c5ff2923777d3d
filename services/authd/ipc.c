/*
 * ipc.c - sembark-authd's dispatch table: one handler per message type
 * it serves on its ROUTER ([ipc] authd). runtime/backend.c has already
 * checked the envelope and the peer graph, answers ping, and answers
 * "unknown_type" for a type with no entry here. Each handler decodes its
 * body strictly and replies exactly once.
 *
 *   auth.call  -> calls.c: the op table (api.reply)
 *   auth.check -> calls.c: the session behind a token (auth.identity)
 */
#include "authd.h"

const backend_handler_fn authd_handlers[_IPC_MSG_MAX] = {
	[IPC_MSG_PING] = NULL, /* the default ping answer */
	[IPC_MSG_AUTH_CALL] = authd_handle_call,
	[IPC_MSG_AUTH_CHECK] = authd_handle_check,
};
