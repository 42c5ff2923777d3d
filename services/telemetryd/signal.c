/*
 * signal.c - sembark-telemetryd's handling of telemetry.signal: authd says
 * a user signed in or out (login, token, sign-up, invite accept; logout).
 * The event is stored as that user's sign_in/sign_out through the same
 * group commit as client events, with a random id and no client fields
 * (app_version, os_version and display are NULL: the server does not know
 * them), and authd gets "ack" once it is committed, an "error" otherwise.
 * A time more than a day off our clock is refused ("bad_message"); so are
 * ids that are not UUIDs and events other than sign_in/sign_out.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "telemetryd.h"

#define SIGNAL_SKEW_US TELEMETRYD_DAY_US

static enum telemetryd_type s_signal_type(const char *event)
{
	if (strcmp(event, "sign_in") == 0)
		return TELEMETRYD_SIGN_IN;
	if (strcmp(event, "sign_out") == 0)
		return TELEMETRYD_SIGN_OUT;
	return _TELEMETRYD_TYPE_INVALID;
}

/* telemetryd_handle_signal - telemetry.signal from authd */
void telemetryd_handle_signal(struct backend *b, struct rpc_request *req, const void *buf,
			      size_t len)
{
	struct telemetryd *x = b->owner;
	struct ipc_telemetry_signal sig;
	enum telemetryd_type type;
	int64_t now = now_us();
	uint64_t id;
	int r;

	if (ipc_decode_telemetry_signal(buf, len, &id, &sig) < 0) {
		(void)rpc_reply_error(req, "bad_message", "malformed telemetry.signal");
		return;
	}
	type = s_signal_type(sig.event);
	if (type == _TELEMETRYD_TYPE_INVALID || sig.time_us < now - SIGNAL_SKEW_US ||
	    sig.time_us > now + SIGNAL_SKEW_US) {
		ipc_free_telemetry_signal(&sig);
		(void)rpc_reply_error(req, "bad_message", "event or time_us out of range");
		return;
	}
	r = telemetryd_ingest_signal(x, req, type, sig.time_us, sig.user_id, sig.team_id);
	ipc_free_telemetry_signal(&sig);
	if (r == -EINVAL)
		(void)rpc_reply_error(req, "bad_message", "user_id and team_id must be UUIDs");
	else if (r < 0)
		(void)rpc_reply_error(req, "unavailable", "telemetry is busy; try again");
}
