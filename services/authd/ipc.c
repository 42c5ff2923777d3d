/*
 * ipc.c - sembark-authd's one socket: a ROUTER on [ipc] authd that
 * ingressd (and sembarkctl) call, and its dispatch table. rpc.c has
 * already checked the envelope and the peer graph; each handler decodes
 * its body strictly and replies exactly once. A type with no handler is
 * answered "unknown_type", never a crash.
 */
#include <errno.h>

#include "authd.h"
#include "backend.h"
#include "log.h"

typedef void (*authd_handler_fn)(struct authd *a, struct rpc_request *req, const void *buf,
				 size_t len);

static void s_on_ping(struct authd *a, struct rpc_request *req, const void *buf, size_t len)
{
	backend_handle_ping(req, buf, len, a->d.service, a->db, a->d.started_us);
}

static const authd_handler_fn handlers[_IPC_MSG_MAX] = {
	[IPC_MSG_PING] = s_on_ping,
};

static void s_dispatch(struct rpc_request *req, enum ipc_msg_type type, const void *buf,
		       size_t len, void *userdata)
{
	struct authd *a = userdata;

	if (!a->accepting) {
		(void)rpc_reply_error(req, "unavailable", "authd is shutting down");
		return;
	}
	if ((int)type < 0 || type >= _IPC_MSG_MAX || !handlers[type]) {
		log_debug("request of unknown type", LOG_I("type", type));
		(void)rpc_reply_error(req, "unknown_type", "authd does not handle this type");
		return;
	}
	handlers[type](a, req, buf, len);
}

/* authd_ipc_open - bind the ROUTER and start taking requests */
int authd_ipc_open(struct authd *a)
{
	const struct sembark_config *cfg = &a->d.cfg;
	struct rpc_opts opts = { .hwm = cfg->ipc.hwm, .max_msg = cfg->ipc.max_msg_bytes };
	int r;

	r = rpc_server_new(a->d.base, a->d.zctx, cfg->ipc.authd, IPC_PEER_AUTHD, &opts,
			   s_dispatch, a, &a->rpc);
	if (r < 0)
		return log_error_errno(r, "cannot bind the authd endpoint",
				       LOG_S("endpoint", cfg->ipc.authd));
	a->accepting = true;
	return 0;
}

/* authd_ipc_stop - refuse new requests; those in flight still get answers */
void authd_ipc_stop(struct authd *a)
{
	a->accepting = false;
}

/* authd_ipc_inflight - requests received and not yet answered */
size_t authd_ipc_inflight(const struct authd *a)
{
	return a->rpc ? rpc_server_inflight(a->rpc) : 0;
}

/* authd_ipc_close - close the ROUTER (before the ZeroMQ context goes) */
void authd_ipc_close(struct authd *a)
{
	a->rpc = rpc_server_free(a->rpc);
}
