/*
 * audit.c - an audit event as logd buffers it: the checks on what authd
 * sent, and its item type for the buffer that holds the events waiting
 * for PostgreSQL.
 *
 * Events come from authd (audit.event on the PULL socket, decoded by
 * ipc/). They are checked again here, because a PULL has no sender
 * identity: the event must be one API.md names, the team id a UUID, actor
 * and subject ids a UUID or absent, the time within a day of logd's
 * clock. Emails are kept (who did what is the point of an audit trail),
 * but go through the redactor like every stored string: an address
 * literal or a token in one is replaced. In the buffer (buffer.c) an event
 * is a fixed-size slot: no heap per event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logd.h"
#include "util.h"

static const char *const s_events[] = {
	"team_created", "login", "login_failed", "logout", "member_joined",
	"invite_rotated", "role_changed", "member_removed", "session_revoked",
	"password_changed",
};

/* logd_audit_event_known - one of the audit events API.md names? */
bool logd_audit_event_known(const char *event)
{
	for (size_t i = 0; i < ELEMENTSOF(s_events); i++)
		if (strcmp(event, s_events[i]) == 0)
			return true;
	return false;
}

/* s_copy_id - an optional id: "" or a UUID (lower-cased) */
static int s_copy_id(char dst[static UTIL_UUID_LEN + 1], const char *src, bool required)
{
	if (!src[0] && !required) {
		dst[0] = '\0';
		return 0;
	}
	return util_uuid_normalize(src, dst) < 0 ? -EBADMSG : 0;
}

/* s_copy_email - "" or the redacted email, at most LOGD_EMAIL_MAX bytes */
static int s_copy_email(char dst[static LOGD_EMAIL_MAX + 1], const char *src)
{
	_cleanup_free_ char *s = logd_dup_clean(src, LOGD_EMAIL_MAX);

	if (!s)
		return -ENOMEM;
	snprintf(dst, LOGD_EMAIL_MAX + 1, "%s", s);
	return 0;
}

/* logd_audit_from_ipc - check and redact an event authd sent; -EBADMSG,
 * -ERANGE (clock too far off) or -ENOMEM when refused */
int logd_audit_from_ipc(const struct ipc_audit_event *in, int64_t now, struct logd_audit *ret)
{
	struct logd_audit ev = { .time_us = in->time_us };
	int r;

	if (!logd_audit_event_known(in->event))
		return -EBADMSG;
	if (in->time_us < now - LOGD_CLOCK_SKEW_US || in->time_us > now + LOGD_CLOCK_SKEW_US)
		return -ERANGE;
	r = s_copy_id(ev.team_id, in->team_id, true);
	if (r >= 0)
		r = s_copy_id(ev.actor_id, in->actor_id, false);
	if (r >= 0)
		r = s_copy_id(ev.subject_id, in->subject_id, false);
	if (r >= 0)
		r = s_copy_email(ev.actor_email, in->actor_email);
	if (r >= 0)
		r = s_copy_email(ev.subject_email, in->subject_email);
	if (r < 0)
		return r;
	snprintf(ev.event, sizeof(ev.event), "%s", in->event);
	util_format_time(in->time_us, ev.at);
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
