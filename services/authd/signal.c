/*
 * signal.c - sembark-authd tells telemetryd when a user signs in (login,
 * token, sign-up, invite acceptance) or out (logout): telemetry.signal
 * {time_us, event, user_id, team_id} over a DEALER to [ipc] telemetryd
 * (runtime/rpc.c), with a short deadline. Best effort: a telemetryd that
 * is away, slow or refusing costs a debug line, never the user's request.
 * Loop thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "authd.h"
#include "log.h"

#define SIGNAL_TIMEOUT_MS 1000

/* authd_signal_open - the DEALER to [ipc] telemetryd */
int authd_signal_open(struct authd *a)
{
	const struct sembark_config *cfg = &a->b.d.cfg;
	struct rpc_opts opts = { .hwm = cfg->ipc.hwm, .max_msg = cfg->ipc.max_msg_bytes };
	int r;

	r = rpc_client_new(a->b.d.base, a->b.d.zctx, cfg->ipc.telemetryd, &opts, &a->telemetry);
	if (r < 0)
		return log_error_errno(r, "cannot connect to telemetryd",
				       LOG_S("endpoint", cfg->ipc.telemetryd));
	return 0;
}

static void s_on_reply(int r, enum ipc_msg_type type, const void *buf, size_t len,
		       void *userdata)
{
	struct ipc_error e;
	uint64_t id;

	if (r < 0) {
		log_debug("telemetry signal not delivered", LOG_S("error", strerror(-r)));
		return;
	}
	if (type == IPC_MSG_ERROR && ipc_decode_error(buf, len, &id, &e) == 0) {
		log_debug("telemetry signal refused", LOG_S("code", e.code));
		ipc_free_error(&e);
	}
}

/* authd_signal - telemetry.signal{event, user, team}; failures only logged at debug */
void authd_signal(struct authd *a, const char *event, const char *user_id, const char *team_id)
{
	struct ipc_telemetry_signal m = { .time_us = now_us() };
	struct ipc_buf out;
	uint64_t id;
	int r;

	if (!a->telemetry)
		return;
	snprintf(m.event, sizeof(m.event), "%s", event);
	snprintf(m.user_id, sizeof(m.user_id), "%s", user_id);
	snprintf(m.team_id, sizeof(m.team_id), "%s", team_id);
	id = rpc_next_id(a->telemetry);
	ipc_buf_init(&out);
	r = ipc_encode_telemetry_signal(&out, id, &m);
	if (r == 0)
		r = rpc_call(a->telemetry, id, out.data, out.size, SIGNAL_TIMEOUT_MS, s_on_reply,
			     NULL);
	ipc_buf_done(&out);
	if (r < 0)
		log_debug("telemetry signal not sent", LOG_S("error", strerror(-r)));
}

/* authd_signal_pending - signals still waiting for their ack */
size_t authd_signal_pending(const struct authd *a)
{
	return a->telemetry ? rpc_pending(a->telemetry) : 0;
}
