/*
 * backend.c - the pieces authd, telemetryd and logd share (see
 * backend.h): their database connection through their own role, with the
 * password read once from a systemd credential or a 0600 file, and the
 * answer to "ping" (through the daemon's asynchronous pool when it has
 * one, so that the loop does not wait). Runs in each backend's main thread; the password is
 * wiped from the secret buffer as soon as db.c holds its locked copy.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "ipc.h"
#include "log.h"
#include "secret.h"

/* backend_open_db - password from credential/file, then db_new (no connection yet) */
int backend_open_db(struct daemon *d, const char *role_user, const char *credential,
		    const char *password_file, struct db **ret)
{
	_cleanup_(secret_freep) struct secret *pw = NULL;
	struct db *db = NULL;
	int r;

	r = secret_load(credential, password_file, &pw);
	if (r == -ENOENT && !password_file[0])
		log_debug("no database password configured", LOG_S("credential", credential));
	else if (r < 0)
		return log_error_errno(r, "cannot read the database password",
				       LOG_S("credential", credential), LOG_S("file", password_file));

	r = db_new(&d->cfg, d->service, role_user, pw ? (const char *)pw->data : NULL, &db);
	if (r < 0)
		return log_error_errno(r, "cannot set up the database connection",
				       LOG_S("user", role_user));
	*ret = db; /* its parameters; the pool (pgq) opens the connections, in the background */
	return 0;
}

/* backend_pong_queue - add "name" = n to pong's queues (a ninth is left out) */
void backend_pong_queue(struct ipc_pong *pong, const char *name, uint64_t n)
{
	size_t i = pong->queues_n;

	if (i >= ELEMENTSOF(pong->queues))
		return;
	snprintf(pong->queues[i].key, sizeof(pong->queues[i].key), "%s", name);
	snprintf(pong->queues[i].value, sizeof(pong->queues[i].value), "%" PRIu64, n);
	pong->queues_n = i + 1;
}

/* s_pong - reply pong{service, database, pid, uptime_s, version, queues}; frees req */
static void s_pong(struct rpc_request *req, const struct backend *b, bool database)
{
	struct ipc_pong pong = { 0 };
	struct ipc_buf out;
	int64_t up = mono_us() - b->d.started_us;
	int r;

	snprintf(pong.service, sizeof(pong.service), "%s", b->d.service);
	snprintf(pong.version, sizeof(pong.version), "%s", SEMBARK_VERSION);
	pong.database = database;
	pong.pid = (int64_t)getpid();
	pong.uptime_s = up > 0 ? (uint64_t)(up / 1000000) : 0;
	if (b->pgq)
		backend_pong_queue(&pong, "db_queued", pgq_queued(b->pgq));
	if (b->queues)
		b->queues(b, &pong);

	ipc_buf_init(&out);
	r = ipc_encode_pong(&out, rpc_request_id(req), &pong);
	if (r < 0)
		(void)rpc_reply_error(req, "internal", "cannot encode pong");
	else
		(void)rpc_reply(req, out.data, out.size);
	ipc_buf_done(&out);
}

/* A ping waiting for the pool's round trip. */
struct ping_wait {
	struct backend *b;
	struct rpc_request *req;
};

static void s_pinged(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct ping_wait *w = userdata;

	(void)res;
	(void)sqlstate;
	s_pong(w->req, w->b, r == 0);
	free(w);
}

/* s_ping_pool - database = a round trip on the daemon's pool, not waited for */
static void s_ping_pool(struct backend *b, struct rpc_request *req)
{
	struct ping_wait *w = malloc(sizeof(*w));

	if (!w) {
		s_pong(req, b, false);
		return;
	}
	*w = (struct ping_wait){ b, req };
	if (pgq_ping(b->pgq, BACKEND_PING_DEADLINE_MS, s_pinged, w) < 0) {
		free(w);
		s_pong(req, b, pgq_is_up(b->pgq));
	}
}

/* backend_handle_ping - strict decode of a ping, then answer it */
void backend_handle_ping(struct backend *b, struct rpc_request *req, const void *buf, size_t len)
{
	struct ipc_ping ping;
	uint64_t id;

	if (ipc_decode_ping(buf, len, &id, &ping) < 0) {
		(void)rpc_reply_error(req, "bad_message", "malformed ping");
		return;
	}
	ipc_free_ping(&ping);
	if (b->pgq)
		s_ping_pool(b, req);
	else
		s_pong(req, b, b->db && db_ping(b->db) == 0);
}

/* s_dispatch - refuse while stopping, route by type, answer ping by default */
static void s_dispatch(struct rpc_request *req, enum ipc_msg_type type, const void *buf,
		       size_t len, void *userdata)
{
	struct backend *b = userdata;
	backend_handler_fn fn = NULL;

	if (!b->accepting) {
		(void)rpc_reply_error(req, "unavailable", "shutting down");
		return;
	}
	if ((int)type >= 0 && type < _IPC_MSG_MAX && b->handlers)
		fn = b->handlers[type];
	if (fn) {
		fn(b, req, buf, len);
		return;
	}
	if (type == IPC_MSG_PING) {
		backend_handle_ping(b, req, buf, len);
		return;
	}
	if (type == IPC_MSG_METRICS) {
		backend_handle_metrics(b, req, buf, len);
		return;
	}
	log_debug("request of unknown type", LOG_I("type", type));
	(void)rpc_reply_error(req, "unknown_type", "this daemon does not handle this type");
}

/* backend_serve - bind the ROUTER and start taking requests */
int backend_serve(struct backend *b, const char *endpoint, enum ipc_peer self,
		  const backend_handler_fn *handlers, void *owner)
{
	const struct sembark_config *cfg = &b->d.cfg;
	struct rpc_opts opts = { .hwm = cfg->ipc.hwm, .max_msg = cfg->ipc.max_msg_bytes };
	int r;

	b->handlers = handlers;
	b->self = self;
	b->owner = owner;
	r = rpc_server_new(b->d.base, b->d.zctx, endpoint, self, &opts, s_dispatch, b, &b->rpc);
	if (r < 0)
		return log_error_errno(r, "cannot bind the endpoint", LOG_S("endpoint", endpoint));
	b->accepting = true;
	return 0;
}

/* backend_stop_accepting - refuse new requests; those in flight are answered */
void backend_stop_accepting(struct backend *b)
{
	b->accepting = false;
}

/* backend_inflight - requests received and not yet answered */
size_t backend_inflight(const struct backend *b)
{
	return b->rpc ? rpc_server_inflight(b->rpc) : 0;
}

static void s_default_on_stop(void *userdata)
{
	backend_stop_accepting(userdata);
}

static int s_default_drain(void *userdata)
{
	return (int)MIN(backend_inflight(userdata), (size_t)INT_MAX);
}

/* backend_run - drop privileges, READY=1, loop until stopped */
int backend_run(struct backend *b, const char *user, void (*on_stop)(void *),
		int (*drain)(void *), void *userdata)
{
	int r;

	r = daemon_drop_privileges(&b->d, user);
	if (r < 0)
		return r;
	if (on_stop || drain)
		daemon_on_stop(&b->d, on_stop, drain, userdata);
	else
		daemon_on_stop(&b->d, s_default_on_stop, s_default_drain, b);
	daemon_ready(&b->d, "serving");
	return daemon_run(&b->d);
}

/* backend_done - free the pool, the ROUTER and the connection, then the daemon */
void backend_done(struct backend *b)
{
	b->pgq = pgq_free(b->pgq); /* queries still waiting are answered -ECANCELED */
	b->rpc = rpc_server_free(b->rpc);
	b->db = db_free(b->db);
	daemon_done(&b->d);
}
