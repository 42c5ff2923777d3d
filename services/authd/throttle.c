/*
 * throttle.c - sembark-authd's per-email login throttling, kept in
 * PostgreSQL (table login_failures) so that every authd instance shares
 * it. A row is one failed attempt: the SHA-256 of the normalised email
 * (never the email itself, never an address) and its time. Loop thread.
 *
 * Rules (API.md "Accounts"): with AUTHD_THROTTLE_MINUTE failures in the
 * last 60 s, or AUTHD_THROTTLE_HOUR in the last hour, an attempt is
 * refused before any password is looked at, with retry_after = seconds
 * until the window has room again. The caller records a failure *before*
 * it verifies (pessimistic: attempts that run in parallel count against
 * each other) and clears the email's rows on success. Rows older than an
 * hour are deleted at most once a minute, on a failure.
 */
#include <stdio.h>
#include <string.h>

#include "authd.h"
#include "log.h"

#define PURGE_EVERY_US (60LL * 1000000)

static int64_t s_purged_us;

/* authd_throttle_key - SHA-256 of the normalised email */
void authd_throttle_key(const char *email, uint8_t out[AUTHD_HASH_BYTES])
{
	authd_sha256(email, strlen(email), out);
}

/*
 * The n-th most recent failure inside a window (n = the limit) decides:
 * once it has left the window, there is room again.
 */
static const char s_check_sql[] =
	"SELECT (SELECT ceil(extract(epoch FROM at + interval '60 seconds' - now()))::bigint"
	"          FROM login_failures"
	"         WHERE email_hash = $1::bytea AND at > now() - interval '60 seconds'"
	"         ORDER BY at DESC OFFSET $2::bigint LIMIT 1),"
	"       (SELECT ceil(extract(epoch FROM at + interval '1 hour' - now()))::bigint"
	"          FROM login_failures"
	"         WHERE email_hash = $1::bytea AND at > now() - interval '1 hour'"
	"         ORDER BY at DESC OFFSET $3::bigint LIMIT 1)";

/* authd_throttle_check - 0 to go on, 1 refused (*ret_retry_after), or negative errno */
int authd_throttle_check(struct authd *a, const uint8_t key[AUTHD_HASH_BYTES],
			 int64_t *ret_retry_after)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char hash[AUTHD_BYTEA_MAX + 1], minute[16], hour[16];
	const char *params[] = { hash, minute, hour };
	int64_t wait = 0, v;
	int r;

	authd_bytea(key, hash);
	snprintf(minute, sizeof(minute), "%d", AUTHD_THROTTLE_MINUTE - 1);
	snprintf(hour, sizeof(hour), "%d", AUTHD_THROTTLE_HOUR - 1);
	r = db_query(a->b.db, &res, s_check_sql, 3, params);
	if (r < 0)
		return r;
	for (int col = 0; col < 2; col++)
		if (db_get_i64(res, 0, col, &v) == 0)
			wait = MAX(wait, MAX(v, 1));
	if (wait == 0)
		return 0;
	*ret_retry_after = wait;
	return 1;
}

static void s_purge(struct authd *a)
{
	int64_t now = mono_us();
	int r;

	if (s_purged_us != 0 && now - s_purged_us < PURGE_EVERY_US)
		return;
	s_purged_us = now;
	r = db_exec(a->b.db, "DELETE FROM login_failures WHERE at < now() - interval '1 hour'", 0,
		    NULL);
	if (r < 0)
		log_debug("cannot purge old login failures", LOG_S("error", db_last_error(a->b.db)));
}

/* authd_throttle_fail - count one failure (before verifying: pessimistic) */
int authd_throttle_fail(struct authd *a, const uint8_t key[AUTHD_HASH_BYTES])
{
	char hash[AUTHD_BYTEA_MAX + 1];
	const char *params[] = { hash };
	int r;

	authd_bytea(key, hash);
	r = db_exec(a->b.db, "INSERT INTO login_failures (email_hash) VALUES ($1::bytea)", 1,
		    params);
	if (r == 0)
		s_purge(a);
	return r;
}

/* authd_throttle_clear - a success: forget the email's failures */
int authd_throttle_clear(struct authd *a, const uint8_t key[AUTHD_HASH_BYTES])
{
	char hash[AUTHD_BYTEA_MAX + 1];
	const char *params[] = { hash };

	authd_bytea(key, hash);
	return db_exec(a->b.db, "DELETE FROM login_failures WHERE email_hash = $1::bytea", 1,
		       params);
}
