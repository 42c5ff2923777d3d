/*
 * routes.c - sembark-ingressd's route table and the checks every route
 * shares, run between the HTTP server and a handler.
 *
 * At the head: find the route (a GET route also answers HEAD), so the
 * server can refuse a body over the route's limit (413) before reading it.
 * At the end of the request: unknown path -> 404; known path, other
 * method -> 405 with Allow. Methods are case-sensitive ("get" is not GET);
 * an unknown one is 405 (or 404) too, not the 501 RFC 9110 9.1 suggests (a
 * SHOULD): API.md's closed list of error codes has no 501, and Laravel
 * answers an unknown method 405 as well. For JSON routes, a Content-Type
 * other than application/json (optionally ; charset=utf-8) -> 415, and a
 * body that is not one JSON object in valid UTF-8 without duplicate keys
 * -> 400. Only then does the handler run (the body stays text: the backend
 * parses it). The account routes' own checks (rate, Origin, session, CSRF)
 * follow in their handler (session.c, auth_routes.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "ingressd.h"
#include "macro.h"
#include "ops.h"

/* the handler of a row of ipc/operations.def, by the daemon that owns it */
#define ROUTE_HANDLER_authd ingress_handle_auth
#define ROUTE_HANDLER_telemetryd ingress_handle_forward
#define ROUTE_HANDLER_logd ingress_handle_forward

/* ingressd's own routes, then one per operation of ipc/operations.def */
const struct ingress_route ingress_routes[] = {
	{ "GET", "/healthz", ingress_handle_healthz, 0, NULL },
	{ "GET", "/.well-known/security.txt", ingress_handle_security_txt, 0, NULL },
	{ "GET", "/api/csrf", ingress_handle_csrf, 0, NULL },
	{ "GET", "/api/openapi.json", ingress_handle_openapi, 0, NULL },
#define IPC_OP(e, stem, wire, method, path, daemon, who, flags)                        \
	{ #method, path, ROUTE_HANDLER_##daemon, flags, &ipc_ops[IPC_OP_##e] },
#include "operations.def"
#undef IPC_OP
};
const size_t ingress_n_routes = ELEMENTSOF(ingress_routes);

/* s_path_match - pattern against path; {x} takes one non-empty segment */
static bool s_path_match(const char *pattern, const char *path, struct route_match *m)
{
	size_t np = 0;

	while (*pattern && *path) {
		if (*pattern == '{') {
			size_t n = strcspn(path, "/");
			const char *end = strchr(pattern, '}');

			if (!end || n == 0 || n > ROUTE_PARAM_MAX || np >= ROUTE_PARAMS_MAX)
				return false;
			memcpy(m->params[np], path, n);
			m->params[np++][n] = '\0';
			path += n;
			pattern = end + 1;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	if (*pattern || *path)
		return false;
	m->n_params = np;
	return true;
}

static bool s_method_ok(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	       (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void s_allow_add(char *allow, const char *method)
{
	size_t n = strlen(allow);
	const char *sep = n ? ", " : "";

	if (strcmp(method, "GET") == 0)
		snprintf(allow + n, ROUTE_ALLOW_MAX - n, "%sGET, HEAD", sep);
	else
		snprintf(allow + n, ROUTE_ALLOW_MAX - n, "%s%s", sep, method);
}

/* route_match - find method+path in table; always fills *ret */
void route_match(const struct ingress_route *table, size_t n, const char *method, const char *path,
		 struct route_match *ret)
{
	ret->result = ROUTE_NOT_FOUND;
	ret->route = NULL;
	ret->allow[0] = '\0';
	ret->n_params = 0;
	for (size_t i = 0; i < n; i++) {
		if (!s_path_match(table[i].pattern, path, ret))
			continue;
		if (s_method_ok(table[i].method, method)) {
			ret->result = ROUTE_FOUND;
			ret->route = &table[i];
			return;
		}
		s_allow_add(ret->allow, table[i].method);
		ret->result = ROUTE_BAD_METHOD;
	}
	ret->n_params = 0;
}

static const char *s_skip_ows(const char *s)
{
	return s + strspn(s, " \t");
}

/* s_charset_utf8 - the rest after ';' is "charset=utf-8" (value may be quoted) */
static bool s_charset_utf8(const char *s)
{
	s = s_skip_ows(s);
	if (strncasecmp(s, "charset=", 8) != 0)
		return false;
	s += 8;
	if (strncasecmp(s, "utf-8", 5) == 0)
		s += 5;
	else if (strncasecmp(s, "\"utf-8\"", 7) == 0)
		s += 7;
	else
		return false;
	return *s_skip_ows(s) == '\0';
}

/* route_is_json_type - "application/json", optionally "; charset=utf-8" */
bool route_is_json_type(const char *content_type)
{
	const char *s = s_skip_ows(content_type);

	if (strncasecmp(s, "application/json", 16) != 0)
		return false;
	s = s_skip_ows(s + 16);
	if (*s == '\0')
		return true;
	return *s == ';' && s_charset_utf8(s + 1);
}

/* route_parse_json - a JSON object in UTF-8, no duplicate keys, else -EBADMSG */
int route_parse_json(const char *body, size_t len, json_t **ret)
{
	json_error_t err;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);

	if (!j)
		return -EBADMSG;
	if (!json_is_object(j)) {
		json_decref(j);
		return -EBADMSG;
	}
	*ret = j;
	return 0;
}

/* route_wants_no_store - is path under /api/ or /healthz? */
bool route_wants_no_store(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
	       strcmp(path, "/healthz") == 0;
}

/* The browser client's page and files (web.c), outside the table. */
static const struct ingress_route s_web_route = { "GET", "(web)", ingress_handle_web, 0, NULL };

/* route_is_reserved - a path the browser client never answers: /api/, /healthz, /.well-known/ */
bool route_is_reserved(const char *path)
{
	return route_wants_no_store(path) || strncmp(path, "/.well-known/", 13) == 0;
}

/* s_match_web - an unknown path that names a file of the browser client: GET/HEAD, else 405 */
static void s_match_web(const struct ingress *app, struct http_exchange *ex)
{
	const char *name = NULL;
	struct route_match *m = &ex->match;

	if (!app->web || route_is_reserved(ex->req->path) ||
	    !ingress_web_find(app->web, ex->req->path, &name))
		return;
	if (!s_method_ok(s_web_route.method, ex->req->method)) {
		m->result = ROUTE_BAD_METHOD;
		s_allow_add(m->allow, s_web_route.method);
		return;
	}
	m->result = ROUTE_FOUND;
	m->route = &s_web_route;
	ex->route_name = name;
}

/* ingress_on_head - server hook: route the request, return its body limit */
uint64_t ingress_on_head(struct http_exchange *ex, void *userdata)
{
	const struct ingress *app = userdata;
	const struct http_request *req = ex->req;
	const struct route_match *m = &ex->match;

	route_match(ingress_routes, ingress_n_routes, req->method, req->path, &ex->match);
	ex->no_store = route_wants_no_store(req->path);
	if (m->result == ROUTE_NOT_FOUND)
		s_match_web(app, ex);
	if (m->result != ROUTE_FOUND || m->route == &s_web_route)
		return (uint64_t)app->cfg->ingress.max_body;
	ex->route_name = m->route->pattern;
	if (m->route->flags & ROUTE_TELEMETRY_BODY)
		return (uint64_t)app->cfg->ingress.max_telemetry_body;
	return (uint64_t)app->cfg->ingress.max_body;
}

/*
 * s_check_json - 415 or 400 unless the body is a JSON object. The parsed
 * copy is dropped at once (it may hold a password; jansson's memory is
 * wiped when freed, see main.c): the backend parses the body itself.
 */
static int s_check_json(struct http_exchange *ex)
{
	const char *type = http_request_header(ex->req, "Content-Type");
	json_t *j = NULL;

	if (!type || !route_is_json_type(type)) {
		http_respond_error(ex, 415, "unsupported_media_type",
				   "the body must be application/json");
		return -EINVAL;
	}
	if (route_parse_json(ex->req->body, ex->req->body_len, &j) < 0) {
		http_respond_error(ex, 400, "bad_request",
				   "the body must be one JSON object in UTF-8");
		return -EBADMSG;
	}
	json_decref(j);
	return 0;
}

/* ingress_on_request - server hook: 404/405/415/400, else the route's handler */
void ingress_on_request(struct http_exchange *ex, void *userdata)
{
	struct ingress *app = userdata;
	const struct http_out_header allow = { "Allow", ex->match.allow };

	switch (ex->match.result) {
	case ROUTE_NOT_FOUND:
		http_respond_error(ex, 404, "not_found", "there is nothing at this path");
		return;
	case ROUTE_BAD_METHOD:
		http_respond_error_ex(ex, 405, "method_not_allowed",
				      "this method is not allowed on this path", &allow, 1);
		return;
	case ROUTE_FOUND:
		break;
	}
	if ((ex->match.route->flags & ROUTE_JSON) && s_check_json(ex) < 0)
		return;
	ex->match.route->handler(app, ex);
}
