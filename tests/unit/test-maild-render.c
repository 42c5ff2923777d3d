/*
 * test-maild-render.c - unit tests of services/maild/render.c and the
 * backoff of outbox.c: a reset mail's headers and body (CRLF lines, the
 * values in place, Date and Message-ID as given); a name with CR/LF
 * cannot add a header (control characters become spaces); addresses that
 * could split a header and unknown templates are refused; a buffer too
 * small is -ENOBUFS; the retry delays double from 30 s up to an hour.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "services/maild/maild.h"

static const struct mail_values s_values = {
	.name = "Ada Lovelace", .token = "0123", .origin = "https://a.example",
};

static void test_reset_mail(void **state)
{
	char out[MAIL_TEXT_MAX];
	int n = maild_render("password_reset", &s_values, "accounts@a.example", "ada@b.example",
			     1780000000, "00ff", out, sizeof(out));

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_non_null(strstr(out, "From: sembark <accounts@a.example>\r\nTo: <ada@b.example>\r\n"
				    "Subject: Choose a new password for sembark\r\n"));
	assert_non_null(strstr(out, "\r\nDate: Thu, 28 May 2026 20:26:40 +0000\r\n"));
	assert_non_null(strstr(out, "\r\nMessage-ID: <00ff@a.example>\r\n"));
	assert_non_null(strstr(out, "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(out, "\r\n\r\nHello Ada Lovelace,\r\n"));
	assert_non_null(strstr(out, "\r\nhttps://a.example/login#reset=0123\r\n"));
	assert_null(strstr(out, "{{"));
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		assert_int_equal(p[-1], '\r');
}

static void test_values_cannot_add_headers(void **state)
{
	struct mail_values v = s_values;
	char out[MAIL_TEXT_MAX];

	v.name = "Eve\r\nBcc: victim@x.example";
	assert_true(maild_render("password_changed", &v, "a@a.example", "b@b.example", 0, "01", out,
				 sizeof(out)) > 0);
	assert_null(strstr(out, "\r\nBcc:"));
	assert_non_null(strstr(out, "Hello Eve  Bcc: victim@x.example,"));
}

static void test_refused(void **state)
{
	char out[MAIL_TEXT_MAX];

	assert_int_equal(maild_render("nope", &s_values, "a@a.example", "b@b.example", 0, "01", out,
				      sizeof(out)), -ENOENT);
	assert_int_equal(maild_render("password_reset", &s_values, "a@a.example",
				      "b@b.example>\r\nBcc: c@c", 0, "01", out, sizeof(out)), -EINVAL);
	assert_int_equal(maild_render("password_reset", &s_values, "a a@a.example", "b@b.example", 0,
				      "01", out, sizeof(out)), -EINVAL);
	assert_int_equal(maild_render("password_reset", &s_values, "a@a.example", "nobody", 0, "01",
				      out, sizeof(out)), -EINVAL);
	assert_int_equal(maild_render("password_reset", &s_values, "a@a.example", "b@b.example", 0,
				      "zz", out, sizeof(out)), -EINVAL);
	assert_int_equal(maild_render("password_reset", &s_values, "a@a.example", "b@b.example", 0,
				      "01", out, 64), -ENOBUFS);
}

static void test_backoff(void **state)
{
	static const int want[] = { 30, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600 };

	for (int i = 0; i < 10; i++)
		assert_int_equal(maild_backoff_s(i), want[i]);
	assert_int_equal(maild_backoff_s(1000), 3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_mail),
		cmocka_unit_test(test_values_cannot_add_headers),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
