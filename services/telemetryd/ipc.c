/*
 * ipc.c - sembark-telemetryd's one socket: a ROUTER on [ipc] telemetryd
 * that ingressd (and sembarkctl) call, and its dispatch table. rpc.c has
 * already checked the envelope and the peer graph; each handler decodes
 * its body strictly and replies exactly once. A type with no handler is
 * answered "unknown_type", never a crash.
 */
#include <errno.h>

#include "telemetryd.h"
#include "backend.h"
#include "log.h"

typedef void (*telemetryd_handler_fn)(struct telemetryd *t, struct rpc_request *req,
				      const void *buf, size_t len);

static void s_on_ping(struct telemetryd *t, struct rpc_request *req, const void *buf, size_t len)
{
	backend_handle_ping(req, buf, len, t->d.service, t->db, t->d.started_us);
}

static const telemetryd_handler_fn handlers[_IPC_MSG_MAX] = {
	[IPC_MSG_PING] = s_on_ping,
};

static void s_dispatch(struct rpc_request *req, enum ipc_msg_type type, const void *buf,
		       size_t len, void *userdata)
{
	struct telemetryd *t = userdata;

	if (!t->accepting) {
		(void)rpc_reply_error(req, "unavailable", "telemetryd is shutting down");
		return;
	}
	if ((int)type < 0 || type >= _IPC_MSG_MAX || !handlers[type]) {
		log_debug("request of unknown type", LOG_I("type", type));
		(void)rpc_reply_error(req, "unknown_type", "telemetryd does not handle this type");
		return;
	}
	handlers[type](t, req, buf, len);
}

/* telemetryd_ipc_open - bind the ROUTER and start taking requests */
int telemetryd_ipc_open(struct telemetryd *t)
{
	const struct sembark_config *cfg = &t->d.cfg;
	struct rpc_opts opts = { .hwm = cfg->ipc.hwm, .max_msg = cfg->ipc.max_msg_bytes };
	int r;

	r = rpc_server_new(t->d.base, t->d.zctx, cfg->ipc.telemetryd, IPC_PEER_TELEMETRYD,
			   &opts, s_dispatch, t, &t->rpc);
	if (r < 0)
		return log_error_errno(r, "cannot bind the telemetryd endpoint",
				       LOG_S("endpoint", cfg->ipc.telemetryd));
	t->accepting = true;
	return 0;
}

/* telemetryd_ipc_stop - refuse new requests; those in flight still get answers */
void telemetryd_ipc_stop(struct telemetryd *t)
{
	t->accepting = false;
}

/* telemetryd_ipc_inflight - requests received and not yet answered */
size_t telemetryd_ipc_inflight(const struct telemetryd *t)
{
	return t->rpc ? rpc_server_inflight(t->rpc) : 0;
}

/* telemetryd_ipc_close - close the ROUTER (before the ZeroMQ context goes) */
void telemetryd_ipc_close(struct telemetryd *t)
{
	t->rpc = rpc_server_free(t->rpc);
}
