/*
 * accounts.c - sembark-authd's ways in: sign-up (a team, its owner, its
 * invite code and a session, in one statement), the invite link (look
 * up, accept: a member and a session), login (cookie session) and token
 * (session for a native client). Peers: ingressd through calls.c; the
 * password pool (pool.c) for every hash and verify; logd (audit) and
 * telemetryd (sign_in) on success. Loop thread, except the work half of
 * an authd_pw_job, which runs on a pool thread and touches only the job.
 *
 * Login answers the same for an unknown email and a wrong password:
 * the unknown email is verified against authd_password_dummy(), so the
 * hash work is the same, and both answer 401 invalid_credentials. The
 * per-email throttle (throttle.c) is consulted before any verify and a
 * failure is recorded before the verify runs. A hash made under an older
 * policy is replaced after a successful login, on the pool, best effort.
 * Passwords are copied only into the job, which is wiped when freed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"

#define SQLSTATE_UNIQUE "23505"

/* s_copy_password - the password into the job (the caller checked len <= 128) */
static void s_copy_password(struct authd_pw_job *j, const char *pw, size_t len)
{
	memcpy(j->password, pw, len);
	j->password_len = len;
}

/* ---- shared checks ------------------------------------------------------- */

/* s_email_field - body.email normalised into out, or a field error */
static bool s_email_field(struct authd_ctx *c, json_t *fields, char out[AUTHD_EMAIL_MAX + 1])
{
	const char *v = authd_field_str(c->body, "email", fields, false, NULL);
	const char *why = NULL;

	if (!v)
		return false;
	if (authd_validate_email(v, out, &why) < 0) {
		authd_field_set(fields, "email", why ? why : "must be a valid email address");
		return false;
	}
	return true;
}

/* s_name_field - body[key] trimmed into out (1..100 characters), or a field error */
static bool s_name_field(struct authd_ctx *c, json_t *fields, const char *key, bool optional,
			 char out[AUTHD_NAME_MAX_BYTES + 1])
{
	const char *v = authd_field_str(c->body, key, fields, optional, NULL);
	const char *why = NULL;

	if (!v)
		return false;
	if (authd_validate_name(v, out, &why) < 0) {
		authd_field_set(fields, key, why ? why : "must be 1 to 100 characters");
		return false;
	}
	return true;
}

/* s_device_field - the optional body.device_name (1..100 characters) into out, else "browser" */
static void s_device_field(struct authd_ctx *c, json_t *fields, char out[AUTHD_NAME_MAX_BYTES + 1])
{
	if (!s_name_field(c, fields, "device_name", true, out))
		snprintf(out, AUTHD_NAME_MAX_BYTES + 1, "browser");
}

/* s_new_password_field - body.password within policy (email: the normalised one) */
static const char *s_new_password_field(struct authd_ctx *c, json_t *fields, const char *email,
					size_t *ret_len)
{
	const char *pw = authd_field_str(c->body, "password", fields, false, ret_len);
	const char *why = NULL;

	if (pw && authd_validate_password(pw, *ret_len, email, &why) < 0) {
		authd_field_set(fields, "password", why ? why : "is not allowed");
		return NULL;
	}
	return pw;
}

/* s_fields_ok - no field error; else answers 422 */
static bool s_fields_ok(struct authd_ctx *c, json_t *fields)
{
	if (fields && json_object_size(fields) == 0) {
		json_decref(fields);
		return true;
	}
	authd_reply_invalid(&c->req, fields);
	return false;
}

/* s_email_free - 0 when no account has email, -EEXIST (answered 409), or a db error */
static int s_email_free(struct authd_ctx *c, const char *email)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[] = { email };
	int r;

	r = db_query(c->a->b.db, &res, "SELECT 1 FROM users WHERE email = $1", 1, params);
	if (r < 0) {
		authd_reply_db(&c->req, r, db_last_sqlstate(c->a->b.db), "email check");
		return r;
	}
	if (PQntuples(res) == 0)
		return 0;
	authd_reply_error(&c->req, 409, "email_taken", "an account with this email already exists");
	return -EEXIST;
}

/* s_insert_failed - a failed insert of a new account: 409 on a unique email, else 503 */
static void s_insert_failed(struct authd_pw_job *j, int r, const char *what)
{
	if (r == -EIO && strcmp(db_last_sqlstate(j->a->b.db), SQLSTATE_UNIQUE) == 0) {
		authd_reply_error(&j->req, 409, "email_taken",
				  "an account with this email already exists");
		return;
	}
	authd_reply_db(&j->req, r, db_last_sqlstate(j->a->b.db), what);
}

/* s_reply_signed_in - 200/201 {"user","team"} (+ more) with the session cookie */
static void s_reply_signed_in(struct authd_pw_job *j, int status, json_t *body,
			      const char *token)
{
	/* The row's life began a few milliseconds ago: whole seconds below
	 * the lifetime keep Max-Age within the session's remaining life. */
	struct authd_reply_extra x = {
		.set_token = token,
		.token_max_age = MAX(j->a->b.d.cfg.auth.session_lifetime - 1, 1),
	};

	if (body) {
		json_object_set_new(body, "user", authd_json_user(&j->s));
		json_object_set_new(body, "team", authd_json_team(&j->s));
	}
	authd_reply(&j->req, status, body, &x);
	authd_signal(j->a, "sign_in", j->s.user_id, j->s.team_id);
}

/*
 * s_account_job - the fields of a new account (name, email, password,
 * device_name, and whatever the caller already noted in fields) checked,
 * its email free, and a password job that hashes its password; NULL when
 * the request was answered (422, 409, 503).
 */
static struct authd_pw_job *s_account_job(struct authd_ctx *c, json_t *fields,
					  void (*finish)(struct authd_pw_job *j))
{
	char email[AUTHD_EMAIL_MAX + 1] = "", name[AUTHD_NAME_MAX_BYTES + 1];
	char device[AUTHD_NAME_MAX_BYTES + 1];
	const char *pw, *raw_email = authd_field_str(c->body, "email", NULL, true, NULL);
	struct authd_pw_job *j;
	size_t len = 0;

	s_name_field(c, fields, "name", false, name);
	s_email_field(c, fields, email);
	s_device_field(c, fields, device);
	pw = s_new_password_field(c, fields, email[0] ? email : raw_email, &len);
	if (!s_fields_ok(c, fields) || !authd_pw_admit(c) || s_email_free(c, email) < 0)
		return NULL;
	j = authd_pw_job_new(c->a, &c->req, c->deadline_us, finish);
	if (!j)
		return NULL;
	snprintf(j->device, sizeof(j->device), "%s", device);
	snprintf(j->s.name, sizeof(j->s.name), "%s", name);
	snprintf(j->s.email, sizeof(j->s.email), "%s", email);
	s_copy_password(j, pw, len);
	j->do_hash = true;
	return j;
}

/* ---- signup ---------------------------------------------------------------- */

static const char s_signup_sql[] =
	"WITH t AS (INSERT INTO teams (name) VALUES ($1) RETURNING id), "
	"u AS (INSERT INTO users (team_id, email, name, password_hash, role) "
	"      SELECT id, $2, $3, $4, 'owner' FROM t RETURNING id), "
	"i AS (INSERT INTO invites (team_id, code, code_hash) SELECT id, $5, $6::bytea FROM t), "
	"s AS (INSERT INTO sessions (token_hash, user_id, expires_at, device_name) "
	"      SELECT $7::bytea, id, now() + make_interval(secs => $8::float8), $9 FROM u "
	"      RETURNING id, created_at, expires_at) "
	"SELECT t.id, u.id, s.id, " AUTHD_SQL_TS("s.created_at") ", " AUTHD_SQL_TS("s.expires_at")
	" FROM t, u, s";

/* s_signup_insert - the whole account in one statement; token and code out */
static int s_signup_insert(struct authd_pw_job *j, char token[AUTHD_TOKEN_HEX + 1],
			   char code[AUTHD_INVITE_HEX + 1])
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char code_hash[AUTHD_BYTEA_MAX + 1], tok_hash[AUTHD_BYTEA_MAX + 1], life[32];
	const char *params[] = { j->team_name, j->s.email, j->s.name, j->hash,
				 code, code_hash, tok_hash, life, j->device };
	const struct authd_col cols[] = {
		AUTHD_COL(j->s.team_id), AUTHD_COL(j->s.user_id), AUTHD_COL(j->s.id),
		AUTHD_COL(j->s.created_at), AUTHD_COL(j->s.expires_at),
	};
	uint8_t h[AUTHD_HASH_BYTES];
	int r;

	authd_invite_new(code, h);
	authd_bytea(h, code_hash);
	authd_token_new(token, h);
	authd_bytea(h, tok_hash);
	snprintf(life, sizeof(life), "%d", j->a->b.d.cfg.auth.session_lifetime);
	r = db_query(j->a->b.db, &res, s_signup_sql, 9, params);
	if (r == 0 && PQntuples(res) != 1)
		r = -EIO;
	if (r == 0)
		r = authd_get_texts(res, 0, cols, ELEMENTSOF(cols));
	return r;
}

static void s_signup_done(struct authd_pw_job *j)
{
	char token[AUTHD_TOKEN_HEX + 1], code[AUTHD_INVITE_HEX + 1], url[CONFIG_STR_MAX + 64];
	const struct authd_who me = { j->s.user_id, j->s.email };
	int r = j->hash_r;

	if (r == 0)
		r = s_signup_insert(j, token, code);
	if (r < 0) {
		s_insert_failed(j, r, "signup");
		return;
	}
	snprintf(j->s.role, sizeof(j->s.role), "owner");
	snprintf(j->s.team_name, sizeof(j->s.team_name), "%s", j->team_name);
	(void)authd_invite_url(j->a, code, url, sizeof(url));
	log_info("team created", LOG_S("team_id", j->s.team_id), LOG_S("user_id", j->s.user_id));
	authd_audit(j->a, "team_created", j->s.team_id, &me, NULL);
	s_reply_signed_in(j, 201, json_pack("{s:s}", "invite_url", url), token);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(code, sizeof(code));
}

/* authd_op_signup - a team, its owner (logged in) and its invite link */
void authd_op_signup(struct authd_ctx *c)
{
	json_t *fields = json_object();
	char team[AUTHD_NAME_MAX_BYTES + 1];
	struct authd_pw_job *j;

	s_name_field(c, fields, "team_name", false, team);
	j = s_account_job(c, fields, s_signup_done);
	if (!j)
		return;
	snprintf(j->team_name, sizeof(j->team_name), "%s", team);
	(void)authd_pw_job_submit(j);
}

/* ---- invite link ------------------------------------------------------------ */

/* s_invite_team - the team of a live invite code: 0, -ENOENT, or a db error */
static int s_invite_team(struct authd *a, const char *code, uint8_t hash[AUTHD_HASH_BYTES],
			 char id[UTIL_UUID_LEN + 1], char name[AUTHD_NAME_MAX_BYTES + 1])
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char param[AUTHD_BYTEA_MAX + 1], hex[2 * AUTHD_HASH_BYTES + 1];
	const char *params[] = { param };
	const struct authd_col cols[] = {
		{ id, UTIL_UUID_LEN + 1 }, { name, AUTHD_NAME_MAX_BYTES + 1 }, AUTHD_COL(hex),
	};
	int r;

	if (authd_invite_hash(code, hash) < 0)
		return -ENOENT;
	authd_bytea(hash, param);
	r = db_query(a->b.db, &res,
		     "SELECT t.id, t.name, encode(i.code_hash, 'hex') FROM invites i "
		     "JOIN teams t ON t.id = i.team_id WHERE i.code_hash = $1::bytea",
		     1, params);
	if (r == 0)
		r = authd_one_row(res, cols, ELEMENTSOF(cols));
	if (r < 0)
		return r;
	return authd_hash_equal_hex(hex, hash) ? 0 : -ENOENT;
}

/* s_invite_lookup - as s_invite_team, answering 404 / 503 itself */
static int s_invite_lookup(struct authd_ctx *c, uint8_t hash[AUTHD_HASH_BYTES],
			   char id[UTIL_UUID_LEN + 1], char name[AUTHD_NAME_MAX_BYTES + 1])
{
	int r = s_invite_team(c->a, c->target, hash, id, name);

	if (r == -ENOENT)
		authd_reply_error(&c->req, 404, "not_found", "this invite link is not valid");
	else if (r < 0)
		authd_reply_db(&c->req, r, db_last_sqlstate(c->a->b.db), "invite lookup");
	return r;
}

/* authd_op_invite_get - the team name behind an invite code */
void authd_op_invite_get(struct authd_ctx *c)
{
	char id[UTIL_UUID_LEN + 1], name[AUTHD_NAME_MAX_BYTES + 1];
	uint8_t hash[AUTHD_HASH_BYTES];

	if (s_invite_lookup(c, hash, id, name) < 0)
		return;
	authd_reply(&c->req, 200, json_pack("{s:{s:s}}", "team", "name", name), NULL);
}

static const char s_accept_sql[] =
	"WITH i AS (SELECT team_id FROM invites WHERE code_hash = $1::bytea), "
	"u AS (INSERT INTO users (team_id, email, name, password_hash, role) "
	"      SELECT team_id, $2, $3, $4, 'member' FROM i RETURNING id, team_id), "
	"s AS (INSERT INTO sessions (token_hash, user_id, expires_at, device_name) "
	"      SELECT $5::bytea, id, now() + make_interval(secs => $6::float8), $7 FROM u "
	"      RETURNING id, created_at, expires_at) "
	"SELECT u.id, u.team_id, t.name, s.id, " AUTHD_SQL_TS("s.created_at") ", "
	AUTHD_SQL_TS("s.expires_at") " FROM u JOIN teams t ON t.id = u.team_id, s";

/* s_accept_insert - the member and the session; -ENOENT when the code died meanwhile */
static int s_accept_insert(struct authd_pw_job *j, char token[AUTHD_TOKEN_HEX + 1])
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char code_hash[AUTHD_BYTEA_MAX + 1], tok_hash[AUTHD_BYTEA_MAX + 1], life[32];
	const char *params[] = { code_hash, j->s.email, j->s.name, j->hash, tok_hash, life, j->device };
	const struct authd_col cols[] = {
		AUTHD_COL(j->s.user_id), AUTHD_COL(j->s.team_id), AUTHD_COL(j->s.team_name),
		AUTHD_COL(j->s.id), AUTHD_COL(j->s.created_at), AUTHD_COL(j->s.expires_at),
	};
	uint8_t h[AUTHD_HASH_BYTES];
	int r;

	authd_bytea(j->invite_hash, code_hash);
	authd_token_new(token, h);
	authd_bytea(h, tok_hash);
	snprintf(life, sizeof(life), "%d", j->a->b.d.cfg.auth.session_lifetime);
	r = db_query(j->a->b.db, &res, s_accept_sql, 7, params);
	return r < 0 ? r : authd_one_row(res, cols, ELEMENTSOF(cols));
}

static void s_accept_done(struct authd_pw_job *j)
{
	char token[AUTHD_TOKEN_HEX + 1];
	const struct authd_who me = { j->s.user_id, j->s.email };
	int r = j->hash_r;

	if (r == 0)
		r = s_accept_insert(j, token);
	if (r == -ENOENT) {
		authd_reply_error(&j->req, 404, "not_found", "this invite link is not valid");
		return;
	}
	if (r < 0) {
		s_insert_failed(j, r, "invite.accept");
		return;
	}
	snprintf(j->s.role, sizeof(j->s.role), "member");
	log_info("member joined", LOG_S("team_id", j->s.team_id), LOG_S("user_id", j->s.user_id));
	authd_audit(j->a, "member_joined", j->s.team_id, &me, &me);
	s_reply_signed_in(j, 201, json_object(), token);
	sodium_memzero(token, sizeof(token));
}

/* authd_op_invite_accept - join the team of an invite code, logged in */
void authd_op_invite_accept(struct authd_ctx *c)
{
	char team_id[UTIL_UUID_LEN + 1], team_name[AUTHD_NAME_MAX_BYTES + 1];
	uint8_t hash[AUTHD_HASH_BYTES];
	struct authd_pw_job *j;

	if (s_invite_lookup(c, hash, team_id, team_name) < 0)
		return;
	j = s_account_job(c, json_object(), s_accept_done);
	if (!j)
		return;
	memcpy(j->invite_hash, hash, sizeof(hash));
	(void)authd_pw_job_submit(j);
}

/* ---- login and token ------------------------------------------------------- */

static void s_rehash_done(struct authd_pw_job *j)
{
	const char *params[] = { j->s.user_id, j->hash, j->stored };
	int r = j->hash_r;

	if (r == 0)
		r = db_exec(j->a->b.db,
			    "UPDATE users SET password_hash = $2 WHERE id = $1::uuid"
			    " AND password_hash = $3",
			    3, params);
	if (r < 0)
		log_warning_errno(r, "cannot re-hash a password", LOG_S("user_id", j->s.user_id));
	else
		log_info("password re-hashed under the current policy",
			 LOG_S("user_id", j->s.user_id));
}

/* s_maybe_rehash - a hash made under another policy is replaced, best effort */
static void s_maybe_rehash(struct authd_pw_job *j)
{
	struct authd_pw_job *n;

	if (!authd_password_needs_rehash(&j->policy, j->stored))
		return;
	n = authd_pw_job_new(j->a, NULL, 0, s_rehash_done);
	if (!n)
		return;
	n->s = j->s;
	memcpy(n->stored, j->stored, sizeof(n->stored));
	s_copy_password(n, j->password, j->password_len);
	n->do_hash = true;
	(void)authd_pw_job_submit(n);
}

static void s_login_failed(struct authd_pw_job *j)
{
	const struct authd_who who = { j->s.user_id, j->s.email };

	if (j->known && j->verify_r != -EACCES)
		log_error_errno(j->verify_r, "stored password hash unusable",
				LOG_S("user_id", j->s.user_id));
	if (j->known) {
		log_info("login failed", LOG_S("user_id", j->s.user_id));
		authd_audit(j->a, "login_failed", j->s.team_id, NULL, &who);
	} else {
		log_info("login failed for an unknown email");
	}
	authd_reply_error(&j->req, 401, "invalid_credentials", "the email or password is wrong");
}

static void s_reply_token(struct authd_pw_job *j, const char *token)
{
	json_t *body = json_pack("{s:s, s:s}", "token", token, "expires_at", j->s.expires_at);

	authd_reply(&j->req, 201, body, NULL);
	authd_signal(j->a, "sign_in", j->s.user_id, j->s.team_id);
}

static void s_login_done(struct authd_pw_job *j)
{
	char token[AUTHD_TOKEN_HEX + 1];
	const struct authd_who me = { j->s.user_id, j->s.email };
	int r;

	if (!j->known || j->verify_r != 0) {
		s_login_failed(j);
		return;
	}
	(void)authd_throttle_clear(j->a, j->email_hash);
	r = authd_session_create(j->a, j->s.user_id, j->device, token, &j->s);
	if (r < 0) {
		authd_reply_db(&j->req, r, db_last_sqlstate(j->a->b.db), "login");
		return;
	}
	log_info("login", LOG_S("user_id", j->s.user_id), LOG_S("session_id", j->s.id),
		 LOG_S("client", j->native ? "token" : "browser"));
	authd_audit(j->a, "login", j->s.team_id, &me, &me);
	if (j->native)
		s_reply_token(j, token);
	else
		s_reply_signed_in(j, 200, json_object(), token);
	sodium_memzero(token, sizeof(token));
	s_maybe_rehash(j);
}

/* s_login_fields - email, password (any, <= 128 bytes), device_name */
static const char *s_login_fields(struct authd_ctx *c, bool native, struct authd_pw_job *j,
				  size_t *ret_len)
{
	json_t *fields = json_object();
	const char *pw = authd_field_str(c->body, "password", fields, false, ret_len);

	s_email_field(c, fields, j->s.email);
	if (pw && *ret_len == 0)
		authd_field_set(fields, "password", "is required");
	else if (pw && *ret_len > AUTHD_PASSWORD_MAX_BYTES)
		authd_field_set(fields, "password", "must be at most 128 bytes");
	if (native)
		s_name_field(c, fields, "device_name", false, j->device);
	else
		s_device_field(c, fields, j->device);
	return s_fields_ok(c, fields) ? pw : NULL;
}

/* s_login_account - the account of j->s.email, or the dummy hash */
static int s_login_account(struct authd *a, struct authd_pw_job *j)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[] = { j->s.email };
	const struct authd_col cols[] = {
		AUTHD_COL(j->s.user_id), AUTHD_COL(j->s.team_id), AUTHD_COL(j->s.name),
		AUTHD_COL(j->s.role), AUTHD_COL(j->s.team_name), AUTHD_COL(j->stored),
	};
	int r;

	r = db_query(a->b.db, &res,
		     "SELECT u.id, u.team_id, u.name, u.role, t.name, u.password_hash FROM users u "
		     "JOIN teams t ON t.id = u.team_id WHERE u.email = $1",
		     1, params);
	if (r < 0)
		return r;
	j->known = authd_one_row(res, cols, ELEMENTSOF(cols)) == 0;
	if (!j->known)
		snprintf(j->stored, sizeof(j->stored), "%s", authd_password_dummy(&j->policy));
	return 0;
}

/* s_login_start - throttle, account, failure recorded, verify on the pool; owns j */
static void s_login_start(struct authd *a, struct authd_pw_job *j)
{
	int64_t wait = 0;
	int r;

	authd_throttle_key(j->s.email, j->email_hash);
	r = authd_throttle_check(a, j->email_hash, &wait);
	if (r == 1) {
		log_info("login throttled", LOG_I("retry_after", wait));
		authd_reply_throttled(&j->req, wait);
		authd_pw_job_free(j);
		return;
	}
	if (r == 0)
		r = s_login_account(a, j);
	if (r == 0)
		r = authd_throttle_fail(a, j->email_hash);
	if (r < 0) {
		authd_reply_db(&j->req, r, db_last_sqlstate(a->b.db), "login");
		authd_pw_job_free(j);
		return;
	}
	j->do_verify = true;
	(void)authd_pw_job_submit(j);
}

static void s_login(struct authd_ctx *c, bool native)
{
	struct authd_pw_job *j;
	const char *pw;
	size_t len = 0;

	if (!authd_pw_admit(c))
		return;
	j = authd_pw_job_new(c->a, NULL, c->deadline_us, s_login_done);
	if (!j) {
		authd_reply_error(&c->req, 503, "service_unavailable", "out of memory, try again");
		return;
	}
	j->native = native;
	pw = s_login_fields(c, native, j, &len);
	if (!pw) {
		authd_pw_job_free(j);
		return;
	}
	s_copy_password(j, pw, len);
	j->req = TAKE_PTR(c->req);
	s_login_start(c->a, j);
}

/* authd_op_login - email + password -> a cookie session */
void authd_op_login(struct authd_ctx *c)
{
	s_login(c, false);
}

/* authd_op_token - email + password + device_name -> a token for a native client */
void authd_op_token(struct authd_ctx *c)
{
	s_login(c, true);
}
