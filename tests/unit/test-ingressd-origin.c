/*
 * test-ingressd-origin.c - sembark-ingressd's same-origin check
 * (origin.c): a table of public origins and Origin / Referer /
 * Sec-Fetch-Site values with the verdict, plus repeated headers in a
 * request and the https test used for cookie names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "services/ingressd/ingressd.h"

#define PLAIN "http://127.0.0.1:8080"
#define TLS "https://sembark.example"

struct origin_case {
	const char *public_origin;
	const char *origin, *referer, *fetch_site; /* NULL: absent */
	bool ok;
};

static const struct origin_case s_cases[] = {
	/* nothing to go by: native clients, curl */
	{ PLAIN, NULL, NULL, NULL, true },
	{ PLAIN, NULL, NULL, "same-origin", true },
	{ PLAIN, NULL, NULL, "none", true },
	{ PLAIN, NULL, NULL, "same-site", true },
	{ PLAIN, NULL, NULL, "cross-site", false },
	{ PLAIN, NULL, NULL, "Cross-Site", false },
	/* Origin */
	{ PLAIN, PLAIN, NULL, NULL, true },
	{ PLAIN, PLAIN, NULL, "same-origin", true },
	{ PLAIN, PLAIN, NULL, "cross-site", false },
	{ PLAIN, "HTTP://127.0.0.1:8080", NULL, NULL, true },
	{ PLAIN, "http://127.0.0.1:8081", NULL, NULL, false },
	{ PLAIN, "http://127.0.0.1", NULL, NULL, false },
	{ PLAIN, "https://127.0.0.1:8080", NULL, NULL, false },
	{ PLAIN, "http://127.0.0.2:8080", NULL, NULL, false },
	{ PLAIN, "http://localhost:8080", NULL, NULL, false },
	{ PLAIN, "http://127.0.0.1:8080/", NULL, NULL, false },
	{ PLAIN, "http://127.0.0.1:8080.evil.example", NULL, NULL, false },
	{ PLAIN, "http://127.0.0.1:8080@evil.example", NULL, NULL, false },
	{ PLAIN, "http://127.0.0.1:08080", NULL, NULL, true },
	{ PLAIN, "http://127.0.0.1:", NULL, NULL, false },
	{ PLAIN, "http://127.0.0.1:99999", NULL, NULL, false },
	{ PLAIN, "null", NULL, NULL, false },
	{ PLAIN, "", NULL, NULL, false },
	{ PLAIN, "127.0.0.1:8080", NULL, NULL, false },
	{ PLAIN, "ftp://127.0.0.1:8080", NULL, NULL, false },
	{ PLAIN, "http://", NULL, NULL, false },
	/* Origin wins over Referer */
	{ PLAIN, PLAIN, "http://evil.example/", NULL, true },
	{ PLAIN, "http://evil.example", PLAIN "/", NULL, false },
	{ PLAIN, "null", PLAIN "/", NULL, false },
	/* Referer alone */
	{ PLAIN, NULL, PLAIN "/", NULL, true },
	{ PLAIN, NULL, PLAIN, NULL, true },
	{ PLAIN, NULL, PLAIN "/login?next=/a", NULL, true },
	{ PLAIN, NULL, PLAIN "?x", NULL, true },
	{ PLAIN, NULL, PLAIN "/", "cross-site", false },
	{ PLAIN, NULL, "http://evil.example/" PLAIN, NULL, false },
	{ PLAIN, NULL, PLAIN ".evil.example/", NULL, false },
	{ PLAIN, NULL, PLAIN "@evil.example/", NULL, false },
	{ PLAIN, NULL, "http://127.0.0.1:8081/", NULL, false },
	{ PLAIN, NULL, "https://127.0.0.1:8080/", NULL, false },
	{ PLAIN, NULL, "/relative", NULL, false },
	{ PLAIN, NULL, "", NULL, false },
	{ PLAIN, NULL, "about:blank", NULL, false },
	/* https and default ports */
	{ TLS, TLS, NULL, NULL, true },
	{ TLS, "https://sembark.example:443", NULL, NULL, true },
	{ TLS, "https://SEMBARK.example", NULL, NULL, true },
	{ TLS, "http://sembark.example", NULL, NULL, false },
	{ TLS, "https://sembark.example:8443", NULL, NULL, false },
	{ TLS, "https://evil.sembark.example", NULL, NULL, false },
	{ TLS, "https://sembark.example.evil", NULL, NULL, false },
	{ TLS, NULL, TLS "/join/abc", NULL, true },
	{ TLS, NULL, "http://sembark.example/join/abc", NULL, false },
	{ "http://[::1]:8080", "http://[::1]:8080", NULL, NULL, true },
	{ "http://[::1]:8080", "http://[::2]:8080", NULL, NULL, false },
	{ "http://[::1]:8080", "http://[::1:8080", NULL, NULL, false },
	{ "http://example.com:80", "http://example.com", NULL, NULL, true },
};

static void test_table(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_cases); i++) {
		const struct origin_case *t = &s_cases[i];

		if (ingress_origin_allowed(t->public_origin, t->origin, t->referer, t->fetch_site) != t->ok)
			fail_msg("case %zu: origin %s referer %s site %s: expected %d", i,
				 t->origin ? t->origin : "-", t->referer ? t->referer : "-",
				 t->fetch_site ? t->fetch_site : "-", t->ok);
	}
}

static void s_req(struct http_request *req, struct http_header *h, size_t n)
{
	*req = (struct http_request){ .method = "POST", .path = "/api/login", .query = "",
				      .headers = h, .n_headers = n };
}

static void test_request(void **state)
{
	struct http_header h[4];
	struct http_request req;

	h[0] = (struct http_header){ "Host", "127.0.0.1:8080" };
	h[1] = (struct http_header){ "origin", PLAIN };
	s_req(&req, h, 2);
	assert_true(ingress_request_origin_ok(PLAIN, &req));
	/* a second Origin, even a matching one, is refused */
	h[2] = (struct http_header){ "Origin", "http://evil.example" };
	s_req(&req, h, 3);
	assert_false(ingress_request_origin_ok(PLAIN, &req));
	h[2] = (struct http_header){ "Origin", PLAIN };
	assert_false(ingress_request_origin_ok(PLAIN, &req));
	/* two Referers */
	h[1] = (struct http_header){ "Referer", PLAIN "/" };
	h[2] = (struct http_header){ "referer", PLAIN "/" };
	assert_false(ingress_request_origin_ok(PLAIN, &req));
	/* Sec-Fetch-Site checked through the request too */
	h[1] = (struct http_header){ "Origin", PLAIN };
	h[2] = (struct http_header){ "Sec-Fetch-Site", "cross-site" };
	assert_false(ingress_request_origin_ok(PLAIN, &req));
	h[2] = (struct http_header){ "Sec-Fetch-Site", "same-origin" };
	assert_true(ingress_request_origin_ok(PLAIN, &req));
	h[3] = (struct http_header){ "Sec-Fetch-Site", "cross-site" };
	s_req(&req, h, 4);
	assert_false(ingress_request_origin_ok(PLAIN, &req));
	/* none at all */
	s_req(&req, h, 1);
	assert_true(ingress_request_origin_ok(PLAIN, &req));
}

static void test_is_tls(void **state)
{
	assert_true(ingress_origin_is_tls("https://a.example"));
	assert_true(ingress_origin_is_tls("HTTPS://a.example"));
	assert_false(ingress_origin_is_tls("http://a.example"));
	assert_false(ingress_origin_is_tls(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_is_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
