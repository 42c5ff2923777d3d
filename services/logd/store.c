/*
 * store.c - logd's way into PostgreSQL: the stream of log records (rows
 * of the day-partitioned `logs` table, partitions from
 * sembark_ensure_log_partitions), the log hook that buffers logd's own
 * records, and the timers that start a flush round of both streams
 * (records here, audit events from audit_store.c; batch.c writes each on
 * the asynchronous pool) every [logs] flush_ms or as soon as a batch of
 * records is full, and ensure partitions every hour.
 *
 * Stopping: the drain (backend_run's, polled by runtime/daemon.c) keeps
 * starting rounds and holds the loop while anything is buffered or in
 * flight, or a request is unanswered, for at most LOGD_STOP_FLUSH_US;
 * after the loop, records that came since (logd's own "stopped") get
 * one more round, run on the loop until it ends or that deadline passes;
 * then the pool is freed, so whatever is still in flight is given up on
 * and reported as not stored. Losses, redactions and the totals at stop
 * are reported from here; failures of a flush go to stderr only
 * (logd_note), never through the log hook into the buffer, so a failing
 * flush cannot feed itself.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "logd.h"
#include "util.h"

#define NOTE_EVERY_US (60LL * 1000000)

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

/* s_row - a record's column values, in the order of insert_sql's arrays */
static void s_row(const void *item, const char **p)
{
	const struct logd_rec *rec = item;

	p[0] = rec->at;
	p[1] = rec->service;
	p[2] = rec->level;
	p[3] = rec->msg;
	p[4] = rec->fields;
}

const struct logd_stream_type logd_log_stream = {
	.item = &logd_rec_type,
	.ensure_sql = DB_PARTITIONS_ENSURE_SQL("sembark_ensure_log_partitions"),
	.table = "logs",
	.created = "log partitions created",
	.refused = "log record refused by the database",
	.failed = "log flush failed, records kept",
	.recovered = "log flush recovered",
	.insert_sql = "INSERT INTO logs (at, service, level, message, fields) "
		      "SELECT at, service, level, message, fields FROM unnest($1::timestamptz[], "
		      "$2::text[], $3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY "
		      "AS x(at, service, level, message, fields, k) ORDER BY k",
	.ncols = 5,
	.row = s_row,
};

/* logd_db_deadline_ms - the server's statement_timeout ends a write first, so
 * its outcome is known; this deadline is for a server that does not answer */
int logd_db_deadline_ms(const struct logd *l)
{
	return 2 * l->b.d.cfg.database.statement_timeout_ms + LOGD_DB_GRACE_MS;
}

/* logd_store_prepare - declare both streams' statements on the pool */
int logd_store_prepare(struct logd *l)
{
	int r = logd_stream_prepare(&l->logs, l->b.pgq, logd_db_deadline_ms(l));

	return r < 0 ? r : logd_stream_prepare(&l->audit, l->b.pgq, logd_db_deadline_ms(l));
}

/* logd_store_partitions - each stream's next round (started now) ensures partitions first */
void logd_store_partitions(struct logd *l)
{
	l->logs.need_partitions = true;
	l->audit.need_partitions = true;
	logd_stream_kick(&l->logs);
	logd_stream_kick(&l->audit);
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

	if (l->logs.buf.dropped > l->dropped_noted && now - l->dropped_noted_us >= NOTE_EVERY_US) {
		log_warning("log buffer full, oldest records dropped",
			    LOG_I("dropped", l->logs.buf.dropped - l->dropped_noted));
		l->dropped_noted = l->logs.buf.dropped;
		l->dropped_noted_us = now;
	}
	if (s_malformed(l) > l->garbage_noted && now - l->garbage_noted_us >= NOTE_EVERY_US) {
		log_warning("malformed log records dropped",
			    LOG_I("dropped", s_malformed(l) - l->garbage_noted));
		l->garbage_noted = s_malformed(l);
		l->garbage_noted_us = now;
	}
	if (l->audit.buf.dropped > l->audit_dropped_noted) {
		log_warning("audit buffer full, oldest events dropped",
			    LOG_I("dropped", l->audit.buf.dropped - l->audit_dropped_noted));
		l->audit_dropped_noted = l->audit.buf.dropped;
	}
}

/* s_note_redactions - "redactions count=N" (new since the last one), at
 * once the first time, then at most once a minute (and at stop) */
static void s_note_redactions(struct logd *l, bool now_anyway)
{
	uint64_t total = logd_redactions();
	int64_t now = mono_us();

	if (total <= l->redactions_noted)
		return;
	if (!now_anyway && l->redactions_noted_us && now - l->redactions_noted_us < NOTE_EVERY_US)
		return;
	log_info("redactions", LOG_I("count", total - l->redactions_noted), LOG_I("total", total));
	l->redactions_noted = total;
	l->redactions_noted_us = now;
}

/* logd_store_flush - start a flush round of each stream that has none under way */
void logd_store_flush(struct logd *l)
{
	s_note_redactions(l, false);
	logd_stream_kick(&l->audit);
	logd_stream_kick(&l->logs);
	s_note_losses(l);
}

static void s_on_flush(evutil_socket_t fd, short what, void *userdata)
{
	struct logd *l = userdata;

	logd_store_flush(l);
	if (l->outbox.again)
		logd_outbox_read(l); /* it waited for room in the audit buffer */
	logd_retention_tick(l);
}

static void s_on_partitions(evutil_socket_t fd, short what, void *userdata)
{
	logd_store_partitions(userdata);
}

/* logd_store_add - buffer a record (taking its strings) */
void logd_store_add(struct logd *l, struct logd_rec *rec)
{
	logd_buffer_push(&l->logs.buf, rec);
	if (l->logs.buf.count >= LOGD_BATCH && !l->logs.buf.busy && !l->logs.failing && l->flush_now)
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

	r = logd_stream_init(&l->logs, &logd_log_stream, (size_t)l->b.d.cfg.logs.buffer_records);
	if (r >= 0)
		r = logd_stream_init(&l->audit, &logd_audit_stream,
				     (size_t)l->b.d.cfg.logs.buffer_records);
	if (r < 0)
		return log_error_errno(r, "cannot allocate the log buffer");
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

static bool s_busy(const struct logd *l)
{
	return logd_stream_busy(&l->logs) || logd_stream_busy(&l->audit);
}

/* s_waiting - items buffered or in flight, and requests not yet answered */
static size_t s_waiting(const struct logd *l)
{
	return l->logs.buf.count + l->audit.buf.count + backend_inflight(&l->b) + s_busy(l);
}

/* logd_store_drain - at stop: flush; >0 while something waits and time allows */
int logd_store_drain(struct logd *l)
{
	if (s_waiting(l) == 0 || mono_us() >= l->stop_deadline_us)
		return 0;
	logd_store_flush(l);
	return (int)MIN(s_waiting(l), (size_t)INT_MAX);
}

static void s_noop(evutil_socket_t fd, short what, void *userdata)
{
}

/* s_final_round - after the loop: one more round of each stream (e.g. for
 * our own "stopped"), the loop run until both are over or the stop
 * deadline; a second signal (loopbreak) ends it too */
static void s_final_round(struct logd *l)
{
	struct event_base *base = l->b.d.base;
	int64_t until = l->stop_deadline_us ? l->stop_deadline_us : mono_us() + LOGD_FINAL_FLUSH_US;
	int64_t left = until - mono_us();
	struct timeval tv = { .tv_sec = left / 1000000, .tv_usec = left % 1000000 };
	struct event *limit;

	if (!l->b.pgq || left <= 0 || l->logs.buf.count + l->audit.buf.count == 0)
		return;
	limit = evtimer_new(base, s_noop, NULL); /* EVLOOP_ONCE returns by then at the latest */
	if (limit && evtimer_add(limit, &tv) == 0) {
		logd_store_flush(l);
		while (s_busy(l) && mono_us() < until && event_base_loop(base, EVLOOP_ONCE) >= 0 &&
		       !event_base_got_break(base))
			continue;
	}
	if (limit)
		event_free(limit);
}

static void s_event_freep(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}

/* logd_store_stop - last round (unless forced), free the pool, unhook, say what was lost */
void logd_store_stop(struct logd *l, bool flush)
{
	s_note_redactions(l, true);
	if (flush)
		s_final_round(l);
	log_set_hook(NULL, NULL);
	/* before the streams go: what is in flight ends now (-ECANCELED), still buffered */
	l->b.pgq = pgq_free(l->b.pgq);
	s_event_freep(&l->flush_timer);
	s_event_freep(&l->flush_now);
	s_event_freep(&l->partition_timer);
	if (l->logs.buf.count > 0)
		NOTE(LOG_LEVEL_WARNING, "log records not stored at stop",
		     LOG_I("count", l->logs.buf.count));
	if (l->audit.buf.count > 0)
		NOTE(LOG_LEVEL_WARNING, "audit events not stored at stop",
		     LOG_I("count", l->audit.buf.count));
	NOTE(LOG_LEVEL_INFO, "log totals", LOG_I("stored", l->logs.stored),
	     LOG_I("dropped", l->logs.buf.dropped),
	     LOG_I("malformed", s_malformed(l)),
	     LOG_I("refused", l->logs.refused),
	     LOG_I("audit_stored", l->audit.stored),
	     LOG_I("audit_dropped", l->audit.buf.dropped),
	     LOG_I("audit_refused", l->audit.refused),
	     LOG_I("redactions", logd_redactions()));
	logd_stream_done(&l->logs);
	logd_stream_done(&l->audit);
}
