/*
 * test-ingressd-cookies.c - sembark-ingressd's Cookie header parser and
 * Set-Cookie writer (cookies.c), and the session token syntax
 * (session.c): a table of Cookie headers with what each name yields,
 * several Cookie headers in one request, duplicates, size bounds, and
 * the exact Set-Cookie values API.md asks for.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "macro.h"
#include "services/ingressd/ingressd.h"

struct find_case {
	const char *header;
	const char *name;
	int r;
	const char *value; /* when r == 0 */
};

static const struct find_case s_finds[] = {
	{ "a=1", "a", 0, "1" },
	{ "a=1; b=2", "b", 0, "2" },
	{ "a=1;b=2", "b", 0, "2" },
	{ "a=1 ;  b=2  ", "b", 0, "2" },
	{ "a=1;\tb=2", "b", 0, "2" },
	{ "a=", "a", 0, "" },
	{ "a=\"quoted\"", "a", 0, "quoted" },
	{ "a=\"", "a", 0, "\"" },
	{ "a=x=y", "a", 0, "x=y" },
	{ "a = 1", "a", 0, "1" },
	{ "aa=1; a=2", "a", 0, "2" },
	{ "a=1; aa=2", "aa", 0, "2" },
	{ "xa=1", "a", -ENOENT, NULL },
	{ "A=1", "a", -ENOENT, NULL },
	{ "", "a", -ENOENT, NULL },
	{ ";;;", "a", -ENOENT, NULL },
	{ "a", "a", -ENOENT, NULL },
	{ "a;b=2", "a", -ENOENT, NULL },
	{ "=1", "a", -ENOENT, NULL },
	{ "b=a=1", "a", -ENOENT, NULL },
	{ "a=1; a=2", "a", -ENOTUNIQ, NULL },
	{ "a=1; b=2; a=1", "a", -ENOTUNIQ, NULL },
	{ "sembark_session=0123; XSRF-TOKEN=abc.def", "XSRF-TOKEN", 0, "abc.def" },
	{ "__Host-sembark_session=x; sembark_session=y", "sembark_session", 0, "y" },
	{ "__Host-sembark_session=x; sembark_session=y", "__Host-sembark_session", 0, "x" },
};

static void test_find(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_finds); i++) {
		const struct find_case *t = &s_finds[i];
		const char *v = NULL;
		size_t n = 0;
		int r = ingress_cookie_find(t->header, t->name, &v, &n);

		if (r != t->r)
			fail_msg("\"%s\" [%s]: %d, expected %d", t->header, t->name, r, t->r);
		if (r == 0 && (n != strlen(t->value) || memcmp(v, t->value, n) != 0))
			fail_msg("\"%s\" [%s]: \"%.*s\"", t->header, t->name, (int)n, v);
	}
}

/* A request with these header lines. */
static void s_req(struct http_request *req, struct http_header *h, size_t n)
{
	*req = (struct http_request){ .method = "GET", .path = "/", .query = "", .headers = h,
				      .n_headers = n };
}

static void test_request_cookie(void **state)
{
	struct http_header h[] = {
		{ "Host", "x" },
		{ "Cookie", "a=1; b=2" },
		{ "cookie", "c=3" },
		{ "X-Cookie", "d=4" },
		{ "COOKIE", "e=5; e=6" },
		{ "Cookie", "b=7" },
	};
	struct http_request req;
	char out[16];

	s_req(&req, h, ELEMENTSOF(h));
	assert_int_equal(ingress_request_cookie(&req, "a", out, sizeof(out)), 1);
	assert_string_equal(out, "1");
	assert_int_equal(ingress_request_cookie(&req, "c", out, sizeof(out)), 1);
	assert_string_equal(out, "3");
	assert_int_equal(ingress_request_cookie(&req, "d", out, sizeof(out)), -ENOENT);
	assert_int_equal(ingress_request_cookie(&req, "e", out, sizeof(out)), -ENOTUNIQ);
	assert_int_equal(ingress_request_cookie(&req, "b", out, sizeof(out)), -ENOTUNIQ);
	assert_int_equal(ingress_request_cookie(&req, "z", out, sizeof(out)), -ENOENT);
	s_req(&req, h, 1);
	assert_int_equal(ingress_request_cookie(&req, "a", out, sizeof(out)), -ENOENT);
}

static void test_request_cookie_bounds(void **state)
{
	char big[COOKIE_VALUE_MAX + 64], out[COOKIE_VALUE_MAX + 1];
	struct http_header h[] = { { "Cookie", big } };
	struct http_request req;

	s_req(&req, h, 1);
	snprintf(big, sizeof(big), "v=%0*d", COOKIE_VALUE_MAX, 0);
	assert_int_equal(ingress_request_cookie(&req, "v", out, sizeof(out)), COOKIE_VALUE_MAX);
	snprintf(big, sizeof(big), "v=%0*d", COOKIE_VALUE_MAX + 1, 0);
	assert_int_equal(ingress_request_cookie(&req, "v", out, sizeof(out)), -ENOBUFS);
	/* many pairs: each scanned, the last one found */
	{
		char many[8192];
		size_t n = 0;
		struct http_header hm[] = { { "Cookie", many } };

		for (int i = 0; i < 1000 && n + 16 < sizeof(many); i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n, "k%d=%d; ", i, i);
		snprintf(many + n, sizeof(many) - n, "last=yes");
		s_req(&req, hm, 1);
		assert_int_equal(ingress_request_cookie(&req, "last", out, sizeof(out)), 3);
		assert_int_equal(ingress_request_cookie(&req, "k0", out, sizeof(out)), 1);
	}
}

struct format_case {
	const char *name, *value;
	long long max_age;
	unsigned flags;
	const char *want;
};

static const struct format_case s_formats[] = {
	{ COOKIE_XSRF, "t.k", -1, 0, "XSRF-TOKEN=t.k; Path=/; SameSite=Lax" },
	{ COOKIE_XSRF, "t.k", 86400, COOKIE_SECURE,
	  "XSRF-TOKEN=t.k; Path=/; Max-Age=86400; SameSite=Lax; Secure" },
	{ COOKIE_SESSION, "ab", 86400, COOKIE_HTTPONLY,
	  "sembark_session=ab; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax" },
	{ COOKIE_SESSION_TLS, "ab", 5, COOKIE_HTTPONLY | COOKIE_SECURE,
	  "__Host-sembark_session=ab; Path=/; Max-Age=5; HttpOnly; SameSite=Lax; Secure" },
	{ COOKIE_SESSION, "", 0, COOKIE_HTTPONLY,
	  "sembark_session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; "
	  "SameSite=Lax" },
	{ COOKIE_BROWSER, "00", -1, COOKIE_HTTPONLY, "sembark_csrf=00; Path=/; HttpOnly; SameSite=Lax" },
};

static void test_format(void **state)
{
	char buf[SET_COOKIE_MAX];

	for (size_t i = 0; i < ELEMENTSOF(s_formats); i++) {
		const struct format_case *t = &s_formats[i];
		int n = ingress_cookie_format(buf, sizeof(buf), t->name, t->value, t->max_age, t->flags);

		assert_int_equal(n, (int)strlen(t->want));
		assert_string_equal(buf, t->want);
	}
	assert_int_equal(ingress_cookie_format(buf, 20, COOKIE_XSRF, "0123456789", -1, 0), -ENOBUFS);
}

struct token_case {
	const char *s;
	bool ok;
};

static const struct token_case s_tokens[] = {
	{ "0123456789abcdef0123456789abcdef01234567", true },
	{ "0000000000000000000000000000000000000000", true },
	{ "0123456789abcdef0123456789abcdef0123456", false },
	{ "0123456789abcdef0123456789abcdef012345678", false },
	{ "0123456789ABCDEF0123456789abcdef01234567", false },
	{ "0123456789abcdeg0123456789abcdef01234567", false },
	{ "0123456789abcdef0123456789abcdef0123456 ", false },
	{ "", false },
};

static void test_token_syntax(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_tokens); i++)
		if (ingress_token_valid(s_tokens[i].s, strlen(s_tokens[i].s)) != s_tokens[i].ok)
			fail_msg("\"%s\": expected %d", s_tokens[i].s, s_tokens[i].ok);
	assert_false(ingress_token_valid(NULL, 40));
}

#define T1 "0123456789abcdef0123456789abcdef01234567"
#define T2 "76543210fedcba9876543210fedcba9876543210"

struct session_case {
	bool tls;                    /* public origin https */
	const char *authorization;   /* NULL: none */
	const char *cookie;          /* NULL: none */
	enum ingress_auth_via via;
	const char *token;
};

static const struct session_case s_sessions[] = {
	{ false, NULL, NULL, INGRESS_AUTH_NONE, "" },
	{ false, NULL, "sembark_session=" T1, INGRESS_AUTH_COOKIE, T1 },
	{ false, NULL, "a=b; sembark_session=\"" T1 "\"; c=d", INGRESS_AUTH_COOKIE, T1 },
	{ false, NULL, "sembark_session=" T1 "; sembark_session=" T2, INGRESS_AUTH_NONE, "" },
	{ false, NULL, "sembark_session=" T1 "0", INGRESS_AUTH_NONE, "" },
	{ false, NULL, "sembark_session=ABCDEF", INGRESS_AUTH_NONE, "" },
	{ false, NULL, "__Host-sembark_session=" T1, INGRESS_AUTH_NONE, "" },
	{ true, NULL, "__Host-sembark_session=" T1, INGRESS_AUTH_COOKIE, T1 },
	{ true, NULL, "sembark_session=" T1, INGRESS_AUTH_NONE, "" },
	{ false, "Bearer " T2, "sembark_session=" T1, INGRESS_AUTH_BEARER, T2 },
	{ false, "bearer  " T2, NULL, INGRESS_AUTH_BEARER, T2 },
	{ false, "Bearer " T2 "x", "sembark_session=" T1, INGRESS_AUTH_BEARER, "" },
	{ false, "Bearer", "sembark_session=" T1, INGRESS_AUTH_COOKIE, T1 },
	{ false, "BearerX " T2, "sembark_session=" T1, INGRESS_AUTH_COOKIE, T1 },
	{ false, "Basic dXNlcjpwdw==", "sembark_session=" T1, INGRESS_AUTH_COOKIE, T1 },
	{ false, "Basic dXNlcjpwdw==", NULL, INGRESS_AUTH_NONE, "" },
};

static void test_session_get(void **state)
{
	struct sembark_config cfg;
	struct ingress app = { .cfg = &cfg };

	config_defaults(&cfg);
	for (size_t i = 0; i < ELEMENTSOF(s_sessions); i++) {
		const struct session_case *t = &s_sessions[i];
		struct http_header h[2];
		struct http_request req;
		struct ingress_session s;
		size_t n = 0;

		snprintf(cfg.ingress.public_origin, sizeof(cfg.ingress.public_origin), "%s",
			 t->tls ? "https://sembark.example" : "http://127.0.0.1:8080");
		if (t->authorization)
			h[n++] = (struct http_header){ "Authorization", t->authorization };
		if (t->cookie)
			h[n++] = (struct http_header){ "Cookie", t->cookie };
		s_req(&req, h, n);
		ingress_session_get(&app, &req, &s);
		if (s.via != t->via || strcmp(s.token, t->token) != 0)
			fail_msg("case %zu: via %d token \"%s\"", i, s.via, s.token);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_request_cookie),
		cmocka_unit_test(test_request_cookie_bounds),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_token_syntax),
		cmocka_unit_test(test_session_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
