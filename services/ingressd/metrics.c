/*
 * metrics.c - sembark-ingressd's numbers and the admin listener that
 * serves them ([ingress] metrics_listen, loopback by default, never the
 * public port; "" turns it off). GET /metrics answers Prometheus text
 * (format 0.0.4): ingressd's own families (answers by route, method and
 * status; their durations by route; connections; each backend's RPC round
 * trips), then what authd, telemetryd and logd answer to "metrics"
 * (asked at once through ask.c, [ingress] health_timeout_ms each), then
 * whether each of them answered. Every family name starts with
 * "sembark_<service>_", so the parts never name one family twice.
 *
 * Answers are counted by the public server's `answered` hook, on the loop
 * thread: one slot per route of the table, one for the browser client's
 * files and one for requests that matched no route (the method label then
 * says "other": the label values are the table's, never the client's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "ingressd.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "sbuf.h"

#define STATUSES_MAX 16 /* distinct statuses counted per route; more count as "other" */
#define ADMIN_MAX_CONNECTIONS 16
#define ADMIN_TIMEOUT_S 10
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct status_count {
	int status; /* 0: other */
	uint64_t n;
};

struct route_stats {
	struct status_count statuses[STATUSES_MAX];
	size_t n_statuses;
	struct metrics_hist seconds;
};

struct ingress_metrics {
	size_t n;                   /* ingress_n_routes + 2: the web files, no route */
	struct route_stats routes[];
};

/* ingress_metrics_new - zeroed counts for every route */
int ingress_metrics_new(struct ingress_metrics **ret)
{
	size_t n = ingress_n_routes + 2;
	struct ingress_metrics *m = calloc(1, sizeof(*m) + n * sizeof(m->routes[0]));

	if (!m)
		return -ENOMEM;
	m->n = n;
	for (size_t i = 0; i < n; i++)
		metrics_hist_init(&m->routes[i].seconds, metrics_seconds_bounds, metrics_seconds_n);
	*ret = m;
	return 0;
}

/* ingress_metrics_free - accepts NULL; returns NULL */
struct ingress_metrics *ingress_metrics_free(struct ingress_metrics *m)
{
	free(m);
	return NULL;
}

/* s_slot - the route slot of an answered exchange */
static size_t s_slot(const struct ingress_metrics *m, const struct http_exchange *ex)
{
	const struct ingress_route *r = ex->match.route;

	if (ex->req && ex->match.result == ROUTE_FOUND && r) {
		if (r >= ingress_routes && r < ingress_routes + ingress_n_routes)
			return (size_t)(r - ingress_routes);
		return m->n - 2; /* the browser client's files */
	}
	return m->n - 1;
}

static void s_count_status(struct route_stats *rs, int status)
{
	size_t i;

	for (i = 0; i < rs->n_statuses; i++)
		if (rs->statuses[i].status == status)
			break;
	if (i == rs->n_statuses) {
		if (rs->n_statuses == STATUSES_MAX - 1)
			status = 0; /* the last slot is "other" */
		for (i = 0; i < rs->n_statuses && rs->statuses[i].status != status; i++)
			;
		if (i == rs->n_statuses)
			rs->statuses[rs->n_statuses++] = (struct status_count){ .status = status };
	}
	rs->statuses[i].n++;
}

/* ingress_metrics_answered - the public server's answered hook (userdata: the ingress) */
void ingress_metrics_answered(const struct http_exchange *ex, int status, int64_t us,
			      void *userdata)
{
	const struct ingress *app = userdata;
	struct ingress_metrics *m = app->metrics;
	struct route_stats *rs;

	if (!m)
		return;
	rs = &m->routes[s_slot(m, ex)];
	s_count_status(rs, status);
	metrics_hist_observe(&rs->seconds, (double)us / 1e6);
}

/* s_route_labels - route="...",method="..." of slot i */
static void s_route_labels(const struct ingress_metrics *m, size_t i, char *labels, size_t size)
{
	const char *route = i < ingress_n_routes ? ingress_routes[i].pattern
			    : i == m->n - 2	 ? "web"
						 : "none";
	const char *method = i < ingress_n_routes ? ingress_routes[i].method
			     : i == m->n - 2	  ? "GET"
						  : "other";

	labels[0] = '\0';
	(void)metrics_label(labels, size, "route", route);
	(void)metrics_label(labels, size, "method", method);
}

static void s_write_routes(const struct ingress_metrics *m, struct sbuf *out)
{
	char labels[METRICS_LABELS_MAX];

	metrics_family(out, "sembark_ingress_http_requests_total", "counter",
		       "HTTP answers by route, method and status");
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < m->routes[i].n_statuses; k++) {
			const struct status_count *sc = &m->routes[i].statuses[k];
			char status[16];

			snprintf(status, sizeof(status), "%d", sc->status);
			s_route_labels(m, i, labels, sizeof(labels));
			(void)metrics_label(labels, sizeof(labels), "status",
					    sc->status ? status : "other");
			metrics_sample(out, "sembark_ingress_http_requests_total", labels,
				       (double)sc->n);
		}
	metrics_family(out, "sembark_ingress_http_request_duration_seconds", "histogram",
		       "from a request's first byte to its answer, by route");
	for (size_t i = 0; i < m->n; i++) {
		if (m->routes[i].seconds.count == 0)
			continue;
		s_route_labels(m, i, labels, sizeof(labels));
		metrics_hist_write(out, "sembark_ingress_http_request_duration_seconds", labels,
				   &m->routes[i].seconds);
	}
}

static void s_write_connections(const struct ingress *app, struct sbuf *out)
{
	const struct http_server_stats *st = http_server_get_stats(app->srv);

	metrics_one(out, "sembark_ingress_connections", "gauge", "open client connections",
		    (double)http_server_connections(app->srv));
	metrics_one(out, "sembark_ingress_connections_accepted_total", "counter",
		    "client connections taken", (double)st->accepted);
	metrics_family(out, "sembark_ingress_connections_refused_total", "counter",
		       "client connections refused at accept, by the limit they met");
	metrics_sample(out, "sembark_ingress_connections_refused_total",
		       "reason=\"max_connections\"", (double)st->refused_max);
	metrics_sample(out, "sembark_ingress_connections_refused_total",
		       "reason=\"max_connections_per_address\"", (double)st->refused_per_address);
}

/* s_backend_labels - labels = backend="<name of backend i>" */
static char *s_backend_labels(char labels[static METRICS_LABELS_MAX], size_t i)
{
	labels[0] = '\0';
	(void)metrics_label(labels, METRICS_LABELS_MAX, "backend", ingress_backend_names[i]);
	return labels;
}

static void s_write_backends(const struct ingress *app, struct sbuf *out)
{
	const struct rpc_client *clients[INGRESS_BACKENDS] = { app->authd, app->telemetryd,
							       app->logd };
	static const char *const results[] = { "reply", "timeout", "failure" };
	char labels[METRICS_LABELS_MAX];

	metrics_family(out, "sembark_ingress_backend_calls_total", "counter",
		       "RPCs to each backend by outcome (failure: not sent, or connection closed)");
	for (size_t i = 0; i < INGRESS_BACKENDS; i++) {
		const struct rpc_client_stats *st = rpc_client_get_stats(clients[i]);
		const uint64_t counts[] = { st->replies, st->timeouts, st->failures };

		for (size_t k = 0; k < ELEMENTSOF(results); k++) {
			s_backend_labels(labels, i);
			(void)metrics_label(labels, sizeof(labels), "result", results[k]);
			metrics_sample(out, "sembark_ingress_backend_calls_total", labels,
				       (double)counts[k]);
		}
	}
	metrics_family(out, "sembark_ingress_backend_pending", "gauge",
		       "RPCs to each backend waiting for their answer");
	for (size_t i = 0; i < INGRESS_BACKENDS; i++)
		metrics_sample(out, "sembark_ingress_backend_pending", s_backend_labels(labels, i),
			       (double)rpc_pending(clients[i]));
	metrics_family(out, "sembark_ingress_backend_rtt_seconds", "histogram",
		       "round trip of each backend's answered RPCs");
	for (size_t i = 0; i < INGRESS_BACKENDS; i++)
		metrics_hist_write(out, "sembark_ingress_backend_rtt_seconds",
				   s_backend_labels(labels, i),
				   &rpc_client_get_stats(clients[i])->seconds);
}

/* ingress_metrics_write - ingressd's own families */
void ingress_metrics_write(const struct ingress *app, struct sbuf *out)
{
	int64_t up = mono_us() - app->d->started_us;

	metrics_family(out, "sembark_ingress_build_info", "gauge", "the program's version");
	metrics_sample(out, "sembark_ingress_build_info", "version=\"" SEMBARK_VERSION "\"", 1);
	metrics_one(out, "sembark_ingress_uptime_seconds", "gauge",
		    "seconds since the daemon started", (double)(up > 0 ? up : 0) / 1e6);
	metrics_one(out, "sembark_ingress_requests_inflight", "gauge",
		    "connections with a request being read, handled or written",
		    (double)http_server_inflight(app->srv));
	s_write_connections(app, out);
	if (app->metrics)
		s_write_routes(app->metrics, out);
	s_write_backends(app, out);
}

/* ---- GET /metrics on the admin listener ------------------------------------------ */

struct scrape {
	struct ingress_ask ask; /* first */
	struct ingress *app;
	char *text[INGRESS_BACKENDS]; /* each backend's answer; NULL: none */
};

static int s_encode(struct ipc_buf *b, uint64_t id)
{
	struct ipc_metrics m = { 0 };

	return ipc_encode_metrics(b, id, &m);
}

static void s_reply(struct ingress_ask *a, size_t i, int r, enum ipc_msg_type type,
		    const void *buf, size_t len)
{
	struct scrape *sc = (struct scrape *)a;
	struct ipc_metrics_text t;
	uint64_t id;

	if (r < 0 || type != IPC_MSG_METRICS_TEXT || ipc_decode_metrics_text(buf, len, &id, &t) < 0)
		return;
	if (id == a->slots[i].id)
		sc->text[i] = TAKE_PTR(t.text);
	ipc_free_metrics_text(&t);
}

static void s_answer(struct ingress_ask *a)
{
	struct scrape *sc = (struct scrape *)a;
	struct sbuf out = { 0 };
	char labels[METRICS_LABELS_MAX];
	char *body;

	ingress_metrics_write(sc->app, &out);
	for (size_t i = 0; i < INGRESS_BACKENDS; i++)
		if (sc->text[i])
			sbuf_puts(&out, sc->text[i]);
	metrics_family(&out, "sembark_ingress_scrape_backend_up", "gauge",
		       "1 when the backend answered this scrape");
	for (size_t i = 0; i < INGRESS_BACKENDS; i++)
		metrics_sample(&out, "sembark_ingress_scrape_backend_up", s_backend_labels(labels, i),
			       sc->text[i] ? 1 : 0);
	body = sbuf_take(&out);
	if (!body) {
		http_respond_error(a->ex, 503, "service_unavailable", "temporarily out of resources");
		return;
	}
	http_respond(a->ex, 200, CONTENT_TYPE, body, strlen(body), NULL, 0);
	free(body);
}

static void s_release(struct ingress_ask *a)
{
	struct scrape *sc = (struct scrape *)a;

	for (size_t i = 0; i < INGRESS_BACKENDS; i++)
		free(sc->text[i]);
}

static const struct ingress_ask_ops s_scrape_ops = {
	.encode = s_encode,
	.reply = s_reply,
	.done = s_answer,
	.release = s_release,
};

static uint64_t s_admin_head(struct http_exchange *ex, void *userdata)
{
	return 0; /* no request of the admin listener has a body */
}

static void s_admin_request(struct http_exchange *ex, void *userdata)
{
	struct ingress *app = userdata;
	static const struct http_out_header allow = { "Allow", "GET, HEAD" };
	struct scrape *sc;

	ex->no_store = true;
	if (strcmp(ex->req->path, "/metrics") != 0) {
		http_respond_error(ex, 404, "not_found", "only /metrics is served here");
		return;
	}
	if (strcmp(ex->req->method, "GET") != 0 && strcmp(ex->req->method, "HEAD") != 0) {
		http_respond_error_ex(ex, 405, "method_not_allowed", "GET only", &allow, 1);
		return;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		http_respond_error(ex, 503, "service_unavailable", "temporarily out of resources");
		return;
	}
	sc->app = app;
	ingress_ask_start(app, ex, &sc->ask, &s_scrape_ops, app->cfg->ingress.health_timeout_ms);
}

/*
 * ingress_metrics_listen - open [ingress] metrics_listen (before privileges
 * are dropped): 0 and *ret_fd (-1 when off), or -errno when the address is
 * bad or the public one
 */
int ingress_metrics_listen(const struct sembark_config *cfg, int *ret_fd)
{
	const char *spec = cfg->ingress.metrics_listen;
	int r;

	*ret_fd = -1;
	if (!spec[0])
		return 0;
	if (strcmp(spec, cfg->ingress.listen) == 0)
		return log_error_errno(-EINVAL, "[ingress] metrics_listen must not be the public "
					"address ([ingress] listen)");
	r = ingress_listen_open(spec, false, ret_fd);
	if (r == -EADDRINUSE) {
		/* another ingress on this host has it (instances): serve without */
		log_warning("[ingress] metrics_listen is in use: no metrics from this process");
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to listen on [ingress] metrics_listen");
	return 0;
}

/* ingress_metrics_serve - the admin HTTP server on fd (taken over; -1: none) */
int ingress_metrics_serve(struct ingress *app, int fd)
{
	const struct http_server_hooks hooks = {
		.head = s_admin_head,
		.request = s_admin_request,
		.userdata = app,
	};
	const struct http_server_limits lim = {
		.http = { .max_header_bytes = 8192, .max_headers = 32 },
		.max_connections = ADMIN_MAX_CONNECTIONS,
		.idle_timeout_ms = ADMIN_TIMEOUT_S * 1000,
		.request_timeout_ms = ADMIN_TIMEOUT_S * 1000,
		.quiet = true,
	};
	int port, r;

	if (fd < 0)
		return 0;
	port = ingress_listen_port(fd);
	r = http_server_new(app->d->base, fd, &lim, &hooks, &app->admin);
	if (r < 0)
		return log_error_errno(r, "Failed to start the metrics listener");
	log_info("metrics listener ready", LOG_I("port", port));
	return 0;
}
