/*
 * redact.c - the last guard of "no IP address is ever stored": before a
 * record is buffered, every part of its message and field values that
 * looks like an IPv4 or IPv6 address becomes "[ip]". Deliberately
 * generous (a false positive costs a version string, a miss costs a
 * promise):
 *   IPv4: four dot-separated runs of 1-3 digits, not preceded by a digit
 *         or '.', the last run not followed by a digit;
 *   IPv6: a maximal run of [0-9A-Fa-f:] that holds "::" and a hex digit,
 *         or seven colons or more (covers ::ffff:a.b.c.d once the IPv4
 *         part is gone).
 * Only ASCII bytes are touched, so valid UTF-8 stays valid.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "logd.h"

#define REDACTED "[ip]"

static bool s_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool s_hex(char c)
{
	return s_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static size_t s_digits(const char *p)
{
	size_t n = 0;

	while (s_digit(p[n]))
		n++;
	return n;
}

/* s_ipv4_len - length of a dotted quad starting at p, 0 when none */
static size_t s_ipv4_len(const char *p)
{
	size_t off = 0;

	for (int g = 0; g < 4; g++) {
		size_t n = s_digits(p + off);

		if (n < 1 || n > 3)
			return 0;
		off += n;
		if (g < 3 && p[off++] != '.')
			return 0;
	}
	return off;
}

static bool s_ipv6_like(const char *p, size_t n)
{
	size_t colons = 0;
	bool hex = false, dbl = false;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == ':') {
			colons++;
			dbl = dbl || (i > 0 && p[i - 1] == ':');
		} else {
			hex = true;
		}
	}
	return (dbl && hex) || colons >= 7;
}

/* s_pass_ipv4 - out (room for 2 * strlen(in) + 5) = in with quads redacted */
static void s_pass_ipv4(const char *in, char *out)
{
	size_t o = 0, n;

	for (size_t i = 0; in[i];) {
		char prev = o > 0 ? out[o - 1] : '\0';

		if (s_digit(in[i]) && !s_digit(prev) && prev != '.' && (n = s_ipv4_len(in + i))) {
			memcpy(out + o, REDACTED, strlen(REDACTED));
			o += strlen(REDACTED);
			i += n;
			continue;
		}
		out[o++] = in[i++];
	}
	out[o] = '\0';
}

static void s_pass_ipv6(const char *in, char *out)
{
	size_t o = 0;

	for (size_t i = 0; in[i];) {
		size_t j = i;

		while (in[j] && (in[j] == ':' || s_hex(in[j])))
			j++;
		if (j == i) {
			out[o++] = in[i++];
			continue;
		}
		if (s_ipv6_like(in + i, j - i)) {
			memcpy(out + o, REDACTED, strlen(REDACTED));
			o += strlen(REDACTED);
		} else {
			memcpy(out + o, in + i, j - i);
			o += j - i;
		}
		i = j;
	}
	out[o] = '\0';
}

/* logd_redact_ip - a malloc'ed copy of s with address-like parts redacted */
char *logd_redact_ip(const char *s)
{
	size_t size = 2 * strlen(s) + 5; /* "[ip]" may replace 3 bytes ("a::") */
	_cleanup_free_ char *a = malloc(size);
	char *b = malloc(size);

	if (!a || !b) {
		free(b);
		return NULL;
	}
	s_pass_ipv4(s, a);
	s_pass_ipv6(a, b);
	s_pass_ipv4(b, a); /* nothing new can appear, but cheap to be sure */
	memcpy(b, a, strlen(a) + 1);
	return b;
}
