/*
 * accounts.c - sembark-authd's ways in: sign-up (a team, its owner, its
 * invite code and a session, in one statement), the invite link (look
 * up, accept: a member and a session), login (cookie session) and token
 * (session for a native client). Peers: ingressd through calls.c; the
 * password pool (pool.c) for every hash and verify; the audit outbox
 * (audit.c: each event in the action's own statement) and
 * telemetryd (sign_in) on success. Loop thread, except the work half of
 * an authd_pw_job, which runs on a pool thread and touches only the job.
 * Every statement runs on the asynchronous pool, one step at a time
 * (task.c): a job checks, hashes, writes and answers in steps.
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
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"

#define SQLSTATE_UNIQUE "23505"

static const char s_email_taken_sql[] = "SELECT 1 FROM users WHERE email = $1";

static const char s_signup_sql[] =
	"WITH t AS (INSERT INTO teams (name) VALUES ($1) RETURNING id), "
	"u AS (INSERT INTO users (team_id, email, name, password_hash, role) "
	"      SELECT id, $2, $3, $4, 'owner' FROM t RETURNING id, email, name), "
	AUTHD_SQL_VERIFY_MAIL("u", "$10", "$11") ", "
	"i AS (INSERT INTO invites (team_id, code, code_hash) SELECT id, $5, $6::bytea FROM t), "
	"s AS (INSERT INTO sessions (token_hash, user_id, expires_at, device_name) "
	"      SELECT $7::bytea, id, now() + make_interval(secs => $8::float8), $9 FROM u "
	"      RETURNING id, created_at, expires_at), "
	AUTHD_SQL_AUDIT("'team_created'", "t.id", "u.id", "$2", "NULL", "NULL", "t, u") " "
	"SELECT t.id, u.id, s.id, " AUTHD_SQL_TS("s.created_at") ", " AUTHD_SQL_TS("s.expires_at")
	" FROM t, u, s";

static const char s_invite_team_sql[] =
	"SELECT t.id, t.name, encode(i.code_hash, 'hex') FROM invites i "
	"JOIN teams t ON t.id = i.team_id WHERE i.code_hash = $1::bytea";

static const char s_accept_sql[] =
	"WITH i AS (SELECT team_id FROM invites WHERE code_hash = $1::bytea), "
	"u AS (INSERT INTO users (team_id, email, name, password_hash, role) "
	"      SELECT team_id, $2, $3, $4, 'member' FROM i RETURNING id, team_id, email, name), "
	AUTHD_SQL_VERIFY_MAIL("u", "$8", "$9") ", "
	"s AS (INSERT INTO sessions (token_hash, user_id, expires_at, device_name) "
	"      SELECT $5::bytea, id, now() + make_interval(secs => $6::float8), $7 FROM u "
	"      RETURNING id, created_at, expires_at), "
	AUTHD_SQL_AUDIT("'member_joined'", "u.team_id", "u.id", "$2", "u.id", "$2", "u") " "
	"SELECT u.id, u.team_id, t.name, s.id, " AUTHD_SQL_TS("s.created_at") ", "
	AUTHD_SQL_TS("s.expires_at") " FROM u JOIN teams t ON t.id = u.team_id, s";

static const char s_login_account_sql[] =
	"SELECT u.id, u.team_id, u.name, u.role, t.name, u.password_hash, "
	"coalesce(encode(u.totp_secret, 'hex'), ''), u.totp_last_step::text, "
	"CASE WHEN u.email_verified_at IS NULL THEN 'f' ELSE 't' END FROM users u "
	"JOIN teams t ON t.id = u.team_id WHERE u.email = $1";

static const char s_rehash_sql[] =
	"UPDATE users SET password_hash = $2 WHERE id = $1::uuid AND password_hash = $3";

/* authd_accounts_prepare - declare this file's statements on the async pool */
int authd_accounts_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_EMAIL_TAKEN, s_email_taken_sql, 1 },
		{ AUTHD_STMT_SIGNUP, s_signup_sql, 11 },
		{ AUTHD_STMT_INVITE_TEAM, s_invite_team_sql, 1 },
		{ AUTHD_STMT_ACCEPT, s_accept_sql, 9 },
		{ AUTHD_STMT_LOGIN_ACCOUNT, s_login_account_sql, 1 },
		{ AUTHD_STMT_REHASH, s_rehash_sql, 3 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

/* s_copy_password - the password into the job (the caller checked len <= 128) */
static void s_copy_password(struct authd_pw_job *j, const char *pw, size_t len)
{
	memcpy(j->password, pw, len);
	j->password_len = len;
}

/* s_life - [auth] session_lifetime as a parameter */
static void s_life(const struct authd *a, char out[32])
{
	snprintf(out, 32, "%d", a->b.d.cfg.auth.session_lifetime);
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

/* s_insert_failed - a failed insert of a new account: 409 on a unique email, else 503 */
static void s_insert_failed(struct authd_pw_job *j, int r, const char *what)
{
	if (r == -EIO && strcmp(j->t.sqlstate, SQLSTATE_UNIQUE) == 0) {
		authd_reply_error(&j->req, 409, "email_taken",
				  "an account with this email already exists");
		return;
	}
	authd_reply_db(&j->req, r, j->t.sqlstate, what);
}

/* s_reply_signed_in - 200/201 {"user","team"} (+ more) with the session cookie */
static void s_reply_signed_in(struct authd_pw_job *j, int status, json_t *body)
{
	authd_reply_signed_in(j->a, &j->req, &j->s, j->token, status, body);
}

/* s_email_checked - no account has the email: hash the password (else 409) */
static void s_email_checked(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "email check");
		return;
	}
	if (PQntuples(res) > 0) {
		authd_reply_error(&j->req, 409, "email_taken",
				  "an account with this email already exists");
		return;
	}
	j->do_hash = true;
	(void)authd_pw_job_submit(j);
}

/* s_account_begin - a new account's job starts: is its email free? */
static void s_account_begin(struct authd_pw_job *j)
{
	authd_task_query(&j->t, AUTHD_STMT_EMAIL_TAKEN, 1, (const char *const[]){ j->s.email },
			 s_email_checked);
}

/*
 * s_account_job - the fields of a new account (name, email, password,
 * device_name, and whatever the caller already noted in fields) checked
 * and a job for them (not started: authd_pw_job_start(j, s_account_begin));
 * NULL when the request was answered (422, 503).
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
	if (!s_fields_ok(c, fields) || !authd_pw_admit(c))
		return NULL;
	j = authd_pw_job_new(c->a, &c->req, c->deadline_us, finish);
	if (!j)
		return NULL;
	snprintf(j->device, sizeof(j->device), "%s", device);
	snprintf(j->s.name, sizeof(j->s.name), "%s", name);
	snprintf(j->s.email, sizeof(j->s.email), "%s", email);
	s_copy_password(j, pw, len);
	return j;
}

/* ---- signup ---------------------------------------------------------------- */

static void s_signed_up(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;
	const struct authd_col cols[] = {
		AUTHD_COL(j->s.team_id), AUTHD_COL(j->s.user_id), AUTHD_COL(j->s.id),
		AUTHD_COL(j->s.created_at), AUTHD_COL(j->s.expires_at),
	};
	char url[CONFIG_STR_MAX + 64];

	if (r == 0 && authd_one_row(res, cols, ELEMENTSOF(cols)) < 0)
		r = -EIO;
	if (r < 0) {
		s_insert_failed(j, r, "signup");
		return;
	}
	snprintf(j->s.role, sizeof(j->s.role), "owner");
	snprintf(j->s.team_name, sizeof(j->s.team_name), "%s", j->team_name);
	(void)authd_invite_url(j->a, j->code, url, sizeof(url));
	log_info("team created", LOG_S("team_id", j->s.team_id), LOG_S("user_id", j->s.user_id));
	s_reply_signed_in(j, 201, json_pack("{s:s}", "invite_url", url));
}

/* s_signup_done - hashed: the whole account in one statement */
static void s_signup_done(struct authd_pw_job *j)
{
	char code_hash[AUTHD_BYTEA_MAX + 1], tok_hash[AUTHD_BYTEA_MAX + 1], life[32];
	char verify_hash[AUTHD_BYTEA_MAX + 1], verify_token[AUTHD_TOKEN_HEX + 1];
	const char *params[] = { j->team_name, j->s.email, j->s.name, j->hash,
				 j->code, code_hash, tok_hash, life, j->device, verify_hash, verify_token };
	uint8_t h[AUTHD_HASH_BYTES];

	if (j->hash_r < 0) {
		authd_reply_db(&j->req, j->hash_r, "", "signup");
		return;
	}
	authd_invite_new(j->code, h);
	authd_bytea(h, code_hash);
	authd_token_new(j->token, h);
	authd_bytea(h, tok_hash);
	s_life(j->a, life);
	authd_mail_token(verify_token, verify_hash);
	authd_task_query(&j->t, AUTHD_STMT_SIGNUP, 11, params, s_signed_up);
	sodium_memzero(verify_token, sizeof(verify_token));
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
	authd_pw_job_start(j, s_account_begin);
}

/* ---- invite link ------------------------------------------------------------ */

/* s_invite_query - the team of c->target's invite code; step reads it (s_invite_read) */
static void s_invite_query(struct authd_ctx *c, authd_step_fn step)
{
	char param[AUTHD_BYTEA_MAX + 1];
	uint8_t hash[AUTHD_HASH_BYTES];

	if (authd_invite_hash(c->target, hash) < 0) {
		authd_reply_error(&c->req, 404, "not_found", "this invite link is not valid");
		return;
	}
	authd_bytea(hash, param);
	authd_task_query(&c->t, AUTHD_STMT_INVITE_TEAM, 1, (const char *const[]){ param }, step);
}

/* s_invite_read - the team of a live invite code, or answered 404 / 503: 0 or < 0 */
static int s_invite_read(struct authd_ctx *c, int r, const PGresult *res,
			 uint8_t hash[AUTHD_HASH_BYTES], char name[AUTHD_NAME_MAX_BYTES + 1])
{
	char id[UTIL_UUID_LEN + 1], hex[2 * AUTHD_HASH_BYTES + 1];
	const struct authd_col cols[] = {
		AUTHD_COL(id), { name, AUTHD_NAME_MAX_BYTES + 1 }, AUTHD_COL(hex),
	};

	if (r == 0)
		r = authd_one_row(res, cols, ELEMENTSOF(cols));
	if (r == 0 && (authd_invite_hash(c->target, hash) < 0 || !authd_hash_equal_hex(hex, hash)))
		r = -ENOENT;
	if (r == -ENOENT)
		authd_reply_error(&c->req, 404, "not_found", "this invite link is not valid");
	else if (r < 0)
		authd_reply_db(&c->req, r, c->t.sqlstate, "invite lookup");
	return r;
}

static void s_invite_shown(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	char name[AUTHD_NAME_MAX_BYTES + 1];
	uint8_t hash[AUTHD_HASH_BYTES];

	if (s_invite_read(c, r, res, hash, name) < 0)
		return;
	authd_reply(&c->req, 200, json_pack("{s:{s:s}}", "team", "name", name), NULL);
}

/* authd_op_invite_get - the team name behind an invite code */
void authd_op_invite_get(struct authd_ctx *c)
{
	s_invite_query(c, s_invite_shown);
}

static void s_accepted(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;
	const struct authd_col cols[] = {
		AUTHD_COL(j->s.user_id), AUTHD_COL(j->s.team_id), AUTHD_COL(j->s.team_name),
		AUTHD_COL(j->s.id), AUTHD_COL(j->s.created_at), AUTHD_COL(j->s.expires_at),
	};

	if (r == 0)
		r = authd_one_row(res, cols, ELEMENTSOF(cols));
	if (r == -ENOENT) { /* the code was rotated meanwhile */
		authd_reply_error(&j->req, 404, "not_found", "this invite link is not valid");
		return;
	}
	if (r < 0) {
		s_insert_failed(j, r, "invite.accept");
		return;
	}
	snprintf(j->s.role, sizeof(j->s.role), "member");
	log_info("member joined", LOG_S("team_id", j->s.team_id), LOG_S("user_id", j->s.user_id));
	s_reply_signed_in(j, 201, json_object());
}

/* s_accept_done - hashed: the member and the session in one statement */
static void s_accept_done(struct authd_pw_job *j)
{
	char code_hash[AUTHD_BYTEA_MAX + 1], tok_hash[AUTHD_BYTEA_MAX + 1], life[32];
	char verify_hash[AUTHD_BYTEA_MAX + 1], verify_token[AUTHD_TOKEN_HEX + 1];
	const char *params[] = { code_hash, j->s.email, j->s.name, j->hash, tok_hash, life,
				 j->device, verify_hash, verify_token };
	uint8_t h[AUTHD_HASH_BYTES];

	if (j->hash_r < 0) {
		authd_reply_db(&j->req, j->hash_r, "", "invite.accept");
		return;
	}
	authd_bytea(j->invite_hash, code_hash);
	authd_token_new(j->token, h);
	authd_bytea(h, tok_hash);
	s_life(j->a, life);
	authd_mail_token(verify_token, verify_hash);
	authd_task_query(&j->t, AUTHD_STMT_ACCEPT, 9, params, s_accepted);
	sodium_memzero(verify_token, sizeof(verify_token));
}

static void s_invite_found(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	char name[AUTHD_NAME_MAX_BYTES + 1];
	uint8_t hash[AUTHD_HASH_BYTES];
	struct authd_pw_job *j;

	if (s_invite_read(c, r, res, hash, name) < 0)
		return;
	j = s_account_job(c, json_object(), s_accept_done);
	if (!j)
		return;
	memcpy(j->invite_hash, hash, sizeof(hash));
	authd_pw_job_start(j, s_account_begin);
}

/* authd_op_invite_accept - join the team of an invite code, logged in */
void authd_op_invite_accept(struct authd_ctx *c)
{
	s_invite_query(c, s_invite_found);
}

/* ---- login and token ------------------------------------------------------- */

static void s_rehashed(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	(void)res;
	if (r < 0)
		log_warning_errno(r, "cannot re-hash a password", LOG_S("user_id", j->s.user_id),
				  LOG_S("sqlstate", t->sqlstate));
	else
		log_info("password re-hashed under the current policy",
			 LOG_S("user_id", j->s.user_id));
}

static void s_rehash_done(struct authd_pw_job *j)
{
	if (j->hash_r < 0) {
		log_warning_errno(j->hash_r, "cannot re-hash a password",
				  LOG_S("user_id", j->s.user_id));
		return;
	}
	authd_task_query(&j->t, AUTHD_STMT_REHASH, 3,
			 (const char *const[]){ j->s.user_id, j->hash, j->stored }, s_rehashed);
}

static void s_rehash_begin(struct authd_pw_job *j)
{
	(void)authd_pw_job_submit(j);
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
	authd_pw_job_start(n, s_rehash_begin);
}

/* s_login_failed - 401 in the same time for an unknown email and a wrong password */
static void s_login_failed(struct authd_pw_job *j)
{
	if (j->known && j->verify_r != -EACCES)
		log_error_errno(j->verify_r, "stored password hash unusable",
				LOG_S("user_id", j->s.user_id));
	if (j->known) {
		log_info("login failed", LOG_S("user_id", j->s.user_id));
		authd_audit_login_failed(j->a, &j->s);
	} else {
		log_info("login failed for an unknown email");
	}
	authd_reply_error(&j->req, 401, "invalid_credentials", "the email or password is wrong");
}

static void s_reply_token(struct authd_pw_job *j)
{
	json_t *body = json_pack("{s:s, s:s}", "token", j->token, "expires_at", j->s.expires_at);

	authd_reply(&j->req, 201, body, NULL);
	authd_signal(j->a, "sign_in", j->s.user_id, j->s.team_id);
}

static void s_login_session(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	if (r == 0)
		r = authd_session_created(res, &j->s);
	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "login");
		return;
	}
	log_info("login", LOG_S("user_id", j->s.user_id), LOG_S("session_id", j->s.id),
		 LOG_S("client", j->native ? "token" : "browser"));
	if (j->native)
		s_reply_token(j);
	else
		s_reply_signed_in(j, 200, json_object());
	sodium_memzero(j->token, sizeof(j->token));
	s_maybe_rehash(j);
}

static void s_login_cleared(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	(void)res;
	if (r < 0)
		log_warning_errno(r, "cannot clear login failures", LOG_S("user_id", j->s.user_id));
	authd_session_create(t, j->s.user_id, j->device, j->token, s_login_session);
}

/* s_login_passed - every factor was right: the failures go, a session comes */
static void s_login_passed(struct authd_pw_job *j)
{
	authd_throttle_clear(&j->t, j->email_hash, s_login_cleared);
}

static void s_unverified_cleared(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	(void)res;
	if (r < 0)
		log_warning_errno(r, "cannot clear login failures", LOG_S("user_id", j->s.user_id));
	authd_verify_resend(j->a, j->s.user_id);
	log_info("login refused: email not verified", LOG_S("user_id", j->s.user_id));
	authd_reply_error(&j->req, 403, "email_not_verified",
			  "confirm your email first: a new link is on its way to it");
}

/* s_login_done - verified (or not) on the pool; with two-factor on, the code decides */
static void s_login_done(struct authd_pw_job *j)
{
	if (!j->known || j->verify_r != 0) {
		s_login_failed(j);
		return;
	}
	if (j->a->b.d.cfg.auth.require_verified_email && !j->s.email_verified) {
		authd_throttle_clear(&j->t, j->email_hash, s_unverified_cleared);
		return;
	}
	if (j->totp_sealed[0]) {
		authd_two_factor_login(j, s_login_passed);
		return;
	}
	s_login_passed(j);
}

static void s_login_counted(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	(void)res;
	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "login");
		return;
	}
	j->do_verify = true;
	(void)authd_pw_job_submit(j);
}

/* s_login_account - the account of j->s.email, or the dummy hash; then a failure counted */
static void s_login_account(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;
	char last[24], verified[2] = "f";
	const struct authd_col cols[] = {
		AUTHD_COL(j->s.user_id), AUTHD_COL(j->s.team_id), AUTHD_COL(j->s.name),
		AUTHD_COL(j->s.role), AUTHD_COL(j->s.team_name), AUTHD_COL(j->stored),
		AUTHD_COL(j->totp_sealed), AUTHD_COL(last), AUTHD_COL(verified),
	};

	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "login");
		return;
	}
	j->known = authd_one_row(res, cols, ELEMENTSOF(cols)) == 0;
	j->totp_last_step = j->known ? strtoll(last, NULL, 10) : -1;
	j->s.email_verified = verified[0] == 't';
	if (!j->known)
		snprintf(j->stored, sizeof(j->stored), "%s", authd_password_dummy(&j->policy));
	authd_throttle_fail(t, j->email_hash, s_login_counted);
}

static void s_login_checked(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;
	int64_t wait;

	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "login");
		return;
	}
	wait = authd_throttle_wait(res);
	if (wait > 0) {
		log_info("login throttled", LOG_I("retry_after", wait));
		authd_reply_throttled(&j->req, wait);
		return;
	}
	authd_task_query(t, AUTHD_STMT_LOGIN_ACCOUNT, 1, (const char *const[]){ j->s.email },
			 s_login_account);
}

/* s_login_begin - throttle check, account, failure recorded, verify on the pool, ... */
static void s_login_begin(struct authd_pw_job *j)
{
	authd_throttle_key(j->s.email, j->email_hash);
	authd_throttle_check(&j->t, j->email_hash, s_login_checked);
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
	if (native) {
		s_name_field(c, fields, "device_name", false, j->device);
		authd_two_factor_field(c->body, "totp_code", false, fields, &j->factor);
	} else
		s_device_field(c, fields, j->device);
	return s_fields_ok(c, fields) ? pw : NULL;
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
		authd_pw_job_free(j); /* not started: nothing of it is pending */
		return;
	}
	s_copy_password(j, pw, len);
	j->req = TAKE_PTR(c->req);
	authd_pw_job_start(j, s_login_begin);
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
