/*
 * audit_list.c - logd's answer to api.call "audit.list", which ingressd
 * sends for GET /api/audit?limit=N&before=CURSOR after resolving the
 * caller's session (team, role) with authd.
 *
 * Owners and admins only (the row's WHO in ipc/operations.def, checked
 * by ipc_api_call_serve: a member gets 403 forbidden). One team's
 * events, newest first, keyset-paged on (at, id): a page holds the
 * events strictly older than the cursor, so pages never repeat or skip an
 * event, whatever arrives meanwhile (new events are newer than the first
 * page). The cursor is opaque to clients: base64url (no padding) of
 * "<at in microseconds since the epoch>.<id>"; a forged one can only page
 * through the caller's own team. limit 1..100 (default 50). Errors are
 * API.md's: 422 validation_failed with fields.limit / fields.before.
 *
 * The page is read on the asynchronous pool (one of two fixed
 * statements, with or without a cursor): the loop goes on meanwhile, and
 * the request is answered exactly once, when the rows come, or 503 when
 * PostgreSQL is away, fails, or has not answered within ingressd's wait
 * ([ingress] rpc_timeout_ms). The answer is built from audit_events' own
 * columns, which have no room for an address, a token or a password (and
 * what is stored was redacted).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api_reply.h"
#include "logd.h"
#include "util.h"

#define QUERY_PARAM_MAX 256    /* bytes of one decoded name or value */
#define AT_US_MAX 253402300799999999LL /* 9999-12-31T23:59:59.999999Z */

/* ---- cursor ---------------------------------------------------------------- */

/* logd_cursor_encode - the opaque cursor for the event (at_us, id) */
int logd_cursor_encode(int64_t at_us, int64_t id, char out[static LOGD_CURSOR_MAX + 1])
{
	char raw[48];
	int n;

	if (at_us < 0 || at_us > AT_US_MAX || id < 1)
		return -EINVAL;
	n = snprintf(raw, sizeof(raw), "%" PRId64 ".%" PRId64, at_us, id);
	if (n < 0 || (size_t)n >= sizeof(raw) ||
	    sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) >
		    LOGD_CURSOR_MAX + 1)
		return -EINVAL;
	sodium_bin2base64(out, LOGD_CURSOR_MAX + 1, (const unsigned char *)raw, (size_t)n,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

/* s_parse_i64 - all of [s, s + n) is a decimal number in 0..max */
static int s_parse_i64(const char *s, size_t n, int64_t max, int64_t *ret)
{
	int64_t v = 0;

	if (n == 0 || n > 19)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (max - (s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* logd_cursor_decode - the (at_us, id) of a cursor, or -EINVAL */
int logd_cursor_decode(const char *s, int64_t *ret_at_us, int64_t *ret_id)
{
	unsigned char raw[LOGD_CURSOR_MAX];
	size_t len = strlen(s), n;
	const char *end = NULL, *dot;
	int64_t at, id;

	if (len == 0 || len > LOGD_CURSOR_MAX)
		return -EINVAL;
	if (sodium_base642bin(raw, sizeof(raw) - 1, s, len, NULL, &n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + len)
		return -EINVAL;
	raw[n] = '\0';
	dot = memchr(raw, '.', n);
	if (!dot || s_parse_i64((const char *)raw, (size_t)(dot - (const char *)raw), AT_US_MAX,
				&at) < 0 ||
	    s_parse_i64(dot + 1, n - (size_t)(dot + 1 - (const char *)raw), INT64_MAX, &id) < 0 ||
	    id < 1)
		return -EINVAL;
	*ret_at_us = at;
	*ret_id = id;
	return 0;
}

/* ---- query string ------------------------------------------------------------ */

/* s_unescape - percent-decode [s, s + n) ('+' is a space) into out; -EINVAL
 * for a bad escape, a NUL, or more than QUERY_PARAM_MAX bytes */
static int s_unescape(const char *s, size_t n, char out[static QUERY_PARAM_MAX + 1])
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || util_hexval(s[i + 1]) < 0 || util_hexval(s[i + 2]) < 0)
				return -EINVAL;
			c = util_hexval(s[i + 1]) * 16 + util_hexval(s[i + 2]);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == 0 || o >= QUERY_PARAM_MAX)
			return -EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int s_set_limit(struct logd_audit_query *q, const char *v)
{
	int64_t n;

	if (s_parse_i64(v, strlen(v), 1000, &n) < 0 || n < 1 || n > LOGD_AUDIT_LIMIT_MAX)
		return -EINVAL;
	q->limit = (int)n;
	return 0;
}

static int s_set_before(struct logd_audit_query *q, const char *v)
{
	if (logd_cursor_decode(v, &q->before_at_us, &q->before_id) < 0)
		return -EINVAL;
	q->has_before = true;
	return 0;
}

/* s_param - one "name=value" of the query; unknown names are ignored */
static int s_param(struct logd_audit_query *q, const char *p, size_t n, bool *seen_limit,
		   const char **ret_field, const char **ret_why)
{
	char name[QUERY_PARAM_MAX + 1], value[QUERY_PARAM_MAX + 1];
	const char *eq = memchr(p, '=', n);
	size_t nn = eq ? (size_t)(eq - p) : n;
	bool is_limit;

	if (s_unescape(p, nn, name) < 0)
		return 0; /* a name we cannot read is not one of ours */
	is_limit = strcmp(name, "limit") == 0;
	if (!is_limit && strcmp(name, "before") != 0)
		return 0;
	*ret_field = is_limit ? "limit" : "before";
	*ret_why = is_limit ? "must be an integer from 1 to 100" : "is not a valid cursor";
	if ((is_limit ? *seen_limit : q->has_before)) {
		*ret_why = "must be given at most once";
		return -EINVAL;
	}
	if (s_unescape(eq ? eq + 1 : p + n, eq ? n - nn - 1 : 0, value) < 0)
		return -EINVAL;
	if (is_limit) {
		*seen_limit = true;
		return s_set_limit(q, value);
	}
	return s_set_before(q, value);
}

/* logd_audit_query_parse - "limit=N&before=CURSOR" into *ret; -EINVAL
 * naming the field and what is wrong with it */
int logd_audit_query_parse(const char *query, struct logd_audit_query *ret,
			   const char **ret_field, const char **ret_why)
{
	struct logd_audit_query q = { .limit = LOGD_AUDIT_LIMIT_DEFAULT };
	bool seen_limit = false;
	const char *p = query;

	while (*p) {
		size_t n = strcspn(p, "&");
		int r = n ? s_param(&q, p, n, &seen_limit, ret_field, ret_why) : 0;

		if (r < 0)
			return r;
		p += n;
		if (*p == '&')
			p++;
	}
	*ret = q;
	return 0;
}

/* ---- the answer ------------------------------------------------------------------ */

/* s_reply - api.reply {status, body (stolen; NULL: out of memory)} */
static int s_reply(struct rpc_request *req, int status, json_t *body)
{
	int r;

	if (!body)
		return rpc_reply_error(req, "internal", "cannot encode the answer");
	r = ipc_api_reply_send(req, status, body, NULL);
	json_decref(body);
	return r;
}

static int s_reply_invalid(struct rpc_request *req, const char *field, const char *why)
{
	return s_reply(req, 422, json_pack("{s:s, s:s, s:{s:s}}", "error", "validation_failed",
					   "message", "the query is not valid", "fields", field,
					   why));
}

/* s_person - {id, email}, or null when the event has neither */
static json_t *s_person(const PGresult *res, int row, int col)
{
	char id[UTIL_UUID_LEN + 1] = "", email[LOGD_EMAIL_MAX + 1] = "";

	(void)db_get_text(res, row, col, id, sizeof(id));
	(void)db_get_text(res, row, col + 1, email, sizeof(email));
	if (!id[0] && !email[0])
		return json_null();
	return json_pack("{s:o, s:o}", "id", id[0] ? json_string(id) : json_null(), "email",
			 email[0] ? json_string(email) : json_null());
}

/* s_event_json - one row as {id, at, event, actor, subject}; its key */
static json_t *s_event_json(const PGresult *res, int row, int64_t *ret_at, int64_t *ret_id)
{
	char at[32], event[33];

	if (db_get_i64(res, row, 0, ret_id) < 0 || db_get_i64(res, row, 1, ret_at) < 0 ||
	    db_get_text(res, row, 2, event, sizeof(event)) < 0)
		return NULL;
	util_format_time(*ret_at, at);
	return json_pack("{s:o, s:s, s:s, s:o, s:o}", "id", json_sprintf("%" PRId64, *ret_id),
			 "at", at, "event", event, "actor", s_person(res, row, 3), "subject",
			 s_person(res, row, 5));
}

static json_t *s_page_json(const PGresult *res, int limit)
{
	json_t *events = json_array(), *next = json_null();
	int rows = PQntuples(res);
	int64_t at = 0, id = 0;
	char cursor[LOGD_CURSOR_MAX + 1];

	for (int i = 0; i < rows && i < limit && events; i++) {
		json_t *ev = s_event_json(res, i, &at, &id);

		if (!ev || json_array_append_new(events, ev) < 0) {
			json_decref(events);
			return NULL;
		}
	}
	if (events && rows > limit && logd_cursor_encode(at, id, cursor) == 0)
		next = json_string(cursor);
	return events ? json_pack("{s:o, s:o}", "events", events, "next", next) : NULL;
}

#define SELECT_HEAD \
	"SELECT id, (extract(epoch FROM at) * 1000000)::bigint, event, " \
	"coalesce(actor_id::text, ''), coalesce(actor_email, ''), " \
	"coalesce(subject_id::text, ''), coalesce(subject_email, '') " \
	"FROM audit_events WHERE team_id = $1::uuid "
#define SELECT_TAIL " ORDER BY at DESC, id DESC LIMIT $2::int"

/* logd_audit_list_prepare - declare the first page's statement and the one after a cursor */
int logd_audit_list_prepare(struct logd *l)
{
	l->stmt[LOGD_STMT_LIST] = pgq_statement(l->b.pgq, SELECT_HEAD SELECT_TAIL, 2);
	l->stmt[LOGD_STMT_LIST_BEFORE] = pgq_statement(
		l->b.pgq,
		SELECT_HEAD "AND at <= $3::timestamptz AND (at, id) < ($3::timestamptz, $4::bigint)"
			SELECT_TAIL,
		4);
	return l->stmt[LOGD_STMT_LIST] < 0 || l->stmt[LOGD_STMT_LIST_BEFORE] < 0 ? -E2BIG : 0;
}

/* A page on its way: the request it answers, exactly once. */
struct list_wait {
	struct rpc_request *req;
	int limit;
};

static int s_reply_unavailable(struct rpc_request *req)
{
	return ipc_api_reply_error(req, 503, "service_unavailable",
				   "the audit trail is not available right now");
}

/* s_listed - the page's rows came (or not): answer */
static void s_listed(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct list_wait *w = userdata;
	json_t *page;

	if (r < 0) {
		log_warning_errno(r, "cannot read the audit trail", LOG_S("sqlstate", sqlstate));
		(void)s_reply_unavailable(w->req);
	} else if (!(page = s_page_json(res, w->limit))) {
		(void)rpc_reply_error(w->req, "internal", "cannot build the answer");
	} else {
		(void)s_reply(w->req, 200, page);
	}
	free(w);
}

/* s_query - ask for one page (and one more row, to know whether there is a next) */
static int s_query(struct logd *l, struct list_wait *w, const char *team_id,
		   const struct logd_audit_query *q)
{
	char limit[16], at[32], id[24];
	const char *params[4] = { team_id, limit, at, id };
	int stmt = l->stmt[q->has_before ? LOGD_STMT_LIST_BEFORE : LOGD_STMT_LIST];

	snprintf(limit, sizeof(limit), "%d", q->limit + 1);
	util_format_time(q->before_at_us, at);
	snprintf(id, sizeof(id), "%" PRId64, q->before_id);
	/* a read: when ingressd stops waiting, so does logd */
	return pgq_run(l->b.pgq, stmt, q->has_before ? 4 : 2, params,
		       l->b.d.cfg.ingress.rpc_timeout_ms, s_listed, w, NULL);
}

/* s_audit_list - the api.call "audit.list" for this caller: answered now, or by s_listed */
static int s_audit_list(struct logd *l, struct rpc_request *req, const struct ipc_api_call *c)
{
	struct logd_audit_query q;
	const char *field = NULL, *why = NULL;
	struct list_wait *w;
	int r;

	if (!util_uuid_valid(c->team_id))
		return ipc_api_reply_error(req, 403, "forbidden", "no team for this session");
	if (logd_audit_query_parse(c->query, &q, &field, &why) < 0)
		return s_reply_invalid(req, field, why);
	w = malloc(sizeof(*w));
	if (!w)
		return s_reply_unavailable(req);
	*w = (struct list_wait){ .req = req, .limit = q.limit };
	r = l->b.pgq ? s_query(l, w, c->team_id, &q) : -ENOTCONN;
	if (r < 0) {
		free(w);
		log_warning_errno(r, "cannot read the audit trail");
		return s_reply_unavailable(req);
	}
	return 0;
}

/* logd_op_audit_list - op "audit.list" (owners, admins): one page of the caller's team's trail */
void logd_op_audit_list(struct backend *b, struct rpc_request *req, const struct ipc_api_call *call)
{
	(void)s_audit_list(b->owner, req, call);
}
