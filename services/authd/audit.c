/*
 * audit.c - sembark-authd's side of the audit outbox
 * (migrations/0008_audit_outbox.sql). Every event API.md lists for an
 * action (team_created, member_joined, login, logout, session_revoked,
 * password_changed, invite_rotated, role_changed, member_removed) is
 * written by the action's own statement (AUTHD_SQL_AUDIT in authd.h), so
 * an action answered 2xx has its event stored even when logd is stopped
 * or killed at that moment; logd moves the rows into audit_events. The
 * one event that has no write of its own, login_failed, is written here,
 * without waiting for it: a wrong password for a known email must answer
 * in the same time as an unknown email, which has no event (a 401 is not
 * an action; the event is stored once PostgreSQL commits the INSERT, and
 * lost only if authd dies in the millisecond before). authd may only
 * INSERT into the outbox.
 */
#include "authd.h"
#include "log.h"

static const char s_login_failed_sql[] =
	"INSERT INTO audit_outbox (event, team_id, subject_id, subject_email) "
	"VALUES ('login_failed', $1::uuid, $2::uuid, $3)";

/* authd_audit_prepare - declare this file's statement on the async pool */
int authd_audit_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_AUDIT_LOGIN_FAILED, s_login_failed_sql, 3 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

/* authd_audit_login_failed - login_failed for s's user into the outbox, not waited for */
void authd_audit_login_failed(struct authd *a, const struct authd_session *s)
{
	authd_fire(a, AUTHD_STMT_AUDIT_LOGIN_FAILED, 3,
		   (const char *const[]){ s->team_id, s->user_id, s->email });
}
