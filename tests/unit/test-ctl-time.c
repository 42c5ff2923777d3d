/*
 * test-ctl-time.c - unit tests of the time arguments of sembarkctl's data
 * commands (services/ctl/owner_db.c over shared/util.c): RFC 3339
 * timestamps for `retention --now` and `logs --since` (offsets,
 * fractions, leap day, a space for the 'T', and a table of texts that
 * must be refused, year 0000 and 23:59:60 among them), durations ago for --since,
 * the printed form, and counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "services/ctl/ctl.h"

#define T0 1798606800000000LL /* 2026-12-30T05:00:00Z */

struct time_case {
	const char *in;
	int64_t us;
};

static const struct time_case s_good[] = {
	{ "2026-12-30T05:00:00Z", T0 },
	{ "2026-12-30t05:00:00z", T0 },
	{ "2026-12-30 05:00:00Z", T0 },
	{ "2026-12-30T06:00:00+01:00", T0 },
	{ "2026-12-29T23:30:00-05:30", T0 },
	{ "2026-12-30T05:00:00.5Z", T0 + 500000 },
	{ "2026-12-30T05:00:00.123456Z", T0 + 123456 },
	{ "2026-12-30T05:00:00.123456789Z", T0 + 123456 },
	{ "2028-02-29T00:00:00Z", 1835395200000000LL },
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2026-12-30T04:59:60Z", T0 },                 /* a leap second inside the day */
};

static const char *const s_bad[] = {
	"", "now", "yesterday", "2026-12-30", "2026-12-30T05:00:00", "2026-12-30T05:00Z",
	"2026-12-30T05:00:00+0100", "2026-12-30T05:00:00+01", "2026-13-01T00:00:00Z",
	"2026-02-30T00:00:00Z", "2027-02-29T00:00:00Z", "2026-12-32T00:00:00Z",
	"2026-12-30T24:00:00Z", "2026-12-30T05:60:00Z", "2026-12-30T05:00:00.Z",
	"2026-12-30T05:00:00.1234567890Z", "2026-12-30T05:00:00Z ", " 2026-12-30T05:00:00Z",
	"2026-12-30X05:00:00Z", "+2026-12-30T05:00:00Z", "2026-1-30T05:00:00Z",
	"2026-12-30T05:00:00+24:00",
	"0000-01-01T00:00:00Z", "2026-12-31T23:59:60Z", /* refused as they always were */
};

static void test_rfc3339(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_good); i++) {
		int64_t us = -1;

		if (ctl_parse_rfc3339(s_good[i].in, &us) != 0 || us != s_good[i].us)
			fail_msg("\"%s\" -> %lld, want %lld", s_good[i].in, (long long)us,
				 (long long)s_good[i].us);
	}
	for (size_t i = 0; i < ELEMENTSOF(s_bad); i++) {
		int64_t us = 42;

		if (ctl_parse_rfc3339(s_bad[i], &us) != -EINVAL || us != 42)
			fail_msg("\"%s\" was accepted", s_bad[i]);
	}
}

static void test_since(void **state)
{
	int64_t us;

	assert_int_equal(ctl_parse_since("90s", T0, &us), 0);
	assert_int_equal(us, T0 - 90000000LL);
	assert_int_equal(ctl_parse_since("15m", T0, &us), 0);
	assert_int_equal(us, T0 - 900000000LL);
	assert_int_equal(ctl_parse_since("2h", T0, &us), 0);
	assert_int_equal(us, T0 - 7200000000LL);
	assert_int_equal(ctl_parse_since("7d", T0, &us), 0);
	assert_int_equal(us, T0 - 7 * 86400000000LL);
	assert_int_equal(ctl_parse_since("0s", T0, &us), 0);
	assert_int_equal(us, T0);
	assert_int_equal(ctl_parse_since("2026-12-30T05:00:00Z", 0, &us), 0);
	assert_int_equal(us, T0);
	assert_int_equal(ctl_parse_since("15", T0, &us), -EINVAL);
	assert_int_equal(ctl_parse_since("15w", T0, &us), -EINVAL);
	assert_int_equal(ctl_parse_since("1234567d", T0, &us), -EINVAL);
	assert_int_equal(ctl_parse_since("m", T0, &us), -EINVAL);
	assert_int_equal(ctl_parse_since("-5m", T0, &us), -EINVAL);
	assert_int_equal(ctl_parse_since("5mm", T0, &us), -EINVAL);
}

static void test_format(void **state)
{
	char buf[CTL_TIME_MAX];

	ctl_format_time(T0, buf);
	assert_string_equal(buf, "2026-12-30T05:00:00Z");
	ctl_format_time(T0 + 7, buf);
	assert_string_equal(buf, "2026-12-30T05:00:00.000007Z");
	ctl_format_time(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
}

static void test_count(void **state)
{
	long v;

	assert_int_equal(ctl_parse_count("1", 1, 10, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ctl_parse_count("10", 1, 10, &v), 0);
	assert_int_equal(ctl_parse_count("0", 1, 10, &v), -EINVAL);
	assert_int_equal(ctl_parse_count("11", 1, 10, &v), -EINVAL);
	assert_int_equal(ctl_parse_count("-1", 1, 10, &v), -EINVAL);
	assert_int_equal(ctl_parse_count(" 1", 1, 10, &v), -EINVAL);
	assert_int_equal(ctl_parse_count("1x", 1, 10, &v), -EINVAL);
	assert_int_equal(ctl_parse_count("", 1, 10, &v), -EINVAL);
	assert_int_equal(ctl_parse_count("99999999999999999999999", 1, 10, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
