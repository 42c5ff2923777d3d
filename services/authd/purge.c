/*
 * purge.c - authd's own retention rule: expired sessions (past their
 * absolute lifetime, or idle past [auth] session_idle_timeout when that
 * is set) and login-throttling rows older than an hour are deleted at
 * start and every hour, through authd's role (it has DELETE on both
 * tables). A run that fails (PostgreSQL away) is tried again a minute
 * later. `sembarkctl retention` applies the same rules as the owner.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "authd.h"
#include "log.h"

#define PURGE_EVERY_S 3600
#define PURGE_RETRY_S 60

static const char sql_sessions[] =
	"DELETE FROM sessions WHERE expires_at <= now() "
	"OR ($1::int > 0 AND last_used_at <= now() - make_interval(secs => $1::int))";
static const char sql_failures[] =
	"DELETE FROM login_failures WHERE at < now() - interval '1 hour'";

/* s_count - rows a DELETE removed */
static long long s_count(PGresult *res)
{
	const char *n = res ? PQcmdTuples(res) : "";

	return n[0] ? atoll(n) : 0;
}

/* authd_purge_run - delete what the rules say; 0 or negative errno */
int authd_purge_run(struct authd *a)
{
	_cleanup_pgresult_ PGresult *sessions = NULL;
	_cleanup_pgresult_ PGresult *failures = NULL;
	char idle[16];
	const char *params[] = { idle };
	int r;

	snprintf(idle, sizeof(idle), "%d", a->b.d.cfg.auth.session_idle_timeout);
	r = db_query(a->b.db, &sessions, sql_sessions, 1, params);
	if (r < 0)
		return r;
	r = db_query(a->b.db, &failures, sql_failures, 0, NULL);
	if (r < 0)
		return r;
	log_info("purged expired sessions", LOG_I("sessions", s_count(sessions)),
		 LOG_I("login_failures", s_count(failures)));
	return 0;
}

static void s_schedule(struct authd *a, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	evtimer_add(a->purge_timer, &tv);
}

static void s_on_timer(evutil_socket_t fd, short what, void *userdata)
{
	struct authd *a = userdata;
	int r = authd_purge_run(a);

	if (r < 0)
		log_warning_errno(r, "session purge failed, will retry",
				  LOG_S("sqlstate", db_last_sqlstate(a->b.db)));
	s_schedule(a, r < 0 ? PURGE_RETRY_S : PURGE_EVERY_S);
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

/* authd_purge_stop - cancel the timer; accepts a never-started purge */
void authd_purge_stop(struct authd *a)
{
	if (a->purge_timer)
		event_free(a->purge_timer);
	a->purge_timer = NULL;
}
