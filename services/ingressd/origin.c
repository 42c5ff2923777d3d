/*
 * origin.c - sembark-ingressd's same-origin check for state-changing
 * requests (POST, PUT, PATCH, DELETE), run before the CSRF token (403
 * origin_mismatch comes before 419 csrf_mismatch). Pure code.
 *
 *  - Origin present: it must be [ingress] public_origin. "null" (sandboxed
 *    frames, some redirects, file: pages) never is.
 *  - No Origin but a Referer: the Referer's scheme://host[:port] must be it.
 *  - Neither: allowed (native clients, curl; browsers send Origin on every
 *    cross-origin POST, and the CSRF token still applies).
 *  - Sec-Fetch-Site: cross-site is refused whatever the rest says.
 *
 * Origins compare by scheme, host (case-insensitively) and port, with the
 * scheme's default port filled in ("https://a.example" equals
 * "https://A.example:443"), read by util_origin_parse, which also checks
 * [ingress] public_origin in the configuration. Anything that does not
 * parse is a mismatch.
 */
#include <string.h>
#include <strings.h>

#include "ingressd.h"
#include "util.h"

static bool s_same(const struct util_origin *a, const struct util_origin *b)
{
	return a->tls == b->tls && a->port == b->port && strcasecmp(a->host, b->host) == 0;
}

/* s_origin_equal - is value (an Origin, or a Referer when url) of the origin `want`? */
static bool s_origin_equal(const struct util_origin *want, const char *value, bool url)
{
	struct util_origin o;
	const char *end = util_origin_parse(value, &o);

	if (!end)
		return false;
	if (url ? (*end != '\0' && *end != '/' && *end != '?') : *end != '\0')
		return false;
	return s_same(want, &o);
}

/* ingress_origin_allowed - may a state-changing request with these headers go on? */
bool ingress_origin_allowed(const char *public_origin, const char *origin, const char *referer,
			    const char *fetch_site)
{
	struct util_origin want;
	const char *end = util_origin_parse(public_origin, &want);

	if (!end || *end != '\0')
		return false; /* config.c checked it: cannot happen */
	if (fetch_site && strcasecmp(fetch_site, "cross-site") == 0)
		return false;
	if (origin)
		return s_origin_equal(&want, origin, false);
	if (referer)
		return s_origin_equal(&want, referer, true);
	return true;
}

static size_t s_count(const struct http_request *req, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < req->n_headers; i++)
		n += strcasecmp(req->headers[i].name, name) == 0;
	return n;
}

/* ingress_origin_headers_get - the three headers of req */
void ingress_origin_headers_get(const struct http_request *req, struct ingress_origin_headers *ret)
{
	*ret = (struct ingress_origin_headers){
		.origin = http_request_header(req, "Origin"),
		.referer = http_request_header(req, "Referer"),
		.fetch_site = http_request_header(req, "Sec-Fetch-Site"),
		.repeated = s_count(req, "Origin") > 1 || s_count(req, "Referer") > 1 ||
			    s_count(req, "Sec-Fetch-Site") > 1,
	};
}

/* ingress_origin_headers_ok - ingress_origin_allowed for h, and none of them repeated */
bool ingress_origin_headers_ok(const char *public_origin, const struct ingress_origin_headers *h)
{
	return !h->repeated &&
	       ingress_origin_allowed(public_origin, h->origin, h->referer, h->fetch_site);
}

/* ingress_request_origin_ok - the same for req as a whole (a repeated header is refused) */
bool ingress_request_origin_ok(const char *public_origin, const struct http_request *req)
{
	struct ingress_origin_headers h;

	ingress_origin_headers_get(req, &h);
	return ingress_origin_headers_ok(public_origin, &h);
}

/* ingress_origin_is_tls - does public_origin start with https://? */
bool ingress_origin_is_tls(const char *public_origin)
{
	return strncasecmp(public_origin, "https://", 8) == 0;
}
