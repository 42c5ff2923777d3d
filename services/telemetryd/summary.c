/*
 * summary.c - sembark-telemetryd's answer to GET /api/telemetry/summary
 * (api.call op "telemetry.summary"): the caller's team's events over the
 * last N UTC days (today included), N = ?days=, 1..30, default 7.
 *
 *   {"days": [{"date": "YYYY-MM-DD", "counts": {"<type>": n, ...}}, ...],
 *    "app_versions": [{"value", "events", "users"}], "os_versions": [...],
 *    "displays": [{"value": "2560x1440", "events", "users"}],
 *    "features": [{"feature", "count"}]}
 *
 * Every day of the range is listed, oldest first; "counts" names only the
 * types that occurred that day ({} for a quiet day). Each list is sorted
 * by events (count) descending, then value, and holds at most 20 rows;
 * "users" counts distinct users. The server's sign_in/sign_out events have
 * no client fields and so count in "days" only. Owners and admins only
 * (a member gets 403 forbidden); only team_id's rows are ever read. The
 * five statements run one after the other on the asynchronous pool.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "telemetryd.h"
#include "util.h"

#define VALUE_MAX (4 * TELEMETRYD_ATTR_CHARS_MAX + 1)
#define RANGE "team_id = $1::uuid AND occurred_at >= $2::timestamptz AND occurred_at < $3::timestamptz"

static const char DAYS_SQL[] =
	"SELECT floor(extract(epoch FROM occurred_at - $2::timestamptz) / 86400)::int, type, count(*)"
	" FROM telemetry_events WHERE " RANGE " GROUP BY 1, 2";

/* One list of the summary: its SQL (value, events[, users]) and JSON names. */
struct summary_list {
	const char *name;
	const char *value_key;
	const char *count_key;
	bool users;
	const char *sql;
};

static const struct summary_list s_lists[] = {
	{ "app_versions", "value", "events", true,
	  "SELECT app_version, count(*), count(DISTINCT user_id) FROM telemetry_events WHERE " RANGE
	  " AND app_version IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20" },
	{ "os_versions", "value", "events", true,
	  "SELECT os_version, count(*), count(DISTINCT user_id) FROM telemetry_events WHERE " RANGE
	  " AND os_version IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20" },
	{ "displays", "value", "events", true,
	  "SELECT display_width::text || 'x' || display_height::text, count(*),"
	  " count(DISTINCT user_id) FROM telemetry_events WHERE " RANGE
	  " AND display_width IS NOT NULL AND display_height IS NOT NULL"
	  " GROUP BY display_width, display_height ORDER BY 2 DESC, 1 LIMIT 20" },
	{ "features", "feature", "count", false,
	  "SELECT attrs->>'feature', count(*) FROM telemetry_events WHERE " RANGE
	  " AND type = 'feature_interaction' AND attrs ? 'feature'"
	  " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20" },
};

/* s_days_value - "1".."30" exactly (no sign, no leading zero) */
static int s_days_value(const char *v, size_t len, int *ret)
{
	int n = 0;

	if (len < 1 || len > 2 || v[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (v[i] - '0');
	}
	if (n < 1 || n > TELEMETRYD_SUMMARY_DAYS_MAX)
		return -EINVAL;
	*ret = n;
	return 0;
}

/* telemetryd_summary_days - "days=N" in a query string: 0 and N, or -EINVAL */
int telemetryd_summary_days(const char *query, int *ret_days)
{
	int days = TELEMETRYD_SUMMARY_DAYS_DEFAULT;
	bool seen = false;
	const char *p = query ? query : "";

	while (*p) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);

		if ((eq ? (size_t)(eq - p) : len) == 4 && strncmp(p, "days", 4) == 0) {
			if (seen || !eq || s_days_value(eq + 1, len - 5, &days) < 0)
				return -EINVAL;
			seen = true;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	*ret_days = days;
	return 0;
}

/* telemetryd_summary_prepare - declare the summary's statements on the pool */
int telemetryd_summary_prepare(struct telemetryd *x)
{
	int r = pgq_statement(x->b.pgq, DAYS_SQL, 3);

	if (r < 0)
		return r;
	x->stmt[TELEMETRYD_STMT_SUMMARY_DAYS] = r;
	for (size_t i = 0; i < ELEMENTSOF(s_lists); i++) {
		r = pgq_statement(x->b.pgq, s_lists[i].sql, 3);
		if (r < 0)
			return r;
		x->stmt[TELEMETRYD_STMT_SUMMARY_LIST + i] = r;
	}
	return 0;
}

/*
 * One summary on its way: the days statement, then each list's, one after
 * the other on the pool; the answer when the last has come.
 */
struct summary_call {
	struct telemetryd *x;
	struct rpc_request *req;
	json_t *out;
	char team[UTIL_UUID_LEN + 1];
	char from[32], to[32];
	int64_t from_us;
	int n;     /* days */
	size_t at; /* 0: days; 1 + i: s_lists[i] */
};

static void s_call_end(struct summary_call *sc, int r)
{
	if (r < 0) {
		log_debug("telemetry summary failed", LOG_I("error", r));
		telemetryd_reply_unavailable(sc->req);
	} else {
		telemetryd_reply_json(sc->req, 200, sc->out);
	}
	json_decref(sc->out);
	free(sc);
}

/* s_days - [{"date", "counts"}] for every day of the range, oldest first */
static int s_days(struct summary_call *sc, const PGresult *res)
{
	json_auto_t *days = json_array();
	char date[11], type[32];
	int64_t day, count;

	for (int i = 0; days && i < sc->n; i++) {
		util_format_day(sc->from_us + i * TELEMETRYD_DAY_US, date);
		json_array_append_new(days, json_pack("{s:s, s:{}}", "date", date, "counts"));
	}
	if (!days || json_array_size(days) != (size_t)sc->n)
		return -ENOMEM;
	for (int i = 0; i < PQntuples(res); i++) {
		if (db_get_i64(res, i, 0, &day) < 0 || db_get_text(res, i, 1, type, sizeof(type)) < 0 ||
		    db_get_i64(res, i, 2, &count) < 0 || day < 0 || day >= sc->n)
			continue;
		json_object_set_new(json_object_get(json_array_get(days, (size_t)day), "counts"), type,
				    json_integer(count));
	}
	return json_object_set(sc->out, "days", days);
}

static json_t *s_list_row(const struct summary_list *l, const PGresult *res, int i)
{
	char value[VALUE_MAX];
	int64_t events = 0, users = 0;

	if (db_get_text(res, i, 0, value, sizeof(value)) < 0 || db_get_i64(res, i, 1, &events) < 0 ||
	    (l->users && db_get_i64(res, i, 2, &users) < 0))
		return NULL;
	if (!l->users)
		return json_pack("{s:s, s:I}", l->value_key, value, l->count_key, (json_int_t)events);
	return json_pack("{s:s, s:I, s:I}", l->value_key, value, l->count_key, (json_int_t)events,
			 "users", (json_int_t)users);
}

/* s_list - one top-20 list into out[l->name] */
static int s_list(const struct summary_list *l, const PGresult *res, json_t *out)
{
	json_auto_t *list = json_array();

	if (!list)
		return -ENOMEM;
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *row = s_list_row(l, res, i);

		if (row)
			json_array_append_new(list, row);
	}
	return json_object_set(out, l->name, list);
}

static void s_answered(int r, const PGresult *res, const char *sqlstate, void *userdata);

/* s_next - run the statement at sc->at, or answer when all have come */
static void s_next(struct summary_call *sc)
{
	const char *const params[3] = { sc->team, sc->from, sc->to };
	int stmt, r;

	if (sc->at > ELEMENTSOF(s_lists)) {
		s_call_end(sc, 0);
		return;
	}
	stmt = sc->x->stmt[sc->at == 0 ? TELEMETRYD_STMT_SUMMARY_DAYS
				       : TELEMETRYD_STMT_SUMMARY_LIST + (int)sc->at - 1];
	r = pgq_run(sc->x->b.pgq, stmt, 3, params, sc->x->b.d.cfg.database.statement_timeout_ms,
		    s_answered, sc, NULL);
	if (r < 0)
		s_call_end(sc, r);
}

static void s_answered(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct summary_call *sc = userdata;

	(void)sqlstate;
	if (r == 0)
		r = sc->at == 0 ? s_days(sc, res) : s_list(&s_lists[sc->at - 1], res, sc->out);
	if (r < 0) {
		s_call_end(sc, r);
		return;
	}
	sc->at++;
	s_next(sc);
}

/* s_start - the whole summary of team over n days ending today (UTC) */
static int s_start(struct telemetryd *x, struct rpc_request *req, const char *team, int n)
{
	int64_t today = now_us() / TELEMETRYD_DAY_US * TELEMETRYD_DAY_US;
	struct summary_call *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return -ENOMEM;
	*sc = (struct summary_call){ .x = x, .req = req, .out = json_object(), .n = n };
	if (!sc->out) {
		free(sc);
		return -ENOMEM;
	}
	snprintf(sc->team, sizeof(sc->team), "%s", team);
	sc->from_us = today - (int64_t)(n - 1) * TELEMETRYD_DAY_US;
	util_format_time(sc->from_us, sc->from);
	util_format_time(today + TELEMETRYD_DAY_US, sc->to);
	s_next(sc);
	return 0;
}

static void s_reply_bad_days(struct rpc_request *req)
{
	json_auto_t *body = json_pack("{s:s, s:s, s:{s:s}}", "error", "validation_failed", "message",
				      "days must be an integer from 1 to 30", "fields", "days",
				      "must be an integer from 1 to 30");

	telemetryd_reply_json(req, 422, body);
}

/* telemetryd_op_summary - op "telemetry.summary" (owners, admins): this team's aggregates */
void telemetryd_op_summary(struct backend *b, struct rpc_request *req,
			   const struct ipc_api_call *call)
{
	char team[UTIL_UUID_LEN + 1];
	int days;

	if (util_uuid_normalize(call->team_id, team) < 0) {
		(void)rpc_reply_error(req, "bad_message", "team_id must be a UUID");
		return;
	}
	if (telemetryd_summary_days(call->query, &days) < 0) {
		s_reply_bad_days(req);
		return;
	}
	if (s_start(b->owner, req, team, days) < 0)
		telemetryd_reply_unavailable(req);
}
