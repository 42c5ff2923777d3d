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
 * hour are deleted at most once a minute, on a failure. Every statement
 * runs on the asynchronous pool: the caller goes on in a step (task.c).
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

static const char s_fail_sql[] = "INSERT INTO login_failures (email_hash) VALUES ($1::bytea)";
static const char s_clear_sql[] = "DELETE FROM login_failures WHERE email_hash = $1::bytea";
static const char s_purge_sql[] = "DELETE FROM login_failures WHERE at < now() - interval '1 hour'";

/* authd_throttle_prepare - declare this file's statements on the async pool */
int authd_throttle_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_THROTTLE_CHECK, s_check_sql, 3 },
		{ AUTHD_STMT_THROTTLE_FAIL, s_fail_sql, 1 },
		{ AUTHD_STMT_THROTTLE_CLEAR, s_clear_sql, 1 },
		{ AUTHD_STMT_THROTTLE_PURGE, s_purge_sql, 0 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

/* authd_throttle_check - how long key must wait; step gets the answer (authd_throttle_wait) */
void authd_throttle_check(struct authd_task *t, const uint8_t key[AUTHD_HASH_BYTES],
			  authd_step_fn step)
{
	char hash[AUTHD_BYTEA_MAX + 1], minute[16], hour[16];

	authd_bytea(key, hash);
	snprintf(minute, sizeof(minute), "%d", AUTHD_THROTTLE_MINUTE - 1);
	snprintf(hour, sizeof(hour), "%d", AUTHD_THROTTLE_HOUR - 1);
	authd_task_query(t, AUTHD_STMT_THROTTLE_CHECK, 3, (const char *const[]){ hash, minute, hour },
			 step);
}

/* authd_throttle_wait - from the check's answer: 0 to go on, else the seconds to wait */
int64_t authd_throttle_wait(const PGresult *res)
{
	int64_t wait = 0, v;

	for (int col = 0; col < 2; col++)
		if (db_get_i64(res, 0, col, &v) == 0)
			wait = MAX(wait, MAX(v, 1));
	return wait;
}

/* s_purge - rows older than an hour go, at most once a minute (not waited for) */
static void s_purge(struct authd *a)
{
	int64_t now = mono_us();

	if (s_purged_us != 0 && now - s_purged_us < PURGE_EVERY_US)
		return;
	s_purged_us = now;
	authd_fire(a, AUTHD_STMT_THROTTLE_PURGE, 0, NULL);
}

/* authd_throttle_fail - count one failure (before verifying: pessimistic); then step */
void authd_throttle_fail(struct authd_task *t, const uint8_t key[AUTHD_HASH_BYTES],
			 authd_step_fn step)
{
	char hash[AUTHD_BYTEA_MAX + 1];

	authd_bytea(key, hash);
	s_purge(t->a);
	authd_task_query(t, AUTHD_STMT_THROTTLE_FAIL, 1, (const char *const[]){ hash }, step);
}

/* authd_throttle_clear - a success: forget the email's failures; then step */
void authd_throttle_clear(struct authd_task *t, const uint8_t key[AUTHD_HASH_BYTES],
			  authd_step_fn step)
{
	char hash[AUTHD_BYTEA_MAX + 1];

	authd_bytea(key, hash);
	authd_task_query(t, AUTHD_STMT_THROTTLE_CLEAR, 1, (const char *const[]){ hash }, step);
}
