/*
 * status.c - `sembarkctl status`: ping authd, telemetryd and logd at once
 * on their [ipc] endpoints (CURVE on tcp:// as the daemons do), each within
 * CTL_STATUS_DEADLINE_MS, and print one line per daemon: up or down, its
 * database, version, pid, uptime and queue depths (from its pong).
 * ingressd has no IPC endpoint: its line is the status of GET /healthz at
 * [ingress] listen (status_ingress.c), asked at the same time.
 * Exit 0 when every backend answered and reaches its database and
 * /healthz answered 200, else 1.
 *
 * Just after connecting, ZeroMQ refuses sends until the connection is up
 * (ZMQ_IMMEDIATE, see ipc/README.md), and a daemon that is down refuses
 * them for ever: a refused ping is sent again every CTL_STATUS_RETRY_MS
 * until the deadline.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "ctl.h"
#include "curve.h"
#include "daemon.h"
#include "ipc.h"
#include "rpc.h"

#define CTL_STATUS_DEADLINE_MS 2000 /* "2 s" in s_why_down, main.c and the docs */
#define CTL_STATUS_RETRY_MS 50
#define CTL_STATUS_QUEUES_MAX 256 /* "name=n name=n ..." of one pong */

struct status_probe {
	const char *name;
	const char *endpoint;
	struct rpc_client *client;
	struct event *retry;
	int64_t deadline_us;
	size_t *waiting;
	struct event_base *base;
	bool done;
	int r;                 /* 0: a pong arrived; else why not */
	char error[64 + 256 + 3]; /* an error reply's "code: message" */
	struct ipc_pong pong;
};

static void s_probe_send(struct status_probe *p);

static void s_probe_done(struct status_probe *p, int r)
{
	p->done = true;
	p->r = r;
	if (--*p->waiting == 0)
		event_base_loopexit(p->base, NULL);
}

static void s_probe_error(struct status_probe *p, const void *buf, size_t len)
{
	struct ipc_error e;
	uint64_t id;

	if (ipc_decode_error(buf, len, &id, &e) == 0) {
		snprintf(p->error, sizeof(p->error), "%s: %s", e.code, e.message);
		ipc_free_error(&e);
	}
}

static void s_probe_reply(int r, enum ipc_msg_type type, const void *buf, size_t len,
			  void *userdata)
{
	struct status_probe *p = userdata;
	uint64_t id;

	if ((r == -EAGAIN || r == -ECONNRESET) && mono_us() < p->deadline_us) {
		struct timeval tv = { 0, CTL_STATUS_RETRY_MS * 1000 };

		if (evtimer_add(p->retry, &tv) == 0)
			return;
	}
	if (r == 0 && type == IPC_MSG_PONG) {
		r = ipc_decode_pong(buf, len, &id, &p->pong);
	} else if (r == 0) {
		s_probe_error(p, buf, len);
		r = -EPROTO;
	}
	s_probe_done(p, r);
}

static void s_probe_retry(evutil_socket_t fd, short what, void *userdata)
{
	s_probe_send(userdata);
}

/* s_probe_send - one ping with what is left of the deadline */
static void s_probe_send(struct status_probe *p)
{
	struct ipc_ping ping = { 0 };
	struct ipc_buf b;
	int64_t left_ms = (p->deadline_us - mono_us()) / 1000;
	uint64_t id = rpc_next_id(p->client);
	int r;

	ipc_buf_init(&b);
	r = ipc_encode_ping(&b, id, &ping);
	if (r >= 0)
		r = rpc_call(p->client, id, b.data, b.size, (int)(left_ms > 1 ? left_ms : 1),
			     s_probe_reply, p);
	ipc_buf_done(&b);
	if (r < 0)
		s_probe_done(p, r);
}

static int s_probe_start(struct status_probe *p, struct event_base *base, void *zctx,
			 const struct sembark_config *cfg)
{
	const struct rpc_opts opts = { .hwm = cfg->ipc.hwm, .max_msg = cfg->ipc.max_msg_bytes };
	int r;

	p->base = base;
	p->deadline_us = mono_us() + CTL_STATUS_DEADLINE_MS * 1000LL;
	p->retry = evtimer_new(base, s_probe_retry, p);
	if (!p->retry)
		return -ENOMEM;
	r = rpc_client_new(base, zctx, p->endpoint, &opts, &p->client);
	if (r < 0)
		return r;
	s_probe_send(p);
	return 0;
}

static void s_probe_free(struct status_probe *p)
{
	p->client = rpc_client_free(p->client);
	if (p->retry)
		event_free(p->retry);
	if (p->done && p->r == 0)
		ipc_free_pong(&p->pong);
}

static void s_format_queues(const struct ipc_pong *pong, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pong->queues_n && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s=%s", i ? " " : "",
				 pong->queues[i].key, pong->queues[i].value);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static const char *s_why_down(const struct status_probe *p)
{
	switch (p->r) {
	case -ETIMEDOUT:
	case -EAGAIN:
	case -ECONNRESET:
		return "no answer within 2 s";
	case -EPROTO:
		return *p->error ? p->error : "answered with an error";
	case -EBADMSG:
		return "answered with a malformed pong (another IPC_VERSION?)";
	default:
		return strerror(-p->r);
	}
}

/* s_print_ingress - ingressd's line; true when /healthz answered 200 */
static bool s_print_ingress(const struct status_ingress *p)
{
	if (!p->done || p->http_status == 0) {
		printf("%-11s %-5s %-9s %s (%s)\n", "ingressd", "down", "-",
		       "no answer within 2 s", p->where);
		return false;
	}
	printf("%-11s %-5s %-9s %-8s %-8s %-8s GET /healthz: %d (%s)\n", "ingressd", "up", "-", "-",
	       "-", "-", p->http_status, p->where);
	return p->http_status == 200;
}

/* s_print - one line per daemon; true when this one is healthy */
static bool s_print(const struct status_probe *p)
{
	char queues[CTL_STATUS_QUEUES_MAX];
	const struct ipc_pong *g = &p->pong;

	if (!p->done || p->r < 0) {
		printf("%-11s %-5s %-9s %s (%s)\n", p->name, "down", "-", s_why_down(p), p->endpoint);
		return false;
	}
	s_format_queues(g, queues, sizeof(queues));
	printf("%-11s %-5s %-9s %-8s %-8" PRId64 " %-8" PRIu64 " %s\n", p->name, "up",
	       g->database ? "ok" : "down", *g->version ? g->version : "?", g->pid, g->uptime_s,
	       *queues ? queues : "-");
	return g->database;
}

/* ctl_status - `sembarkctl status` */
int ctl_status(const struct ctl_context *ctx, int argc, char **argv)
{
	struct sembark_config cfg;
	struct status_probe probes[3] = {
		{ .name = "authd", .endpoint = cfg.ipc.authd },
		{ .name = "telemetryd", .endpoint = cfg.ipc.telemetryd },
		{ .name = "logd", .endpoint = cfg.ipc.logd },
	};
	struct status_ingress ingress = { 0 };
	struct event_base *base = NULL;
	void *zctx = NULL;
	size_t waiting = 0;
	bool all = true;
	int r = 0;

	if (argc > 1) {
		fprintf(stderr, "sembarkctl: status takes no arguments\nTry 'sembarkctl help'.\n");
		return CTL_EXIT_USAGE;
	}
	if (ctl_load_config(ctx, &cfg) < 0)
		return CTL_EXIT_FAILURE;
	base = event_base_new();
	zctx = zmq_ctx_new();
	if (!base || !zctx) {
		fprintf(stderr, "sembarkctl: status: cannot set up the event loop or ZeroMQ\n");
		r = -ENOMEM;
		goto out;
	}
	curve_init(&cfg, base, zctx);
	waiting = ELEMENTSOF(probes) + 1; /* all counted first: a probe may end at once */
	r = status_ingress_start(&ingress, base, &cfg, CTL_STATUS_DEADLINE_MS, &waiting);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: status: cannot ask ingressd at [ingress] listen %s: %s\n",
			cfg.ingress.listen, strerror(-r));
		r = 0; /* its line says down; the backends are still asked */
	}
	for (size_t i = 0; i < ELEMENTSOF(probes) && r >= 0; i++) {
		probes[i].waiting = &waiting;
		r = s_probe_start(&probes[i], base, zctx, &cfg);
		if (r < 0)
			fprintf(stderr, "sembarkctl: status: cannot connect to %s at %s: %s\n",
				probes[i].name, probes[i].endpoint, strerror(-r));
	}
	if (r >= 0) {
		if (waiting > 0) /* the last probe to end exits the loop; each has a deadline */
			event_base_dispatch(base);
		printf("%-11s %-5s %-9s %-8s %-8s %-8s %s\n", "SERVICE", "STATE", "DATABASE",
		       "VERSION", "PID", "UPTIME_S", "QUEUES");
		all = s_print_ingress(&ingress);
		for (size_t i = 0; i < ELEMENTSOF(probes); i++)
			all = s_print(&probes[i]) && all;
	}
out:
	status_ingress_free(&ingress);
	for (size_t i = 0; i < ELEMENTSOF(probes); i++)
		s_probe_free(&probes[i]);
	curve_done();
	if (zctx)
		zmq_ctx_term(zctx);
	if (base)
		event_base_free(base);
	return r >= 0 && all ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}
