/*
 * main.c - sembark-telemetryd start-up and shutdown: config, database role
 * sembark_telemetryd on an asynchronous pool (connected in the background:
 * the daemon starts and answers ping while PostgreSQL is down), the group commit and upkeep timers, the ROUTER
 * on [ipc] telemetryd, dropping root to [telemetry] user, READY=1, the loop.
 * On SIGTERM it refuses new requests, sends what is queued at once and
 * answers every request in flight (after its commit) before it exits; the
 * pool is freed last (backend_done), answering what still waits 503. Request handling is in
 * ipc.c and the feature files.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "telemetryd.h"

static void s_on_stop(void *userdata)
{
	struct telemetryd *x = userdata;

	backend_stop_accepting(&x->b);
	telemetryd_ingest_flush_now(x);
}

static int s_drain(void *userdata)
{
	struct telemetryd *x = userdata;
	size_t n = backend_inflight(&x->b);

	return n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
}

/* s_open_pool - the asynchronous connections every statement runs on (connected in the background) */
static int s_open_pool(struct telemetryd *x)
{
	int r = pgq_new(x->b.d.base, x->b.db, TELEMETRYD_DB_CONNS, &x->b.pgq);

	if (r >= 0)
		r = telemetryd_ingest_prepare(x);
	if (r >= 0)
		r = telemetryd_partitions_prepare(x);
	if (r >= 0)
		r = telemetryd_summary_prepare(x);
	if (r >= 0)
		r = pgq_start(x->b.pgq);
	if (r < 0)
		return log_error_errno(r, "cannot set up the asynchronous database pool");
	return 0;
}

/* s_queues - pong's queues: events waiting for a batch, batches in flight */
static void s_queues(const struct backend *b, struct ipc_pong *pong)
{
	const struct telemetryd *x = b->owner;

	backend_pong_queue(pong, "batch_events", x->q.n_events);
	backend_pong_queue(pong, "batches_inflight", (uint64_t)x->q.inflight);
}

/* s_metrics - the group commit: what waits, what was stored, batch sizes and commit times */
static void s_metrics(const struct backend *b, const char *prefix, struct sbuf *out)
{
	const struct telemetryd *x = b->owner;
	char n[128];

	snprintf(n, sizeof(n), "%s_queued_events", prefix);
	metrics_one(out, n, "gauge", "accepted events waiting for their batch",
		    (double)x->q.n_events);
	snprintf(n, sizeof(n), "%s_batches_inflight", prefix);
	metrics_one(out, n, "gauge", "batches on their way to PostgreSQL", x->q.inflight);
	snprintf(n, sizeof(n), "%s_events_stored_total", prefix);
	metrics_one(out, n, "counter", "events committed (duplicates not counted)",
		    (double)x->q.committed);
	snprintf(n, sizeof(n), "%s_batches_total", prefix);
	metrics_family(out, n, "counter", "batches by outcome (failed: answered 503)");
	metrics_sample(out, n, "result=\"committed\"", (double)x->q.batches);
	metrics_sample(out, n, "result=\"failed\"", (double)x->q.failed);
	snprintf(n, sizeof(n), "%s_batch_events", prefix);
	metrics_family(out, n, "histogram", "events per committed batch");
	metrics_hist_write(out, n, NULL, &x->q.batch_events);
	snprintf(n, sizeof(n), "%s_commit_seconds", prefix);
	metrics_family(out, n, "histogram", "a batch from its making to its commit");
	metrics_hist_write(out, n, NULL, &x->q.commit_seconds);
}

static int s_run(struct telemetryd *x)
{
	const struct sembark_config *cfg = &x->b.d.cfg;
	int r;

	r = backend_open_db(&x->b.d, BACKEND_ROLE_TELEMETRYD, "db-telemetryd-password",
			    cfg->database.telemetryd_password_file, &x->b.db);
	if (r < 0)
		return r;
	r = s_open_pool(x);
	if (r < 0)
		return r;
	r = telemetryd_ingest_start(x);
	if (r < 0)
		return r;
	r = telemetryd_upkeep_start(x);
	if (r < 0)
		return r;
	x->b.ops = telemetryd_ops;
	x->b.queues = s_queues;
	x->b.metrics = s_metrics;
	r = backend_serve(&x->b, cfg->ipc.telemetryd, IPC_PEER_TELEMETRYD, telemetryd_handlers, x);
	if (r < 0)
		return r;
	return backend_run(&x->b, cfg->telemetry.user, s_on_stop, s_drain, x);
}

int main(int argc, char **argv)
{
	struct telemetryd x = { 0 };
	int r;

	r = daemon_init(&x.b.d, "telemetryd", argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	r = s_run(&x);
	telemetryd_ingest_stop(&x);
	telemetryd_upkeep_stop(&x);
	backend_done(&x.b);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
