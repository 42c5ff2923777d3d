/*
 * reauth.c - a signed-in caller proves their password again before a
 * sensitive change (a new password, turning two-factor login on or off).
 * One chain for every such op, throttled and counted exactly like a
 * login: the email's failures checked (429), the hash pool's admission
 * (503 + Retry-After), the stored hash read, a failure counted before the
 * verify (so a crash mid-verify still counts), verify (and, for a new
 * password, hash it) on the pool; a wrong password is 422 with the op's
 * field "is incorrect"; a right one clears the failures and hands the job
 * to the op's continuation, which performs the change and answers.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"

static void s_cleared(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	(void)res;
	if (r < 0)
		log_warning_errno(r, "cannot clear login failures", LOG_S("user_id", j->s.user_id));
	j->reauth_then(j);
}

/* s_verified - the pool verified the password (and hashed the new one) */
static void s_verified(struct authd_pw_job *j)
{
	int r = j->verify_r < 0 ? j->verify_r : j->hash_r;

	if (j->verify_r == -EACCES) {
		log_info("re-authentication refused: wrong password", LOG_S("user_id", j->s.user_id),
			 LOG_S("for", j->reauth_what));
		authd_reply_invalid(&j->req, json_pack("{s:s}", j->reauth_field, "is incorrect"));
		return;
	}
	if (r < 0) {
		authd_reply_db(&j->req, r, "", j->reauth_what);
		return;
	}
	authd_throttle_clear(&j->t, j->email_hash, s_cleared);
}

static void s_counted(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	(void)res;
	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, j->reauth_what);
		return;
	}
	j->do_verify = true;
	j->do_hash = j->new_password_len > 0;
	(void)authd_pw_job_submit(j);
}

static void s_stored(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;
	const struct authd_col cols[] = { AUTHD_COL(j->stored) };

	if (r == 0 && authd_one_row(res, cols, 1) < 0)
		r = -EIO;
	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, j->reauth_what);
		return;
	}
	authd_throttle_fail(t, j->email_hash, s_counted);
}

static void s_begin(struct authd_pw_job *j)
{
	authd_task_query(&j->t, AUTHD_STMT_STORED_HASH, 1, (const char *const[]){ j->s.user_id },
			 s_stored);
}

/* s_wipe - no password stays in c once the job has them */
static void s_wipe(struct authd_ctx *c)
{
	sodium_memzero(c->reauth.password, sizeof(c->reauth.password));
	sodium_memzero(c->reauth.new_password, sizeof(c->reauth.new_password));
	c->reauth.password_len = c->reauth.new_password_len = 0;
}

/* s_checked - the email is not throttled: a job with the passwords goes to the pool */
static void s_checked(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	struct authd_pw_job *j;
	int64_t wait;

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, c->reauth.what);
		return;
	}
	wait = authd_throttle_wait(res);
	if (wait > 0) {
		authd_reply_throttled(&c->req, wait);
		return;
	}
	if (!authd_pw_admit(c))
		return;
	j = authd_pw_job_new(c->a, &c->req, c->deadline_us, s_verified);
	if (!j)
		return;
	j->s = c->s;
	j->reauth_field = c->reauth.field;
	j->reauth_what = c->reauth.what;
	j->reauth_then = c->reauth.then;
	authd_throttle_key(c->s.email, j->email_hash);
	memcpy(j->password, c->reauth.password, c->reauth.password_len);
	j->password_len = c->reauth.password_len;
	memcpy(j->new_password, c->reauth.new_password, c->reauth.new_password_len);
	j->new_password_len = c->reauth.new_password_len;
	s_wipe(c);
	authd_pw_job_start(j, s_begin);
}

/*
 * authd_reauth - c's caller proves password (pw, len <= 128 bytes: the
 * caller checked) for `what` (a log word); new_pw (may be NULL) is hashed
 * on the same pool visit into j->hash. field names the body member a
 * wrong password is reported on. then(j) runs once it is proven, with
 * j->s the caller (and j->hash the new hash); it answers.
 */
void authd_reauth(struct authd_ctx *c, const char *pw, size_t len, const char *new_pw,
		  size_t new_len, const char *field, const char *what,
		  void (*then)(struct authd_pw_job *j))
{
	uint8_t key[AUTHD_HASH_BYTES];

	if (len == 0 || len > AUTHD_PASSWORD_MAX_BYTES) {
		authd_reply_invalid(&c->req, json_pack("{s:s}", field,
						       len ? "is incorrect" : "is required"));
		return;
	}
	c->reauth.field = field;
	c->reauth.what = what;
	c->reauth.then = then;
	memcpy(c->reauth.password, pw, len);
	c->reauth.password_len = len;
	if (new_pw && new_len > 0 && new_len <= AUTHD_PASSWORD_MAX_BYTES) {
		memcpy(c->reauth.new_password, new_pw, new_len);
		c->reauth.new_password_len = new_len;
	}
	authd_throttle_key(c->s.email, key);
	authd_throttle_check(&c->t, key, s_checked);
}


/* authd_reauth_body - authd_reauth with the body's "password" (422 when absent) */
void authd_reauth_body(struct authd_ctx *c, const char *what,
		       void (*then)(struct authd_pw_job *j))
{
	json_t *fields = json_object();
	size_t len = 0;
	const char *pw = authd_field_str(c->body, "password", fields, false, &len);

	if (!pw) {
		authd_reply_invalid(&c->req, fields);
		return;
	}
	json_decref(fields);
	authd_reauth(c, pw, len, NULL, 0, "password", what, then);
}
