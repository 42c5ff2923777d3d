/*
 * main.c - sembark-logd start-up and shutdown: config, the record buffer
 * and log hook (so logd's own records are stored too), database role
 * sembark_logd and its asynchronous pool of LOGD_DB_CONNS connections,
 * on which every statement of logd runs (connected in the background:
 * logd starts, buffers and answers ping while PostgreSQL is down), the
 * partitions and a first retention run queued on it, the PULL and ROUTER
 * sockets, dropping root to [logs] user, READY=1, the loop. On SIGTERM it
 * stops answering requests, keeps receiving, and keeps the loop running
 * while records are buffered or in flight or a request is unanswered, for
 * at most LOGD_STOP_FLUSH_US (store.c: logd_store_drain, then one last
 * round after the loop) before it exits.
 */
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "logd.h"

static void s_on_stop(void *userdata)
{
	struct logd *l = userdata;

	logd_ipc_stop(l);
	l->stop_deadline_us = mono_us() + LOGD_STOP_FLUSH_US;
}

static int s_drain(void *userdata)
{
	return logd_store_drain(userdata);
}

/* s_open_pool - the pool and every statement of logd on it, then connect (in the background) */
static int s_open_pool(struct logd *l)
{
	int r = pgq_new(l->b.d.base, l->b.db, LOGD_DB_CONNS, &l->b.pgq);

	if (r >= 0)
		r = logd_store_prepare(l);
	if (r >= 0)
		r = logd_audit_list_prepare(l);
	if (r >= 0)
		r = logd_retention_prepare(l);
	if (r >= 0)
		r = logd_outbox_prepare(l);
	if (r >= 0)
		r = pgq_start(l->b.pgq);
	if (r < 0)
		return log_error_errno(r, "cannot set up the asynchronous database pool");
	return 0;
}

/* s_queues - pong's queues: what waits for PostgreSQL, what was dropped for room */
static void s_queues(const struct backend *b, struct ipc_pong *pong)
{
	const struct logd *l = b->owner;

	backend_pong_queue(pong, "logs_buffered", l->logs.buf.count);
	backend_pong_queue(pong, "logs_dropped", l->logs.buf.dropped);
	backend_pong_queue(pong, "audit_buffered", l->audit.buf.count);
	backend_pong_queue(pong, "audit_dropped", l->audit.buf.dropped);
}

static void s_stream_metrics(const struct logd *l, const char *prefix, const char *what,
			     const char *type, const char *help, struct sbuf *out, bool dropped)
{
	char n[128];

	snprintf(n, sizeof(n), "%s_%s", prefix, what);
	metrics_family(out, n, type, help);
	metrics_sample(out, n, "stream=\"logs\"",
		       (double)(dropped ? l->logs.buf.dropped : l->logs.buf.count));
	metrics_sample(out, n, "stream=\"audit\"",
		       (double)(dropped ? l->audit.buf.dropped : l->audit.buf.count));
}

/* s_metrics - queues and drops of both streams, redactions, retention runs */
static void s_metrics(const struct backend *b, const char *prefix, struct sbuf *out)
{
	const struct logd *l = b->owner;
	const struct logd_retention *t = &l->retention;
	char n[128];

	s_stream_metrics(l, prefix, "buffered", "gauge",
			 "records waiting in memory for PostgreSQL", out, false);
	s_stream_metrics(l, prefix, "dropped_total", "counter",
			 "records dropped for room (audit events stay in authd's outbox)", out, true);
	snprintf(n, sizeof(n), "%s_garbage_total", prefix);
	metrics_one(out, n, "counter", "log records refused as undecodable", (double)l->garbage);
	snprintf(n, sizeof(n), "%s_redactions_total", prefix);
	metrics_one(out, n, "counter", "secrets and addresses redacted from log records",
		    (double)logd_redactions());
	snprintf(n, sizeof(n), "%s_retention_runs_total", prefix);
	metrics_family(out, n, "counter", "retention runs by outcome");
	metrics_sample(out, n, "result=\"ok\"", (double)t->runs_ok);
	metrics_sample(out, n, "result=\"failed\"", (double)t->runs_failed);
	snprintf(n, sizeof(n), "%s_retention_partitions_dropped_total", prefix);
	metrics_one(out, n, "counter", "daily partitions of logs and audit events deleted",
		    (double)t->dropped);
	snprintf(n, sizeof(n), "%s_retention_last_success_timestamp_seconds", prefix);
	metrics_one(out, n, "gauge", "when the last retention run without a failure ended (0: none)",
		    (double)t->last_ok_us / 1e6);
}

static int s_run(struct logd *l)
{
	const struct sembark_config *cfg = &l->b.d.cfg;
	int r;

	r = logd_store_start(l);
	if (r < 0)
		return r;
	r = backend_open_db(&l->b.d, BACKEND_ROLE_LOGD, "db-logd-password",
			    cfg->database.logd_password_file, &l->b.db);
	if (r < 0)
		return r;
	r = s_open_pool(l);
	if (r < 0)
		return r;
	logd_store_partitions(l);
	(void)logd_retention_run(l);
	r = logd_outbox_start(l);
	if (r < 0)
		return r;
	l->b.queues = s_queues;
	l->b.metrics = s_metrics;
	r = logd_ipc_open(l);
	if (r < 0)
		return r;
	return backend_run(&l->b, cfg->logs.user, s_on_stop, s_drain, l);
}

int main(int argc, char **argv)
{
	struct logd l = { 0 };
	int r;

	r = daemon_init(&l.b.d, "logd", argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	r = s_run(&l);
	logd_outbox_stop(&l);
	logd_store_stop(&l, r != -ECANCELED);
	logd_ipc_close(&l);
	backend_done(&l.b);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
