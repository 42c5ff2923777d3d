/*
 * sessions.c - sembark-authd's sessions: finding the live session a token
 * names (for every authenticated op and for auth.check), making new ones,
 * and the ops on one's own sessions: me, logout, password, sessions,
 * session.revoke, sessions.revoke_others. Loop thread; the password
 * change's verify + hash run on the pool (authd_pw_job).
 *
 * A token is looked up by its SHA-256 (the only thing stored), and the
 * hash read back is compared again in constant time. A session is live
 * while now < expires_at (created_at + [auth] session_lifetime, absolute)
 * and, when [auth] session_idle_timeout > 0, while it was used within
 * that many seconds. last_used_at is written at most once a minute per
 * session, or every idle_timeout / 10 seconds when that is shorter, so
 * that an idle timeout under two minutes still measures real use. A dead
 * session found by its token is deleted on the spot; every state change
 * is a row change in PostgreSQL, so it holds at once on every ingress.
 * The lookup (every authenticated call, every auth.check) runs on the
 * asynchronous pool (shared/pgq.c): the loop never waits for it, and its
 * writes (last_used_at, deleting a dead row) are sent without waiting.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"

#define SESSIONS_LIST_MAX "1000" /* newest first; more are not listed */

/* s_seconds - a config duration as a float8 parameter */
static void s_seconds(double v, char buf[32])
{
	snprintf(buf, 32, "%.3f", v);
}

/* s_touch_s - how often last_used_at is written: every minute, or idle_timeout / 10 when shorter */
static double s_touch_s(const struct authd *a)
{
	int t = a->b.d.cfg.auth.session_idle_timeout;

	return t > 0 && t < 600 ? t / 10.0 : 60.0;
}

/* s_idle_params - [auth] session_idle_timeout and the touch interval */
static void s_idle_params(const struct authd *a, char idle[32], char touch[32])
{
	s_seconds(a->b.d.cfg.auth.session_idle_timeout, idle);
	s_seconds(s_touch_s(a), touch);
}

/* s_cache_times - the same two, for the cache */
static struct authd_cache_times s_cache_times(const struct authd *a)
{
	return (struct authd_cache_times){
		.idle_us = (int64_t)a->b.d.cfg.auth.session_idle_timeout * 1000000,
		.touch_us = (int64_t)(s_touch_s(a) * 1000000),
	};
}

static const char s_lookup_sql[] =
	"SELECT s.id, u.id, u.team_id, u.email, u.name, u.role, t.name, "
	AUTHD_SQL_TS("s.created_at") ", " AUTHD_SQL_TS("s.expires_at") ", "
	"encode(s.token_hash, 'hex'), "
	"s.expires_at > now() AND ($2::float8 <= 0"
	"  OR s.last_used_at > now() - make_interval(secs => $2::float8)), "
	"s.last_used_at < now() - make_interval(secs => $3::float8), "
	"(extract(epoch FROM s.expires_at - now()) * 1000000)::bigint, "
	"(extract(epoch FROM now() - s.last_used_at) * 1000000)::bigint, "
	"t.require_two_factor, t.require_two_factor AND u.totp_secret IS NULL, "
	"u.email_verified_at IS NOT NULL "
	"FROM sessions s JOIN users u ON u.id = s.user_id JOIN teams t ON t.id = u.team_id "
	"WHERE s.token_hash = $1::bytea";

static int s_read_session(const PGresult *res, struct authd_session *s)
{
	const struct authd_col cols[] = {
		AUTHD_COL(s->id),	 AUTHD_COL(s->user_id),	   AUTHD_COL(s->team_id),
		AUTHD_COL(s->email),	 AUTHD_COL(s->name),	   AUTHD_COL(s->role),
		AUTHD_COL(s->team_name), AUTHD_COL(s->created_at), AUTHD_COL(s->expires_at),
	};

	return authd_get_texts(res, 0, cols, ELEMENTSOF(cols));
}

static const char s_touch_sql[] =
	"UPDATE sessions SET last_used_at = now() WHERE id = $1::uuid"
	" AND last_used_at < now() - make_interval(secs => $2::float8)";
static const char s_delete_sql[] = "DELETE FROM sessions WHERE id = $1::uuid";

/* Each the caller's own: the user is actor and subject of its audit event. */
#define AUDIT_SELF(event, from) \
	AUTHD_SQL_AUDIT(event, "u.team_id", "u.id", "u.email", "u.id", "u.email", from)

/* $3: the event, "logout" or "session_revoked" */
static const char s_session_delete_sql[] =
	"WITH s AS (DELETE FROM sessions WHERE id = $1::uuid AND user_id = $2::uuid "
	"           RETURNING id, user_id), "
	AUDIT_SELF("$3", "s JOIN users u ON u.id = s.user_id") " "
	"SELECT id FROM s";
static const char s_revoke_others_sql[] =
	"WITH s AS (DELETE FROM sessions WHERE user_id = $1::uuid AND id <> $2::uuid "
	"           RETURNING id), "
	AUDIT_SELF("'session_revoked'", "users u WHERE u.id = $1::uuid AND EXISTS (SELECT FROM s)") " "
	"SELECT id FROM s";
static const char s_list_sql[] =
	"SELECT id, " AUTHD_SQL_TS("created_at") ", " AUTHD_SQL_TS("expires_at") ", "
	AUTHD_SQL_TS("last_used_at") ", device_name FROM sessions "
	"WHERE user_id = $1::uuid AND expires_at > now() AND ($2::float8 <= 0"
	"  OR last_used_at > now() - make_interval(secs => $2::float8)) "
	"ORDER BY created_at DESC, id LIMIT " SESSIONS_LIST_MAX;

/* s_deadline_ms - how long a lookup may take: a little under ingress's wait */
static int s_deadline_ms(const struct authd *a)
{
	return MAX(a->b.d.cfg.ingress.rpc_timeout_ms - 250, 100);
}

/* One lookup on its way. */
struct session_find {
	struct authd *a;
	uint8_t hash[AUTHD_HASH_BYTES];
	char touch[32];
	uint64_t gen; /* the cache's generation when it was asked */
	authd_session_fn cb;
	void *userdata;
};

/*
 * s_check_row - the row names f->hash, and is live; touch or delete it
 * (not waited for); keep it in the cache
 */
static int s_check_row(struct session_find *f, const PGresult *res, struct authd_session *s)
{
	struct authd *a = f->a;
	char hex[2 * AUTHD_HASH_BYTES + 1];
	bool live = false, stale = false;
	int64_t expires_in = 0, used_ago = 0;
	int r;

	if (PQntuples(res) != 1)
		return -ENOENT;
	r = s_read_session(res, s);
	if (r == 0)
		r = db_get_text(res, 0, 9, hex, sizeof(hex));
	if (r == 0)
		r = db_get_bool(res, 0, 10, &live);
	if (r == 0)
		r = db_get_bool(res, 0, 11, &stale);
	if (r == 0)
		r = db_get_i64(res, 0, 12, &expires_in);
	if (r == 0)
		r = db_get_i64(res, 0, 13, &used_ago);
	if (r == 0)
		r = db_get_bool(res, 0, 14, &s->two_factor_required);
	if (r == 0)
		r = db_get_bool(res, 0, 15, &s->two_factor_pending);
	if (r == 0)
		r = db_get_bool(res, 0, 16, &s->email_verified);
	if (r < 0)
		return -EIO;
	if (!authd_hash_equal_hex(hex, f->hash))
		return -ENOENT;
	if (!live) {
		authd_fire(a, AUTHD_STMT_DELETE_DEAD, 1, (const char *const[]){ s->id });
		return -ENOENT;
	}
	if (stale) {
		authd_fire(a, AUTHD_STMT_TOUCH, 2, (const char *const[]){ s->id, f->touch });
		used_ago = 0;
	}
	authd_cache_put(&a->cache, f->hash, s, expires_in, used_ago, f->gen);
	return 0;
}

/* s_found - the lookup's answer: a live session, none, or a failure (logged here) */
static void s_found(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct session_find *f = userdata;
	struct authd_session s = { 0 };

	if (r == 0)
		r = s_check_row(f, res, &s);
	if (r == -ETIMEDOUT)
		log_warning("session lookup timed out");
	else if (r == -EIO)
		log_error("session lookup failed", LOG_S("sqlstate", sqlstate));
	f->cb(r, r == 0 ? &s : NULL, f->userdata);
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(f, sizeof(*f));
	free(f);
}

/*
 * s_cached - answer from the cache (notifications that have arrived are
 * taken first, so a change PostgreSQL announced before this call counts)
 */
static bool s_cached(struct authd *a, const uint8_t hash[AUTHD_HASH_BYTES], authd_session_fn cb,
		     void *userdata)
{
	struct authd_cache_times t = s_cache_times(a);
	struct authd_session s;
	bool touch = false;
	char secs[32];

	if (!a->cache.up)
		return false;
	pgq_listen_poll(a->b.pgq);
	if (authd_cache_get(&a->cache, hash, &t, &s, &touch) < 0)
		return false;
	if (touch) {
		s_seconds(s_touch_s(a), secs);
		authd_fire(a, AUTHD_STMT_TOUCH, 2, (const char *const[]){ s.id, secs });
	}
	cb(0, &s, userdata);
	sodium_memzero(&s, sizeof(s));
	return true;
}

/* authd_session_find - the live session of token, asked without waiting; cb once */
void authd_session_find(struct authd *a, const char *token, authd_session_fn cb, void *userdata)
{
	struct session_find *f;
	char hash[AUTHD_BYTEA_MAX + 1], idle[32];
	uint8_t h[AUTHD_HASH_BYTES];
	int r;

	if (!token || authd_token_hash(token, h) < 0) {
		cb(-ENOENT, NULL, userdata);
		return;
	}
	if (s_cached(a, h, cb, userdata))
		return;
	f = calloc(1, sizeof(*f));
	if (!f) {
		cb(-ENOMEM, NULL, userdata);
		return;
	}
	*f = (struct session_find){ .a = a, .cb = cb, .userdata = userdata, .gen = a->cache.gen };
	memcpy(f->hash, h, sizeof(h));
	authd_bytea(h, hash);
	s_idle_params(a, idle, f->touch);
	r = pgq_run(a->b.pgq, a->stmt[AUTHD_STMT_LOOKUP], 3, (const char *const[]){ hash, idle, f->touch },
		    s_deadline_ms(a), s_found, f, NULL);
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(h, sizeof(h));
	if (r < 0) {
		free(f);
		cb(r, NULL, userdata);
	}
}

static const char s_create_sql[] =
	"WITH gone AS (DELETE FROM sessions WHERE user_id = $2::uuid AND expires_at <= now()), "
	"s AS (INSERT INTO sessions (token_hash, user_id, expires_at, device_name) "
	"      VALUES ($1::bytea, $2::uuid, now() + make_interval(secs => $3::float8), $4) "
	"      RETURNING id, user_id, created_at, expires_at), "
	AUDIT_SELF("'login'", "s JOIN users u ON u.id = s.user_id") " "
	"SELECT id, " AUTHD_SQL_TS("created_at") ", " AUTHD_SQL_TS("expires_at") " FROM s";

/* authd_session_create - a new session of user_id: a fresh token into token; then step */
void authd_session_create(struct authd_task *t, const char *user_id, const char *device,
			  char token[AUTHD_TOKEN_HEX + 1], authd_step_fn step)
{
	char hash[AUTHD_BYTEA_MAX + 1], life[32];
	uint8_t h[AUTHD_HASH_BYTES];

	authd_token_new(token, h);
	authd_bytea(h, hash);
	s_seconds(t->a->b.d.cfg.auth.session_lifetime, life);
	authd_task_query(t, AUTHD_STMT_SESSION_CREATE, 4,
			 (const char *const[]){ hash, user_id, life, device }, step);
}

/* authd_session_created - the new row's id/created_at/expires_at into s: 0 or -EIO */
int authd_session_created(const PGresult *res, struct authd_session *s)
{
	const struct authd_col cols[] = {
		AUTHD_COL(s->id), AUTHD_COL(s->created_at), AUTHD_COL(s->expires_at),
	};

	return authd_one_row(res, cols, ELEMENTSOF(cols)) < 0 ? -EIO : 0;
}

/* ---- ops ------------------------------------------------------------------ */

/* authd_op_me - the caller, the team, the session */
void authd_op_me(struct authd_ctx *c)
{
	json_t *body = json_pack("{s:o, s:o, s:{s:s, s:s, s:s}}", "user", authd_json_user(&c->s),
				 "team", authd_json_team(&c->s), "session", "id", c->s.id,
				 "created_at", c->s.created_at, "expires_at", c->s.expires_at);

	authd_reply(&c->req, 200, body, NULL);
}

static void s_logged_out(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	struct authd_reply_extra x = { .clear_token = true };
	uint8_t h[AUTHD_HASH_BYTES];

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "logout");
		return;
	}
	if (authd_token_hash(c->token, h) == 0)
		authd_cache_forget(&c->a->cache, h);
	log_info("logout", LOG_S("user_id", c->s.user_id));
	authd_signal(c->a, "sign_out", c->s.user_id, c->s.team_id);
	authd_reply(&c->req, 204, NULL, &x);
}

/* authd_op_logout - the caller's session ends; 204 and the cookie cleared */
void authd_op_logout(struct authd_ctx *c)
{
	authd_task_query(&c->t, AUTHD_STMT_SESSION_DELETE, 3,
			 (const char *const[]){ c->s.id, c->s.user_id, "logout" }, s_logged_out);
}

static json_t *s_session_json(const PGresult *res, int row, const char *current)
{
	char id[UTIL_UUID_LEN + 1], created[AUTHD_TIME_MAX], expires[AUTHD_TIME_MAX];
	char used[AUTHD_TIME_MAX], device[AUTHD_NAME_MAX_BYTES + 1];
	const struct authd_col cols[] = {
		AUTHD_COL(id), AUTHD_COL(created), AUTHD_COL(expires), AUTHD_COL(used),
		AUTHD_COL(device),
	};

	if (authd_get_texts(res, row, cols, ELEMENTSOF(cols)) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", id, "created_at", created,
			 "expires_at", expires, "last_used_at", used, "device_name", device,
			 "current", strcmp(id, current) == 0);
}

static void s_listed(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	json_t *list;

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "sessions");
		return;
	}
	list = json_array();
	for (int i = 0; list && i < PQntuples(res); i++)
		json_array_append_new(list, s_session_json(res, i, c->s.id));
	authd_reply(&c->req, 200, json_pack("{s:o}", "sessions", list), NULL);
}

/* authd_op_sessions - the caller's live sessions, never a token or hash */
void authd_op_sessions(struct authd_ctx *c)
{
	char idle[32], touch[32];

	s_idle_params(c->a, idle, touch);
	authd_task_query(&c->t, AUTHD_STMT_SESSIONS_LIST, 2, (const char *const[]){ c->s.user_id, idle },
			 s_listed);
}

static void s_revoked(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	struct authd_reply_extra x = { .clear_token = strcmp(c->target, c->s.id) == 0 };

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "session.revoke");
		return;
	}
	if (PQntuples(res) == 0) {
		authd_reply_error(&c->req, 404, "not_found", "no such session");
		return;
	}
	authd_cache_forget_session(&c->a->cache, c->target);
	log_info("session revoked", LOG_S("user_id", c->s.user_id), LOG_S("session_id", c->target));
	authd_reply(&c->req, 204, NULL, &x);
}

/* authd_op_session_revoke - end one of the caller's sessions (another's: 404) */
void authd_op_session_revoke(struct authd_ctx *c)
{
	if (!util_uuid_canonical(c->target)) {
		authd_reply_error(&c->req, 404, "not_found", "no such session");
		return;
	}
	authd_task_query(&c->t, AUTHD_STMT_SESSION_DELETE, 3,
			 (const char *const[]){ c->target, c->s.user_id, "session_revoked" }, s_revoked);
}

static void s_others_revoked(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "sessions.revoke_others");
		return;
	}
	authd_cache_forget_user(&c->a->cache, c->s.user_id);
	log_info("other sessions revoked", LOG_S("user_id", c->s.user_id),
		 LOG_I("count", PQntuples(res)));
	authd_reply(&c->req, 204, NULL, NULL);
}

/* authd_op_sessions_revoke_others - end every session of the caller but this one */
void authd_op_sessions_revoke_others(struct authd_ctx *c)
{
	authd_task_query(&c->t, AUTHD_STMT_REVOKE_OTHERS, 2,
			 (const char *const[]){ c->s.user_id, c->s.id }, s_others_revoked);
}

/* ---- password change ---------------------------------------------------- */

/*
 * The chain: the current password proven (reauth.c: throttled, verified,
 * the new one hashed on the same pool visit) -> update, other sessions
 * deleted, the event in the same statement -> 204.
 */

static const char s_stored_sql[] = "SELECT password_hash FROM users WHERE id = $1::uuid";
static const char s_change_sql[] =
	"WITH u AS (UPDATE users SET password_hash = $2 WHERE id = $1::uuid "
	"           RETURNING id, team_id, email), "
	AUDIT_SELF("'password_changed'", "u") " "
	"DELETE FROM sessions WHERE user_id = (SELECT id FROM u) AND id <> $3::uuid";

static void s_password_changed(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	(void)res;
	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "password change");
		return;
	}
	authd_cache_forget_user(&j->a->cache, j->s.user_id);
	log_info("password changed", LOG_S("user_id", j->s.user_id));
	authd_reply(&j->req, 204, NULL, NULL);
}

/* s_password_proven - the current password was right and the new one is hashed */
static void s_password_proven(struct authd_pw_job *j)
{
	const char *params[] = { j->s.user_id, j->hash, j->s.id };

	authd_task_query(&j->t, AUTHD_STMT_PASSWORD_CHANGE, 3, params, s_password_changed);
}

/* s_password_fields - both fields present, the new one within policy */
static json_t *s_password_fields(struct authd_ctx *c, const char **cur, size_t *cur_len,
				 const char **pw, size_t *pw_len)
{
	json_t *fields = json_object();
	const char *why = NULL;

	*cur = authd_field_str(c->body, "current_password", fields, false, cur_len);
	if (*cur && *cur_len == 0)
		authd_field_set(fields, "current_password", "is required");
	*pw = authd_field_str(c->body, "new_password", fields, false, pw_len);
	if (*pw && authd_validate_password(*pw, *pw_len, c->s.email, &why) < 0)
		authd_field_set(fields, "new_password", why ? why : "is not allowed");
	return fields;
}

/* authd_op_password - change one's password; every other session ends */
void authd_op_password(struct authd_ctx *c)
{
	const char *cur = NULL, *pw = NULL;
	size_t cur_len = 0, pw_len = 0;
	json_t *fields;

	fields = s_password_fields(c, &cur, &cur_len, &pw, &pw_len);
	if (!fields || json_object_size(fields) > 0) {
		authd_reply_invalid(&c->req, fields);
		return;
	}
	json_decref(fields);
	authd_reauth(c, cur, cur_len, pw, pw_len, "current_password", "password change",
		     s_password_proven);
}

/* ---- start-up ----------------------------------------------------------- */

/* s_heard - the listening connection: up, down, or one change (migrations/0007) */
static void s_heard(enum pgq_listen_event ev, const char *payload, void *userdata)
{
	struct authd *a = userdata;

	if (ev == PGQ_NOTIFY)
		authd_cache_notify(&a->cache, payload);
	else
		authd_cache_set_up(&a->cache, ev == PGQ_LISTEN_UP);
}

/* authd_sessions_listen - the session cache hears of changes (when it is on) */
int authd_sessions_listen(struct authd *a)
{
	if (a->cache.max == 0)
		return 0;
	return pgq_listen(a->b.pgq, AUTHD_NOTIFY_CHANNEL, s_heard, a);
}

/* authd_sessions_prepare - declare this file's statements on the async pool */
int authd_sessions_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_LOOKUP, s_lookup_sql, 3 },
		{ AUTHD_STMT_TOUCH, s_touch_sql, 2 },
		{ AUTHD_STMT_DELETE_DEAD, s_delete_sql, 1 },
		{ AUTHD_STMT_SESSION_DELETE, s_session_delete_sql, 3 },
		{ AUTHD_STMT_SESSIONS_LIST, s_list_sql, 2 },
		{ AUTHD_STMT_REVOKE_OTHERS, s_revoke_others_sql, 2 },
		{ AUTHD_STMT_SESSION_CREATE, s_create_sql, 4 },
		{ AUTHD_STMT_STORED_HASH, s_stored_sql, 1 },
		{ AUTHD_STMT_PASSWORD_CHANGE, s_change_sql, 3 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}
