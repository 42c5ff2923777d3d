/*
 * ipc.c - sembark-logd's sockets: a PULL on [ipc] log_sink that every
 * other daemon PUSHes log records to (fire-and-forget; audit events come
 * through PostgreSQL: audit_outbox.c), and a ROUTER on [ipc] logd that answers ping and
 * api.call: the rows of ipc/operations.def whose daemon is logd, each by
 * logd_op_<stem> (audit_list.c), behind ipc_api_call_serve() (frame, op,
 * role). A PULL message that is not exactly one valid
 * log.record frame is counted and dropped, never fatal.
 * The ROUTER and its default ping answer are runtime/backend.c's.
 */
#include <errno.h>
#include <stdlib.h>

#include <zmq.h>

#include "api_call.h"
#include "backend.h"
#include "curve.h"
#include "logd.h"

/* logd's handler of each row of ipc/operations.def (NULL: another daemon's) */
static const backend_op_fn s_ops[_IPC_OP_MAX] = {
#define IPC_OP(e, stem, wire, method, path, daemon, who, flags) \
	[IPC_OP_##e] = IPC_OP_HANDLER(logd, daemon, stem),
#include "operations.def"
#undef IPC_OP
};

/* logd's request handlers, by type (ping: backend.c's default answer) */
static const backend_handler_fn s_handlers[_IPC_MSG_MAX] = {
	[IPC_MSG_API_CALL] = ipc_api_call_serve, /* s_ops */
};

static void s_on_record(struct logd *l, const void *buf, size_t len)
{
	struct logd_rec rec;
	uint64_t id;
	int r;

	if (ipc_decode_log_record(buf, len, &id, l->scratch) < 0) {
		l->garbage++;
		return;
	}
	r = logd_record_from_ipc(l->scratch, now_us(), &rec);
	ipc_free_log_record(l->scratch);
	if (r < 0) {
		l->garbage++;
		return;
	}
	logd_store_add(l, &rec);
}

/* s_on_pull - one PULL message: dispatch by its envelope's type */
static void s_on_pull(struct zev *z, const struct zev_msg *msg, void *userdata)
{
	struct logd *l = userdata;
	enum ipc_msg_type type;
	uint64_t id;

	if (msg->nparts != 1 || ipc_peek(msg->data[0], msg->size[0], &type, &id) < 0) {
		l->garbage++;
		return;
	}
	switch (type) {
	case IPC_MSG_LOG_RECORD:
		s_on_record(l, msg->data[0], msg->size[0]);
		break;
	default:
		l->garbage++;
		break;
	}
}

static int s_open_pull(struct logd *l)
{
	const struct sembark_config *cfg = &l->b.d.cfg;
	int r;

	l->pull = zmq_socket(l->b.d.zctx, ZMQ_PULL);
	if (!l->pull)
		return -errno;
	r = zsock_setup(l->pull, cfg->ipc.hwm, cfg->ipc.max_msg_bytes);
	if (r < 0)
		return r;
	r = curve_server_setup(l->pull, cfg->ipc.log_sink); /* CURVE when tcp:// */
	if (r < 0)
		return r;
	r = zsock_bind_endpoint(l->pull, cfg->ipc.log_sink);
	if (r < 0)
		return r;
	return zev_new(l->b.d.base, l->pull, s_on_pull, l, &l->pull_ev);
}

/* logd_ipc_open - bind the log sink PULL and the ROUTER (ping, api.call) */
int logd_ipc_open(struct logd *l)
{
	const struct sembark_config *cfg = &l->b.d.cfg;
	int r;

	l->scratch = malloc(sizeof(*l->scratch));
	if (!l->scratch)
		return log_error_errno(-ENOMEM, "cannot allocate the record decoder");
	r = s_open_pull(l);
	if (r < 0)
		return log_error_errno(r, "cannot bind the log sink",
				       LOG_S("endpoint", cfg->ipc.log_sink));
	l->b.ops = s_ops;
	return backend_serve(&l->b, cfg->ipc.logd, IPC_PEER_LOGD, s_handlers, l);
}

/* logd_ipc_stop - refuse requests; records are still received while draining */
void logd_ipc_stop(struct logd *l)
{
	backend_stop_accepting(&l->b);
}

/* logd_ipc_close - close both sockets (before the ZeroMQ context goes) */
void logd_ipc_close(struct logd *l)
{
	l->pull_ev = zev_free(l->pull_ev);
	if (l->pull)
		zmq_close(l->pull);
	l->pull = NULL;
	free(l->scratch);
	l->scratch = NULL;
}
