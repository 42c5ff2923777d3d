/*
 * logs.c - `sembarkctl logs [--service S] [--level L] [--since T]
 * [--limit N] [--follow]`: print the log records sembark-logd stored, as
 * the schema owner, one logfmt line each (the daemons' own stderr format,
 * escaped by shared/log.c, so a stored string cannot forge a line),
 * oldest first and newest last.
 *
 *   --service S  only this daemon's records (ingressd, authd, ...)
 *   --level L    only records at level L or above (debug < info <
 *                warning < error)
 *   --since T    only records stamped at or after T: RFC 3339, or a
 *                duration ago ("90s", "15m", "2h", "7d")
 *   --limit N    the newest N records (1..100000, default 100)
 *   --follow     then keep polling every second for new records until
 *                SIGINT/SIGTERM. Records can reach the table a little
 *                after their time (logd writes in batches, daemons' clocks
 *                differ), so each poll looks FOLLOW_WINDOW_US back and
 *                skips the rows it printed already.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl.h"
#include "log.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 100000
#define FOLLOW_WINDOW_US (10LL * 1000000)
#define FOLLOW_BATCH "10000"

struct logs_opts {
	const char *service;
	enum log_level level;
	int64_t since_us;
	bool has_since;
	long limit;
	bool follow;
};

/* A printed row, remembered while it is inside the follow window. */
struct seen_row {
	int64_t at_us;
	char key[33]; /* md5 of the row, from PostgreSQL */
};

/* The rows printed within the follow window, by key. */
struct seen_set {
	struct seen_row *v;
	size_t n, cap; /* cap: 0 or a power of two */
};

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
	s_stop = 1;
}

static void s_usage(FILE *f)
{
	fprintf(f, "Usage: sembarkctl [--config PATH] logs [--service S] [--level L] [--since T]\n"
		   "                  [--limit N] [--follow]\n"
		   "  --service S  only records of this daemon (ingressd, authd, telemetryd, logd)\n"
		   "  --level L    debug, info, warning or error: that level and above\n"
		   "  --since T    RFC 3339 time, or a duration ago: 90s, 15m, 2h, 7d\n"
		   "  --limit N    the newest N records, 1..%d (default %d)\n"
		   "  --follow     keep printing new records (every second) until interrupted\n",
		LIMIT_MAX, LIMIT_DEFAULT);
}

static int s_bad(const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "sembarkctl: logs: %s '%s': %s\n", opt, value, why);
	return -EINVAL;
}

static int s_option(int c, struct logs_opts *o)
{
	switch (c) {
	case 's':
		if (!optarg[0] || strlen(optarg) > 32)
			return s_bad("--service", optarg, "must be a daemon name");
		o->service = optarg;
		return 0;
	case 'l':
		o->level = log_level_from_string(optarg);
		if (o->level == _LOG_LEVEL_INVALID)
			return s_bad("--level", optarg, "must be debug, info, warning or error");
		return 0;
	case 'S':
		o->has_since = true;
		if (ctl_parse_since(optarg, ctl_now_us(), &o->since_us) < 0)
			return s_bad("--since", optarg,
				     "must be an RFC 3339 time or a duration like 15m, 2h, 7d");
		return 0;
	case 'n':
		if (ctl_parse_count(optarg, 1, LIMIT_MAX, &o->limit) < 0)
			return s_bad("--limit", optarg, "must be an integer from 1 to 100000");
		return 0;
	case 'f':
		o->follow = true;
		return 0;
	case 'h':
		s_usage(stdout);
		return 1;
	default:
		return -EINVAL;
	}
}

static int s_parse_args(int argc, char **argv, struct logs_opts *o)
{
	static const struct option options[] = {
		{ "service", required_argument, NULL, 's' },
		{ "level", required_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, r;

	*o = (struct logs_opts){ .service = "", .level = LOG_LEVEL_DEBUG, .limit = LIMIT_DEFAULT };
	optind = 0;
	while ((c = getopt_long(argc, argv, "+fh", options, NULL)) >= 0) {
		r = s_option(c, o);
		if (r != 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "sembarkctl: logs: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* s_levels - the PostgreSQL array of levels at or above min */
static void s_levels(enum log_level min, char *buf, size_t size)
{
	size_t off = (size_t)snprintf(buf, size, "{");

	for (int l = min; l < _LOG_LEVEL_MAX && off < size; l++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", l > (int)min ? "," : "",
					log_level_to_string((enum log_level)l));
	if (off < size)
		snprintf(buf + off, size - off, "}");
}

/* s_print_row - one row (at_us, service, level, message, fields, key) as logfmt */
static void s_print_row(const PGresult *res, int row)
{
	struct log_field fields[LOG_FIELDS_MAX + 1];
	char *vals[LOG_FIELDS_MAX] = { 0 };
	char line[LOG_LINE_MAX];
	json_t *obj = json_loads(PQgetvalue(res, row, 4), 0, NULL);
	struct log_record rec = { .msg = PQgetvalue(res, row, 3), .fields = fields };
	const char *key;
	json_t *v;
	size_t n = 0;

	(void)db_get_i64(res, row, 0, &rec.time_us);
	rec.service = PQgetvalue(res, row, 1);
	rec.level = log_level_from_string(PQgetvalue(res, row, 2));
	json_object_foreach(obj, key, v) {
		if (n >= LOG_FIELDS_MAX)
			break;
		vals[n] = json_is_string(v) ? strdup(json_string_value(v))
					    : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		fields[n] = LOG_S(key, vals[n] ? vals[n] : "");
		n++;
	}
	fields[n] = LOG_END;
	logfmt_format(line, sizeof(line), &rec);
	fputs(line, stdout);
	json_decref(obj);
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
}

static const char SELECT_HEAD[] =
	"SELECT (extract(epoch FROM at) * 1000000)::bigint, service, level, message, fields::text, "
	"md5(at::text || service || level || message || fields::text) FROM logs "
	"WHERE ($1 = '' OR service = $1) AND level = ANY ($2::text[]) AND at >= $3::timestamptz ";

/* s_select - rows matching o, from since on, ordered by at (desc: the newest) */
static int s_select(struct db *db, const struct logs_opts *o, int64_t since_us, bool newest,
		    const char *limit, PGresult **ret)
{
	char levels[64], since[CTL_TIME_MAX], sql[sizeof(SELECT_HEAD) + 64];
	const char *params[4] = { o->service, levels, since, limit };

	s_levels(o->level, levels, sizeof(levels));
	if (since_us == INT64_MIN)
		snprintf(since, sizeof(since), "-infinity");
	else
		ctl_format_time(since_us, since);
	snprintf(sql, sizeof(sql), "%sORDER BY at %s LIMIT $4::int", SELECT_HEAD,
		 newest ? "DESC" : "ASC");
	return db_query(db, ret, sql, 4, params);
}

/* s_slot - the slot of key in s (open addressing, FNV-1a), or where it goes */
static size_t s_slot(const struct seen_set *s, const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (h &= s->cap - 1; s->v[h].key[0] && strcmp(s->v[h].key, key) != 0;
	     h = (h + 1) & (s->cap - 1))
		;
	return (size_t)h;
}

/* s_window - where the follow window starts for the newest time printed */
static int64_t s_window(int64_t newest)
{
	return newest == INT64_MIN ? INT64_MIN : newest - FOLLOW_WINDOW_US;
}

static bool s_seen(const struct seen_set *s, const char *key)
{
	return s->cap && s->v[s_slot(s, key)].key[0];
}

static void s_insert(struct seen_set *s, int64_t at, const char *key)
{
	size_t i = s_slot(s, key);

	if (s->v[i].key[0])
		return;
	s->v[i].at_us = at;
	snprintf(s->v[i].key, sizeof(s->v[i].key), "%s", key);
	s->n++;
}

/* s_rebuild - a table of cap slots holding the rows of s from from_us on */
static int s_rebuild(struct seen_set *s, size_t cap, int64_t from_us)
{
	struct seen_set t = { .v = calloc(cap, sizeof(*t.v)), .cap = cap };

	if (!t.v)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i].key[0] && s->v[i].at_us >= from_us)
			s_insert(&t, s->v[i].at_us, s->v[i].key);
	free(s->v);
	*s = t;
	return 0;
}

static void s_remember(struct seen_set *s, int64_t at, const char *key)
{
	if ((s->n + 1) * 2 > s->cap && s_rebuild(s, MAX(s->cap * 2, (size_t)1024), INT64_MIN) < 0)
		return; /* worst case a row prints twice */
	s_insert(s, at, key);
}

/* s_forget - drop remembered rows older than from_us */
static void s_forget(struct seen_set *s, int64_t from_us)
{
	if (s->cap)
		(void)s_rebuild(s, s->cap, from_us);
}

/* s_print_new - print the rows (oldest first) not in seen (NULL: all),
 * remember those within the follow window; the newest time printed */
static int64_t s_print_new(const PGresult *res, bool reverse, struct seen_set *seen,
			   int64_t newest)
{
	int n = PQntuples(res);

	for (int k = 0; k < n; k++) {
		int i = reverse ? n - 1 - k : k;
		int64_t at = 0;

		if (db_get_i64(res, i, 0, &at) < 0 || (seen && s_seen(seen, PQgetvalue(res, i, 5))))
			continue;
		s_print_row(res, i);
		if (seen && at >= s_window(MAX(newest, at)))
			s_remember(seen, at, PQgetvalue(res, i, 5));
		newest = MAX(newest, at);
	}
	fflush(stdout);
	return newest;
}

static void s_sleep_1s(void)
{
	struct timespec ts = { .tv_sec = 1 };

	(void)nanosleep(&ts, NULL); /* a signal ends it early */
}

/* s_follow - poll every second until a signal; 0 or -errno */
static int s_follow(struct db *db, const struct logs_opts *o, int64_t newest,
		    struct seen_set *seen)
{
	struct sigaction sa = { .sa_handler = s_on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (newest == INT64_MIN)
		newest = o->has_since ? o->since_us : ctl_now_us() - FOLLOW_WINDOW_US;
	while (!s_stop) {
		_cleanup_pgresult_ PGresult *res = NULL;
		int64_t from = MAX(s_window(newest), o->has_since ? o->since_us : INT64_MIN);

		s_sleep_1s();
		if (s_stop)
			break;
		if (s_select(db, o, from, false, FOLLOW_BATCH, &res) < 0) {
			fprintf(stderr, "sembarkctl: logs: %s\n", db_last_error(db));
			continue; /* db.c reconnects next time */
		}
		newest = s_print_new(res, false, seen, newest);
		s_forget(seen, s_window(newest));
	}
	return 0;
}

/* ctl_logs - `sembarkctl logs [...]` */
int ctl_logs(const struct ctl_context *ctx, int argc, char **argv)
{
	_cleanup_(db_freep) struct db *db = NULL;
	_cleanup_pgresult_ PGresult *res = NULL;
	struct sembark_config cfg;
	struct seen_set seen = { 0 };
	struct logs_opts o;
	char limit[16];
	int64_t newest;
	int r;

	r = s_parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (ctl_owner_connect(ctx, "logs", &cfg, &db) < 0)
		return CTL_EXIT_FAILURE;
	snprintf(limit, sizeof(limit), "%ld", o.limit);
	if (s_select(db, &o, o.has_since ? o.since_us : INT64_MIN, true, limit, &res) < 0) {
		fprintf(stderr, "sembarkctl: logs: %s\n", db_last_error(db));
		return CTL_EXIT_FAILURE;
	}
	newest = s_print_new(res, true, o.follow ? &seen : NULL, INT64_MIN);
	if (o.follow)
		r = s_follow(db, &o, newest, &seen);
	free(seen.v);
	return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
