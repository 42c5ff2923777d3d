/*
 * backend_call.c - sembark-ingressd's one way to ask a backend (authd,
 * telemetryd, logd) something on behalf of an HTTP exchange.
 *
 * ingress_call_send() is the bottom: a frame the caller encoded (with the
 * id from ingress_call_id()) goes out on an RPC client, or -errno says it
 * did not (backend not connected, encoding failed) and then no callback
 * will ever run; the frame is wiped first, since it may carry a token or
 * a password. /healthz uses it for its three pings at once.
 *
 * A call tied to one exchange (every API route) is a struct whose first
 * member is struct ingress_call, made by ingress_call_new() and started by
 * ingress_call_start(): its done() runs exactly once with the reply (r ==
 * 0) or without one (r < 0: no answer within [ingress] rpc_timeout_ms,
 * send queue full), and must answer the exchange; if the client leaves
 * first, the RPC is cancelled and done() never runs. A call that cannot be
 * started is answered 503 service_unavailable here. Either way the call
 * is freed here, never by its user. ingress_api_reply_passes() is the one
 * rule for which backend answers are passed through to the client.
 */
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "config.h"
#include "ingressd.h"
#include "ipc.h"
#include "rpc.h"

/* ingress_call_id - the id to encode the next request to `to` with (0 when not connected) */
uint64_t ingress_call_id(struct rpc_client *to)
{
	return to ? rpc_next_id(to) : 0;
}

/* ingress_call_send - frame b (encoding result r) to `to`; b wiped and freed; -errno: not sent */
int ingress_call_send(struct rpc_client *to, uint64_t id, struct ipc_buf *b, int r,
		      int timeout_ms, rpc_reply_fn cb, void *userdata)
{
	if (r >= 0 && !to)
		r = -ENOTCONN;
	if (r >= 0)
		r = rpc_call(to, id, b->data, b->size, timeout_ms, cb, userdata);
	if (b->data)
		sodium_memzero(b->data, b->size);
	ipc_buf_done(b);
	return r < 0 ? r : 0;
}

/* ingress_call_new - size bytes (first member: struct ingress_call) for ex to `to`; NULL: ex answered */
void *ingress_call_new(struct ingress *app, struct http_exchange *ex, struct rpc_client *to,
		       size_t size, ingress_call_fn done)
{
	struct ingress_call *call = calloc(1, size);

	if (!call) {
		http_respond_error(ex, 503, "service_unavailable", "temporarily out of resources");
		return NULL;
	}
	*call = (struct ingress_call){
		.app = app, .ex = ex, .to = to, .id = ingress_call_id(to), .done = done,
	};
	return call;
}

static void s_done(int r, enum ipc_msg_type type, const void *buf, size_t len, void *userdata)
{
	struct ingress_call *call = userdata;

	http_exchange_on_abort(call->ex, NULL, NULL);
	call->done(call, r, type, buf, len);
	free(call);
}

/* s_abort - the client left: forget the RPC and the call */
static void s_abort(void *userdata)
{
	struct ingress_call *call = userdata;

	rpc_cancel(call->to, call->id);
	free(call);
}

/* ingress_call_start - send b (encoded with call->id; result r); else 503 `why`; call is ours now */
int ingress_call_start(struct ingress_call *call, struct ipc_buf *b, int r, const char *why)
{
	struct http_exchange *ex = call->ex;

	r = ingress_call_send(call->to, call->id, b, r, call->app->cfg->ingress.rpc_timeout_ms,
			      s_done, call);
	if (r < 0) {
		free(call);
		http_respond_error(ex, 503, "service_unavailable", why);
		return r;
	}
	http_exchange_on_abort(ex, s_abort, call);
	return 0;
}

/* s_status_passes - 200, 4xx and 503 always; other 2xx as `how` says; never a 500 */
static bool s_status_passes(int64_t status, unsigned how)
{
	if (status >= 200 && status < 300)
		return status == 200 || (status == 202 && (how & PASS_ACCEPTED)) ||
		       ((how & PASS_ANY_2XX) && status != 205);
	return (status >= 400 && status < 500) || status == 503;
}

/*
 * ingress_api_reply_passes - may a backend's api.reply go to the client as
 * it is? Its status as above (how: PASS_*), and its body one JSON object
 * (none for 204).
 */
bool ingress_api_reply_passes(const struct ipc_api_reply *rep, unsigned how)
{
	json_t *j;
	bool ok;

	if (!s_status_passes(rep->status, how))
		return false;
	if (rep->status == 204)
		return true;
	j = json_loadb(rep->body, rep->body_len, JSON_REJECT_DUPLICATES, NULL);
	ok = json_is_object(j);
	json_decref(j);
	return ok;
}
