/*
 * util.h - small text helpers more than one daemon needs: hex digits,
 * UUID text, strict UTF-8, UTC times in RFC 3339 (parsed, and written
 * with microseconds) or as a day, and the edit distance that suggests the
 * nearest name for a misspelt one. Pure functions: no allocation,
 * no logging.
 */
#ifndef SEMBARK_UTIL_H
#define SEMBARK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTIL_UUID_LEN 36  /* 8-4-4-4-12 hex digits */
#define UTIL_TIME_MAX 32  /* util_format_time's buffer, NUL included */
#define UTIL_DAY_MAX 11   /* util_format_day's buffer, NUL included */
#define UTIL_ORIGIN_HOST_MAX 255 /* bytes of an origin's host, brackets included */
#define UTIL_UTF8_INVALID SIZE_MAX /* util_utf8_chars: not strict UTF-8, or a NUL */
#define UTIL_EDIT_MAX 128 /* longest string util_edit_distance measures, in bytes */

/* util_parse_time flags; 0 is RFC 3339's date-time and nothing else */
#define UTIL_TIME_SPACE (1u << 0)     /* a space may stand for the 'T' (RFC 3339 5.6, NOTE) */
#define UTIL_TIME_YEAR1 (1u << 1)     /* years 0001..9999: 0000 is refused */
#define UTIL_TIME_NO_235960 (1u << 2) /* a leap second 23:59:60 (crossing midnight) is refused */
/* util_format_time_flags flags */
#define UTIL_TIME_SHORT (1u << 0)     /* leave out a fraction of zero: "...T05:00:00Z" */

/* util_mono_us - CLOCK_MONOTONIC in microseconds */
int64_t util_mono_us(void);

/* util_hexval - the value of the hex digit c (either case), -1 when c is none */
int util_hexval(char c);
/* An origin (RFC 6454): scheme, host and port, the default port filled in. */
struct util_origin {
	bool tls; /* https */
	char host[UTIL_ORIGIN_HOST_MAX + 1];
	unsigned port;
};

/*
 * util_origin_parse - "http[s]://host[:port]" at s, the scheme in any case;
 * host a name of letters, digits, '-', '.' and '_', or an [IPv6] literal;
 * port 1..65535, else the scheme's. Returns where it ends (the caller
 * says what may follow), or NULL.
 */
const char *util_origin_parse(const char *s, struct util_origin *ret);

/*
 * util_base64url_chars - are all len bytes of s of the base64url alphabet
 * (A-Z a-z 0-9 - _)? To check before sodium_base642bin, which (libsodium
 * 1.0.18) decodes any byte >= 0x80 as '_': a second spelling of a token.
 */
bool util_base64url_chars(const char *s, size_t len);
/* util_uuid_valid - is s 8-4-4-4-12 hex digits (either case) and nothing more? */
bool util_uuid_valid(const char *s);
/* util_uuid_canonical - is s 8-4-4-4-12 lower-case hex digits and nothing more? */
bool util_uuid_canonical(const char *s);
/* util_uuid_format - 16 bytes as lower-case 8-4-4-4-12 text */
void util_uuid_format(const uint8_t b[static 16], char out[static UTIL_UUID_LEN + 1]);
/* util_uuid_normalize - s (util_uuid_valid) lower-cased into out: 0, or -EINVAL and out untouched */
int util_uuid_normalize(const char *s, char out[static UTIL_UUID_LEN + 1]);
/*
 * util_utf8_next - decode the code point at s (n > 0 bytes left) strictly:
 * no overlong form, no surrogate, nothing above U+10FFFF. Its length
 * (1..4) and *ret_cp, or -EILSEQ (*ret_cp untouched). U+0000 is a code point.
 */
int util_utf8_next(const unsigned char *s, size_t n, uint32_t *ret_cp);
/* util_utf8_len - bytes of the well-formed UTF-8 character at s (n > 0 bytes left), 0 if none */
size_t util_utf8_len(const unsigned char *s, size_t n);
/* util_utf8_chars - code points of s[0..len), or UTIL_UTF8_INVALID: not strict UTF-8, or a NUL */
size_t util_utf8_chars(const char *s, size_t len);
/* util_utf8_valid - is s[0..len) strict UTF-8 without NUL? */
bool util_utf8_valid(const char *s, size_t len);
/*
 * util_parse_time - an RFC 3339 date-time ("2026-11-29T05:00:00Z",
 * "...t05:00:00.5+01:00"; 1 to 9 fraction digits, cut to microseconds;
 * second 60 counts as the next minute's 0) as UTC microseconds, widened
 * by UTIL_TIME_SPACE or narrowed by the other UTIL_TIME_* flags. 0, or
 * -EINVAL and *ret_us untouched.
 */
int util_parse_time(const char *s, unsigned flags, int64_t *ret_us);
/* util_format_time - UTC microseconds as 2026-11-29T04:00:00.123000Z */
void util_format_time(int64_t us, char buf[static UTIL_TIME_MAX]);
/* util_format_time_flags - util_format_time, UTIL_TIME_SHORT leaving out a zero fraction */
void util_format_time_flags(int64_t us, unsigned flags, char buf[static UTIL_TIME_MAX]);
/* util_format_day - the UTC day of microseconds as 2026-11-29 */
void util_format_day(int64_t us, char buf[static UTIL_DAY_MAX]);

/*
 * util_edit_distance - the edit distance of a and b: insertions, deletions,
 * substitutions and swaps of two neighbours, one byte each (Damerau-
 * Levenshtein, optimal string alignment), ASCII letters compared without
 * case; SIZE_MAX when either is longer than UTIL_EDIT_MAX bytes.
 */
size_t util_edit_distance(const char *a, const char *b);
/* util_edit_distance_within - the same when it is at most max, else some number above max (early) */
size_t util_edit_distance_within(const char *a, const char *b, size_t max);

#endif
