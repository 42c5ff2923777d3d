/*
 * store.c - logd's way into PostgreSQL: the stream of log records (rows
 * of the day-partitioned `logs` table, partitions from
 * sembark_ensure_log_partitions), the log hook that buffers logd's own
 * records, and the timers that flush both streams (records here, audit
 * events from audit_store.c; batch.c writes each) every [logs] flush_ms or
 * as soon as a batch of records is full, and ensure partitions every hour.
 * Losses, redactions and the totals at stop are reported from here;
 * failures of a flush go to stderr only (logd_note), never through the
 * log hook into the buffer, so a failing flush cannot feed itself.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "logd.h"

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

/* s_row - a record's parameters, in the order of insert_row */
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
	.ensure_fn = "sembark_ensure_log_partitions",
	.table = "logs",
	.created = "log partitions created",
	.refused = "log record refused by the database",
	.failed = "log flush failed, records kept",
	.recovered = "log flush recovered",
	.insert_head = "INSERT INTO logs (at, service, level, message, fields) VALUES ",
	.insert_row = "($::timestamptz,$,$,$,$::jsonb)",
	.row = s_row,
};

/* logd_store_partitions - ensure both streams' partitions from yesterday for 4 days */
int logd_store_partitions(struct logd *l)
{
	int r = logd_stream_partitions(l->b.db, &l->logs);
	int k = logd_stream_partitions(l->b.db, &l->audit);

	return r < 0 ? r : k;
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

/* logd_store_flush - insert buffered records and audit events, at most
 * LOGD_FLUSH_MAX_BATCHES of each */
int logd_store_flush(struct logd *l)
{
	int r, k = 0;

	if (!l->b.db)
		return -ENOTCONN;
	s_note_redactions(l, false);
	if (l->audit.buf.count > 0)
		k = logd_stream_flush(l->b.db, &l->audit);
	r = logd_stream_flush(l->b.db, &l->logs);
	s_note_losses(l);
	return r < 0 ? r : k;
}

static void s_on_flush(evutil_socket_t fd, short what, void *userdata)
{
	(void)logd_store_flush(userdata);
	logd_retention_tick(userdata);
}

static void s_on_partitions(evutil_socket_t fd, short what, void *userdata)
{
	(void)logd_store_partitions(userdata);
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

/* logd_store_drain - at stop: flush; >0 while records remain and time allows */
int logd_store_drain(struct logd *l)
{
	if ((l->logs.buf.count == 0 && l->audit.buf.count == 0) || mono_us() >= l->stop_deadline_us)
		return 0;
	(void)logd_store_flush(l);
	return (int)MIN(l->logs.buf.count + l->audit.buf.count, (size_t)INT_MAX);
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
	s_note_redactions(l, true);
	if (flush && (l->logs.buf.count > 0 || l->audit.buf.count > 0) && db_is_up(l->b.db))
		(void)logd_store_flush(l); /* e.g. our own "stopped" record */
	log_set_hook(NULL, NULL);
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
