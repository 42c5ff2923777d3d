/*
 * test-logd-audit.c - unit tests of sembark-logd's audit trail pieces
 * that need no database: the cursor codec (round trip at the edges, and a
 * table of cursors that must be refused), the query string parser of
 * GET /api/audit (limit and before: defaults, bounds, escapes, repeats,
 * unknown names), a row of authd's outbox made ready for audit_events
 * (bounds, NULLs, emails redacted but kept), and the eviction
 * rules of the buffer (buffer.c) holding audit events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/logd/logd.h"

#define NOW 1795928400000000LL /* 2026-11-29T05:00:00Z */
#define TEAM "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10"
#define USER "6f1c1b9d-2f10-4a43-9a3e-0b5c6a8e4a43"

/* ---- cursor --------------------------------------------------------------- */

static void test_cursor_round_trip(void **state)
{
	static const int64_t cases[][2] = {
		{ 0, 1 },
		{ NOW, 1 },
		{ NOW + 123456, 987654321 },
		{ 253402300799999999LL, INT64_MAX },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char c[LOGD_CURSOR_MAX + 1];
		int64_t at = -1, id = -1;

		assert_int_equal(logd_cursor_encode(cases[i][0], cases[i][1], c), 0);
		assert_true(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789-_") == strlen(c));
		assert_int_equal(logd_cursor_decode(c, &at, &id), 0);
		assert_int_equal(at, cases[i][0]);
		assert_int_equal(id, cases[i][1]);
	}
}

static void test_cursor_encode_refuses(void **state)
{
	char c[LOGD_CURSOR_MAX + 1];

	assert_int_equal(logd_cursor_encode(-1, 1, c), -EINVAL);
	assert_int_equal(logd_cursor_encode(NOW, 0, c), -EINVAL);
	assert_int_equal(logd_cursor_encode(253402300800000000LL, 1, c), -EINVAL);
}

/* base64url (no padding) of the text on the right, or raw junk */
static const char *const s_bad_cursors[] = {
	"",                                   /* empty */
	"MTc5NTkyODQwMDAwMDAwMC4x=",          /* padding */
	"MTc5NTkyODQwMDAwMDAwMC4x+",          /* not the URL alphabet */
	"MTc5NTkyODQwMDAwMDAwMC4x/",
	"MTc5NTkyODQwMDAwMDAwMC4x!",
	"MTc5NTkyODQwMDAwMDAwMA",             /* "1795928400000000": no id */
	"MTc5NTkyODQwMDAwMDAwMC4w",           /* "1795928400000000.0": id 0 */
	"LTEuMQ",                             /* "-1.1" */
	"MS4tMQ",                             /* "1.-1" */
	"Ky4x",                               /* "+.1" */
	"MS4xLjE",                            /* "1.1.1" */
	"YS4x",                               /* "a.1" */
	"MSAuMQ",                             /* "1 .1" */
	"LjE",                                /* ".1" */
	"MS4",                                /* "1." */
	"OTk5OTk5OTk5OTk5OTk5OTk5OS4x",       /* "9999999999999999999.1": past 9999 */
	"MS45MjIzMzcyMDM2ODU0Nzc1ODA4",       /* "1.9223372036854775808": past INT64_MAX */
	"AAAA",                               /* NUL bytes */
	"MS4xAA",                             /* "1.1\0" */
	"not a cursor at all",
	"MTc5NTkyODQwMDAwMDAwMC4xMTc5NTkyODQwMDAwMDAwMC4xMTc5NTkyODQwMDAwMDAwMC4x", /* > 64 */
};

static void test_cursor_decode_refuses(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_bad_cursors); i++) {
		int64_t at = 42, id = 42;

		if (logd_cursor_decode(s_bad_cursors[i], &at, &id) != -EINVAL)
			fail_msg("cursor \"%s\" was accepted", s_bad_cursors[i]);
		assert_int_equal(at, 42);
		assert_int_equal(id, 42);
	}
}

/* ---- query string ------------------------------------------------------------ */

struct query_case {
	const char *query;
	int limit;          /* expected when valid */
	bool before;
	const char *field;  /* NULL: valid */
};

static const struct query_case s_queries[] = {
	{ "", 50, false, NULL },
	{ "limit=1", 1, false, NULL },
	{ "limit=100", 100, false, NULL },
	{ "limit=007", 7, false, NULL },
	{ "limit=%31%30", 10, false, NULL },
	{ "foo=bar&limit=20&&x", 20, false, NULL },
	{ "days=7", 50, false, NULL },
	{ "limit=20&before=MTc5NTkyODQwMDAwMDAwMC4x", 20, true, NULL },
	{ "before=MTc5NTkyODQwMDAwMDAwMC4x", 50, true, NULL },
	{ "limit=0", 0, false, "limit" },
	{ "limit=101", 0, false, "limit" },
	{ "limit=-1", 0, false, "limit" },
	{ "limit=+5", 0, false, "limit" },
	{ "limit=", 0, false, "limit" },
	{ "limit", 0, false, "limit" },
	{ "limit=ten", 0, false, "limit" },
	{ "limit=5.0", 0, false, "limit" },
	{ "limit=1e2", 0, false, "limit" },
	{ "limit=99999999999999999999999", 0, false, "limit" },
	{ "limit=%", 0, false, "limit" },
	{ "limit=%3", 0, false, "limit" },
	{ "limit=%00", 0, false, "limit" },
	{ "limit=5&limit=6", 0, false, "limit" },
	{ "before=", 0, false, "before" },
	{ "before=garbage", 0, false, "before" },
	{ "before=MTc5NTkyODQwMDAwMDAwMC4w", 0, false, "before" },
	{ "before=MTc5NTkyODQwMDAwMDAwMC4x&before=MTc5NTkyODQwMDAwMDAwMC4x", 0, false,
	  "before" },
	{ "limit=10&before=%ZZ", 0, false, "before" },
};

static void test_query_parse(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_queries); i++) {
		const struct query_case *c = &s_queries[i];
		struct logd_audit_query q = { .limit = -1 };
		const char *field = NULL, *why = NULL;
		int r = logd_audit_query_parse(c->query, &q, &field, &why);

		if (c->field) {
			if (r != -EINVAL || !field || strcmp(field, c->field) != 0 || !why || !why[0])
				fail_msg("query \"%s\": r=%d field=%s, want field %s", c->query, r,
					 field ? field : "(none)", c->field);
			continue;
		}
		if (r != 0 || q.limit != c->limit || q.has_before != c->before)
			fail_msg("query \"%s\": r=%d limit=%d before=%d", c->query, r, q.limit,
				 q.has_before);
	}
}

static void test_query_cursor_value(void **state)
{
	struct logd_audit_query q;
	const char *field, *why;
	char c[LOGD_CURSOR_MAX + 1], query[128];

	assert_int_equal(logd_cursor_encode(NOW + 5, 77, c), 0);
	snprintf(query, sizeof(query), "before=%s&limit=3", c);
	assert_int_equal(logd_audit_query_parse(query, &q, &field, &why), 0);
	assert_true(q.has_before);
	assert_int_equal(q.before_at_us, NOW + 5);
	assert_int_equal(q.before_id, 77);
	assert_int_equal(q.limit, 3);
}

/* ---- rows of the outbox ---------------------------------------------------------- */

#define OUTBOX_COLS 8

/* s_row - a one-row result as the outbox read returns it (NULL: SQL NULL) */
static PGresult *s_row(const char *const values[OUTBOX_COLS])
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[OUTBOX_COLS] = { 0 };

	assert_non_null(res);
	for (int i = 0; i < OUTBOX_COLS; i++)
		attrs[i].name = (char *)"c";
	assert_int_equal(PQsetResultAttrs(res, OUTBOX_COLS, attrs), 1);
	for (int i = 0; i < OUTBOX_COLS; i++)
		assert_int_equal(PQsetvalue(res, 0, i, (char *)values[i],
					    values[i] ? (int)strlen(values[i]) : -1), 1);
	return res;
}

static void test_row_taken(void **state)
{
	const char *v[OUTBOX_COLS] = { "42", "1795928400000000", TEAM, "role_changed", USER,
				       "alice@example.com", NULL, NULL };
	PGresult *res = s_row(v);
	struct logd_audit ev;

	assert_int_equal(logd_audit_from_row(res, 0, &ev), 0);
	assert_int_equal(ev.outbox_id, 42);
	assert_string_equal(ev.outbox_id_text, "42");
	assert_int_equal(ev.time_us, NOW);
	assert_string_equal(ev.at, "2026-11-29T05:00:00.000000Z");
	assert_string_equal(ev.event, "role_changed");
	assert_string_equal(ev.team_id, TEAM);
	assert_string_equal(ev.actor_id, USER);
	assert_string_equal(ev.actor_email, "alice@example.com");
	assert_string_equal(ev.subject_id, "");
	assert_string_equal(ev.subject_email, "");
	PQclear(res);
}

static void test_row_refused(void **state)
{
	static const struct {
		int col;
		const char *value;
	} bad[] = {
		{ 0, NULL }, { 0, "x" }, { 1, NULL }, { 1, "12.5" }, { 2, NULL },
		{ 2, TEAM TEAM }, { 3, NULL },
		{ 3, "an_event_name_much_longer_than_thirty_two_bytes" },
		{ 4, TEAM "0" },
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		const char *v[OUTBOX_COLS] = { "1", "1795928400000000", TEAM, "login", USER,
					       "a@example.com", USER, "b@example.com" };
		struct logd_audit ev;
		PGresult *res;

		v[bad[i].col] = bad[i].value;
		res = s_row(v);
		assert_int_equal(logd_audit_from_row(res, 0, &ev), -EBADMSG);
		PQclear(res);
	}
}

static void test_row_redacted(void **state)
{
	const char *v[OUTBOX_COLS] = { "7", "1795928400000000", TEAM, "login_failed", NULL,
				       "bob@[192.0.2.1]", USER,
				       "0123456789abcdef0123456789abcdef01234567@example.com" };
	PGresult *res = s_row(v);
	struct logd_audit ev;

	assert_int_equal(logd_audit_from_row(res, 0, &ev), 0);
	assert_string_equal(ev.actor_email, "bob@[[ip]]");
	assert_string_equal(ev.subject_email, "[token]@example.com");
	PQclear(res);
}

/* ---- the ring ------------------------------------------------------------------- */

static void test_ring(void **state)
{
	struct logd_buffer b;
	struct logd_audit ev = { 0 };

	assert_int_equal(logd_buffer_init(&b, &logd_audit_type, 3), 0);
	for (int i = 1; i <= 5; i++) {
		ev.time_us = i;
		logd_buffer_push(&b, &ev);
	}
	assert_int_equal(b.count, 3);
	assert_int_equal(b.dropped, 2);
	assert_int_equal(logd_buffer_time(&b, 0), 3);
	assert_int_equal(((const struct logd_audit *)logd_buffer_peek(&b, 2))->time_us, 5);
	assert_null(logd_buffer_peek(&b, 3));
	b.busy = true; /* a flush is sending the oldest: the newcomer goes */
	ev.time_us = 6;
	logd_buffer_push(&b, &ev);
	assert_int_equal(logd_buffer_time(&b, 0), 3);
	assert_int_equal(b.dropped, 3);
	b.busy = false;
	logd_buffer_pop(&b, 2);
	assert_int_equal(b.count, 1);
	assert_int_equal(logd_buffer_time(&b, 0), 5);
	logd_buffer_pop(&b, 9);
	assert_int_equal(b.count, 0);
	assert_null(logd_buffer_peek(&b, 0));
	logd_buffer_done(&b);
	assert_int_equal(logd_buffer_init(&b, &logd_audit_type, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_cursor_encode_refuses),
		cmocka_unit_test(test_cursor_decode_refuses),
		cmocka_unit_test(test_query_parse),
		cmocka_unit_test(test_query_cursor_value),
		cmocka_unit_test(test_row_taken),
		cmocka_unit_test(test_row_refused),
		cmocka_unit_test(test_row_redacted),
		cmocka_unit_test(test_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
