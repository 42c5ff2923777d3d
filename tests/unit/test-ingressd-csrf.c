/*
 * test-ingressd-csrf.c - sembark-ingressd's CSRF token (csrf.c): key
 * material limits, bindings, issue/verify round trips, and the tokens
 * that must not verify: another key, another browser or session, the
 * pre-login token after login, truncated, extended, garbled, re-encoded
 * and forged ones; the X-XSRF-TOKEN %XX decoding.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "macro.h"
#include "services/ingressd/ingressd.h"

#define KEY_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define KEY_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define BROWSER_1 "00112233445566778899aabbccddeeff"
#define BROWSER_2 "ffeeddccbbaa99887766554433221100"
#define TOKEN_1 "0123456789abcdef0123456789abcdef01234567"
#define TOKEN_2 "76543210fedcba9876543210fedcba9876543210"

struct keys {
	struct ingress_csrf *a, *b;
};

static int s_setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	assert_int_equal(ingress_csrf_new(KEY_A, strlen(KEY_A), &k->a), 0);
	assert_int_equal(ingress_csrf_new(KEY_B, strlen(KEY_B), &k->b), 0);
	*state = k;
	return 0;
}

static int s_teardown(void **state)
{
	struct keys *k = *state;

	k->a = ingress_csrf_free(k->a);
	k->b = ingress_csrf_free(k->b);
	assert_null(ingress_csrf_free(NULL));
	free(k);
	return 0;
}

static void s_browser(const char *id, struct csrf_binding *b)
{
	assert_int_equal(ingress_csrf_bind_browser(id, strlen(id), b), 0);
}

static void s_session(const char *token, struct csrf_binding *b)
{
	assert_int_equal(ingress_csrf_bind_session(token, strlen(token), b), 0);
}

static bool s_ok(const struct ingress_csrf *c, const struct csrf_binding *b, const char *tok)
{
	return ingress_csrf_verify(c, b, tok, strlen(tok));
}

static void test_key_material(void **state)
{
	static const struct {
		size_t len;
		int r;
	} cases[] = { { 0, -EINVAL }, { 1, -EINVAL }, { 31, -EINVAL }, { 32, 0 }, { 64, 0 },
		      { 1000, 0 } };
	char material[1000];

	memset(material, 'k', sizeof(material));
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ingress_csrf *c = NULL;

		assert_int_equal(ingress_csrf_new(material, cases[i].len, &c), cases[i].r);
		assert_true(cases[i].r == 0 ? c != NULL : c == NULL);
		ingress_csrf_free(c);
	}
	assert_int_equal(ingress_csrf_new(NULL, 64, &(struct ingress_csrf *){ NULL }), -EINVAL);
}

struct bind_case {
	const char *value;
	bool browser_ok, session_ok;
};

static const struct bind_case s_binds[] = {
	{ BROWSER_1, true, false },
	{ TOKEN_1, false, true },
	{ "", false, false },
	{ "00112233445566778899AABBCCDDEEFF", false, false },     /* upper case */
	{ "00112233445566778899aabbccddeef", false, false },      /* 31 */
	{ "00112233445566778899aabbccddeeff0", false, false },    /* 33 */
	{ "00112233445566778899aabbccddeefg", false, false },     /* not hex */
	{ "0123456789abcdef0123456789abcdef0123456", false, false },   /* 39 */
	{ "0123456789abcdef0123456789abcdef012345678", false, false }, /* 41 */
	{ "0123456789abcdef0123456789abcdef0123456 ", false, false },
	{ "0123456789ABCDEF0123456789abcdef01234567", false, false },
};

static void test_bindings(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_binds); i++) {
		const struct bind_case *t = &s_binds[i];
		struct csrf_binding b;
		size_t n = strlen(t->value);

		if ((ingress_csrf_bind_browser(t->value, n, &b) == 0) != t->browser_ok)
			fail_msg("browser \"%s\"", t->value);
		if ((ingress_csrf_bind_session(t->value, n, &b) == 0) != t->session_ok)
			fail_msg("session \"%s\"", t->value);
	}
}

static void test_browser_id(void **state)
{
	char a[CSRF_BROWSER_ID_LEN + 1], b[CSRF_BROWSER_ID_LEN + 1];
	struct csrf_binding bb;

	ingress_csrf_browser_id(a);
	ingress_csrf_browser_id(b);
	assert_int_equal(strlen(a), CSRF_BROWSER_ID_LEN);
	assert_string_not_equal(a, b);
	s_browser(a, &bb);
}

static void test_round_trip(void **state)
{
	struct keys *k = *state;
	struct csrf_binding b1, s1;
	char t1[CSRF_TOKEN_LEN + 1], t2[CSRF_TOKEN_LEN + 1];

	s_browser(BROWSER_1, &b1);
	s_session(TOKEN_1, &s1);
	for (int i = 0; i < 100; i++) {
		ingress_csrf_issue(k->a, &b1, t1);
		assert_int_equal(strlen(t1), CSRF_TOKEN_LEN);
		assert_int_equal(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					"0123456789-_."), CSRF_TOKEN_LEN);
		assert_true(s_ok(k->a, &b1, t1));
		ingress_csrf_issue(k->a, &s1, t2);
		assert_true(s_ok(k->a, &s1, t2));
		assert_string_not_equal(t1, t2);
	}
	/* fresh nonce every time */
	ingress_csrf_issue(k->a, &b1, t2);
	assert_string_not_equal(t1, t2);
	assert_true(s_ok(k->a, &b1, t2));
}

/* Tokens made for one binding under key a, checked against others. */
static void test_wrong_binding_or_key(void **state)
{
	struct keys *k = *state;
	struct csrf_binding b1, b2, s1, s2, b1_as_other;
	char tok[CSRF_TOKEN_LEN + 1];

	s_browser(BROWSER_1, &b1);
	s_browser(BROWSER_2, &b2);
	s_session(TOKEN_1, &s1);
	s_session(TOKEN_2, &s2);
	ingress_csrf_issue(k->a, &b1, tok);
	assert_true(s_ok(k->a, &b1, tok));
	assert_false(s_ok(k->b, &b1, tok));  /* another deployment's key */
	assert_false(s_ok(k->a, &b2, tok));  /* another browser */
	assert_false(s_ok(k->a, &s1, tok));  /* pre-login token after login */
	assert_false(ingress_csrf_verify(NULL, &b1, tok, strlen(tok)));
	ingress_csrf_issue(k->a, &s1, tok);
	assert_false(s_ok(k->a, &s2, tok));  /* another session */
	assert_false(s_ok(k->a, &b1, tok));  /* back to the browser after logout */
	assert_false(s_ok(k->b, &s1, tok));
	/* a binding string that differs by its kind only */
	b1_as_other = b1;
	b1_as_other.s[0] = 's';
	ingress_csrf_issue(k->a, &b1, tok);
	assert_false(s_ok(k->a, &b1_as_other, tok));
}

static void test_truncated_and_extended(void **state)
{
	struct keys *k = *state;
	struct csrf_binding b;
	char tok[CSRF_TOKEN_LEN + 1], buf[CSRF_TOKEN_LEN + 8];

	s_browser(BROWSER_1, &b);
	ingress_csrf_issue(k->a, &b, tok);
	for (size_t n = 0; n < CSRF_TOKEN_LEN; n++)
		if (ingress_csrf_verify(k->a, &b, tok, n))
			fail_msg("a prefix of %zu bytes verified", n);
	snprintf(buf, sizeof(buf), "%s=", tok);
	assert_false(s_ok(k->a, &b, buf));
	snprintf(buf, sizeof(buf), "%sA", tok);
	assert_false(s_ok(k->a, &b, buf));
	snprintf(buf, sizeof(buf), " %s", tok);
	assert_false(s_ok(k->a, &b, buf));
	/* the nonce or the MAC alone */
	assert_false(ingress_csrf_verify(k->a, &b, tok + 23, CSRF_TOKEN_LEN - 23));
}

static void test_garbled(void **state)
{
	struct keys *k = *state;
	static const char subst[] = "Aa0-_.+/=%";
	struct csrf_binding b;
	char tok[CSRF_TOKEN_LEN + 1], bad[CSRF_TOKEN_LEN + 1];

	s_browser(BROWSER_1, &b);
	ingress_csrf_issue(k->a, &b, tok);
	for (size_t i = 0; i < CSRF_TOKEN_LEN; i++) {
		for (size_t j = 0; j < sizeof(subst) - 1; j++) {
			memcpy(bad, tok, sizeof(bad));
			if (bad[i] == subst[j])
				continue;
			bad[i] = subst[j];
			if (s_ok(k->a, &b, bad))
				fail_msg("byte %zu as '%c' verified", i, subst[j]);
		}
	}
	/* the two halves swapped, the separator moved */
	memcpy(bad, tok + 23, 43);
	memcpy(bad + 43, tok, 23);
	bad[CSRF_TOKEN_LEN] = '\0';
	assert_false(s_ok(k->a, &b, bad));
}

/* A token made by someone without the key: any MAC. */
static void test_forged(void **state)
{
	struct keys *k = *state;
	static const char *const forged[] = {
		"AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"______________________.___________________________________________",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"",
		"null",
		"undefined",
	};
	struct csrf_binding b;

	s_browser(BROWSER_1, &b);
	for (size_t i = 0; i < ELEMENTSOF(forged); i++)
		assert_false(s_ok(k->a, &b, forged[i]));
}

/* The same nonce and MAC re-encoded with non-zero padding bits must not pass. */
static void test_non_canonical(void **state)
{
	struct keys *k = *state;
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	struct csrf_binding b;
	char tok[CSRF_TOKEN_LEN + 1], bad[CSRF_TOKEN_LEN + 1];
	size_t last[2] = { 21, CSRF_TOKEN_LEN - 1 };

	s_browser(BROWSER_1, &b);
	ingress_csrf_issue(k->a, &b, tok);
	for (size_t i = 0; i < 2; i++) {
		const char *p = strchr(b64, tok[last[i]]);
		size_t v = (size_t)(p - b64);

		memcpy(bad, tok, sizeof(bad));
		bad[last[i]] = b64[v ^ 1]; /* a low bit the decoder drops */
		assert_false(s_ok(k->a, &b, bad));
	}
}

/* Every '-' or '_' of a token replaced by a byte >= 0x80 (libsodium reads those as '_'). */
static void test_high_bytes(void **state)
{
	struct keys *k = *state;
	struct csrf_binding b;
	char tok[CSRF_TOKEN_LEN + 1], bad[CSRF_TOKEN_LEN + 1];
	size_t tried = 0;

	s_browser(BROWSER_1, &b);
	for (int round = 0; round < 200 && tried < 20; round++) {
		ingress_csrf_issue(k->a, &b, tok);
		for (size_t i = 0; i < CSRF_TOKEN_LEN; i++) {
			if (tok[i] != '-' && tok[i] != '_')
				continue;
			memcpy(bad, tok, sizeof(bad));
			bad[i] = (char)0xff;
			assert_false(s_ok(k->a, &b, bad));
			bad[i] = (char)0x80;
			assert_false(s_ok(k->a, &b, bad));
			tried++;
		}
	}
	assert_true(tried > 0);
}

struct decode_case {
	const char *in;
	int len;          /* -EINVAL for refused */
	const char *out;
};

static const struct decode_case s_decodes[] = {
	{ "abc.DEF-_", 9, "abc.DEF-_" },
	{ "", 0, "" },
	{ "a%2Eb", 3, "a.b" },
	{ "%2e%2E", 2, ".." },
	{ "%41", 1, "A" },
	{ "%", -EINVAL, NULL },
	{ "%4", -EINVAL, NULL },
	{ "%4g", -EINVAL, NULL },
	{ "%zz", -EINVAL, NULL },
	{ "a%00b", -EINVAL, NULL },
};

static void test_header_decode(void **state)
{
	struct keys *k = *state;
	char out[CSRF_HEADER_MAX], long_in[CSRF_HEADER_MAX + 2], enc[3 * CSRF_TOKEN_LEN + 1];
	char tok[CSRF_TOKEN_LEN + 1];
	struct csrf_binding b;
	int n;

	for (size_t i = 0; i < ELEMENTSOF(s_decodes); i++) {
		const struct decode_case *t = &s_decodes[i];

		n = ingress_csrf_header_decode(t->in, out, sizeof(out));
		if (n != t->len)
			fail_msg("\"%s\": %d, expected %d", t->in, n, t->len);
		if (t->out)
			assert_string_equal(out, t->out);
	}
	memset(long_in, 'a', sizeof(long_in) - 1);
	long_in[sizeof(long_in) - 1] = '\0';
	assert_int_equal(ingress_csrf_header_decode(long_in, out, sizeof(out)), -EINVAL);
	long_in[CSRF_HEADER_MAX - 1] = '\0';
	assert_int_equal(ingress_csrf_header_decode(long_in, out, sizeof(out)), CSRF_HEADER_MAX - 1);
	/* a fully %XX-encoded token decodes to one that verifies */
	s_browser(BROWSER_1, &b);
	ingress_csrf_issue(k->a, &b, tok);
	for (size_t i = 0; i < CSRF_TOKEN_LEN; i++)
		snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)tok[i]);
	n = ingress_csrf_header_decode(enc, out, sizeof(out));
	assert_int_equal(n, CSRF_TOKEN_LEN);
	assert_true(ingress_csrf_verify(k->a, &b, out, (size_t)n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_material),
		cmocka_unit_test(test_bindings),
		cmocka_unit_test(test_browser_id),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_binding_or_key),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_garbled),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_non_canonical),
		cmocka_unit_test(test_high_bytes),
		cmocka_unit_test(test_header_decode),
	};

	return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
