/*
 * owner_db.c - what sembarkctl's data commands (retention, logs, audit)
 * share: the connection as the schema owner (password from the credential
 * "db-owner-password" or [database] owner_password_file), a session in
 * UTC, catalog look-ups for objects later migrations add, and the time
 * arguments they take (RFC 3339 through shared/util.c, or a duration ago
 * for --since).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "secret.h"
#include "util.h"

/* ctl_owner_connect - load the config into *cfg and connect as the owner */
int ctl_owner_connect(const struct ctl_context *ctx, const char *cmd, struct sembark_config *cfg,
		      struct db **ret)
{
	_cleanup_(secret_freep) struct secret *pw = NULL;
	_cleanup_(db_freep) struct db *db = NULL;
	int r;

	r = ctl_load_config(ctx, cfg);
	if (r < 0)
		return r;
	r = secret_load("db-owner-password", cfg->database.owner_password_file, &pw);
	if (r < 0 && !(r == -ENOENT && !cfg->database.owner_password_file[0])) {
		fprintf(stderr, "sembarkctl: %s: cannot read the owner password: %s\n", cmd,
			r == -EPERM ? "readable by group or others, chmod 0600 it" : strerror(-r));
		return r;
	}
	r = db_new(cfg, "ctl", cfg->database.owner_user, pw ? (const char *)pw->data : NULL, &db);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: %s: cannot set up the database connection: %s\n", cmd,
			strerror(-r));
		return r;
	}
	r = db_exec(db, "SELECT pg_catalog.set_config('TimeZone', 'UTC', false), "
			"pg_catalog.set_config('client_min_messages', 'warning', false)", 0, NULL);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: %s: cannot connect to database '%s' as %s: %s\n", cmd,
			cfg->database.name, cfg->database.owner_user, db_last_error(db));
		return r;
	}
	*ret = TAKE_PTR(db);
	return 0;
}

/* ctl_db_has - does the query (one boolean, one text parameter) say yes? */
int ctl_db_has(struct db *db, const char *sql, const char *arg, bool *ret)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[1] = { arg };
	int r;

	r = db_query(db, &res, sql, 1, params);
	if (r < 0)
		return r;
	return db_get_bool(res, 0, 0, ret);
}

/* ctl_table_column - does public.<table> exist, and does it have column col? */
int ctl_table_column(struct db *db, const char *table, const char *col, bool *ret_table,
		     bool *ret_col)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[2] = { table, col };
	int r;

	r = db_query(db, &res,
		     "SELECT pg_catalog.to_regclass('public.' || pg_catalog.quote_ident($1)) "
		     "IS NOT NULL, EXISTS (SELECT 1 FROM information_schema.columns "
		     "WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2)",
		     2, params);
	if (r < 0)
		return r;
	r = db_get_bool(res, 0, 0, ret_table);
	if (r >= 0)
		r = db_get_bool(res, 0, 1, ret_col);
	return r;
}

/*
 * CTL_TIME_FLAGS - what ctl's time arguments accept besides RFC 3339: a
 * space for the 'T'; and what they refuse, as they always did: the year
 * 0000 and the leap second 23:59:60.
 */
#define CTL_TIME_FLAGS (UTIL_TIME_SPACE | UTIL_TIME_YEAR1 | UTIL_TIME_NO_235960)

/* ctl_parse_rfc3339 - "2026-12-30T05:00:00Z", "...T05:00:00.5+01:00": UTC microseconds */
int ctl_parse_rfc3339(const char *s, int64_t *ret_us)
{
	return util_parse_time(s, CTL_TIME_FLAGS, ret_us);
}

/* ctl_parse_since - RFC 3339, or "<n>s|m|h|d" meaning that long before now_us */
int ctl_parse_since(const char *s, int64_t now_us, int64_t *ret_us)
{
	static const struct { char unit; int64_t us; } units[] = {
		{ 's', 1000000LL }, { 'm', 60000000LL }, { 'h', 3600000000LL },
		{ 'd', 86400000000LL },
	};
	size_t n = strspn(s, "0123456789");
	int64_t v = 0;

	if (n == 0 || n > 6 || s[n] == '\0' || s[n + 1] != '\0')
		return ctl_parse_rfc3339(s, ret_us);
	for (size_t i = 0; i < n; i++) /* at most 6 digits: 0..999999 */
		v = v * 10 + (s[i] - '0');
	for (size_t i = 0; i < ELEMENTSOF(units); i++)
		if (s[n] == units[i].unit) {
			*ret_us = now_us - v * units[i].us;
			return 0;
		}
	return ctl_parse_rfc3339(s, ret_us);
}

/* ctl_format_time - RFC 3339 UTC, microseconds only when there are some */
void ctl_format_time(int64_t us, char buf[static CTL_TIME_MAX])
{
	util_format_time_flags(us, UTIL_TIME_SHORT, buf);
}

/* ctl_now_us - the real clock, UTC microseconds */
int64_t ctl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ctl_parse_count - a decimal integer in lo..hi, all of s */
int ctl_parse_count(const char *s, long lo, long hi, long *ret)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}
