/*
 * ask.c - one question to authd, telemetryd and logd at once on behalf of
 * an HTTP exchange (GET /healthz pings them, the admin listener's GET
 * /metrics asks for their numbers). The three requests go out through
 * ingress_call_send(); each reply, or its failure (r < 0: timeout, not
 * connected), is handed to the asker's reply() as it comes; after the
 * last one its done() answers the exchange. If the client leaves first,
 * what is still out is cancelled and done() never runs. Either way the
 * asker's release() (if any) and the free happen here. The loop never
 * waits.
 */
#include <stdlib.h>

#include "ingressd.h"
#include "ipc.h"
#include "rpc.h"

const char *const ingress_backend_names[INGRESS_BACKENDS] = { "authd", "telemetryd", "logd" };

static void s_free(struct ingress_ask *a)
{
	if (a->ops->release)
		a->ops->release(a);
	free(a);
}

static void s_slot_done(struct ingress_ask_slot *sl, int r, enum ipc_msg_type type,
			const void *buf, size_t len)
{
	struct ingress_ask *a = sl->ask;

	if (!sl->waiting)
		return;
	sl->waiting = false;
	a->ops->reply(a, sl->index, r, type, buf, len);
	if (--a->waiting == 0 && !a->sending) {
		http_exchange_on_abort(a->ex, NULL, NULL);
		a->ops->done(a);
		s_free(a);
	}
}

static void s_reply(int r, enum ipc_msg_type type, const void *buf, size_t len, void *userdata)
{
	s_slot_done(userdata, r, type, buf, len);
}

static void s_send(struct ingress_ask_slot *sl, int timeout_ms)
{
	struct ipc_buf b;
	int r;

	sl->waiting = true;
	sl->ask->waiting++;
	ipc_buf_init(&b);
	sl->id = ingress_call_id(sl->client);
	r = sl->ask->ops->encode(&b, sl->id);
	r = ingress_call_send(sl->client, sl->id, &b, r, timeout_ms, s_reply, sl);
	if (r < 0)
		s_slot_done(sl, r, _IPC_MSG_INVALID, NULL, 0);
}

/* s_abort - the client left: cancel what is still out, forget the question */
static void s_abort(void *userdata)
{
	struct ingress_ask *a = userdata;

	for (size_t i = 0; i < INGRESS_BACKENDS; i++)
		if (a->slots[i].waiting)
			rpc_cancel(a->slots[i].client, a->slots[i].id);
	s_free(a);
}

/* ingress_ask_start - send ops->encode's request to the three backends for ex */
void ingress_ask_start(struct ingress *app, struct http_exchange *ex, struct ingress_ask *a,
		       const struct ingress_ask_ops *ops, int timeout_ms)
{
	struct rpc_client *clients[INGRESS_BACKENDS] = { app->authd, app->telemetryd, app->logd };

	a->ex = ex;
	a->ops = ops;
	a->sending = true;
	for (size_t i = 0; i < INGRESS_BACKENDS; i++)
		a->slots[i] = (struct ingress_ask_slot){ .ask = a, .index = i, .client = clients[i] };
	http_exchange_on_abort(ex, s_abort, a);
	for (size_t i = 0; i < INGRESS_BACKENDS; i++)
		s_send(&a->slots[i], timeout_ms);
	a->sending = false;
	if (a->waiting == 0) {
		http_exchange_on_abort(ex, NULL, NULL);
		ops->done(a);
		s_free(a);
	}
}
