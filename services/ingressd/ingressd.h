/*
 * ingressd.h - sembark-ingressd's private types and prototypes, grouped by
 * the file that defines them.
 *
 * sembark-ingressd is the only process that faces the internet: it parses
 * HTTP, enforces limits, adds the security headers and turns requests into
 * RPCs to authd/telemetryd (and pings logd). It has no database access and
 * holds no password hashes. The HTTP server (http_server.c) knows nothing
 * about routes; it calls two hooks (routes.c) for each request.
 */
#ifndef INGRESSD_H
#define INGRESSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http_parser.h"

struct daemon;
struct event_base;
struct rpc_client;
struct sembark_config;
struct http_server;
struct http_conn;
struct http_exchange;

/* ---- main.c ------------------------------------------------------------ */

/* The process: what every handler may reach. */
struct ingress {
	struct daemon *d;
	const struct sembark_config *cfg;
	struct http_server *srv;
	struct rpc_client *authd;
	struct rpc_client *telemetryd;
	struct rpc_client *logd;
};

/* ---- routes.c ---------------------------------------------------------- */

#define ROUTE_PARAMS_MAX 4
#define ROUTE_PARAM_MAX 256 /* bytes in one {param} path segment */
#define ROUTE_ALLOW_MAX 96

typedef void (*ingress_handler_fn)(struct ingress *app, struct http_exchange *ex);

enum route_flags {
	ROUTE_JSON = 1 << 0,           /* body: application/json, a UTF-8 JSON object */
	ROUTE_TELEMETRY_BODY = 1 << 1, /* body limit [ingress] max_telemetry_body */
};

struct ingress_route {
	const char *method;  /* a GET route also answers HEAD */
	const char *pattern; /* "/api/invites/{code}/accept": {x} is one path segment */
	ingress_handler_fn handler;
	unsigned flags;
};

enum route_result {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,  /* 404 */
	ROUTE_BAD_METHOD, /* 405, see allow */
};

struct route_match {
	enum route_result result;
	const struct ingress_route *route;
	char allow[ROUTE_ALLOW_MAX]; /* ROUTE_BAD_METHOD: "GET, HEAD" */
	size_t n_params;
	char params[ROUTE_PARAMS_MAX][ROUTE_PARAM_MAX + 1];
};

extern const struct ingress_route ingress_routes[];
extern const size_t ingress_n_routes;

/* route_match - find method+path in table; always fills *ret */
void route_match(const struct ingress_route *table, size_t n, const char *method, const char *path,
		 struct route_match *ret);
/* route_is_json_type - "application/json", optionally "; charset=utf-8" */
bool route_is_json_type(const char *content_type);
/* route_parse_json - a JSON object in UTF-8, no duplicate keys, else -EBADMSG */
int route_parse_json(const char *body, size_t len, json_t **ret);
/* route_wants_no_store - is path under /api/ or /healthz? */
bool route_wants_no_store(const char *path);

/* ingress_on_head - server hook: route the request, return its body limit */
uint64_t ingress_on_head(struct http_exchange *ex, void *userdata);
/* ingress_on_request - server hook: 404/405/415/400, else the route's handler */
void ingress_on_request(struct http_exchange *ex, void *userdata);

/* ---- http_server.c ----------------------------------------------------- */

struct http_server_limits {
	struct http_limits http;   /* head bytes and header count */
	size_t max_connections;    /* more are answered 503 and closed */
	int idle_timeout_ms;       /* keep-alive: wait for the next request, then close */
	int request_timeout_ms;    /* a whole request from its first byte, else 408 */
	bool tls;                  /* connections are TLS: send Strict-Transport-Security */
};

/* One request and its answer; lives inside its connection. */
struct http_exchange {
	const struct http_request *req; /* NULL for an answer to an unparsable request */
	struct route_match match;       /* filled by the head hook */
	const char *route_name;         /* pattern for the access log; NULL: unmatched */
	bool no_store;                  /* add Cache-Control: no-store */
	json_t *json;                   /* ROUTE_JSON body, released with the exchange */
	int64_t start_us;               /* monotonic, first byte of the request */

	/* private */
	struct http_conn *conn;
	void (*abort)(void *userdata);
	void *abort_data;
	bool answered;
};

struct http_server_hooks {
	/* head - the head is complete: route it, return the body limit (bytes) */
	uint64_t (*head)(struct http_exchange *ex, void *userdata);
	/* request - the request is complete: answer now or later, exactly once */
	void (*request)(struct http_exchange *ex, void *userdata);
	void *userdata;
};

struct http_out_header {
	const char *name;
	const char *value;
};

/* http_server_new - serve on listen_fd (a listening socket, taken over) */
int http_server_new(struct event_base *base, int listen_fd, const struct http_server_limits *lim,
		    const struct http_server_hooks *hooks, struct http_server **ret);
/* http_server_free - close everything, aborting waiting handlers; accepts NULL */
struct http_server *http_server_free(struct http_server *s);
/* http_server_stop - close the listener and idle connections; answer the rest */
void http_server_stop(struct http_server *s);
/* http_server_inflight - connections with a request being read, handled or written */
size_t http_server_inflight(const struct http_server *s);
/* http_server_connections - open client connections (without rejected ones) */
size_t http_server_connections(const struct http_server *s);

/*
 * http_respond - answer ex: status, Content-Type (NULL: none), body, extra
 * header lines (names and values must be fixed, trusted text).
 */
void http_respond(struct http_exchange *ex, int status, const char *content_type, const void *body,
		  size_t len, const struct http_out_header *extra, size_t n_extra);
/* http_respond_json - answer with this JSON value (a reference is taken) */
void http_respond_json(struct http_exchange *ex, int status, json_t *body);
/* http_respond_error - {"error": code, "message": message} */
void http_respond_error(struct http_exchange *ex, int status, const char *code, const char *message);
/* http_respond_error_ex - the same with extra header lines (Allow, Retry-After) */
void http_respond_error_ex(struct http_exchange *ex, int status, const char *code,
			   const char *message, const struct http_out_header *extra, size_t n_extra);
/*
 * http_exchange_on_abort - a handler that waits (for an RPC) names what to
 * run if the client goes away first; after that it must not touch ex.
 */
void http_exchange_on_abort(struct http_exchange *ex, void (*fn)(void *), void *userdata);

/* http_status_reason - "Not Found" for 404; "Unknown" for codes not used */
const char *http_status_reason(int status);
/* http_format_date - IMF-fixdate of a wall-clock time, for the Date header */
void http_format_date(int64_t time_us, char buf[static 32]);

/* ---- health.c ---------------------------------------------------------- */

/* ingress_handle_healthz - GET /healthz: ping the three backends at once */
void ingress_handle_healthz(struct ingress *app, struct http_exchange *ex);

/* ---- wellknown.c ------------------------------------------------------- */

/* ingress_security_txt - RFC 9116 text for this config at now_us; length or -ENOBUFS */
int ingress_security_txt(const struct sembark_config *cfg, int64_t now_us, char *buf, size_t size);
/* ingress_handle_security_txt - GET /.well-known/security.txt */
void ingress_handle_security_txt(struct ingress *app, struct http_exchange *ex);

/* ---- pending.c --------------------------------------------------------- */

/* ingress_handle_accounts_pending - account routes until authd serves them: 503 */
void ingress_handle_accounts_pending(struct ingress *app, struct http_exchange *ex);
/* ingress_handle_telemetry_pending - telemetry until telemetryd serves it: 503 */
void ingress_handle_telemetry_pending(struct ingress *app, struct http_exchange *ex);

/* ---- listen.c ---------------------------------------------------------- */

/* ingress_listen_split - "host:port" or "[v6]:port" into host ("" = any) and port */
int ingress_listen_split(const char *spec, char *host, size_t host_size, char *port,
			 size_t port_size);
/* ingress_listen_systemd - the one socket systemd passed: 0, -ENOENT when none, -errno */
int ingress_listen_systemd(int *ret_fd);
/* ingress_listen_open - bind and listen on spec: 0 and *ret_fd, or -errno */
int ingress_listen_open(const char *spec, bool reuse_port, int *ret_fd);
/* ingress_listen_port - the local port of a socket, or -errno */
int ingress_listen_port(int fd);

#endif
