/*
 * batch.c - how logd writes one buffered stream (log records: store.c;
 * audit events: audit_store.c) into its day-partitioned table, on the
 * asynchronous pool (shared/pgq.c): the loop never waits for PostgreSQL.
 *
 * A flush round sends the oldest batch of up to LOGD_BATCH items in one
 * fixed statement (the stream's insert_sql: INSERT ... SELECT FROM
 * unnest() of one array parameter a column, so it is prepared once
 * whatever the row count), and when it is committed the next one, at most
 * LOGD_FLUSH_MAX_BATCHES batches a round. At most one statement of a
 * stream is in flight: the items it carries stay the oldest of the ring
 * (marked busy, so a full ring drops the newcomer instead of them) and
 * leave it only once PostgreSQL has answered: popped and counted when
 * committed, kept for the next round otherwise. Nothing is acknowledged
 * or dropped that was not committed, except a row refused as data.
 *
 * Daily partitions come from the stream's SECURITY DEFINER function
 * sembark_ensure_*_partitions(from_day, days) (DB_PARTITIONS_ENSURE_SQL
 * of shared/db.h): at start and every hour (store.c sets need_partitions),
 * before the next insert whenever that failed, and when a batch finds no
 * partition (SQLSTATE 23514: ensure the days the batch spans, retry
 * once).
 *
 * PostgreSQL away: items stay buffered (bounded) and the next round
 * retries. A batch PostgreSQL refuses as data (class 22/23) is tried one
 * row at a time and only the refused rows are dropped, never blocking the
 * rest. Failures of a round go to stderr only (logd_note), never through
 * the log hook into the buffer, so a failing flush cannot feed itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logd.h"
#include "sbuf.h"
#include "util.h"

#define DAY_US (86400LL * 1000000)

static void s_answer(int r, const PGresult *res, const char *sqlstate, void *userdata);
static void s_next(struct logd_stream *s);

/* s_data_error - was a statement refused for a row's data (class 22/23)? */
static bool s_data_error(int r, const char *sqlstate)
{
	return r == -EIO && (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0);
}

/* s_why - the error field of a failure line */
static const char *s_why(int r)
{
	switch (r) {
	case -ENOTCONN:
		return "database unavailable";
	case -ETIMEDOUT:
		return "no answer in time";
	case -EIO:
		return "statement failed";
	default:
		return strerror(-r);
	}
}

/* s_send - run stmt for s as step; 0, or pgq_run's error (nothing in flight then) */
static int s_send(struct logd_stream *s, enum logd_step step, int stmt, int n,
		  const char *const *params)
{
	int r;

	s->step = step;
	r = pgq_run(s->pgq, stmt, n, params, s->deadline_ms, s_answer, s, NULL);
	if (r < 0)
		s->step = LOGD_STEP_IDLE;
	return r;
}

/* s_note_round - the first failure of a streak on stderr, its end in the log */
static void s_note_round(struct logd_stream *s, int r)
{
	if (r < 0 && !s->failing) {
		s->failing = true;
		NOTE(LOG_LEVEL_WARNING, s->type->failed, LOG_S("error", s_why(r)),
		     LOG_S("sqlstate", s->sqlstate), LOG_I("buffered", s->buf.count));
	} else if (r == 0 && s->failing) {
		s->failing = false;
		log_info(s->type->recovered, LOG_I("buffered", s->buf.count));
	}
}

/* s_end - the round is over (r < 0: it failed; what it carried stays buffered) */
static void s_end(struct logd_stream *s, int r)
{
	s->step = LOGD_STEP_IDLE;
	s->inflight = 0;
	s->each_left = 0;
	s->buf.busy = false;
	s->last_r = r;
	if (r != -ECANCELED && (s->batches > 0 || (r < 0 && s->buf.count > 0)))
		s_note_round(s, r);
}

/* ---- the statements --------------------------------------------------------------- */

/* s_ensure - the stream's partitions for days days from from_us's */
static int s_ensure(struct logd_stream *s, enum logd_step step, int64_t from_us, int days)
{
	char day[UTIL_DAY_MAX], ndays[16];

	util_format_day(from_us, day);
	snprintf(ndays, sizeof(ndays), "%d", days);
	return s_send(s, step, s->ensure_stmt, 2, (const char *const[]){ day, ndays });
}

/* s_elem - one element of an array literal: always quoted, '"' and '\\' escaped */
static void s_elem(struct sbuf *b, const char *v)
{
	sbuf_puts(b, b->len > 1 ? ",\"" : "\"");
	for (size_t n; *v; v += n) {
		n = strcspn(v, "\"\\");
		if (n == 0) { /* a '"' or '\\': escaped, then itself */
			sbuf_put(b, "\\", 1);
			n = 1;
		}
		sbuf_put(b, v, n);
	}
	sbuf_put(b, "\"", 1);
}

/* s_arrays - the array literal of each column of the n oldest items; -ENOMEM */
static int s_arrays(const struct logd_stream *s, size_t n, struct sbuf *cols)
{
	const struct logd_stream_type *t = s->type;
	const char *row[LOGD_STREAM_COLS_MAX];
	int r = 0;

	for (int c = 0; c < t->ncols; c++)
		sbuf_puts(&cols[c], "{");
	for (size_t i = 0; i < n; i++) {
		t->row(logd_buffer_peek(&s->buf, i), row);
		for (int c = 0; c < t->ncols; c++)
			s_elem(&cols[c], row[c]);
	}
	for (int c = 0; c < t->ncols; c++) {
		sbuf_puts(&cols[c], "}");
		if (cols[c].oom)
			r = -ENOMEM;
	}
	return r;
}

/* s_insert - send the n oldest items in one statement, as step */
static int s_insert(struct logd_stream *s, enum logd_step step, size_t n)
{
	struct sbuf cols[LOGD_STREAM_COLS_MAX] = { 0 };
	const char *params[LOGD_STREAM_COLS_MAX];
	int r = s_arrays(s, n, cols);

	for (int c = 0; c < s->type->ncols; c++)
		params[c] = cols[c].data;
	if (r >= 0)
		r = s_send(s, step, s->insert_stmt, s->type->ncols, params);
	for (int c = 0; c < s->type->ncols; c++)
		sbuf_done(&cols[c]);
	if (r >= 0)
		s->inflight = n;
	return r;
}

/* s_batch_days - the first day and the number of days the in-flight items span */
static int s_batch_days(const struct logd_stream *s, int64_t *ret_from)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, days;

	for (size_t i = 0; i < s->inflight; i++) {
		int64_t t = logd_buffer_time(&s->buf, i);

		lo = MIN(lo, t);
		hi = MAX(hi, t);
	}
	days = hi / DAY_US - lo / DAY_US + 1;
	*ret_from = lo;
	return (int)MAX(1, MIN(days, 31));
}

/* ---- the answers ----------------------------------------------------------------- */

/* s_one - try the oldest row of a refused batch alone, or go on when none is left */
static void s_one(struct logd_stream *s)
{
	int r;

	if (s->each_left == 0) {
		s->buf.busy = false;
		s->batches++;
		s_next(s);
		return;
	}
	r = s_insert(s, LOGD_STEP_EACH, 1);
	if (r < 0)
		s_end(s, r);
}

/* s_each_answered - one row of a refused batch: stored, refused (dropped), or kept */
static void s_each_answered(struct logd_stream *s, int r)
{
	if (r < 0 && !s_data_error(r, s->sqlstate)) {
		s_end(s, r);
		return;
	}
	if (r < 0) {
		s->refused++;
		NOTE(LOG_LEVEL_WARNING, s->type->refused, LOG_S("sqlstate", s->sqlstate));
	} else {
		s->stored++;
	}
	logd_buffer_pop(&s->buf, 1);
	s->inflight = 0;
	s->each_left--;
	s_one(s);
}

/* s_inserted - the batch's last word: committed, refused as data, or failed */
static void s_inserted(struct logd_stream *s, int r)
{
	if (r == 0) {
		logd_buffer_pop(&s->buf, s->inflight);
		s->stored += s->inflight;
		s->inflight = 0;
		s->buf.busy = false;
		s->batches++;
		s_next(s);
	} else if (s_data_error(r, s->sqlstate)) {
		s->each_left = s->inflight;
		s->inflight = 0;
		s_one(s);
	} else {
		s_end(s, r);
	}
}

/* s_batch - send the oldest batch (the round goes on when it is answered) */
static void s_batch(struct logd_stream *s)
{
	int r;

	s->buf.busy = true;
	r = s_insert(s, LOGD_STEP_INSERT, MIN(s->buf.count, (size_t)LOGD_BATCH));
	if (r < 0)
		s_end(s, r);
}

/* s_insert_answered - a batch's first answer: no partition for a row (23514) gets one retry */
static void s_insert_answered(struct logd_stream *s, int r)
{
	int64_t from;
	int days;

	if (r == -EIO && strcmp(s->sqlstate, "23514") == 0) {
		days = s_batch_days(s, &from);
		r = s_ensure(s, LOGD_STEP_ENSURE_BATCH, from, days);
		if (r >= 0)
			return;
	}
	s_inserted(s, r);
}

/* s_created - an ensure's answer: log what it made, or why it failed */
static void s_created(struct logd_stream *s, int r, const PGresult *res)
{
	int64_t created = 0;

	if (r == -EIO)
		NOTE(LOG_LEVEL_WARNING, "cannot create partitions", LOG_S("table", s->type->table),
		     LOG_S("sqlstate", s->sqlstate));
	if (r < 0)
		return;
	(void)db_get_i64(res, 0, 0, &created);
	if (created > 0)
		log_info(s->type->created, LOG_S("table", s->type->table), LOG_I("count", created));
}

/* s_ensure_answered - partitions before the batch: on, unless PostgreSQL is away */
static void s_ensure_answered(struct logd_stream *s, int r, const PGresult *res)
{
	s_created(s, r, res);
	s->need_partitions = r < 0;
	if (r == -ENOTCONN) {
		s_end(s, r);
		return;
	}
	if (s->buf.count > 0 && s->batches < LOGD_FLUSH_MAX_BATCHES)
		s_batch(s);
	else
		s_end(s, 0);
}

/* s_ensure_batch_answered - the batch's days have partitions now: retry it once */
static void s_ensure_batch_answered(struct logd_stream *s, int r, const PGresult *res)
{
	s_created(s, r, res);
	if (r >= 0)
		r = s_insert(s, LOGD_STEP_RETRY, s->inflight);
	if (r < 0)
		s_inserted(s, r);
}

/* s_answer - the stream's statement in flight was answered (on the loop) */
static void s_answer(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct logd_stream *s = userdata;
	enum logd_step step = s->step;

	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", sqlstate);
	s->step = LOGD_STEP_IDLE;
	if (r == -ECANCELED) { /* the pool is being freed: no new statement */
		s_end(s, r);
		return;
	}
	switch (step) {
	case LOGD_STEP_ENSURE:
		s_ensure_answered(s, r, res);
		break;
	case LOGD_STEP_INSERT:
		s_insert_answered(s, r);
		break;
	case LOGD_STEP_ENSURE_BATCH:
		s_ensure_batch_answered(s, r, res);
		break;
	case LOGD_STEP_RETRY:
		s_inserted(s, r);
		break;
	case LOGD_STEP_EACH:
		s_each_answered(s, r);
		break;
	default:
		abort(); /* an answer for no statement: our bug */
	}
}

/* s_next - the round's next statement: partitions first when needed, then batches */
static void s_next(struct logd_stream *s)
{
	int r;

	if (s->need_partitions) {
		r = s_ensure(s, LOGD_STEP_ENSURE, now_us() - DAY_US, 4);
		if (r < 0)
			s_end(s, r);
	} else if (s->buf.count > 0 && s->batches < LOGD_FLUSH_MAX_BATCHES) {
		s_batch(s);
	} else {
		s_end(s, 0);
	}
}

/* ---- the stream -------------------------------------------------------------------- */

/* logd_stream_init - an empty stream of this type, at most cap items buffered */
int logd_stream_init(struct logd_stream *s, const struct logd_stream_type *type, size_t cap)
{
	*s = (struct logd_stream){ .type = type, .need_partitions = true };
	return logd_buffer_init(&s->buf, type->item, cap);
}

/* logd_stream_prepare - declare the stream's two statements on pgq */
int logd_stream_prepare(struct logd_stream *s, struct pgq *pgq, int deadline_ms)
{
	s->insert_stmt = pgq_statement(pgq, s->type->insert_sql, s->type->ncols);
	s->ensure_stmt = pgq_statement(pgq, s->type->ensure_sql, 2);
	if (s->insert_stmt < 0 || s->ensure_stmt < 0)
		return -E2BIG;
	s->pgq = pgq;
	s->deadline_ms = deadline_ms;
	return 0;
}

/* logd_stream_kick - start a flush round unless one is under way */
void logd_stream_kick(struct logd_stream *s)
{
	if (!s->pgq || s->step != LOGD_STEP_IDLE)
		return;
	s->batches = 0;
	s_next(s);
}

/* logd_stream_busy - is a statement of the stream in flight? */
bool logd_stream_busy(const struct logd_stream *s)
{
	return s->step != LOGD_STEP_IDLE;
}

/* logd_stream_done - free what is still buffered */
void logd_stream_done(struct logd_stream *s)
{
	if (logd_stream_busy(s))
		abort(); /* the pool must be freed first: our bug */
	logd_buffer_done(&s->buf);
}
