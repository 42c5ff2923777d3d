/*
 * purge.c - authd's own retention rule: expired sessions (past their
 * absolute lifetime, or idle past [auth] session_idle_timeout when that
 * is set), expired second-factor tickets (two_factor.c) and
 * login-throttling rows older than an hour are deleted at
 * start and every hour, through authd's role (it has DELETE on both
 * tables); then sembark_erasure_sweep() erases again what a write under
 * way at an erasure brought back (privacy.c, migrations/0014) and forgets
 * erased ids older than a day (an erasure brings the next run forward to
 * privacy.c's ERASE_SWEEP_DELAY_S later, authd_purge_soon). The statements run on the asynchronous
 * pool, one after the other; the loop never waits for them. A run that fails (PostgreSQL
 * away) is tried again a minute later. `sembarkctl retention` applies the
 * same rules as the owner.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "authd.h"
#include "log.h"

#define PURGE_EVERY_S 3600
#define PURGE_RETRY_S 60

/* expired second-factor tickets, reset links (an hour after they expired) and verification
 * links go with the sessions (the count is the sessions') */
static const char s_sessions_sql[] =
	"WITH tickets AS (DELETE FROM login_challenges WHERE expires_at <= now()), "
	"resets AS (DELETE FROM password_resets WHERE expires_at <= now() - interval '1 hour'), "
	"verifications AS (DELETE FROM email_verifications WHERE expires_at <= now()) "
	"DELETE FROM sessions WHERE expires_at <= now() "
	"OR ($1::int > 0 AND last_used_at <= now() - make_interval(secs => $1::int))";

static const char s_sweep_sql[] = "SELECT sembark_erasure_sweep()::text";

static long long s_sessions_purged; /* by the run under way */

/* authd_purge_prepare - declare this file's statement on the async pool */
int authd_purge_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_PURGE_SESSIONS, s_sessions_sql, 1 },
		{ AUTHD_STMT_ERASURE_SWEEP, s_sweep_sql, 0 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

/* s_count - rows a DELETE removed */
static long long s_count(const PGresult *res)
{
	const char *n = PQcmdTuples((PGresult *)res);

	return n[0] ? atoll(n) : 0;
}

static void s_schedule(struct authd *a, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	evtimer_add(a->purge_timer, &tv);
}

/* s_ended - a run's statement failed (retry soon) or the run is over (next in an hour) */
static void s_ended(struct authd *a, int r, const char *sqlstate)
{
	if (r == -ECANCELED || !a->purge_timer)
		return; /* shutting down */
	if (r < 0)
		log_warning_errno(r, "session purge failed, will retry", LOG_S("sqlstate", sqlstate));
	s_schedule(a, r < 0 ? PURGE_RETRY_S : PURGE_EVERY_S);
}

static void s_swept(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct authd *a = userdata;

	if (r == 0 && PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 0)) > 0)
		log_info("erasure sweep", LOG_I("erased_ids", atoi(PQgetvalue(res, 0, 0))));
	s_ended(a, r, sqlstate);
}

static void s_failures_purged(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct authd *a = userdata;

	if (r == 0) {
		log_info("purged expired sessions", LOG_I("sessions", s_sessions_purged),
			 LOG_I("login_failures", s_count(res)));
		r = pgq_run(a->b.pgq, a->stmt[AUTHD_STMT_ERASURE_SWEEP], 0, NULL,
			    a->b.d.cfg.database.statement_timeout_ms, s_swept, a, NULL);
		if (r == 0)
			return;
	}
	s_ended(a, r, sqlstate);
}

static void s_sessions_done(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct authd *a = userdata;
	const struct sembark_config *cfg = &a->b.d.cfg;

	if (r == 0) {
		s_sessions_purged = s_count(res);
		r = pgq_run(a->b.pgq, a->stmt[AUTHD_STMT_THROTTLE_PURGE], 0, NULL,
			    cfg->database.statement_timeout_ms, s_failures_purged, a, NULL);
		if (r == 0)
			return;
	}
	s_ended(a, r, sqlstate);
}

/* s_on_timer - a run: sessions, then throttle rows */
static void s_on_timer(evutil_socket_t fd, short what, void *userdata)
{
	struct authd *a = userdata;
	const struct sembark_config *cfg = &a->b.d.cfg;
	char idle[16];
	int r;

	(void)fd;
	(void)what;
	snprintf(idle, sizeof(idle), "%d", cfg->auth.session_idle_timeout);
	r = pgq_run(a->b.pgq, a->stmt[AUTHD_STMT_PURGE_SESSIONS], 1, (const char *const[]){ idle },
		    cfg->database.statement_timeout_ms, s_sessions_done, a, NULL);
	if (r < 0)
		s_ended(a, r, "");
}

/* authd_purge_start - run the rules soon, then every hour */
int authd_purge_start(struct authd *a)
{
	a->purge_timer = evtimer_new(a->b.d.base, s_on_timer, a);
	if (!a->purge_timer)
		return -ENOMEM;
	s_schedule(a, 0);
	return 0;
}

/* authd_purge_soon - the next run in `seconds` (after an erasure: its sweep comes soon) */
void authd_purge_soon(struct authd *a, int seconds)
{
	if (a->purge_timer)
		s_schedule(a, seconds);
}

/* authd_purge_stop - cancel the timer; accepts a never-started purge */
void authd_purge_stop(struct authd *a)
{
	if (a->purge_timer)
		event_free(a->purge_timer);
	a->purge_timer = NULL;
}
