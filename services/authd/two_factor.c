/*
 * two_factor.c - two-factor login with a time-based code (TOTP, RFC
 * 6238), optional per person: enrolment (GET, POST and DELETE
 * /api/me/totp, POST /api/me/totp/confirm), the second step of a browser
 * login (POST /api/login/totp with the ticket the password step answered)
 * and the code a native client sends with POST /api/tokens. totp.c holds
 * the primitives, qr.c the QR code; the owner may require it of the
 * whole team (PATCH /api/team {require_two_factor}): a member without it
 * then has a session that can do nothing but turn it on (calls.c, the
 * ops flagged IPC_OPF_BEFORE_2FA). Each secret is sealed under the key
 * of [auth] totp_key_file (credential totp-key), which only authd reads.
 * migrations/0011_two_factor.sql says what is stored.
 *
 * Throttling: the password step of an account with two-factor on counts
 * a failure like every login and does not clear it; each wrong code
 * counts one more; only a right code clears them. So an account's codes
 * face the login limits (5 failures a minute, 50 an hour) however many
 * times its password is tried. A ticket lives 5 minutes and takes at most
 * 5 wrong codes; a code is good once (the last step used is kept).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "authd.h"
#include "log.h"
#include "secret.h"

#define KEY_CONTEXT "sembark-totp-key" /* 16 bytes: BLAKE2b key of the derivation */
#define KEY_MIN_BYTES 32
#define SEALED_PARAM_MAX (2 + AUTHD_TOTP_SEALED_HEX) /* "\\x" + hex */

#define AUDIT_SELF(event) \
	AUTHD_SQL_AUDIT(event, "u.team_id", "u.id", "u.email", "u.id", "u.email", "u")

static const char s_state_sql[] =
	"SELECT CASE WHEN totp_secret IS NULL THEN 'f' ELSE 't' END, "
	"coalesce(" AUTHD_SQL_TS("totp_enabled_at") ", ''), "
	"(SELECT count(*) FROM totp_recovery_codes r WHERE r.user_id = u.id)::text, "
	"coalesce(encode(totp_pending, 'hex'), '') FROM users u WHERE id = $1::uuid";
static const char s_pending_sql[] =
	"UPDATE users SET totp_pending = $2::bytea WHERE id = $1::uuid AND totp_secret IS NULL "
	"RETURNING id";
/* $3: the pending secret the code was checked against; $4: recovery code hashes, hex, ','-joined */
static const char s_enable_sql[] =
	"WITH u AS (UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, "
	"           totp_last_step = $2::bigint, totp_enabled_at = now() "
	"           WHERE id = $1::uuid AND totp_secret IS NULL AND totp_pending = $3::bytea "
	"           RETURNING id, team_id, email), "
	"d AS (DELETE FROM totp_recovery_codes WHERE user_id IN (SELECT id FROM u)), "
	"r AS (INSERT INTO totp_recovery_codes (user_id, code_hash) "
	"      SELECT u.id, decode(h, 'hex') FROM u, unnest(string_to_array($4, ',')) AS h), "
	AUDIT_SELF("'two_factor_enabled'") " SELECT id FROM u";
static const char s_disable_sql[] =
	"WITH u AS (UPDATE users SET totp_secret = NULL, totp_pending = NULL, "
	"           totp_enabled_at = NULL WHERE id = $1::uuid AND totp_secret IS NOT NULL "
	"           RETURNING id, team_id, email), "
	"d AS (DELETE FROM totp_recovery_codes WHERE user_id IN (SELECT id FROM u)), "
	"c AS (DELETE FROM login_challenges WHERE user_id IN (SELECT id FROM u)), "
	AUDIT_SELF("'two_factor_disabled'") " SELECT id FROM u";
/* a code's step, once: concurrent uses of one code find last_step moved on */
static const char s_step_sql[] =
	"UPDATE users SET totp_last_step = $2::bigint WHERE id = $1::uuid "
	"AND totp_secret IS NOT NULL AND totp_last_step < $2::bigint RETURNING id";
static const char s_recovery_use_sql[] =
	"DELETE FROM totp_recovery_codes WHERE user_id = $1::uuid AND code_hash = $2::bytea "
	"RETURNING user_id";
static const char s_challenge_new_sql[] =
	"WITH gone AS (DELETE FROM login_challenges WHERE user_id = $2::uuid AND expires_at <= now()) "
	"INSERT INTO login_challenges (ticket_hash, user_id, device_name, expires_at) "
	"VALUES ($1::bytea, $2::uuid, $3, now() + interval '5 minutes') "
	"RETURNING " AUTHD_SQL_TS("expires_at");
#define LIVE_CHALLENGE \
	"SELECT user_id FROM login_challenges WHERE ticket_hash = $1::bytea " \
	"AND expires_at > now() AND attempts < 5"
static const char s_challenge_find_sql[] =
	"SELECT u.id, u.team_id, u.email, u.name, u.role, t.name, c.device_name, "
	"encode(u.totp_secret, 'hex'), u.totp_last_step::text "
	"FROM login_challenges c JOIN users u ON u.id = c.user_id JOIN teams t ON t.id = u.team_id "
	"WHERE c.ticket_hash = $1::bytea AND c.expires_at > now() AND c.attempts < 5 "
	"AND u.totp_secret IS NOT NULL";
static const char s_challenge_miss_sql[] =
	"UPDATE login_challenges SET attempts = attempts + 1 "
	"WHERE ticket_hash = $1::bytea AND attempts < 5";
/* the ticket goes only with a right code */
static const char s_challenge_code_sql[] =
	"WITH u AS (UPDATE users SET totp_last_step = $2::bigint "
	"           WHERE id = (" LIVE_CHALLENGE ") AND totp_secret IS NOT NULL "
	"           AND totp_last_step < $2::bigint RETURNING id), "
	"c AS (DELETE FROM login_challenges WHERE ticket_hash = $1::bytea AND EXISTS (SELECT FROM u)) "
	"SELECT id FROM u";
/* $3: the owner, who must have it on to require it */
static const char s_team_two_factor_sql[] =
	"WITH t AS (UPDATE teams SET require_two_factor = $2::boolean WHERE id = $1::uuid "
	"           AND (NOT $2::boolean OR EXISTS (SELECT FROM users WHERE id = $3::uuid "
	"                                           AND totp_secret IS NOT NULL)) "
	"           RETURNING id, name, require_two_factor), "
	"u AS (SELECT u.id, u.team_id, u.email FROM users u, t WHERE u.id = $3::uuid), "
	AUDIT_SELF("CASE WHEN $2::boolean THEN 'two_factor_required' ELSE 'two_factor_optional' END")
	" SELECT id, name FROM t";
static const char s_challenge_recovery_sql[] =
	"WITH r AS (DELETE FROM totp_recovery_codes WHERE code_hash = $2::bytea "
	"           AND user_id = (" LIVE_CHALLENGE ") RETURNING user_id), "
	"c AS (DELETE FROM login_challenges WHERE ticket_hash = $1::bytea AND EXISTS (SELECT FROM r)) "
	"SELECT user_id FROM r";

/* authd_two_factor_prepare - declare this file's statements on the async pool */
int authd_two_factor_prepare(struct authd *a)
{
	static const struct authd_stmt_def defs[] = {
		{ AUTHD_STMT_TOTP_STATE, s_state_sql, 1 },
		{ AUTHD_STMT_TOTP_PENDING, s_pending_sql, 2 },
		{ AUTHD_STMT_TOTP_ENABLE, s_enable_sql, 4 },
		{ AUTHD_STMT_TOTP_DISABLE, s_disable_sql, 1 },
		{ AUTHD_STMT_TOTP_STEP, s_step_sql, 2 },
		{ AUTHD_STMT_RECOVERY_USE, s_recovery_use_sql, 2 },
		{ AUTHD_STMT_CHALLENGE_NEW, s_challenge_new_sql, 3 },
		{ AUTHD_STMT_CHALLENGE_FIND, s_challenge_find_sql, 1 },
		{ AUTHD_STMT_CHALLENGE_MISS, s_challenge_miss_sql, 1 },
		{ AUTHD_STMT_CHALLENGE_CODE, s_challenge_code_sql, 2 },
		{ AUTHD_STMT_CHALLENGE_RECOVERY, s_challenge_recovery_sql, 2 },
		{ AUTHD_STMT_TEAM_TWO_FACTOR, s_team_two_factor_sql, 3 },
	};

	return authd_stmts_add(a, defs, ELEMENTSOF(defs));
}

/* ---- the key ------------------------------------------------------------- */

/* authd_two_factor_load_key - the sealing key, derived from the key file's bytes */
int authd_two_factor_load_key(struct authd *a)
{
	_cleanup_(secret_freep) struct secret *s = NULL;
	const char *path = a->b.d.cfg.auth.totp_key_file;
	int r = secret_load("totp-key", path, &s);

	if (r == -ENOENT && !path[0]) {
		log_info("two-factor login is off: no [auth] totp_key_file and no credential "
			 "totp-key");
		return 0;
	}
	if (r == -EPERM)
		return log_error_errno(r, "The TOTP key file is readable by group or others: make "
				       "it mode 0600", LOG_S("path", path));
	if (r < 0)
		return log_error_errno(r, "Failed to read the TOTP key ([auth] totp_key_file)",
				       LOG_S("path", path));
	if (s->len < KEY_MIN_BYTES)
		return log_error_errno(-EINVAL, "The TOTP key is too short: at least 32 bytes "
				       "(64 hex characters)", LOG_S("path", path));
	a->totp_key = sodium_malloc(AUTHD_TOTP_KEY_BYTES);
	if (!a->totp_key)
		return log_error_errno(-ENOMEM, "cannot hold the TOTP key");
	crypto_generichash(a->totp_key, AUTHD_TOTP_KEY_BYTES, s->data, s->len,
			   (const uint8_t *)KEY_CONTEXT, strlen(KEY_CONTEXT));
	sodium_mprotect_readonly(a->totp_key);
	return 0;
}

/* authd_two_factor_free_key - wipe and free the key */
void authd_two_factor_free_key(struct authd *a)
{
	if (a->totp_key)
		sodium_free(a->totp_key);
	a->totp_key = NULL;
}

/* s_key_ready - the key is there, else 503 (two-factor login is not set up here) */
static bool s_key_ready(struct authd *a, struct rpc_request **req)
{
	if (a->totp_key)
		return true;
	log_warning("two-factor login asked for, but it is off: no TOTP key");
	authd_reply_error(req, 503, "service_unavailable",
			  "two-factor login is not set up on this server");
	return false;
}

/* ---- secrets and codes ------------------------------------------------------ */

/* s_bytea_hex - "\\x" + hex of n bytes, a bytea text parameter */
static void s_bytea_hex(const uint8_t *in, size_t n, char *out, size_t size)
{
	memcpy(out, "\\x", 2);
	sodium_bin2hex(out + 2, size - 2, in, n);
}

/* s_check_code - code against the secret sealed (hex) for user_id: 0 and the step, -EACCES, ... */
static int s_check_code(struct authd *a, const char *user_id, const char *sealed_hex,
			int64_t last_step, const char *code, int64_t *ret_step)
{
	uint8_t sealed[AUTHD_TOTP_SEALED_BYTES], secret[AUTHD_TOTP_SECRET_BYTES];
	size_t n = 0;
	int r;

	if (sodium_hex2bin(sealed, sizeof(sealed), sealed_hex, strlen(sealed_hex), NULL, &n,
			   NULL) != 0 ||
	    n != sizeof(sealed) || authd_totp_open(a->totp_key, user_id, sealed, secret) < 0) {
		log_error("a two-factor secret does not open: was [auth] totp_key_file changed?",
			  LOG_S("user_id", user_id));
		return -EBADMSG;
	}
	r = authd_totp_check(secret, sizeof(secret), (int64_t)time(NULL), code, last_step,
			     ret_step);
	sodium_memzero(secret, sizeof(secret));
	return r;
}

/* authd_two_factor_field - body[key] (6 digits) or body.recovery_code into f */
bool authd_two_factor_field(json_t *body, const char *key, bool required, json_t *fields,
			    struct authd_second_factor *f)
{
	size_t len = 0;
	const char *code = authd_field_str(body, key, fields, true, &len);
	const char *rec = authd_field_str(body, "recovery_code", fields, true, NULL);

	memset(f, 0, sizeof(*f));
	if (code && rec) {
		authd_field_set(fields, key, "give a code or a recovery code, not both");
		return false;
	}
	if (rec) {
		if (authd_recovery_code_hash(rec, f->recovery_hash) < 0) {
			authd_field_set(fields, "recovery_code",
					"must be a recovery code (16 letters and digits)");
			return false;
		}
		f->recovery = true;
		return true;
	}
	if (!code) {
		if (required && !json_object_get(fields, key))
			authd_field_set(fields, key, "is required");
		return false;
	}
	if (len != AUTHD_TOTP_DIGITS || strspn(code, "0123456789") != AUTHD_TOTP_DIGITS) {
		authd_field_set(fields, key, "must be the 6 digits your authenticator app shows");
		return false;
	}
	memcpy(f->code, code, AUTHD_TOTP_DIGITS + 1);
	return true;
}

/* s_one_row_changed - an enrolment statement changed the caller's row; else answered (503, 409) */
static bool s_one_row_changed(struct authd_task *t, int r, const PGresult *res,
			      struct rpc_request **req, const char *conflict)
{
	if (r < 0) {
		authd_reply_db(req, r, t->sqlstate, "two-factor enrolment");
		return false;
	}
	if (PQntuples(res) != 1) {
		authd_reply_error(req, 409, "two_factor_enabled", conflict);
		return false;
	}
	return true;
}

/* ---- GET /api/me/totp ------------------------------------------------------- */

/* s_state_read - the caller's two-factor state into c->tf; false when answered (503) */
static bool s_state_read(struct authd_ctx *c, int r, const PGresult *res, const char *what)
{
	const struct authd_col cols[] = { AUTHD_COL(c->tf.on), AUTHD_COL(c->tf.enabled_at),
					  AUTHD_COL(c->tf.codes_left), AUTHD_COL(c->tf.sealed) };

	if (r == 0 && authd_one_row(res, cols, ELEMENTSOF(cols)) < 0)
		r = -EIO;
	if (r < 0) {
		authd_reply_db(&c->req, r, c->t.sqlstate, what);
		return false;
	}
	return true;
}

static void s_status_read(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	if (!s_state_read(c, r, res, "two-factor status"))
		return;
	authd_reply(&c->req, 200,
		    json_pack("{s:b, s:s?, s:I, s:b, s:b}", "enabled", c->tf.on[0] == 't',
			      "enabled_at", c->tf.enabled_at[0] ? c->tf.enabled_at : NULL,
			      "recovery_codes_left", (json_int_t)atoll(c->tf.codes_left), "available",
			      c->a->totp_key != NULL, "required", c->s.two_factor_required),
		    NULL);
}

/* authd_op_totp_status - is two-factor login on for the caller, and since when */
void authd_op_totp_status(struct authd_ctx *c)
{
	authd_task_query(&c->t, AUTHD_STMT_TOTP_STATE, 1, (const char *const[]){ c->s.user_id },
			 s_status_read);
}

/* ---- POST /api/me/totp: a new secret, pending until a code confirms it -------- */

/* s_enrolment_body - {secret, otpauth_uri, qr:{size, path}} of j's new secret */
static json_t *s_enrolment_body(struct authd_pw_job *j)
{
	char uri[512], b32[AUTHD_TOTP_BASE32_MAX + 1], *path = NULL;
	json_t *body = NULL;
	int size = 0;

	if (authd_totp_uri(j->a->b.d.cfg.auth.totp_issuer, j->s.email, j->totp_secret, uri,
			   sizeof(uri)) < 0 ||
	    authd_qr_path(uri, &path, &size) < 0)
		goto done;
	authd_base32(j->totp_secret, sizeof(j->totp_secret), b32, sizeof(b32));
	for (char *p = b32; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	body = json_pack("{s:s, s:s, s:{s:i, s:s}}", "secret", b32, "otpauth_uri", uri, "qr",
			 "size", size, "path", path);
done:
	sodium_memzero(uri, sizeof(uri));
	sodium_memzero(b32, sizeof(b32));
	free(path);
	return body;
}

static void s_pending_stored(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;
	json_t *body;

	if (!s_one_row_changed(t, r, res, &j->req, "two-factor login is on already; turn it off first"))
		return;
	body = s_enrolment_body(j);
	if (!body) {
		authd_reply_error(&j->req, 503, "service_unavailable", "out of memory, try again");
		return;
	}
	log_info("two-factor enrolment started", LOG_S("user_id", j->s.user_id));
	authd_reply(&j->req, 200, body, NULL);
}

static void s_begin_proven(struct authd_pw_job *j)
{
	uint8_t sealed[AUTHD_TOTP_SEALED_BYTES];
	char param[SEALED_PARAM_MAX + 1];

	authd_totp_secret_new(j->totp_secret);
	authd_totp_seal(j->a->totp_key, j->s.user_id, j->totp_secret, sealed);
	s_bytea_hex(sealed, sizeof(sealed), param, sizeof(param));
	authd_task_query(&j->t, AUTHD_STMT_TOTP_PENDING, 2,
			 (const char *const[]){ j->s.user_id, param }, s_pending_stored);
}

/* authd_op_totp_begin - {password} -> a new secret to scan; on once a code confirms it */
void authd_op_totp_begin(struct authd_ctx *c)
{
	if (s_key_ready(c->a, &c->req))
		authd_reauth_body(c, "two-factor enrolment", s_begin_proven);
}

/* ---- POST /api/me/totp/confirm: the first code turns it on ------------------ */

static void s_enabled(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	json_t *codes;

	if (!s_one_row_changed(t, r, res, &c->req,
			       "two-factor login is on already, or its enrolment was restarted"))
		return;
	codes = json_array();
	for (size_t i = 0; i < AUTHD_RECOVERY_CODES; i++)
		json_array_append_new(codes, json_string(c->tf.codes[i]));
	log_info("two-factor login turned on", LOG_S("user_id", c->s.user_id));
	authd_reply(&c->req, 200, json_pack("{s:o}", "recovery_codes", codes), NULL);
}

/* s_enable - the code matched the pending secret: on, with ten new recovery codes */
static void s_enable(struct authd_ctx *c)
{
	char step[24], pending[SEALED_PARAM_MAX + 1];
	char hashes[AUTHD_RECOVERY_CODES * (2 * AUTHD_HASH_BYTES + 1)];
	size_t n = 0;

	for (size_t i = 0; i < AUTHD_RECOVERY_CODES; i++) {
		uint8_t h[AUTHD_HASH_BYTES];

		authd_recovery_code_new(c->tf.codes[i], h);
		if (i > 0)
			hashes[n++] = ',';
		sodium_bin2hex(hashes + n, sizeof(hashes) - n, h, sizeof(h));
		n += 2 * AUTHD_HASH_BYTES;
	}
	snprintf(step, sizeof(step), "%lld", (long long)c->tf.step);
	snprintf(pending, sizeof(pending), "\\x%s", c->tf.sealed);
	authd_task_query(&c->t, AUTHD_STMT_TOTP_ENABLE, 4,
			 (const char *const[]){ c->s.user_id, step, pending, hashes }, s_enabled);
}

static void s_confirm_read(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	if (!s_state_read(c, r, res, "two-factor enrolment"))
		return;
	if (c->tf.on[0] == 't') {
		authd_reply_error(&c->req, 409, "two_factor_enabled", "two-factor login is on already");
		return;
	}
	if (!c->tf.sealed[0]) {
		authd_reply_error(&c->req, 409, "two_factor_not_started",
				  "start the enrolment first (POST /api/me/totp)");
		return;
	}
	r = s_check_code(c->a, c->s.user_id, c->tf.sealed, -1, c->tf.f.code, &c->tf.step);
	if (r == -EBADMSG) {
		authd_reply_error(&c->req, 503, "service_unavailable",
				  "two-factor login is not usable on this server now");
		return;
	}
	if (r < 0) {
		authd_reply_invalid(&c->req, json_pack("{s:s}", "code", "is incorrect"));
		return;
	}
	s_enable(c);
}

/* authd_op_totp_confirm - {code} from the app: two-factor login on, recovery codes shown once */
void authd_op_totp_confirm(struct authd_ctx *c)
{
	json_t *fields = json_object();

	if (!authd_two_factor_field(c->body, "code", true, fields, &c->tf.f) || c->tf.f.recovery) {
		if (c->tf.f.recovery)
			authd_field_set(fields, "code", "is required (not a recovery code)");
		authd_reply_invalid(&c->req, fields);
		return;
	}
	json_decref(fields);
	if (!s_key_ready(c->a, &c->req))
		return;
	authd_task_query(&c->t, AUTHD_STMT_TOTP_STATE, 1, (const char *const[]){ c->s.user_id },
			 s_confirm_read);
}

/* ---- DELETE /api/me/totp ------------------------------------------------------ */

static void s_disabled(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "two-factor removal");
		return;
	}
	if (PQntuples(res) == 1)
		log_info("two-factor login turned off", LOG_S("user_id", j->s.user_id));
	authd_reply(&j->req, 204, NULL, NULL);
}

static void s_disable_proven(struct authd_pw_job *j)
{
	authd_task_query(&j->t, AUTHD_STMT_TOTP_DISABLE, 1, (const char *const[]){ j->s.user_id },
			 s_disabled);
}

/* authd_op_totp_disable - {password}: two-factor login off, its recovery codes gone */
void authd_op_totp_disable(struct authd_ctx *c)
{
	if (c->s.two_factor_required) {
		authd_reply_error(&c->req, 409, "two_factor_required_by_team",
				  "your team requires two-factor login: it cannot be turned off");
		return;
	}
	authd_reauth_body(c, "two-factor removal", s_disable_proven);
}

/* ---- PATCH /api/team {require_two_factor}: the owner's policy ------------------ */

static void s_team_policy_set(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	const struct authd_col cols[] = { AUTHD_COL(c->s.team_id), AUTHD_COL(c->s.team_name) };

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "team update");
		return;
	}
	if (authd_one_row(res, cols, ELEMENTSOF(cols)) < 0) {
		authd_reply_error(&c->req, 409, "two_factor_off",
				  "turn on two-factor login for yourself before requiring it of the team");
		return;
	}
	log_info("team two-factor policy changed", LOG_S("team_id", c->s.team_id),
		 LOG_S("require_two_factor", c->tf.on[0] == 't' ? "true" : "false"));
	authd_reply(&c->req, 200,
		    json_pack("{s:o, s:b}", "team", authd_json_team(&c->s), "require_two_factor",
			      c->tf.on[0] == 't'),
		    NULL);
}

/* authd_op_team_update - the owner's team settings: {require_two_factor: bool} */
void authd_op_team_update(struct authd_ctx *c)
{
	json_t *v = json_object_get(c->body, "require_two_factor");

	if (!json_is_boolean(v)) {
		authd_reply_invalid(&c->req, json_pack("{s:s}", "require_two_factor",
						       v ? "must be true or false" : "is required"));
		return;
	}
	snprintf(c->tf.on, sizeof(c->tf.on), "%s", json_is_true(v) ? "t" : "f");
	authd_task_query(&c->t, AUTHD_STMT_TEAM_TWO_FACTOR, 3,
			 (const char *const[]){ c->s.team_id, json_is_true(v) ? "true" : "false",
						c->s.user_id },
			 s_team_policy_set);
}

/* ---- the password step of a login ------------------------------------------------ */

static void s_challenge_made(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;
	char expires[AUTHD_TIME_MAX];
	const struct authd_col cols[] = { AUTHD_COL(expires) };

	if (r == 0 && authd_one_row(res, cols, 1) < 0)
		r = -EIO;
	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "login");
		return;
	}
	log_info("login: password right, second factor wanted", LOG_S("user_id", j->s.user_id));
	authd_reply(&j->req, 202,
		    json_pack("{s:b, s:s, s:s}", "two_factor_required", true, "ticket", j->token,
			      "expires_at", expires),
		    NULL);
	sodium_memzero(j->token, sizeof(j->token));
}

static void s_native_step(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_pw_job *j = (struct authd_pw_job *)t;

	if (r < 0) {
		authd_reply_db(&j->req, r, t->sqlstate, "login");
		return;
	}
	if (PQntuples(res) != 1) {
		log_info("login failed: code used already or recovery code unknown",
			 LOG_S("user_id", j->s.user_id));
		authd_audit_login_failed(j->a, &j->s);
		authd_reply_error(&j->req, 401, "invalid_credentials", "the code is wrong");
		return;
	}
	j->factor_passed(j);
}

/* s_native - a token request: its code checked, used up, then passed(j) */
static void s_native(struct authd_pw_job *j, void (*passed)(struct authd_pw_job *j))
{
	char step[24], hash[AUTHD_BYTEA_MAX + 1];
	int64_t s = 0;
	int r;

	if (!j->factor.recovery && !j->factor.code[0]) {
		log_info("token refused: the account needs a second factor",
			 LOG_S("user_id", j->s.user_id));
		authd_reply_error(&j->req, 401, "two_factor_required",
				  "this account signs in with a code from its authenticator app: "
				  "send totp_code (or recovery_code)");
		return;
	}
	j->factor_passed = passed;
	if (j->factor.recovery) {
		authd_bytea(j->factor.recovery_hash, hash);
		authd_task_query(&j->t, AUTHD_STMT_RECOVERY_USE, 2,
				 (const char *const[]){ j->s.user_id, hash }, s_native_step);
		return;
	}
	r = s_check_code(j->a, j->s.user_id, j->totp_sealed, j->totp_last_step, j->factor.code, &s);
	if (r == -EBADMSG) {
		authd_reply_error(&j->req, 503, "service_unavailable",
				  "two-factor login is not usable on this server now");
		return;
	}
	if (r < 0) {
		log_info("login failed: wrong code", LOG_S("user_id", j->s.user_id));
		authd_audit_login_failed(j->a, &j->s);
		authd_reply_error(&j->req, 401, "invalid_credentials", "the code is wrong");
		return;
	}
	snprintf(step, sizeof(step), "%lld", (long long)s);
	authd_task_query(&j->t, AUTHD_STMT_TOTP_STEP, 2, (const char *const[]){ j->s.user_id, step },
			 s_native_step);
}

/* authd_two_factor_login - the password was right: a ticket (browser) or the code (native) */
void authd_two_factor_login(struct authd_pw_job *j, void (*passed)(struct authd_pw_job *j))
{
	char hash[AUTHD_BYTEA_MAX + 1];
	uint8_t h[AUTHD_HASH_BYTES];

	if (!s_key_ready(j->a, &j->req))
		return;
	if (j->native) {
		s_native(j, passed);
		return;
	}
	authd_token_new(j->token, h); /* the ticket: 20 random bytes, only its hash stored */
	authd_bytea(h, hash);
	authd_task_query(&j->t, AUTHD_STMT_CHALLENGE_NEW, 3,
			 (const char *const[]){ hash, j->s.user_id, j->device }, s_challenge_made);
}

/* ---- POST /api/login/totp: the second step ----------------------------------------- */

static void s_session_made(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	if (r == 0)
		r = authd_session_created(res, &c->s);
	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "login");
		return;
	}
	log_info("login", LOG_S("user_id", c->s.user_id), LOG_S("session_id", c->s.id),
		 LOG_S("client", "browser"), LOG_S("second_factor", c->tf.f.recovery ?
							       "recovery_code" : "totp"));
	authd_reply_signed_in(c->a, &c->req, &c->s, c->tf.token, 200, json_object());
	sodium_memzero(c->tf.token, sizeof(c->tf.token));
}

static void s_second_cleared(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	(void)res;
	if (r < 0)
		log_warning_errno(r, "cannot clear login failures", LOG_S("user_id", c->s.user_id));
	authd_session_create(t, c->s.user_id, c->tf.device, c->tf.token, s_session_made);
}

static void s_second_counted(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	(void)res;
	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "login");
		return;
	}
	authd_audit_login_failed(c->a, &c->s);
	authd_reply_error(&c->req, 401, "invalid_credentials", "the code is wrong");
}

/* s_second_missed - a wrong code: the ticket and the email each count it */
static void s_second_missed(struct authd_ctx *c)
{
	char hash[AUTHD_BYTEA_MAX + 1];

	log_info("login failed: wrong second factor", LOG_S("user_id", c->s.user_id));
	authd_bytea(c->tf.ticket_hash, hash);
	authd_fire(c->a, AUTHD_STMT_CHALLENGE_MISS, 1, (const char *const[]){ hash });
	authd_throttle_fail(&c->t, c->tf.email_hash, s_second_counted);
}

static void s_second_used(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "login");
		return;
	}
	if (PQntuples(res) != 1) {
		s_second_missed(c);
		return;
	}
	authd_throttle_clear(t, c->tf.email_hash, s_second_cleared);
}

static void s_second_checked(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	char ticket[AUTHD_BYTEA_MAX + 1], arg[AUTHD_BYTEA_MAX + 1];
	int64_t wait;

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "login");
		return;
	}
	wait = authd_throttle_wait(res);
	if (wait > 0) {
		log_info("login throttled", LOG_I("retry_after", wait));
		authd_reply_throttled(&c->req, wait);
		return;
	}
	authd_bytea(c->tf.ticket_hash, ticket);
	if (c->tf.f.recovery) {
		authd_bytea(c->tf.f.recovery_hash, arg);
		authd_task_query(t, AUTHD_STMT_CHALLENGE_RECOVERY, 2,
				 (const char *const[]){ ticket, arg }, s_second_used);
		return;
	}
	r = s_check_code(c->a, c->s.user_id, c->tf.sealed, c->tf.last_step, c->tf.f.code,
			 &c->tf.step);
	if (r == -EBADMSG) {
		authd_reply_error(&c->req, 503, "service_unavailable",
				  "two-factor login is not usable on this server now");
		return;
	}
	if (r < 0) {
		s_second_missed(c);
		return;
	}
	snprintf(arg, sizeof(arg), "%lld", (long long)c->tf.step);
	authd_task_query(t, AUTHD_STMT_CHALLENGE_CODE, 2, (const char *const[]){ ticket, arg },
			 s_second_used);
}

static void s_ticket_found(struct authd_task *t, int r, const PGresult *res)
{
	struct authd_ctx *c = (struct authd_ctx *)t;
	char last[24];
	const struct authd_col cols[] = {
		AUTHD_COL(c->s.user_id), AUTHD_COL(c->s.team_id), AUTHD_COL(c->s.email),
		AUTHD_COL(c->s.name),    AUTHD_COL(c->s.role),    AUTHD_COL(c->s.team_name),
		AUTHD_COL(c->tf.device), AUTHD_COL(c->tf.sealed), AUTHD_COL(last),
	};

	if (r < 0) {
		authd_reply_db(&c->req, r, t->sqlstate, "login");
		return;
	}
	if (authd_one_row(res, cols, ELEMENTSOF(cols)) < 0) {
		log_info("second factor for an unknown, spent or expired ticket");
		authd_reply_error(&c->req, 401, "invalid_credentials",
				  "this sign-in has expired: enter your email and password again");
		return;
	}
	c->tf.last_step = strtoll(last, NULL, 10);
	authd_throttle_key(c->s.email, c->tf.email_hash);
	authd_throttle_check(t, c->tf.email_hash, s_second_checked);
}

/* authd_op_login_totp - {ticket, code | recovery_code} -> the session of a two-factor login */
void authd_op_login_totp(struct authd_ctx *c)
{
	json_t *fields = json_object();
	const char *ticket = authd_field_str(c->body, "ticket", fields, false, NULL);
	char hash[AUTHD_BYTEA_MAX + 1];
	bool factor = authd_two_factor_field(c->body, "code", true, fields, &c->tf.f);

	if (ticket && authd_token_hash(ticket, c->tf.ticket_hash) < 0)
		authd_field_set(fields, "ticket", "must be the ticket POST /api/login answered");
	if (!factor || json_object_size(fields) > 0) {
		authd_reply_invalid(&c->req, fields);
		return;
	}
	json_decref(fields);
	if (!s_key_ready(c->a, &c->req))
		return;
	authd_bytea(c->tf.ticket_hash, hash);
	authd_task_query(&c->t, AUTHD_STMT_CHALLENGE_FIND, 1, (const char *const[]){ hash },
			 s_ticket_found);
}
