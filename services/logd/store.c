/*
 * store.c - logd's way into PostgreSQL: buffered records are inserted
 * into the day-partitioned `logs` table, one multi-row parameterised
 * INSERT per batch of up to LOGD_BATCH, every [logs] flush_ms or as soon
 * as a batch is full. Daily partitions come from the SECURITY DEFINER
 * function sembark_ensure_log_partitions(from_day, days): at start, every
 * hour, and when a row finds no partition (SQLSTATE 23514).
 *
 * PostgreSQL away: records stay buffered (bounded) and the next flush
 * retries. A row PostgreSQL refuses as data (class 22/23) is dropped
 * alone, never blocking the rest. Failures of the flush itself go to
 * stderr only (logd_note), never through the log hook into the buffer,
 * so a failing flush cannot feed itself.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "logd.h"

#define DAY_US (86400LL * 1000000)
#define NOTE_EVERY_US (60LL * 1000000)
#define ROW_SQL_MAX 64

static const char INSERT_HEAD[] = "INSERT INTO logs (at, service, level, message, fields) VALUES ";

/* logd_note - one record to stderr only (logfmt), never into the buffer */
void logd_note(enum log_level level, const char *msg, const struct log_field *fields)
{
	char line[LOG_LINE_MAX];
	struct log_record rec = {
		.time_us = now_us(), .service = "logd", .level = level, .msg = msg,
		.fields = fields,
	};

	if (level < log_get_level())
		return;
	logfmt_format(line, sizeof(line), &rec);
	fputs(line, stderr);
}

#define NOTE(level, msg, ...) logd_note((level), (msg), LOG_FIELDS_(__VA_ARGS__))

static char *s_insert_sql(size_t n)
{
	size_t size = sizeof(INSERT_HEAD) + n * ROW_SQL_MAX, off;
	char *sql = malloc(size);

	if (!sql)
		return NULL;
	off = (size_t)snprintf(sql, size, "%s", INSERT_HEAD);
	for (size_t i = 0, k = 1; i < n && off < size; i++, k += 5)
		off += (size_t)snprintf(sql + off, size - off,
					"%s($%zu::timestamptz,$%zu,$%zu,$%zu,$%zu::jsonb)",
					i ? "," : "", k, k + 1, k + 2, k + 3, k + 4);
	return sql;
}

/* s_insert - insert the n oldest buffered records in one statement */
static int s_insert(struct logd *l, size_t n)
{
	_cleanup_free_ char *sql = s_insert_sql(n);
	_cleanup_free_ const char **params = calloc(n * 5, sizeof(*params));

	if (!sql || !params)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct logd_rec *rec = logd_buffer_peek(&l->buf, i);

		params[i * 5 + 0] = rec->at;
		params[i * 5 + 1] = rec->service;
		params[i * 5 + 2] = rec->level;
		params[i * 5 + 3] = rec->msg;
		params[i * 5 + 4] = rec->fields;
	}
	return db_exec(l->b.db, sql, (int)(n * 5), params);
}

static bool s_sqlstate_is(struct logd *l, const char *state)
{
	return strcmp(db_last_sqlstate(l->b.db), state) == 0;
}

static bool s_data_error(struct logd *l)
{
	const char *s = db_last_sqlstate(l->b.db);

	return strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0;
}

static int s_ensure_partitions(struct logd *l, int64_t from_us, int days)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char day[11], ndays[16];
	const char *params[2] = { day, ndays };
	int64_t created = 0;
	int r;

	logd_format_day(from_us, day);
	snprintf(ndays, sizeof(ndays), "%d", days);
	r = db_query(l->b.db, &res, "SELECT sembark_ensure_log_partitions($1::date, $2::int)", 2,
		     params);
	if (r == -EIO)
		NOTE(LOG_LEVEL_WARNING, "cannot create log partitions", LOG_S("from", day),
		     LOG_S("sqlstate", db_last_sqlstate(l->b.db)),
		     LOG_S("error", db_last_error(l->b.db)));
	if (r < 0)
		return r;
	if (db_get_i64(res, 0, 0, &created) == 0 && created > 0)
		log_info("log partitions created", LOG_I("count", created), LOG_S("from", day),
			 LOG_I("days", days));
	return 0;
}

/* logd_store_partitions - ensure partitions from yesterday for 4 days */
int logd_store_partitions(struct logd *l)
{
	int r;

	if (!l->b.db)
		return -ENOTCONN;
	r = s_ensure_partitions(l, now_us() - DAY_US, 4);
	l->need_partitions = r < 0;
	return r;
}

/* s_ensure_for_batch - partitions for every day the n oldest records span */
static int s_ensure_for_batch(struct logd *l, size_t n)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, days;

	for (size_t i = 0; i < n; i++) {
		int64_t t = logd_buffer_peek(&l->buf, i)->time_us;

		lo = MIN(lo, t);
		hi = MAX(hi, t);
	}
	days = hi / DAY_US - lo / DAY_US + 1;
	return s_ensure_partitions(l, lo, (int)MAX(1, MIN(days, 31)));
}

/* s_insert_each - one row at a time, dropping rows refused as data */
static int s_insert_each(struct logd *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = s_insert(l, 1);

		if (r < 0 && !(r == -EIO && s_data_error(l)))
			return r;
		if (r < 0) {
			l->discarded++;
			NOTE(LOG_LEVEL_WARNING, "log record refused by the database",
			     LOG_S("sqlstate", db_last_sqlstate(l->b.db)),
			     LOG_S("error", db_last_error(l->b.db)));
		} else {
			l->stored++;
		}
		logd_buffer_pop(&l->buf, 1);
	}
	return 0;
}

/* s_flush_batch - store the oldest batch; on failure it stays buffered */
static int s_flush_batch(struct logd *l)
{
	size_t n;
	int r;

	if (l->need_partitions && logd_store_partitions(l) == -ENOTCONN)
		return -ENOTCONN;
	n = MIN(l->buf.count, (size_t)LOGD_BATCH);
	l->buf.busy = true;
	r = s_insert(l, n);
	if (r == -EIO && s_sqlstate_is(l, "23514")) {
		r = s_ensure_for_batch(l, n);
		if (r >= 0)
			r = s_insert(l, n);
	}
	if (r == -EIO && s_data_error(l)) {
		r = s_insert_each(l, n);
	} else if (r == 0) {
		logd_buffer_pop(&l->buf, n);
		l->stored += n;
	}
	l->buf.busy = false;
	return r;
}

static void s_note_flush(struct logd *l, int r)
{
	if (r < 0 && !l->flush_failing) {
		l->flush_failing = true;
		NOTE(LOG_LEVEL_WARNING, "log flush failed, records kept",
		     LOG_S("error", r == -EIO ? db_last_error(l->b.db)
				  : r == -ENOTCONN ? "database unavailable" : strerror(-r)),
		     LOG_S("sqlstate", db_last_sqlstate(l->b.db)), LOG_I("buffered", l->buf.count));
	} else if (r == 0 && l->flush_failing) {
		l->flush_failing = false;
		log_info("log flush recovered", LOG_I("buffered", l->buf.count));
	}
}

/* s_malformed - refused by us, or by zev for having too many parts */
static uint64_t s_malformed(const struct logd *l)
{
	return l->garbage + (l->pull_ev ? zev_dropped(l->pull_ev) : 0);
}

/* s_note_losses - at most once a minute, say what was dropped */
static void s_note_losses(struct logd *l)
{
	int64_t now = mono_us();

	if (l->buf.dropped > l->dropped_noted && now - l->dropped_noted_us >= NOTE_EVERY_US) {
		log_warning("log buffer full, oldest records dropped",
			    LOG_I("dropped", l->buf.dropped - l->dropped_noted));
		l->dropped_noted = l->buf.dropped;
		l->dropped_noted_us = now;
	}
	if (s_malformed(l) > l->garbage_noted && now - l->garbage_noted_us >= NOTE_EVERY_US) {
		log_warning("malformed log records dropped",
			    LOG_I("dropped", s_malformed(l) - l->garbage_noted));
		l->garbage_noted = s_malformed(l);
		l->garbage_noted_us = now;
	}
}

/* logd_store_flush - insert buffered records, at most LOGD_FLUSH_MAX_BATCHES */
int logd_store_flush(struct logd *l)
{
	int r = 0;

	if (!l->b.db)
		return -ENOTCONN;
	for (int i = 0; i < LOGD_FLUSH_MAX_BATCHES && l->buf.count > 0; i++) {
		r = s_flush_batch(l);
		if (r < 0)
			break;
	}
	s_note_flush(l, r);
	s_note_losses(l);
	return r;
}

static void s_on_flush(evutil_socket_t fd, short what, void *userdata)
{
	(void)logd_store_flush(userdata);
}

static void s_on_partitions(evutil_socket_t fd, short what, void *userdata)
{
	(void)logd_store_partitions(userdata);
}

/* logd_store_add - buffer a record (taking its strings) */
void logd_store_add(struct logd *l, struct logd_rec *rec)
{
	logd_buffer_push(&l->buf, rec);
	if (l->buf.count >= LOGD_BATCH && !l->buf.busy && !l->flush_failing && l->flush_now)
		event_active(l->flush_now, EV_TIMEOUT, 1);
}

static void s_hook(const struct log_record *in, void *userdata)
{
	struct logd *l = userdata;
	struct logd_rec rec;

	if (l->in_hook)
		return;
	l->in_hook = true;
	if (logd_record_from_log(in, &rec) == 0)
		logd_store_add(l, &rec);
	l->in_hook = false;
}

static int s_add_timer(struct logd *l, struct event **ret, int64_t every_ms,
		       event_callback_fn fn)
{
	struct timeval tv = { .tv_sec = every_ms / 1000, .tv_usec = (every_ms % 1000) * 1000 };

	*ret = event_new(l->b.d.base, -1, every_ms > 0 ? EV_PERSIST : 0, fn, l);
	if (!*ret)
		return -ENOMEM;
	if (every_ms > 0 && event_add(*ret, &tv) < 0)
		return -EIO;
	return 0;
}

/* logd_store_start - the buffer, the log hook and the flush timers */
int logd_store_start(struct logd *l)
{
	int r;

	r = logd_buffer_init(&l->buf, (size_t)l->b.d.cfg.logs.buffer_records);
	if (r < 0)
		return log_error_errno(r, "cannot allocate the log buffer");
	l->need_partitions = true;
	log_set_hook(s_hook, l);
	r = s_add_timer(l, &l->flush_timer, l->b.d.cfg.logs.flush_ms, s_on_flush);
	if (r >= 0)
		r = s_add_timer(l, &l->flush_now, 0, s_on_flush);
	if (r >= 0)
		r = s_add_timer(l, &l->partition_timer, LOGD_PARTITION_EVERY_S * 1000LL,
				s_on_partitions);
	if (r < 0)
		return log_error_errno(r, "cannot arm the flush timers");
	return 0;
}

/* logd_store_drain - at stop: flush; >0 while records remain and time allows */
int logd_store_drain(struct logd *l)
{
	if (l->buf.count == 0 || mono_us() >= l->stop_deadline_us)
		return 0;
	(void)logd_store_flush(l);
	return (int)MIN(l->buf.count, (size_t)INT_MAX);
}

static void s_event_freep(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}

/* logd_store_stop - last flush (unless forced), unhook, say what was lost */
void logd_store_stop(struct logd *l, bool flush)
{
	if (flush && l->buf.count > 0 && db_is_up(l->b.db))
		(void)logd_store_flush(l); /* e.g. our own "stopped" record */
	log_set_hook(NULL, NULL);
	s_event_freep(&l->flush_timer);
	s_event_freep(&l->flush_now);
	s_event_freep(&l->partition_timer);
	if (l->buf.count > 0)
		NOTE(LOG_LEVEL_WARNING, "log records not stored at stop",
		     LOG_I("count", l->buf.count));
	NOTE(LOG_LEVEL_INFO, "log totals", LOG_I("stored", l->stored),
	     LOG_I("dropped", l->buf.dropped),
	     LOG_I("malformed", s_malformed(l)),
	     LOG_I("refused", l->discarded));
	logd_buffer_done(&l->buf);
}
