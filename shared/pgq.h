/*
 * pgq.h - PostgreSQL on a libevent loop that never waits for it: a small
 * pool of connections through libpq's asynchronous API, each connection's
 * socket watched by the loop, statements prepared once per connection,
 * and a deadline on every query.
 *
 * A daemon declares its statements once (pgq_statement), then runs them
 * by index with text parameters (pgq_run). The callback runs exactly once
 * on the loop: with the result (r == 0), or r < 0 without one: -ETIMEDOUT
 * (the deadline passed, queued or running), -ENOTCONN (no connection can
 * be had: PostgreSQL is away, said at once rather than at the deadline),
 * -EIO (an SQL error: pgq_sqlstate), -ENOMEM, -ECANCELED (the pool is
 * being freed). pgq_cancel() forgets a query: its callback never runs.
 * A query given up on while it runs leaves its connection busy until the
 * server answers (statement_timeout bounds that); one that stays silent
 * much longer has its connection dropped and opened again. Lost
 * connections are opened again in the background with back-off.
 *
 * The connection parameters (and the password) are those of a struct db
 * (db.h), which must outlive the pool. Everything runs on the loop thread.
 */
#ifndef SEMBARK_PGQ_H
#define SEMBARK_PGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "metrics.h"

struct event_base;
struct db;
struct pgq;

#define PGQ_CONNS_MAX 8
#define PGQ_STMTS_MAX 64
#define PGQ_PARAMS_MAX 16
#define PGQ_QUEUE_MAX 4096 /* queued queries; more are refused with -EAGAIN */
#define PGQ_STMT_PING 0    /* declared by pgq_new: "SELECT 1" (pgq_ping) */

/*
 * A query's end: r == 0 with res (valid during the call only), else r < 0
 * and res NULL. sqlstate: the SQLSTATE of an -EIO, else "".
 */
typedef void (*pgq_fn)(int r, const PGresult *res, const char *sqlstate, void *userdata);

/* pgq_new - a pool of conns (1..PGQ_CONNS_MAX) connections for db's role; connects later */
int pgq_new(struct event_base *base, const struct db *db, int conns, struct pgq **ret);
/* pgq_free - close everything; queries not yet answered get -ECANCELED; accepts NULL */
struct pgq *pgq_free(struct pgq *q);

/*
 * pgq_statement - declare a statement (before pgq_start): its index (the
 * first is 1: pgq_new declares PGQ_STMT_PING), or -E2BIG. sql is a
 * constant of the caller's (kept, not copied).
 */
int pgq_statement(struct pgq *q, const char *sql, int nparams);
/* pgq_start - open the connections (in the background) */
int pgq_start(struct pgq *q);

/*
 * pgq_run - run statement stmt with nparams text parameters (copied; NULL
 * is SQL NULL) within deadline_ms; cb(userdata) once, later (never from
 * inside this call). cb may be NULL: fire and forget. 0 and *ret_id (may
 * be NULL) for pgq_cancel, or -errno (-EAGAIN: queue full, -EINVAL) and
 * cb never runs.
 */
int pgq_run(struct pgq *q, int stmt, int nparams, const char *const *params, int deadline_ms,
	    pgq_fn cb, void *userdata, uint64_t *ret_id);
/* pgq_cancel - forget query id: its callback will not run */
void pgq_cancel(struct pgq *q, uint64_t id);

/* pgq_ping - a round trip ("SELECT 1") within deadline_ms; cb as for pgq_run */
int pgq_ping(struct pgq *q, int deadline_ms, pgq_fn cb, void *userdata);
#define PGQ_CHANNEL_MAX 63

enum pgq_listen_event {
	PGQ_LISTEN_UP,   /* the LISTEN is in force: notifications from now on arrive */
	PGQ_LISTEN_DOWN, /* the connection was lost: some may have been missed */
	PGQ_NOTIFY,      /* one notification; payload valid during the call */
};
typedef void (*pgq_notify_fn)(enum pgq_listen_event ev, const char *payload, void *userdata);

/*
 * pgq_listen - (before pgq_start) one more connection, outside the pool,
 * that LISTENs on channel ([a-z0-9_], at most 63) and hands every
 * notification to cb on the loop. cb must not free the pool. 0 or -EINVAL.
 */
int pgq_listen(struct pgq *q, const char *channel, pgq_notify_fn cb, void *userdata);
/* pgq_listen_poll - hand over the notifications that have already arrived, now */
void pgq_listen_poll(struct pgq *q);
/* pgq_listening - is the LISTEN in force (between PGQ_LISTEN_UP and _DOWN)? */
bool pgq_listening(const struct pgq *q);

/* What the pool has done since it was made, for metrics (loop thread only). */
struct pgq_stats {
	uint64_t ok;          /* queries answered with a result */
	uint64_t sql_errors;  /* -EIO: PostgreSQL refused the statement */
	uint64_t timeouts;    /* -ETIMEDOUT: the deadline passed, queued or running */
	uint64_t unavailable; /* -ENOTCONN: no connection could be had */
	uint64_t connection_losses; /* connections that failed or were dropped */
	struct metrics_hist seconds; /* from pgq_run to the answer, of those answered */
};

/* pgq_get_stats - the pool's counts so far */
const struct pgq_stats *pgq_get_stats(const struct pgq *q);

/* pgq_is_up - is at least one connection ready or working? */
bool pgq_is_up(const struct pgq *q);
/* pgq_queued - queries waiting for a connection */
size_t pgq_queued(const struct pgq *q);

#endif
