/*
 * main.c - sembark-authd start-up and shutdown: config, database role
 * sembark_authd on an asynchronous pool (connected in the background: the
 * daemon starts and answers ping while PostgreSQL is down), the password
 * pool ([auth] hash_threads), the dummy hash that unknown emails are
 * verified against and the common-password set, the DEALER to
 * telemetryd for sign_in/sign_out signals, the ROUTER on [ipc] authd,
 * the hourly purge of expired sessions (purge.c), dropping root to
 * [auth] user, READY=1, the loop. On SIGTERM it refuses
 * new requests and keeps running until every request in flight is
 * answered, the pool is idle and the telemetry signals are settled (10 s
 * at most). Request handling is in ipc.c and the feature files.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "authd.h"
#include "wipe.h"
#include "log.h"

static void s_on_stop(void *userdata)
{
	struct authd *x = userdata;

	backend_stop_accepting(&x->b);
}

static int s_drain(void *userdata)
{
	struct authd *x = userdata;
	size_t n = backend_inflight(&x->b) + authd_pool_pending(x->pool) + authd_signal_pending(x);

	return (int)MIN(n, (size_t)INT_MAX);
}

/* s_passwords - the pool, the dummy hash and the common-password set, made once now
 * (blocking, before READY) */
static int s_passwords(struct authd *x)
{
	const struct sembark_config *cfg = &x->b.d.cfg;
	struct authd_hash_policy policy;
	int r;

	wipe_json_allocations(); /* bodies hold passwords */
	r = authd_pool_new(x->b.d.base, cfg->auth.hash_threads, &x->pool);
	if (r < 0)
		return log_error_errno(r, "cannot start the password pool",
				       LOG_I("threads", cfg->auth.hash_threads));
	authd_hash_policy(cfg, &policy);
	if (!authd_password_dummy(&policy))
		return log_error_errno(-EIO, "cannot make the dummy password hash");
	log_debug("common-password list indexed",
		  LOG_I("entries", authd_common_passwords_count())); /* built now, not at a request */
	return 0;
}

/* s_open_pool - the asynchronous connections every statement of authd runs on */
static int s_open_pool(struct authd *x)
{
	int r = pgq_new(x->b.d.base, x->b.db, AUTHD_DB_CONNS, &x->b.pgq);

	if (r >= 0)
		r = authd_sessions_prepare(x);
	if (r >= 0)
		r = authd_team_prepare(x);
	if (r >= 0)
		r = authd_throttle_prepare(x);
	if (r >= 0)
		r = authd_accounts_prepare(x);
	if (r >= 0)
		r = authd_purge_prepare(x);
	if (r >= 0)
		r = authd_two_factor_prepare(x);
	if (r >= 0)
		r = authd_privacy_prepare(x);
	if (r >= 0)
		r = authd_recovery_prepare(x);
	if (r >= 0)
		r = authd_verify_prepare(x);
	if (r >= 0)
		r = authd_audit_prepare(x);
	if (r >= 0)
		r = authd_sessions_listen(x);
	if (r >= 0)
		r = pgq_start(x->b.pgq);
	if (r < 0)
		return log_error_errno(r, "cannot set up the asynchronous database pool");
	return 0;
}

/* s_queues - pong's queues: password jobs not yet done */
static void s_queues(const struct backend *b, struct ipc_pong *pong)
{
	const struct authd *x = b->owner;

	backend_pong_queue(pong, "hash_pending", authd_pool_pending(x->pool));
}

/* s_metrics - the hash pool: queue, wait, work */
static void s_metrics(const struct backend *b, const char *prefix, struct sbuf *out)
{
	const struct authd *x = b->owner;
	const struct authd_pool_stats *st = authd_pool_get_stats(x->pool);
	char n[128], labels[METRICS_LABELS_MAX] = "";

	snprintf(n, sizeof(n), "%s_hash_threads", prefix);
	metrics_one(out, n, "gauge", "password hashing threads", authd_pool_threads(x->pool));
	snprintf(n, sizeof(n), "%s_hash_pending", prefix);
	metrics_one(out, n, "gauge", "password jobs queued, running or finishing",
		    (double)authd_pool_pending(x->pool));
	snprintf(n, sizeof(n), "%s_hash_jobs_total", prefix);
	metrics_family(out, n, "counter",
		       "password jobs by outcome (skipped: its caller had stopped waiting)");
	(void)metrics_label(labels, sizeof(labels), "result", "done");
	metrics_sample(out, n, labels, (double)st->done);
	labels[0] = '\0';
	(void)metrics_label(labels, sizeof(labels), "result", "skipped");
	metrics_sample(out, n, labels, (double)st->skipped);
	snprintf(n, sizeof(n), "%s_hash_wait_seconds", prefix);
	metrics_family(out, n, "histogram", "time a password job waited for a hashing thread");
	metrics_hist_write(out, n, NULL, &st->wait);
	snprintf(n, sizeof(n), "%s_hash_work_seconds", prefix);
	metrics_family(out, n, "histogram", "time a password hash or check took");
	metrics_hist_write(out, n, NULL, &st->work);
}

static int s_run(struct authd *x)
{
	const struct sembark_config *cfg = &x->b.d.cfg;
	int r;

	r = authd_cache_init(&x->cache, (size_t)cfg->auth.session_cache_max,
			     cfg->auth.session_cache_ttl);
	if (r < 0)
		return log_error_errno(r, "cannot make the session cache");
	r = backend_open_db(&x->b.d, BACKEND_ROLE_AUTHD, "db-authd-password",
			    cfg->database.authd_password_file, &x->b.db);
	if (r < 0)
		return r;
	r = s_passwords(x);
	if (r < 0)
		return r;
	r = authd_two_factor_load_key(x);
	if (r < 0)
		return r;
	r = s_open_pool(x);
	if (r < 0)
		return r;
	r = authd_signal_open(x);
	if (r < 0)
		return r;
	r = authd_purge_start(x);
	if (r < 0)
		return log_error_errno(r, "cannot start the session purge");
	x->b.queues = s_queues;
	x->b.metrics = s_metrics;
	r = backend_serve(&x->b, cfg->ipc.authd, IPC_PEER_AUTHD, authd_handlers, x);
	if (r < 0)
		return r;
	return backend_run(&x->b, cfg->auth.user, s_on_stop, s_drain, x);
}

int main(int argc, char **argv)
{
	struct authd x = { 0 };
	int r;

	r = daemon_init(&x.b.d, "authd", argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	r = s_run(&x);
	authd_purge_stop(&x);
	x.pool = authd_pool_free(x.pool); /* last done callbacks may still reply */
	if (x.cache.hits + x.cache.misses > 0)
		log_info("session cache totals", LOG_I("hits", x.cache.hits),
			 LOG_I("misses", x.cache.misses));
	x.telemetry = rpc_client_free(x.telemetry);
	backend_done(&x.b);
	authd_cache_done(&x.cache);
	authd_two_factor_free_key(&x);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
