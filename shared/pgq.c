/*
 * pgq.c - PostgreSQL on a libevent loop that never waits for it (see
 * pgq.h): a pool of libpq connections used through the asynchronous API
 * only (PQconnectStartParams/PQconnectPoll, PQsendPrepare,
 * PQsendQueryPrepared, PQflush, PQconsumeInput/PQisBusy/PQgetResult), in
 * non-blocking mode, each socket watched by the loop.
 *
 * A connection goes DOWN -> CONNECTING -> PREPARING (every declared
 * statement, one after the other) -> READY <-> BUSY (one query at a time)
 * and back to DOWN when anything fails, then opens again after a back-off
 * of 200 ms doubling to 1 s. Queries wait in one FIFO queue; a "pump"
 * event hands them to READY connections on the next loop turn, so a
 * callback never runs inside pgq_run(). Each query has a deadline timer:
 * a queued query is dropped with -ETIMEDOUT; a running one is answered
 * -ETIMEDOUT and its connection stays BUSY until the server answers
 * (statement_timeout bounds that), or is dropped when it has not after
 * PGQ_GRACE_MS more. While no connection is up after a failed attempt,
 * queued and new queries fail at once with -ENOTCONN, so a caller can
 * answer 503 quickly instead of at its deadline.
 *
 * Listening (pgq_listen): one more connection, outside the pool, that
 * runs LISTEN <channel> once connected and then only takes notifications;
 * it comes and goes like the others (same back-off), and its owner hears
 * PGQ_LISTEN_UP when the LISTEN is in force and PGQ_LISTEN_DOWN when the
 * connection is lost (notifications in between are missed).
 *
 * Logging: one info when its first connection is ready ("database
 * connected"), one warning when the pool loses its last connection (the
 * reason cut to libpq's, no host address), one info when it has one again;
 * one warning when the listening connection is lost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "db.h"
#include "log.h"
#include "macro.h"
#include "pgq.h"
#include "util.h"

#define PGQ_RETRY_MIN_MS 200
#define PGQ_RETRY_MAX_MS 1000 /* service is back within ~1 s of PostgreSQL (the fault campaign: 5 s) */
#define PGQ_CONNECT_MS 10000 /* a connection attempt, all of it */
#define PGQ_GRACE_MS 5000    /* a query given up on may take this much longer */
#define PGQ_NAME_MAX 8       /* "s31" */
#define PGQ_ERROR_MAX 256

enum conn_state { C_DOWN, C_CONNECTING, C_PREPARING, C_READY, C_BUSY };

struct pgq_conn;

struct pgq_job {
	struct pgq_job *prev, *next; /* the queue, while queued */
	struct pgq *q;
	uint64_t id;
	int64_t start_us; /* util_mono_us() at pgq_run */
	int stmt;
	int nparams;
	const char *params[PGQ_PARAMS_MAX];
	struct event *deadline;
	pgq_fn cb;
	void *userdata;
	struct pgq_conn *conn; /* running there; NULL while queued */
	size_t text_len;
	char text[];           /* the parameters */
};

struct pgq_conn {
	struct pgq *q;
	PGconn *pg;
	enum conn_state state;
	struct event *io;      /* EV_READ, persistent, once connected */
	struct event *out;     /* EV_WRITE while output is pending */
	struct event *poll;    /* one step of PQconnectPoll */
	struct event *timer;   /* reconnect back-off, connect limit, or grace */
	int prepared;          /* statements prepared on this connection */
	struct pgq_job *job;   /* the query it runs; NULL when given up on */
	PGresult *res;         /* the result being collected */
	int retry_ms;
	bool listen;           /* the listening connection (pgq_listen), not a query one */
};

struct pgq {
	struct event_base *base;
	const struct db *db;
	struct pgq_conn conns[PGQ_CONNS_MAX];
	int nconns;
	const char *sql[PGQ_STMTS_MAX];
	int nparams[PGQ_STMTS_MAX];
	int nstmts;
	struct pgq_job *head, *tail;
	size_t queued;
	struct event *pump;
	uint64_t next_id;
	bool tried;        /* a connection attempt has failed since the last success */
	bool outage;       /* the loss was logged */
	bool connected_once; /* "database connected" was logged */
	struct pgq_conn listener;          /* with has_listener: LISTEN listen_sql's channel */
	bool has_listener, listening;
	char listen_sql[PGQ_CHANNEL_MAX + 16];
	pgq_notify_fn notify_cb;
	void *notify_userdata;
	struct pgq_stats stats;
};

static void s_conn_fail(struct pgq_conn *c, const char *why);
static void s_conn_start(struct pgq_conn *c);

/* ---- jobs ---------------------------------------------------------------- */

static void s_job_free(struct pgq_job *j)
{
	if (j->deadline)
		event_free(j->deadline);
	explicit_bzero(j->text, j->text_len); /* parameters may be token hashes */
	free(j);
}

static void s_queue_remove(struct pgq *q, struct pgq_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		q->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		q->tail = j->prev;
	j->prev = j->next = NULL;
	q->queued--;
}

/* s_job_end - answer and free a job that is in no list any more */
static void s_job_count(struct pgq_stats *st, const struct pgq_job *j, int r)
{
	if (r == 0 || r == -EIO)
		metrics_hist_observe(&st->seconds, (double)(util_mono_us() - j->start_us) / 1e6);
	if (r == 0)
		st->ok++;
	else if (r == -EIO)
		st->sql_errors++;
	else if (r == -ETIMEDOUT)
		st->timeouts++;
	else if (r == -ENOTCONN)
		st->unavailable++;
}

static void s_job_end(struct pgq_job *j, int r, const PGresult *res, const char *sqlstate)
{
	pgq_fn cb = j->cb;
	void *userdata = j->userdata;

	s_job_count(&j->q->stats, j, r);
	s_job_free(j);
	if (cb)
		cb(r, res, sqlstate ? sqlstate : "", userdata);
}

static bool s_any_up(const struct pgq *q)
{
	for (int i = 0; i < q->nconns; i++)
		if (q->conns[i].state >= C_PREPARING)
			return true;
	return false;
}

static bool s_any_connecting(const struct pgq *q)
{
	for (int i = 0; i < q->nconns; i++)
		if (q->conns[i].state == C_CONNECTING)
			return true;
	return false;
}

/* s_fail_queued - every queued query gets r */
static void s_fail_queued(struct pgq *q, int r)
{
	while (q->head) {
		struct pgq_job *j = q->head;

		s_queue_remove(q, j);
		s_job_end(j, r, NULL, NULL);
	}
}

static void s_schedule_pump(struct pgq *q)
{
	if (q->pump)
		event_active(q->pump, 0, 0);
}

/* s_deadline_cb - a job's time is up: queued, or running */
static void s_deadline_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct pgq_job *j = userdata;
	struct pgq_conn *c = j->conn;

	if (c) {
		const struct timeval grace = { PGQ_GRACE_MS / 1000, (PGQ_GRACE_MS % 1000) * 1000 };

		c->job = NULL; /* the result, when it comes, is dropped */
		evtimer_add(c->timer, &grace);
	} else {
		s_queue_remove(j->q, j);
	}
	s_job_end(j, -ETIMEDOUT, NULL, NULL);
}

/* ---- a connection's socket ---------------------------------------------------- */

static void s_conn_close(struct pgq_conn *c)
{
	if (c->io)
		event_free(c->io);
	if (c->out)
		event_free(c->out);
	if (c->poll)
		event_free(c->poll);
	c->io = c->out = c->poll = NULL;
	if (c->res)
		PQclear(c->res);
	c->res = NULL;
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	evtimer_del(c->timer);
	c->state = C_DOWN;
}

/* s_flush - send what libpq holds; watch for writability while some is left */
static int s_flush(struct pgq_conn *c)
{
	int r = PQflush(c->pg);

	if (r < 0)
		return -EIO;
	if (r > 0)
		event_add(c->out, NULL);
	return 0;
}

static void s_out_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct pgq_conn *c = userdata;

	if (s_flush(c) < 0)
		s_conn_fail(c, PQerrorMessage(c->pg));
}

/* s_send_prepare - prepare the next statement on c */
static void s_send_prepare(struct pgq_conn *c)
{
	char name[PGQ_NAME_MAX];

	snprintf(name, sizeof(name), "s%d", c->prepared);
	if (!PQsendPrepare(c->pg, name, c->q->sql[c->prepared], c->q->nparams[c->prepared], NULL) ||
	    s_flush(c) < 0)
		s_conn_fail(c, PQerrorMessage(c->pg));
}

/* s_ready - c may take a query now */
static void s_ready(struct pgq_conn *c)
{
	struct pgq *q = c->q;

	c->state = C_READY;
	c->retry_ms = 0;
	q->tried = false;
	if (!q->connected_once) {
		q->connected_once = true;
		log_info("database connected", LOG_S("user", db_user(q->db)));
	}
	if (q->outage) {
		q->outage = false;
		log_info("database connection restored", LOG_S("user", db_user(q->db)),
			 LOG_S("pool", "async"));
	}
	s_schedule_pump(q);
}

/* s_prepared - one statement's PREPARE came back */
static void s_prepared(struct pgq_conn *c, const PGresult *res)
{
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		s_conn_fail(c, res ? PQresultErrorMessage(res) : "no answer to PREPARE");
		return;
	}
	if (++c->prepared < c->q->nstmts)
		s_send_prepare(c);
	else
		s_ready(c);
}

/* s_answered - the running query's result came back (or its connection is done) */
static void s_answered(struct pgq_conn *c, PGresult *res)
{
	struct pgq_job *j = c->job;
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int r = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK ? 0 : -EIO;

	c->job = NULL;
	c->state = C_READY;
	evtimer_del(c->timer); /* a grace period, if one ran */
	if (j) {
		event_del(j->deadline);
		if (r < 0)
			log_debug("database query failed", LOG_S("sqlstate", sqlstate ? sqlstate : ""));
		s_job_end(j, r, r == 0 ? res : NULL, r < 0 ? sqlstate : NULL);
	}
	s_schedule_pump(c->q);
}

/* s_listening - the LISTEN came back: notifications flow from now on */
static void s_listening(struct pgq_conn *c, const PGresult *res)
{
	struct pgq *q = c->q;

	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		s_conn_fail(c, res ? PQresultErrorMessage(res) : "no answer to LISTEN");
		return;
	}
	c->state = C_READY;
	c->retry_ms = 0;
	q->listening = true;
	q->notify_cb(PGQ_LISTEN_UP, NULL, q->notify_userdata);
}

/* s_complete - the command on c is over (PQgetResult said NULL) */
static void s_complete(struct pgq_conn *c)
{
	PGresult *res = TAKE_PTR(c->res);

	if (c->listen && c->state == C_PREPARING)
		s_listening(c, res);
	else if (c->state == C_PREPARING)
		s_prepared(c, res);
	else if (c->state == C_BUSY)
		s_answered(c, res);
	if (res)
		PQclear(res);
}

/* s_drain - take every result libpq has in full; -EIO when the connection broke */
static int s_drain(struct pgq_conn *c)
{
	PGnotify *n;

	if (!PQconsumeInput(c->pg))
		return -EIO;
	while (c->pg && (n = PQnotifies(c->pg))) {
		if (c->listen) /* the callback may not free the pool */
			c->q->notify_cb(PGQ_NOTIFY, n->extra, c->q->notify_userdata);
		PQfreemem(n);
	}
	while (c->pg && !PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);

		if (!res) {
			if (c->state == C_PREPARING || c->state == C_BUSY)
				s_complete(c);
			break;
		}
		if (c->res) /* one statement, one result: keep the first */
			PQclear(res);
		else
			c->res = res;
	}
	return PQstatus(c->pg) == CONNECTION_OK ? 0 : -EIO;
}

static void s_io_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct pgq_conn *c = userdata;

	if (s_drain(c) < 0 && c->pg)
		s_conn_fail(c, PQerrorMessage(c->pg));
}

/* ---- connecting ----------------------------------------------------------------- */

/* s_connected - the connection is open: watch it, prepare the statements */
static void s_connected(struct pgq_conn *c)
{
	int fd = PQsocket(c->pg);

	evtimer_del(c->timer);
	if (PQsetnonblocking(c->pg, 1) != 0) {
		s_conn_fail(c, "cannot make the connection non-blocking");
		return;
	}
	PQsetNoticeReceiver(c->pg, db_on_notice, NULL);
	c->io = event_new(c->q->base, fd, EV_READ | EV_PERSIST, s_io_cb, c);
	c->out = event_new(c->q->base, fd, EV_WRITE, s_out_cb, c);
	if (!c->io || !c->out || event_add(c->io, NULL) < 0) {
		s_conn_fail(c, "out of memory");
		return;
	}
	c->prepared = 0;
	if (c->listen) {
		c->state = C_PREPARING;
		if (!PQsendQuery(c->pg, c->q->listen_sql) || s_flush(c) < 0)
			s_conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (c->q->nstmts == 0) {
		s_ready(c);
		return;
	}
	c->state = C_PREPARING;
	s_send_prepare(c);
}

static void s_poll_cb(evutil_socket_t fd, short what, void *userdata);

/* s_poll_step - one PQconnectPoll step */
static void s_poll_step(struct pgq_conn *c)
{
	PostgresPollingStatusType st = PQconnectPoll(c->pg);
	short ev;

	if (st == PGRES_POLLING_OK) {
		s_connected(c);
		return;
	}
	if (st == PGRES_POLLING_FAILED) {
		s_conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	ev = st == PGRES_POLLING_WRITING ? EV_WRITE : EV_READ;
	if (c->poll)
		event_free(c->poll);
	c->poll = event_new(c->q->base, PQsocket(c->pg), ev, s_poll_cb, c);
	if (!c->poll || event_add(c->poll, NULL) < 0)
		s_conn_fail(c, "out of memory");
}

static void s_poll_cb(evutil_socket_t fd, short what, void *userdata)
{
	s_poll_step(userdata);
}

/* s_conn_start - begin opening c, with PGQ_CONNECT_MS for all of it */
static void s_conn_start(struct pgq_conn *c)
{
	const struct timeval limit = { PGQ_CONNECT_MS / 1000, 0 };
	const char *keys[DB_PARAMS_MAX], *vals[DB_PARAMS_MAX];

	db_conn_params(c->q->db, keys, vals);
	c->pg = PQconnectStartParams(keys, vals, 0);
	if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
		s_conn_fail(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	c->state = C_CONNECTING;
	evtimer_add(c->timer, &limit);
	s_poll_step(c);
}

/* s_timer_cb - back-off over (connect again), connect limit or grace passed (drop) */
static void s_timer_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct pgq_conn *c = userdata;

	switch (c->state) {
	case C_DOWN:
		s_conn_start(c);
		break;
	case C_CONNECTING:
		s_conn_fail(c, "connection attempt timed out");
		break;
	case C_BUSY: /* a query given up on is still not answered */
		s_conn_fail(c, "a query did not end in time");
		break;
	default:
		break;
	}
}

/* s_note_loss - log (once) that the pool has no connection; fail what waits */
static void s_note_loss(struct pgq *q, const char *line)
{
	q->tried = true;
	if (s_any_up(q))
		return;
	if (!q->outage) {
		q->outage = true;
		log_warning("database connection failed", LOG_S("user", db_user(q->db)),
			    LOG_S("pool", "async"), LOG_S("error", line));
	}
	if (!s_any_connecting(q))
		s_fail_queued(q, -ENOTCONN);
}

/* s_listener_lost - notifications stopped: say so once, tell the owner */
static void s_listener_lost(struct pgq *q, const char *line)
{
	if (!q->listening)
		return;
	q->listening = false;
	log_warning("database notifications lost, listening again", LOG_S("user", db_user(q->db)),
		    LOG_S("error", line));
	q->notify_cb(PGQ_LISTEN_DOWN, NULL, q->notify_userdata);
}

/*
 * s_conn_fail - c is done for: its query fails, it opens again after a
 * back-off. why may be libpq's message of c: it is copied before c closes.
 */
static void s_conn_fail(struct pgq_conn *c, const char *why)
{
	struct pgq_job *j = TAKE_PTR(c->job);
	char line[PGQ_ERROR_MAX];
	struct timeval tv;

	db_error_line(why, line, sizeof(line));
	if (c->state != C_CONNECTING)
		c->q->stats.connection_losses++;
	s_conn_close(c);
	c->retry_ms = c->retry_ms ? MIN(c->retry_ms * 2, PGQ_RETRY_MAX_MS) : PGQ_RETRY_MIN_MS;
	tv = (struct timeval){ c->retry_ms / 1000, (c->retry_ms % 1000) * 1000 };
	evtimer_add(c->timer, &tv);
	if (c->listen) {
		s_listener_lost(c->q, line);
		return;
	}
	s_note_loss(c->q, line);
	if (j) {
		event_del(j->deadline);
		s_job_end(j, -ENOTCONN, NULL, NULL);
	}
}

/* ---- running queries ------------------------------------------------------------- */

/* s_send - run j on the READY connection c */
static void s_send(struct pgq_conn *c, struct pgq_job *j)
{
	char name[PGQ_NAME_MAX];

	snprintf(name, sizeof(name), "s%d", j->stmt);
	c->job = j;
	j->conn = c;
	c->state = C_BUSY;
	if (!PQsendQueryPrepared(c->pg, name, j->nparams, j->params, NULL, NULL, 0) ||
	    s_flush(c) < 0)
		s_conn_fail(c, PQerrorMessage(c->pg));
}

static struct pgq_conn *s_ready_conn(struct pgq *q)
{
	for (int i = 0; i < q->nconns; i++)
		if (q->conns[i].state == C_READY)
			return &q->conns[i];
	return NULL;
}

/* s_pump_cb - hand queued queries to ready connections */
static void s_pump_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct pgq *q = userdata;
	struct pgq_conn *c;

	while (q->head && (c = s_ready_conn(q))) {
		struct pgq_job *j = q->head;

		s_queue_remove(q, j);
		s_send(c, j);
	}
	if (q->head && q->tried && !s_any_up(q) && !s_any_connecting(q))
		s_fail_queued(q, -ENOTCONN);
}

/* s_job_new - a job with copies of the parameters */
static struct pgq_job *s_job_new(struct pgq *q, int stmt, int nparams, const char *const *params)
{
	size_t total = 1, off = 0;
	struct pgq_job *j;

	for (int i = 0; i < nparams; i++)
		total += params[i] ? strlen(params[i]) + 1 : 0;
	j = calloc(1, sizeof(*j) + total);
	if (!j)
		return NULL;
	*j = (struct pgq_job){ .q = q, .stmt = stmt, .nparams = nparams, .text_len = total };
	for (int i = 0; i < nparams; i++) {
		size_t n = params[i] ? strlen(params[i]) + 1 : 0;

		j->params[i] = params[i] ? memcpy(j->text + off, params[i], n) : NULL;
		off += n;
	}
	j->text[off] = '\0';
	return j;
}

/* pgq_run - queue statement stmt; cb once, later, on the loop */
int pgq_run(struct pgq *q, int stmt, int nparams, const char *const *params, int deadline_ms,
	    pgq_fn cb, void *userdata, uint64_t *ret_id)
{
	struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };
	struct pgq_job *j;

	if (!q || stmt < 0 || stmt >= q->nstmts || nparams != q->nparams[stmt] ||
	    nparams > PGQ_PARAMS_MAX || deadline_ms <= 0)
		return -EINVAL;
	if (q->queued >= PGQ_QUEUE_MAX)
		return -EAGAIN;
	j = s_job_new(q, stmt, nparams, params);
	if (!j)
		return -ENOMEM;
	j->cb = cb;
	j->userdata = userdata;
	j->id = ++q->next_id;
	j->start_us = util_mono_us();
	j->deadline = evtimer_new(q->base, s_deadline_cb, j);
	if (!j->deadline || evtimer_add(j->deadline, &tv) < 0) {
		s_job_free(j);
		return -ENOMEM;
	}
	j->prev = q->tail;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->queued++;
	s_schedule_pump(q);
	if (ret_id)
		*ret_id = j->id;
	return 0;
}

/* pgq_cancel - forget query id: its callback will not run */
void pgq_cancel(struct pgq *q, uint64_t id)
{
	for (struct pgq_job *j = q ? q->head : NULL; j; j = j->next)
		if (j->id == id) {
			s_queue_remove(q, j);
			s_job_free(j);
			return;
		}
	for (int i = 0; q && i < q->nconns; i++) {
		struct pgq_conn *c = &q->conns[i];

		if (c->job && c->job->id == id) {
			const struct timeval grace = { PGQ_GRACE_MS / 1000, 0 };

			s_job_free(TAKE_PTR(c->job));
			evtimer_add(c->timer, &grace);
			return;
		}
	}
}

/* ---- the pool ------------------------------------------------------------------- */

/* pgq_new - a pool of conns connections for db's role */
int pgq_new(struct event_base *base, const struct db *db, int conns, struct pgq **ret)
{
	struct pgq *q;

	if (!base || !db || conns < 1 || conns > PGQ_CONNS_MAX)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	*q = (struct pgq){ .base = base, .db = db, .nconns = conns };
	metrics_hist_init(&q->stats.seconds, metrics_seconds_bounds, metrics_seconds_n);
	q->pump = event_new(base, -1, 0, s_pump_cb, q);
	for (int i = 0; i < conns; i++) {
		q->conns[i] = (struct pgq_conn){ .q = q, .state = C_DOWN };
		q->conns[i].timer = evtimer_new(base, s_timer_cb, &q->conns[i]);
	}
	for (int i = 0; i < conns; i++)
		if (!q->pump || !q->conns[i].timer) {
			pgq_free(q);
			return -ENOMEM;
		}
	(void)pgq_statement(q, "SELECT 1", 0); /* PGQ_STMT_PING */
	*ret = q;
	return 0;
}

/* pgq_statement - declare a statement (before pgq_start): its index, or -E2BIG */
int pgq_statement(struct pgq *q, const char *sql, int nparams)
{
	if (q->nstmts >= PGQ_STMTS_MAX || nparams < 0 || nparams > PGQ_PARAMS_MAX)
		return -E2BIG;
	q->sql[q->nstmts] = sql;
	q->nparams[q->nstmts] = nparams;
	return q->nstmts++;
}

/* pgq_start - open the connections (in the background) */
int pgq_start(struct pgq *q)
{
	for (int i = 0; i < q->nconns; i++)
		if (q->conns[i].state == C_DOWN)
			s_conn_start(&q->conns[i]);
	if (q->has_listener && q->listener.state == C_DOWN)
		s_conn_start(&q->listener);
	return 0;
}

/* s_channel_ok - a channel name we put into LISTEN as it is: [a-z0-9_], 1..63 */
static bool s_channel_ok(const char *channel)
{
	size_t n = strlen(channel);

	return n > 0 && n <= PGQ_CHANNEL_MAX && strspn(channel, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* pgq_listen - one more connection, LISTENing on channel; cb gets its notifications */
int pgq_listen(struct pgq *q, const char *channel, pgq_notify_fn cb, void *userdata)
{
	if (!q || !cb || !channel || q->has_listener || !s_channel_ok(channel))
		return -EINVAL;
	q->listener = (struct pgq_conn){ .q = q, .state = C_DOWN, .listen = true };
	q->listener.timer = evtimer_new(q->base, s_timer_cb, &q->listener);
	if (!q->listener.timer)
		return -ENOMEM;
	snprintf(q->listen_sql, sizeof(q->listen_sql), "LISTEN %s", channel);
	q->notify_cb = cb;
	q->notify_userdata = userdata;
	q->has_listener = true;
	return 0;
}

/* pgq_listen_poll - take the notifications that have arrived, now (without waiting) */
void pgq_listen_poll(struct pgq *q)
{
	struct pgq_conn *c = q ? &q->listener : NULL;

	if (c && c->listen && c->pg && c->state == C_READY && s_drain(c) < 0 && c->pg)
		s_conn_fail(c, PQerrorMessage(c->pg));
}

/* pgq_listening - is the LISTEN in force? */
bool pgq_listening(const struct pgq *q)
{
	return q && q->listening;
}

/* pgq_free - close everything; queries not yet answered get -ECANCELED */
struct pgq *pgq_free(struct pgq *q)
{
	if (!q)
		return NULL;
	for (int i = 0; i < q->nconns; i++) {
		struct pgq_conn *c = &q->conns[i];
		struct pgq_job *j = TAKE_PTR(c->job);

		s_conn_close(c);
		if (c->timer)
			event_free(c->timer);
		if (j)
			s_job_end(j, -ECANCELED, NULL, NULL);
	}
	s_fail_queued(q, -ECANCELED);
	if (q->has_listener) {
		s_conn_close(&q->listener);
		event_free(q->listener.timer);
	}
	if (q->pump)
		event_free(q->pump);
	free(q);
	return NULL;
}

/* pgq_ping - a round trip ("SELECT 1") within deadline_ms; cb as for pgq_run */
int pgq_ping(struct pgq *q, int deadline_ms, pgq_fn cb, void *userdata)
{
	return pgq_run(q, PGQ_STMT_PING, 0, NULL, deadline_ms, cb, userdata, NULL);
}

/* pgq_is_up - is at least one connection ready or working? */
bool pgq_is_up(const struct pgq *q)
{
	return q && s_any_up(q);
}

/* pgq_queued - queries waiting for a connection */
size_t pgq_queued(const struct pgq *q)
{
	return q ? q->queued : 0;
}

/* pgq_get_stats - the pool's counts so far */
const struct pgq_stats *pgq_get_stats(const struct pgq *q)
{
	return &q->stats;
}
