/*
 * fuzz-origin.c - libFuzzer harness for ingressd's same-origin check
 * (services/ingressd/origin.c). The input is up to four lines: the
 * configured public_origin, then Origin, Referer and Sec-Fetch-Site ("~"
 * or a missing line: the header is absent).
 *
 * Properties:
 *  - ingress_origin_allowed agrees with a reference written here from the
 *    rules in origin.c's header comment (scheme, host case-insensitively,
 *    port with the scheme's default; a Referer may go on with a path or a
 *    query; cross-site is always refused; no Origin and no Referer pass);
 *  - a public_origin that the configuration accepts ([ingress]
 *    public_origin, shared/config.c) is its own origin: the same value, or
 *    it upper-cased, as Origin passes (else every form post would be 403);
 *  - the request form (ingress_request_origin_ok) gives the same answer,
 *    and refuses when any of the three headers comes twice.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "ingressd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref_origin {
	int tls;
	char host[300];
	long port;
};

/* s_ref_parse - "scheme://host[:port]" then the rest; NULL when it is none */
static const char *s_ref_parse(const char *s, struct ref_origin *o)
{
	size_t h = 0;

	if (strncasecmp(s, "http://", 7) == 0)
		o->tls = 0, s += 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		o->tls = 1, s += 8;
	else
		return NULL;
	if (*s == '[') { /* an IPv6 literal: hex digits, ':' and '.' in brackets */
		do
			o->host[h++] = (char)tolower((unsigned char)*s++);
		while (h < 257 && *s && (isxdigit((unsigned char)*s) || *s == ':' || *s == '.'));
		if (*s != ']')
			return NULL;
		o->host[h++] = *s++;
	} else {
		while (h < 257 && (isalnum((unsigned char)*s) || *s == '-' || *s == '.' || *s == '_'))
			o->host[h++] = (char)tolower((unsigned char)*s++);
	}
	if (h == 0 || h > 255)
		return NULL;
	o->host[h] = '\0';
	o->port = o->tls ? 443 : 80;
	if (*s == ':') {
		char *end;

		if (!isdigit((unsigned char)s[1]) || strspn(s + 1, "0123456789") > 5)
			return NULL;
		o->port = strtol(s + 1, &end, 10);
		if (o->port < 1 || o->port > 65535)
			return NULL;
		s = end;
	}
	return s;
}

static bool s_ref_same(const struct ref_origin *want, const char *value, bool referer)
{
	struct ref_origin o;
	const char *rest = s_ref_parse(value, &o);

	if (!rest || !(*rest == '\0' || (referer && (*rest == '/' || *rest == '?'))))
		return false;
	return o.tls == want->tls && o.port == want->port && strcmp(o.host, want->host) == 0;
}

static bool s_ref_allowed(const char *public_origin, const char *origin, const char *referer,
			  const char *site)
{
	struct ref_origin want;
	const char *rest = s_ref_parse(public_origin, &want);

	if (!rest || *rest)
		return false;
	if (site && strcasecmp(site, "cross-site") == 0)
		return false;
	if (origin)
		return s_ref_same(&want, origin, false);
	return referer ? s_ref_same(&want, referer, true) : true;
}

/* s_check_request - the three headers in a request, each once or (twice) repeated */
static void s_check_request(const char *pub, const char *const v[3], bool ok, unsigned twice)
{
	static const char *const names[3] = { "Origin", "referer", "SEC-FETCH-SITE" };
	struct http_header h[6];
	struct http_request req = { .headers = h };
	bool repeated = false;

	for (size_t i = 0; i < 3; i++) {
		if (!v[i])
			continue;
		h[req.n_headers++] = (struct http_header){ .name = names[i], .value = v[i] };
		if (twice & (1u << i)) {
			h[req.n_headers++] = (struct http_header){ .name = names[i], .value = v[i] };
			repeated = true;
		}
	}
	if (ingress_request_origin_ok(pub, &req) != (ok && !repeated))
		abort();
}

/* s_check_config - a public_origin the config accepts is its own origin */
static void s_check_config(const char *pub)
{
	static struct sembark_config cfg;
	char err[256], upper[CONFIG_STR_MAX];
	size_t i;

	if (config_set(&cfg, "ingress", "public_origin", pub, err, sizeof(err)) < 0)
		return;
	for (i = 0; pub[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char)toupper((unsigned char)pub[i]);
	upper[i] = '\0';
	if (!ingress_origin_allowed(pub, pub, NULL, NULL) ||
	    !ingress_origin_allowed(pub, upper, NULL, "same-origin") ||
	    !ingress_origin_allowed(pub, NULL, pub, NULL)) {
		fprintf(stderr, "config accepts public_origin \"%s\", origin.c refuses it\n", pub);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line[4] = { NULL }, *p;
	const char *v[3];
	bool ok;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	for (size_t i = 0; i < 4 && p; i++) {
		line[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	for (size_t i = 0; i < 3; i++)
		v[i] = line[i + 1] && strcmp(line[i + 1], "~") != 0 ? line[i + 1] : NULL;
	ok = ingress_origin_allowed(line[0], v[0], v[1], v[2]);
	if (ok != s_ref_allowed(line[0], v[0], v[1], v[2]))
		abort();
	s_check_request(line[0], v, ok, size > 0 ? data[size - 1] : 0);
	s_check_config(line[0]);
	free(text);
	return 0;
}
