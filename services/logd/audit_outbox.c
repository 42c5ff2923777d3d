/*
 * audit_outbox.c - where logd's audit events come from: authd's outbox,
 * the table audit_outbox (migrations/0008_audit_outbox.sql) that authd
 * writes each event into within the action's own statement. logd reads
 * the rows in id order into the audit stream's buffer, never more than
 * it has room for (nothing is evicted), and the stream stores them
 * (audit_store.c) with a statement that inserts into audit_events and
 * deletes from the outbox at once, skipping rows already gone: an event
 * is stored exactly once however often it is read, and a row leaves the
 * outbox only with its copy in audit_events. Whatever logd holds when it
 * is stopped or killed is still in the outbox and read again at start.
 *
 * A read starts when authd's NOTIFY on sembark_audit is heard (at once),
 * when the LISTEN comes up (what was written while logd was away), every
 * LOGD_OUTBOX_POLL_MS (a missed notification), and after a read that
 * found rows (until one finds none); asked for while the buffer is full,
 * it waits for store.c's next flush tick. One read at a time; the next
 * starts after the newest id read. Loop thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <event2/event.h>

#include "logd.h"

/* LOGD_OUTBOX_COLS, in logd_audit_from_row's order */
static const char s_read_sql[] =
	"SELECT id, (extract(epoch FROM at) * 1000000)::bigint, team_id, event, actor_id, "
	"actor_email, subject_id, subject_email FROM audit_outbox "
	"WHERE id > $1::bigint ORDER BY id LIMIT $2::int";

static void s_heard(enum pgq_listen_event ev, const char *payload, void *userdata)
{
	(void)payload;
	if (ev != PGQ_LISTEN_DOWN)
		logd_outbox_read(userdata);
}

/* logd_outbox_prepare - the read statement and the LISTEN (before pgq_start) */
int logd_outbox_prepare(struct logd *l)
{
	int r = pgq_statement(l->b.pgq, s_read_sql, 2);

	if (r < 0)
		return r;
	l->stmt[LOGD_STMT_OUTBOX_READ] = r;
	return pgq_listen(l->b.pgq, LOGD_OUTBOX_CHANNEL, s_heard, l);
}

/* s_take - the rows read into the audit buffer; how many */
static int s_take(struct logd *l, const PGresult *res)
{
	int n = PQntuples(res);

	for (int i = 0; i < n; i++) {
		struct logd_audit ev;
		int r = logd_audit_from_row(res, i, &ev);

		if (r < 0) { /* cannot happen with the outbox's types; counted, left in the table */
			l->outbox.bad++;
			continue;
		}
		l->outbox.last_id = ev.outbox_id;
		logd_audit_add(l, &ev);
	}
	l->outbox.read += (uint64_t)n;
	return n;
}

static void s_read_done(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct logd *l = userdata;
	struct logd_outbox *o = &l->outbox;

	o->reading = false;
	if (r == -ECANCELED)
		return;
	if (r < 0) { /* said once a streak, on stderr only (see store.c) */
		if (!o->failing)
			NOTE(LOG_LEVEL_WARNING, "audit outbox read failed, will retry",
			     LOG_I("error", r), LOG_S("sqlstate", sqlstate));
		o->failing = true;
		return;
	}
	o->failing = false;
	if (s_take(l, res) > 0) {
		o->again = true; /* perhaps more: look again (stops when a read finds nothing) */
		logd_stream_kick(&l->audit);
	}
	if (o->again)
		logd_outbox_read(l);
}

/* logd_outbox_read - read what waits, as far as the audit buffer has room */
void logd_outbox_read(struct logd *l)
{
	struct logd_outbox *o = &l->outbox;
	size_t room = l->audit.buf.cap - l->audit.buf.count;
	char after[24], limit[24];
	int r;

	if (o->reading || room == 0) {
		o->again = true; /* after this read, or at the next flush (store.c) */
		return;
	}
	o->again = false;
	if (!l->b.pgq || l->b.d.stopping)
		return; /* the poll, or the next start, comes back for it */
	snprintf(after, sizeof(after), "%" PRId64, o->last_id);
	snprintf(limit, sizeof(limit), "%zu", MIN(room, (size_t)LOGD_BATCH));
	r = pgq_run(l->b.pgq, l->stmt[LOGD_STMT_OUTBOX_READ], 2, (const char *const[]){ after, limit },
		    logd_db_deadline_ms(l), s_read_done, l, NULL);
	o->reading = r == 0;
}

static void s_on_poll(evutil_socket_t fd, short what, void *userdata)
{
	(void)fd;
	(void)what;
	logd_outbox_read(userdata);
}

/* logd_outbox_start - the poll timer, and a first read */
int logd_outbox_start(struct logd *l)
{
	struct timeval tv = { .tv_sec = LOGD_OUTBOX_POLL_MS / 1000,
			      .tv_usec = (LOGD_OUTBOX_POLL_MS % 1000) * 1000 };

	l->outbox.poll = event_new(l->b.d.base, -1, EV_PERSIST, s_on_poll, l);
	if (!l->outbox.poll || event_add(l->outbox.poll, &tv) < 0)
		return log_error_errno(-ENOMEM, "cannot arm the audit outbox timer");
	logd_outbox_read(l);
	return 0;
}

/* logd_outbox_stop - free the timer */
void logd_outbox_stop(struct logd *l)
{
	if (l->outbox.poll)
		event_free(l->outbox.poll);
	l->outbox.poll = NULL;
}
