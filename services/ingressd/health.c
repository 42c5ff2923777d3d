/*
 * health.c - sembark-ingressd's GET /healthz: ping authd, telemetryd and
 * logd at once over their RPC clients and answer when all three have
 * replied or timed out ([ingress] health_timeout_ms). A service is "ok"
 * when it answered with a pong saying its database is reachable, "down"
 * otherwise; 200 when all are ok, else 503. The loop never waits: the
 * answer is sent from the last reply callback, and a client that leaves
 * first has its pings cancelled. The pings go out through
 * ingress_call_send() (backend_call.c), three for one exchange.
 */
#include <stdlib.h>

#include "config.h"
#include "ingressd.h"
#include "ipc.h"
#include "rpc.h"

#define HEALTH_SERVICES 3

struct health_check;

struct health_slot {
	struct health_check *hc;
	const char *name;
	struct rpc_client *client;
	uint64_t id;
	bool waiting;
	bool ok;
};

struct health_check {
	struct http_exchange *ex;
	struct health_slot slots[HEALTH_SERVICES];
	size_t waiting;
	bool sending; /* still issuing the pings: do not answer yet */
};

static void s_health_answer(struct health_check *hc)
{
	json_t *services = json_object();
	json_t *body;
	bool all = true;

	for (size_t i = 0; i < HEALTH_SERVICES; i++) {
		const struct health_slot *sl = &hc->slots[i];

		json_object_set_new(services, sl->name, json_string(sl->ok ? "ok" : "down"));
		all = all && sl->ok;
	}
	body = json_pack("{s:s, s:o}", "status", all ? "ok" : "down", "services", services);
	http_respond_json(hc->ex, all ? 200 : 503, body);
	json_decref(body);
	free(hc);
}

static void s_health_done(struct health_slot *sl, bool ok)
{
	struct health_check *hc = sl->hc;

	if (!sl->waiting)
		return;
	sl->waiting = false;
	sl->ok = ok;
	if (--hc->waiting == 0 && !hc->sending)
		s_health_answer(hc);
}

static void s_health_reply(int r, enum ipc_msg_type type, const void *buf, size_t len,
			   void *userdata)
{
	struct health_slot *sl = userdata;
	struct ipc_pong pong;
	uint64_t id;
	bool ok = false;

	if (r == 0 && type == IPC_MSG_PONG && ipc_decode_pong(buf, len, &id, &pong) == 0) {
		ok = pong.database && id == sl->id;
		ipc_free_pong(&pong);
	}
	s_health_done(sl, ok);
}

static void s_health_send(struct health_slot *sl, int timeout_ms)
{
	struct ipc_ping ping = { 0 };
	struct ipc_buf b;
	int r;

	sl->waiting = true;
	sl->hc->waiting++;
	ipc_buf_init(&b);
	sl->id = ingress_call_id(sl->client);
	r = ipc_encode_ping(&b, sl->id, &ping);
	r = ingress_call_send(sl->client, sl->id, &b, r, timeout_ms, s_health_reply, sl);
	if (r < 0)
		s_health_done(sl, false);
}

/* s_health_abort - the client left: cancel what is still out, forget the check */
static void s_health_abort(void *userdata)
{
	struct health_check *hc = userdata;

	for (size_t i = 0; i < HEALTH_SERVICES; i++)
		if (hc->slots[i].waiting)
			rpc_cancel(hc->slots[i].client, hc->slots[i].id);
	free(hc);
}

/* ingress_handle_healthz - GET /healthz: ping the three backends at once */
void ingress_handle_healthz(struct ingress *app, struct http_exchange *ex)
{
	struct health_check *hc = calloc(1, sizeof(*hc));
	struct rpc_client *clients[HEALTH_SERVICES] = { app->authd, app->telemetryd, app->logd };
	static const char *const names[HEALTH_SERVICES] = { "authd", "telemetryd", "logd" };

	if (!hc) {
		http_respond_error(ex, 503, "service_unavailable", "temporarily out of resources");
		return;
	}
	hc->ex = ex;
	hc->sending = true;
	for (size_t i = 0; i < HEALTH_SERVICES; i++)
		hc->slots[i] = (struct health_slot){ .hc = hc, .name = names[i], .client = clients[i] };
	http_exchange_on_abort(ex, s_health_abort, hc);
	for (size_t i = 0; i < HEALTH_SERVICES; i++)
		s_health_send(&hc->slots[i], app->cfg->ingress.health_timeout_ms);
	hc->sending = false;
	if (hc->waiting == 0)
		s_health_answer(hc);
}
