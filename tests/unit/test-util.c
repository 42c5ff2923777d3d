/*
 * test-util.c - unit tests of shared/util.c, table-driven: hex digit
 * values, UUID text (canonical 8-4-4-4-12 in either case, lower-cased;
 * everything else refused and the output untouched), UTF-8 character
 * lengths at the edges of RFC 3629 (overlong forms, surrogates, above
 * U+10FFFF, truncated sequences), and UTC times as RFC 3339 with
 * microseconds and as days (negative times, day and year boundaries).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "macro.h"
#include "util.h"

#define SEC 1000000LL

static void test_hexval(void **state)
{
	static const struct {
		char c;
		int v;
	} cases[] = {
		{ '0', 0 }, { '9', 9 }, { 'a', 10 }, { 'f', 15 }, { 'A', 10 }, { 'F', 15 },
		{ 'g', -1 }, { 'G', -1 }, { '/', -1 }, { ':', -1 }, { '@', -1 }, { '`', -1 },
		{ ' ', -1 }, { '\0', -1 }, { '-', -1 }, { (char)0xc3, -1 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (util_hexval(cases[i].c) != cases[i].v)
			fail_msg("hexval 0x%02x: %d", (unsigned char)cases[i].c,
				 util_hexval(cases[i].c));
}

static void test_uuid(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: refused */
	} cases[] = {
		{ "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10", "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10" },
		{ "0B5C6A8E-4A43-4C43-9A3E-6F1C1B9D2F10", "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10" },
		{ "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000" },
		{ "ffffffff-FFFF-ffff-FFFF-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff" },
		{ "", NULL },
		{ "0b5c6a8e4a434c439a3e6f1c1b9d2f10", NULL },            /* no dashes */
		{ "{0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10}", NULL },      /* braces */
		{ "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f1", NULL },         /* 35 */
		{ "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f100", NULL },       /* 37 */
		{ "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10 ", NULL },       /* trailing space */
		{ "0b5c6a8g-4a43-4c43-9a3e-6f1c1b9d2f10", NULL },        /* g */
		{ "0b5c6a8e-4a434-c43-9a3e-6f1c1b9d2f10", NULL },        /* dash moved */
		{ "0b5c6a8e_4a43-4c43-9a3e-6f1c1b9d2f10", NULL },
		{ "0b5c6a8e-4a43-4c43-9a3e--f1c1b9d2f10", NULL },        /* dash for a digit */
		{ " 0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f1", NULL },
		{ "urn:uuid:0b5c6a8e-4a43-4c43-9a3e-6f", NULL },
	};
	char out[UTIL_UUID_LEN + 1];

	assert_false(util_uuid_valid(NULL));
	assert_int_equal(util_uuid_normalize(NULL, out), -EINVAL);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r;

		memcpy(out, "untouched", 10);
		r = util_uuid_normalize(cases[i].in, out);
		if (util_uuid_valid(cases[i].in) != (cases[i].out != NULL))
			fail_msg("uuid %s: util_uuid_valid wrong", cases[i].in);
		if (!cases[i].out) {
			if (r != -EINVAL || strcmp(out, "untouched") != 0)
				fail_msg("uuid %s accepted", cases[i].in);
			continue;
		}
		if (r != 0)
			fail_msg("uuid %s refused", cases[i].in);
		assert_string_equal(out, cases[i].out);
	}
}

static void test_utf8_len(void **state)
{
	static const struct {
		const char *s;
		size_t n;   /* bytes available */
		size_t len; /* expected */
	} cases[] = {
		{ "a", 1, 1 },
		{ "\x7f", 1, 1 },
		{ "\xc2\x80", 2, 2 },            /* U+0080 */
		{ "\xdf\xbf", 2, 2 },            /* U+07FF */
		{ "\xc0\x80", 2, 0 },            /* overlong NUL */
		{ "\xc1\xbf", 2, 0 },            /* overlong */
		{ "\xc2\x41", 2, 0 },            /* no continuation */
		{ "\xc2", 1, 0 },                /* truncated */
		{ "\xe0\xa0\x80", 3, 3 },        /* U+0800 */
		{ "\xe0\x9f\xbf", 3, 0 },        /* overlong */
		{ "\xed\x9f\xbf", 3, 3 },        /* U+D7FF */
		{ "\xed\xa0\x80", 3, 0 },        /* surrogate U+D800 */
		{ "\xef\xbf\xbf", 3, 3 },        /* U+FFFF */
		{ "\xe2\x82\xac", 2, 0 },        /* truncated euro sign */
		{ "\xe2\x82\x41", 3, 0 },
		{ "\xf0\x90\x80\x80", 4, 4 },    /* U+10000 */
		{ "\xf0\x8f\xbf\xbf", 4, 0 },    /* overlong */
		{ "\xf4\x8f\xbf\xbf", 4, 4 },    /* U+10FFFF */
		{ "\xf4\x90\x80\x80", 4, 0 },    /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xf0\x9f\x98", 3, 0 },        /* truncated */
		{ "\x80", 1, 0 },                /* lone continuation */
		{ "\xff", 1, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		size_t len = util_utf8_len((const unsigned char *)cases[i].s, cases[i].n);

		if (len != cases[i].len)
			fail_msg("utf8 case %zu: %zu, expected %zu", i, len, cases[i].len);
	}
}

static void test_format(void **state)
{
	static const struct {
		int64_t us;
		const char *time;
		const char *day;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000000Z", "1970-01-01" },
		{ 1, "1970-01-01T00:00:00.000001Z", "1970-01-01" },
		{ -1, "1969-12-31T23:59:59.999999Z", "1969-12-31" },
		{ -SEC, "1969-12-31T23:59:59.000000Z", "1969-12-31" },
		{ 1795928400123456LL, "2026-11-29T05:00:00.123456Z", "2026-11-29" },
		{ 1795996799999999LL, "2026-11-29T23:59:59.999999Z", "2026-11-29" },
		{ 1795996800000000LL, "2026-11-30T00:00:00.000000Z", "2026-11-30" },
		{ 1798761599999999LL, "2026-12-31T23:59:59.999999Z", "2026-12-31" },
		{ 1798761600000000LL, "2027-01-01T00:00:00.000000Z", "2027-01-01" },
		{ 951782400000000LL, "2000-02-29T00:00:00.000000Z", "2000-02-29" },
		{ 253402300799999999LL, "9999-12-31T23:59:59.999999Z", "9999-12-31" },
	};
	char buf[UTIL_TIME_MAX], day[UTIL_DAY_MAX];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		util_format_time(cases[i].us, buf);
		util_format_day(cases[i].us, day);
		if (strcmp(buf, cases[i].time) != 0 || strcmp(day, cases[i].day) != 0)
			fail_msg("%lld: %s %s, expected %s %s", (long long)cases[i].us, buf, day,
				 cases[i].time, cases[i].day);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hexval),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
