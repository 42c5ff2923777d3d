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
 * (a member gets 403 forbidden); only team_id's rows are ever read.
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

/* s_days - [{"date", "counts"}] for every day of the range, oldest first */
static int s_days(struct telemetryd *x, const char *const params[3], int64_t from_us, int n,
		  json_t *out)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	json_auto_t *days = json_array();
	char date[11], type[32];
	int64_t day, count;
	int r;

	for (int i = 0; days && i < n; i++) {
		util_format_day(from_us + i * TELEMETRYD_DAY_US, date);
		json_array_append_new(days, json_pack("{s:s, s:{}}", "date", date, "counts"));
	}
	if (!days || json_array_size(days) != (size_t)n)
		return -ENOMEM;
	r = db_query(x->b.db, &res, DAYS_SQL, 3, params);
	if (r < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		if (db_get_i64(res, i, 0, &day) < 0 || db_get_text(res, i, 1, type, sizeof(type)) < 0 ||
		    db_get_i64(res, i, 2, &count) < 0 || day < 0 || day >= n)
			continue;
		json_object_set_new(json_object_get(json_array_get(days, (size_t)day), "counts"), type,
				    json_integer(count));
	}
	return json_object_set(out, "days", days);
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
static int s_list(struct telemetryd *x, const struct summary_list *l, const char *const params[3],
		  json_t *out)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	json_auto_t *list = json_array();
	int r;

	if (!list)
		return -ENOMEM;
	r = db_query(x->b.db, &res, l->sql, 3, params);
	if (r < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *row = s_list_row(l, res, i);

		if (row)
			json_array_append_new(list, row);
	}
	return json_object_set(out, l->name, list);
}

/* s_build - the whole summary of team over n days ending today (UTC) */
static int s_build(struct telemetryd *x, const char *team, int n, json_t *out)
{
	int64_t today = now_us() / TELEMETRYD_DAY_US * TELEMETRYD_DAY_US;
	int64_t from_us = today - (int64_t)(n - 1) * TELEMETRYD_DAY_US;
	char from[32], to[32];
	const char *const params[3] = { team, from, to };
	int r;

	if (!x->b.db)
		return -ENOTCONN;
	util_format_time(from_us, from);
	util_format_time(today + TELEMETRYD_DAY_US, to);
	r = s_days(x, params, from_us, n, out);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(s_lists); i++)
		r = s_list(x, &s_lists[i], params, out);
	return r;
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
	struct telemetryd *x = b->owner;
	char team[UTIL_UUID_LEN + 1];
	json_auto_t *out = json_object();
	int days, r;

	if (util_uuid_normalize(call->team_id, team) < 0) {
		(void)rpc_reply_error(req, "bad_message", "team_id must be a UUID");
		return;
	}
	if (telemetryd_summary_days(call->query, &days) < 0) {
		s_reply_bad_days(req);
		return;
	}
	r = out ? s_build(x, team, days, out) : -ENOMEM;
	if (r < 0) {
		log_debug("telemetry summary failed", LOG_I("error", r));
		telemetryd_reply_unavailable(req);
		return;
	}
	telemetryd_reply_json(req, 200, out);
}
