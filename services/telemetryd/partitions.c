/*
 * partitions.c - sembark-telemetryd's upkeep of its tables, at start and
 * every hour (and before the next commit after a failed run):
 *
 *   - the daily partitions of telemetry_events for every day an event may
 *     fall on (the accepted window, up to 7 days back, and one day ahead),
 *     through the SECURITY DEFINER sembark_ensure_telemetry_partitions()
 *     (called, like the drop function, through shared/db.c's
 *     db_partitions_ensure/_drop);
 *     a day that is missing when a row arrives is created then (ingest.c);
 *   - retention: sembark_drop_telemetry_partitions(now() - [telemetry]
 *     retention_days) drops whole partitions (DROP TABLE: permanent, O(1)),
 *     never deletes rows; each dropped name is logged;
 *   - dedupe memory: telemetry_seen rows older than 8 days can no longer
 *     match an acceptable event and are deleted, TELEMETRYD_PURGE_CHUNK at a
 *     time, the next chunk a moment later, so ingest is never held up long.
 *
 * The cutoff times come from the database's clock (now()), the same clock
 * that stamps received_at and seen_at.
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

static const char ENSURE_FN[] = "sembark_ensure_telemetry_partitions";
static const char DROP_FN[] = "sembark_drop_telemetry_partitions";
static const char PURGE_SQL[] =
	"DELETE FROM telemetry_seen WHERE ctid = ANY(ARRAY("
	"SELECT ctid FROM telemetry_seen WHERE seen_at < now() - make_interval(days => $1::int)"
	" LIMIT $2::int))";

static int64_t s_day(int64_t us)
{
	return us >= 0 ? us / TELEMETRYD_DAY_US : -((-us + TELEMETRYD_DAY_US - 1) / TELEMETRYD_DAY_US);
}

/* telemetryd_partitions_ensure - partitions for every day of [from_us, to_us] */
int telemetryd_partitions_ensure(struct telemetryd *x, int64_t from_us, int64_t to_us)
{
	char day[UTIL_DAY_MAX], ndays[16];
	int64_t days = s_day(to_us) - s_day(from_us) + 1, created;
	int r, n = (int)MAX(1, MIN(days, 400));

	util_format_day(from_us, day);
	snprintf(ndays, sizeof(ndays), "%d", n);
	r = db_partitions_ensure(x->b.db, ENSURE_FN, day, n, &created);
	if (r == -EIO)
		log_warning("cannot create telemetry partitions", LOG_S("from", day),
			    LOG_S("sqlstate", db_last_sqlstate(x->b.db)),
			    LOG_S("error", db_last_error(x->b.db)));
	if (r < 0)
		return r;
	if (created > 0)
		log_info("telemetry partitions created", LOG_I("count", created), LOG_S("from", day),
			 LOG_S("days", ndays));
	return 0;
}

/* s_retention - drop the partitions older than [telemetry] retention_days (the database's clock) */
static int s_retention(struct telemetryd *x)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char days[16], name[64];
	int r;

	snprintf(days, sizeof(days), "%d", x->b.d.cfg.telemetry.retention_days);
	r = db_partitions_drop(x->b.db, DROP_FN, NULL, x->b.d.cfg.telemetry.retention_days, &res);
	if (r == -EIO)
		log_warning("cannot drop old telemetry partitions",
			    LOG_S("sqlstate", db_last_sqlstate(x->b.db)),
			    LOG_S("error", db_last_error(x->b.db)));
	if (r < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++)
		if (db_get_text(res, i, 0, name, sizeof(name)) == 0)
			log_info("telemetry partition dropped", LOG_S("partition", name),
				 LOG_S("retention_days", days));
	return 0;
}

/* s_purge_step - delete one chunk of expired telemetry_seen rows; >0: more left */
static int s_purge_step(struct telemetryd *x)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char days[16], chunk[16];
	const char *params[2] = { days, chunk };
	long n;
	int r;

	snprintf(days, sizeof(days), "%d", TELEMETRYD_SEEN_KEEP_DAYS);
	snprintf(chunk, sizeof(chunk), "%d", TELEMETRYD_PURGE_CHUNK);
	r = db_query(x->b.db, &res, PURGE_SQL, 2, params);
	if (r == -EIO)
		log_warning("cannot purge the telemetry dedupe table",
			    LOG_S("sqlstate", db_last_sqlstate(x->b.db)),
			    LOG_S("error", db_last_error(x->b.db)));
	if (r < 0)
		return r;
	n = strtol(PQcmdTuples(res), NULL, 10);
	if (n > 0)
		log_debug("telemetry dedupe rows purged", LOG_I("count", n));
	return n >= TELEMETRYD_PURGE_CHUNK;
}

static void s_purge_later(struct telemetryd *x)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = PURGE_NEXT_MS * 1000 };

	if (x->purge_timer)
		(void)event_add(x->purge_timer, &tv);
}

/* telemetryd_upkeep - partitions of the accepted window, retention, seen purge */
int telemetryd_upkeep(struct telemetryd *x)
{
	struct telemetryd_window w;
	int r;

	if (!x->b.db)
		return -ENOTCONN;
	telemetryd_window_init(&w, now_us(), x->b.d.cfg.telemetry.retention_days);
	r = s_retention(x);
	if (r >= 0)
		r = telemetryd_partitions_ensure(x, w.oldest_us, w.newest_us + TELEMETRYD_DAY_US);
	if (r >= 0)
		r = s_purge_step(x);
	if (r > 0)
		s_purge_later(x);
	x->need_upkeep = r < 0;
	return r < 0 ? r : 0;
}

static void s_on_upkeep(evutil_socket_t fd, short what, void *userdata)
{
	(void)telemetryd_upkeep(userdata);
}

static void s_on_purge(evutil_socket_t fd, short what, void *userdata)
{
	struct telemetryd *x = userdata;

	if (s_purge_step(x) > 0)
		s_purge_later(x);
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
	(void)telemetryd_upkeep(x); /* PostgreSQL may be away: retried before the next commit */
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
