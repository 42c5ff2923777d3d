/*
 * authd.h - sembark-authd's private state and prototypes, grouped by the
 * file that defines them. authd owns teams, users, invites and sessions;
 * it answers ingressd over a ROUTER (runtime/backend.c) and talks to
 * PostgreSQL as the role sembark_authd. Password hashing runs on a pool
 * of worker threads (pool.c) so the loop never waits for a hash.
 */
#ifndef SEMBARK_AUTHD_H
#define SEMBARK_AUTHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "ops.h"
#include "pgq.h"
#include "util.h"

struct authd_pool;
struct event;
struct rpc_client;

#define AUTHD_DB_CONNS 2 /* connections of the asynchronous pool */
#define AUTHD_NOTIFY_CHANNEL "sembark_sessions" /* migrations/0007_session_notify.sql */

/* Every statement authd runs on the asynchronous pool; each file declares its own at start. */
enum authd_stmt {
	AUTHD_STMT_LOOKUP,          /* sessions.c */
	AUTHD_STMT_TOUCH,
	AUTHD_STMT_DELETE_DEAD,
	AUTHD_STMT_SESSION_DELETE,
	AUTHD_STMT_SESSIONS_LIST,
	AUTHD_STMT_REVOKE_OTHERS,
	AUTHD_STMT_TEAM_MEMBERS,    /* team.c */
	AUTHD_STMT_INVITE_SHOW,
	AUTHD_STMT_INVITE_ROTATE,
	AUTHD_STMT_MEMBER_GET,
	AUTHD_STMT_MEMBER_ROLE,
	AUTHD_STMT_MEMBER_DELETE,
	AUTHD_STMT_THROTTLE_CHECK,  /* throttle.c */
	AUTHD_STMT_THROTTLE_FAIL,
	AUTHD_STMT_THROTTLE_CLEAR,
	AUTHD_STMT_THROTTLE_PURGE,
	AUTHD_STMT_SESSION_CREATE,  /* sessions.c, the account side */
	AUTHD_STMT_STORED_HASH,
	AUTHD_STMT_PASSWORD_CHANGE,
	AUTHD_STMT_EMAIL_TAKEN,     /* accounts.c */
	AUTHD_STMT_SIGNUP,
	AUTHD_STMT_INVITE_TEAM,
	AUTHD_STMT_ACCEPT,
	AUTHD_STMT_LOGIN_ACCOUNT,
	AUTHD_STMT_REHASH,
	AUTHD_STMT_PURGE_SESSIONS,  /* purge.c */
	AUTHD_STMT_AUDIT_LOGIN_FAILED, /* audit.c */
	AUTHD_STMT_TOTP_STATE,      /* two_factor.c */
	AUTHD_STMT_TOTP_PENDING,
	AUTHD_STMT_TOTP_ENABLE,
	AUTHD_STMT_TOTP_DISABLE,
	AUTHD_STMT_TOTP_STEP,
	AUTHD_STMT_RECOVERY_USE,
	AUTHD_STMT_CHALLENGE_NEW,
	AUTHD_STMT_CHALLENGE_FIND,
	AUTHD_STMT_CHALLENGE_MISS,
	AUTHD_STMT_CHALLENGE_CODE,
	AUTHD_STMT_CHALLENGE_RECOVERY,
	AUTHD_STMT_TEAM_TWO_FACTOR,
	AUTHD_STMT_EXPORT,          /* privacy.c */
	AUTHD_STMT_ERASE,
	AUTHD_STMT_ERASURE_SWEEP,   /* purge.c */
	AUTHD_STMT_RESET_REQUEST,   /* recovery.c */
	AUTHD_STMT_RESET_FIND,
	AUTHD_STMT_RESET_APPLY,
	AUTHD_STMT_EMAIL_VERIFY,    /* verify.c */
	AUTHD_STMT_EMAIL_RESEND,
	_AUTHD_STMT_MAX,
};

struct authd_cache_entry;

/* The session cache (session_cache.c): token hash -> session, kept coherent by NOTIFY. */
struct authd_cache {
	struct authd_cache_entry **buckets; /* nbuckets (a power of two) chains */
	size_t nbuckets, count, max;
	int64_t ttl_us;  /* [auth] session_cache_ttl */
	bool up;         /* notifications flow: the cache may answer */
	uint64_t gen;    /* bumped by every change heard of */
	uint64_t hits, misses;
};

struct authd {
	struct backend b;             /* first: handlers get &authd.b */
	struct authd_cache cache;     /* live sessions (session_cache.c) */
	int stmt[_AUTHD_STMT_MAX];    /* indexes of authd's statements on b.pgq (shared/pgq.c) */
	struct authd_pool *pool;      /* password hashing threads */
	struct rpc_client *telemetry; /* DEALER to telemetryd: telemetry.signal */
	struct event *purge_timer;    /* hourly purge of expired sessions */
	uint8_t *totp_key;            /* sodium_malloc'ed AUTHD_TOTP_KEY_BYTES; NULL: two-factor login off */
};

/* ---- password.c: hashing policy (runs on pool threads) ----------------- */

#define AUTHD_PASSWORD_MAX_BYTES 128 /* API.md: at most 128 bytes */
#define AUTHD_PASSWORD_MIN_CHARS 12  /* API.md: at least 12 code points */
#define AUTHD_HASH_MAX 256           /* a stored hash string, NUL included */

enum authd_hash_alg {
	AUTHD_HASH_BCRYPT,   /* "$2b$<cost>$...", libxcrypt */
	AUTHD_HASH_ARGON2ID, /* "$argon2id$...", libsodium */
};

struct authd_hash_policy {
	enum authd_hash_alg alg; /* [auth] password_hash */
	int bcrypt_cost;         /* [auth] bcrypt_cost */
};

/* authd_hash_policy - [auth] password_hash and bcrypt_cost as a policy */
void authd_hash_policy(const struct sembark_config *cfg, struct authd_hash_policy *ret);
/*
 * authd_password_hash - hash password (len bytes, <= 128, any bytes but
 * NUL) under policy into out (NUL-terminated). bcrypt reads only 72
 * bytes, so the whole password is first condensed (HMAC-SHA-256, base64)
 * and that is what bcrypt hashes: nothing is ever cut. Blocking: call on
 * a pool thread. Returns 0 or negative errno.
 */
int authd_password_hash(const struct authd_hash_policy *policy, const char *password, size_t len,
			char out[AUTHD_HASH_MAX]);
/* authd_password_verify - 0 on match, -EACCES on mismatch, -EINVAL for a bad stored hash */
int authd_password_verify(const char *stored, const char *password, size_t len);
/* authd_password_needs_rehash - stored made under another algorithm or cost? */
bool authd_password_needs_rehash(const struct authd_hash_policy *policy, const char *stored);
/*
 * authd_password_dummy - a valid hash under policy of a random password,
 * made once at start: verifying against it costs what a real verify
 * costs, for unknown emails.
 */
const char *authd_password_dummy(const struct authd_hash_policy *policy);

/* ---- pool.c: worker threads with completion on the loop ---------------- */

typedef void (*authd_work_fn)(void *job);  /* runs on a worker thread */
typedef void (*authd_done_fn)(void *job);  /* then runs on the loop thread */

/* authd_pool_new - `threads` workers; completions arrive through an eventfd in base */
int authd_pool_new(struct event_base *base, int threads, struct authd_pool **ret);
/* authd_pool_submit - queue job; done(job) runs on the loop after work(job) */
int authd_pool_submit(struct authd_pool *p, authd_work_fn work, authd_done_fn done, void *job);
/* authd_pool_submit_by - the same; work is skipped if a worker takes job after deadline_us (mono) */
int authd_pool_submit_by(struct authd_pool *p, authd_work_fn work, authd_done_fn done, void *job,
			 int64_t deadline_us);
/* authd_pool_wait_us - when a job queued after `coming` more would be done (0: not yet measured) */
int64_t authd_pool_wait_us(struct authd_pool *p, size_t coming);
/* authd_pool_pending - jobs queued or running or waiting for done */
size_t authd_pool_pending(const struct authd_pool *p);
/* What the pool did, for metrics: updated when done runs, on the loop thread. */
struct authd_pool_stats {
	uint64_t done;    /* work ran */
	uint64_t skipped; /* the deadline had passed when a worker took it: not run */
	struct metrics_hist wait; /* queued until a worker took it */
	struct metrics_hist work; /* the work itself (a bcrypt hash or check) */
};
/* authd_pool_get_stats - what the workers did so far (loop thread) */
const struct authd_pool_stats *authd_pool_get_stats(const struct authd_pool *p);
/* authd_pool_threads - how many workers hash */
int authd_pool_threads(const struct authd_pool *p);
/* authd_pool_free - finish queued jobs, run their done, join; accepts NULL */
struct authd_pool *authd_pool_free(struct authd_pool *p);

/* ---- validate.c: every field of an account request --------------------- */

#define AUTHD_EMAIL_MAX 254
#define AUTHD_NAME_MAX_CHARS 100
#define AUTHD_NAME_MAX_BYTES 400 /* 100 code points of up to 4 bytes */

/*
 * authd_validate_email - trim, lower-case, at most 254 characters, one
 * '@', a dot in the domain, no spaces or control characters. On success
 * writes the normalised form to out; else *ret_why says what is wrong
 * ("must be a valid email address") and returns -EINVAL.
 */
int authd_validate_email(const char *in, char out[AUTHD_EMAIL_MAX + 1], const char **ret_why);
/* authd_validate_name - trim; 1..100 code points, valid UTF-8, no control characters */
int authd_validate_name(const char *in, char out[AUTHD_NAME_MAX_BYTES + 1], const char **ret_why);
/*
 * authd_validate_password - 12+ code points, <= 128 bytes, valid UTF-8,
 * no NUL; not on the common-password list nor equal to the email (both
 * case-insensitive). email may be NULL (password change checks it too).
 */
int authd_validate_password(const char *pw, size_t len, const char *email, const char **ret_why);
/* authd_password_is_common - on the shipped list (case-insensitive)? */
bool authd_password_is_common(const char *pw, size_t len);
/* authd_common_passwords_count - entries indexed (the first call builds the set) */
size_t authd_common_passwords_count(void);

/* ---- purge.c: expired sessions and old throttle rows ----------------- */

/* authd_purge_prepare - declare this file's statement on the async pool */
int authd_purge_prepare(struct authd *a);
/* authd_purge_start - run it soon after start, then every hour */
int authd_purge_start(struct authd *a);
/* authd_purge_soon - the next run in `seconds` (after an erasure: its sweep comes soon) */
void authd_purge_soon(struct authd *a, int seconds);
/* authd_purge_stop - cancel the timer */
void authd_purge_stop(struct authd *a);

/* ---- ipc.c ------------------------------------------------------------- */

extern const backend_handler_fn authd_handlers[_IPC_MSG_MAX];

/*
 * ---- the account side: calls.c, accounts.c, sessions.c, team.c, token.c,
 * throttle.c, audit.c, signal.c, reply.c. Everything below runs on the loop
 * thread except the work half of an authd_pw_job (a pool thread).
 */

struct json_t;

#define AUTHD_TIME_MAX 32   /* "2026-11-29T05:00:00.123Z" */
#define AUTHD_ROLE_MAX 8    /* "owner" "admin" "member" */
#define AUTHD_TOKEN_BYTES 20
#define AUTHD_TOKEN_HEX 40
#define AUTHD_TARGET_MAX 64 /* auth.call target bytes (ipc/messages.def) */
#define AUTHD_INVITE_BYTES 16
#define AUTHD_INVITE_HEX 32
#define AUTHD_HASH_BYTES 32 /* SHA-256 */
#define AUTHD_BYTEA_MAX (2 + 2 * AUTHD_HASH_BYTES) /* "\\x" + hex */
#define AUTHD_THROTTLE_MINUTE 5 /* failures in 60 s */
#define AUTHD_THROTTLE_HOUR 50  /* failures in an hour */

/* The caller of an op that needs a session: a live one, already checked. */
struct authd_session {
	char id[UTIL_UUID_LEN + 1];
	char user_id[UTIL_UUID_LEN + 1];
	char team_id[UTIL_UUID_LEN + 1];
	char email[AUTHD_EMAIL_MAX + 1];
	char name[AUTHD_NAME_MAX_BYTES + 1];
	char role[AUTHD_ROLE_MAX + 1];
	char team_name[AUTHD_NAME_MAX_BYTES + 1];
	char created_at[AUTHD_TIME_MAX];
	char expires_at[AUTHD_TIME_MAX];
	bool two_factor_required; /* the team requires two-factor login */
	bool two_factor_pending;  /* ... and this user has not turned it on */
	bool email_verified;      /* the user proved the email (set by the session lookup and login) */
};

/* ---- session_cache.c: live sessions in memory, coherent through NOTIFY ---- */

/* What decides whether a cached session is still live, and due a last_used_at write. */
struct authd_cache_times {
	int64_t idle_us;  /* [auth] session_idle_timeout (0: none) */
	int64_t touch_us; /* last_used_at is written at most this often */
};

/* authd_cache_init - an empty cache for at most max entries (0: never caches) */
int authd_cache_init(struct authd_cache *c, size_t max, int ttl_s);
/* authd_cache_done - free everything */
void authd_cache_done(struct authd_cache *c);
/* authd_cache_set_up - notifications flow (use the cache) or not (empty it, unused) */
void authd_cache_set_up(struct authd_cache *c, bool up);
/* authd_cache_clear - forget every entry; answers on their way are not kept */
void authd_cache_clear(struct authd_cache *c);
/*
 * authd_cache_get - the live session of hash, if the cache may answer:
 * 0 and *s (*touch: last_used_at is due a write, and the entry now counts
 * as used), or -ENOENT (ask PostgreSQL). Dead-looking or stale entries go.
 */
int authd_cache_get(struct authd_cache *c, const uint8_t hash[AUTHD_HASH_BYTES],
		    const struct authd_cache_times *t, struct authd_session *s, bool *touch);
/*
 * authd_cache_put - keep what PostgreSQL said of hash (asked at generation
 * gen; times relative to its answer), unless a change came meanwhile
 */
void authd_cache_put(struct authd_cache *c, const uint8_t hash[AUTHD_HASH_BYTES],
		     const struct authd_session *s, int64_t expires_in_us, int64_t used_ago_us,
		     uint64_t gen);
/* authd_cache_forget - hash's entry goes */
void authd_cache_forget(struct authd_cache *c, const uint8_t hash[AUTHD_HASH_BYTES]);
/* authd_cache_forget_session - the entry of session id goes */
void authd_cache_forget_session(struct authd_cache *c, const char *id);
/* authd_cache_forget_user - every entry of user_id goes */
void authd_cache_forget_user(struct authd_cache *c, const char *user_id);
/* authd_cache_notify - one notification of channel sembark_sessions (migrations/0007) */
void authd_cache_notify(struct authd_cache *c, const char *payload);

/* ---- totp.c: the second factor's primitives (RFC 4226/6238) ------------- */

#define AUTHD_TOTP_SECRET_BYTES 20 /* 160 bits, RFC 4226's recommendation */
#define AUTHD_TOTP_BASE32_MAX 32   /* the secret in base32 */
#define AUTHD_TOTP_DIGITS 6
#define AUTHD_TOTP_STEP 30         /* seconds */
#define AUTHD_TOTP_SKEW 1          /* steps accepted either side of now */
#define AUTHD_TOTP_ISSUER_MAX 64
#define AUTHD_TOTP_KEY_BYTES 32    /* crypto_aead_xchacha20poly1305_ietf_KEYBYTES */
#define AUTHD_TOTP_SEALED_BYTES (24 + AUTHD_TOTP_SECRET_BYTES + 16) /* nonce, box, tag */
#define AUTHD_RECOVERY_CODE_LEN 19 /* "abcd-efgh-ijkl-mnop" */

/* authd_totp_secret_new - a new secret from the CSPRNG */
void authd_totp_secret_new(uint8_t out[AUTHD_TOTP_SECRET_BYTES]);
/* authd_hotp - RFC 4226 code of counter (digits 6..8); UINT32_MAX on a bad argument */
uint32_t authd_hotp(const uint8_t *key, size_t len, uint64_t counter, unsigned digits);
/* authd_totp_check - 0 and the step, -EINVAL malformed, -EACCES wrong or step <= last_step */
int authd_totp_check(const uint8_t *key, size_t len, int64_t now, const char *code,
		     int64_t last_step, int64_t *ret_step);
/* authd_base32 - RFC 4648 base32, lower case, unpadded; its length, 0 if out is too small */
size_t authd_base32(const uint8_t *in, size_t len, char *out, size_t size);
/* authd_totp_uri - otpauth://totp/... for the enrolment QR code; -ENOBUFS if out is too small */
int authd_totp_uri(const char *issuer, const char *account,
		   const uint8_t secret[AUTHD_TOTP_SECRET_BYTES], char *out, size_t size);
/* authd_totp_seal - nonce || XChaCha20-Poly1305 box of secret, bound to user_id */
void authd_totp_seal(const uint8_t key[AUTHD_TOTP_KEY_BYTES], const char *user_id,
		     const uint8_t secret[AUTHD_TOTP_SECRET_BYTES],
		     uint8_t out[AUTHD_TOTP_SEALED_BYTES]);
/* authd_totp_open - the sealed secret of user_id; -EBADMSG when it does not open */
int authd_totp_open(const uint8_t key[AUTHD_TOTP_KEY_BYTES], const char *user_id,
		    const uint8_t sealed[AUTHD_TOTP_SEALED_BYTES],
		    uint8_t secret[AUTHD_TOTP_SECRET_BYTES]);
/* authd_recovery_code_new - a code to show once (80 bits) and the SHA-256 to store */
void authd_recovery_code_new(char out[AUTHD_RECOVERY_CODE_LEN + 1],
			     uint8_t hash[AUTHD_HASH_BYTES]);
/* authd_recovery_code_hash - SHA-256 of a typed code (case, blanks, dashes ignored); -EINVAL */
int authd_recovery_code_hash(const char *typed, uint8_t hash[AUTHD_HASH_BYTES]);

/* A second factor as a request gave it: a code, or a recovery code's hash. */
struct authd_second_factor {
	bool recovery;
	char code[AUTHD_TOTP_DIGITS + 1];
	uint8_t recovery_hash[AUTHD_HASH_BYTES];
};

#define AUTHD_TOTP_SEALED_HEX (2 * AUTHD_TOTP_SEALED_BYTES)
#define AUTHD_RECOVERY_CODES 10

/* ---- task.c: an op that waits for PostgreSQL without the loop waiting --- */

struct authd_task;
/* A step: continues an op with its statement's answer (r < 0: none; res valid during the call). */
typedef void (*authd_step_fn)(struct authd_task *t, int r, const PGresult *res);

/* What an op (auth.call context or password job) needs to wait for statements: its first member. */
struct authd_task {
	struct authd *a;
	struct rpc_request **reqp;  /* the owner's request: answered exactly once (NULL then) */
	int64_t deadline_us;        /* mono_us() the owner is due by; 0: the statement timeout */
	authd_step_fn step;
	bool waiting;
	char sqlstate[6];           /* of the last statement's SQL error, "" otherwise */
	void (*free)(struct authd_task *t); /* the owner's */
};

/* authd_task_query - run stmt for t; step continues with the answer (at once if it cannot be queued) */
void authd_task_query(struct authd_task *t, enum authd_stmt stmt, int n,
		      const char *const *params, authd_step_fn step);
/* authd_task_settle - the op returned: free its owner unless a statement is pending */
void authd_task_settle(struct authd_task *t);
/* authd_fire - a write nobody waits for (last_used_at, a dead row, a purge) */
void authd_fire(struct authd *a, enum authd_stmt stmt, int n, const char *const *params);
/* One statement a file declares: its table goes to authd_stmts_add at start. */
struct authd_stmt_def {
	enum authd_stmt id;
	const char *sql;
	int nparams;
};
/* authd_stmts_add - declare n statements on the pool (at start); -E2BIG when full */
int authd_stmts_add(struct authd *a, const struct authd_stmt_def *defs, size_t n);

/* ---- calls.c: auth.call -> the handlers of ipc/operations.def ---------- */

struct authd_ctx;
struct authd_pw_job;
typedef void (*authd_op_fn)(struct authd_ctx *c);

/* A member of the caller's team, as team.c reads and answers it. */
struct authd_member {
	char id[UTIL_UUID_LEN + 1];
	char name[AUTHD_NAME_MAX_BYTES + 1];
	char email[AUTHD_EMAIL_MAX + 1];
	char role[AUTHD_ROLE_MAX + 1];
	char joined_at[AUTHD_TIME_MAX];
};

/*
 * One auth.call on its way: the op's handler replies exactly once, now or
 * in a step (authd_task_query on c->t); the context lives until then.
 */
struct authd_ctx {
	struct authd_task t;     /* first: steps get &c->t */
	struct authd *a;
	struct rpc_request *req; /* NULL once replied (or handed to a job) */
	const struct ipc_op_info *op; /* its row of ipc/operations.def */
	const char *token;       /* "" when none (points into token_buf) */
	const char *target;      /* "" when none (points into target_buf) */
	char token_buf[AUTHD_TOKEN_HEX + 1];
	char target_buf[AUTHD_TARGET_MAX + 1];
	struct json_t *body;     /* parsed object, NULL unless the row has IPC_OPF_JSON */
	int64_t deadline_us;     /* mono_us() by which the caller wants the answer */
	struct authd_member member;          /* team.c: the member an op is about */
	char code[AUTHD_INVITE_HEX + 1];     /* team.c: a new invite code */
	struct authd_session s;  /* the caller, when op->who != IPC_WHO_ANYONE */
	struct {                 /* reauth.c: the passwords until its job takes them */
		const char *field, *what;
		void (*then)(struct authd_pw_job *j);
		char password[AUTHD_PASSWORD_MAX_BYTES + 1];
		size_t password_len;
		char new_password[AUTHD_PASSWORD_MAX_BYTES + 1];
		size_t new_password_len;
	} reauth;
	uint8_t reset_hash[AUTHD_HASH_BYTES]; /* recovery.c: the reset link's token hash */
	struct {                 /* two_factor.c */
		struct authd_second_factor f;
		char sealed[AUTHD_TOTP_SEALED_HEX + 1]; /* hex: a secret or a pending one */
		char on[2], enabled_at[AUTHD_TIME_MAX], codes_left[24]; /* the state read */
		int64_t last_step, step;
		uint8_t ticket_hash[AUTHD_HASH_BYTES];
		uint8_t email_hash[AUTHD_HASH_BYTES];
		char device[AUTHD_NAME_MAX_BYTES + 1];
		char token[AUTHD_TOKEN_HEX + 1];
		char codes[AUTHD_RECOVERY_CODES][AUTHD_RECOVERY_CODE_LEN + 1];
	} tf;
};

/* authd_op_find - authd's operation of this wire name, NULL when unknown or another's */
const struct ipc_op_info *authd_op_find(const char *wire);
/* authd_handle_call - decode auth.call, check session and role, run the op */
void authd_handle_call(struct backend *b, struct rpc_request *req, const void *buf, size_t len);
/* authd_handle_check - decode auth.check, answer auth.identity or error */
void authd_handle_check(struct backend *b, struct rpc_request *req, const void *buf, size_t len);

/* ---- fields.c: reading a body's fields and a row's columns ------------- */

/*
 * authd_field_str - body[key] as a string (no NUL inside, jansson refuses
 * those), or NULL after adding "is required" / "must be a string" to
 * fields. optional: absence (or null) is fine and gives NULL silently.
 */
const char *authd_field_str(struct json_t *body, const char *key, struct json_t *fields,
			    bool optional, size_t *ret_len);
/* authd_field_set - fields[key] = why, keeping the first reason per key */
void authd_field_set(struct json_t *fields, const char *key, const char *why);

/* One text column of a result row copied into buf (bounds-checked). */
struct authd_col {
	char *buf;
	size_t size;
};
/* authd_get_texts - columns 0..n-1 of row into cols; 0 or the first db_get_text error */
int authd_get_texts(const PGresult *res, int row, const struct authd_col *cols, size_t n);
#define AUTHD_COL(x) ((struct authd_col){ (x), sizeof(x) })
/* authd_one_row - res's only row into cols: 0; -ENOENT: no row or several; -EIO: a column too long */
int authd_one_row(const PGresult *res, const struct authd_col *cols, size_t n);

/* A timestamptz column as RFC 3339 UTC with milliseconds, whatever the session's TimeZone. */
#define AUTHD_SQL_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* ---- accounts.c: signup, invite.get/accept, login, token --------------- */

void authd_op_signup(struct authd_ctx *c);
void authd_op_invite_get(struct authd_ctx *c);
void authd_op_invite_accept(struct authd_ctx *c);
void authd_op_login(struct authd_ctx *c);
void authd_op_token(struct authd_ctx *c);
/* authd_accounts_prepare - declare this file's statements on the async pool */
int authd_accounts_prepare(struct authd *a);

/* ---- pw_job.c: a password verify/hash on the pool, finished on the loop - */

/*
 * struct authd_pw_job - a password verify and/or hash on the pool, and
 * what its finish (on the loop) needs. Passwords live only here and are
 * wiped by authd_pw_job_free.
 */
struct authd_pw_job {
	struct authd_task t;                /* first: its statements run in steps */
	struct authd *a;
	struct rpc_request *req;            /* replied by finish */
	int64_t deadline_us;                /* mono_us() the answer is due by; 0: none */
	bool worked;                        /* the pool ran it (not dropped past its deadline) */
	bool coming;                        /* admitted, not yet on the pool: counted by admission */
	void (*finish)(struct authd_pw_job *j); /* then the job is freed */
	struct authd_hash_policy policy;
	bool do_verify, do_hash;            /* work: verify password; hash (new_)password */
	int verify_r, hash_r;
	char stored[AUTHD_HASH_MAX];        /* verify against this */
	char hash[AUTHD_HASH_MAX];          /* the new hash */
	char password[AUTHD_PASSWORD_MAX_BYTES + 1];
	size_t password_len;
	char new_password[AUTHD_PASSWORD_MAX_BYTES + 1]; /* password change: hashed */
	size_t new_password_len;
	bool known;                         /* login: the email has an account */
	bool native;                        /* token op: no cookie, 201 {token} */
	struct authd_session s;             /* account or caller */
	uint8_t email_hash[AUTHD_HASH_BYTES];
	char device[AUTHD_NAME_MAX_BYTES + 1];
	char team_name[AUTHD_NAME_MAX_BYTES + 1];
	uint8_t invite_hash[AUTHD_HASH_BYTES]; /* invite.accept */
	uint8_t reset_hash[AUTHD_HASH_BYTES];  /* password.reset: the link's token hash */
	char token[AUTHD_TOKEN_HEX + 1];     /* the new session's, until answered */
	char code[AUTHD_INVITE_HEX + 1];     /* sign-up: the team's first invite code */
	struct authd_second_factor factor;  /* token op: the code sent with the password */
	char totp_sealed[AUTHD_TOTP_SEALED_HEX + 1]; /* login: the account's sealed secret, "" when off */
	int64_t totp_last_step;
	void (*factor_passed)(struct authd_pw_job *j); /* native two-factor login: then */
	uint8_t totp_secret[AUTHD_TOTP_SECRET_BYTES]; /* enrolment: the new secret, until answered */
	const char *reauth_field, *reauth_what; /* reauth.c: wrong password's field, log word */
	void (*reauth_then)(struct authd_pw_job *j); /* ... and what runs once it is proven */
};

/* authd_pw_job_new - zeroed job for req (taken from *req; NULL is fine), due by deadline_us */
struct authd_pw_job *authd_pw_job_new(struct authd *a, struct rpc_request **req,
				      int64_t deadline_us, void (*finish)(struct authd_pw_job *j));
/* authd_pw_admit - can the pool hash for c before its deadline? Else answers 503 + Retry-After */
bool authd_pw_admit(struct authd_ctx *c);
/* authd_pw_job_free - wipe (passwords) and free; accepts NULL */
void authd_pw_job_free(struct authd_pw_job *j);
/* authd_pw_job_submit - run on the pool (j waits for it); on failure answers 503 */
int authd_pw_job_submit(struct authd_pw_job *j);
/* authd_pw_job_start - begin j's work with begin(j), then settle it (freed if it is over) */
void authd_pw_job_start(struct authd_pw_job *j, void (*begin)(struct authd_pw_job *j));

/* ---- two_factor.c: two-factor login (TOTP), enrolment and second step ---- */

/* ---- verify.c: proving an email ---------------------------------------------- */

/*
 * AUTHD_SQL_VERIFY_MAIL - two data-modifying CTEs, "ev" and "em": for each
 * row (id, email, name) of `from`, an email_verifications row (token hash
 * `hash`, a bytea parameter; 24 hours) and a verify_email mail carrying
 * `token` (a text parameter; maild makes the link with [ingress]
 * public_origin), inside the statement that made the account
 */
#define AUTHD_SQL_VERIFY_MAIL(from, hash, token) \
	"ev AS (INSERT INTO email_verifications (token_hash, user_id, expires_at) "      \
	"SELECT " hash "::bytea, id, now() + interval '24 hours' FROM " from "), "        \
	"em AS (INSERT INTO mail_outbox (user_id, to_addr, template, params) "            \
	"SELECT id, email, 'verify_email', jsonb_build_object('name', name, 'token', "    \
	token "::text) FROM " from ")"

/* authd_verify_prepare - declare this file's statements on the async pool */
int authd_verify_prepare(struct authd *a);
/*
 * authd_link_token_field - body.token of a mailed link (reset, verification):
 * its SHA-256 into hash, or a field error in fields ("is required", "must
 * be a string", or the dead-link words for anything not 40 hex)
 */
void authd_link_token_field(struct authd_ctx *c, struct json_t *fields,
			    uint8_t hash[AUTHD_HASH_BYTES]);
/* authd_reply_link_dead - 422 {token: the dead-link words}: a link unknown, used or expired */
void authd_reply_link_dead(struct rpc_request **req);
/* authd_mail_token - a fresh link token (40 hex, for the mail) and its SHA-256 as a parameter */
void authd_mail_token(char token[AUTHD_TOKEN_HEX + 1], char hash[AUTHD_BYTEA_MAX + 1]);
/* authd_verify_resend - a new link for user_id (within the hourly limit), not waited for */
void authd_verify_resend(struct authd *a, const char *user_id);
/* authd_op_email_verify - {token}: the link's account has a verified email */
void authd_op_email_verify(struct authd_ctx *c);
/* authd_op_email_status - GET /api/me/verification: {email, email_verified} */
void authd_op_email_status(struct authd_ctx *c);
/* authd_op_email_resend - a new verification link for the caller (202; none once verified) */
void authd_op_email_resend(struct authd_ctx *c);

/* ---- recovery.c: a forgotten password ---------------------------------------- */

/* authd_recovery_prepare - declare this file's statements on the async pool */
int authd_recovery_prepare(struct authd *a);
/* authd_op_password_forgot - {email}: a reset link mailed if an account has it; 202 either way */
void authd_op_password_forgot(struct authd_ctx *c);
/* authd_op_password_reset - {token, new_password}: the link's account gets the new password */
void authd_op_password_reset(struct authd_ctx *c);

/* ---- privacy.c: export and erasure ------------------------------------------ */

/* authd_privacy_prepare - declare this file's statements on the async pool */
int authd_privacy_prepare(struct authd *a);
/* authd_op_me_export - everything stored about the caller, one JSON document */
void authd_op_me_export(struct authd_ctx *c);
/* authd_op_me_delete - {password}: the caller's account erased (an owner alone: the team too) */
void authd_op_me_delete(struct authd_ctx *c);
/* authd_op_team_delete - {password}: the owner erases the team and every member */
void authd_op_team_delete(struct authd_ctx *c);

/* authd_two_factor_prepare - declare this file's statements on the async pool */
int authd_two_factor_prepare(struct authd *a);
/* authd_two_factor_load_key - [auth] totp_key_file / credential totp-key; none: off (0) */
int authd_two_factor_load_key(struct authd *a);
/* authd_two_factor_free_key - wipe and free the key */
void authd_two_factor_free_key(struct authd *a);
/*
 * authd_two_factor_field - body[key] (a 6-digit code) or body.recovery_code
 * into f; required: neither is a field error. false when absent (not
 * required) or after a field error was added.
 */
bool authd_two_factor_field(struct json_t *body, const char *key, bool required,
			    struct json_t *fields, struct authd_second_factor *f);
/*
 * authd_two_factor_login - j's password was right and its account has
 * two-factor on: a browser login answers 202 with a ticket for POST
 * /api/login/totp; a native one checks j->factor and runs passed(j) when
 * it is right (401 when missing or wrong).
 */
void authd_two_factor_login(struct authd_pw_job *j, void (*passed)(struct authd_pw_job *j));
/* authd_qr_path - text as a QR code: SVG path of its dark modules (malloc'ed), its width */
int authd_qr_path(const char *text, char **ret_path, int *ret_size);
void authd_op_login_totp(struct authd_ctx *c);
void authd_op_totp_status(struct authd_ctx *c);
void authd_op_totp_begin(struct authd_ctx *c);
void authd_op_totp_confirm(struct authd_ctx *c);
void authd_op_totp_disable(struct authd_ctx *c);
void authd_op_team_update(struct authd_ctx *c);

/* ---- reauth.c: a signed-in caller proves their password again ------------ */

/*
 * authd_reauth - c's caller proves pw (len bytes) for `what` (a log word),
 * throttled and counted like a login; new_pw (NULL: none) is hashed on the
 * same pool visit into j->hash. A wrong password is 422 with field "is
 * incorrect"; a right one runs then(j) (j->s is the caller), which answers.
 */
void authd_reauth(struct authd_ctx *c, const char *pw, size_t len, const char *new_pw,
		  size_t new_len, const char *field, const char *what,
		  void (*then)(struct authd_pw_job *j));
/* authd_reauth_body - authd_reauth with the body's "password" (422 when it is absent) */
void authd_reauth_body(struct authd_ctx *c, const char *what,
		       void (*then)(struct authd_pw_job *j));

/* ---- sessions.c: the session a token names, and the session ops --------- */

/* A session lookup's answer: r == 0 with s, else r < 0 and s NULL. */
typedef void (*authd_session_fn)(int r, const struct authd_session *s, void *userdata);
/*
 * authd_session_find - the live session of token (40 lowercase hex),
 * without waiting: absolute expiry and idle timeout checked, last_used_at
 * touched at most once a minute, a dead row deleted (neither waited for).
 * cb runs exactly once, maybe before this returns: r == 0; -ENOENT (no
 * live session); -ENOTCONN, -ETIMEDOUT, -EIO, -EAGAIN, -ENOMEM (logged).
 */
void authd_session_find(struct authd *a, const char *token, authd_session_fn cb, void *userdata);
/* authd_sessions_prepare - declare this file's statements on the async pool */
int authd_sessions_prepare(struct authd *a);
/* authd_sessions_listen - (before pgq_start) the session cache hears of changes, when it is on */
int authd_sessions_listen(struct authd *a);
/*
 * authd_session_create - a new session of user_id named device, for t: a
 * fresh token (never reused) into token, the row inserted; step reads the
 * row with authd_session_created.
 */
void authd_session_create(struct authd_task *t, const char *user_id, const char *device,
			  char token[AUTHD_TOKEN_HEX + 1], authd_step_fn step);
/* authd_session_created - the new row's id/created_at/expires_at into s: 0 or -EIO */
int authd_session_created(const PGresult *res, struct authd_session *s);
void authd_op_me(struct authd_ctx *c);
void authd_op_logout(struct authd_ctx *c);
void authd_op_password(struct authd_ctx *c);
void authd_op_sessions(struct authd_ctx *c);
void authd_op_session_revoke(struct authd_ctx *c);
void authd_op_sessions_revoke_others(struct authd_ctx *c);

/* ---- team.c: team, invite link, members --------------------------------- */

/* authd_team_prepare - declare this file's statements on the async pool */
int authd_team_prepare(struct authd *a);
void authd_op_team(struct authd_ctx *c);
void authd_op_team_invite(struct authd_ctx *c);
void authd_op_team_invite_rotate(struct authd_ctx *c);
void authd_op_member_update(struct authd_ctx *c);
void authd_op_member_remove(struct authd_ctx *c);
/* authd_invite_url - <[ingress] public_origin>/join/<code> into out */
int authd_invite_url(const struct authd *a, const char *code, char *out, size_t size);

/* ---- token.c: session tokens and invite codes --------------------------- */

/* authd_sha256 - SHA-256 of len bytes */
void authd_sha256(const void *in, size_t len, uint8_t out[AUTHD_HASH_BYTES]);
/* authd_bytea - "\\x<64 hex>", a SHA-256 as a bytea text parameter */
void authd_bytea(const uint8_t hash[AUTHD_HASH_BYTES], char out[AUTHD_BYTEA_MAX + 1]);
/* authd_token_new - 20 CSPRNG bytes as 40 hex, and their SHA-256 */
void authd_token_new(char out[AUTHD_TOKEN_HEX + 1], uint8_t hash[AUTHD_HASH_BYTES]);
/* authd_token_hash - SHA-256 of a well-formed token; -EINVAL otherwise */
int authd_token_hash(const char *token, uint8_t out[AUTHD_HASH_BYTES]);
/* authd_invite_new - 16 CSPRNG bytes as 32 hex, and their SHA-256 */
void authd_invite_new(char out[AUTHD_INVITE_HEX + 1], uint8_t hash[AUTHD_HASH_BYTES]);
/* authd_invite_hash - SHA-256 of a well-formed invite code; -EINVAL otherwise */
int authd_invite_hash(const char *code, uint8_t out[AUTHD_HASH_BYTES]);
/* authd_hash_equal_hex - does hex (64 chars, from the database) name hash? constant time */
bool authd_hash_equal_hex(const char *hex, const uint8_t hash[AUTHD_HASH_BYTES]);

/* ---- throttle.c: failed logins per email, in PostgreSQL ----------------- */

/* authd_throttle_key - SHA-256 of the normalised email */
void authd_throttle_key(const char *email, uint8_t out[AUTHD_HASH_BYTES]);
/* authd_throttle_prepare - declare this file's statements on the async pool */
int authd_throttle_prepare(struct authd *a);
/* authd_throttle_check - how long key must wait; step gets the answer (authd_throttle_wait) */
void authd_throttle_check(struct authd_task *t, const uint8_t key[AUTHD_HASH_BYTES],
			  authd_step_fn step);
/* authd_throttle_wait - from the check's answer: 0 to go on, else the seconds to wait */
int64_t authd_throttle_wait(const PGresult *res);
/* authd_throttle_fail - count one failure (before verifying: pessimistic); then step */
void authd_throttle_fail(struct authd_task *t, const uint8_t key[AUTHD_HASH_BYTES],
			 authd_step_fn step);
/* authd_throttle_clear - a success: forget the email's failures; then step */
void authd_throttle_clear(struct authd_task *t, const uint8_t key[AUTHD_HASH_BYTES],
			  authd_step_fn step);

/* ---- audit.c: the audit outbox (migrations/0008_audit_outbox.sql) --------- */

/*
 * AUTHD_SQL_AUDIT - a data-modifying CTE, "audit", that writes one audit
 * event per row of `from` into audit_outbox inside the action's own
 * statement: the event commits with the action or not at all, and logd
 * moves it into audit_events. Each argument is an SQL expression (a
 * column of `from`, a parameter with its cast, a literal or NULL); `from`
 * may end in a WHERE. Emails, never a token, password or address.
 */
#define AUTHD_SQL_AUDIT(event, team_id, actor_id, actor_email, subject_id, subject_email, from) \
	"audit AS (INSERT INTO audit_outbox (event, team_id, actor_id, actor_email, "      \
	"subject_id, subject_email) SELECT " event ", " team_id ", " actor_id ", "         \
	actor_email ", " subject_id ", " subject_email " FROM " from ")"

/* authd_audit_prepare - declare this file's statement on the async pool */
int authd_audit_prepare(struct authd *a);
/*
 * authd_audit_login_failed - the one event without an action of its own:
 * login_failed for s's user into the outbox, not waited for (so a known
 * email's 401 takes the time of an unknown one's)
 */
void authd_audit_login_failed(struct authd *a, const struct authd_session *s);

/* ---- signal.c: sign_in / sign_out to telemetryd --------------------------- */

/* authd_signal_open - the DEALER to [ipc] telemetryd */
int authd_signal_open(struct authd *a);
/* authd_signal - telemetry.signal{event, user, team}; failures only logged at debug */
void authd_signal(struct authd *a, const char *event, const char *user_id, const char *team_id);
/* authd_signal_pending - signals still waiting for their ack */
size_t authd_signal_pending(const struct authd *a);

/* ---- reply.c: api.reply frames -------------------------------------------- */

struct authd_reply_extra {
	const char *set_token;  /* NULL: none */
	int64_t token_max_age;  /* with set_token */
	bool clear_token;
	int64_t retry_after;    /* > 0: for 429 */
};

/*
 * authd_reply - api.reply{status, body (JSON, stolen; NULL = empty), extra}
 * and *req = NULL. A frame that cannot be built becomes a 503.
 */
void authd_reply(struct rpc_request **req, int status, struct json_t *body,
		 const struct authd_reply_extra *extra);
/* authd_reply_error - {"error": code, "message": message} with status */
void authd_reply_error(struct rpc_request **req, int status, const char *code,
		       const char *message);
/* authd_reply_invalid - 422 validation_failed with fields (stolen) */
void authd_reply_invalid(struct rpc_request **req, struct json_t *fields);
/* authd_reply_db - a database failure r (sqlstate: of an SQL error): logged, answered 503 */
void authd_reply_db(struct rpc_request **req, int r, const char *sqlstate, const char *what);
/* authd_reply_unauthenticated - 401 unauthenticated; clears a cookie that was sent */
void authd_reply_unauthenticated(struct rpc_request **req, bool had_token);
/* authd_reply_throttled - 429 too_many_requests with retry_after */
void authd_reply_throttled(struct rpc_request **req, int64_t retry_after);
/* authd_reply_signed_in - status {"user","team"} (+ body's members, stolen) with s's session cookie */
void authd_reply_signed_in(struct authd *a, struct rpc_request **req,
			   const struct authd_session *s, const char *token, int status,
			   struct json_t *body);
/* authd_json_user - {id, email, name, role} of s */
struct json_t *authd_json_user(const struct authd_session *s);
/* authd_json_team - {id, name} of s's team */
struct json_t *authd_json_team(const struct authd_session *s);

#endif
