/*
 * web.c - sembark-ingressd serves the browser client from memory (the
 * files web_files.c read at start): which path is which file, and the
 * answer with its caching and encoding.
 *
 * URL space: the client's page answers its routes /, /login,
 * /join/{code}, /app and everything under /app/; each other file answers
 * at its own path (/assets/...); every other path stays 404. /api/,
 * /healthz and /.well-known/ never reach this file (routes.c), nor do
 * they when spelt with %XX (/%61pi/...): the lookup refuses them. A request
 * path is %XX-decoded first and must then be a plain path: no NUL,
 * control byte or backslash, no empty, "." or ".." segment and no segment
 * starting with '.'; the lookup is an exact match in a sorted table, so
 * nothing outside the loaded files can ever be named.
 *
 * Answers: GET and HEAD only (routes.c answers 405 with Allow: GET, HEAD
 * for the rest). Content-Type from the file name, a strong ETag, 304 when
 * If-None-Match names it (or *), Cache-Control "no-cache" for the page
 * and unversioned files and a year, immutable, for content-addressed
 * /assets/<digest>/ files; the gzip copy with Content-Encoding: gzip when
 * Accept-Encoding takes gzip, and Vary: Accept-Encoding on every answer
 * of a file that has one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingressd.h"
#include "macro.h"
#include "util.h"

#define OWS " \t"

/* ingress_web_path_decode - path %XX-decoded and checked (see above): its length, or -EINVAL */
int ingress_web_path_decode(const char *path, char *out, size_t size)
{
	size_t n = 0;

	if (path[0] != '/')
		return -EINVAL;
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			int hi = util_hexval(p[1]), lo = hi < 0 ? -1 : util_hexval(p[2]);

			if (lo < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			p += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '\\' || n + 1 >= size)
			return -EINVAL;
		if (c == '/' && n > 0 && out[n - 1] == '/')
			return -EINVAL; /* an empty segment */
		if (c == '.' && out[n - 1] == '/')
			return -EINVAL; /* ".", "..", ".hidden" */
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return (int)n;
}

/* s_page_route - the client route path belongs to ("/join/{code}"), NULL if none */
static const char *s_page_route(const char *path)
{
	static const char *const exact[] = { "/", "/login", "/app" };

	for (size_t i = 0; i < ELEMENTSOF(exact); i++)
		if (strcmp(path, exact[i]) == 0)
			return exact[i];
	if (strncmp(path, "/app/", 5) == 0)
		return "/app";
	if (strncmp(path, "/join/", 6) == 0 && path[6] != '\0' && !strchr(path + 6, '/'))
		return "/join/{code}";
	return NULL;
}

static int s_cmp_key(const void *key, const void *elem)
{
	const struct web_file *f = elem;

	return strcmp(key, f->path);
}

/*
 * ingress_web_find - the file that answers path (raw, as in the request
 * line), NULL when none; *ret_route (may be NULL) names it for the access
 * log: the page's route pattern, or the file's path.
 */
const struct web_file *ingress_web_find(const struct ingress_web *w, const char *path,
					const char **ret_route)
{
	char plain[WEB_PATH_MAX + 1];
	const char *page;
	const struct web_file *f;

	if (!w || ingress_web_path_decode(path, plain, sizeof(plain)) < 0 || route_is_reserved(plain))
		return NULL;
	page = s_page_route(plain);
	if (page) {
		if (ret_route)
			*ret_route = page;
		return &w->page;
	}
	f = bsearch(plain, w->files, w->n, sizeof(*w->files), s_cmp_key);
	if (f && ret_route)
		*ret_route = f->path;
	return f;
}

/* s_qvalue_zero - is the qvalue at s (up to ',' or the end) 0? Malformed counts as 0 */
static bool s_qvalue_zero(const char *s)
{
	size_t n = strcspn(s, "," OWS);

	if (n == 0 || n > 5 || (s[0] != '0' && s[0] != '1'))
		return true;
	if (n > 1 && s[1] != '.')
		return true;
	for (size_t i = 2; i < n; i++)
		if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0'))
			return true;
	if (s[0] == '1')
		return false;
	return n <= 2 || strspn(s + 2, "0") >= n - 2;
}

/* s_coding_q0 - does one Accept-Encoding element's parameter list (after the name) say q=0? */
static bool s_coding_q0(const char *p, const char *end)
{
	while (p < end) {
		p += strspn(p, OWS ";");
		if (p < end && strncasecmp(p, "q=", 2) == 0)
			return s_qvalue_zero(p + 2);
		p += strcspn(p, ";,");
	}
	return false;
}

/*
 * ingress_web_accepts_gzip - does this Accept-Encoding value (NULL: none)
 * take gzip? "gzip" or "x-gzip" with a qvalue above 0, or "*" above 0
 * when gzip is not named; a malformed qvalue refuses.
 */
bool ingress_web_accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1; /* -1: not named, 0: refused, 1: taken */
	const char *p = ae;

	while (p && *p) {
		const char *end;
		size_t name;

		p += strspn(p, OWS ",");
		end = p + strcspn(p, ",");
		name = strcspn(p, OWS ";,");
		if ((name == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (name == 6 && strncasecmp(p, "x-gzip", 6) == 0))
			gzip = !s_coding_q0(p + name, end);
		else if (name == 1 && *p == '*')
			star = !s_coding_q0(p + name, end);
		p = end;
	}
	return gzip == 1 || (gzip == -1 && star == 1);
}

/*
 * ingress_web_etag_matches - does If-None-Match (NULL: none) name etag?
 * "*" matches; else a list of entity-tags compared weakly (W/ ignored).
 */
bool ingress_web_etag_matches(const char *inm, const char *etag)
{
	size_t len = strlen(etag);
	const char *p = inm;

	if (!p)
		return false;
	p += strspn(p, OWS);
	if (*p == '*' && p[1 + strspn(p + 1, OWS)] == '\0')
		return true;
	while (*p) {
		const char *close;

		p += strspn(p, OWS ",");
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"')
			return false; /* malformed: no match */
		close = strchr(p + 1, '"');
		if (!close)
			return false;
		if ((size_t)(close + 1 - p) == len && memcmp(p, etag, len) == 0)
			return true;
		p = close + 1;
	}
	return false;
}

/* ingress_web_answer - what to send for f given the request's two headers (NULL: absent) */
void ingress_web_answer(const struct web_file *f, const char *if_none_match,
			const char *accept_encoding, struct web_answer *ret)
{
	bool gzip = f->gz && ingress_web_accepts_gzip(accept_encoding);

	*ret = (struct web_answer){
		.status = 200,
		.gzip = gzip,
		.etag = gzip ? f->etag_gz : f->etag,
		.body = gzip ? f->gz : f->data,
		.len = gzip ? f->gz_len : f->len,
	};
	if (ingress_web_etag_matches(if_none_match, ret->etag)) {
		ret->status = 304;
		ret->len = 0;
	}
}

/* ingress_handle_web - GET/HEAD of the client's page or one of its files */
void ingress_handle_web(struct ingress *app, struct http_exchange *ex)
{
	const struct http_request *req = ex->req;
	const struct web_file *f = ingress_web_find(app->web, req->path, NULL);
	struct http_out_header h[4];
	struct web_answer a;
	size_t n = 0;

	if (!f) { /* the head hook found it; the table does not change */
		http_respond_error(ex, 404, "not_found", "there is nothing at this path");
		return;
	}
	ingress_web_answer(f, http_request_header(req, "If-None-Match"),
			   http_request_header(req, "Accept-Encoding"), &a);
	h[n++] = (struct http_out_header){ "ETag", a.etag };
	h[n++] = (struct http_out_header){ "Cache-Control", f->cache };
	if (f->gz)
		h[n++] = (struct http_out_header){ "Vary", "Accept-Encoding" };
	if (a.gzip && a.status == 200)
		h[n++] = (struct http_out_header){ "Content-Encoding", "gzip" };
	http_respond(ex, a.status, f->type, a.body, a.len, h, n);
}
