/*
 * retention.c - logd deletes for good what is older than [logs]
 * retention_days: it asks the SECURITY DEFINER functions
 * sembark_drop_log_partitions(cutoff) and
 * sembark_drop_audit_partitions(cutoff) (migrations/0005, called through
 * db_partitions_drop of shared/db.c) to DROP every
 * daily partition of logs and audit_events whose whole day ends before
 * cutoff = now - retention_days, and logs the names they dropped. Never a
 * DELETE, never a flag: a dropped partition's files are unlinked at once.
 *
 * Runs at start and then every hour from the flush timer (a run that
 * failed, e.g. with PostgreSQL away, is retried a minute later). The
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

/* s_drop - one table's rule: fn(cutoff) drops its old partitions; logs what went */
static int s_drop(struct logd *l, const char *fn, const char *table, const char *cutoff)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char names[NAMES_MAX];
	int r;

	r = db_partitions_drop(l->b.db, fn, cutoff, 0, &res);
	if (r < 0) {
		log_warning("retention failed", LOG_S("table", table), LOG_S("cutoff", cutoff),
			    LOG_S("sqlstate", db_last_sqlstate(l->b.db)),
			    LOG_S("error", db_last_error(l->b.db)));
		return r;
	}
	if (PQntuples(res) == 0)
		return 0;
	s_names(res, names, sizeof(names));
	log_info("retention dropped partitions", LOG_S("table", table),
		 LOG_I("count", PQntuples(res)), LOG_S("partitions", names),
		 LOG_S("cutoff", cutoff));
	return PQntuples(res);
}

/* logd_retention_run - drop logs and audit partitions older than retention_days */
int logd_retention_run(struct logd *l)
{
	char cutoff[32];
	int r, k;

	if (!l->b.db)
		return -ENOTCONN;
	util_format_time(now_us() - (int64_t)l->b.d.cfg.logs.retention_days * DAY_US, cutoff);
	r = s_drop(l, "sembark_drop_log_partitions", "logs", cutoff);
	k = s_drop(l, "sembark_drop_audit_partitions", "audit_events", cutoff);
	l->retention_next_us = mono_us() + (r < 0 || k < 0 ? LOGD_RETENTION_RETRY_US
						   : LOGD_RETENTION_EVERY_US);
	return r < 0 ? r : k < 0 ? k : 0;
}

/* logd_retention_tick - run retention when it is due (not while stopping) */
void logd_retention_tick(struct logd *l)
{
	if (l->b.d.stopping || mono_us() < l->retention_next_us)
		return;
	(void)logd_retention_run(l);
}
