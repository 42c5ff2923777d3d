/*
 * verify.c - proving an email is the person's. A new account (sign-up,
 * invite) gets a verification link in the statement that creates it
 * (AUTHD_SQL_VERIFY_MAIL: an email_verifications row, the SHA-256 of a
 * 20-byte token, 24 hours, and a verify_email mail in mail_outbox with
 * its token, which maild turns into <public_origin>/login#verify=<token>);
 * a signed-in person may ask again
 * (POST /api/me/verification, three links an hour); POST /api/email/verify
 * {token} (anyone: the link may be opened in another browser) uses a live
 * link once and sets users.email_verified_at. Whether an unverified account
 * may log in is [auth] require_verified_email (default: it may; the
 * dashboard says "verify your email", from GET /api/me/verification).
 * migrations/0012_account_mail.sql says what is stored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"

#define TOKEN_BAD "is invalid or has expired: ask for a new link"

static const char s_verify_sql[] =
	"WITH v AS (DELETE FROM email_verifications WHERE token_hash = $1::bytea "
	"           AND expires_at > now() RETURNING user_id), "
	"u AS (UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) "
	"      WHERE id IN (SELECT user_id FROM v) RETURNING id, team_id, email), "
	"o AS (DELETE FROM email_verifications WHERE user_id IN (SELECT id FROM u)), "
	AUTHD_SQL_AUDIT("'email_verified'", "u.team_id", "u.id", "u.email", "u.id", "u.email", "u")
	" SELECT id FROM u";
/* $1 user, $2 token hash, $3 token: a new link unless verified or three in the last hour */
static const char s_resend_sql[] =
	"WITH u AS (SELECT id, email, name FROM users WHERE id = $1::uuid "
	"           AND email_verified_at IS NULL AND (SELECT count(*) FROM email_verifications e "
	"           WHERE e.user_id = users.id AND e.created_at > now() - interval '1 hour') < 3), "
	AUTHD_SQL_VERIFY_MAIL("u", "$2", "$3") " SELECT count(*)::text FROM u";

/* authd_verify_prepare - declare this file's statements on the async pool */
int authd_verify_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_EMAIL_VERIFY, s_verify_sql, 1 },
		{ AUTHD_STMT_EMAIL_RESEND, s_resend_sql, 3 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

/* authd_link_token_field - body.token of a mailed link: its SHA-256, or a field error */
void authd_link_token_field(struct authd_ctx *c, json_t *fields, uint8_t hash[AUTHD_HASH_BYTES])
{
	size_t len = 0;
	const char *token = authd_field_str(c->body, "token", fields, false, &len);

	if (token && (len != AUTHD_TOKEN_HEX || authd_token_hash(token, hash) < 0))
		authd_field_set(fields, "token", TOKEN_BAD);
}

/* authd_reply_link_dead - 422 {token: the dead-link words} */
void authd_reply_link_dead(struct rpc_request **req)
{
	authd_reply_invalid(req, json_pack("{s:s}", "token", TOKEN_BAD));
}

/* authd_mail_token - a fresh link token (40 hex, for the mail) and its SHA-256 as a parameter */
void authd_mail_token(char token[AUTHD_TOKEN_HEX + 1], char hash[AUTHD_BYTEA_MAX + 1])
{
	uint8_t h[AUTHD_HASH_BYTES];

	authd_token_new(token, h);
	authd_bytea(h, hash);
}

/* ---- POST /api/email/verify ------------------------------------------------------- */

static void s_verified(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	char id[UTIL_UUID_LEN + 1];
	const struct authd_col cols[] = { AUTHD_COL(id) };

	if (r == 0)
		r = authd_one_row(res, cols, ELEMENTSOF(cols));
	if (r == -ENOENT) {
		authd_reply_link_dead(&c->req);
		return;
	}
	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "email verification");
		return;
	}
	authd_cache_forget_user(&c->a->cache, id);
	log_info("email verified", LOG_S("user_id", id));
	authd_reply(&c->req, 204, NULL, NULL);
}

/* authd_op_email_verify - {token}: the link's account has a verified email */
void authd_op_email_verify(struct authd_ctx *c)
{
	json_t *fields = json_object();
	uint8_t h[AUTHD_HASH_BYTES];
	char hash[AUTHD_BYTEA_MAX + 1];

	authd_link_token_field(c, fields, h);
	if (!fields || json_object_size(fields) > 0) {
		authd_reply_invalid(&c->req, fields);
		return;
	}
	json_decref(fields);
	authd_bytea(h, hash);
	authd_task_query(&c->t, AUTHD_STMT_EMAIL_VERIFY, 1, (const char *const[]){ hash },
			 s_verified);
}

/* ---- POST /api/me/verification ------------------------------------------------- */

static void s_resent(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "verification link");
		return;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "1") == 0)
		log_info("verification link sent again", LOG_S("user_id", c->s.user_id));
	authd_reply(&c->req, 202, json_object(), NULL);
}

/* authd_verify_resend - a new link for user_id (within the hourly limit), not waited for */
void authd_verify_resend(struct authd *a, const char *user_id)
{
	char hash[AUTHD_BYTEA_MAX + 1], token[AUTHD_TOKEN_HEX + 1];

	authd_mail_token(token, hash);
	authd_fire(a, AUTHD_STMT_EMAIL_RESEND, 3, (const char *const[]){ user_id, hash, token });
	sodium_memzero(token, sizeof(token));
}

/* authd_op_email_status - GET /api/me/verification: {email, email_verified} */
void authd_op_email_status(struct authd_ctx *c)
{
	authd_reply(&c->req, 200, json_pack("{s:s, s:b}", "email", c->s.email, "email_verified",
					    c->s.email_verified), NULL);
}

/* authd_op_email_resend - a new verification link for the caller (202; none once verified) */
void authd_op_email_resend(struct authd_ctx *c)
{
	char hash[AUTHD_BYTEA_MAX + 1], token[AUTHD_TOKEN_HEX + 1];

	if (c->s.email_verified) {
		authd_reply_error(&c->req, 409, "email_verified", "your email is already verified");
		return;
	}
	authd_mail_token(token, hash);
	authd_task_query(&c->t, AUTHD_STMT_EMAIL_RESEND, 3,
			 (const char *const[]){ c->s.user_id, hash, token }, s_resent);
	sodium_memzero(token, sizeof(token));
}
