/*
 * outbox.c - maild's work: take the due mails of mail_outbox (at start,
 * at each NOTIFY on sembark_mail, and every MAILD_POLL_S), at most
 * MAILD_BATCH at once, each leased for MAILD_LEASE_S by the same UPDATE
 * that takes it (FOR UPDATE SKIP LOCKED: several mailds never take one
 * mail twice, and one that dies leaves its mails due again once the lease
 * ends); render and hand each to the relay (smtp.c); then forget a
 * delivered mail, or set the next try (maild_backoff_s) with the failure
 * in words, or give it up after [mail] max_attempts tries or a permanent
 * (5xx) refusal. With no [mail] relay it takes nothing: the mails wait.
 * Logs say which template and whose (user id), never the address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "maild.h"
#include "util.h"

static const char s_claim_sql[] =
	"UPDATE mail_outbox SET attempts = attempts + 1, "
	"next_attempt_at = now() + make_interval(secs => $1::int) "
	"WHERE id IN (SELECT id FROM mail_outbox WHERE next_attempt_at <= now() "
	"             ORDER BY next_attempt_at, id LIMIT $2::int FOR UPDATE SKIP LOCKED) "
	"RETURNING id::text, user_id::text, to_addr, template, params::text, attempts::text";
static const char s_sent_sql[] = "DELETE FROM mail_outbox WHERE id = $1::bigint";
static const char s_retry_sql[] =
	"UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => $2::int), "
	"last_error = $3 WHERE id = $1::bigint";

/* One mail on its way. */
struct outgoing {
	struct maild *m;
	char id[24];
	char user_id[UTIL_UUID_LEN + 1];
	char template[32];
	int attempts;
};

static void s_wake(struct maild *m);

/* maild_backoff_s - seconds before try `attempts` + 1: 30 s doubling, at most an hour */
int maild_backoff_s(int attempts)
{
	int s = MAILD_RETRY_MIN_S;

	for (int i = 1; i < attempts && s < MAILD_RETRY_MAX_S; i++)
		s *= 2;
	return s < MAILD_RETRY_MAX_S ? s : MAILD_RETRY_MAX_S;
}

/* maild_outbox_prepare - declare the statements on the pool */
int maild_outbox_prepare(struct maild *m)
{
	static const struct {
		enum maild_stmt id;
		const char *sql;
		int n;
	} defs[] = {
		{ MAILD_STMT_CLAIM, s_claim_sql, 2 },
		{ MAILD_STMT_SENT, s_sent_sql, 1 },
		{ MAILD_STMT_RETRY, s_retry_sql, 3 },
	};

	for (size_t i = 0; i < ELEMENTSOF(defs); i++) {
		int r = pgq_statement(m->b.pgq, defs[i].sql, defs[i].n);

		if (r < 0)
			return r;
		m->stmt[defs[i].id] = r;
	}
	return 0;
}

static void s_noted(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct maild *m = userdata;

	(void)res;
	if (r < 0 && r != -ECANCELED)
		log_warning_errno(r, "cannot record a mail's outcome: it is sent again after its lease",
				  LOG_S("sqlstate", sqlstate));
	if (r != -ECANCELED && --m->inflight == 0)
		s_wake(m); /* the batch is over: more may be due */
}

static void s_note(struct outgoing *o, int stmt, int n, const char *const *params)
{
	struct maild *m = o->m;

	free(o);
	if (pgq_run(m->b.pgq, m->stmt[stmt], n, params, m->b.d.cfg.database.statement_timeout_ms,
		    s_noted, m, NULL) < 0)
		s_noted(-EIO, NULL, "", m);
}

/* s_delivered - the relay's verdict on one mail */
static void s_delivered(void *userdata, bool ok, bool permanent, const char *why)
{
	struct outgoing *o = userdata;
	struct maild *m = o->m;
	char secs[16], id[sizeof(o->id)];

	snprintf(id, sizeof(id), "%s", o->id);
	if (ok) {
		m->sent++;
		log_info("mail sent", LOG_S("template", o->template), LOG_S("user_id", o->user_id),
			 LOG_I("attempt", o->attempts));
		s_note(o, MAILD_STMT_SENT, 1, (const char *const[]){ id });
		return;
	}
	if (permanent || o->attempts >= m->b.d.cfg.mail.max_attempts) {
		m->given_up++;
		log_warning("mail given up", LOG_S("template", o->template),
			    LOG_S("user_id", o->user_id), LOG_I("attempts", o->attempts),
			    LOG_S("error", why));
		s_note(o, MAILD_STMT_SENT, 1, (const char *const[]){ id });
		return;
	}
	m->failed++;
	snprintf(secs, sizeof(secs), "%d", maild_backoff_s(o->attempts));
	log_warning("mail not sent, will retry", LOG_S("template", o->template),
		    LOG_S("user_id", o->user_id), LOG_I("attempt", o->attempts),
		    LOG_S("retry_in_s", secs), LOG_S("error", why));
	s_note(o, MAILD_STMT_RETRY, 3, (const char *const[]){ id, secs, why });
}

/* s_send_row - render row i of a CLAIM answer and hand it to the relay */
static void s_send_row(struct maild *m, const PGresult *res, int i)
{
	char to[256], params[4096], attempts[16], msgid[33], text[MAIL_TEXT_MAX];
	struct outgoing *o = calloc(1, sizeof(*o));
	json_t *p = NULL;
	struct mail_values v;
	int n = -ENOMEM;

	if (o) {
		o->m = m;
		n = db_get_text(res, i, 0, o->id, sizeof(o->id));
		if (n >= 0)
			n = db_get_text(res, i, 1, o->user_id, sizeof(o->user_id));
		if (n >= 0)
			n = db_get_text(res, i, 2, to, sizeof(to));
		if (n >= 0)
			n = db_get_text(res, i, 3, o->template, sizeof(o->template));
		if (n >= 0)
			n = db_get_text(res, i, 4, params, sizeof(params));
		if (n >= 0)
			n = db_get_text(res, i, 5, attempts, sizeof(attempts));
	}
	if (n >= 0) {
		o->attempts = atoi(attempts);
		p = json_loads(params, 0, NULL);
		v = (struct mail_values){
			.name = json_string_value(json_object_get(p, "name")),
			.token = json_string_value(json_object_get(p, "token")),
			.origin = m->b.d.cfg.ingress.public_origin,
		};
		randombytes_buf(text, 16);
		sodium_bin2hex(msgid, sizeof(msgid), (const unsigned char *)text, 16);
		n = maild_render(o->template, &v, m->b.d.cfg.mail.from, to, now_us() / 1000000, msgid,
				 text, sizeof(text));
		json_decref(p);
	}
	if (n >= 0)
		n = smtp_send(m->smtp, m, to, text, (size_t)n, s_delivered, o);
	sodium_memzero(params, sizeof(params));
	sodium_memzero(text, sizeof(text));
	if (n < 0) {
		log_error_errno(n, "cannot send a mail (bad row or out of memory)",
				LOG_S("template", o ? o->template : ""));
		if (o) /* as a failed try: retried later, given up in the end */
			s_delivered(o, false, false, "cannot render or queue the mail");
		else
			m->inflight--;
	}
}

static void s_claimed(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct maild *m = userdata;
	int rows;

	m->claiming = false;
	if (r == -ECANCELED)
		return;
	if (r < 0) {
		log_debug("cannot take due mails", LOG_S("sqlstate", sqlstate));
		return; /* the poll timer tries again */
	}
	rows = PQntuples(res);
	m->inflight = (size_t)rows;
	for (int i = 0; i < rows; i++)
		s_send_row(m, res, i);
	if (rows == 0 && m->again) {
		m->again = false;
		s_wake(m);
	}
}

/* s_wake - take due mails, unless a batch is on its way (then once more after it) */
static void s_wake(struct maild *m)
{
	const struct sembark_config *cfg = &m->b.d.cfg;
	char lease[16], batch[16];

	if (!cfg->mail.relay[0]) {
		if (!m->warned_no_relay)
			log_warning("no [mail] relay configured: mails stay queued in the outbox");
		m->warned_no_relay = true;
		return;
	}
	if (m->claiming || m->inflight > 0 || m->b.d.stopping) {
		m->again = true;
		return;
	}
	snprintf(lease, sizeof(lease), "%d", MAILD_LEASE_S);
	snprintf(batch, sizeof(batch), "%d", MAILD_BATCH);
	m->claiming = true;
	if (pgq_run(m->b.pgq, m->stmt[MAILD_STMT_CLAIM], 2, (const char *const[]){ lease, batch },
		    cfg->database.statement_timeout_ms, s_claimed, m, NULL) < 0)
		m->claiming = false;
}

static void s_heard(enum pgq_listen_event ev, const char *payload, void *userdata)
{
	(void)payload;
	if (ev != PGQ_LISTEN_DOWN)
		s_wake(userdata);
}

static void s_on_poll(evutil_socket_t fd, short what, void *userdata)
{
	(void)fd;
	(void)what;
	s_wake(userdata);
}

/* maild_outbox_start - LISTEN (before pgq_start), the poll timer */
int maild_outbox_start(struct maild *m)
{
	struct timeval tv = { MAILD_POLL_S, 0 };
	int r = pgq_listen(m->b.pgq, MAILD_NOTIFY_CHANNEL, s_heard, m);

	if (r < 0)
		return r;
	m->poll_timer = event_new(m->b.d.base, -1, EV_PERSIST, s_on_poll, m);
	if (!m->poll_timer || event_add(m->poll_timer, &tv) < 0)
		return -ENOMEM;
	return 0;
}

/* maild_outbox_stop - the timer goes; what is under way stays in the outbox */
void maild_outbox_stop(struct maild *m)
{
	if (m->poll_timer)
		event_free(m->poll_timer);
	m->poll_timer = NULL;
}
