/*
 * util.h - small text helpers more than one daemon needs: hex digits,
 * UUID text, UTF-8 well-formedness, and UTC times written as RFC 3339
 * with microseconds or as a day. Pure functions: no allocation, no
 * logging.
 */
#ifndef SEMBARK_UTIL_H
#define SEMBARK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTIL_UUID_LEN 36  /* 8-4-4-4-12 hex digits */
#define UTIL_TIME_MAX 32  /* util_format_time's buffer, NUL included */
#define UTIL_DAY_MAX 11   /* util_format_day's buffer, NUL included */

/* util_hexval - the value of the hex digit c (either case), -1 when c is none */
int util_hexval(char c);
/* util_uuid_valid - is s 8-4-4-4-12 hex digits (either case) and nothing more? */
bool util_uuid_valid(const char *s);
/* util_uuid_normalize - s (util_uuid_valid) lower-cased into out: 0, or -EINVAL and out untouched */
int util_uuid_normalize(const char *s, char out[static UTIL_UUID_LEN + 1]);
/* util_utf8_len - bytes of the well-formed UTF-8 character at s (n > 0 bytes left), 0 if none */
size_t util_utf8_len(const unsigned char *s, size_t n);
/* util_format_time - UTC microseconds as 2026-11-29T04:00:00.123000Z */
void util_format_time(int64_t us, char buf[static UTIL_TIME_MAX]);
/* util_format_day - the UTC day of microseconds as 2026-11-29 */
void util_format_day(int64_t us, char buf[static UTIL_DAY_MAX]);

#endif
