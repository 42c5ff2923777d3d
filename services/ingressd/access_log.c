/*
 * access_log.c - sembark-ingressd's access records: what each answer was
 * (method, route, status, duration, size), never who asked (no address,
 * no query string, no cookie, no credential; an unmatched path is logged
 * cut, without its long segments, which may be codes or tokens).
 *
 * Every answer that is not a success (status 400 and up: refusals,
 * failures, probes of unknown paths) is one record "http request" at
 * once, except the two a flood is answered with (429 too many requests,
 * 503 shed). Those and the successes of known routes are one record too
 * the first time a (method, route, status) is seen in a window of
 * ACCESS_WINDOW_MS; the others of that window are counted and written as one record "http
 * requests" (count, bytes, duration_ms_avg, duration_ms_max) when the
 * window ends, and at stop. A quiet server thus logs as it always did,
 * while a busy one writes a few records a window per route instead of
 * one per request, each of them sent to logd and stored by PostgreSQL.
 *
 * Connections refused at accept (over [ingress] max_connections or
 * max_connections_per_address) are counted the same way, per (reason,
 * status): the first of a window is one record "connection refused"
 * (reason, status; 0: closed without an answer), the others one record
 * "connections refused" (reason, status, count) when the window ends.
 * Never the address, nor anything that would tell who it was.
 * Loop thread.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ingressd.h"
#include "log.h"
#include "macro.h"

#define ACCESS_WINDOW_MS 5000
#define ACCESS_KEYS_MAX 256   /* kinds of success counted in one window; more: logged each */
#define LOG_METHOD_MAX 16
#define LOG_PATH_MAX 64
#define LOG_SEGMENT_MAX 16    /* longer path segments are not logged */

/* The successes of one (method, route, status) in this window, beyond the first. */
struct access_key {
	const char *route; /* a route table's name (a refusal's reason): compared by address */
	bool refusal;      /* a connection refused at accept, not an answer */
	char method[LOG_METHOD_MAX + 1];
	int status;
	uint64_t count;
	uint64_t bytes;
	int64_t ms_sum, ms_max;
};

struct access_log {
	struct event *window;
	struct access_key keys[ACCESS_KEYS_MAX];
	size_t n;
};

/*
 * s_log_path - an unmatched path for the log, cut to LOG_PATH_MAX bytes,
 * with every segment of LOG_SEGMENT_MAX bytes or more written "*": those
 * may be invite codes, ids or tokens (/api/invites/<code>/x, /join/<code>).
 */
static void s_log_path(const char *path, char out[static LOG_PATH_MAX + 1])
{
	size_t n = 0;

	while (*path && n < LOG_PATH_MAX) {
		size_t seg = strcspn(path + 1, "/") + 1; /* "/" + the segment */
		bool mask = seg > LOG_SEGMENT_MAX;

		if (mask)
			n += (size_t)snprintf(out + n, LOG_PATH_MAX + 1 - n, "/*");
		else
			n += (size_t)snprintf(out + n, LOG_PATH_MAX + 1 - n, "%.*s", (int)seg, path);
		n = MIN(n, (size_t)LOG_PATH_MAX);
		path += seg;
	}
	out[n] = '\0';
}

/* s_log_one - the record of one answer */
static void s_log_one(const char *method, const char *route, const char *path, int status,
		      int64_t ms, size_t bytes)
{
	char logged_path[LOG_PATH_MAX + 1] = "-";

	if (route) {
		log_info("http request", LOG_S("method", method), LOG_S("route", route),
			 LOG_I("status", status), LOG_I("duration_ms", ms), LOG_I("bytes", bytes));
		return;
	}
	if (path)
		s_log_path(path, logged_path);
	log_info("http request", LOG_S("method", method), LOG_S("route", "-"),
		 LOG_S("path", logged_path), LOG_I("status", status), LOG_I("duration_ms", ms),
		 LOG_I("bytes", bytes));
}

/* s_flush - one "http requests" record per key counted beyond its first; the window starts over */
static void s_flush(struct access_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct access_key *k = &l->keys[i];

		if (k->count == 0)
			continue;
		if (k->refusal) {
			log_info("connections refused", LOG_S("reason", k->route),
				 LOG_I("status", k->status), LOG_I("count", k->count));
			continue;
		}
		log_info("http requests", LOG_S("method", k->method), LOG_S("route", k->route),
			 LOG_I("status", k->status), LOG_I("count", k->count), LOG_I("bytes", k->bytes),
			 LOG_I("duration_ms_avg", k->ms_sum / (int64_t)k->count),
			 LOG_I("duration_ms_max", k->ms_max));
	}
	l->n = 0;
}

static void s_window_cb(evutil_socket_t fd, short what, void *userdata)
{
	s_flush(userdata);
}

/* s_key - the key of (method, route, status) in this window; *first when it is new; NULL: full */
static struct access_key *s_key(struct access_log *l, const char *method, const char *route,
				int status, bool refusal, bool *first)
{
	struct access_key *k;

	*first = false;
	for (size_t i = 0; i < l->n; i++) {
		k = &l->keys[i];
		if (k->route == route && k->status == status && k->refusal == refusal &&
		    strcmp(k->method, method) == 0)
			return k;
	}
	if (l->n == ACCESS_KEYS_MAX)
		return NULL;
	k = &l->keys[l->n++];
	*k = (struct access_key){ .route = route, .status = status, .refusal = refusal };
	snprintf(k->method, sizeof(k->method), "%s", method);
	*first = true;
	return k;
}

/* s_counted - may answers of this status be counted: successes, and the answers of a flood */
static bool s_counted(int status)
{
	return status < 400 || status == 429 || status == 503;
}

/* access_log_new - the access log, its window timer on base */
int access_log_new(struct event_base *base, struct access_log **ret)
{
	const struct timeval tv = { ACCESS_WINDOW_MS / 1000, (ACCESS_WINDOW_MS % 1000) * 1000 };
	struct access_log *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->window = event_new(base, -1, EV_PERSIST, s_window_cb, l);
	if (!l->window || event_add(l->window, &tv) < 0) {
		access_log_free(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

/*
 * access_log_answer - one answer: method (NULL: the request could not be
 * parsed), route (the route table's name, NULL: no route), path (the
 * request's, for an unmatched one), status, duration, body bytes
 */
void access_log_answer(struct access_log *l, const char *method, const char *route,
		       const char *path, int status, int64_t ms, size_t bytes)
{
	char m[LOG_METHOD_MAX + 1] = "-";
	struct access_key *k = NULL;
	bool first = true;

	if (method)
		snprintf(m, sizeof(m), "%.*s", LOG_METHOD_MAX, method);
	if (l && route && s_counted(status))
		k = s_key(l, m, route, status, false, &first);
	if (!k || first) {
		s_log_one(m, route, path, status, ms, bytes);
		return;
	}
	k->count++;
	k->bytes += bytes;
	k->ms_sum += ms;
	k->ms_max = MAX(k->ms_max, ms);
}

/* access_log_refused - a connection refused at accept: a record now, or counted */
void access_log_refused(struct access_log *l, const char *reason, int status)
{
	bool first = true;
	struct access_key *k = l ? s_key(l, "-", reason, status, true, &first) : NULL;

	if (!k || first) {
		log_info("connection refused", LOG_S("reason", reason), LOG_I("status", status));
		return;
	}
	k->count++;
}

/* access_log_free - what is still counted is written; accepts NULL */
struct access_log *access_log_free(struct access_log *l)
{
	if (!l)
		return NULL;
	s_flush(l);
	if (l->window)
		event_free(l->window);
	free(l);
	return NULL;
}
