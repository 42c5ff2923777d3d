/*
 * main.c - sembark-maild's start-up and shutdown: config, database role
 * sembark_maild on an asynchronous pool (connected in the background),
 * the SMTP password (credential mail-password or [mail] password_file,
 * when [mail] username is set), libcurl's multi handle on the loop, the
 * LISTEN on sembark_mail and the poll timer (outbox.c), dropping root to
 * [mail] user, READY=1, the loop. It binds no socket. On SIGTERM it takes
 * no more mails and lets the deliveries under way end (until the stop
 * deadline); a mail cut off stays in the outbox and is tried again when
 * its lease ends.
 */
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "log.h"
#include "maild.h"
#include "secret.h"

static void s_on_stop(void *userdata)
{
	maild_outbox_stop(userdata);
}

static int s_drain(void *userdata)
{
	const struct maild *m = userdata;
	size_t n = smtp_inflight(m->smtp) + m->inflight;

	return n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
}

static int s_load_password(struct maild *m)
{
	const struct sembark_config *cfg = &m->b.d.cfg;
	int r;

	if (!cfg->mail.username[0])
		return 0;
	r = secret_load("mail-password", cfg->mail.password_file, &m->password);
	if (r == -ENOENT && !cfg->mail.password_file[0]) {
		log_warning("[mail] username is set but no password (credential mail-password or "
			    "[mail] password_file): SMTP AUTH without one");
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "cannot read the SMTP password",
				       LOG_S("credential", "mail-password"),
				       LOG_S("file", cfg->mail.password_file));
	return 0;
}

static int s_open_pool(struct maild *m)
{
	int r = pgq_new(m->b.d.base, m->b.db, MAILD_DB_CONNS, &m->b.pgq);

	if (r >= 0)
		r = maild_outbox_prepare(m);
	if (r >= 0)
		r = maild_outbox_start(m);
	if (r >= 0)
		r = pgq_start(m->b.pgq);
	if (r < 0)
		return log_error_errno(r, "cannot set up the asynchronous database pool");
	return 0;
}

static int s_run(struct maild *m)
{
	const struct sembark_config *cfg = &m->b.d.cfg;
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return log_error_errno(-EIO, "cannot initialise libcurl");
	r = backend_open_db(&m->b.d, BACKEND_ROLE_MAILD, "db-maild-password",
			    cfg->database.maild_password_file, &m->b.db);
	if (r >= 0)
		r = s_load_password(m);
	if (r >= 0)
		r = smtp_new(m->b.d.base, &m->smtp);
	if (r < 0)
		return r;
	r = s_open_pool(m);
	if (r < 0)
		return r;
	if (!cfg->mail.relay[0])
		log_warning("no [mail] relay configured: mails stay queued in the outbox");
	m->warned_no_relay = !cfg->mail.relay[0];
	return backend_run(&m->b, cfg->mail.user, s_on_stop, s_drain, m);
}

int main(int argc, char **argv)
{
	struct maild m = { 0 };
	int r;

	r = daemon_init(&m.b.d, "maild", argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	r = s_run(&m);
	if (m.sent || m.failed || m.given_up)
		log_info("mail totals", LOG_I("sent", m.sent), LOG_I("failed_tries", m.failed),
			 LOG_I("given_up", m.given_up));
	maild_outbox_stop(&m);
	m.smtp = smtp_free(m.smtp);
	backend_done(&m.b);
	secret_freep(&m.password);
	curl_global_cleanup();
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
