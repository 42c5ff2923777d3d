/*
 * backend.h - what the three database daemons (authd, telemetryd, logd)
 * share: opening their own role's connection with its password from a
 * credential or file, and answering "ping" with a "pong".
 */
#ifndef SEMBARK_BACKEND_H
#define SEMBARK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "db.h"
#include "ops.h"
#include "pgq.h"
#include "rpc.h"

/* Fixed database role names (migrations create them). */
#define BACKEND_ROLE_AUTHD "sembark_authd"
#define BACKEND_ROLE_TELEMETRYD "sembark_telemetryd"
#define BACKEND_ROLE_LOGD "sembark_logd"

#define BACKEND_PING_DEADLINE_MS 1000 /* a ping's database round trip */

struct backend;

/*
 * A daemon's own queue depths for pong (NULL: none): call
 * backend_pong_queue() once per queue. backend.c adds "db_queued" itself.
 */
typedef void (*backend_queues_fn)(const struct backend *b, struct ipc_pong *pong);

struct sbuf;

/*
 * A daemon's own metrics (NULL: none): families whose names start with
 * prefix ("sembark_authd") and "_", appended to out (metrics.h).
 * backend_metrics.c writes the common ones (build, uptime, pool) first.
 */
typedef void (*backend_metrics_fn)(const struct backend *b, const char *prefix,
				   struct sbuf *out);

/* A request handler: decode buf strictly, reply exactly once. */
typedef void (*backend_handler_fn)(struct backend *b, struct rpc_request *req, const void *buf,
				   size_t len);
/* An HTTP API operation's handler (api.call, runtime/api_call.c): reply exactly once. */
typedef void (*backend_op_fn)(struct backend *b, struct rpc_request *req,
			      const struct ipc_api_call *call);

/*
 * struct backend - a database daemon: its lifecycle (d), its role's
 * connection, and the ROUTER whose requests go through `handlers`
 * (indexed by enum ipc_msg_type; PING is answered when it has no entry;
 * any other type without one gets "unknown_type"). Embed it first in the
 * daemon's own struct and reach that with container_of-style casts or
 * `owner`.
 */
struct backend {
	struct daemon d;
	struct db *db;               /* own role, opened lazily */
	struct pgq *pgq;             /* its asynchronous pool, when the daemon has one (pgq.h) */
	struct rpc_server *rpc;      /* ROUTER on the daemon's [ipc] endpoint */
	const backend_handler_fn *handlers; /* _IPC_MSG_MAX entries */
	const backend_op_fn *ops;    /* _IPC_OP_MAX entries, for api.call; NULL: none */
	enum ipc_peer self;          /* which daemon this is */
	void *owner;                 /* the daemon's own state */
	backend_queues_fn queues;    /* its queue depths in pong, or NULL */
	backend_metrics_fn metrics;  /* its own metrics, or NULL */
	bool accepting;              /* false once stopping: new requests refused */
};

/*
 * backend_serve - bind a ROUTER at endpoint as peer `self` and dispatch
 * its requests through handlers. Logs its failure; 0 or negative errno.
 */
int backend_serve(struct backend *b, const char *endpoint, enum ipc_peer self,
		  const backend_handler_fn *handlers, void *owner);

/*
 * backend_run - drop root to `user`, READY=1, run the loop. On SIGTERM:
 * new requests are refused and those in flight answered, unless the
 * daemon passes its own on_stop/drain (NULL: these defaults).
 */
int backend_run(struct backend *b, const char *user, void (*on_stop)(void *),
		int (*drain)(void *), void *userdata);

/* backend_pong_queue - add "name" = n to pong's queues (a ninth is left out) */
void backend_pong_queue(struct ipc_pong *pong, const char *name, uint64_t n);

/*
 * backend_handle_metrics - answer "metrics" with metrics.text: the
 * common families, then b->metrics's (backend_metrics.c)
 */
void backend_handle_metrics(struct backend *b, struct rpc_request *req, const void *buf,
			    size_t len);
/* backend_metrics_pgq - a pgq pool's families, names starting with prefix "_db_" */
void backend_metrics_pgq(const struct pgq *q, const char *prefix, struct sbuf *out);

/* backend_stop_accepting - refuse new requests from now on */
void backend_stop_accepting(struct backend *b);
/* backend_inflight - requests received and not yet answered */
size_t backend_inflight(const struct backend *b);
/*
 * backend_done - free the pool (its waiting queries answered -ECANCELED),
 * close the ROUTER and the database, then daemon_done
 */
void backend_done(struct backend *b);

/*
 * backend_open_db - load the password (credential `credential`, else the
 * file `password_file`; none at all is fine only when password_file is
 * "") and the connection parameters as role_user. It does not connect:
 * the daemon's pool (b->pgq, shared/pgq.c) opens its connections from
 * those parameters in the background, and a database that is down is not
 * an error. Logs its own failure; returns 0 or negative errno.
 */
int backend_open_db(struct daemon *d, const char *role_user, const char *credential,
		    const char *password_file, struct db **ret);

/*
 * backend_handle_ping - decode a ping frame (strict) and answer pong
 * {service, database, pid, uptime_s}, or "bad_message"; frees req.
 * database: a "SELECT 1" on b->pgq within BACKEND_PING_DEADLINE_MS when
 * the daemon has a pool (the loop goes on meanwhile), else db_ping().
 */
void backend_handle_ping(struct backend *b, struct rpc_request *req, const void *buf, size_t len);

#endif
