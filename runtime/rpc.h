/*
 * rpc.h - request/reply over ZeroMQ with request ids and deadlines.
 *
 * Client: one DEALER per backend ROUTER of a list. rpc_call()
 * sends a frame the caller encoded with the id from rpc_next_id(), arms a
 * deadline, and returns at once; the callback runs exactly once, with the
 * reply, or with -ETIMEDOUT when the deadline passed (a late reply is then
 * dropped and counted), unless rpc_cancel() was called first. The loop
 * never blocks.
 *
 * Server: a ROUTER bound to an endpoint. Each request reaches the handler
 * with an rpc_request that remembers the peer's identity and the request
 * id, so the reply may be sent later (after a hash on a worker thread, a
 * database round trip). Every request must get exactly one reply:
 * rpc_reply() or rpc_reply_error(), which free the request. Envelopes are
 * validated (ipc_peek) and the peer graph enforced before the handler
 * runs; garbage gets an "error" reply with code "bad_message", never a
 * crash.
 */
#ifndef SEMBARK_RPC_H
#define SEMBARK_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "metrics.h"

struct event_base;
struct rpc_client;
struct rpc_server;
struct rpc_request;

struct rpc_opts {
	int hwm;           /* ZMQ_SNDHWM/RCVHWM */
	long long max_msg; /* ZMQ_MAXMSGSIZE for received frames */
};

/*
 * Reply callback: r == 0 with the reply frame (validated envelope, id
 * matched; decode the body with ipc_decode_<name>), r == -ETIMEDOUT,
 * r == -EAGAIN when no backend took it (none connected, queues full),
 * r == -ECONNRESET when the connection it went through closed before the
 * reply, r == -ECANCELED when the client is being freed.
 */
typedef void (*rpc_reply_fn)(int r, enum ipc_msg_type type, const void *buf, size_t len,
			     void *userdata);

int rpc_client_new(struct event_base *base, void *zctx, const char *endpoint,
		   const struct rpc_opts *opts, struct rpc_client **ret);
/* rpc_client_free - every pending call gets -ECANCELED; accepts NULL */
struct rpc_client *rpc_client_free(struct rpc_client *c);
uint64_t rpc_next_id(struct rpc_client *c);
/* rpc_call - send frame (encoded with id) and wait at most timeout_ms */
int rpc_call(struct rpc_client *c, uint64_t id, const void *frame, size_t len, int timeout_ms,
	     rpc_reply_fn cb, void *userdata);
/* rpc_cancel - forget a pending call; its callback will not run */
void rpc_cancel(struct rpc_client *c, uint64_t id);
size_t rpc_pending(const struct rpc_client *c);
uint64_t rpc_late_replies(const struct rpc_client *c);
/* rpc_resets - calls failed with -ECONNRESET (their backend's connection closed) */
uint64_t rpc_resets(const struct rpc_client *c);

/* What a client's calls came to, for metrics (cancelled calls are not counted). */
struct rpc_client_stats {
	uint64_t replies;  /* answered */
	uint64_t timeouts; /* -ETIMEDOUT */
	uint64_t failures; /* not sent (-EAGAIN), or the connection closed (-ECONNRESET) */
	struct metrics_hist seconds; /* round trip of the answered ones */
};

/* rpc_client_get_stats - the client's counts so far */
const struct rpc_client_stats *rpc_client_get_stats(const struct rpc_client *c);

typedef void (*rpc_handler_fn)(struct rpc_request *req, enum ipc_msg_type type, const void *buf,
			       size_t len, void *userdata);

/* rpc_server_new - bind a ROUTER at endpoint; `self` is this daemon's
 * IPC_PEER_* bit, used to refuse types not addressed to it */
int rpc_server_new(struct event_base *base, void *zctx, const char *endpoint,
		   enum ipc_peer self, const struct rpc_opts *opts, rpc_handler_fn handler,
		   void *userdata, struct rpc_server **ret);
struct rpc_server *rpc_server_free(struct rpc_server *s);
/* requests received and not yet answered */
size_t rpc_server_inflight(const struct rpc_server *s);

uint64_t rpc_request_id(const struct rpc_request *req);
/* rpc_reply - send an encoded frame (built with rpc_request_id) and free req */
int rpc_reply(struct rpc_request *req, const void *frame, size_t len);
/* rpc_reply_error - send {"error", code, message} and free req */
int rpc_reply_error(struct rpc_request *req, const char *code, const char *message);

#endif
