/*
 * batch.c - how logd writes one buffered stream (log records: store.c;
 * audit events: audit_store.c) into its day-partitioned table: one
 * multi-row parameterised INSERT per batch of up to LOGD_BATCH (built from
 * the stream's statement head, row template and row parameters), at most
 * LOGD_FLUSH_MAX_BATCHES batches per flush. Daily partitions come from the
 * stream's SECURITY DEFINER function sembark_ensure_*_partitions(from_day,
 * days), called through db_partitions_ensure (shared/db.c): at start, every
 * hour, before the next insert whenever that failed, and when a row finds
 * no partition (SQLSTATE 23514: ensure the days the batch spans, retry
 * once).
 *
 * PostgreSQL away: items stay buffered (bounded) and the next flush
 * retries. A row PostgreSQL refuses as data (class 22/23) is dropped
 * alone, never blocking the rest. Failures of the flush itself go to
 * stderr only (logd_note), never through the log hook into the buffer,
 * so a failing flush cannot feed itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logd.h"
#include "util.h"

#define DAY_US (86400LL * 1000000)

static size_t s_count(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* s_data_error - did the last statement fail on a row's data (class 22/23)? */
static bool s_data_error(struct db *db)
{
	const char *s = db_last_sqlstate(db);

	return strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0;
}

/* s_no_partition - did the last insert find no partition (23514)? */
static bool s_no_partition(struct db *db)
{
	return strcmp(db_last_sqlstate(db), "23514") == 0;
}

/* s_ensure - the stream's ensure_fn for days days from from_us's, logging what it created */
static int s_ensure(struct db *db, const struct logd_stream_type *t, int64_t from_us, int days)
{
	char day[UTIL_DAY_MAX];
	int64_t created;
	int r;

	util_format_day(from_us, day);
	r = db_partitions_ensure(db, t->ensure_fn, day, days, &created);
	if (r == -EIO)
		NOTE(LOG_LEVEL_WARNING, "cannot create partitions", LOG_S("table", t->table),
		     LOG_S("from", day), LOG_S("sqlstate", db_last_sqlstate(db)),
		     LOG_S("error", db_last_error(db)));
	if (r < 0)
		return r;
	if (created > 0)
		log_info(t->created, LOG_S("table", t->table), LOG_I("count", created),
			 LOG_S("from", day), LOG_I("days", days));
	return 0;
}

/* s_insert_sql - insert_head, then n insert_rows with their '$' numbered from $1 */
static char *s_insert_sql(const struct logd_stream_type *t, size_t n, size_t ncols)
{
	size_t size = strlen(t->insert_head) + n * (strlen(t->insert_row) + 1 + ncols * 10) + 1;
	size_t off, k = 1;
	char *sql = malloc(size);

	if (!sql)
		return NULL;
	off = (size_t)snprintf(sql, size, "%s", t->insert_head);
	for (size_t i = 0; i < n && off < size; i++) {
		if (i)
			sql[off++] = ',';
		for (const char *c = t->insert_row; *c && off < size - 1; c++) {
			sql[off++] = *c;
			if (*c == '$')
				off += (size_t)snprintf(sql + off, size - off, "%zu", k++);
		}
	}
	sql[MIN(off, size - 1)] = '\0';
	return sql;
}

/* s_insert - the n oldest items in one statement: 0, or -EIO with db_last_sqlstate */
static int s_insert(struct db *db, struct logd_stream *s, size_t n)
{
	const struct logd_stream_type *t = s->type;
	size_t ncols = s_count(t->insert_row, '$');
	_cleanup_free_ char *sql = s_insert_sql(t, n, ncols);
	_cleanup_free_ const char **params = calloc(n * ncols, sizeof(*params));

	if (!sql || !params)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		t->row(logd_buffer_peek(&s->buf, i), params + i * ncols);
	return db_exec(db, sql, (int)(n * ncols), params);
}

/* logd_stream_init - an empty stream of this type, at most cap items buffered */
int logd_stream_init(struct logd_stream *s, const struct logd_stream_type *type, size_t cap)
{
	*s = (struct logd_stream){ .type = type, .need_partitions = true };
	return logd_buffer_init(&s->buf, type->item, cap);
}

/* logd_stream_done - free what is still buffered */
void logd_stream_done(struct logd_stream *s)
{
	logd_buffer_done(&s->buf);
}

/* logd_stream_partitions - ensure the stream's partitions from yesterday for 4 days */
int logd_stream_partitions(struct db *db, struct logd_stream *s)
{
	int r;

	if (!db)
		return -ENOTCONN;
	r = s_ensure(db, s->type, now_us() - DAY_US, 4);
	s->need_partitions = r < 0;
	return r;
}

/* s_ensure_for_batch - partitions for every day the n oldest items span */
static int s_ensure_for_batch(struct db *db, struct logd_stream *s, size_t n)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, days;

	for (size_t i = 0; i < n; i++) {
		int64_t t = logd_buffer_time(&s->buf, i);

		lo = MIN(lo, t);
		hi = MAX(hi, t);
	}
	days = hi / DAY_US - lo / DAY_US + 1;
	return s_ensure(db, s->type, lo, (int)MAX(1, MIN(days, 31)));
}

/* s_insert_each - one row at a time, dropping rows refused as data */
static int s_insert_each(struct db *db, struct logd_stream *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = s_insert(db, s, 1);

		if (r < 0 && !(r == -EIO && s_data_error(db)))
			return r;
		if (r < 0) {
			s->refused++;
			NOTE(LOG_LEVEL_WARNING, s->type->refused,
			     LOG_S("sqlstate", db_last_sqlstate(db)), LOG_S("error", db_last_error(db)));
		} else {
			s->stored++;
		}
		logd_buffer_pop(&s->buf, 1);
	}
	return 0;
}

/* s_flush_batch - store the oldest batch; on failure it stays buffered */
static int s_flush_batch(struct db *db, struct logd_stream *s)
{
	size_t n;
	int r;

	if (s->need_partitions && logd_stream_partitions(db, s) == -ENOTCONN)
		return -ENOTCONN;
	n = MIN(s->buf.count, (size_t)LOGD_BATCH);
	s->buf.busy = true;
	r = s_insert(db, s, n);
	if (r == -EIO && s_no_partition(db)) {
		r = s_ensure_for_batch(db, s, n);
		if (r >= 0)
			r = s_insert(db, s, n);
	}
	if (r == -EIO && s_data_error(db)) {
		r = s_insert_each(db, s, n);
	} else if (r == 0) {
		logd_buffer_pop(&s->buf, n);
		s->stored += n;
	}
	s->buf.busy = false;
	return r;
}

/* s_note_flush - the first failure of a streak on stderr, its end in the log */
static void s_note_flush(struct db *db, struct logd_stream *s, int r)
{
	if (r < 0 && !s->failing) {
		s->failing = true;
		NOTE(LOG_LEVEL_WARNING, s->type->failed,
		     LOG_S("error", r == -EIO ? db_last_error(db)
				  : r == -ENOTCONN ? "database unavailable" : strerror(-r)),
		     LOG_S("sqlstate", db_last_sqlstate(db)), LOG_I("buffered", s->buf.count));
	} else if (r == 0 && s->failing) {
		s->failing = false;
		log_info(s->type->recovered, LOG_I("buffered", s->buf.count));
	}
}

/* logd_stream_flush - insert buffered items, at most LOGD_FLUSH_MAX_BATCHES batches */
int logd_stream_flush(struct db *db, struct logd_stream *s)
{
	int r = 0;

	if (!db)
		return -ENOTCONN;
	for (int i = 0; i < LOGD_FLUSH_MAX_BATCHES && s->buf.count > 0; i++) {
		r = s_flush_batch(db, s);
		if (r < 0)
			break;
	}
	s_note_flush(db, s, r);
	return r;
}
