/*
 * health.c - sembark-ingressd's GET /healthz: ping authd, telemetryd and
 * logd at once (ask.c) and answer when all three have replied or timed
 * out ([ingress] health_timeout_ms). A service is "ok" when it answered
 * with a pong saying its database is reachable, "down" otherwise; 200
 * when all are ok, else 503. The loop never waits.
 */
#include <stdlib.h>

#include "config.h"
#include "ingressd.h"
#include "ipc.h"

struct health_check {
	struct ingress_ask ask; /* first */
	bool ok[INGRESS_BACKENDS];
};

static int s_encode(struct ipc_buf *b, uint64_t id)
{
	struct ipc_ping ping = { 0 };

	return ipc_encode_ping(b, id, &ping);
}

static void s_reply(struct ingress_ask *a, size_t i, int r, enum ipc_msg_type type,
		    const void *buf, size_t len)
{
	struct health_check *hc = (struct health_check *)a;
	struct ipc_pong pong;
	uint64_t id;

	if (r == 0 && type == IPC_MSG_PONG && ipc_decode_pong(buf, len, &id, &pong) == 0) {
		hc->ok[i] = pong.database && id == a->slots[i].id;
		ipc_free_pong(&pong);
	}
}

static void s_answer(struct ingress_ask *a)
{
	const struct health_check *hc = (const struct health_check *)a;
	json_t *services = json_object();
	json_t *body;
	bool all = true;

	for (size_t i = 0; i < INGRESS_BACKENDS; i++) {
		json_object_set_new(services, ingress_backend_names[i],
				    json_string(hc->ok[i] ? "ok" : "down"));
		all = all && hc->ok[i];
	}
	body = json_pack("{s:s, s:o}", "status", all ? "ok" : "down", "services", services);
	http_respond_json(a->ex, all ? 200 : 503, body);
	json_decref(body);
}

static const struct ingress_ask_ops s_health_ops = {
	.encode = s_encode,
	.reply = s_reply,
	.done = s_answer,
};

/* ingress_handle_healthz - GET /healthz: ping the three backends at once */
void ingress_handle_healthz(struct ingress *app, struct http_exchange *ex)
{
	struct health_check *hc = calloc(1, sizeof(*hc));

	if (!hc) {
		http_respond_error(ex, 503, "service_unavailable", "temporarily out of resources");
		return;
	}
	ingress_ask_start(app, ex, &hc->ask, &s_health_ops, app->cfg->ingress.health_timeout_ms);
}
