/*
 * retention.c - logd deletes for good what is older than [logs]
 * retention_days: it asks the SECURITY DEFINER functions
 * sembark_drop_log_partitions(cutoff) and
 * sembark_drop_audit_partitions(cutoff) (migrations/0005; the statements
 * are DB_PARTITIONS_DROP_SQL of shared/db.h, run on the asynchronous pool,
 * one after the other, so the loop never waits for them) to DROP every
 * daily partition of logs and audit_events whose whole day ends before
 * cutoff = now - retention_days, and logs the names they dropped. Never a
 * DELETE, never a flag: a dropped partition's files are unlinked at once.
 *
 * Runs at start (once the pool is connected) and then every hour from the
 * flush timer, never two runs at once (a run that failed, e.g. with
 * PostgreSQL away, is retried a minute later). The
 * partition timer keeps creating days ahead, so nothing the clock has not
 * yet reached is ever touched.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "logd.h"
#include "util.h"

#define DAY_US (86400LL * 1000000)
#define NAMES_MAX 1024

/* s_names - "a, b, c" of a result's first column, cut to fit */
static void s_names(const PGresult *res, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < PQntuples(res) && off < size; i++) {
		char name[64];

		if (db_get_text(res, i, 0, name, sizeof(name)) < 0)
			continue;
		off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? ", " : "", name);
	}
}

/* The rules of a run, one after the other. */
static const struct {
	enum logd_stmt stmt;
	const char *sql;   /* DB_PARTITIONS_DROP_SQL(fn): fn(coalesce($1, now()) - $2 days) */
	const char *table;
} s_rules[] = {
	{ LOGD_STMT_DROP_LOGS, DB_PARTITIONS_DROP_SQL("sembark_drop_log_partitions"), "logs" },
	{ LOGD_STMT_DROP_AUDIT, DB_PARTITIONS_DROP_SQL("sembark_drop_audit_partitions"),
	  "audit_events" },
};

/* logd_retention_prepare - declare the rules' statements on the pool */
int logd_retention_prepare(struct logd *l)
{
	for (size_t i = 0; i < ELEMENTSOF(s_rules); i++) {
		int r = pgq_statement(l->b.pgq, s_rules[i].sql, 2);

		if (r < 0)
			return r;
		l->stmt[s_rules[i].stmt] = r;
	}
	return 0;
}

static void s_dropped(int r, const PGresult *res, const char *sqlstate, void *userdata);

/* s_next_rule - send rule t->rule (skipping those that cannot be queued), or end the run */
static void s_next_rule(struct logd *l)
{
	struct logd_retention *t = &l->retention;
	int r;

	while (t->rule < ELEMENTSOF(s_rules)) {
		r = pgq_run(l->b.pgq, l->stmt[s_rules[t->rule].stmt], 2,
			    (const char *const[]){ t->cutoff, "0" }, logd_db_deadline_ms(l), s_dropped,
			    l, NULL);
		if (r == 0)
			return;
		log_warning_errno(r, "retention failed", LOG_S("table", s_rules[t->rule].table),
				  LOG_S("cutoff", t->cutoff));
		t->failed = true;
		t->rule++;
	}
	t->running = false;
	t->next_us = mono_us() + (t->failed ? LOGD_RETENTION_RETRY_US : LOGD_RETENTION_EVERY_US);
	if (t->failed) {
		t->runs_failed++;
	} else {
		t->runs_ok++;
		t->last_ok_us = now_us();
	}
}

/* s_logged - what one rule dropped, in the log */
static void s_logged(const char *table, const char *cutoff, const PGresult *res)
{
	char names[NAMES_MAX];

	if (PQntuples(res) == 0)
		return;
	s_names(res, names, sizeof(names));
	log_info("retention dropped partitions", LOG_S("table", table),
		 LOG_I("count", PQntuples(res)), LOG_S("partitions", names),
		 LOG_S("cutoff", cutoff));
}

/* s_dropped - a rule's answer: log it, go on with the next */
static void s_dropped(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct logd *l = userdata;
	struct logd_retention *t = &l->retention;
	const char *table = s_rules[t->rule].table;

	if (r == -ECANCELED) { /* the pool is being freed */
		t->running = false;
		return;
	}
	if (r < 0) {
		log_warning_errno(r, "retention failed", LOG_S("table", table),
				  LOG_S("cutoff", t->cutoff), LOG_S("sqlstate", sqlstate));
		t->failed = true;
	} else {
		t->dropped += (uint64_t)PQntuples(res);
		s_logged(table, t->cutoff, res);
	}
	t->rule++;
	s_next_rule(l);
}

/* logd_retention_run - drop logs and audit partitions older than retention_days */
int logd_retention_run(struct logd *l)
{
	struct logd_retention *t = &l->retention;

	if (!l->b.pgq)
		return -ENOTCONN;
	if (t->running)
		return 0;
	util_format_time(now_us() - (int64_t)l->b.d.cfg.logs.retention_days * DAY_US, t->cutoff);
	t->running = true;
	t->failed = false;
	t->rule = 0;
	s_next_rule(l);
	return 0;
}

/* logd_retention_tick - run retention when it is due (not while stopping) */
void logd_retention_tick(struct logd *l)
{
	if (l->b.d.stopping || l->retention.running || mono_us() < l->retention.next_us)
		return;
	(void)logd_retention_run(l);
}
