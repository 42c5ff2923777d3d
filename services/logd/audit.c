/*
 * audit.c - an audit event as logd buffers it: a row of authd's outbox
 * (migrations/0008_audit_outbox.sql, read by audit_outbox.c) made ready
 * for audit_events, and its item type for the buffer that holds the
 * events waiting for PostgreSQL.
 *
 * The outbox is written only by sembark_authd, and PostgreSQL already
 * checked its types (UUIDs, the event's shape, email lengths), so a row
 * is taken as it is, bounds-checked on the way in (db_get_*). Emails are
 * kept (who did what is the point of an audit trail), but go through the
 * redactor like every stored string: an address literal or a token in
 * one is replaced. In the buffer (buffer.c) an event is a fixed-size
 * slot: no heap per event.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "logd.h"
#include "util.h"

/* s_text - column col of row: "" for NULL, else the text (-E2BIG when too long) */
static int s_text(const PGresult *res, int row, int col, char *buf, size_t size)
{
	int r = db_get_text(res, row, col, buf, size);

	if (r == -ENODATA) {
		buf[0] = '\0';
		return 0;
	}
	return r;
}

/* s_email - column col: "" or the redacted email, at most LOGD_EMAIL_MAX bytes */
static int s_email(const PGresult *res, int row, int col, char dst[static LOGD_EMAIL_MAX + 1])
{
	char raw[LOGD_EMAIL_MAX + 1];
	_cleanup_free_ char *s = NULL;
	int r = s_text(res, row, col, raw, sizeof(raw));

	if (r < 0)
		return r;
	s = logd_dup_clean(raw, LOGD_EMAIL_MAX);
	if (!s)
		return -ENOMEM;
	snprintf(dst, LOGD_EMAIL_MAX + 1, "%s", s);
	return 0;
}

/*
 * logd_audit_from_row - row of LOGD_OUTBOX_COLS into *ret, emails redacted:
 * 0, or -EBADMSG / -E2BIG (a column not as the outbox's types promise), -ENOMEM
 */
int logd_audit_from_row(const PGresult *res, int row, struct logd_audit *ret)
{
	struct logd_audit ev = { 0 };
	int64_t id;
	int r;

	r = db_get_i64(res, row, 0, &id);
	if (r >= 0)
		r = db_get_i64(res, row, 1, &ev.time_us);
	if (r >= 0)
		r = db_get_text(res, row, 2, ev.team_id, sizeof(ev.team_id));
	if (r >= 0)
		r = db_get_text(res, row, 3, ev.event, sizeof(ev.event));
	if (r >= 0)
		r = s_text(res, row, 4, ev.actor_id, sizeof(ev.actor_id));
	if (r >= 0)
		r = s_email(res, row, 5, ev.actor_email);
	if (r >= 0)
		r = s_text(res, row, 6, ev.subject_id, sizeof(ev.subject_id));
	if (r >= 0)
		r = s_email(res, row, 7, ev.subject_email);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	ev.outbox_id = id;
	snprintf(ev.outbox_id_text, sizeof(ev.outbox_id_text), "%" PRId64, id);
	util_format_time(ev.time_us, ev.at);
	*ret = ev;
	return 0;
}

static int64_t s_time_us(const void *item)
{
	return ((const struct logd_audit *)item)->time_us;
}

/* Audit events in a logd_buffer: fixed-size slots, no heap, no byte charge. */
const struct logd_item_type logd_audit_type = {
	.size = sizeof(struct logd_audit),
	.time_us = s_time_us,
};
