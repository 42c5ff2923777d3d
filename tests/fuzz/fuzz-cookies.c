/*
 * fuzz-cookies.c - libFuzzer harness for ingressd's Cookie header parser
 * (services/ingressd/cookies.c). The input is one or more Cookie header
 * values, one a line; the first line may instead name the cookie to look
 * for ("=name"), else the name is one of ours, chosen by the input's length.
 *
 * ingress_cookie_find must agree with a reference parser written here the
 * plain way (split at ';', trim, split at the first '=', unquote) on every
 * header: found, absent or ambiguous, and the same value bytes, which lie
 * inside the header. ingress_request_cookie over all the lines as Cookie
 * headers of one request must give the one value when exactly one header
 * has it once, never more than the buffer holds. A value that
 * ingress_cookie_format writes into a Set-Cookie line must be read back
 * unchanged from that line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingressd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINES_MAX 8
#define NAME_MAX_ 64

static const char *const s_names[] = { COOKIE_BROWSER, COOKIE_BROWSER_TLS, "sembark_session",
				       "__Host-sembark_session", "XSRF-TOKEN", "a" };

struct ref {
	int r;
	size_t off, len; /* value at header + off */
};

static int s_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* s_ref_find - the reference: what RFC 6265 5.4 pairs and our rules make of header */
static struct ref s_ref_find(const char *header, const char *name)
{
	struct ref out = { .r = -ENOENT };
	size_t n = strlen(header), start = 0;

	for (size_t i = 0; i <= n; i++) {
		size_t a = start, b = i, eq, vb, ve;

		if (i < n && header[i] != ';')
			continue;
		start = i + 1;
		while (a < b && s_ows(header[a]))
			a++;
		for (eq = a; eq < b && header[eq] != '='; eq++)
			;
		if (eq == b)
			continue; /* no '=': skipped */
		ve = eq;
		while (ve > a && s_ows(header[ve - 1]))
			ve--;
		if (ve - a != strlen(name) || strncmp(header + a, name, ve - a) != 0)
			continue;
		vb = eq + 1;
		ve = b;
		while (vb < ve && s_ows(header[vb]))
			vb++;
		while (ve > vb && s_ows(header[ve - 1]))
			ve--;
		if (ve - vb >= 2 && header[vb] == '"' && header[ve - 1] == '"')
			vb++, ve--;
		if (out.r == 0)
			return (struct ref){ .r = -ENOTUNIQ };
		out = (struct ref){ .r = 0, .off = vb, .len = ve - vb };
	}
	return out;
}

/* s_check_one - ingress_cookie_find against the reference on one header */
static struct ref s_check_one(const char *header, const char *name)
{
	struct ref want = s_ref_find(header, name);
	const char *v = NULL;
	size_t len = 0;
	int r = ingress_cookie_find(header, name, &v, &len);

	if (r != want.r)
		abort();
	if (r == 0 && (v != header + want.off || len != want.len))
		abort();
	return want;
}

/* s_check_request - every line a Cookie header of one request */
static void s_check_request(char **lines, size_t n, const char *name)
{
	struct http_header h[LINES_MAX];
	struct http_request req = { .headers = h, .n_headers = n };
	char out[COOKIE_VALUE_MAX + 1];
	size_t having = 0, at = 0;
	struct ref one = { 0 };
	bool ambiguous = false;
	int r;

	for (size_t i = 0; i < n; i++) {
		struct ref f = s_check_one(lines[i], name);

		h[i] = (struct http_header){ .name = i % 2 ? "cookie" : "Cookie", .value = lines[i] };
		ambiguous = ambiguous || f.r == -ENOTUNIQ;
		if (f.r == 0)
			having++, one = f, at = i;
	}
	memset(out, 'x', sizeof(out));
	r = ingress_request_cookie(&req, name, out, sizeof(out));
	if (ambiguous || having > 1) {
		if (r != -ENOTUNIQ)
			abort();
	} else if (having == 0) {
		if (r != -ENOENT)
			abort();
	} else if (one.len + 1 > sizeof(out)) {
		if (r != -ENOBUFS)
			abort();
	} else if (r != (int)one.len || memcmp(out, lines[at] + one.off, one.len) != 0 ||
		   out[one.len] != '\0') {
		abort();
	}
}

/* s_check_format - a cookie-octet value written by ingress_cookie_format reads back */
static void s_check_format(const char *name, const uint8_t *data, size_t size)
{
	char value[COOKIE_VALUE_MAX + 1], line[512];
	const char *v;
	size_t n = 0, len;

	for (size_t i = 0; i < size && n < COOKIE_VALUE_MAX; i++) {
		uint8_t c = data[i];

		/* RFC 6265 cookie-octet, less the quote that our reader strips */
		if (c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\')
			value[n++] = (char)c;
	}
	value[n] = '\0';
	if (ingress_cookie_format(line, sizeof(line), name, value, (long long)size - 1,
				  (unsigned)size) < 0)
		abort(); /* 128 + the longest name and attributes fit */
	if (!strcmp(name, "Path") || !strcmp(name, "SameSite") || !strcmp(name, "Max-Age") ||
	    !strcmp(name, "Expires"))
		return; /* a cookie named as an attribute is then there twice */
	if (ingress_cookie_find(line, name, &v, &len) != 0 || len != n || memcmp(v, value, n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *lines[LINES_MAX], *p, name[NAME_MAX_];
	size_t n = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	snprintf(name, sizeof(name), "%s", s_names[size % (sizeof(s_names) / sizeof(s_names[0]))]);
	p = text;
	if (p[0] == '=') { /* "=name\n": look for that cookie */
		size_t l = strcspn(p + 1, "\n;= \t");

		if (l > 0 && l < sizeof(name) && (p[1 + l] == '\n' || p[1 + l] == '\0')) {
			memcpy(name, p + 1, l);
			name[l] = '\0';
			p += 1 + l + (p[1 + l] == '\n');
		}
	}
	while (n < LINES_MAX) {
		lines[n++] = p;
		p = strchr(p, '\n');
		if (!p)
			break;
		*p++ = '\0';
	}
	s_check_request(lines, n, name);
	s_check_format(name, data, size);
	free(text);
	return 0;
}
