/*
 * util.c - small text helpers more than one daemon needs (see util.h).
 * UUIDs: the canonical 8-4-4-4-12 form only, either case. UTF-8: strict
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF),
 * decoded by util_utf8_next alone. Times: UTC, years 0000-9999,
 * RFC 3339's date-time read by util_parse_time alone; written with
 * microseconds (or without a zero fraction). Edit distance: optimal
 * string alignment over bytes, three rows on the stack, bounded length.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "util.h"

/* ---- origins ---------------------------------------------------------- */

static bool s_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_';
}

/* s_parse_host - host (name, IPv4 or [IPv6]) at s; returns its end, or NULL */
static const char *s_parse_host(const char *s, struct util_origin *o)
{
	const char *p = s;
	size_t n;

	if (*p == '[') {
		p += 1 + strspn(p + 1, "0123456789abcdefABCDEF:.");
		if (*p != ']')
			return NULL;
		p++;
	} else {
		while (s_host_char(*p))
			p++;
	}
	n = (size_t)(p - s);
	if (n == 0 || n > UTIL_ORIGIN_HOST_MAX)
		return NULL;
	memcpy(o->host, s, n);
	o->host[n] = '\0';
	return p;
}

/* s_parse_port - ":digits" (1..65535) or nothing; returns the end, or NULL */
static const char *s_parse_port(const char *p, struct util_origin *o)
{
	unsigned long v = 0;
	size_t n;

	o->port = o->tls ? 443 : 80;
	if (*p != ':')
		return p;
	p++;
	n = strspn(p, "0123456789");
	if (n == 0 || n > 5)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(p[i] - '0');
	if (v == 0 || v > 65535)
		return NULL;
	o->port = (unsigned)v;
	return p + n;
}

/* util_origin_parse - "scheme://host[:port]" at s; returns where it ends, or NULL */
const char *util_origin_parse(const char *s, struct util_origin *o)
{
	const char *p;

	if (strncasecmp(s, "https://", 8) == 0) {
		o->tls = true;
		p = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		o->tls = false;
		p = s + 7;
	} else {
		return NULL;
	}
	p = s_parse_host(p, o);
	return p ? s_parse_port(p, o) : NULL;
}

/* util_base64url_chars - all len bytes of s are base64url's A-Z a-z 0-9 - _ */
bool util_base64url_chars(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

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

/* s_uuid_check - 8-4-4-4-12 hex digits, lower-case only when lower, and nothing more */
static bool s_uuid_check(const char *s, bool lower)
{
	if (!s)
		return false;
	for (size_t i = 0; i < UTIL_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		bool upper = s[i] >= 'A' && s[i] <= 'F';

		if (dash ? s[i] != '-' : (util_hexval(s[i]) < 0 || (lower && upper)))
			return false;
	}
	return s[UTIL_UUID_LEN] == '\0';
}

/* util_uuid_valid - is s 8-4-4-4-12 hex digits (either case) and nothing more? */
bool util_uuid_valid(const char *s)
{
	return s_uuid_check(s, false);
}

/* util_uuid_canonical - is s 8-4-4-4-12 lower-case hex digits and nothing more? */
bool util_uuid_canonical(const char *s)
{
	return s_uuid_check(s, true);
}

/* util_uuid_format - 16 bytes as lower-case 8-4-4-4-12 text */
void util_uuid_format(const uint8_t b[static 16], char out[static UTIL_UUID_LEN + 1])
{
	char hex[33];
	size_t n = 0;

	sodium_bin2hex(hex, sizeof(hex), b, 16);
	for (size_t i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[n++] = '-';
		out[n++] = hex[i];
	}
	out[n] = '\0';
}

/* util_uuid_normalize - s (util_uuid_valid) lower-cased into out: 0, or -EINVAL and out untouched */
int util_uuid_normalize(const char *s, char out[static UTIL_UUID_LEN + 1])
{
	if (!util_uuid_valid(s))
		return -EINVAL;
	for (size_t i = 0; i < UTIL_UUID_LEN; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
	out[UTIL_UUID_LEN] = '\0';
	return 0;
}

/* util_utf8_next - decode the code point at s (n > 0 bytes left) strictly; length or -EILSEQ */
int util_utf8_next(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;
	int len;

	if (s[0] < 0x80)
		len = 1, cp = s[0];
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return -EILSEQ;
	if ((size_t)len > n)
		return -EILSEQ;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EILSEQ;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -EILSEQ;
	*ret_cp = cp;
	return len;
}

/* util_utf8_len - bytes of the well-formed UTF-8 character at s (n > 0 bytes left), 0 if none */
size_t util_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	int len = util_utf8_next(s, n, &cp);

	return len < 0 ? 0 : (size_t)len;
}

/* util_utf8_chars - code points of s[0..len), or UTIL_UTF8_INVALID: not strict UTF-8, or a NUL */
size_t util_utf8_chars(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;
	uint32_t cp;

	for (size_t i = 0; i < len; chars++) {
		int n = util_utf8_next(p + i, len - i, &cp);

		if (n < 0 || cp == 0)
			return UTIL_UTF8_INVALID;
		i += (size_t)n;
	}
	return chars;
}

/* util_utf8_valid - is s[0..len) strict UTF-8 without NUL? */
bool util_utf8_valid(const char *s, size_t len)
{
	return util_utf8_chars(s, len) != UTIL_UTF8_INVALID;
}

/* ---- RFC 3339 ------------------------------------------------------------ */

/* s_num - exactly n digits at *p into *ret, advancing *p */
static bool s_num(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool s_lit(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool s_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && s_leap(y) ? 29 : days[m - 1];
}

/* s_days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t s_days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* s_parse_date - "YYYY-MM-DD" into days since the epoch */
static bool s_parse_date(const char **p, unsigned flags, int64_t *ret_days)
{
	int y, m, d;

	if (!s_num(p, 4, &y) || !s_lit(p, '-') || !s_num(p, 2, &m) || !s_lit(p, '-') ||
	    !s_num(p, 2, &d))
		return false;
	if ((y == 0 && (flags & UTIL_TIME_YEAR1)) || m < 1 || m > 12 || d < 1 ||
	    d > s_month_days(y, m))
		return false;
	*ret_days = s_days_from_civil(y, m, d);
	return true;
}

/* s_parse_clock - "HH:MM:SS[.frac]" into microseconds of the day (60 s allowed) */
static bool s_parse_clock(const char **p, unsigned flags, int64_t *ret_us)
{
	int h, mi, sec, n = 0;
	int64_t frac = 0;

	if (!s_num(p, 2, &h) || !s_lit(p, ':') || !s_num(p, 2, &mi) || !s_lit(p, ':') ||
	    !s_num(p, 2, &sec) || h > 23 || mi > 59 || sec > 60)
		return false;
	if ((flags & UTIL_TIME_NO_235960) && h == 23 && mi == 59 && sec == 60)
		return false;
	if (s_lit(p, '.')) {
		for (; **p >= '0' && **p <= '9'; (*p)++, n++)
			if (n < 6)
				frac = frac * 10 + (**p - '0');
		if (n == 0 || n > 9)
			return false;
		for (int i = n; i < 6; i++)
			frac *= 10;
	}
	*ret_us = ((h * 60LL + mi) * 60 + sec) * 1000000 + frac;
	return true;
}

/* s_parse_offset - "Z" or "+HH:MM" / "-HH:MM" into seconds east of UTC */
static bool s_parse_offset(const char **p, int64_t *ret_s)
{
	int sign, h, m;

	if (s_lit(p, 'Z') || s_lit(p, 'z')) {
		*ret_s = 0;
		return true;
	}
	if (**p != '+' && **p != '-')
		return false;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (!s_num(p, 2, &h) || !s_lit(p, ':') || !s_num(p, 2, &m) || h > 23 || m > 59)
		return false;
	*ret_s = sign * (h * 3600LL + m * 60);
	return true;
}

static bool s_parse_t(const char **p, unsigned flags)
{
	return s_lit(p, 'T') || s_lit(p, 't') || ((flags & UTIL_TIME_SPACE) && s_lit(p, ' '));
}

/* util_parse_time - an RFC 3339 date-time as UTC microseconds; 0 or -EINVAL */
int util_parse_time(const char *s, unsigned flags, int64_t *ret_us)
{
	const char *p = s;
	int64_t days, clock_us, offset_s;

	if (!s)
		return -EINVAL;
	if (!s_parse_date(&p, flags, &days) || !s_parse_t(&p, flags) ||
	    !s_parse_clock(&p, flags, &clock_us) || !s_parse_offset(&p, &offset_s) || *p != '\0')
		return -EINVAL;
	*ret_us = days * 86400LL * 1000000 + clock_us - offset_s * 1000000;
	return 0;
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
	util_format_time_flags(us, 0, buf);
}

/* util_format_time_flags - util_format_time, UTIL_TIME_SHORT leaving out a zero fraction */
void util_format_time_flags(int64_t us, unsigned flags, char buf[static UTIL_TIME_MAX])
{
	struct tm tm;
	int64_t frac;
	int n;

	s_gmtime(us, &tm, &frac);
	/* the % only tell the compiler each part's width; the values fit */
	n = snprintf(buf, UTIL_TIME_MAX, "%04u-%02u-%02uT%02u:%02u:%02u",
		     (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)(tm.tm_mon + 1) % 100,
		     (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100,
		     (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
	if (frac == 0 && (flags & UTIL_TIME_SHORT))
		snprintf(buf + n, UTIL_TIME_MAX - (size_t)n, "Z");
	else
		snprintf(buf + n, UTIL_TIME_MAX - (size_t)n, ".%06uZ", (unsigned)frac % 1000000);
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

static bool s_same_letter(char a, char b)
{
	unsigned char la = (unsigned char)(a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a);
	unsigned char lb = (unsigned char)(b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);

	return la == lb;
}

static size_t s_min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* s_edit_cell - row i, column j of the table from the two rows above it */
static size_t s_edit_cell(const char *a, const char *b, size_t i, size_t j,
			  const size_t *up2, const size_t *up, const size_t *cur)
{
	size_t d = s_min3(up[j] + 1, cur[j - 1] + 1, up[j - 1] + !s_same_letter(a[i - 1], b[j - 1]));

	if (i > 1 && j > 1 && s_same_letter(a[i - 1], b[j - 2]) && s_same_letter(a[i - 2], b[j - 1]) &&
	    up2[j - 2] + 1 < d)
		d = up2[j - 2] + 1; /* a swap of neighbours */
	return d;
}

/*
 * util_edit_distance_within - util_edit_distance when it is at most max,
 * else a number above max: max + 1 as soon as two rows of the table in a
 * row are all above max (no later cell can come back below: each is at
 * least one of the two rows above it, or its left neighbour, plus what it
 * costs)
 */
size_t util_edit_distance_within(const char *a, const char *b, size_t max)
{
	size_t la = strnlen(a, UTIL_EDIT_MAX + 1), lb = strnlen(b, UTIL_EDIT_MAX + 1);
	size_t row[3][UTIL_EDIT_MAX + 1];
	bool above = false; /* the previous row was all above max */

	if (la > UTIL_EDIT_MAX || lb > UTIL_EDIT_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = row[i % 3], low;

		cur[0] = low = i;
		for (size_t j = 1; j <= lb; j++) {
			cur[j] = s_edit_cell(a, b, i, j, row[(i + 1) % 3], row[(i + 2) % 3], cur);
			low = cur[j] < low ? cur[j] : low;
		}
		if (low > max && above)
			return max + 1;
		above = low > max;
	}
	return row[la % 3][lb];
}

/* util_edit_distance - optimal-string-alignment distance, case-blind; SIZE_MAX if too long */
size_t util_edit_distance(const char *a, const char *b)
{
	return util_edit_distance_within(a, b, SIZE_MAX - 1);
}

/* util_mono_us - CLOCK_MONOTONIC in microseconds */
int64_t util_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
