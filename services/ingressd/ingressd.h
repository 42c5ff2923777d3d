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

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "http_parser.h"
#include "ipc.h"
#include "ops.h"
#include "rpc.h"

struct daemon;
struct event_base;
struct rpc_client;
struct sembark_config;
struct http_server;
struct access_log;
struct http_conn;
struct http_exchange;
struct ipc_auth_identity;
struct ingress_csrf;
struct ingress_ratelimit;
struct ingress_web;
struct ssl_ctx_st; /* OpenSSL's SSL_CTX */
struct x509_st;    /* OpenSSL's X509 */

/* ---- main.c ------------------------------------------------------------ */

/* The process: what every handler may reach. */
struct ingress {
	struct daemon *d;
	const struct sembark_config *cfg;
	struct http_server *srv;
	struct rpc_client *authd;
	struct rpc_client *telemetryd;
	struct rpc_client *logd;
	struct ingress_csrf *csrf;           /* the CSRF key; NULL: CSRF routes answer 503 */
	struct ingress_ratelimit *ratelimit; /* [ingress] client_rate_limit; NULL: off */
	struct ssl_ctx_st *tls;              /* [ingress] tls_cert_file set; NULL: plain HTTP */
	struct ingress_web *web;             /* [ingress] static_dir's files; NULL: no browser client */
	struct ingress_metrics *metrics;     /* answers counted by route (metrics.c) */
	struct http_server *admin;           /* [ingress] metrics_listen; NULL: none */
};

/* ---- routes.c ---------------------------------------------------------- */

#define ROUTE_PARAMS_MAX 4
#define ROUTE_PARAM_MAX 256 /* bytes in one {param} path segment */
#define ROUTE_ALLOW_MAX 96

typedef void (*ingress_handler_fn)(struct ingress *app, struct http_exchange *ex);

/* A route's flags: those of ipc/operations.def (IPC_OPF_*); these two routes.c reads itself. */
enum route_flags {
	ROUTE_JSON = IPC_OPF_JSON,               /* body: application/json, a UTF-8 JSON object */
	ROUTE_TELEMETRY_BODY = IPC_OPF_BIG_BODY, /* body limit [ingress] max_telemetry_body */
};

struct ingress_route {
	const char *method;  /* a GET route also answers HEAD */
	const char *pattern; /* "/api/invites/{code}/accept": {x} is one path segment */
	ingress_handler_fn handler;
	unsigned flags;      /* IPC_OPF_* */
	const struct ipc_op_info *op; /* the operation it asks a backend for; NULL: ingressd's own */
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
/* route_is_reserved - a path the browser client never answers: /api/, /healthz, /.well-known/ */
bool route_is_reserved(const char *path);

/* ingress_on_head - server hook: route the request, return its body limit */
uint64_t ingress_on_head(struct http_exchange *ex, void *userdata);
/* ingress_on_request - server hook: 404/405/415/400, else the route's handler */
void ingress_on_request(struct http_exchange *ex, void *userdata);

/* ---- http_server.c ----------------------------------------------------- */

struct http_server_limits {
	struct http_limits http;   /* head bytes and header count */
	size_t max_connections;    /* more are refused at accept: plain HTTP 503, TLS closed */
	size_t max_connections_per_address; /* per client address (IPv6 /64); 0: no cap */
	int idle_timeout_ms;       /* keep-alive: wait for the next request, then close */
	int request_timeout_ms;    /* a whole request from its first byte, else 408 */
	bool tls;                  /* connections are TLS: send Strict-Transport-Security */
	bool quiet;                /* no access log (the admin listener's scrapes) */
	struct ssl_ctx_st *tls_ctx; /* with tls: the server context (not owned; see
				     * http_server_set_tls_ctx) */
};

/* One request and its answer; lives inside its connection. */
struct http_exchange {
	const struct http_request *req; /* NULL for an answer to an unparsable request */
	struct route_match match;       /* filled by the head hook */
	const char *route_name;         /* pattern for the access log; NULL: unmatched */
	bool no_store;                  /* add Cache-Control: no-store */
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
	/* answered - (may be NULL) ex was answered status after us microseconds */
	void (*answered)(const struct http_exchange *ex, int status, int64_t us, void *userdata);
	void *userdata;
};

/* What a server's listener did, for metrics. */
struct http_server_stats {
	uint64_t accepted;            /* connections taken */
	uint64_t refused_max;         /* over max_connections */
	uint64_t refused_per_address; /* over max_connections_per_address */
};

struct http_out_header {
	const char *name;
	const char *value;
};

/* ---- access_log.c: what each answer was, a record each or counted ------- */

/* access_log_new - the access log, with its window timer on base */
int access_log_new(struct event_base *base, struct access_log **ret);
/* access_log_answer - one answer (method/route/path may be NULL): a record now, or counted */
void access_log_answer(struct access_log *l, const char *method, const char *route,
		       const char *path, int status, int64_t ms, size_t bytes);
/*
 * access_log_refused - a connection refused at accept for `reason` (a
 * fixed name: "max_connections", "max_connections_per_address"), answered
 * status (0: closed without an answer): a record now, or counted
 */
void access_log_refused(struct access_log *l, const char *reason, int status);
/* access_log_free - the counts not yet written are written; accepts NULL */
struct access_log *access_log_free(struct access_log *l);

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
/* http_server_get_stats - the listener's counts so far */
const struct http_server_stats *http_server_get_stats(const struct http_server *s);
/* http_server_set_tls_ctx - the context new connections get (not owned); open ones keep theirs */
void http_server_set_tls_ctx(struct http_server *s, struct ssl_ctx_st *ctx);

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

/*
 * http_exchange_peer - the client's address as raw bytes: 4 (IPv4, also
 * IPv4-mapped IPv6) or 16 (IPv6) into out, the count in *ret_len. Never
 * a string, never stored: for the per-client rate limit only. -errno.
 */
int http_exchange_peer(const struct http_exchange *ex, uint8_t out[static 16], size_t *ret_len);

/* http_status_reason - "Not Found" for 404; "Unknown" for codes not used */
const char *http_status_reason(int status);
/* http_format_date - IMF-fixdate of a wall-clock time, for the Date header */
void http_format_date(int64_t time_us, char buf[static 32]);

/* ---- ask.c: one question to the three backends at once ------------------ */

#define INGRESS_BACKENDS 3
extern const char *const ingress_backend_names[INGRESS_BACKENDS]; /* authd, telemetryd, logd */

struct ingress_ask;

/* What an asker does with the question (the ask is the first member of its struct). */
struct ingress_ask_ops {
	/* encode - the request, with this id */
	int (*encode)(struct ipc_buf *b, uint64_t id);
	/* reply - backend i answered (r == 0) or did not (r < 0: type invalid, no buf) */
	void (*reply)(struct ingress_ask *a, size_t i, int r, enum ipc_msg_type type,
		      const void *buf, size_t len);
	/* done - all have answered or failed: answer a->ex */
	void (*done)(struct ingress_ask *a);
	/* release - (may be NULL) free what the asker's struct holds; the struct is freed after */
	void (*release)(struct ingress_ask *a);
};

struct ingress_ask_slot {
	struct ingress_ask *ask;
	size_t index;
	struct rpc_client *client;
	uint64_t id;
	bool waiting;
};

struct ingress_ask {
	struct http_exchange *ex;
	const struct ingress_ask_ops *ops;
	struct ingress_ask_slot slots[INGRESS_BACKENDS];
	size_t waiting;
	bool sending; /* still sending: do not answer yet */
};

/*
 * ingress_ask_start - ask authd, telemetryd and logd at once for ex, each
 * within timeout_ms; a is the first member of a calloc'ed struct, freed
 * here after done (or after the client left)
 */
void ingress_ask_start(struct ingress *app, struct http_exchange *ex, struct ingress_ask *a,
		       const struct ingress_ask_ops *ops, int timeout_ms);

/* ---- metrics.c: the numbers, and the admin listener serving them -------- */

struct ingress_metrics;
struct sbuf;

/* ingress_metrics_new - zeroed counts for every route */
int ingress_metrics_new(struct ingress_metrics **ret);
/* ingress_metrics_free - accepts NULL; returns NULL */
struct ingress_metrics *ingress_metrics_free(struct ingress_metrics *m);
/* ingress_metrics_answered - the public server's answered hook (userdata: the ingress) */
void ingress_metrics_answered(const struct http_exchange *ex, int status, int64_t us,
			      void *userdata);
/* ingress_metrics_write - ingressd's own families, Prometheus text */
void ingress_metrics_write(const struct ingress *app, struct sbuf *out);
/* ingress_metrics_listen - bind [ingress] metrics_listen: *ret_fd, -1 when off or taken */
int ingress_metrics_listen(const struct sembark_config *cfg, int *ret_fd);
/* ingress_metrics_serve - GET /metrics on fd (taken over; -1: nothing to do) */
int ingress_metrics_serve(struct ingress *app, int fd);

/* ---- health.c ---------------------------------------------------------- */

/* ingress_handle_healthz - GET /healthz: ping the three backends at once */
void ingress_handle_healthz(struct ingress *app, struct http_exchange *ex);

/* ---- wellknown.c ------------------------------------------------------- */

/* ingress_security_txt - RFC 9116 text for this config at now_us; length or -ENOBUFS */
int ingress_security_txt(const struct sembark_config *cfg, int64_t now_us, char *buf, size_t size);
/* ingress_handle_security_txt - GET /.well-known/security.txt */
void ingress_handle_security_txt(struct ingress *app, struct http_exchange *ex);

/* ---- openapi.c ---------------------------------------------------------- */

/* ingress_handle_openapi - GET /api/openapi.json: docs/openapi.json as linked in */
void ingress_handle_openapi(struct ingress *app, struct http_exchange *ex);
/* ingress_print_routes - "METHOD PATH" per line, the table's order; 0 or -EIO */
int ingress_print_routes(FILE *out);

/* ---- csrf.c: the signed double-submit token (pure) ---------------------- */

#define CSRF_KEY_MIN 32        /* bytes of key material at least */
#define CSRF_NONCE_BYTES 16
#define CSRF_TOKEN_LEN 66      /* base64url(nonce) "." base64url(HMAC-SHA-256) */
#define CSRF_BROWSER_ID_LEN 32 /* lowercase hex in the browser-binding cookie */
#define CSRF_BINDING_MAX 66    /* "b:" + 32 hex, or "s:" + 64 hex */
#define CSRF_HEADER_MAX 256    /* X-XSRF-TOKEN bytes looked at */

/* What a token is bound to: a browser (before login) or a session. */
struct csrf_binding {
	char s[CSRF_BINDING_MAX + 1];
};

/* ingress_csrf_new - a key derived from len >= CSRF_KEY_MIN bytes, in sodium_malloc'ed memory */
int ingress_csrf_new(const void *material, size_t len, struct ingress_csrf **ret);
/* ingress_csrf_free - wipe and free; accepts NULL; returns NULL */
struct ingress_csrf *ingress_csrf_free(struct ingress_csrf *c);
/* ingress_csrf_browser_id - a fresh browser-binding cookie value: 32 random lowercase hex */
void ingress_csrf_browser_id(char out[static CSRF_BROWSER_ID_LEN + 1]);
/* ingress_csrf_bind_browser - binding for a browser id (32 lowercase hex), else -EINVAL */
int ingress_csrf_bind_browser(const char *id, size_t len, struct csrf_binding *ret);
/* ingress_csrf_bind_session - binding for a session token (40 lowercase hex): its SHA-256 */
int ingress_csrf_bind_session(const char *token, size_t len, struct csrf_binding *ret);
/* ingress_csrf_issue - a new token for this binding */
void ingress_csrf_issue(const struct ingress_csrf *c, const struct csrf_binding *b,
			char out[static CSRF_TOKEN_LEN + 1]);
/* ingress_csrf_verify - was token (len bytes) issued with this key for this binding? */
bool ingress_csrf_verify(const struct ingress_csrf *c, const struct csrf_binding *b,
			 const char *token, size_t len);
/* ingress_csrf_header_decode - X-XSRF-TOKEN value with %XX decoded: length, or -EINVAL */
int ingress_csrf_header_decode(const char *in, char *out, size_t size);

/* ---- cookies.c: the Cookie header parser, Set-Cookie values (pure) ------- */

#define COOKIE_SESSION "sembark_session"
#define COOKIE_SESSION_TLS "__Host-sembark_session"
#define COOKIE_BROWSER "sembark_csrf"
#define COOKIE_BROWSER_TLS "__Host-sembark_csrf"
#define COOKIE_XSRF "XSRF-TOKEN"
#define COOKIE_VALUE_MAX 128 /* longer values of our cookies are not ours */
#define SET_COOKIE_MAX 256   /* one Set-Cookie value */

enum cookie_flags {
	COOKIE_HTTPONLY = 1 << 0,
	COOKIE_SECURE = 1 << 1,
};

/*
 * ingress_cookie_find - the value of cookie `name` in one Cookie header
 * ("a=1; b=2"): 0 with *ret_value and *ret_len pointing into header (quotes
 * removed), -ENOENT when absent, -ENOTUNIQ when named twice.
 */
int ingress_cookie_find(const char *header, const char *name, const char **ret_value,
			size_t *ret_len);
/*
 * ingress_request_cookie - the same over every Cookie header of req, the
 * value copied into out: its length, -ENOENT, -ENOTUNIQ (ambiguous: treat
 * as absent) or -ENOBUFS (longer than size - 1).
 */
int ingress_request_cookie(const struct http_request *req, const char *name, char *out,
			   size_t size);
/* ingress_cookie_format - "name=value; Path=/; [Max-Age=n; ]..." (max_age < 0: none) */
int ingress_cookie_format(char *buf, size_t size, const char *name, const char *value,
			  long long max_age, unsigned flags);

/* ---- origin.c: Origin / Referer / Sec-Fetch-Site (pure) ------------------ */

/*
 * ingress_origin_allowed - may a state-changing request with these header
 * values (NULL: absent) go on? Origin, when present, must be
 * public_origin; else a Referer, when present, must be of public_origin;
 * and Sec-Fetch-Site must not be cross-site.
 */
bool ingress_origin_allowed(const char *public_origin, const char *origin, const char *referer,
			    const char *fetch_site);
/* The headers that say where a request comes from (NULL: absent). */
struct ingress_origin_headers {
	const char *origin;
	const char *referer;
	const char *fetch_site; /* Sec-Fetch-Site */
	bool repeated;          /* one of them sent twice: refused */
};

/* ingress_origin_headers_get - the three headers of req */
void ingress_origin_headers_get(const struct http_request *req, struct ingress_origin_headers *ret);
/* ingress_origin_headers_ok - ingress_origin_allowed for h, and none of them repeated */
bool ingress_origin_headers_ok(const char *public_origin, const struct ingress_origin_headers *h);
/* ingress_request_origin_ok - the same for req as a whole */
bool ingress_request_origin_ok(const char *public_origin, const struct http_request *req);
/* ingress_origin_is_tls - does public_origin start with https://? */
bool ingress_origin_is_tls(const char *public_origin);

/* ---- client_addr.c: a client address as a per-client table's key -------- */

#define CLIENT_KEY_MAX 8         /* IPv4 (4) or an IPv6 /64 (8) */
#define CLIENT_HASH_KEY_BYTES 16 /* SipHash key */

/* What a client address counts under: never a string, never logged. */
struct ingress_client_key {
	uint8_t len; /* 4 or 8; 0: none */
	uint8_t b[CLIENT_KEY_MAX];
};

struct sockaddr;

/* ingress_client_addr - the raw address of sa: 4 bytes (IPv4, IPv4-mapped) or 16 (IPv6) */
int ingress_client_addr(const struct sockaddr *sa, size_t sa_len, uint8_t out[static 16],
			size_t *ret_len);
/* ingress_client_key_make - the key addr (4 or 16 bytes) counts under (IPv6: its /64) */
int ingress_client_key_make(const uint8_t *addr, size_t len, struct ingress_client_key *ret);
/* ingress_client_key_equal - the same key? */
bool ingress_client_key_equal(const struct ingress_client_key *a, const struct ingress_client_key *b);
/* ingress_client_key_hash - SipHash-2-4 of k under hash_key (random, per table) */
uint64_t ingress_client_key_hash(const struct ingress_client_key *k,
				 const unsigned char hash_key[static CLIENT_HASH_KEY_BYTES]);
/* ingress_client_hash_key_new - a fresh random key for ingress_client_key_hash; -EIO */
int ingress_client_hash_key_new(unsigned char out[static CLIENT_HASH_KEY_BYTES]);

/* ---- ratelimit.c: per-client-address request rate (memory only) ------- */

#define RATELIMIT_ENTRIES 131072 /* addresses remembered at most */
#define RATELIMIT_WAYS 8         /* entries per hash bucket */

/* ingress_ratelimit_new - per_minute (>= 1) requests a minute per address, max_entries kept */
int ingress_ratelimit_new(unsigned per_minute, size_t max_entries, struct ingress_ratelimit **ret);
/* ingress_ratelimit_free - accepts NULL; returns NULL */
struct ingress_ratelimit *ingress_ratelimit_free(struct ingress_ratelimit *rl);
/*
 * ingress_ratelimit_take - count one request from addr (4 bytes, or 16:
 * IPv6 counts per /64) at now_us: 0 when allowed, else the seconds (>= 1)
 * until one would be.
 */
int ingress_ratelimit_take(struct ingress_ratelimit *rl, const uint8_t *addr, size_t len,
			   int64_t now_us);
/* ingress_ratelimit_sweep - wipe the entries that no longer limit anything at now_us */
void ingress_ratelimit_sweep(struct ingress_ratelimit *rl, int64_t now_us);
/* ingress_ratelimit_size - addresses being remembered */
size_t ingress_ratelimit_size(const struct ingress_ratelimit *rl);
/* ingress_ratelimit_capacity - entries the table can hold */
size_t ingress_ratelimit_capacity(const struct ingress_ratelimit *rl);

/* ---- conncap.c: connections held per client address (memory only) ------ */

struct ingress_conncap;

/* ingress_conncap_new - per_address (>= 1) connections per address, for max_entries addresses */
int ingress_conncap_new(unsigned per_address, size_t max_entries, struct ingress_conncap **ret);
/* ingress_conncap_free - wipe and free; accepts NULL; returns NULL */
struct ingress_conncap *ingress_conncap_free(struct ingress_conncap *cc);
/*
 * ingress_conncap_take - count one more connection of k: 0, -EUSERS when
 * k holds per_address already, -ENOSPC when max_entries addresses hold
 * connections (neither is counted)
 */
int ingress_conncap_take(struct ingress_conncap *cc, const struct ingress_client_key *k);
/* ingress_conncap_give - a connection of k taken before has closed (its entry wiped at 0) */
void ingress_conncap_give(struct ingress_conncap *cc, const struct ingress_client_key *k);
/* ingress_conncap_held - connections k holds */
unsigned ingress_conncap_held(struct ingress_conncap *cc, const struct ingress_client_key *k);
/* ingress_conncap_size - addresses holding at least one connection */
size_t ingress_conncap_size(const struct ingress_conncap *cc);

/* ---- session.c: who is calling; the checks before a backend call --------- */

#define INGRESS_TOKEN_LEN 40 /* a session token: 40 lowercase hex */
#define INGRESS_SET_COOKIES 3

enum ingress_auth_via {
	INGRESS_AUTH_NONE,
	INGRESS_AUTH_COOKIE, /* the session cookie */
	INGRESS_AUTH_BEARER, /* Authorization: Bearer: no CSRF, cookie ignored */
};

/*
 * What the checks of a request need from it, read once by
 * ingress_session_get(); the pointers point into the request.
 */
struct ingress_session {
	enum ingress_auth_via via;
	char token[INGRESS_TOKEN_LEN + 1];        /* the caller's token: "" when none or malformed */
	char cookie_token[INGRESS_TOKEN_LEN + 1]; /* the session cookie's (binds CSRF); "" when none */
	char browser[COOKIE_VALUE_MAX + 1];       /* the browser-binding cookie */
	int browser_len;                          /* its length; < 0: absent, ambiguous, too long */
	const char *xsrf;                         /* X-XSRF-TOKEN; NULL when absent */
	struct ingress_origin_headers from;       /* Origin, Referer, Sec-Fetch-Site */
};

enum ingress_guard_flags {
	GUARD_SESSION = 1 << 0,     /* a session token is required: else 401 */
	GUARD_ANON_CSRF = 1 << 1,   /* browser request without a session: CSRF all the same */
	GUARD_CLIENT_RATE = 1 << 2, /* counted against [ingress] client_rate_limit: 429 */
	GUARD_NATIVE = 1 << 3,      /* native clients' route: no CSRF, sets no cookie */
};

/* Set-Cookie header lines for an answer. */
struct ingress_set_cookies {
	struct http_out_header h[INGRESS_SET_COOKIES];
	char value[INGRESS_SET_COOKIES][SET_COOKIE_MAX];
	size_t n;
};

/* ingress_token_valid - exactly 40 lowercase hex characters? */
bool ingress_token_valid(const char *s, size_t len);
/* ingress_session_wipe - forget a session's tokens (for _cleanup_) */
void ingress_session_wipe(struct ingress_session *s);
/*
 * ingress_session_get - read what the checks need from req, once: the
 * token (Authorization: Bearer, else the session cookie), the binding
 * cookies, X-XSRF-TOKEN and the origin headers.
 */
void ingress_session_get(const struct ingress *app, const struct http_request *req,
			 struct ingress_session *ret);
/* ingress_guard_flags - the GUARD_* flags of an operation (its WHO and FLAGS) */
unsigned ingress_guard_flags(const struct ipc_op_info *op);
/*
 * ingress_guard - the checks of a route before its backend call, in this
 * order: client rate (429), Origin (403, state-changing methods), session
 * present (401), CSRF (419; state-changing requests by cookie, and
 * GUARD_ANON_CSRF ones). Fills *ret; false when ex has been answered.
 */
bool ingress_guard(struct ingress *app, struct http_exchange *ex, unsigned flags,
		   struct ingress_session *ret);

typedef void (*ingress_identity_fn)(struct ingress *app, struct http_exchange *ex,
				    const struct ipc_auth_identity *who, void *userdata);
/*
 * ingress_with_identity - ingress_guard(GUARD_SESSION | flags), then
 * auth.check: fn runs with the caller's identity, and must answer ex; or
 * ex is answered here (401, 403, 419, 503) and fn never runs. userdata is
 * not owned: it must outlive the exchange (or be NULL).
 */
void ingress_with_identity(struct ingress *app, struct http_exchange *ex, unsigned flags,
			   ingress_identity_fn fn, void *userdata);

/* ingress_cookies_csrf - GET /api/csrf: XSRF-TOKEN for the current binding (+ browser cookie) */
int ingress_cookies_csrf(const struct ingress *app, const struct http_request *req,
			 struct ingress_set_cookies *sc);
/* ingress_cookies_login - a new session: its cookie, a new browser id, XSRF-TOKEN bound to it */
int ingress_cookies_login(const struct ingress *app, const char *token, long long max_age,
			  struct ingress_set_cookies *sc);
/* ingress_cookies_logout - clear the session cookie; new browser id and pre-login XSRF-TOKEN */
int ingress_cookies_logout(const struct ingress *app, struct ingress_set_cookies *sc);

/* ---- auth_routes.c: the account API, answered by authd ------------------- */

/* ingress_handle_csrf - GET /api/csrf: 204 and the CSRF cookies */
void ingress_handle_csrf(struct ingress *app, struct http_exchange *ex);
/* ingress_handle_auth - every account route: checks, then auth.call to authd */
void ingress_handle_auth(struct ingress *app, struct http_exchange *ex);

/* ---- backend_call.c: one backend RPC for one HTTP exchange ---------------- */

struct ipc_buf;
struct ipc_api_reply;
struct ingress_call;

/* A call's end: r == 0 with the reply frame, r < 0 without one; must answer call->ex. */
typedef void (*ingress_call_fn)(struct ingress_call *call, int r, enum ipc_msg_type type,
				const void *buf, size_t len);

/* One RPC for one exchange: the first member of each route's call struct. */
struct ingress_call {
	struct ingress *app;
	struct http_exchange *ex;
	struct rpc_client *to;
	uint64_t id;           /* encode the request with this */
	ingress_call_fn done;
};

enum ingress_pass_flags {
	PASS_ANY_2XX = 1 << 0,  /* every 2xx but 205 passes (else only 200) */
	PASS_ACCEPTED = 1 << 1, /* 202 passes */
};

/* ingress_call_id - the id to encode the next request to `to` with (0 when not connected) */
uint64_t ingress_call_id(struct rpc_client *to);
/*
 * ingress_call_send - send frame b (encoded with id; r: the encoding's
 * result) to `to`; b is wiped and freed. 0: cb runs once later; -errno:
 * not sent (r < 0, not connected), cb never runs.
 */
int ingress_call_send(struct rpc_client *to, uint64_t id, struct ipc_buf *b, int r,
		      int timeout_ms, rpc_reply_fn cb, void *userdata);
/*
 * ingress_call_new - calloc size bytes (a struct whose first member is
 * struct ingress_call) for ex to `to`; NULL when out of memory (ex is
 * answered 503 then).
 */
void *ingress_call_new(struct ingress *app, struct http_exchange *ex, struct rpc_client *to,
		       size_t size, ingress_call_fn done);
/*
 * ingress_call_start - send b (encoded with call->id, result r): done runs
 * once, or never when the client leaves first (the RPC is cancelled).
 * Not sent: ex is answered 503 service_unavailable `why`. Either way the
 * call belongs to backend_call.c now. 0 or -errno.
 */
int ingress_call_start(struct ingress_call *call, struct ipc_buf *b, int r, const char *why);
/* ingress_api_reply_passes - may this api.reply go to the client as it is (how: PASS_*)? */
bool ingress_api_reply_passes(const struct ipc_api_reply *rep, unsigned how);

/* ---- forward.c: an identified caller's api.call to telemetryd or logd ---- */

#define INGRESS_API_QUERY_MAX 1024   /* api.call query bytes (ipc/messages.def) */
#define INGRESS_API_BODY_MAX 1114112 /* api.call body bytes */

/*
 * ingress_forward_call - api.call op for who, with the query string and
 * body as op's flags say; the backend's api.reply passes through when its
 * status is allowed and its body one JSON object, else (and with no
 * answer in time, or the backend not connected) ex is answered 503.
 */
void ingress_forward_call(struct ingress *app, struct http_exchange *ex,
			  const struct ipc_op_info *op, const struct ipc_auth_identity *who);
/*
 * ingress_handle_forward - every telemetryd and logd route: its limits
 * (413, 400), ingress_with_identity (401, 403, 419, 503), then
 * ingress_forward_call
 */
void ingress_handle_forward(struct ingress *app, struct http_exchange *ex);

/* ---- tls.c: the TLS server context ---------------------------------------- */

/* What a certificate says of itself: public facts only, for the log. */
struct tls_cert_info {
	char subject[256];  /* RFC 2253, cut; "(an IP address)" when a CN is one */
	char not_after[32]; /* ISO 8601 UTC: 2026-03-01T12:00:00Z */
	char sha256[96];    /* fingerprint of the DER: "AB:CD:...", 95 characters */
	bool expired;       /* notAfter is past (or unreadable) */
};

/*
 * ingress_tls_new - TLS 1.2/1.3 context (ECDHE + AEAD suites for 1.2) with
 * the chain of [ingress] tls_cert_file and the key of credential tls-key
 * or [ingress] tls_key_file; logs what is wrong, naming the file, or
 * "tls certificate loaded" with the certificate's public facts (an
 * expired one is used, with a warning). -errno.
 */
int ingress_tls_new(const struct sembark_config *cfg, struct ssl_ctx_st **ret);
/*
 * ingress_tls_reload - the same, for SIGHUP: a new context in *ret and
 * "tls certificate reloaded"; or one line "tls reload failed" with
 * reason= and path= and *ret untouched (an expired certificate is refused
 * too). The caller swaps contexts; open connections keep theirs.
 */
int ingress_tls_reload(const struct sembark_config *cfg, struct ssl_ctx_st **ret);
/* ingress_tls_describe - subject, notAfter, fingerprint, expired of cert (an X509) */
int ingress_tls_describe(struct x509_st *cert, struct tls_cert_info *ret);
/* ingress_tls_free - accepts NULL; returns NULL */
struct ssl_ctx_st *ingress_tls_free(struct ssl_ctx_st *ctx);

/* ---- web_files.c: the browser client's files, read once at start ---------- */

#define WEB_FILES_MAX 1024            /* files in [ingress] static_dir */
#define WEB_FILE_MAX (8 * 1024 * 1024) /* bytes in one file */
#define WEB_TOTAL_MAX (64 * 1024 * 1024) /* bytes in memory: files and gzip copies */
#define WEB_DEPTH_MAX 8               /* directories below static_dir */
#define WEB_NAME_MAX 128              /* bytes in one file or directory name */
#define WEB_PATH_MAX 512              /* bytes in a file's URL path */
#define WEB_ETAG_MAX 32               /* "\"" 22 base64url "-gz\"" + NUL */

/* One file as served. */
struct web_file {
	char *path;          /* URL path, "/assets/1a2b3c4d5e6f/main.js"; "" for the page */
	const char *type;    /* Content-Type */
	const char *cache;   /* Cache-Control */
	char etag[WEB_ETAG_MAX];
	char etag_gz[WEB_ETAG_MAX];
	uint8_t *data;
	size_t len;
	uint8_t *gz;         /* gzip copy, NULL when not worth it */
	size_t gz_len;
};

struct ingress_web {
	struct web_file page;   /* index.html: the answer of the client's routes */
	struct web_file *files; /* every other file, sorted by path */
	size_t n, cap;
	size_t total;           /* bytes held: files and gzip copies */
	char root[PATH_MAX];     /* static_dir, resolved */
};

/* ingress_web_load - every file of dir into memory; logs why not. -errno */
int ingress_web_load(const char *dir, struct ingress_web **ret);
/* ingress_web_free - accepts NULL; returns NULL */
struct ingress_web *ingress_web_free(struct ingress_web *w);
static inline void ingress_web_freep(struct ingress_web **w)
{
	*w = ingress_web_free(*w);
}
/* ingress_web_type - Content-Type for a file name; *ret_compress: worth a gzip copy */
const char *ingress_web_type(const char *name, bool *ret_compress);
/* ingress_web_name_ok - a file or directory name that is taken: [A-Za-z0-9._~-], no leading '.' */
bool ingress_web_name_ok(const char *name);
/* ingress_web_immutable - is url under /assets/<hex digest>/ (cached a year)? */
bool ingress_web_immutable(const char *url);

/* ---- web.c: serving the browser client ------------------------------------ */

/* What to send for one file. */
struct web_answer {
	int status;        /* 200, or 304 when If-None-Match named the ETag */
	bool gzip;         /* the gzip copy: Content-Encoding: gzip */
	const char *etag;
	const uint8_t *body;
	size_t len;
};

/* ingress_web_path_decode - %XX-decoded, no NUL/control/backslash/dot segments: length or -EINVAL */
int ingress_web_path_decode(const char *path, char *out, size_t size);
/* ingress_web_find - the file answering a raw request path (the page for its routes), or NULL */
const struct web_file *ingress_web_find(const struct ingress_web *w, const char *path,
					const char **ret_route);
/* ingress_web_accepts_gzip - does this Accept-Encoding value (NULL: none) take gzip? */
bool ingress_web_accepts_gzip(const char *accept_encoding);
/* ingress_web_etag_matches - does If-None-Match (NULL: none) name etag, or say "*"? */
bool ingress_web_etag_matches(const char *if_none_match, const char *etag);
/* ingress_web_answer - status, encoding, ETag and body for f and the request's headers */
void ingress_web_answer(const struct web_file *f, const char *if_none_match,
			const char *accept_encoding, struct web_answer *ret);
/* ingress_handle_web - GET/HEAD of the client's page or one of its files */
void ingress_handle_web(struct ingress *app, struct http_exchange *ex);

/* ---- listen.c ---------------------------------------------------------- */

/* ingress_listen_split - "host:port" or "[v6]:port" into host ("" = any) and port */
int ingress_listen_split(const char *spec, char *host, size_t host_size, char *port,
			 size_t port_size);
/*
 * ingress_listen_systemd - the sockets systemd passed: the public one and
 * the one named "metrics" (*ret_metrics_fd -1 when none); 0, -ENOENT when
 * none came, -E2BIG when two of a kind, -EBADF when only "metrics", -errno
 */
int ingress_listen_systemd(int *ret_fd, int *ret_metrics_fd);
/* ingress_listen_open - bind and listen on spec: 0 and *ret_fd, or -errno */
int ingress_listen_open(const char *spec, bool reuse_port, int *ret_fd);
/* ingress_listen_port - the local port of a socket, or -errno */
int ingress_listen_port(int fd);

#endif
