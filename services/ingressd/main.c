/*
 * main.c - sembark-ingressd's start-up and shutdown.
 *
 * Role: the internet-facing HTTP daemon (see README.md). Peers: RPC
 * clients (DEALER) to authd, telemetryd and logd; log records PUSHed to
 * logd (set up by daemon_init). No database, no password hashes.
 * Sequence: config and logging (daemon_init), the CSRF key (credential
 * csrf-key or [ingress] csrf_key_file: required), the TLS context when
 * [ingress] tls_cert_file is set (key: credential tls-key or [ingress]
 * tls_key_file), the browser client's files ([ingress] static_dir, read
 * into memory), the per-client rate table, the listening socket (from
 * systemd, else bound here), the metrics listener ([ingress]
 * metrics_listen, metrics.c), the RPC clients, drop root to [ingress]
 * user, READY=1, loop. On SIGTERM: stop accepting, close idle
 * connections, answer every request already under way, then exit. On
 * SIGHUP (`systemctl reload`): the TLS certificate and key are read again
 * (tls.c) and, if they load, used for new connections; nothing else of the
 * configuration changes without a restart. `--routes` alone prints the
 * route table (openapi.c) and exits.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "daemon.h"
#include "ingressd.h"
#include "log.h"
#include "rpc.h"
#include "secret.h"
#include "wipe.h"

#define SWEEP_INTERVAL_S 60 /* forget rate-limit entries that no longer limit */

static void s_on_stop(void *userdata)
{
	struct ingress *app = userdata;

	http_server_stop(app->srv);
	if (app->admin)
		http_server_stop(app->admin);
}

static int s_drain(void *userdata)
{
	struct ingress *app = userdata;

	return (int)MIN(http_server_inflight(app->srv), (size_t)INT_MAX);
}

/* s_on_reload - SIGHUP: a new TLS context for new connections, or the old one stays */
static void s_on_reload(void *userdata)
{
	struct ingress *app = userdata;
	struct ssl_ctx_st *fresh = NULL;

	if (!app->tls) {
		log_info("SIGHUP: nothing to reload without TLS (restart to apply configuration "
			 "changes)");
		return;
	}
	if (ingress_tls_reload(app->cfg, &fresh) < 0)
		return; /* logged; the current context stays */
	http_server_set_tls_ctx(app->srv, fresh);
	ingress_tls_free(app->tls); /* open connections hold their own reference */
	app->tls = fresh;
}

/* s_load_csrf_key - the CSRF key, without which ingressd does not start */
static int s_load_csrf_key(struct ingress *app)
{
	_cleanup_(secret_freep) struct secret *key = NULL;
	const char *path = app->cfg->ingress.csrf_key_file;
	int r = secret_load("csrf-key", path, &key);

	if (r == -ENOENT)
		return log_error_errno(r, "No CSRF key: set [ingress] csrf_key_file to a file of "
				       "at least 32 random bytes (64 hex characters, mode 0600) or "
				       "pass the credential csrf-key", LOG_S("path", path));
	if (r == -EPERM)
		return log_error_errno(r, "The CSRF key file is readable by group or others: "
				       "make it mode 0600", LOG_S("path", path));
	if (r < 0)
		return log_error_errno(r, "Failed to read the CSRF key ([ingress] csrf_key_file)",
				       LOG_S("path", path));
	r = ingress_csrf_new(key->data, key->len, &app->csrf);
	if (r == -EINVAL)
		return log_error_errno(r, "The CSRF key is too short: at least 32 bytes",
				       LOG_S("path", path));
	if (r < 0)
		return log_error_errno(r, "Failed to set up the CSRF key");
	return 0;
}

/* s_load_tls - the TLS context when [ingress] tls_cert_file is set */
static int s_load_tls(struct ingress *app)
{
	const struct sembark_config *cfg = app->cfg;

	if (cfg->ingress.tls_cert_file[0] == '\0')
		return 0;
	if (!ingress_origin_is_tls(cfg->ingress.public_origin))
		log_warning("TLS is on but [ingress] public_origin is not https://: cookies lack "
			    "Secure and the __Host- prefix");
	return ingress_tls_new(cfg, &app->tls); /* logs why not */
}

/* s_load_web - the browser client's files, when [ingress] static_dir is set */
static int s_load_web(struct ingress *app)
{
	const char *dir = app->cfg->ingress.static_dir;
	int r;

	if (dir[0] == '\0')
		return 0;
	r = ingress_web_load(dir, &app->web); /* logs why not */
	if (r < 0)
		return r;
	log_info("browser client loaded", LOG_S("path", dir), LOG_I("files", app->web->n + 1),
		 LOG_I("bytes", app->web->total));
	return 0;
}

static void s_sweep_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct ingress *app = userdata;

	ingress_ratelimit_sweep(app->ratelimit, mono_us());
}

/* s_open_ratelimit - the per-client-address table, when [ingress] client_rate_limit > 0 */
static int s_open_ratelimit(struct ingress *app, struct event **ret_sweep)
{
	const struct timeval tv = { .tv_sec = SWEEP_INTERVAL_S };
	int limit = app->cfg->ingress.client_rate_limit;
	int r;

	if (limit <= 0)
		return 0;
	r = ingress_ratelimit_new((unsigned)limit, RATELIMIT_ENTRIES, &app->ratelimit);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the client rate limit");
	*ret_sweep = event_new(app->d->base, -1, EV_PERSIST, s_sweep_cb, app);
	if (!*ret_sweep || event_add(*ret_sweep, &tv) < 0)
		return log_error_errno(-ENOMEM, "Failed to set up the client rate limit");
	return 0;
}

/*
 * s_open_listeners - the public socket and the metrics one: both from
 * systemd (no metrics unless sembark-ingressd-metrics.socket came), else
 * bound here to [ingress] listen and metrics_listen
 */
static int s_open_listeners(const struct sembark_config *cfg, int *ret_fd, int *ret_admin_fd)
{
	int r = ingress_listen_systemd(ret_fd, ret_admin_fd);

	if (r == 0) {
		if (*ret_admin_fd < 0 && cfg->ingress.metrics_listen[0])
			log_info("no metrics listener: systemd passed no socket named \"metrics\"");
		return 0;
	}
	if (r != -ENOENT)
		return log_error_errno(r, "Failed to use the sockets passed by systemd");
	r = ingress_listen_open(cfg->ingress.listen, cfg->ingress.reuse_port, ret_fd);
	if (r < 0)
		return log_error_errno(r, "Failed to listen on [ingress] listen");
	return ingress_metrics_listen(cfg, ret_admin_fd);
}

static int s_open_client(struct daemon *d, const char *name, const char *endpoint,
			 struct rpc_client **ret)
{
	const struct rpc_opts opts = {
		.hwm = d->cfg.ipc.hwm,
		.max_msg = d->cfg.ipc.max_msg_bytes,
	};
	int r = rpc_client_new(d->base, d->zctx, endpoint, &opts, ret);

	if (r < 0)
		return log_error_errno(r, "Failed to set up the RPC client", LOG_S("peer", name));
	return 0;
}

static int s_open_backends(struct ingress *app)
{
	struct daemon *d = app->d;
	int r;

	r = s_open_client(d, "authd", d->cfg.ipc.authd, &app->authd);
	if (r >= 0)
		r = s_open_client(d, "telemetryd", d->cfg.ipc.telemetryd, &app->telemetryd);
	if (r >= 0)
		r = s_open_client(d, "logd", d->cfg.ipc.logd, &app->logd);
	return r;
}

static void s_limits(const struct ingress *app, struct http_server_limits *lim)
{
	const struct sembark_config *cfg = app->cfg;

	*lim = (struct http_server_limits){
		.http = {
			.max_header_bytes = (size_t)cfg->ingress.max_header_bytes,
			.max_headers = (size_t)cfg->ingress.max_headers,
		},
		.max_connections = (size_t)cfg->ingress.max_connections,
		.max_connections_per_address = (size_t)cfg->ingress.max_connections_per_address,
		.idle_timeout_ms = cfg->ingress.idle_timeout * 1000,
		.request_timeout_ms = cfg->ingress.request_timeout * 1000,
		.tls = app->tls != NULL,
		.tls_ctx = app->tls,
	};
}

static int s_serve(struct ingress *app, int fd, int admin_fd)
{
	struct daemon *d = app->d;
	const struct http_server_hooks hooks = {
		.head = ingress_on_head,
		.request = ingress_on_request,
		.answered = ingress_metrics_answered,
		.userdata = app,
	};
	struct http_server_limits lim;
	char status[64];
	int port = ingress_listen_port(fd), r;

	s_limits(app, &lim);
	r = http_server_new(d->base, fd, &lim, &hooks, &app->srv);
	if (r < 0) {
		if (admin_fd >= 0)
			close(admin_fd);
		return log_error_errno(r, "Failed to start the HTTP server");
	}
	r = ingress_metrics_serve(app, admin_fd);
	if (r < 0)
		return r;
	daemon_on_stop(d, s_on_stop, s_drain, app);
	daemon_on_reload(d, s_on_reload, app);
	printf("sembark-ingressd: listening on port %d\n", port);
	fflush(stdout);
	snprintf(status, sizeof(status), "serving %s on port %d", app->tls ? "HTTPS" : "HTTP",
		 port);
	daemon_ready(d, status);
	return daemon_run(d);
}

static int s_run(struct daemon *d)
{
	struct ingress app = { .d = d, .cfg = &d->cfg };
	struct event *sweep = NULL;
	int fd = -1, admin_fd = -1, r;

	r = s_load_csrf_key(&app);
	if (r >= 0)
		r = s_load_tls(&app);
	if (r >= 0)
		r = s_load_web(&app);
	if (r >= 0)
		r = s_open_ratelimit(&app, &sweep);
	if (r >= 0)
		r = s_open_listeners(&d->cfg, &fd, &admin_fd);
	if (r >= 0)
		r = ingress_metrics_new(&app.metrics);
	if (r >= 0)
		r = s_open_backends(&app);
	if (r >= 0)
		r = daemon_drop_privileges(d, d->cfg.ingress.user); /* logs why not */
	if (r >= 0) {
		r = s_serve(&app, fd, admin_fd); /* takes both */
		fd = admin_fd = -1;
	}
	if (fd >= 0)
		close(fd);
	if (admin_fd >= 0)
		close(admin_fd);
	app.admin = http_server_free(app.admin);
	app.srv = http_server_free(app.srv);
	app.authd = rpc_client_free(app.authd);
	app.telemetryd = rpc_client_free(app.telemetryd);
	app.logd = rpc_client_free(app.logd);
	if (sweep)
		event_free(sweep);
	app.ratelimit = ingress_ratelimit_free(app.ratelimit);
	app.csrf = ingress_csrf_free(app.csrf);
	app.tls = ingress_tls_free(app.tls);
	app.web = ingress_web_free(app.web);
	app.metrics = ingress_metrics_free(app.metrics);
	return r;
}

int main(int argc, char **argv)
{
	struct daemon d = { 0 };
	int r;

	if (argc == 2 && strcmp(argv[1], "--routes") == 0) /* for the OpenAPI test */
		return ingress_print_routes(stdout) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	wipe_json_allocations(); /* request bodies (passwords) are parsed to be checked */
	r = daemon_init(&d, "ingressd", argc, argv);

	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	r = s_run(&d);
	daemon_done(&d);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
