/*
 * test-logd-redact.c - unit tests of sembark-logd's redactor
 * (services/logd/redact.c): a table of texts and what must be stored of
 * them (IPv4, IPv6 in full, compressed, v4-mapped and scoped forms, hex
 * tokens, Authorization / Cookie / session cookie values), a table of
 * look-alikes that must be left alone (versions, dates, times, UUIDs, MAC
 * addresses), the replacement counts, secret field keys, UTF-8 kept
 * intact, idempotence, and record.c's use of it (message and field
 * values of a stored record, the length bound after redaction).
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

struct redact_case {
	const char *in;
	const char *out;
	size_t count;
};

static const struct redact_case s_changed[] = {
	/* IPv4 */
	{ "peer 203.0.113.9 left", "peer [ip] left", 1 },
	{ "10.1.2.3:5555", "[ip]:5555", 1 },
	{ "from=192.168.0.1,to=192.168.0.2", "from=[ip],to=[ip]", 2 },
	{ "x255.255.255.255y", "x[ip]y", 1 },
	{ "0.0.0.0", "[ip]", 1 },
	/* IPv6 */
	{ "addr 2001:db8::1 up", "addr [ip] up", 1 },
	{ "[2001:db8::1]:443", "[[ip]]:443", 1 },
	{ "::1", "[ip]", 1 },
	{ "bind :: ok", "bind [ip] ok", 1 }, /* the unspecified address */
	{ "x.::1 .::", "x.[ip] .[ip]", 2 }, /* the '.' is not the address's */
	/* found by fuzz-redact: the last credential pass took the '.', then "::" stood alone */
	{ "J\xc3\xa9r\xc3\xb4me 1.2.31.4Bearer .::/.+=:f-TO",
	  "J\xc3\xa9r\xc3\xb4me [ip]Bearer [redacted][ip]/.+=:f-TO", 3 },
	{ "fe80::1ff:fe23:4567:890a%eth0", "[ip]%eth0", 1 },
	{ "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[ip]", 1 },
	{ "2001:DB8:85A3:0:0:8A2E:370:7334", "[ip]", 1 },
	{ "::ffff:10.0.0.1", "[ip]", 1 },
	{ "v4-mapped ::FFFF:192.0.2.128 seen", "v4-mapped [ip] seen", 1 },
	{ "1:2:3:4:5:6:7.8.9.10", "[ip]", 1 },
	{ "addr:2001:db8::7", "addr:[ip]", 1 },
	{ "for=\"[2001:db8:cafe::17]\"", "for=\"[[ip]]\"", 1 },
	/* tokens */
	{ "token 0123456789abcdef0123456789abcdef01234567 seen",
	  "token [token] seen", 1 },
	{ "sha 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	  "sha [token]", 1 },
	{ "id=0123456789abcdef0123456789abcdef.", "id=[token].", 1 },
	/* credentials */
	{ "Authorization: Bearer abc.def-ghi", "Authorization: [redacted]", 1 },
	{ "authorization=Basic dXNlcjpwYXNz\nnext", "authorization=[redacted]\nnext", 1 },
	{ "Proxy-Authorization: Digest x", "Proxy-Authorization: [redacted]", 1 },
	{ "Cookie: a=b; c=d", "Cookie: [redacted]", 1 },
	{ "Set-Cookie: sembark_session=abc; HttpOnly", "Set-Cookie: [redacted]", 1 },
	{ "{\"cookie\":\"x=1; y=2\",\"n\":1}", "{\"cookie\":\"[redacted]\",\"n\":1}", 1 },
	{ "sembark_session=abc123; other=1", "sembark_session=[redacted]; other=1", 1 },
	{ "__Host-sembark_session=zz", "__Host-sembark_session=[redacted]", 1 },
	{ "XSRF-TOKEN=eyJhbGciOi.x; Path=/", "XSRF-TOKEN=[redacted]; Path=/", 1 },
	{ "header X-XSRF-TOKEN: abc", "header X-XSRF-TOKEN: [redacted]", 1 },
	{ "got Bearer abc/def+g== from client", "got Bearer [redacted] from client", 1 },
	{ "password=hunter2 user=x", "password=[redacted] user=x", 1 },
	{ "csrf_token=abc&x=1", "csrf_token=[redacted]&x=1", 1 },
	{ "secret = s3cr3t", "secret = [redacted]", 1 },
	/* together */
	{ "Authorization: Bearer 0123456789abcdef0123456789abcdef01234567",
	  "Authorization: [redacted]", 1 },
	{ "c=1.2.3.4 d=::1 t=0123456789abcdef0123456789abcdef01234567",
	  "c=[ip] d=[ip] t=[token]", 3 },
	/* a key glued to an address: found once the address is "[ip]" (fuzz-redact) */
	{ "addr:2001:db8::1token=123 x", "addr:[ip]token=[redacted] x", 2 },
	{ "from 10.0.0.1password=hunter2", "from [ip]password=[redacted]", 2 },
};

static const char *const s_unchanged[] = {
	"",
	"app_version 2.4.1 on macOS 14.5",
	"1.2.3",
	"on 2026-11-29 at 05:00:00",
	"2026-11-29T05:00:00.123456Z",
	"took 12:34:56.789",
	"uuid 0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10",
	"mac 00:1a:2b:3c:4d:5e",
	"10.0.19045.1",
	"1.2.3.4444",
	"deadbeef",
	"0123456789abcdef0123456789abcde", /* 31 hex digits */
	"password changed",
	"csrf cookie missing",
	"Bearer",
	"no authorization header",
	"token_max_age=86400 expires",
	"sessions: deleted 3 expired",
	"logs_p20261001, logs_p20261002",
	"display 2560x1440 ratio 16:9",
	"héllo wörld ✓",
};

static void test_changed(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_changed); i++) {
		const struct redact_case *c = &s_changed[i];
		size_t n = 99;
		char *out = logd_redact(c->in, &n);

		assert_non_null(out);
		if (strcmp(out, c->out) != 0 || n != c->count)
			fail_msg("case %zu: \"%s\" -> \"%s\" (%zu), want \"%s\" (%zu)", i, c->in, out,
				 n, c->out, c->count);
		free(out);
	}
}

static void test_unchanged(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_unchanged); i++) {
		size_t n = 99;
		char *out = logd_redact(s_unchanged[i], &n);

		assert_non_null(out);
		if (strcmp(out, s_unchanged[i]) != 0 || n != 0)
			fail_msg("\"%s\" changed to \"%s\" (%zu)", s_unchanged[i], out, n);
		free(out);
	}
}

/* redacting again changes nothing: markers are not matches themselves */
static void test_idempotent(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_changed); i++) {
		size_t n = 99;
		char *out = logd_redact(s_changed[i].out, &n);

		assert_non_null(out);
		if (strcmp(out, s_changed[i].out) != 0 || n != 0)
			fail_msg("\"%s\" changed again to \"%s\"", s_changed[i].out, out);
		free(out);
	}
}

static void test_total_counts(void **state)
{
	uint64_t before = logd_redactions();
	char *out = logd_redact("1.2.3.4 and 5.6.7.8 and ::1", NULL);

	assert_non_null(out);
	assert_string_equal(out, "[ip] and [ip] and [ip]");
	assert_int_equal(logd_redactions() - before, 3);
	logd_redactions_add(2);
	assert_int_equal(logd_redactions() - before, 5);
	free(out);
}

static void test_secret_keys(void **state)
{
	static const char *const yes[] = { "password", "Password", "token", "secret",
					   "authorization", "cookie", "set_cookie",
					   "csrf_token", "new_password", "client_secret",
					   "sembark_session", "api_key" };
	static const char *const no[] = { "user_id", "session_id", "token_max_age",
					  "password_changed", "status", "path", "tokens" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++)
		if (!logd_redact_key(yes[i]))
			fail_msg("key %s is not treated as a secret", yes[i]);
	for (size_t i = 0; i < ELEMENTSOF(no); i++)
		if (logd_redact_key(no[i]))
			fail_msg("key %s is treated as a secret", no[i]);
}

/* many short matches: the output grows past the input without overflow */
static void test_growth(void **state)
{
	char in[4096] = "", want[8192] = "";
	char *out;

	for (int i = 0; i < 200; i++) {
		strcat(in, "a::1 ");
		strcat(want, "[ip] ");
	}
	out = logd_redact(in, NULL);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

/* a stored record: message and field values redacted, bounds kept */
static void test_record(void **state)
{
	struct ipc_log_record *in = calloc(1, sizeof(*in));
	struct logd_rec rec;
	int64_t now = 1795928400000000LL;

	assert_non_null(in);
	in->time_us = now;
	strcpy(in->service, "ingressd");
	strcpy(in->level, "info");
	strcpy(in->msg, "client 198.51.100.7 sent Cookie: sembark_session=abc");
	in->fields_n = 3;
	strcpy(in->fields[0].key, "peer");
	strcpy(in->fields[0].value, "2001:db8::5");
	strcpy(in->fields[1].key, "password");
	strcpy(in->fields[1].value, "hunter2hunter2");
	strcpy(in->fields[2].key, "path");
	strcpy(in->fields[2].value, "/api/me");
	assert_int_equal(logd_record_from_ipc(in, now, &rec), 0);
	assert_string_equal(rec.msg, "client [ip] sent Cookie: [redacted]");
	assert_non_null(strstr(rec.fields, "\"peer\":\"[ip]\""));
	assert_non_null(strstr(rec.fields, "\"password\":\"[redacted]\""));
	assert_non_null(strstr(rec.fields, "\"path\":\"/api/me\""));
	logd_record_done(&rec);

	/* "a::" (3 bytes) becomes "[ip]" (4): the message stays within its bound */
	for (size_t i = 0; i + 4 < LOG_MSG_MAX; i += 4)
		memcpy(in->msg + i, "a:: ", 4);
	in->msg[LOG_MSG_MAX - 1] = '\0';
	in->fields_n = 0;
	assert_int_equal(logd_record_from_ipc(in, now, &rec), 0);
	assert_true(strlen(rec.msg) <= LOG_MSG_MAX);
	assert_null(strstr(rec.msg, "::"));
	logd_record_done(&rec);
	free(in);
}

static void test_utf8_cut(void **state)
{
	char s[16];

	strcpy(s, "ab\xc3\xa9");
	logd_utf8_cut(s, 3);
	assert_string_equal(s, "ab");
	strcpy(s, "ab\xc3\xa9");
	logd_utf8_cut(s, 4);
	assert_string_equal(s, "ab\xc3\xa9");
	strcpy(s, "\xe2\x9c\x93x");
	logd_utf8_cut(s, 2);
	assert_string_equal(s, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_total_counts),
		cmocka_unit_test(test_secret_keys),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_utf8_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
