/*
 * cookies.c - sembark-ingressd's one parser for the Cookie request header
 * and the writer of Set-Cookie values. Pure code: no I/O, no logging.
 *
 * Cookie: pairs "name=value" separated by ';' (and optional SP/HTAB, as
 * RFC 6265 section 5.4 has browsers send them). A pair without '=' is
 * skipped; a value in double quotes loses them. Everything is scanned
 * with bounds taken from the header itself, which the HTTP parser has
 * already limited ([ingress] max_header_bytes). A cookie that appears
 * twice (in one header or across several) is ambiguous, as when another
 * site on the same host tossed one with a longer Path: its value is not
 * used at all. The names are case-sensitive.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ingressd.h"

static const char *s_skip_ows(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *s_trim_end(const char *s, const char *end)
{
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return end;
}

/* s_pair_value - the value of pair [p, end) when its name is `name`, else NULL */
static const char *s_pair_value(const char *p, const char *end, const char *name, size_t *ret_len)
{
	const char *eq = memchr(p, '=', (size_t)(end - p));
	const char *name_end, *v, *v_end;
	size_t n = strlen(name);

	if (!eq)
		return NULL;
	name_end = s_trim_end(p, eq);
	if ((size_t)(name_end - p) != n || memcmp(p, name, n) != 0)
		return NULL;
	v = s_skip_ows(eq + 1, end);
	v_end = s_trim_end(v, end);
	if (v_end - v >= 2 && v[0] == '"' && v_end[-1] == '"') {
		v++;
		v_end--;
	}
	*ret_len = (size_t)(v_end - v);
	return v;
}

/* ingress_cookie_find - the value of cookie `name` in one Cookie header (see ingressd.h) */
int ingress_cookie_find(const char *header, const char *name, const char **ret_value,
			size_t *ret_len)
{
	const char *p = header, *end = header + strlen(header), *found = NULL;
	size_t found_len = 0;

	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *pair_end = semi ? semi : end;
		const char *v;
		size_t len;

		p = s_skip_ows(p, pair_end);
		v = s_pair_value(p, pair_end, name, &len);
		if (v) {
			if (found)
				return -ENOTUNIQ;
			found = v;
			found_len = len;
		}
		p = semi ? semi + 1 : end;
	}
	if (!found)
		return -ENOENT;
	*ret_value = found;
	*ret_len = found_len;
	return 0;
}

/* ingress_request_cookie - cookie `name` over every Cookie header of req, copied into out */
int ingress_request_cookie(const struct http_request *req, const char *name, char *out,
			   size_t size)
{
	const char *value = NULL;
	size_t len = 0;

	for (size_t i = 0; i < req->n_headers; i++) {
		const char *v;
		size_t n;
		int r;

		if (strcasecmp(req->headers[i].name, "Cookie") != 0)
			continue;
		r = ingress_cookie_find(req->headers[i].value, name, &v, &n);
		if (r == -ENOENT)
			continue;
		if (r < 0 || value)
			return -ENOTUNIQ;
		value = v;
		len = n;
	}
	if (!value)
		return -ENOENT;
	if (len + 1 > size)
		return -ENOBUFS;
	memcpy(out, value, len);
	out[len] = '\0';
	return (int)len;
}

/* ingress_cookie_format - "name=value; Path=/; [Max-Age=n; ]..." (max_age < 0: none) */
int ingress_cookie_format(char *buf, size_t size, const char *name, const char *value,
			  long long max_age, unsigned flags)
{
	char age[64] = "";
	int n;

	if (max_age == 0)
		snprintf(age, sizeof(age), "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
	else if (max_age > 0)
		snprintf(age, sizeof(age), "; Max-Age=%lld", max_age);
	n = snprintf(buf, size, "%s=%s; Path=/%s%s; SameSite=Lax%s", name, value, age,
		     (flags & COOKIE_HTTPONLY) ? "; HttpOnly" : "",
		     (flags & COOKIE_SECURE) ? "; Secure" : "");
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return n;
}
