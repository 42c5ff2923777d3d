/*
 * api_call.c - the one front door of telemetryd and logd for api.call
 * (see api_call.h): decode strictly, find the row of ipc/operations.def,
 * check who may call it, run the daemon's handler. Loop thread.
 */
#include <stdlib.h>

#include "api_call.h"
#include "api_reply.h"
#include "log.h"
#include "macro.h"

/* ipc_api_call_serve - decode, find the op, check the role, run its handler */
void ipc_api_call_serve(struct backend *b, struct rpc_request *req, const void *buf, size_t len)
{
	const backend_op_fn *handlers = b->ops;
	_cleanup_free_ struct ipc_api_call *call = calloc(1, sizeof(*call));
	enum ipc_op op;
	uint64_t id;

	if (!call) {
		(void)rpc_reply_error(req, "internal", "out of memory");
		return;
	}
	if (ipc_decode_api_call(buf, len, &id, call) < 0) {
		(void)rpc_reply_error(req, "bad_message", "malformed api.call");
		return;
	}
	op = ipc_op_from_wire(call->op);
	if (op < 0 || ipc_ops[op].daemon != b->self || !handlers || !handlers[op]) {
		(void)ipc_api_reply_error(req, 404, "not_found", "there is nothing at this path");
	} else if (!ipc_op_allows(ipc_ops[op].who, call->role)) {
		log_info("access denied", LOG_S("op", call->op), LOG_S("role", call->role));
		(void)ipc_api_reply_error(req, 403, "forbidden", "your role does not allow this");
	} else {
		handlers[op](b, req, call);
	}
	ipc_free_api_call(call);
}
