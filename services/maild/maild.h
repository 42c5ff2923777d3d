/*
 * maild.h - sembark-maild's private types and prototypes, grouped by the
 * file that defines them.
 *
 * sembark-maild is the only process that speaks SMTP. It takes the mails
 * authd queued in mail_outbox (migration 0012: each written inside the
 * statement of its action), renders each from a plain-text template of
 * the repository, hands it to the relay of [mail] relay with libcurl
 * (STARTTLS required unless [mail] require_tls is off), and forgets it
 * only once the relay accepted it; a failed try is tried again with
 * backoff (30 s doubling to 1 h), at most [mail] max_attempts times. It
 * reads nothing else and listens on no socket: the database role
 * sembark_maild may only select, update and delete mail_outbox.
 */
#ifndef MAILD_H
#define MAILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define BACKEND_ROLE_MAILD "sembark_maild"
#define MAILD_DB_CONNS 1
#define MAILD_BATCH 10              /* mails taken at once */
#define MAILD_POLL_S 5              /* looks for due mails this often (and at each NOTIFY) */
#define MAILD_LEASE_S 600           /* a taken mail is not due again before this (a crash) */
#define MAILD_RETRY_MIN_S 30
#define MAILD_RETRY_MAX_S 3600
#define MAILD_NOTIFY_CHANNEL "sembark_mail"
#define MAILD_ERROR_MAX 200         /* a failure as stored and logged: no host, no address */

struct smtp;
struct mail_job;

enum maild_stmt {
	MAILD_STMT_CLAIM,
	MAILD_STMT_SENT,
	MAILD_STMT_RETRY,
	_MAILD_STMT_MAX,
};

struct maild {
	struct backend b;         /* first: role sembark_maild on b.pgq */
	int stmt[_MAILD_STMT_MAX];
	struct smtp *smtp;
	struct event *poll_timer;
	struct secret *password;  /* [mail] password_file / credential mail-password; NULL: none */
	bool claiming;            /* a CLAIM statement is on its way */
	bool again;               /* woken while busy: look once more after */
	size_t inflight;          /* mails being handed to the relay */
	bool warned_no_relay;
	uint64_t sent, failed, given_up; /* since start, for the log at stop */
};

/* ---- render.c: a mail from its template (pure) ---------------------------- */

#define MAIL_TEXT_MAX 16384

/* The values a template may use: {{name}}, {{token}} (a link's), {{origin}}. */
struct mail_values {
	const char *name;
	const char *token;
	const char *origin;
};

/*
 * maild_render - the whole message (headers and body, CRLF lines) of
 * template `name` for recipient `to`, from `from`, at time now (unix
 * seconds), with message id `msgid` (hex): its length, -ENOENT (no such
 * template), -EINVAL (an address that could break a header) or -ENOBUFS
 */
int maild_render(const char *name, const struct mail_values *v, const char *from, const char *to,
		 int64_t now, const char *msgid, char *out, size_t size);

/* ---- smtp.c: libcurl's SMTP on the loop (curl multi, libevent) ------------- */

/* A mail's delivery ended: ok, else a failure text (no host or address) and whether to retry. */
typedef void (*smtp_done_fn)(void *userdata, bool ok, bool permanent, const char *why);

/* smtp_new - curl's multi handle on base; 0 or -errno */
int smtp_new(struct event_base *base, struct smtp **ret);
/* smtp_free - what is under way is abandoned (its done never runs); accepts NULL */
struct smtp *smtp_free(struct smtp *s);
/*
 * smtp_send - hand message (len bytes, copied) from `from` to `to` to the
 * relay of cfg [mail]; done(userdata, ...) runs once, later, on the loop.
 * 0 or -errno (then done never runs).
 */
int smtp_send(struct smtp *s, const struct maild *m, const char *to, const char *message,
	      size_t len, smtp_done_fn done, void *userdata);
/* smtp_inflight - deliveries under way */
size_t smtp_inflight(const struct smtp *s);

/* ---- outbox.c: taking due mails, forgetting delivered ones ---------------- */

/* maild_outbox_prepare - declare the statements on the pool */
int maild_outbox_prepare(struct maild *m);
/* maild_outbox_start - LISTEN, the poll timer, a first look */
int maild_outbox_start(struct maild *m);
/* maild_outbox_stop - the timer goes; what is under way stays in the outbox */
void maild_outbox_stop(struct maild *m);
/* maild_backoff_s - seconds before try `attempts` + 1 */
int maild_backoff_s(int attempts);

#endif
