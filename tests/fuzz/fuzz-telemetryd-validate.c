/*
 * fuzz-telemetryd-validate.c - libFuzzer harness for telemetryd's
 * reading of an ingest body (services/telemetryd/validate.c). The input is
 * the body; the clock is fixed (2026-12-01T00:00:00Z) and the retention
 * (0..9 days, 0: none) comes from the input's length.
 *
 * A reference written here from API.md "Telemetry" (validate.c's header
 * comment) decides whether the body as a whole is refused and, when it is
 * not, which events are accepted; telemetryd_validate must agree:
 * -EINVAL with a non-empty "fields" exactly when the reference refuses
 * the body; else every event either accepted or rejected (once, by index,
 * in order), the accepted ones exactly those the reference accepts, each
 * with its id lower-cased, its type, its time inside the window and its
 * attrs written as JSON that reads back equal to what was sent ({} when
 * absent), and the client's fields copied as sent.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "telemetryd.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const s_client_types[] = { "feature_interaction", "crash", "error",
					      "network_status", "connectivity" };

/* s_chars - code points of valid UTF-8 (jansson has checked it) */
static size_t s_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

static bool s_only_keys(json_t *o, const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		bool known = false;

		for (size_t i = 0; i < n; i++)
			known = known || strcmp(k, keys[i]) == 0;
		if (!known)
			return false;
	}
	return true;
}

static bool s_ref_client_string(json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), c;

	if (!json_is_string(v))
		return false;
	c = s_chars(s, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return c >= 1 && c <= 64 && n <= 256;
}

static bool s_ref_side(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 20000;
}

/* s_ref_body_ok - the body as a whole: {"client": {...}, "events": [1..500]} */
static bool s_ref_body_ok(json_t *root)
{
	static const char *const top[] = { "client", "events" };
	static const char *const client[] = { "app_version", "os_version", "display" };
	static const char *const display[] = { "width", "height" };
	json_t *c = json_object_get(root, "client"), *e = json_object_get(root, "events"), *d;

	if (!json_is_object(root) || !s_only_keys(root, top, 2) || !json_is_object(c) ||
	    !s_only_keys(c, client, 3) || !json_is_array(e) || json_array_size(e) < 1 ||
	    json_array_size(e) > 500)
		return false;
	d = json_object_get(c, "display");
	return s_ref_client_string(json_object_get(c, "app_version")) &&
	       s_ref_client_string(json_object_get(c, "os_version")) && json_is_object(d) &&
	       s_only_keys(d, display, 2) && s_ref_side(json_object_get(d, "width")) &&
	       s_ref_side(json_object_get(d, "height"));
}

static bool s_ref_uuid(json_t *v)
{
	const char *s = json_string_value(v);

	if (!json_is_string(v) || json_string_length(v) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	}
	return true;
}

static bool s_ref_attrs(json_t *a, const char *type)
{
	const char *k, *st;
	json_t *v;

	if (!json_is_object(a) || json_object_size(a) > 16)
		return false;
	json_object_foreach(a, k, v) {
		size_t c = s_chars(k, strlen(k));

		if (c < 1 || c > 64)
			return false;
		if (json_is_string(v) ? s_chars(json_string_value(v), json_string_length(v)) > 256
				      : !(json_is_number(v) || json_is_boolean(v)))
			return false;
	}
	v = json_object_get(a, type[0] == 'f' ? "feature" : type[0] == 'n' ? "online" : "state");
	st = json_string_value(v);
	if (strcmp(type, "feature_interaction") == 0)
		return json_is_string(v) && json_string_length(v) > 0;
	if (strcmp(type, "network_status") == 0)
		return json_is_boolean(v);
	if (strcmp(type, "connectivity") == 0)
		return st && (!strcmp(st, "connected") || !strcmp(st, "disconnected") ||
			      !strcmp(st, "reconnecting"));
	return true;
}

/* s_ref_event_ok - one event of the array */
static bool s_ref_event_ok(json_t *ev, const struct telemetryd_window *w)
{
	static const char *const keys[] = { "id", "type", "occurred_at", "attrs" };
	json_t *type = json_object_get(ev, "type"), *at = json_object_get(ev, "occurred_at"),
	       *attrs = json_object_get(ev, "attrs");
	bool known = false;
	int64_t us;

	if (!json_is_object(ev) || !s_only_keys(ev, keys, 4) ||
	    !s_ref_uuid(json_object_get(ev, "id")) || !json_is_string(type))
		return false;
	for (size_t i = 0; i < 5; i++)
		known = known || strcmp(json_string_value(type), s_client_types[i]) == 0;
	if (!known || !json_is_string(at) || util_parse_time(json_string_value(at), 0, &us) < 0 ||
	    us < w->oldest_us || us > w->newest_us)
		return false;
	if (!attrs) {
		json_t *empty = json_object();
		bool ok = s_ref_attrs(empty, json_string_value(type));

		json_decref(empty);
		return ok;
	}
	return s_ref_attrs(attrs, json_string_value(type));
}

/* s_check_event - an accepted event is the one sent */
static void s_check_event(const struct telemetryd_event *e, json_t *ev,
			  const struct telemetryd_window *w)
{
	json_t *attrs = json_object_get(ev, "attrs"), *got;
	const char *id = json_string_value(json_object_get(ev, "id"));
	bool same;

	for (size_t i = 0; i < 36; i++)
		if (e->id[i] != (id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]))
			abort();
	if (e->id[36] || strcmp(telemetryd_type_to_str(e->type),
				json_string_value(json_object_get(ev, "type"))) != 0 ||
	    e->occurred_us < w->oldest_us || e->occurred_us > w->newest_us || !e->attrs)
		abort();
	got = json_loads(e->attrs, 0, NULL);
	if (attrs)
		same = json_equal(got, attrs);
	else
		same = json_is_object(got) && json_object_size(got) == 0;
	json_decref(got);
	if (!same)
		abort();
}

static void s_check_accepted(const struct telemetryd_input *in, json_t *root,
			     const struct telemetryd_window *w)
{
	json_t *events = json_object_get(root, "events"), *c = json_object_get(root, "client");
	size_t n = json_array_size(events), next_ok = 0, next_rej = 0;

	if (in->n_total != n || in->n_events + json_array_size(in->rejected) != n ||
	    strcmp(in->client.app_version, json_string_value(json_object_get(c, "app_version"))) ||
	    strcmp(in->client.os_version, json_string_value(json_object_get(c, "os_version"))))
		abort();
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_array_get(events, i);
		bool ok = s_ref_event_ok(ev, w);

		if (ok) {
			if (next_ok >= in->n_events || in->events[next_ok].index != i)
				abort();
			s_check_event(&in->events[next_ok++], ev, w);
		} else {
			json_t *r = json_array_get(in->rejected, next_rej++);

			if (json_integer_value(json_object_get(r, "index")) != (json_int_t)i ||
			    !json_is_string(json_object_get(r, "error")) ||
			    json_string_length(json_object_get(r, "error")) == 0)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t now;
	struct telemetryd_window w;
	struct telemetryd_input in = { 0 };
	json_t *fields = NULL, *root;
	int r;

	if (!now && util_parse_time("2026-12-01T00:00:00Z", 0, &now) < 0)
		abort();
	telemetryd_window_init(&w, now, (int)(size % 10));
	r = telemetryd_validate((const char *)data, size, &w, &in, &fields);
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (r == -EINVAL) {
		if (s_ref_body_ok(root) || !json_is_object(fields) || json_object_size(fields) == 0)
			abort();
	} else if (r == 0) {
		if (!s_ref_body_ok(root))
			abort();
		s_check_accepted(&in, root, &w);
		telemetryd_input_done(&in);
	} else {
		abort(); /* -ENOMEM: not within the fuzzer's limits */
	}
	json_decref(fields);
	json_decref(root);
	return 0;
}
