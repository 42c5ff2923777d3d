/*
 * retention.c - `sembarkctl retention [--now TIMESTAMP] [--dry-run]`:
 * apply every retention rule of sembark as if the clock read TIMESTAMP
 * (RFC 3339; default: the real clock), as the schema owner, and print per
 * table what went:
 *
 *   logs, audit_events  daily partitions whose whole day ends before
 *                       now - [logs] retention_days are dropped
 *                       (sembark_drop_log/audit_partitions, migration 0005)
 *   telemetry_events    the same with [telemetry] retention_days
 *                       (sembark_drop_telemetry_partitions, migrations 0004
 *                       and 0006); all three through db_partitions_drop
 *   sessions            rows with expires_at before now are deleted
 *   login_challenges    second-factor tickets past their 5 minutes, the same
 *   login_failures      rows older than an hour (the throttle's window)
 *   telemetry_seen      dedupe rows older than 8 days (telemetryd's window)
 *   erased_users        ids of erased accounts older than a day (migration 0014)
 *
 * A rule whose function or table does not exist (an older schema) is
 * skipped with a note. --dry-run runs each rule inside a transaction that
 * is rolled back, so the list printed is exactly what a real run would
 * remove, and nothing changes. Partitions go by DROP TABLE only: their
 * files are unlinked at commit (see README "Logs, audit trail and
 * retention" for WAL and backups). Exit 0, 1 when a rule failed (the
 * others still run), 2 for bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define DAY_US (86400LL * 1000000)
#define HOUR_US (3600LL * 1000000)
#define SEEN_DAYS 8

struct retention_opts {
	int64_t now_us;
	bool dry_run;
};

struct retention_run {
	struct sembark_config cfg;
	struct db *db;
	bool dry;
	size_t dropped, deleted;
	int failed;
};

struct drop_rule {
	const char *table;
	const char *fn;        /* fn(cutoff) drops partitions, returns their names */
	const char *fn_sig;    /* for to_regprocedure() */
};

struct delete_rule {
	const char *table;
	const char *column;
	const char *sql;       /* DELETE ... WHERE column < $1::timestamptz */
	int64_t keep_us;       /* rows older than now - keep_us go */
	const char *what;      /* "expired", "older than 1 hour" */
};

static const struct delete_rule s_delete_rules[] = {
	{ "sessions", "expires_at", "DELETE FROM public.sessions WHERE expires_at < $1::timestamptz",
	  0, "expired" },
	{ "login_challenges", "expires_at",
	  "DELETE FROM public.login_challenges WHERE expires_at < $1::timestamptz", 0, "expired" },
	{ "login_failures", "at", "DELETE FROM public.login_failures WHERE at < $1::timestamptz",
	  HOUR_US, "older than 1 hour" },
	{ "telemetry_seen", "seen_at",
	  "DELETE FROM public.telemetry_seen WHERE seen_at < $1::timestamptz",
	  SEEN_DAYS * DAY_US, "older than 8 days" },
	{ "erased_users", "erased_at",
	  "DELETE FROM public.erased_users WHERE erased_at < $1::timestamptz", DAY_US,
	  "older than 1 day" },
};

static void s_usage(FILE *f)
{
	fprintf(f, "Usage: sembarkctl [--config PATH] retention [--now TIMESTAMP] [--dry-run]\n"
		   "  --now TIMESTAMP  act as if the clock read TIMESTAMP (RFC 3339,\n"
		   "                   e.g. 2026-12-30T05:00:00Z); default: now\n"
		   "  --dry-run        print what would be removed, change nothing\n");
}

static int s_parse_args(int argc, char **argv, struct retention_opts *ret)
{
	static const struct option options[] = {
		{ "now", required_argument, NULL, 'n' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	ret->now_us = ctl_now_us();
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		switch (c) {
		case 'n':
			if (ctl_parse_rfc3339(optarg, &ret->now_us) < 0) {
				fprintf(stderr, "sembarkctl: retention: --now '%s' is not an "
					"RFC 3339 timestamp (e.g. 2026-12-30T05:00:00Z)\n", optarg);
				return -EINVAL;
			}
			break;
		case 'd':
			ret->dry_run = true;
			break;
		case 'h':
			s_usage(stdout);
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sembarkctl: retention: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* s_dry_begin - in a dry run, open the transaction s_dry_end rolls back */
static int s_dry_begin(struct retention_run *rr)
{
	return rr->dry ? db_exec(rr->db, "BEGIN", 0, NULL) : 0;
}

/* s_dry_end - in a dry run, roll back; r, or -EIO when that failed */
static int s_dry_end(struct retention_run *rr, int r)
{
	if (rr->dry && db_exec(rr->db, "ROLLBACK", 0, NULL) < 0 && r >= 0)
		r = -EIO;
	return r;
}

/* s_query - one statement; in a dry run inside a transaction rolled back */
static int s_query(struct retention_run *rr, const char *sql, const char *arg, PGresult **ret)
{
	const char *params[1] = { arg };
	int r = s_dry_begin(rr);

	if (r < 0)
		return r;
	return s_dry_end(rr, db_query(rr->db, ret, sql, 1, params));
}

/* s_drop_partitions - rule->fn(cutoff), in a dry run inside a transaction rolled back */
static int s_drop_partitions(struct retention_run *rr, const struct drop_rule *rule,
			     const char *cutoff, PGresult **ret)
{
	int r = s_dry_begin(rr);

	if (r < 0)
		return r;
	return s_dry_end(rr, db_partitions_drop(rr->db, rule->fn, cutoff, 0, ret));
}

static void s_failed(struct retention_run *rr, const char *table)
{
	fprintf(stderr, "sembarkctl: retention: %s: %s\n", table, db_last_error(rr->db));
	rr->failed++;
}

/* s_print_names - "logs: dropped a, b" */
static void s_print_names(struct retention_run *rr, const char *table, const PGresult *res)
{
	int n = PQntuples(res);

	if (n == 0) {
		printf("%s: nothing to drop\n", table);
		return;
	}
	printf("%s: %s ", table, rr->dry ? "would drop" : "dropped");
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", PQgetvalue(res, i, 0));
	printf("\n");
	rr->dropped += (size_t)n;
}

/* s_drop - one partition rule; skipped when its function does not exist */
static void s_drop(struct retention_run *rr, const struct drop_rule *rule, int64_t cutoff_us)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char cutoff[CTL_TIME_MAX];
	bool exists = false;

	if (ctl_db_has(rr->db, "SELECT pg_catalog.to_regprocedure($1) IS NOT NULL", rule->fn_sig,
		       &exists) < 0) {
		s_failed(rr, rule->table);
		return;
	}
	if (!exists) {
		printf("%s: skipped (no %s in this schema yet)\n", rule->table, rule->fn_sig);
		return;
	}
	ctl_format_time(cutoff_us, cutoff);
	if (s_drop_partitions(rr, rule, cutoff, &res) < 0) {
		s_failed(rr, rule->table);
		return;
	}
	s_print_names(rr, rule->table, res);
}

/* s_delete - one row rule; skipped when its table or column does not exist */
static void s_delete(struct retention_run *rr, const struct delete_rule *rule, int64_t now_us)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char cutoff[CTL_TIME_MAX];
	bool table = false, col = false;
	long n;

	if (ctl_table_column(rr->db, rule->table, rule->column, &table, &col) < 0) {
		s_failed(rr, rule->table);
		return;
	}
	if (!table || !col) {
		printf("%s: skipped (no %s%s%s in this schema yet)\n", rule->table, rule->table,
		       table ? "." : "", table ? rule->column : "");
		return;
	}
	ctl_format_time(now_us - rule->keep_us, cutoff);
	if (s_query(rr, rule->sql, cutoff, &res) < 0) {
		s_failed(rr, rule->table);
		return;
	}
	n = strtol(PQcmdTuples(res), NULL, 10);
	printf("%s: %s %ld %s\n", rule->table, rr->dry ? "would delete" : "deleted", n, rule->what);
	rr->deleted += (size_t)MAX(n, 0L);
}

static void s_apply(struct retention_run *rr, int64_t now_us)
{
	static const struct drop_rule logs = {
		"logs", "public.sembark_drop_log_partitions",
		"public.sembark_drop_log_partitions(timestamptz)",
	};
	static const struct drop_rule audit = {
		"audit_events", "public.sembark_drop_audit_partitions",
		"public.sembark_drop_audit_partitions(timestamptz)",
	};
	static const struct drop_rule telemetry = {
		"telemetry_events", "public.sembark_drop_telemetry_partitions",
		"public.sembark_drop_telemetry_partitions(timestamptz)",
	};
	int64_t logs_cut = now_us - rr->cfg.logs.retention_days * DAY_US;

	s_drop(rr, &logs, logs_cut);
	s_drop(rr, &audit, logs_cut);
	s_drop(rr, &telemetry, now_us - rr->cfg.telemetry.retention_days * DAY_US);
	for (size_t i = 0; i < ELEMENTSOF(s_delete_rules); i++)
		s_delete(rr, &s_delete_rules[i], now_us);
}

/* ctl_retention - `sembarkctl retention [--now TIMESTAMP] [--dry-run]` */
int ctl_retention(const struct ctl_context *ctx, int argc, char **argv)
{
	struct retention_opts o = { 0 };
	struct retention_run rr = { 0 };
	char now[CTL_TIME_MAX];
	int r;

	r = s_parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	r = ctl_owner_connect(ctx, "retention", &rr.cfg, &rr.db);
	if (r < 0)
		return CTL_EXIT_FAILURE;
	/* a big DELETE may take longer than a daemon's statement may */
	r = db_exec(rr.db, "SELECT pg_catalog.set_config('statement_timeout', '600000', false)", 0,
		    NULL);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: retention: %s\n", db_last_error(rr.db));
		rr.db = db_free(rr.db);
		return CTL_EXIT_FAILURE;
	}
	rr.dry = o.dry_run;
	ctl_format_time(o.now_us, now);
	printf("retention as of %s: logs and audit_events kept %d days, telemetry_events %d days%s\n",
	       now, rr.cfg.logs.retention_days, rr.cfg.telemetry.retention_days,
	       rr.dry ? " (dry run: nothing is changed)" : "");
	s_apply(&rr, o.now_us);
	printf("retention: %zu partition%s %s, %zu row%s %s%s\n", rr.dropped,
	       rr.dropped == 1 ? "" : "s", rr.dry ? "would be dropped" : "dropped", rr.deleted,
	       rr.deleted == 1 ? "" : "s", rr.dry ? "would be deleted" : "deleted",
	       rr.failed ? "; some rules failed" : "");
	rr.db = db_free(rr.db);
	return rr.failed ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
