/*
 * fuzz-query.c - libFuzzer harness for the query-string parsers: logd's
 * GET /api/audit?limit=N&before=CURSOR (logd_audit_query_parse and the
 * cursor codec, services/logd/audit_list.c) and telemetryd's
 * GET /api/telemetry/summary?days=N (telemetryd_summary_days,
 * services/telemetryd/summary.c). The input is the query string (and, as
 * it is, a cursor); its first 16 bytes are also an (at, id) to encode.
 *
 * Each parser agrees with a reference written here from the rules in its
 * file's comments: the same acceptance, the same values, the same field
 * named on error. The reference cursor decoder is its own strict
 * base64url; an (at, id) in range encodes to a cursor that decodes to it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logd.h"
#include "telemetryd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AT_US_MAX 253402300799999999LL /* audit_list.c: 9999-12-31T23:59:59.999999Z */
#define PARAM_MAX 256

/* s_num - all of s[0..n) decimal digits (1..19 of them), value <= max */
static bool s_num(const char *s, size_t n, int64_t max, int64_t *ret)
{
	uint64_t v = 0;

	if (n < 1 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits fit in uint64_t */
	}
	*ret = (int64_t)v;
	return v <= (uint64_t)max;
}

/* s_ref_b64 - strict base64url (no padding, spare bits zero) of s into out */
static bool s_ref_b64(const char *s, unsigned char *out, size_t *ret_n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t len = strlen(s), n = 0, bits = 0;
	uint32_t acc = 0;

	if (len % 4 == 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		const char *p = memchr(abc, s[i], 64);

		if (!p)
			return false;
		acc = (acc << 6 | (uint32_t)(p - abc)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	*ret_n = n;
	return (acc & ((1u << bits) - 1)) == 0;
}

static bool s_ref_cursor(const char *s, int64_t *at, int64_t *id)
{
	unsigned char raw[LOGD_CURSOR_MAX];
	size_t n, len = strlen(s);
	const char *dot;

	if (len == 0 || len > LOGD_CURSOR_MAX || !s_ref_b64(s, raw, &n))
		return false;
	dot = memchr(raw, '.', n);
	return dot && s_num((const char *)raw, (size_t)(dot - (char *)raw), AT_US_MAX, at) &&
	       s_num(dot + 1, n - (size_t)(dot + 1 - (char *)raw), INT64_MAX, id) && *id >= 1;
}

static void s_check_cursor(const char *s)
{
	int64_t at = -1, id = -1, rat = -1, rid = -1;
	bool ok = logd_cursor_decode(s, &at, &id) == 0;

	if (ok != s_ref_cursor(s, &rat, &rid) || (ok && (at != rat || id != rid))) {
		fprintf(stderr, "cursor \"%s\": %s, reference %s\n", s, ok ? "taken" : "refused",
			ok ? "refuses it" : "takes it");
		abort();
	}
}

static void s_check_encode(int64_t at, int64_t id)
{
	char c[LOGD_CURSOR_MAX + 1];
	int64_t at2, id2;
	int r = logd_cursor_encode(at, id, c);

	if ((r == 0) != (at >= 0 && at <= AT_US_MAX && id >= 1))
		abort();
	if (r == 0 && (logd_cursor_decode(c, &at2, &id2) != 0 || at2 != at || id2 != id))
		abort();
}

/* s_unescape - %XX and '+'; false for a bad escape, a NUL or too long */
static bool s_unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];

		if (c == '%') {
			unsigned v;

			if (i + 2 >= n || !strchr("0123456789abcdefABCDEF", s[i + 1]) ||
			    !strchr("0123456789abcdefABCDEF", s[i + 2]) ||
			    sscanf(s + i + 1, "%2x", &v) != 1)
				return false;
			c = v, i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == 0 || o >= PARAM_MAX)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

/* s_ref_audit - limit 1..100 (default 50), before a cursor, each at most once */
static int s_ref_audit(const char *q, struct logd_audit_query *ret, const char **field)
{
	struct logd_audit_query a = { .limit = LOGD_AUDIT_LIMIT_DEFAULT };
	bool seen_limit = false;

	for (const char *p = q; *p;) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		size_t nn = eq ? (size_t)(eq - p) : n;
		char name[PARAM_MAX + 1], value[PARAM_MAX + 1];
		int64_t v;

		if (n && s_unescape(p, nn, name) &&
		    (!strcmp(name, "limit") || !strcmp(name, "before"))) {
			bool limit = name[0] == 'l';

			*field = name[0] == 'l' ? "limit" : "before";
			if (limit ? seen_limit : a.has_before)
				return -EINVAL;
			if (!s_unescape(eq ? eq + 1 : p + n, eq ? n - nn - 1 : 0, value))
				return -EINVAL;
			if (limit) {
				seen_limit = true;
				if (!s_num(value, strlen(value), 1000, &v) || v < 1 ||
				    v > LOGD_AUDIT_LIMIT_MAX)
					return -EINVAL;
				a.limit = (int)v;
			} else {
				if (!s_ref_cursor(value, &a.before_at_us, &a.before_id))
					return -EINVAL;
				a.has_before = true;
			}
		}
		p += n + (p[n] == '&');
	}
	*ret = a;
	return 0;
}

static void s_check_audit(const char *q)
{
	struct logd_audit_query got, want;
	const char *field = NULL, *why = NULL, *want_field = NULL;
	int r = logd_audit_query_parse(q, &got, &field, &why);
	int w = s_ref_audit(q, &want, &want_field);

	if (r != w)
		abort();
	if (r < 0 && (!field || !why || strcmp(field, want_field) != 0))
		abort();
	if (r == 0 && (got.limit != want.limit || got.has_before != want.has_before ||
		       (got.has_before && (got.before_at_us != want.before_at_us ||
					   got.before_id != want.before_id))))
		abort();
}

/* s_ref_days - days=1..30 (no sign, no leading zero), at most once; 7 when absent */
static int s_ref_days(const char *q, int *ret)
{
	int days = 7, seen = 0;

	for (const char *p = q; *p;) {
		size_t n = strcspn(p, "&");

		if (n >= 4 && strncmp(p, "days", 4) == 0 && (n == 4 || p[4] == '=')) {
			const char *v = p + 5;
			size_t vl = n > 4 ? n - 5 : 0;

			if (seen++ || n == 4 || vl < 1 || vl > 2 || v[0] < '1' || v[0] > '9' ||
			    (vl == 2 && (v[1] < '0' || v[1] > '9')))
				return -EINVAL;
			days = vl == 1 ? v[0] - '0' : (v[0] - '0') * 10 + (v[1] - '0');
			if (days > 30)
				return -EINVAL;
		}
		p += n + (p[n] == '&');
	}
	*ret = days;
	return 0;
}

static void s_check_days(const char *q)
{
	int got = -1, want = -1;
	int r = telemetryd_summary_days(q, &got), w = s_ref_days(q, &want);

	if (r != w || (r == 0 && got != want))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1);
	int64_t at = 0, id = 0;

	if (!q)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	s_check_audit(q);
	s_check_days(q);
	s_check_cursor(q);
	if (size >= 16) {
		memcpy(&at, data, 8);
		memcpy(&id, data + 8, 8);
		s_check_encode(at % (AT_US_MAX + 2), id);
	}
	free(q);
	return 0;
}
