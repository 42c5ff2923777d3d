/*
 * util.c - small text helpers more than one daemon needs (see util.h).
 * UUIDs: the canonical 8-4-4-4-12 form only, either case. UTF-8: strict
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
 * Times: UTC, years 0000-9999, microseconds always written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* util_hexval - the value of the hex digit c (either case), -1 when c is none */
int util_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* util_uuid_valid - is s 8-4-4-4-12 hex digits (either case) and nothing more? */
bool util_uuid_valid(const char *s)
{
	if (!s)
		return false;
	for (size_t i = 0; i < UTIL_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : util_hexval(s[i]) < 0)
			return false;
	}
	return s[UTIL_UUID_LEN] == '\0';
}

/* util_uuid_normalize - s (util_uuid_valid) lower-cased into out: 0, or -EINVAL and out untouched */
int util_uuid_normalize(const char *s, char out[static UTIL_UUID_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	if (!util_uuid_valid(s))
		return -EINVAL;
	for (size_t i = 0; i < UTIL_UUID_LEN; i++)
		out[i] = s[i] == '-' ? '-' : digits[util_hexval(s[i])];
	out[UTIL_UUID_LEN] = '\0';
	return 0;
}

static bool s_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* util_utf8_len - bytes of the well-formed UTF-8 character at s (n > 0 bytes left), 0 if none */
size_t util_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogate */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (!s_cont(s[i]))
			return 0;
	return len;
}

/* s_gmtime - the UTC calendar time of us, and its microseconds (0..999999) */
static void s_gmtime(int64_t us, struct tm *tm, int64_t *ret_frac)
{
	int64_t sec = us / 1000000, frac = us % 1000000;
	time_t t;

	if (frac < 0) {
		frac += 1000000;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, tm))
		*tm = (struct tm){ .tm_mday = 1, .tm_year = 70 };
	*ret_frac = frac;
}

/* util_format_time - UTC microseconds as 2026-11-29T04:00:00.123000Z */
void util_format_time(int64_t us, char buf[static UTIL_TIME_MAX])
{
	struct tm tm;
	int64_t frac;

	s_gmtime(us, &tm, &frac);
	/* the % only tell the compiler each part's width; the values fit */
	snprintf(buf, UTIL_TIME_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)(tm.tm_mon + 1) % 100,
		 (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100,
		 (unsigned)tm.tm_sec % 100, (unsigned)frac % 1000000);
}

/* util_format_day - the UTC day of microseconds as 2026-11-29 */
void util_format_day(int64_t us, char buf[static UTIL_DAY_MAX])
{
	struct tm tm;
	int64_t frac;

	s_gmtime(us, &tm, &frac);
	snprintf(buf, UTIL_DAY_MAX, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000,
		 (unsigned)(tm.tm_mon + 1) % 100, (unsigned)tm.tm_mday % 100);
}
