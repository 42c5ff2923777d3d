/*
 * test-telemetryd-validate.c - unit tests of services/telemetryd/validate.c
 * (and the query parser of summary.c): every rule of API.md "Telemetry"
 * at its bounds, table-driven. The clock is fixed (T0), so the 7-day and
 * 5-minute limits are tested to the microsecond.
 *
 *   window      7 days back (shorter retention shortens it), 5 minutes ahead
 *   client      app_version / os_version 1..64 characters, display 1..20000
 *   event       id, type (sign_in/sign_out refused), occurred_at, attrs
 *               (16 keys, 256 characters, value types, per-type fields)
 *   body        1..500 events, client required, unknown keys, rejected list
 *   days        ?days=N for the summary: 1..30, default 7
 *
 * occurred_at's grammar (util_parse_time) and character counts
 * (util_utf8_chars) are shared/util.c's: tests/unit/test-util.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "services/telemetryd/telemetryd.h"

#define T0 1795928400000000LL /* 2026-11-29T05:00:00Z */
#define US 1LL
#define SEC (1000000LL)
#define DAY (86400LL * SEC)

#define assert_contains(hay, needle)                                                \
	do {                                                                        \
		if (!strstr((hay), (needle)))                                       \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
	} while (0)

static json_t *s_json(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);

	if (!j)
		fail_msg("bad test JSON %s: %s", text, err.text);
	return j;
}

/* s_repeat - n copies of s (heap) */
static char *s_repeat(const char *s, size_t n)
{
	size_t len = strlen(s);
	char *out = malloc(len * n + 1);

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * len, s, len);
	out[len * n] = '\0';
	return out;
}

/* ---- window --------------------------------------------------------------------- */

static void test_window(void **state)
{
	static const struct {
		int retention_days;
		int past_days;
	} cases[] = { { 30, 7 }, { 7, 7 }, { 8, 7 }, { 6, 6 }, { 1, 1 }, { 3650, 7 } };
	struct telemetryd_window w;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		telemetryd_window_init(&w, T0, cases[i].retention_days);
		assert_int_equal(w.past_days, cases[i].past_days);
		assert_int_equal(w.oldest_us, T0 - cases[i].past_days * DAY);
		assert_int_equal(w.newest_us, T0 + 5 * 60 * SEC);
	}
}

/* ---- client ---------------------------------------------------------------------- */

static void test_client(void **state)
{
	_cleanup_free_ char *s64 = s_repeat("v", 64);
	_cleanup_free_ char *s65 = s_repeat("v", 65);
	_cleanup_free_ char *u64 = s_repeat("\xc3\xa9", 64); /* 64 characters, 128 bytes */
	_cleanup_free_ char *u65 = s_repeat("\xc3\xa9", 65);
	const struct {
		const char *app, *os, *display, *extra;
		const char *field; /* NULL: accepted */
	} cases[] = {
		{ "\"2.4.1\"", "\"macOS 14.5\"", "{\"width\":2560,\"height\":1440}", "", NULL },
		{ "\"a\"", "\"b\"", "{\"width\":1,\"height\":1}", "", NULL },
		{ "\"a\"", "\"b\"", "{\"width\":20000,\"height\":20000}", "", NULL },
		{ "\"a\"", "\"b\"", "{\"width\":0,\"height\":1}", "", "client.display.width" },
		{ "\"a\"", "\"b\"", "{\"width\":1,\"height\":0}", "", "client.display.height" },
		{ "\"a\"", "\"b\"", "{\"width\":20001,\"height\":1}", "", "client.display.width" },
		{ "\"a\"", "\"b\"", "{\"width\":1,\"height\":20001}", "", "client.display.height" },
		{ "\"a\"", "\"b\"", "{\"width\":-1,\"height\":1}", "", "client.display.width" },
		{ "\"a\"", "\"b\"", "{\"width\":1.5,\"height\":1}", "", "client.display.width" },
		{ "\"a\"", "\"b\"", "{\"width\":100.0,\"height\":1}", "", "client.display.width" },
		{ "\"a\"", "\"b\"", "{\"width\":\"100\",\"height\":1}", "", "client.display.width" },
		{ "\"a\"", "\"b\"", "{\"width\":true,\"height\":1}", "", "client.display.width" },
		{ "\"a\"", "\"b\"", "{\"height\":1}", "", "client.display.width" },
		{ "\"a\"", "\"b\"", "{\"width\":1}", "", "client.display.height" },
		{ "\"a\"", "\"b\"", "{\"width\":1,\"height\":1,\"dpi\":2}", "", "client.display.dpi" },
		{ "\"a\"", "\"b\"", "[1,1]", "", "client.display" },
		{ "\"a\"", "\"b\"", "null", "", "client.display" },
		{ "\"\"", "\"b\"", "{\"width\":1,\"height\":1}", "", "client.app_version" },
		{ "\"a\"", "\"\"", "{\"width\":1,\"height\":1}", "", "client.os_version" },
		{ "1", "\"b\"", "{\"width\":1,\"height\":1}", "", "client.app_version" },
		{ "null", "\"b\"", "{\"width\":1,\"height\":1}", "", "client.app_version" },
		{ "\"a\"", "[]", "{\"width\":1,\"height\":1}", "", "client.os_version" },
		{ "\"a\\nb\"", "\"b\"", "{\"width\":1,\"height\":1}", "", "client.app_version" },
		{ "\"a\"", "\"b\\u007f\"", "{\"width\":1,\"height\":1}", "", "client.os_version" },
		{ "\"a\"", "\"b\"", "{\"width\":1,\"height\":1}", ",\"device_id\":\"x\"",
		  "client.device_id" },
		{ "\"a\"", "\"b\"", "{\"width\":1,\"height\":1}", ",\"user_agent\":\"x\"",
		  "client.user_agent" },
	};
	char text[1024];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct telemetryd_client c;
		json_t *fields = json_object();
		json_t *client;
		int r;

		snprintf(text, sizeof(text), "{\"app_version\":%s,\"os_version\":%s,\"display\":%s%s}",
			 cases[i].app, cases[i].os, cases[i].display, cases[i].extra);
		client = s_json(text);
		r = telemetryd_check_client(client, &c, fields);
		if (!cases[i].field && r != 0)
			fail_msg("client %s refused", text);
		if (cases[i].field && (r != -EINVAL || !json_object_get(fields, cases[i].field)))
			fail_msg("client %s: no problem named %s", text, cases[i].field);
		if (!cases[i].field)
			assert_int_equal(json_object_size(fields), 0);
		json_decref(client);
		json_decref(fields);
	}

	/* lengths: 64 characters (also when multi-byte) accepted, 65 refused */
	{
		const struct {
			const char *v;
			bool ok;
		} lens[] = { { s64, true }, { s65, false }, { u64, true }, { u65, false } };

		for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
			struct telemetryd_client c;
			json_t *fields = json_object();
			json_t *client = json_pack("{s:s, s:s, s:{s:i, s:i}}", "app_version", lens[i].v,
						   "os_version", lens[i].v, "display", "width", 1,
						   "height", 1);
			int r = telemetryd_check_client(client, &c, fields);

			assert_int_equal(r == 0, lens[i].ok);
			if (lens[i].ok) {
				assert_string_equal(c.app_version, lens[i].v);
				assert_string_equal(c.os_version, lens[i].v);
			} else {
				assert_non_null(json_object_get(fields, "client.app_version"));
				assert_non_null(json_object_get(fields, "client.os_version"));
			}
			json_decref(client);
			json_decref(fields);
		}
	}
}

/* ---- one event --------------------------------------------------------------------- */

#define ID "\"id\":\"0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10\""
#define AT "\"occurred_at\":\"2026-11-29T04:00:00.123Z\""
#define FEATURE "\"type\":\"feature_interaction\""

struct event_case {
	const char *json;
	const char *why; /* NULL: accepted; else a substring of the error */
};

static const struct event_case s_event_cases[] = {
	/* the example of API.md */
	{ "{" ID "," FEATURE "," AT ",\"attrs\":{\"feature\":\"invite.copy\"}}", NULL },
	/* shape */
	{ "[]", "event: must be an object" },
	{ "\"x\"", "event: must be an object" },
	{ "null", "event: must be an object" },
	{ "{" ID "," FEATURE "," AT ",\"attrs\":{\"feature\":\"f\"},\"ip\":\"1.2.3.4\"}",
	  "unknown field ip" },
	{ "{" ID "," FEATURE "," AT ",\"attrs\":{\"feature\":\"f\"},\"user_id\":\"u\"}",
	  "unknown field user_id" },
	/* id */
	{ "{" FEATURE "," AT ",\"attrs\":{\"feature\":\"f\"}}", "id: required" },
	{ "{\"id\":\"not-a-uuid\"," FEATURE "," AT ",\"attrs\":{\"feature\":\"f\"}}", "id: must be a UUID" },
	{ "{\"id\":42," FEATURE "," AT ",\"attrs\":{\"feature\":\"f\"}}", "id: must be a UUID" },
	{ "{\"id\":\"0B5C6A8E-4A43-4C43-9A3E-6F1C1B9D2F10\"," FEATURE "," AT
	  ",\"attrs\":{\"feature\":\"f\"}}", NULL },
	/* type */
	{ "{" ID "," AT "}", "type: required" },
	{ "{" ID ",\"type\":\"sign_in\"," AT "}", "type: sign_in is recorded by the server" },
	{ "{" ID ",\"type\":\"sign_out\"," AT "}", "type: sign_out is recorded by the server" },
	{ "{" ID ",\"type\":\"Crash\"," AT "}", "type: must be" },
	{ "{" ID ",\"type\":\"page_view\"," AT "}", "type: must be" },
	{ "{" ID ",\"type\":1," AT "}", "type: must be" },
	{ "{" ID ",\"type\":\"crash\"," AT "}", NULL },
	{ "{" ID ",\"type\":\"error\"," AT ",\"attrs\":{\"code\":\"E1\",\"fatal\":false}}", NULL },
	/* occurred_at: the window around T0 */
	{ "{" ID ",\"type\":\"crash\"}", "occurred_at: required" },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":\"yesterday\"}", "occurred_at: must be" },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":1795928400}", "occurred_at: must be" },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":\"2026-11-22T05:00:00Z\"}", NULL },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":\"2026-11-22T04:59:59.999999Z\"}",
	  "occurred_at: more than 7 days ago" },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":\"2026-11-22T06:00:00+01:00\"}", NULL },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":\"2026-11-29T05:05:00Z\"}", NULL },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":\"2026-11-29T05:05:00.000001Z\"}",
	  "occurred_at: more than 5 minutes ahead" },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":\"2026-11-29T06:05:00+01:00\"}", NULL },
	{ "{" ID ",\"type\":\"crash\",\"occurred_at\":\"2027-01-01T00:00:00Z\"}",
	  "occurred_at: more than 5 minutes ahead" },
	/* attrs: shape, size, value types */
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":[]}", "attrs: must be an object" },
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":\"x\"}", "attrs: must be an object" },
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":null}", "attrs: must be an object" },
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":{}}", NULL },
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":{\"a\":1,\"b\":1.5,\"c\":-2e3,\"d\":true,"
	  "\"e\":\"s\"}}", NULL },
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":{\"a\":null}}", "attrs.a: must be a string" },
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":{\"a\":{}}}", "attrs.a: must be a string" },
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":{\"a\":[1]}}", "attrs.a: must be a string" },
	{ "{" ID ",\"type\":\"crash\"," AT ",\"attrs\":{\"\":1}}", "attrs: keys must be" },
	/* per type */
	{ "{" ID "," FEATURE "," AT "}", "attrs.feature: required" },
	{ "{" ID "," FEATURE "," AT ",\"attrs\":{}}", "attrs.feature: required" },
	{ "{" ID "," FEATURE "," AT ",\"attrs\":{\"feature\":\"\"}}", "attrs.feature: required" },
	{ "{" ID "," FEATURE "," AT ",\"attrs\":{\"feature\":1}}", "attrs.feature: required" },
	{ "{" ID ",\"type\":\"network_status\"," AT ",\"attrs\":{\"online\":true}}", NULL },
	{ "{" ID ",\"type\":\"network_status\"," AT ",\"attrs\":{\"online\":false}}", NULL },
	{ "{" ID ",\"type\":\"network_status\"," AT ",\"attrs\":{\"online\":1}}", "attrs.online" },
	{ "{" ID ",\"type\":\"network_status\"," AT ",\"attrs\":{\"online\":\"true\"}}", "attrs.online" },
	{ "{" ID ",\"type\":\"network_status\"," AT ",\"attrs\":{}}", "attrs.online" },
	{ "{" ID ",\"type\":\"network_status\"," AT "}", "attrs.online" },
	{ "{" ID ",\"type\":\"connectivity\"," AT ",\"attrs\":{\"state\":\"connected\"}}", NULL },
	{ "{" ID ",\"type\":\"connectivity\"," AT ",\"attrs\":{\"state\":\"disconnected\"}}", NULL },
	{ "{" ID ",\"type\":\"connectivity\"," AT ",\"attrs\":{\"state\":\"reconnecting\"}}", NULL },
	{ "{" ID ",\"type\":\"connectivity\"," AT ",\"attrs\":{\"state\":\"Connected\"}}", "attrs.state" },
	{ "{" ID ",\"type\":\"connectivity\"," AT ",\"attrs\":{\"state\":\"offline\"}}", "attrs.state" },
	{ "{" ID ",\"type\":\"connectivity\"," AT ",\"attrs\":{\"state\":true}}", "attrs.state" },
	{ "{" ID ",\"type\":\"connectivity\"," AT "}", "attrs.state" },
};

static void s_check_event(const char *text, const char *expect_why)
{
	struct telemetryd_window w;
	struct telemetryd_event e = { 0 };
	char why[TELEMETRYD_WHY_MAX] = "";
	json_t *ev = s_json(text);
	int r;

	telemetryd_window_init(&w, T0, 30);
	r = telemetryd_check_event(ev, &w, &e, why, sizeof(why));
	if (!expect_why && r != 0)
		fail_msg("event %s refused: %s", text, why);
	if (expect_why && r == 0)
		fail_msg("event %s accepted, expected \"%s\"", text, expect_why);
	if (expect_why)
		assert_contains(why, expect_why);
	if (r == 0) {
		assert_non_null(e.attrs);
		assert_string_equal(e.id, "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10");
	}
	free(e.attrs);
	json_decref(ev);
}

static void test_event_table(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_event_cases); i++)
		s_check_event(s_event_cases[i].json, s_event_cases[i].why);
}

static void test_event_fields(void **state)
{
	struct telemetryd_window w;
	struct telemetryd_event e = { 0 };
	char why[TELEMETRYD_WHY_MAX];
	json_t *ev = s_json("{" ID ",\"type\":\"crash\",\"occurred_at\":\"2026-11-29T06:00:00.5+01:00\"}");

	telemetryd_window_init(&w, T0, 30);
	assert_int_equal(telemetryd_check_event(ev, &w, &e, why, sizeof(why)), 0);
	assert_int_equal(e.type, TELEMETRYD_CRASH);
	assert_int_equal(e.occurred_us, T0 + 500000);
	assert_string_equal(e.attrs, "{}"); /* missing attrs are {} */
	free(e.attrs);
	json_decref(ev);

	ev = s_json("{" ID "," FEATURE "," AT ",\"attrs\":{\"feature\":\"x\",\"n\":2}}");
	assert_int_equal(telemetryd_check_event(ev, &w, &e, why, sizeof(why)), 0);
	assert_string_equal(e.attrs, "{\"feature\":\"x\",\"n\":2}");
	free(e.attrs);
	json_decref(ev);

	/* a shorter retention shortens the window */
	telemetryd_window_init(&w, T0, 2);
	ev = s_json("{" ID ",\"type\":\"crash\",\"occurred_at\":\"2026-11-26T05:00:00Z\"}");
	assert_int_equal(telemetryd_check_event(ev, &w, &e, why, sizeof(why)), -EINVAL);
	assert_contains(why, "more than 2 days ago");
	json_decref(ev);
}

static json_t *s_attrs_event(json_t *attrs)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "id", "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10",
			 "type", "crash", "occurred_at", "2026-11-29T04:00:00Z", "attrs", attrs);
}

static void test_attrs_bounds(void **state)
{
	_cleanup_free_ char *s256 = s_repeat("x", 256);
	_cleanup_free_ char *s257 = s_repeat("x", 257);
	_cleanup_free_ char *u256 = s_repeat("\xe2\x82\xac", 256); /* 256 characters, 768 bytes */
	_cleanup_free_ char *u257 = s_repeat("\xe2\x82\xac", 257);
	_cleanup_free_ char *k64 = s_repeat("k", 64);
	_cleanup_free_ char *k65 = s_repeat("k", 65);
	const struct {
		size_t keys;
		const char *key, *value;
		bool ok;
	} cases[] = {
		{ 16, NULL, "v", true },  { 17, NULL, "v", false }, { 0, NULL, NULL, true },
		{ 1, NULL, s256, true },  { 1, NULL, s257, false }, { 1, NULL, u256, true },
		{ 1, NULL, u257, false }, { 1, k64, "v", true },    { 1, k65, "v", false },
	};
	struct telemetryd_window w;

	telemetryd_window_init(&w, T0, 30);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_t *attrs = json_object(), *ev;
		struct telemetryd_event e = { 0 };
		char why[TELEMETRYD_WHY_MAX], key[80];
		int r;

		for (size_t k = 0; k < cases[i].keys; k++) {
			snprintf(key, sizeof(key), "%s%zu", cases[i].key ? cases[i].key : "key", k);
			if (cases[i].key)
				snprintf(key, sizeof(key), "%s", cases[i].key);
			json_object_set_new(attrs, key, json_string(cases[i].value));
		}
		ev = s_attrs_event(attrs);
		r = telemetryd_check_event(ev, &w, &e, why, sizeof(why));
		if ((r == 0) != cases[i].ok)
			fail_msg("attrs case %zu: %s", i, r == 0 ? "accepted" : why);
		free(e.attrs);
		json_decref(ev);
	}
}

/* ---- the whole body ------------------------------------------------------------------- */

static char *s_body(size_t n_events, const char *client, const char *extra)
{
	size_t size = 256 + n_events * 160;
	char *out = malloc(size);
	size_t off;

	assert_non_null(out);
	off = (size_t)snprintf(out, size, "{\"client\":%s%s,\"events\":[", client, extra);
	for (size_t i = 0; i < n_events; i++)
		off += (size_t)snprintf(out + off, size - off,
					"%s{\"id\":\"00000000-0000-4000-8000-%012zx\",\"type\":\"crash\","
					"\"occurred_at\":\"2026-11-29T04:00:00Z\"}",
					i ? "," : "", i);
	snprintf(out + off, size - off, "]}");
	return out;
}

#define CLIENT "{\"app_version\":\"1\",\"os_version\":\"os\",\"display\":{\"width\":1,\"height\":1}}"

static void s_check_body(const char *body, int expect_r, const char *field, size_t expect_good)
{
	struct telemetryd_window w;
	struct telemetryd_input in = { 0 };
	json_t *fields = NULL;
	int r;

	telemetryd_window_init(&w, T0, 30);
	r = telemetryd_validate(body, strlen(body), &w, &in, &fields);
	if (r != expect_r)
		fail_msg("body %.200s: %d, expected %d", body, r, expect_r);
	if (field && !json_object_get(fields, field))
		fail_msg("body %.200s: no problem named %s", body, field);
	if (r == 0)
		assert_int_equal(in.n_events, expect_good);
	telemetryd_input_done(&in);
	json_decref(fields);
}

static void test_body_counts(void **state)
{
	const struct {
		size_t n;
		int r;
	} cases[] = { { 0, -EINVAL }, { 1, 0 }, { 2, 0 }, { 499, 0 }, { 500, 0 }, { 501, -EINVAL } };

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *body = s_body(cases[i].n, CLIENT, "");

		s_check_body(body, cases[i].r, cases[i].r ? "events" : NULL, cases[i].n);
	}
}

static void test_body_shape(void **state)
{
	static const struct {
		const char *body;
		int r;
		const char *field;
	} cases[] = {
		{ "{\"events\":[]}", -EINVAL, "client" },
		{ "{\"client\":null,\"events\":[{}]}", -EINVAL, "client" },
		{ "{\"client\":[]," "\"events\":[{}]}", -EINVAL, "client" },
		{ "{\"client\":" CLIENT "}", -EINVAL, "events" },
		{ "{\"client\":" CLIENT ",\"events\":{}}", -EINVAL, "events" },
		{ "{\"client\":" CLIENT ",\"events\":\"x\"}", -EINVAL, "events" },
		{ "{\"client\":" CLIENT ",\"events\":[{}],\"session\":\"x\"}", -EINVAL, "session" },
		{ "{\"client\":{\"app_version\":\"\",\"os_version\":\"o\",\"display\":{\"width\":1,"
		  "\"height\":1}},\"events\":[{}]}", -EINVAL, "client.app_version" },
		{ "[1,2]", -EINVAL, "body" },
		{ "{\"client\":", -EINVAL, "body" },
		{ "{\"a\":1,\"a\":2}", -EINVAL, "body" },
		/* per-event problems are not body problems */
		{ "{\"client\":" CLIENT ",\"events\":[{}]}", 0, NULL },
		{ "{\"client\":" CLIENT ",\"events\":[1,\"x\",null]}", 0, NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		s_check_body(cases[i].body, cases[i].r, cases[i].field, 0);
}

static void test_body_rejected(void **state)
{
	const char *body = "{\"client\":" CLIENT ",\"events\":["
			   "{\"id\":\"00000000-0000-4000-8000-000000000001\",\"type\":\"crash\","
			   "\"occurred_at\":\"2026-11-29T04:00:00Z\"},"
			   "{\"id\":\"00000000-0000-4000-8000-000000000002\",\"type\":\"sign_in\","
			   "\"occurred_at\":\"2026-11-29T04:00:00Z\"},"
			   "7,"
			   "{\"id\":\"00000000-0000-4000-8000-000000000004\",\"type\":\"error\","
			   "\"occurred_at\":\"2026-11-29T04:00:00Z\"}]}";
	struct telemetryd_window w;
	struct telemetryd_input in = { 0 };
	json_t *fields = NULL, *rej;

	telemetryd_window_init(&w, T0, 30);
	assert_int_equal(telemetryd_validate(body, strlen(body), &w, &in, &fields), 0);
	assert_int_equal(in.n_total, 4);
	assert_int_equal(in.n_events, 2);
	assert_int_equal(in.events[0].index, 0);
	assert_int_equal(in.events[1].index, 3);
	assert_int_equal(in.events[1].type, TELEMETRYD_ERROR);
	assert_string_equal(in.client.app_version, "1");
	assert_int_equal(json_array_size(in.rejected), 2);
	rej = json_array_get(in.rejected, 0);
	assert_int_equal(json_integer_value(json_object_get(rej, "index")), 1);
	assert_contains(json_string_value(json_object_get(rej, "error")), "sign_in");
	rej = json_array_get(in.rejected, 1);
	assert_int_equal(json_integer_value(json_object_get(rej, "index")), 2);
	telemetryd_input_done(&in);
}

/* ---- the summary's ?days= ----------------------------------------------------------------- */

static void test_summary_days(void **state)
{
	static const struct {
		const char *query;
		int days; /* 0: refused */
	} cases[] = {
		{ "", 7 },          { "days=1", 1 },        { "days=7", 7 },         { "days=30", 30 },
		{ "days=0", 0 },    { "days=31", 0 },       { "days=-1", 0 },        { "days=+7", 0 },
		{ "days=07", 0 },   { "days=", 0 },         { "days", 0 },           { "days=7x", 0 },
		{ "days=abc", 0 },  { "days=100", 0 },      { "days=7&days=7", 0 },  { "days=1.5", 0 },
		{ "x=1&days=3", 3 }, { "days=3&x=1", 3 },   { "x=1", 7 },            { "daysx=3", 7 },
		{ "&days=2&", 2 },  { "Days=3", 7 },        { "days=%33", 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int days = -1;
		int r = telemetryd_summary_days(cases[i].query, &days);

		if (cases[i].days == 0 && r != -EINVAL)
			fail_msg("days query \"%s\" accepted (%d)", cases[i].query, days);
		if (cases[i].days != 0 && (r != 0 || days != cases[i].days))
			fail_msg("days query \"%s\": r=%d days=%d, expected %d", cases[i].query, r,
				 days, cases[i].days);
	}
}

static void test_types(void **state)
{
	for (int t = 0; t < _TELEMETRYD_TYPE_MAX; t++)
		assert_int_equal(telemetryd_type_from_str(telemetryd_type_to_str(t)), t);
	assert_int_equal(telemetryd_type_from_str("nope"), _TELEMETRYD_TYPE_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_event_table),
		cmocka_unit_test(test_event_fields),
		cmocka_unit_test(test_attrs_bounds),
		cmocka_unit_test(test_body_counts),
		cmocka_unit_test(test_body_shape),
		cmocka_unit_test(test_body_rejected),
		cmocka_unit_test(test_summary_days),
		cmocka_unit_test(test_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
