/*
 * api_call.h - how telemetryd and logd take an api.call: the rows of
 * ipc/operations.def they own, each with its handler, behind one check of
 * the frame, the operation and the caller's role.
 */
#ifndef SEMBARK_IPC_API_CALL_H
#define SEMBARK_IPC_API_CALL_H

#include <stddef.h>

#include "backend.h"
#include "ops.h"

/* One operation's handler: it answers req exactly once (now or later). */
typedef void (*ipc_api_handler_fn)(struct backend *b, struct rpc_request *req,
				   const struct ipc_api_call *call);

/*
 * ipc_api_call_serve - one api.call frame for the daemon `self`, whose
 * handlers are indexed by enum ipc_op: a frame that does not decode gets
 * an rpc "bad_message" error; an op that is not one of self's rows (or has
 * no handler) api.reply 404 not_found; a role the row's WHO does not allow
 * 403 forbidden; else the handler runs.
 */
void ipc_api_call_serve(struct backend *b, struct rpc_request *req, const void *buf, size_t len,
			enum ipc_peer self, const ipc_api_handler_fn handlers[_IPC_OP_MAX]);

#endif
