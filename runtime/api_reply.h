/*
 * api_reply.h - how a backend (authd, telemetryd, logd) answers an HTTP
 * API call (auth.call, api.call): one api.reply frame holding the HTTP
 * status, the JSON body as compact text and, from authd, the cookie and
 * throttle instructions for ingressd. Built on the codec (ipc.h), the rpc
 * server (runtime/rpc.h) and jansson; loop thread only.
 */
#ifndef SEMBARK_IPC_API_REPLY_H
#define SEMBARK_IPC_API_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "rpc.h"

struct json_t;

/* What an api.reply may carry besides status and body. */
struct ipc_api_reply_extra {
	const char *set_token;  /* NULL: none; else the session cookie's new token */
	int64_t token_max_age;  /* with set_token: the cookie's Max-Age */
	bool clear_token;       /* clear the session cookie */
	int64_t retry_after;    /* > 0: seconds, for 429 */
};

/*
 * ipc_api_reply_send - answer req (which is freed) with api.reply{status,
 * body: the compact JSON text of body (NULL: empty), extra (NULL: none)}.
 * The text, the frame and the token's copy are wiped before they are
 * freed (a body may hold a token). When the frame cannot be built (out
 * of memory, a bound broken) req gets an "internal" error reply instead
 * and the negative errno comes back; else 0 (whatever the send did).
 */
int ipc_api_reply_send(struct rpc_request *req, int status, const struct json_t *body,
		       const struct ipc_api_reply_extra *extra);

/* ipc_api_reply_error - api.reply{status, {"error": code, "message": message}}; frees req */
int ipc_api_reply_error(struct rpc_request *req, int status, const char *code,
			const char *message);

#endif
