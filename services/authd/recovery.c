/*
 * recovery.c - getting back in after a forgotten password.
 *
 * POST /api/password/forgot {email}: one statement whatever the email is
 * (so the answer and its timing say nothing about whether an account has
 * it): for an account with that email and fewer than three links in the
 * last hour, a link is stored (the SHA-256 of a fresh 20-byte token, one
 * hour) and a mail carrying its token goes into mail_outbox (maild makes
 * the link <public_origin>/login#reset=<token>: no address stored with
 * it); always 202 {}. The token is in the fragment, which browsers never
 * send to a server or in a Referer. Per client address the route is
 * counted against [ingress] client_rate_limit.
 *
 * POST /api/password/reset {token, new_password}: a live, unused link
 * (else 422 token), the new password within policy (and not the email),
 * hashed on the pool; then one statement marks the link used, voids the
 * account's other links, sets the password, ends every session and
 * second-step ticket, writes the audit event password_reset and a notice
 * mail (password_changed). 204; nothing is signed in.
 * migrations/0012_account_mail.sql says what is stored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"

#define RESETS_PER_HOUR 3

static const char s_forgot_sql[] =
	"WITH u AS (SELECT id, email, name FROM users WHERE email = $1 AND ("
	"           SELECT count(*) FROM password_resets p WHERE p.user_id = users.id "
	"           AND p.created_at > now() - interval '1 hour') < 3), " /* RESETS_PER_HOUR */
	"r AS (INSERT INTO password_resets (token_hash, user_id, expires_at) "
	"      SELECT $2::bytea, id, now() + interval '1 hour' FROM u RETURNING user_id), "
	"m AS (INSERT INTO mail_outbox (user_id, to_addr, template, params) "
	"      SELECT u.id, u.email, 'password_reset', jsonb_build_object('name', u.name, 'token', $3::text) "
	"      FROM u JOIN r ON r.user_id = u.id) "
	"SELECT count(*)::text FROM r";
static const char s_reset_find_sql[] =
	"SELECT u.id, u.email FROM password_resets p JOIN users u ON u.id = p.user_id "
	"WHERE p.token_hash = $1::bytea AND p.used_at IS NULL AND p.expires_at > now()";
static const char s_reset_apply_sql[] =
	"WITH p AS (UPDATE password_resets SET used_at = now() WHERE token_hash = $1::bytea "
	"           AND user_id = $2::uuid AND used_at IS NULL AND expires_at > now() "
	"           RETURNING user_id), "
	"u AS (UPDATE users SET password_hash = $3 WHERE id = (SELECT user_id FROM p) "
	"      RETURNING id, team_id, email, name), "
	"o AS (DELETE FROM password_resets WHERE user_id = (SELECT id FROM u) "
	"      AND token_hash <> $1::bytea), "
	"s AS (DELETE FROM sessions WHERE user_id = (SELECT id FROM u)), "
	"c AS (DELETE FROM login_challenges WHERE user_id = (SELECT id FROM u)), "
	"m AS (INSERT INTO mail_outbox (user_id, to_addr, template, params) "
	"      SELECT id, email, 'password_changed', jsonb_build_object('name', name) FROM u), "
	AUTHD_SQL_AUDIT("'password_reset'", "u.team_id", "u.id", "u.email", "u.id", "u.email", "u")
	" SELECT id FROM u";

/* authd_recovery_prepare - declare this file's statements on the async pool */
int authd_recovery_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_RESET_REQUEST, s_forgot_sql, 3 },
		{ AUTHD_STMT_RESET_FIND, s_reset_find_sql, 1 },
		{ AUTHD_STMT_RESET_APPLY, s_reset_apply_sql, 3 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

/* ---- POST /api/password/forgot ------------------------------------------------------ */

static void s_forgot_stored(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	(void)res;
	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "password reset request");
		return;
	}
	/* never which email: the count stays in the database */
	log_info("password reset requested");
	authd_reply(&c->req, 202, json_object(), NULL);
}

/* authd_op_password_forgot - {email}: a reset link mailed if an account has it; 202 either way */
void authd_op_password_forgot(struct authd_ctx *c)
{
	char email[AUTHD_EMAIL_MAX + 1], token[AUTHD_TOKEN_HEX + 1], hash[AUTHD_BYTEA_MAX + 1];
	json_t *fields = json_object();
	const char *v = authd_field_str(c->body, "email", fields, false, NULL), *why = NULL;

	if (v && authd_validate_email(v, email, &why) < 0)
		authd_field_set(fields, "email", why ? why : "must be a valid email address");
	if (!fields || json_object_size(fields) > 0) {
		authd_reply_invalid(&c->req, fields);
		return;
	}
	json_decref(fields);
	authd_mail_token(token, hash); /* made whether or not the email has an account */
	authd_task_query(&c->t, AUTHD_STMT_RESET_REQUEST, 3,
			 (const char *const[]){ email, hash, token }, s_forgot_stored);
	sodium_memzero(token, sizeof(token));
}

/* ---- POST /api/password/reset ------------------------------------------------------- */

static void s_reset_applied(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "password reset");
		return;
	}
	if (PQntuples(res) != 1) { /* used or expired meanwhile */
		authd_reply_link_dead(&j->req);
		return;
	}
	authd_cache_forget_user(&j->a->cache, j->s.user_id);
	log_info("password reset", LOG_S("user_id", j->s.user_id));
	authd_reply(&j->req, 204, NULL, NULL);
}

/* s_reset_hashed - the new password is hashed: apply it with the link */
static void s_reset_hashed(struct authd_pw_job *j)
{
	char hash[AUTHD_BYTEA_MAX + 1];

	if (j->hash_r < 0) {
		authd_reply_db(&j->req, j->hash_r, "", "password reset");
		return;
	}
	authd_bytea(j->reset_hash, hash);
	authd_task_query(&j->t, AUTHD_STMT_RESET_APPLY, 3,
			 (const char *const[]){ hash, j->s.user_id, j->hash }, s_reset_applied);
}

static void s_reset_begin(struct authd_pw_job *j)
{
	j->do_hash = true;
	(void)authd_pw_job_submit(j);
}

/* s_reset_found - the link's account: the new password checked against its email, then hashed */
static void s_reset_found(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	char id[UTIL_UUID_LEN + 1], email[AUTHD_EMAIL_MAX + 1];
	const struct authd_col cols[] = { AUTHD_COL(id), AUTHD_COL(email) };
	const char *why = NULL;
	struct authd_pw_job *j;

	if (r == 0)
		r = authd_one_row(res, cols, ELEMENTSOF(cols));
	if (r == -ENOENT) {
		authd_reply_link_dead(&c->req);
		return;
	}
	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "password reset");
		return;
	}
	if (authd_validate_password(c->reauth.new_password, c->reauth.new_password_len, email,
				    &why) < 0) {
		authd_reply_invalid(&c->req, json_pack("{s:s}", "new_password",
						       why ? why : "is not allowed"));
		return;
	}
	if (!authd_pw_admit(c))
		return;
	j = authd_pw_job_new(c->a, &c->req, c->deadline_us, s_reset_hashed);
	if (!j)
		return;
	snprintf(j->s.user_id, sizeof(j->s.user_id), "%s", id);
	memcpy(j->reset_hash, c->reset_hash, sizeof(j->reset_hash));
	memcpy(j->password, c->reauth.new_password, c->reauth.new_password_len);
	j->password_len = c->reauth.new_password_len;
	sodium_memzero(c->reauth.new_password, sizeof(c->reauth.new_password));
	authd_pw_job_start(j, s_reset_begin);
}

/* authd_op_password_reset - {token, new_password}: the link's account gets the new password */
void authd_op_password_reset(struct authd_ctx *c)
{
	json_t *fields = json_object();
	size_t plen = 0;
	const char *pw = authd_field_str(c->body, "new_password", fields, false, &plen);
	const char *why = NULL;
	char hash[AUTHD_BYTEA_MAX + 1];

	authd_link_token_field(c, fields, c->reset_hash);
	if (pw && authd_validate_password(pw, plen, "", &why) < 0)
		authd_field_set(fields, "new_password", why ? why : "is not allowed");
	if (!fields || json_object_size(fields) > 0) {
		authd_reply_invalid(&c->req, fields);
		return;
	}
	json_decref(fields);
	memcpy(c->reauth.new_password, pw, plen);
	c->reauth.new_password_len = plen;
	authd_bytea(c->reset_hash, hash);
	authd_task_query(&c->t, AUTHD_STMT_RESET_FIND, 1, (const char *const[]){ hash },
			 s_reset_found);
}
