/*
 * owner_db.c - what sembarkctl's data commands (retention, logs, audit)
 * share: the connection as the schema owner (password from the credential
 * "db-owner-password" or [database] owner_password_file), a session in
 * UTC, catalog look-ups for objects later migrations add, and the time
 * arguments they take (RFC 3339, or a duration ago for --since).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "secret.h"

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

/* s_num - exactly n digits at s, in lo..hi */
static int s_num(const char *s, int n, int lo, int hi, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* s_fraction - ".d{1,9}" at *p: microseconds; advances *p */
static int s_fraction(const char **p, int64_t *ret_us)
{
	const char *s = *p;
	int64_t us = 0;
	int n = 0;

	*ret_us = 0;
	if (*s != '.')
		return 0;
	for (s++; isdigit((unsigned char)*s); s++, n++) {
		if (n >= 9)
			return -EINVAL;
		if (n < 6)
			us = us * 10 + (*s - '0');
	}
	if (n == 0)
		return -EINVAL;
	for (; n < 6; n++)
		us *= 10;
	*ret_us = us;
	*p = s;
	return 0;
}

/* s_offset - "Z" or "+HH:MM"/"-HH:MM" ending the string: seconds east of UTC */
static int s_offset(const char *s, long *ret)
{
	int h, m;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*ret = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || s_num(s + 1, 2, 0, 23, &h) < 0 || s[3] != ':' ||
	    s_num(s + 4, 2, 0, 59, &m) < 0 || s[6] != '\0')
		return -EINVAL;
	*ret = (s[0] == '-' ? -1 : 1) * (h * 3600L + m * 60L);
	return 0;
}

/* ctl_parse_rfc3339 - "2026-12-30T05:00:00Z", "...T05:00:00.5+01:00": UTC microseconds */
int ctl_parse_rfc3339(const char *s, int64_t *ret_us)
{
	struct tm tm = { 0 }, check;
	int64_t us;
	long off;
	time_t t;
	const char *p;

	if (strlen(s) < 20 || s_num(s, 4, 1, 9999, &tm.tm_year) < 0 || s[4] != '-' ||
	    s_num(s + 5, 2, 1, 12, &tm.tm_mon) < 0 || s[7] != '-' ||
	    s_num(s + 8, 2, 1, 31, &tm.tm_mday) < 0 || !strchr("Tt ", s[10]) ||
	    s_num(s + 11, 2, 0, 23, &tm.tm_hour) < 0 || s[13] != ':' ||
	    s_num(s + 14, 2, 0, 59, &tm.tm_min) < 0 || s[16] != ':' ||
	    s_num(s + 17, 2, 0, 60, &tm.tm_sec) < 0)
		return -EINVAL;
	p = s + 19;
	if (s_fraction(&p, &us) < 0 || s_offset(p, &off) < 0)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	check = tm;
	t = timegm(&tm);
	if (tm.tm_mday != check.tm_mday || tm.tm_mon != check.tm_mon) /* 2026-02-30 */
		return -EINVAL;
	*ret_us = ((int64_t)t - off) * 1000000 + us;
	return 0;
}

/* ctl_parse_since - RFC 3339, or "<n>s|m|h|d" meaning that long before now_us */
int ctl_parse_since(const char *s, int64_t now_us, int64_t *ret_us)
{
	static const struct { char unit; int64_t us; } units[] = {
		{ 's', 1000000LL }, { 'm', 60000000LL }, { 'h', 3600000000LL },
		{ 'd', 86400000000LL },
	};
	size_t n = strspn(s, "0123456789");
	int v;

	if (n == 0 || n > 6 || s[n] == '\0' || s[n + 1] != '\0')
		return ctl_parse_rfc3339(s, ret_us);
	if (s_num(s, (int)n, 0, 999999, &v) < 0)
		return -EINVAL;
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
	time_t t = (time_t)(us / 1000000);
	long frac = (long)(us % 1000000);
	struct tm tm;
	size_t n;

	if (frac < 0) {
		frac += 1000000;
		t--;
	}
	gmtime_r(&t, &tm);
	n = strftime(buf, CTL_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(buf + n, CTL_TIME_MAX - n, ".%06ldZ", frac);
	else
		snprintf(buf + n, CTL_TIME_MAX - n, "Z");
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
