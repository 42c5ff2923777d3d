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
