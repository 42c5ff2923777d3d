/*
 * audit.c - `sembarkctl audit --team ID [--limit N]`: print a team's
 * audit trail as the schema owner, the newest N events (default 100),
 * oldest first and newest last, one logfmt line each (escaped by
 * shared/log.c): time, service=audit, level=info, msg=<event>, then
 * id, actor_id, actor_email, subject_id, subject_email when present.
 * Exit 0 (also when the team has no events), 1 on a database error,
 * 2 for bad arguments (the team id must be a UUID).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "util.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 100000
#define NCOLS 7

struct audit_opts {
	const char *team;
	long limit;
};

static void s_usage(FILE *f)
{
	fprintf(f, "Usage: sembarkctl [--config PATH] audit --team ID [--limit N]\n"
		   "  --team ID   the team's id (a UUID)\n"
		   "  --limit N   the newest N events, 1..%d (default %d)\n",
		LIMIT_MAX, LIMIT_DEFAULT);
}

static int s_parse_args(int argc, char **argv, struct audit_opts *o)
{
	static const struct option options[] = {
		{ "team", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	*o = (struct audit_opts){ .limit = LIMIT_DEFAULT };
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		if (c == 'h') {
			s_usage(stdout);
			return 1;
		}
		if (c == 't' && !util_uuid_valid(optarg)) {
			fprintf(stderr, "sembarkctl: audit: --team '%s' is not a team id (a UUID)\n",
				optarg);
			return -EINVAL;
		}
		if (c == 'n' && ctl_parse_count(optarg, 1, LIMIT_MAX, &o->limit) < 0) {
			fprintf(stderr, "sembarkctl: audit: --limit '%s' must be an integer from 1 "
				"to %d\n", optarg, LIMIT_MAX);
			return -EINVAL;
		}
		if (c != 't' && c != 'n')
			return -EINVAL;
		if (c == 't')
			o->team = optarg;
	}
	if (optind < argc || !o->team) {
		fprintf(stderr, "sembarkctl: audit: %s\n",
			optind < argc ? "unexpected argument" : "--team ID is required");
		return -EINVAL;
	}
	return 0;
}

/* s_print_row - one event as a logfmt line */
static void s_print_row(const PGresult *res, int row)
{
	static const char *const keys[NCOLS] = { NULL, NULL, "id", "actor_id", "actor_email",
						 "subject_id", "subject_email" };
	struct log_field fields[NCOLS + 1];
	struct log_record rec = { .service = "audit", .level = LOG_LEVEL_INFO, .fields = fields };
	char line[LOG_LINE_MAX];
	size_t n = 0;

	(void)db_get_i64(res, row, 0, &rec.time_us);
	rec.msg = PQgetvalue(res, row, 1);
	for (int c = 2; c < NCOLS; c++)
		if (!PQgetisnull(res, row, c))
			fields[n++] = LOG_S(keys[c], PQgetvalue(res, row, c));
	fields[n] = LOG_END;
	logfmt_format(line, sizeof(line), &rec);
	fputs(line, stdout);
}

/* ctl_audit - `sembarkctl audit --team ID [--limit N]` */
int ctl_audit(const struct ctl_context *ctx, int argc, char **argv)
{
	_cleanup_(db_freep) struct db *db = NULL;
	_cleanup_pgresult_ PGresult *res = NULL;
	struct sembark_config cfg;
	struct audit_opts o;
	char limit[16];
	const char *params[2] = { NULL, limit };
	int r;

	r = s_parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (ctl_owner_connect(ctx, "audit", &cfg, &db) < 0)
		return CTL_EXIT_FAILURE;
	params[0] = o.team;
	snprintf(limit, sizeof(limit), "%ld", o.limit);
	r = db_query(db, &res,
		     "SELECT * FROM (SELECT (extract(epoch FROM at) * 1000000)::bigint AS at_us, "
		     "event, id::text, actor_id::text, actor_email, subject_id::text, subject_email "
		     "FROM audit_events WHERE team_id = $1::uuid ORDER BY at DESC, id DESC "
		     "LIMIT $2::int) newest ORDER BY at_us, id::bigint", 2, params);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: audit: %s\n", db_last_error(db));
		return CTL_EXIT_FAILURE;
	}
	for (int i = 0; i < PQntuples(res); i++)
		s_print_row(res, i);
	if (PQntuples(res) == 0)
		fprintf(stderr, "sembarkctl: audit: no events for team %s\n", o.team);
	return CTL_EXIT_OK;
}
