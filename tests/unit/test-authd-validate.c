/*
 * test-authd-validate.c - unit tests of services/authd/validate.c and the
 * linked-in common-password list: tables of emails (normalised or refused,
 * with 254/255-character limits and non-ASCII), names (trimming, 100 vs
 * 101 code points of 1, 2 and 4 bytes, control characters, bad UTF-8) and
 * passwords (11 vs 12 code points, 128 vs 129 bytes, bad UTF-8, NUL, the
 * common list and the email, case-insensitively); every entry of the list
 * found, in any case, and at least 3,000 of them, 10,000 of them 12
 * characters or longer; long common passwords and passphrases refused,
 * random 20-character ones accepted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "services/authd/authd.h"
#include "services/authd/common_passwords.h"

#define WHY_EMAIL "must be a valid email address"
#define WHY_EMAIL_LONG "must be at most 254 characters"
#define WHY_NAME_LEN "must be 1 to 100 characters"
#define WHY_UTF8 "must be valid UTF-8"
#define WHY_CONTROL "must not contain control characters"
#define WHY_PW_SHORT "must be at least 12 characters"
#define WHY_PW_LONG "must be at most 128 bytes"
#define WHY_PW_NUL "must not contain NUL characters"
#define WHY_PW_COMMON "is too common"
#define WHY_PW_EMAIL "must not be your email"

static char *s_made[64]; /* s_repeat's strings, freed by the group teardown */
static size_t s_n_made;

/* s_repeat - prefix, n copies of unit, suffix: a string that lasts the group */
static const char *s_repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t len = strlen(prefix) + strlen(unit) * n + strlen(suffix);
	char *s = malloc(len + 1), *p = s;

	assert_non_null(s);
	assert_true(s_n_made < ELEMENTSOF(s_made));
	p = stpcpy(p, prefix);
	for (size_t i = 0; i < n; i++)
		p = stpcpy(p, unit);
	strcpy(p, suffix);
	s_made[s_n_made++] = s;
	return s;
}

static int group_teardown(void **state)
{
	while (s_n_made > 0)
		free(s_made[--s_n_made]);
	return 0;
}

static void test_email(void **state)
{
	const struct {
		const char *in, *out, *why; /* out NULL: refused with why */
	} cases[] = {
		{ "alice@example.com", "alice@example.com", NULL },
		{ "  Alice@Example.COM \t\r\n", "alice@example.com", NULL },
		{ "A.B+Tag@Sub.Example.co.UK", "a.b+tag@sub.example.co.uk", NULL },
		{ "x@a.b", "x@a.b", NULL },
		{ "o'brien_2@mail-1.example.ie", "o'brien_2@mail-1.example.ie", NULL },
		{ "user@xn--bcher-kva.example", "user@xn--bcher-kva.example", NULL },
		{ "!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com", NULL },
		{ s_repeat("", "a", 242, "@example.com"), s_repeat("", "a", 242, "@example.com"),
		  NULL },
		{ s_repeat(" ", "A", 242, "@example.com "), s_repeat("", "a", 242, "@example.com"),
		  NULL },
		{ s_repeat("", "a", 243, "@example.com"), NULL, WHY_EMAIL_LONG },
		{ "", NULL, WHY_EMAIL },
		{ "   ", NULL, WHY_EMAIL },
		{ "alice", NULL, WHY_EMAIL },
		{ "alice@", NULL, WHY_EMAIL },
		{ "@example.com", NULL, WHY_EMAIL },
		{ "alice@@example.com", NULL, WHY_EMAIL },
		{ "a@b@example.com", NULL, WHY_EMAIL },
		{ "alice@example", NULL, WHY_EMAIL },
		{ "alice@example.", NULL, WHY_EMAIL },
		{ "alice@.example.com", NULL, WHY_EMAIL },
		{ "alice@example..com", NULL, WHY_EMAIL },
		{ "alice@example.com.", NULL, WHY_EMAIL },
		{ "alice@-example.com", NULL, WHY_EMAIL },
		{ "alice@example-.com", NULL, WHY_EMAIL },
		{ "alice@exa_mple.com", NULL, WHY_EMAIL },
		{ "alice@[127.0.0.1]", NULL, WHY_EMAIL },
		{ ".alice@example.com", NULL, WHY_EMAIL },
		{ "alice.@example.com", NULL, WHY_EMAIL },
		{ "al..ice@example.com", NULL, WHY_EMAIL },
		{ "\"alice\"@example.com", NULL, WHY_EMAIL },
		{ "al ice@example.com", NULL, WHY_EMAIL },
		{ "alice@exa mple.com", NULL, WHY_EMAIL },
		{ "alice\t@example.com", NULL, WHY_EMAIL },
		{ "alice@example.com\x01", NULL, WHY_EMAIL },
		{ "al\x7f" "ice@example.com", NULL, WHY_EMAIL },
		{ "al<ice>@example.com", NULL, WHY_EMAIL },
		{ "alice,bob@example.com", NULL, WHY_EMAIL },
		{ "\xc3\xa5lice@example.com", NULL, WHY_EMAIL },   /* åice */
		{ "alice@ex\xc3\xa4mple.com", NULL, WHY_EMAIL },   /* exämple */
		{ "user@\xe4\xbe\x8b\xe3\x81\x88.jp", NULL, WHY_EMAIL }, /* 例え.jp */
		{ "alice@example.com\xff", NULL, WHY_EMAIL },
		{ "alice\xe2\x80\x8b@example.com", NULL, WHY_EMAIL }, /* zero-width space */
	};
	char out[AUTHD_EMAIL_MAX + 1];
	const char *why;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		strcpy(out, "untouched");
		why = NULL;
		int r = authd_validate_email(cases[i].in, out, &why);
		if (cases[i].out) {
			if (r != 0)
				fail_msg("email case %zu refused: %s", i, why);
			assert_string_equal(out, cases[i].out);
			assert_true(strlen(out) <= AUTHD_EMAIL_MAX);
		} else {
			if (r != -EINVAL)
				fail_msg("email case %zu accepted: %s", i, out);
			assert_string_equal(why, cases[i].why);
			assert_string_equal(out, "untouched");
		}
	}
}

static void test_name(void **state)
{
	const struct {
		const char *in, *out, *why;
	} cases[] = {
		{ "Alice", "Alice", NULL },
		{ "  Alice Smith \t\n", "Alice Smith", NULL },
		{ "Zoë Ångström-Łukasiewicz", "Zoë Ångström-Łukasiewicz", NULL },
		{ "日本 チーム 🚀", "日本 チーム 🚀", NULL },
		{ "x", "x", NULL },
		{ s_repeat("", "a", 100, ""), s_repeat("", "a", 100, ""), NULL },
		{ s_repeat("", "a", 101, ""), NULL, WHY_NAME_LEN },
		{ s_repeat("  ", "é", 100, "  "), s_repeat("", "é", 100, ""), NULL },
		{ s_repeat("", "é", 101, ""), NULL, WHY_NAME_LEN },
		{ s_repeat("", "𝄞", 100, ""), s_repeat("", "𝄞", 100, ""), NULL }, /* 400 bytes */
		{ s_repeat("", "𝄞", 101, ""), NULL, WHY_NAME_LEN },
		{ s_repeat("", "a", 10000, ""), NULL, WHY_NAME_LEN },
		{ "", NULL, WHY_NAME_LEN },
		{ "   ", NULL, WHY_NAME_LEN },
		{ " \t\r\n\v\f ", NULL, WHY_NAME_LEN },
		{ "Ali\tce", NULL, WHY_CONTROL },
		{ "Ali\nce", NULL, WHY_CONTROL },
		{ "Ali\x01" "ce", NULL, WHY_CONTROL },
		{ "Ali\x1b[31mce", NULL, WHY_CONTROL },
		{ "Ali\x7f" "ce", NULL, WHY_CONTROL },
		{ "Ali\xc2\x85" "ce", NULL, WHY_CONTROL }, /* U+0085 NEL */
		{ "Ali\xc2\x9f" "ce", NULL, WHY_CONTROL }, /* U+009F */
		{ "\xff", NULL, WHY_UTF8 },
		{ "Alice\xc3", NULL, WHY_UTF8 },              /* cut sequence */
		{ "\xc0\xaf", NULL, WHY_UTF8 },               /* overlong '/' */
		{ "\xe0\x80\xaf", NULL, WHY_UTF8 },           /* overlong '/' */
		{ "\xed\xa0\x80", NULL, WHY_UTF8 },           /* surrogate U+D800 */
		{ "\xf4\x90\x80\x80", NULL, WHY_UTF8 },       /* U+110000 */
		{ "\x80" "abc", NULL, WHY_UTF8 },             /* stray continuation */
		{ "a\xe2\x82" "b", NULL, WHY_UTF8 },
	};
	char out[AUTHD_NAME_MAX_BYTES + 1];
	const char *why;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		strcpy(out, "untouched");
		why = NULL;
		int r = authd_validate_name(cases[i].in, out, &why);
		if (cases[i].out) {
			if (r != 0)
				fail_msg("name case %zu refused: %s", i, why);
			assert_string_equal(out, cases[i].out);
		} else {
			if (r != -EINVAL)
				fail_msg("name case %zu accepted: %s", i, out);
			assert_string_equal(why, cases[i].why);
			assert_string_equal(out, "untouched");
		}
	}
}

static void test_password(void **state)
{
	const struct {
		const char *pw;
		size_t len; /* 0: strlen */
		const char *email, *why;
	} cases[] = {
		{ "tqbvkzwmrpxh", 0, NULL, NULL },
		{ "abcdefghijk", 0, NULL, WHY_PW_SHORT },
		{ "abcdefghijkl", 0, NULL, WHY_PW_COMMON },
		{ "", 0, NULL, WHY_PW_SHORT },
		{ s_repeat("", "é", 12, ""), 0, NULL, NULL },          /* 12 points, 24 bytes */
		{ s_repeat("", "é", 11, ""), 0, NULL, WHY_PW_SHORT },  /* 11 points, 22 bytes */
		{ s_repeat("", "🔑", 11, "x"), 0, NULL, NULL },        /* 12 points */
		{ s_repeat("", "🔑", 11, ""), 0, NULL, WHY_PW_SHORT }, /* 44 bytes, 11 points */
		{ "correct horse battery staple", 0, NULL, NULL },
		{ "            ", 0, NULL, NULL },                      /* no composition rules */
		{ s_repeat("", "a", 128, ""), 0, NULL, NULL },
		{ s_repeat("", "a", 129, ""), 0, NULL, WHY_PW_LONG },
		{ s_repeat("", "🔑", 32, ""), 0, NULL, NULL },         /* 128 bytes */
		{ s_repeat("", "🔑", 32, "a"), 0, NULL, WHY_PW_LONG },
		{ s_repeat("", "\xff", 129, ""), 0, NULL, WHY_PW_LONG },
		{ "abcdefghijkl\xff", 0, NULL, WHY_UTF8 },
		{ "abcdefghijkl\xc3", 0, NULL, WHY_UTF8 },
		{ "abcdefghijkl\xed\xa0\x80", 0, NULL, WHY_UTF8 },
		{ "\xc0\xaf\xc0\xaf\xc0\xaf\xc0\xaf\xc0\xaf\xc0\xaf", 0, NULL, WHY_UTF8 },
		{ "abcdef\0ghijklmn", 15, NULL, WHY_PW_NUL },
		{ "winniethepooh", 0, NULL, WHY_PW_COMMON },
		{ "WinnieThePooh", 0, NULL, WHY_PW_COMMON },
		{ "WINNIETHEPOOH", 0, NULL, WHY_PW_COMMON },
		{ "winniethepooh1", 0, NULL, NULL },
		{ "alice@example.com", 0, "alice@example.com", WHY_PW_EMAIL },
		{ "ALICE@Example.COM", 0, "alice@example.com", WHY_PW_EMAIL },
		{ "alice@example.com", 0, "  Alice@EXAMPLE.com ", WHY_PW_EMAIL },
		{ " alice@example.com ", 0, "alice@example.com", WHY_PW_EMAIL },
		{ "\xe2\x84\xaa" "ate@example.com", 0, "kate@example.com", WHY_PW_EMAIL }, /* KELVIN */
		{ "\xc4\xb0" "ris@example.com", 0, "iris@example.com", WHY_PW_EMAIL },     /* U+0130 */
		{ "alice@example.com", 0, NULL, NULL },
		{ "alice@example.com", 0, "bob@example.com", NULL },
		{ "alice@example.co", 0, "alice@example.com", NULL },
		{ "alice@example.com1", 0, "alice@example.com", NULL },
		{ "älice@example.com", 0, "alice@example.com", NULL },
		{ "winniethepooh", 0, "winniethepooh@example.com", WHY_PW_COMMON },
	};
	const char *why;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].pw);

		why = NULL;
		int r = authd_validate_password(cases[i].pw, len, cases[i].email, &why);
		if (!cases[i].why) {
			if (r != 0)
				fail_msg("password case %zu refused: %s", i, why);
		} else {
			if (r != -EINVAL)
				fail_msg("password case %zu accepted", i);
			assert_string_equal(why, cases[i].why);
		}
	}
}

static void test_is_common(void **state)
{
	static const struct {
		const char *pw;
		bool common;
	} cases[] = {
		{ "password", true },  { "PASSWORD", true },   { "PassWord", true },
		{ "123456", true },    { "qwerty", true },     { "letmein", true },
		{ "password1", true }, { "passwor", false },   { "", false },
		{ "definitely not on any list", false },       { "pässword", false },
		{ "\xe2\x84\xaa" "atie", true },   /* KELVIN SIGN + "atie" -> "katie" */
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(authd_password_is_common(cases[i].pw, strlen(cases[i].pw)),
				 cases[i].common);
	assert_false(authd_password_is_common("password\xff", 9));
	assert_false(authd_password_is_common(NULL, 0));
}

/* long common passwords and passphrases, which the 12-character rule lets through */
static void test_long_common_refused(void **state)
{
	static const char *const common_pw[] = {
		"1qaz2wsx3edc", "qwerty123456", "QAZWSXEDCRFV", "passwordpassword",
		"iLoveYouForever", "qwertyuiopasdfghjkl", "123456789987654321", "leavemealone",
		"i need a new password", "for god so loved the world", "Five Finger Death Punch",
		"administrator",
	};
	const char *why;

	for (size_t i = 0; i < ELEMENTSOF(common_pw); i++) {
		why = NULL;
		if (authd_validate_password(common_pw[i], strlen(common_pw[i]), NULL, &why) != -EINVAL)
			fail_msg("\"%s\" accepted", common_pw[i]);
		assert_string_equal(why, WHY_PW_COMMON);
	}
}

/* random long passwords are accepted (a false positive would be one in ~10^20) */
static void test_random_long_accepted(void **state)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char pw[21];
	const char *why;

	assert_true(sodium_init() >= 0);
	for (int n = 0; n < 200; n++) {
		for (size_t i = 0; i < sizeof(pw) - 1; i++)
			pw[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
		pw[sizeof(pw) - 1] = '\0';
		why = NULL;
		if (authd_validate_password(pw, strlen(pw), NULL, &why) != 0)
			fail_msg("\"%s\" refused: %s", pw, why);
	}
}

/* the list has long entries to match the 12-character minimum */
static void test_list_has_long_entries(void **state)
{
	const char *p = authd_common_passwords_start, *end = authd_common_passwords_end;
	size_t long_entries = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		long_entries += n >= 12;
		p += n + 1;
	}
	printf("common-password list: %zu entries of 12 or more characters\n", long_entries);
	assert_true(long_entries >= 10000);
}

/* every line of the linked-in list is found, as it is and upper-cased */
static void test_list(void **state)
{
	const char *p = authd_common_passwords_start, *end = authd_common_passwords_end;
	size_t lines = 0;
	char up[256];

	assert_true(authd_common_passwords_count() >= 3000);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		assert_true(n > 0 && n < sizeof(up));
		for (size_t i = 0; i < n; i++) {
			assert_false(p[i] >= 'A' && p[i] <= 'Z'); /* stored lower-case */
			up[i] = p[i] >= 'a' && p[i] <= 'z' ? (char)(p[i] - 'a' + 'A') : p[i];
		}
		if (!authd_password_is_common(p, n))
			fail_msg("entry %zu \"%.*s\" not found", lines, (int)n, p);
		assert_true(authd_password_is_common(up, n));
		lines++;
		p += n + 1;
	}
	assert_int_equal(lines, authd_common_passwords_count());
	printf("common-password list: %zu entries\n", lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_is_common),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_long_common_refused),
		cmocka_unit_test(test_random_long_accepted),
		cmocka_unit_test(test_list_has_long_entries),
	};

	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
