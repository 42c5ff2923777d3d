/*
 * partitions.c - sembark-telemetryd's upkeep of its tables, at start and
 * every hour (and before the next commit after a failed run):
 *
 *   - the daily partitions of telemetry_events for every day an event may
 *     fall on (the accepted window, up to 7 days back, and one day ahead),
 *     through the SECURITY DEFINER sembark_ensure_telemetry_partitions()
 *     (declared, like the drop function, with shared/db.h's
 *     DB_PARTITIONS_ENSURE_SQL/_DROP_SQL on the asynchronous pool);
 *     a day that is missing when a row arrives is created then (ingest.c);
 *   - retention: sembark_drop_telemetry_partitions(now() - [telemetry]
 *     retention_days) drops whole partitions (DROP TABLE: permanent, O(1)),
 *     never deletes rows; each dropped name is logged;
 *   - dedupe memory: telemetry_seen rows older than 8 days can no longer
 *     match an acceptable event and are deleted, TELEMETRYD_PURGE_CHUNK at a
 *     time, the next chunk a moment later, so ingest is never held up long.
 *
 * The cutoff times come from the database's clock (now()), the same clock
 * that stamps received_at and seen_at. Every statement runs on the pool
 * (shared/pgq.c), one after the other; the loop never waits for them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "telemetryd.h"
#include "util.h"

#define PURGE_NEXT_MS 50

#define ENSURE_FN "sembark_ensure_telemetry_partitions"
#define DROP_FN "sembark_drop_telemetry_partitions"

static const char PURGE_SQL[] =
	"DELETE FROM telemetry_seen WHERE ctid = ANY(ARRAY("
	"SELECT ctid FROM telemetry_seen WHERE seen_at < now() - make_interval(days => $1::int)"
	" LIMIT $2::int))";

/* telemetryd_partitions_prepare - declare this file's statements on the pool */
int telemetryd_partitions_prepare(struct telemetryd *x)
{
	static const struct {
		enum telemetryd_stmt id;
		const char *sql;
		int nparams;
	} defs[] = {
		{ TELEMETRYD_STMT_ENSURE, DB_PARTITIONS_ENSURE_SQL(ENSURE_FN), 2 },
		{ TELEMETRYD_STMT_DROP, DB_PARTITIONS_DROP_SQL(DROP_FN), 2 },
		{ TELEMETRYD_STMT_PURGE_SEEN, PURGE_SQL, 2 },
	};

	for (size_t i = 0; i < ELEMENTSOF(defs); i++) {
		int r = pgq_statement(x->b.pgq, defs[i].sql, defs[i].nparams);

		if (r < 0)
			return r;
		x->stmt[defs[i].id] = r;
	}
	return 0;
}

static int64_t s_day(int64_t us)
{
	return us >= 0 ? us / TELEMETRYD_DAY_US : -((-us + TELEMETRYD_DAY_US - 1) / TELEMETRYD_DAY_US);
}

/* s_deadline_ms - upkeep statements: the configured statement timeout */
static int s_deadline_ms(const struct telemetryd *x)
{
	return x->b.d.cfg.database.statement_timeout_ms;
}

/* One partition ensure on its way. */
struct ensure_call {
	char day[UTIL_DAY_MAX];
	int days;
	telemetryd_done_fn done;
	void *userdata;
};

static void s_ensured(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct ensure_call *e = userdata;
	int64_t created = 0;

	if (r == -EIO)
		log_warning("cannot create telemetry partitions", LOG_S("from", e->day),
			    LOG_S("sqlstate", sqlstate));
	if (r == 0 && db_get_i64(res, 0, 0, &created) == 0 && created > 0)
		log_info("telemetry partitions created", LOG_I("count", created), LOG_S("from", e->day),
			 LOG_I("days", e->days));
	e->done(r, e->userdata);
	free(e);
}

/* telemetryd_partitions_ensure - partitions for every day of [from_us, to_us]; then done(r) */
void telemetryd_partitions_ensure(struct telemetryd *x, int64_t from_us, int64_t to_us,
				  telemetryd_done_fn done, void *userdata)
{
	struct ensure_call *e = calloc(1, sizeof(*e));
	char ndays[16];
	int r;

	if (!e) {
		done(-ENOMEM, userdata);
		return;
	}
	*e = (struct ensure_call){ .days = (int)MAX(1, MIN(s_day(to_us) - s_day(from_us) + 1, 400)),
				   .done = done, .userdata = userdata };
	util_format_day(from_us, e->day);
	snprintf(ndays, sizeof(ndays), "%d", e->days);
	r = pgq_run(x->b.pgq, x->stmt[TELEMETRYD_STMT_ENSURE], 2,
		    (const char *const[]){ e->day, ndays }, s_deadline_ms(x), s_ensured, e, NULL);
	if (r < 0) {
		free(e);
		done(r, userdata);
	}
}

/*
 * Upkeep, one statement after the other on the pool: retention (drop old
 * partitions), the partitions of the accepted window, then the first chunk
 * of the dedupe purge (further chunks a moment apart). A run that fails
 * leaves need_upkeep set: the next batch starts another.
 */

static void s_purge_later(struct telemetryd *x)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = PURGE_NEXT_MS * 1000 };

	if (x->purge_timer)
		(void)event_add(x->purge_timer, &tv);
}

static void s_upkeep_end(struct telemetryd *x, int r)
{
	x->upkeep_running = false;
	if (r != -ECANCELED)
		x->need_upkeep = r < 0;
}

static void s_purged(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct telemetryd *x = userdata;
	long n = 0;

	if (r == -EIO)
		log_warning("cannot purge the telemetry dedupe table", LOG_S("sqlstate", sqlstate));
	if (r == 0) {
		n = strtol(PQcmdTuples((PGresult *)res), NULL, 10);
		if (n > 0)
			log_debug("telemetry dedupe rows purged", LOG_I("count", n));
		if (n >= TELEMETRYD_PURGE_CHUNK)
			s_purge_later(x);
	}
	if (x->upkeep_running)
		s_upkeep_end(x, r);
}

/* s_purge_step - delete one chunk of expired telemetry_seen rows (more later when full) */
static void s_purge_step(struct telemetryd *x)
{
	char days[16], chunk[16];
	int r;

	snprintf(days, sizeof(days), "%d", TELEMETRYD_SEEN_KEEP_DAYS);
	snprintf(chunk, sizeof(chunk), "%d", TELEMETRYD_PURGE_CHUNK);
	r = pgq_run(x->b.pgq, x->stmt[TELEMETRYD_STMT_PURGE_SEEN], 2, (const char *const[]){ days, chunk },
		    s_deadline_ms(x), s_purged, x, NULL);
	if (r < 0 && x->upkeep_running)
		s_upkeep_end(x, r);
}

static void s_window_ensured(int r, void *userdata)
{
	struct telemetryd *x = userdata;

	if (r < 0)
		s_upkeep_end(x, r);
	else
		s_purge_step(x);
}

/* s_retained - old partitions dropped (each logged); then the window's partitions */
static void s_retained(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct telemetryd *x = userdata;
	struct telemetryd_window w;
	char name[64];

	if (r == -EIO)
		log_warning("cannot drop old telemetry partitions", LOG_S("sqlstate", sqlstate));
	if (r < 0) {
		s_upkeep_end(x, r);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		if (db_get_text(res, i, 0, name, sizeof(name)) == 0)
			log_info("telemetry partition dropped", LOG_S("partition", name),
				 LOG_I("retention_days", x->b.d.cfg.telemetry.retention_days));
	telemetryd_window_init(&w, now_us(), x->b.d.cfg.telemetry.retention_days);
	telemetryd_partitions_ensure(x, w.oldest_us, w.newest_us + TELEMETRYD_DAY_US,
				     s_window_ensured, x);
}

/* telemetryd_upkeep - start a run (unless one is under way): retention, partitions, purge */
void telemetryd_upkeep(struct telemetryd *x)
{
	char days[16];
	int r;

	if (x->upkeep_running)
		return;
	x->upkeep_running = true;
	snprintf(days, sizeof(days), "%d", x->b.d.cfg.telemetry.retention_days);
	r = pgq_run(x->b.pgq, x->stmt[TELEMETRYD_STMT_DROP], 2, (const char *const[]){ NULL, days },
		    s_deadline_ms(x), s_retained, x, NULL);
	if (r < 0)
		s_upkeep_end(x, r);
}

static void s_on_upkeep(evutil_socket_t fd, short what, void *userdata)
{
	(void)fd;
	(void)what;
	telemetryd_upkeep(userdata);
}

static void s_on_purge(evutil_socket_t fd, short what, void *userdata)
{
	(void)fd;
	(void)what;
	s_purge_step(userdata);
}

/* telemetryd_upkeep_start - run upkeep now and every hour */
int telemetryd_upkeep_start(struct telemetryd *x)
{
	struct timeval every = { .tv_sec = TELEMETRYD_UPKEEP_EVERY_S };

	x->upkeep_timer = event_new(x->b.d.base, -1, EV_PERSIST, s_on_upkeep, x);
	x->purge_timer = event_new(x->b.d.base, -1, 0, s_on_purge, x);
	if (!x->upkeep_timer || !x->purge_timer || event_add(x->upkeep_timer, &every) < 0)
		return log_error_errno(-ENOMEM, "cannot arm the upkeep timers");
	x->need_upkeep = true;
	telemetryd_upkeep(x); /* PostgreSQL may be away: retried before the next commit */
	return 0;
}

/* telemetryd_upkeep_stop - free the timers */
void telemetryd_upkeep_stop(struct telemetryd *x)
{
	if (x->upkeep_timer)
		event_free(x->upkeep_timer);
	if (x->purge_timer)
		event_free(x->purge_timer);
	x->upkeep_timer = x->purge_timer = NULL;
}
