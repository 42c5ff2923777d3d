/*
 * test-util.c - unit tests of shared/util.c, table-driven: hex digit
 * values, UUID text (canonical 8-4-4-4-12 in either case, lower-cased;
 * everything else refused and the output untouched; the lower-case-only
 * check), UTF-8 at the edges of RFC 3629 (overlong forms, surrogates,
 * above U+10FFFF, truncated sequences): one code point, character
 * lengths and counts, NUL refused by the counters; RFC 3339 date-times
 * parsed (offsets, fractions, calendar, leap seconds, junk; each flag),
 * and UTC times written as RFC 3339 with microseconds (or without a zero
 * fraction) and as days (negative times, day and year boundaries); the
 * edit distance (empty strings, case, each kind of edit, the length cap).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "macro.h"
#include "util.h"

#define SEC 1000000LL
#define T0 1795928400000000LL /* 2026-11-29T05:00:00Z */

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
		{ "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f1F", "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f1f" },
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
	assert_false(util_uuid_canonical(NULL));
	assert_int_equal(util_uuid_normalize(NULL, out), -EINVAL);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r;

		memcpy(out, "untouched", 10);
		r = util_uuid_normalize(cases[i].in, out);
		if (util_uuid_valid(cases[i].in) != (cases[i].out != NULL))
			fail_msg("uuid %s: util_uuid_valid wrong", cases[i].in);
		/* canonical: valid and already lower-case */
		if (util_uuid_canonical(cases[i].in) !=
		    (cases[i].out && strcmp(cases[i].in, cases[i].out) == 0))
			fail_msg("uuid %s: util_uuid_canonical wrong", cases[i].in);
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

static void test_utf8_next(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		int len;     /* -EILSEQ: refused */
		uint32_t cp;
	} cases[] = {
		{ "\0", 1, 1, 0 },
		{ "a", 1, 1, 'a' },
		{ "\xc2\x80", 2, 2, 0x80 },
		{ "\xc3\xa9x", 3, 2, 0xe9 },
		{ "\xe2\x82\xac", 3, 3, 0x20ac },
		{ "\xed\x9f\xbf", 3, 3, 0xd7ff },
		{ "\xee\x80\x80", 3, 3, 0xe000 },
		{ "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
		{ "\xc0\xaf", 2, -EILSEQ, 0 },        /* overlong '/' */
		{ "\xe0\x80\xaf", 3, -EILSEQ, 0 },
		{ "\xf0\x80\x80\xaf", 4, -EILSEQ, 0 },
		{ "\xed\xa0\x80", 3, -EILSEQ, 0 },    /* U+D800 */
		{ "\xed\xbf\xbf", 3, -EILSEQ, 0 },    /* U+DFFF */
		{ "\xf4\x90\x80\x80", 4, -EILSEQ, 0 }, /* U+110000 */
		{ "\xe2\x82", 2, -EILSEQ, 0 },         /* cut */
		{ "\xe2\x82\x41", 3, -EILSEQ, 0 },
		{ "\x80", 1, -EILSEQ, 0 },
		{ "\xf8\x88\x80\x80", 4, -EILSEQ, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint32_t cp = 0xdeadbeef;
		int len = util_utf8_next((const unsigned char *)cases[i].s, cases[i].n, &cp);

		if (len != cases[i].len || (len > 0 && cp != cases[i].cp) ||
		    (len < 0 && cp != 0xdeadbeef))
			fail_msg("utf8_next case %zu: %d U+%04X", i, len, (unsigned)cp);
	}
}

static void test_utf8_chars(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		size_t chars; /* UTIL_UTF8_INVALID: refused */
	} cases[] = {
		{ "", 0, 0 },
		{ "plain", 5, 5 },
		{ "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, 4 },
		{ "a\0b", 3, UTIL_UTF8_INVALID },       /* NUL */
		{ "\xc0\x80", 2, UTIL_UTF8_INVALID },  /* overlong NUL */
		{ "ab\xc3", 3, UTIL_UTF8_INVALID },     /* cut */
		{ "\xed\xa0\x80", 3, UTIL_UTF8_INVALID },
		{ "\xff", 1, UTIL_UTF8_INVALID },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		size_t chars = util_utf8_chars(cases[i].s, cases[i].n);

		if (chars != cases[i].chars)
			fail_msg("utf8_chars case %zu: %zu, expected %zu", i, chars, cases[i].chars);
		assert_int_equal(util_utf8_valid(cases[i].s, cases[i].n),
				 cases[i].chars != UTIL_UTF8_INVALID);
	}
}

static void test_parse_time(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		int64_t us;
	} cases[] = {
		{ "2026-11-29T05:00:00Z", true, T0 },
		{ "2026-11-29t05:00:00z", true, T0 },
		{ "2026-11-29T05:00:00.123Z", true, T0 + 123000 },
		{ "2026-11-29T05:00:00.1Z", true, T0 + 100000 },
		{ "2026-11-29T05:00:00.123456Z", true, T0 + 123456 },
		{ "2026-11-29T05:00:00.123456789Z", true, T0 + 123456 },  /* ns cut to us */
		{ "2026-11-29T06:30:00+01:30", true, T0 },
		{ "2026-11-29T00:00:00-05:00", true, T0 },
		{ "2026-11-29T05:00:00+00:00", true, T0 },
		{ "2026-11-29T05:00:00-00:00", true, T0 },
		{ "1970-01-01T00:00:00Z", true, 0 },
		{ "2024-02-29T00:00:00Z", true, 1709164800LL * SEC },     /* leap day */
		{ "2026-11-29T04:59:60Z", true, T0 },                    /* leap second */
		{ "2026-11-29T23:59:59.999999Z", true, T0 + (19 * 3600 - 1) * SEC + 999999 },
		{ "2026-11-29T05:00:00.Z", false, 0 },
		{ "2026-11-29T05:00:00.1234567890Z", false, 0 },          /* 10 digits */
		{ "2026-11-29T05:00:00", false, 0 },                      /* no offset */
		{ "2026-11-29 05:00:00Z", false, 0 },                     /* space */
		{ "2026-11-29", false, 0 },
		{ "2026-11-29T05:00Z", false, 0 },                        /* no seconds */
		{ "2026-02-29T00:00:00Z", false, 0 },                     /* not a leap year */
		{ "1900-02-29T00:00:00Z", false, 0 },
		{ "2026-13-01T00:00:00Z", false, 0 },
		{ "2026-00-01T00:00:00Z", false, 0 },
		{ "2026-04-31T00:00:00Z", false, 0 },
		{ "2026-11-00T00:00:00Z", false, 0 },
		{ "2026-11-29T24:00:00Z", false, 0 },
		{ "2026-11-29T05:60:00Z", false, 0 },
		{ "2026-11-29T05:00:61Z", false, 0 },
		{ "2026-11-29T05:00:00+24:00", false, 0 },
		{ "2026-11-29T05:00:00+01:60", false, 0 },
		{ "2026-11-29T05:00:00+0100", false, 0 },
		{ "2026-11-29T05:00:00Zjunk", false, 0 },
		{ "26-11-29T05:00:00Z", false, 0 },
		{ "+2026-11-29T05:00:00Z", false, 0 },
		{ "2026-1-29T05:00:00Z", false, 0 },
		{ "1795928400", false, 0 },
		{ "", false, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int64_t us = -1;
		int r = util_parse_time(cases[i].in, 0, &us);

		if (cases[i].ok != (r == 0))
			fail_msg("time %s: %s", cases[i].in, r == 0 ? "accepted" : "refused");
		if (cases[i].ok && us != cases[i].us)
			fail_msg("time %s: %lld, expected %lld", cases[i].in, (long long)us,
				 (long long)cases[i].us);
	}
}

static void test_time_round_trip(void **state)
{
	char buf[32], day[11];
	int64_t back;

	util_format_time(T0 + 123456, buf);
	assert_string_equal(buf, "2026-11-29T05:00:00.123456Z");
	assert_int_equal(util_parse_time(buf, 0, &back), 0);
	assert_int_equal(back, T0 + 123456);
	util_format_day(T0, day);
	assert_string_equal(day, "2026-11-29");
	util_format_day(T0 + 19 * 3600 * SEC, day); /* next midnight */
	assert_string_equal(day, "2026-11-30");
}

/* each flag of util_parse_time, alone and together (sembarkctl's) */
static void test_parse_time_flags(void **state)
{
	static const unsigned CTL = UTIL_TIME_SPACE | UTIL_TIME_YEAR1 | UTIL_TIME_NO_235960;
	static const struct {
		const char *in;
		unsigned flags;
		bool ok;
		int64_t us;
	} cases[] = {
		{ "2026-11-29 05:00:00Z", UTIL_TIME_SPACE, true, T0 },
		{ "2026-11-29 05:00:00Z", CTL, true, T0 },
		{ "2026-11-29  05:00:00Z", UTIL_TIME_SPACE, false, 0 },
		{ "2026-11-29_05:00:00Z", UTIL_TIME_SPACE, false, 0 },
		{ "0000-01-01T00:00:00Z", 0, true, -62167219200LL * SEC },
		{ "0000-01-01T00:00:00Z", UTIL_TIME_YEAR1, false, 0 },
		{ "0001-01-01T00:00:00Z", UTIL_TIME_YEAR1, true, -62135596800LL * SEC },
		{ "2026-11-29T23:59:60Z", 0, true, T0 + 19 * 3600 * SEC },
		{ "2026-11-29T23:59:60Z", UTIL_TIME_NO_235960, false, 0 },
		{ "2026-11-29T23:59:60+01:00", CTL, false, 0 },
		{ "2026-11-29T04:59:60Z", UTIL_TIME_NO_235960, true, T0 },
		{ "2026-11-29T23:58:60Z", CTL, true, T0 + (19 * 3600 - 60) * SEC },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int64_t us = 42;
		int r = util_parse_time(cases[i].in, cases[i].flags, &us);

		if (cases[i].ok != (r == 0) || us != (cases[i].ok ? cases[i].us : 42))
			fail_msg("time %s (flags %u): r=%d us=%lld", cases[i].in, cases[i].flags, r,
				 (long long)us);
	}
	assert_int_equal(util_parse_time(NULL, 0, &(int64_t){ 0 }), -EINVAL);
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

static void test_format_short(void **state)
{
	static const struct {
		int64_t us;
		const char *time;
	} cases[] = {
		{ T0, "2026-11-29T05:00:00Z" },
		{ T0 + 7, "2026-11-29T05:00:00.000007Z" },
		{ T0 + 500000, "2026-11-29T05:00:00.500000Z" },
		{ 0, "1970-01-01T00:00:00Z" },
		{ -1, "1969-12-31T23:59:59.999999Z" },
		{ -SEC, "1969-12-31T23:59:59Z" },
	};
	char buf[UTIL_TIME_MAX];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		util_format_time_flags(cases[i].us, UTIL_TIME_SHORT, buf);
		assert_string_equal(buf, cases[i].time);
		util_format_time_flags(cases[i].us, 0, buf);
		if (strlen(buf) != 27)
			fail_msg("%lld without flags: %s", (long long)cases[i].us, buf);
	}
}

static void test_edit_distance(void **state)
{
	static const struct {
		const char *a, *b;
		size_t want;
	} cases[] = {
		{ "", "", 0 },
		{ "", "abc", 3 },
		{ "abc", "", 3 },
		{ "session_lifetime", "session_lifetime", 0 },
		{ "SESSION_LIFETIME", "session_lifetime", 0 },
		{ "SESION_LIFETIME", "SESSION_LIFETIME", 1 },         /* one insertion */
		{ "SESSSION_LIFETIME", "SESSION_LIFETIME", 1 },       /* one deletion */
		{ "SESSION_LIFETIMR", "SESSION_LIFETIME", 1 },        /* one substitution */
		{ "SESSION_LIFEITME", "SESSION_LIFETIME", 1 },        /* a swap of neighbours */
		{ "auht", "auth", 1 },
		{ "ca", "abc", 3 },                                   /* no edit twice (OSA) */
		{ "kitten", "sitting", 3 },
		{ "bcrypt_cost", "hash_threads", 11 },
	};
	char long_s[UTIL_EDIT_MAX + 2];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		size_t d = util_edit_distance(cases[i].a, cases[i].b);

		if (d != cases[i].want)
			fail_msg("\"%s\" to \"%s\": %zu, want %zu", cases[i].a, cases[i].b, d,
				 cases[i].want);
		assert_int_equal(util_edit_distance(cases[i].b, cases[i].a), cases[i].want);
		/* bounded: the distance when within max, else anything above max */
		for (size_t max = 0; max < 6; max++) {
			size_t w = util_edit_distance_within(cases[i].a, cases[i].b, max);

			if (cases[i].want <= max)
				assert_int_equal(w, cases[i].want);
			else
				assert_true(w > max);
		}
	}
	memset(long_s, 'a', UTIL_EDIT_MAX);
	long_s[UTIL_EDIT_MAX] = '\0';
	assert_int_equal(util_edit_distance(long_s, ""), UTIL_EDIT_MAX);
	assert_int_equal(util_edit_distance(long_s, long_s), 0);
	long_s[UTIL_EDIT_MAX] = 'a';
	long_s[UTIL_EDIT_MAX + 1] = '\0';
	assert_true(util_edit_distance(long_s, "a") == SIZE_MAX);
	assert_true(util_edit_distance("a", long_s) == SIZE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hexval),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_utf8_next),
		cmocka_unit_test(test_utf8_chars),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_parse_time_flags),
		cmocka_unit_test(test_time_round_trip),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_short),
		cmocka_unit_test(test_edit_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
