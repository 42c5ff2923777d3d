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

/*
 * ipc_api_call_serve - the IPC_MSG_API_CALL handler of telemetryd and
 * logd: a frame that does not decode gets an rpc "bad_message" error; an
 * op that is not one of b->self's rows of operations.def (or has no entry
 * in b->ops) api.reply 404 not_found; a role the row's WHO does not allow
 * 403 forbidden; else b->ops[op] runs.
 */
void ipc_api_call_serve(struct backend *b, struct rpc_request *req, const void *buf, size_t len);

#endif
