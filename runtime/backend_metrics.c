/*
 * backend_metrics.c - a backend's answer to "metrics": Prometheus text
 * (shared/metrics.h) of what every backend has (its version, uptime,
 * requests in flight, its PostgreSQL pool: up, queued, queries by result,
 * their durations, connections lost), then the daemon's own families
 * (struct backend's metrics hook). Every family's name starts with
 * "sembark_<service>_", so ingressd can concatenate the answers of the
 * three backends after its own. Loop thread; nothing here waits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "ipc.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "sbuf.h"

#define NAME_MAX_LEN 128

static const char *s_name(char buf[static NAME_MAX_LEN], const char *prefix, const char *suffix)
{
	snprintf(buf, NAME_MAX_LEN, "%s_%s", prefix, suffix);
	return buf;
}

/* backend_metrics_pgq - a pgq pool's families, names starting with prefix "_db_" */
void backend_metrics_pgq(const struct pgq *q, const char *prefix, struct sbuf *out)
{
	const struct pgq_stats *st = pgq_get_stats(q);
	char n[NAME_MAX_LEN];
	static const char *const results[] = { "ok", "sql_error", "timeout", "unavailable" };
	const uint64_t counts[] = { st->ok, st->sql_errors, st->timeouts, st->unavailable };

	metrics_one(out, s_name(n, prefix, "db_up"), "gauge",
		    "1 when at least one PostgreSQL connection is ready or working", pgq_is_up(q));
	metrics_one(out, s_name(n, prefix, "db_queued"), "gauge",
		    "statements waiting for a PostgreSQL connection", (double)pgq_queued(q));
	metrics_family(out, s_name(n, prefix, "db_queries_total"), "counter",
		       "PostgreSQL statements by how they ended (sql_error: PostgreSQL refused one)");
	for (size_t i = 0; i < ELEMENTSOF(results); i++) {
		char labels[METRICS_LABELS_MAX] = "";

		(void)metrics_label(labels, sizeof(labels), "result", results[i]);
		metrics_sample(out, n, labels, (double)counts[i]);
	}
	metrics_one(out, s_name(n, prefix, "db_connection_losses_total"), "counter",
		    "PostgreSQL connections that failed or were dropped", (double)st->connection_losses);
	metrics_family(out, s_name(n, prefix, "db_query_seconds"), "histogram",
		       "time from queueing a statement to its answer");
	metrics_hist_write(out, n, NULL, &st->seconds);
}

static void s_common(const struct backend *b, const char *prefix, struct sbuf *out)
{
	char n[NAME_MAX_LEN], labels[METRICS_LABELS_MAX] = "";
	int64_t up = mono_us() - b->d.started_us;

	(void)metrics_label(labels, sizeof(labels), "version", SEMBARK_VERSION);
	metrics_family(out, s_name(n, prefix, "build_info"), "gauge", "the program's version");
	metrics_sample(out, n, labels, 1);
	metrics_one(out, s_name(n, prefix, "uptime_seconds"), "gauge",
		    "seconds since the daemon started", (double)(up > 0 ? up : 0) / 1e6);
	metrics_one(out, s_name(n, prefix, "requests_inflight"), "gauge",
		    "IPC requests received and not yet answered", (double)backend_inflight(b));
	if (b->pgq)
		backend_metrics_pgq(b->pgq, prefix, out);
}

/* backend_handle_metrics - answer "metrics" with metrics.text */
void backend_handle_metrics(struct backend *b, struct rpc_request *req, const void *buf,
			    size_t len)
{
	struct ipc_metrics m;
	struct ipc_metrics_text t = { 0 };
	struct sbuf text = { 0 };
	char prefix[48];
	struct ipc_buf out;
	uint64_t id;
	int r;

	if (ipc_decode_metrics(buf, len, &id, &m) < 0) {
		(void)rpc_reply_error(req, "bad_message", "malformed metrics");
		return;
	}
	ipc_free_metrics(&m);
	snprintf(prefix, sizeof(prefix), "sembark_%s", b->d.service);
	s_common(b, prefix, &text);
	if (b->metrics)
		b->metrics(b, prefix, &text);
	t.text = sbuf_take(&text);
	if (!t.text) {
		(void)rpc_reply_error(req, "internal", "out of memory");
		return;
	}
	t.text_len = strlen(t.text);
	ipc_buf_init(&out);
	r = ipc_encode_metrics_text(&out, rpc_request_id(req), &t);
	if (r < 0) {
		log_warning("cannot encode the metrics", LOG_I("bytes", (int64_t)t.text_len));
		(void)rpc_reply_error(req, "internal", "cannot encode the metrics");
	} else {
		(void)rpc_reply(req, out.data, out.size);
	}
	ipc_buf_done(&out);
	free(t.text);
}
