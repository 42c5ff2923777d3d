/*
 * ingest.c - sembark-telemetryd's group commit. A "telemetry.ingest"
 * api.call is validated at once (a body-level problem, or no acceptable
 * event, is answered 422 right away); its good events join a queue, as do
 * the server's own sign_in/sign_out events (signal.c). The queue is
 * committed [telemetry] batch_delay_ms after its first arrival, or as soon
 * as it holds [telemetry] batch_max_events, in ONE statement:
 *
 *   rows (unnest of ten array parameters), each marked new unless its
 *   (user_id, id) is in telemetry_seen
 *     -> INSERT INTO telemetry_seen the new ones
 *     -> INSERT INTO telemetry_events the new ones
 *     -> SELECT the positions of the new ones (accepted; the rest are duplicates)
 *
 * so dedupe and storage commit together or not at all. The statement runs
 * on the asynchronous pool (shared/pgq.c): the loop goes on taking and
 * validating requests while it runs, and up to TELEMETRYD_INFLIGHT batches
 * are on their way at once (the next is sent when one ends). Only when that
 * statement has returned (committed: autocommit, synchronous_commit as the
 * server has it) does each request get its answer: 202 {accepted,
 * duplicates, rejected} for api.call, "ack" for a signal. If PostgreSQL is
 * away or the statement fails, every request of the batch gets 503 (an
 * "error" for a signal): never 202 without a commit. A re-sent event is a
 * duplicate; an event repeated within one batch is sent once. While more
 * than TELEMETRYD_QUEUE_BATCHES batches wait (PostgreSQL slower than the
 * clients), new requests are answered 503 at once instead of piling up.
 *
 * A row for a day without a partition (SQLSTATE 23514) makes us create the
 * partitions of the batch's days and try once more. Rows are sent sorted
 * by (user_id, id), so concurrent telemetryd instances take index locks in
 * one order and cannot deadlock each other. Every value is a parameter: the
 * array literals are built here, each element quoted and escaped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "log.h"
#include "sbuf.h"
#include "telemetryd.h"
#include "util.h"

/*
 * The rows come as ten parallel array parameters (unnest is several times
 * faster than a JSON document or a VALUES list of the same rows). "new" is
 * decided once, against the snapshot the statement starts with, and both
 * inserts take exactly the new rows; the answer names them by position. A
 * concurrent telemetryd storing the same id at the same moment makes our
 * seen insert fail with 23505 once its commit is visible; we retry, and the
 * retry sees it and counts a duplicate. An event of a user erased within
 * the day (erased_users, migrations/0014) is never new: a batch validated
 * just before the erasure stores nothing of them.
 */
static const char INGEST_SQL[] =
	"WITH b AS MATERIALIZED ("
	" SELECT x.*, NOT EXISTS (SELECT 1 FROM telemetry_seen s"
	"  WHERE s.user_id = x.user_id AND s.event_id = x.id)"
	"  AND NOT EXISTS (SELECT 1 FROM erased_users r WHERE r.user_id = x.user_id) AS new"
	" FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[],"
	"  $6::text[], $7::text[], $8::int[], $9::int[], $10::jsonb[]) WITH ORDINALITY"
	"  AS x(id, team_id, user_id, type, occurred_at, app_version, os_version,"
	"  display_width, display_height, attrs, k)),"
	" s AS (INSERT INTO telemetry_seen (user_id, event_id)"
	"  SELECT user_id, id FROM b WHERE new),"
	" e AS (INSERT INTO telemetry_events (id, team_id, user_id, type, occurred_at,"
	"  app_version, os_version, display_width, display_height, attrs)"
	"  SELECT id, team_id, user_id, type, occurred_at, app_version, os_version,"
	"  display_width, display_height, attrs FROM b WHERE new) "
	"SELECT k FROM b WHERE new";

/* The array parameters of INGEST_SQL, in order. */
enum ingest_col {
	COL_ID,
	COL_TEAM,
	COL_USER,
	COL_TYPE,
	COL_AT,
	COL_APP,
	COL_OS,
	COL_WIDTH,
	COL_HEIGHT,
	COL_ATTRS,
	_COL_MAX,
};

/* One queued request: an ingest api.call or an authd signal. */
struct telemetryd_pending {
	struct telemetryd_pending *next;
	struct rpc_request *req;
	bool signal;
	char user_id[UTIL_UUID_LEN + 1];
	char team_id[UTIL_UUID_LEN + 1];
	struct telemetryd_input in;
};

/* One event of a batch, for sorting out repeats and matching the answer. */
struct batch_key {
	const char *user_id;
	struct telemetryd_event *ev;
	size_t order;
	const struct telemetryd_pending *p;
};

/* A batch on its way: its requests, their events sorted, the statement's parameters. */
struct telemetryd_batch {
	struct telemetryd *x;
	struct telemetryd_pending *reqs;
	struct batch_key *keys;    /* the first occurrences, in (user_id, id) order */
	size_t n, events;          /* keys; events of the requests */
	struct sbuf cols[_COL_MAX];
	int64_t t0;                /* mono_us() when it was made */
	bool tried_partitions;     /* 23514 seen: partitions made, sent again */
	bool tried_race;           /* 23505 seen: sent again */
};

/* telemetryd_ingest_prepare - declare the batch statement on the pool */
int telemetryd_ingest_prepare(struct telemetryd *x)
{
	int r = pgq_statement(x->b.pgq, INGEST_SQL, _COL_MAX);

	if (r < 0)
		return r;
	x->stmt[TELEMETRYD_STMT_INGEST] = r;
	return 0;
}

/* ---- queued requests ---------------------------------------------------------- */

static struct telemetryd_pending *s_pending_free(struct telemetryd_pending *p)
{
	if (!p)
		return NULL;
	telemetryd_input_done(&p->in);
	free(p);
	return NULL;
}

static void s_pending_freep(struct telemetryd_pending **p)
{
	*p = s_pending_free(*p);
}

static void s_arm(struct telemetryd *x, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (event_add(x->q.timer, &tv) == 0)
		x->q.armed = true;
}

/* telemetryd_ingest_flush_now - commit what is queued at the next loop turn */
void telemetryd_ingest_flush_now(struct telemetryd *x)
{
	if (x->q.timer && x->q.head)
		s_arm(x, 0);
}

static void s_enqueue(struct telemetryd *x, struct telemetryd_pending *p)
{
	if (x->q.tail)
		x->q.tail->next = p;
	else
		x->q.head = p;
	x->q.tail = p;
	x->q.n_events += p->in.n_events;
	if (x->q.n_events >= (size_t)x->b.d.cfg.telemetry.batch_max_events)
		s_arm(x, 0);
	else if (!x->q.armed)
		s_arm(x, x->b.d.cfg.telemetry.batch_delay_ms);
}

/* s_take_batch - detach requests from the head until batch_max_events */
static struct telemetryd_pending *s_take_batch(struct telemetryd *x)
{
	struct telemetryd_pending *first = x->q.head, *last = first;
	size_t n = 0, max = (size_t)x->b.d.cfg.telemetry.batch_max_events;

	if (!first)
		return NULL;
	for (;;) {
		n += last->in.n_events;
		if (!last->next || n + last->next->in.n_events > max)
			break;
		last = last->next;
	}
	x->q.head = last->next;
	if (!x->q.head)
		x->q.tail = NULL;
	last->next = NULL;
	x->q.n_events -= n;
	return first;
}

/* ---- the batch statement -------------------------------------------------------- */

static int s_key_cmp(const void *a, const void *b)
{
	const struct batch_key *x = a, *y = b;
	int c = strcmp(x->user_id, y->user_id);

	if (c == 0)
		c = strcmp(x->ev->id, y->ev->id);
	if (c == 0)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

static int s_match_cmp(const void *a, const void *b)
{
	const struct batch_key *x = a, *y = b;
	int c = strcmp(x->user_id, y->user_id);

	return c ? c : strcmp(x->ev->id, y->ev->id);
}

/* s_keys - every event of the batch, sorted; repeats marked, firsts kept in front */
static struct batch_key *s_keys(struct telemetryd_pending *batch, size_t *ret_n)
{
	size_t n = 0, k = 0, firsts = 0;
	struct batch_key *keys;

	for (struct telemetryd_pending *p = batch; p; p = p->next)
		n += p->in.n_events;
	keys = calloc(MAX(n, (size_t)1), sizeof(*keys));
	if (!keys)
		return NULL;
	for (struct telemetryd_pending *p = batch; p; p = p->next)
		for (size_t i = 0; i < p->in.n_events; i++, k++)
			keys[k] = (struct batch_key){ p->user_id, &p->in.events[i], k, p };
	qsort(keys, n, sizeof(*keys), s_key_cmp);
	for (size_t i = 0; i < n; i++) {
		keys[i].ev->duplicate = firsts > 0 && s_match_cmp(&keys[firsts - 1], &keys[i]) == 0;
		if (!keys[i].ev->duplicate)
			keys[firsts++] = keys[i];
	}
	*ret_n = firsts;
	return keys;
}

/* s_elem - one quoted array element; only '"' and '\\' need escaping inside quotes */
static void s_elem(struct sbuf *b, const char *v)
{
	const char *p = v;

	sbuf_put(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1);
	while (*p) {
		size_t n = strcspn(p, "\"\\");

		sbuf_put(b, p, n);
		p += n;
		if (*p) {
			sbuf_put(b, "\\", 1);
			sbuf_put(b, p++, 1);
		}
	}
	sbuf_put(b, "\"", 1);
}

static void s_null(struct sbuf *b)
{
	sbuf_puts(b, b->len > 1 ? ",NULL" : "NULL");
}

static void s_row(struct sbuf cols[_COL_MAX], const struct telemetryd_pending *p,
		  const struct telemetryd_event *ev)
{
	char at[32], w[16], h[16];

	util_format_time(ev->occurred_us, at);
	s_elem(&cols[COL_ID], ev->id);
	s_elem(&cols[COL_TEAM], p->team_id);
	s_elem(&cols[COL_USER], p->user_id);
	s_elem(&cols[COL_TYPE], telemetryd_type_to_str(ev->type));
	s_elem(&cols[COL_AT], at);
	s_elem(&cols[COL_ATTRS], ev->attrs);
	if (p->signal) { /* the server's own event: no client fields */
		for (int c = COL_APP; c <= COL_HEIGHT; c++)
			s_null(&cols[c]);
		return;
	}
	snprintf(w, sizeof(w), "%d", p->in.client.display_width);
	snprintf(h, sizeof(h), "%d", p->in.client.display_height);
	s_elem(&cols[COL_APP], p->in.client.app_version);
	s_elem(&cols[COL_OS], p->in.client.os_version);
	s_elem(&cols[COL_WIDTH], w);
	s_elem(&cols[COL_HEIGHT], h);
}

/* s_arrays - the array literals of the batch's first occurrences, in key order */
static int s_arrays(const struct batch_key *keys, size_t n, struct sbuf cols[_COL_MAX])
{
	bool oom = false;

	for (int c = 0; c < _COL_MAX; c++)
		sbuf_puts(&cols[c], "{");
	for (size_t i = 0; i < n; i++)
		s_row(cols, keys[i].p, keys[i].ev);
	for (int c = 0; c < _COL_MAX; c++) {
		sbuf_puts(&cols[c], "}");
		oom = oom || cols[c].oom;
	}
	return oom ? -ENOMEM : 0;
}

static void s_arrays_free(struct sbuf cols[_COL_MAX])
{
	for (int c = 0; c < _COL_MAX; c++)
		sbuf_done(&cols[c]);
}

static void s_batch_span(const struct batch_key *keys, size_t n, int64_t *lo, int64_t *hi)
{
	*lo = INT64_MAX;
	*hi = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		*lo = MIN(*lo, keys[i].ev->occurred_us);
		*hi = MAX(*hi, keys[i].ev->occurred_us);
	}
}

/* s_mark_stored - every row k (1-based position) of the answer was new */
static int s_mark_stored(const PGresult *res, const struct batch_key *keys, size_t n)
{
	int rows = PQntuples(res);
	int64_t k;

	for (int i = 0; i < rows; i++) {
		if (db_get_i64(res, i, 0, &k) < 0 || k < 1 || (uint64_t)k > n)
			return -EBADMSG;
		keys[k - 1].ev->stored = true;
	}
	return rows;
}

/* ---- answers ----------------------------------------------------------------------- */

static void s_answer_ingest(struct telemetryd_pending *p)
{
	size_t accepted = 0;
	json_auto_t *body = NULL;

	for (size_t i = 0; i < p->in.n_events; i++)
		accepted += p->in.events[i].stored;
	body = json_pack("{s:I, s:I, s:O}", "accepted", (json_int_t)accepted, "duplicates",
			 (json_int_t)(p->in.n_events - accepted), "rejected", p->in.rejected);
	telemetryd_reply_json(TAKE_PTR(p->req), 202, body);
}

static void s_answer_signal(struct telemetryd_pending *p)
{
	struct ipc_ack ack = { 0 };
	struct ipc_buf out;
	struct rpc_request *req = TAKE_PTR(p->req);

	ipc_buf_init(&out);
	if (ipc_encode_ack(&out, rpc_request_id(req), &ack) < 0)
		(void)rpc_reply_error(req, "internal", "cannot encode ack");
	else
		(void)rpc_reply(req, out.data, out.size);
	ipc_buf_done(&out);
}

static void s_answer(struct telemetryd_pending *p, int r)
{
	if (r == 0 && p->signal)
		s_answer_signal(p);
	else if (r == 0)
		s_answer_ingest(p);
	else if (p->signal)
		(void)rpc_reply_error(TAKE_PTR(p->req), "unavailable",
				      "telemetry storage is unavailable");
	else
		telemetryd_reply_unavailable(TAKE_PTR(p->req));
}

static void s_note(struct telemetryd *x, int r, const char *sqlstate, size_t events)
{
	if (r < 0 && !x->q.failing) {
		x->q.failing = true;
		log_warning("telemetry commit failed, answering 503",
			    LOG_S("error", r == -ENOTCONN ? "database unavailable" : strerror(-r)),
			    LOG_S("sqlstate", sqlstate), LOG_I("events", events));
	} else if (r == 0 && x->q.failing) {
		x->q.failing = false;
		log_info("telemetry commits recovered");
	}
}

/* ---- a batch on its way: one statement (twice at most), then every answer ---- */

static void s_batch_sent(int r, const PGresult *res, const char *sqlstate, void *userdata);

/* s_batch_free - the batch's arrays and keys (its requests were answered) */
static void s_batch_free(struct telemetryd_batch *b)
{
	s_arrays_free(b->cols);
	free(b->keys);
	free(b);
}

/* s_batch_end - answer every request of b with r, then free it; the next batch may go */
static void s_batch_end(struct telemetryd_batch *b, int r, const char *sqlstate, size_t stored)
{
	struct telemetryd *x = b->x;
	struct telemetryd_pending *next;

	s_note(x, r, sqlstate ? sqlstate : "", b->events);
	if (r < 0)
		x->q.failed++;
	if (r == 0) {
		x->q.committed += stored;
		x->q.batches++;
		metrics_hist_observe(&x->q.batch_events, (double)b->events);
		metrics_hist_observe(&x->q.commit_seconds, (double)(mono_us() - b->t0) / 1e6);
		log_debug("telemetry batch committed", LOG_I("events", b->events),
			  LOG_I("stored", stored), LOG_I("us", mono_us() - b->t0));
	}
	for (struct telemetryd_pending *p = b->reqs; p; p = next) {
		next = p->next;
		s_answer(p, r);
		s_pending_free(p);
	}
	s_batch_free(b);
	x->q.inflight--;
	if (x->q.head && x->q.timer)
		s_arm(x, 0);
}

/* s_batch_send - the batch's statement on the pool; s_batch_sent goes on */
static void s_batch_send(struct telemetryd_batch *b)
{
	struct telemetryd *x = b->x;
	const char *params[_COL_MAX];
	int r;

	for (int c = 0; c < _COL_MAX; c++)
		params[c] = b->cols[c].data;
	r = pgq_run(x->b.pgq, x->stmt[TELEMETRYD_STMT_INGEST], _COL_MAX, params,
		    x->b.d.cfg.database.statement_timeout_ms, s_batch_sent, b, NULL);
	if (r < 0)
		s_batch_end(b, r, "", 0);
}

/* s_batch_partitioned - the partitions of the batch's days exist now (or not): once more */
static void s_batch_partitioned(int r, void *userdata)
{
	struct telemetryd_batch *b = userdata;

	if (r < 0)
		s_batch_end(b, r, "", 0);
	else
		s_batch_send(b);
}

/*
 * s_batch_sent - the statement's answer: committed, or once more after
 * creating missing partitions (23514), or once more after losing a race
 * for an id with another batch or instance (23505)
 */
static void s_batch_sent(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct telemetryd_batch *b = userdata;
	int64_t lo, hi;

	if (r == -EIO && strcmp(sqlstate, "23514") == 0 && !b->tried_partitions) {
		b->tried_partitions = true;
		s_batch_span(b->keys, b->n, &lo, &hi);
		telemetryd_partitions_ensure(b->x, lo, hi, s_batch_partitioned, b);
		return;
	}
	if (r == -EIO && strcmp(sqlstate, "23505") == 0 && !b->tried_race) {
		b->tried_race = true;
		s_batch_send(b);
		return;
	}
	if (r == 0)
		r = s_mark_stored(res, b->keys, b->n);
	s_batch_end(b, r < 0 ? r : 0, sqlstate, r < 0 ? 0 : (size_t)r);
}

/* s_batch_new - the batch's keys and array parameters; NULL when out of memory */
static struct telemetryd_batch *s_batch_new(struct telemetryd *x, struct telemetryd_pending *reqs)
{
	struct telemetryd_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	*b = (struct telemetryd_batch){ .x = x, .reqs = reqs, .t0 = mono_us() };
	for (struct telemetryd_pending *p = reqs; p; p = p->next)
		b->events += p->in.n_events;
	b->keys = s_keys(reqs, &b->n);
	if (!b->keys || s_arrays(b->keys, b->n, b->cols) < 0) {
		b->reqs = NULL;
		s_batch_free(b);
		return NULL;
	}
	return b;
}

/* s_flush - send batches from the head of the queue while fewer than the limit are on their way */
static void s_flush(struct telemetryd *x)
{
	while (x->q.head && x->q.inflight < TELEMETRYD_INFLIGHT) {
		struct telemetryd_pending *reqs = s_take_batch(x), *next;
		struct telemetryd_batch *b = s_batch_new(x, reqs);

		if (!b) {
			for (struct telemetryd_pending *p = reqs; p; p = next) {
				next = p->next;
				s_answer(p, -ENOMEM);
				s_pending_free(p);
			}
			continue;
		}
		x->q.inflight++;
		if (x->need_upkeep)
			telemetryd_upkeep(x);
		s_batch_send(b);
	}
}

static void s_on_timer(evutil_socket_t fd, short what, void *userdata)
{
	struct telemetryd *x = userdata;

	(void)fd;
	(void)what;
	x->q.armed = false;
	s_flush(x);
}

/* ---- entry points ------------------------------------------------------------------- */

/* s_queue_full - so many events wait (PostgreSQL slow) that more would only pile up */
static bool s_queue_full(const struct telemetryd *x)
{
	size_t max = MAX((size_t)TELEMETRYD_QUEUE_MIN_EVENTS,
			 (size_t)x->b.d.cfg.telemetry.batch_max_events * TELEMETRYD_QUEUE_BATCHES);

	return x->q.n_events >= max;
}

static void s_reply_422(struct rpc_request *req, json_t *fields, json_t *rejected)
{
	json_auto_t *body = json_pack("{s:s, s:s, s:O}", "error", "validation_failed", "message",
				      rejected ? "no event is acceptable"
					       : "the telemetry batch is not valid",
				      "fields", fields);

	if (body && rejected)
		json_object_set(body, "rejected", rejected);
	telemetryd_reply_json(req, 422, body);
}

static int s_ids(struct telemetryd_pending *p, const char *user_id, const char *team_id)
{
	if (util_uuid_normalize(user_id, p->user_id) < 0 ||
	    util_uuid_normalize(team_id, p->team_id) < 0)
		return -EINVAL;
	return 0;
}

/* s_validate - 0 with p->in holding at least one good event, else answered */
static int s_validate(struct telemetryd *x, struct rpc_request *req,
		      const struct ipc_api_call *call, struct telemetryd_pending *p)
{
	struct telemetryd_window w;
	json_auto_t *fields = NULL;
	int r;

	telemetryd_window_init(&w, now_us(), x->b.d.cfg.telemetry.retention_days);
	r = telemetryd_validate(call->body, call->body_len, &w, &p->in, &fields);
	if (r == -EINVAL) {
		s_reply_422(req, fields, NULL);
		return r;
	}
	if (r < 0) {
		telemetryd_reply_unavailable(req);
		return r;
	}
	if (p->in.n_events == 0) {
		fields = json_pack("{s:s}", "events", "no event is acceptable");
		s_reply_422(req, fields, p->in.rejected);
		return -EINVAL;
	}
	return 0;
}

/* telemetryd_op_ingest - op "telemetry.ingest": validate, queue; replies after commit */
void telemetryd_op_ingest(struct backend *b, struct rpc_request *req,
			  const struct ipc_api_call *call)
{
	struct telemetryd *x = b->owner;
	_cleanup_(s_pending_freep) struct telemetryd_pending *p = calloc(1, sizeof(*p));

	if (!p) {
		telemetryd_reply_unavailable(req);
		return;
	}
	if (s_ids(p, call->user_id, call->team_id) < 0) {
		(void)rpc_reply_error(req, "bad_message", "user_id and team_id must be UUIDs");
		return;
	}
	if (s_validate(x, req, call, p) < 0)
		return;
	if (s_queue_full(x)) {
		telemetryd_reply_unavailable(req);
		return;
	}
	p->req = req;
	s_enqueue(x, TAKE_PTR(p));
}

static void s_random_uuid(char out[UTIL_UUID_LEN + 1])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	util_uuid_format(b, out);
}

/* telemetryd_ingest_signal - queue a server sign_in/sign_out; "ack" after commit */
int telemetryd_ingest_signal(struct telemetryd *x, struct rpc_request *req,
			     enum telemetryd_type type, int64_t time_us, const char *user_id,
			     const char *team_id)
{
	_cleanup_(s_pending_freep) struct telemetryd_pending *p = calloc(1, sizeof(*p));

	if (!p || s_queue_full(x))
		return -ENOMEM;
	if (s_ids(p, user_id, team_id) < 0)
		return -EINVAL;
	p->in.events = calloc(1, sizeof(*p->in.events));
	if (!p->in.events)
		return -ENOMEM;
	p->in.events[0].attrs = strdup("{}");
	if (!p->in.events[0].attrs)
		return -ENOMEM;
	p->in.n_events = p->in.n_total = 1;
	p->in.events[0].type = type;
	p->in.events[0].occurred_us = time_us;
	s_random_uuid(p->in.events[0].id);
	p->signal = true;
	p->req = req;
	s_enqueue(x, TAKE_PTR(p));
	return 0;
}

/* telemetryd_ingest_start - the group commit timer */
int telemetryd_ingest_start(struct telemetryd *x)
{
	static const double sizes[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000 };

	metrics_hist_init(&x->q.batch_events, sizes, ELEMENTSOF(sizes));
	metrics_hist_init(&x->q.commit_seconds, metrics_seconds_bounds, metrics_seconds_n);
	if (sodium_init() < 0)
		return log_error_errno(-EIO, "cannot initialise libsodium");
	x->q.timer = event_new(x->b.d.base, -1, 0, s_on_timer, x);
	if (!x->q.timer)
		return log_error_errno(-ENOMEM, "cannot create the commit timer");
	return 0;
}

/* telemetryd_ingest_stop - what never went out is answered 503; free the timer */
void telemetryd_ingest_stop(struct telemetryd *x)
{
	struct telemetryd_pending *next;

	for (struct telemetryd_pending *p = x->q.head; p; p = next) {
		next = p->next;
		s_answer(p, -ECANCELED);
		s_pending_free(p);
	}
	x->q.head = x->q.tail = NULL;
	x->q.n_events = 0;
	if (x->q.timer)
		event_free(x->q.timer);
	x->q.timer = NULL;
	x->q.armed = false;
	if (x->q.committed > 0)
		log_info("telemetry totals", LOG_I("stored", x->q.committed),
			 LOG_I("batches", x->q.batches));
}
