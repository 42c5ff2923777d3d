/*
 * telemetryd.h - sembark-telemetryd's private state and prototypes, grouped by the
 * file that defines them. telemetryd owns telemetry events; it answers ingressd over
 * a ROUTER (runtime/backend.c) and talks to PostgreSQL as the role
 * sembark_telemetryd: INSERT/SELECT on telemetry_events, INSERT/SELECT/DELETE
 * on telemetry_seen, EXECUTE on the two partition functions (0004_telemetry.sql).
 */
#ifndef SEMBARK_TELEMETRYD_H
#define SEMBARK_TELEMETRYD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend.h"
#include "ipc.h"
#include "ops.h"
#include "rpc.h"
#include "util.h"

struct event;

#define TELEMETRYD_DAY_US (86400LL * 1000000)
#define TELEMETRYD_PAST_DAYS 7                        /* API.md: within the last 7 days */
#define TELEMETRYD_FUTURE_US (5LL * 60 * 1000000)     /* API.md: at most 5 minutes ahead */
#define TELEMETRYD_EVENTS_MAX 500                     /* events per request */
#define TELEMETRYD_CLIENT_CHARS_MAX 64                /* app_version, os_version */
#define TELEMETRYD_CLIENT_BYTES_MAX (4 * TELEMETRYD_CLIENT_CHARS_MAX)
#define TELEMETRYD_DISPLAY_MAX 20000
#define TELEMETRYD_ATTRS_MAX 16                       /* keys per attrs object */
#define TELEMETRYD_ATTR_CHARS_MAX 256                 /* characters per string value */
#define TELEMETRYD_ATTR_KEY_CHARS_MAX 64              /* characters per key (ours) */
#define TELEMETRYD_WHY_MAX 128                        /* one per-event error text */
#define TELEMETRYD_SEEN_KEEP_DAYS 8                   /* dedupe memory: > the 7-day window */
#define TELEMETRYD_UPKEEP_EVERY_S 3600                /* partitions ahead + retention */
#define TELEMETRYD_PURGE_CHUNK 10000                  /* telemetry_seen rows per DELETE */
#define TELEMETRYD_QUEUE_BATCHES 10                   /* queued events: 10 x batch_max_events ... */
#define TELEMETRYD_QUEUE_MIN_EVENTS 10000             /* ... but at least this many */
#define TELEMETRYD_SUMMARY_DAYS_MAX 30
#define TELEMETRYD_SUMMARY_DAYS_DEFAULT 7
#define TELEMETRYD_SUMMARY_TOP 20                     /* rows per summary list */
#define TELEMETRYD_DB_CONNS 2                         /* connections of the asynchronous pool */
#define TELEMETRYD_INFLIGHT 2                         /* batches committing at once */

/* Every statement telemetryd runs on its pool (shared/pgq.c); their indexes in x->stmt. */
enum telemetryd_stmt {
	TELEMETRYD_STMT_INGEST,       /* ingest.c */
	TELEMETRYD_STMT_ENSURE,       /* partitions.c */
	TELEMETRYD_STMT_DROP,
	TELEMETRYD_STMT_PURGE_SEEN,
	TELEMETRYD_STMT_SUMMARY_DAYS, /* summary.c */
	TELEMETRYD_STMT_SUMMARY_LIST, /* ... and one per list after it */
	_TELEMETRYD_STMT_MAX = TELEMETRYD_STMT_SUMMARY_LIST + 4,
};

/* An asynchronous step's end: r == 0 or negative errno. */
typedef void (*telemetryd_done_fn)(int r, void *userdata);

enum telemetryd_type {
	TELEMETRYD_SIGN_IN,
	TELEMETRYD_SIGN_OUT,
	TELEMETRYD_FEATURE_INTERACTION,
	TELEMETRYD_CRASH,
	TELEMETRYD_ERROR,
	TELEMETRYD_NETWORK_STATUS,
	TELEMETRYD_CONNECTIVITY,
	_TELEMETRYD_TYPE_MAX,
	_TELEMETRYD_TYPE_INVALID = -1,
};

/* The accepted range of occurred_at, from the clock at validation time. */
struct telemetryd_window {
	int64_t now_us;
	int64_t oldest_us; /* now - min(7, [telemetry] retention_days) days */
	int64_t newest_us; /* now + 5 minutes */
	int past_days;     /* for the error text */
};

/* One event that passed validation. */
struct telemetryd_event {
	char id[UTIL_UUID_LEN + 1]; /* lower-case canonical UUID */
	enum telemetryd_type type;
	int64_t occurred_us;
	char *attrs;    /* compact JSON object text (heap) */
	size_t index;   /* position in the request's "events" */
	bool duplicate; /* repeats an earlier event of the same group commit */
	bool stored;    /* new: inserted by the commit */
};

/* The request's "client" object. */
struct telemetryd_client {
	char app_version[TELEMETRYD_CLIENT_BYTES_MAX + 1];
	char os_version[TELEMETRYD_CLIENT_BYTES_MAX + 1];
	int display_width;
	int display_height;
};

/* A validated ingest body: the client, the good events, the rejected ones. */
struct telemetryd_input {
	struct telemetryd_client client;
	struct telemetryd_event *events; /* n_events, in request order */
	size_t n_events;
	size_t n_total;                  /* length of "events" */
	json_t *rejected;                /* [{"index": i, "error": "..."}] */
};

/* ---- validate.c: API.md "Telemetry", rule by rule ---------------------- */

/* telemetryd_type_from_str - "crash" -> TELEMETRYD_CRASH; _INVALID when unknown */
enum telemetryd_type telemetryd_type_from_str(const char *s);
/* telemetryd_type_to_str - the wire name of a type */
const char *telemetryd_type_to_str(enum telemetryd_type t);
/* telemetryd_window_init - the occurred_at range for now_us and retention_days */
void telemetryd_window_init(struct telemetryd_window *w, int64_t now_us, int retention_days);
/*
 * telemetryd_check_client - the "client" object. Problems go into fields
 * ({"client.app_version": "..."}); returns 0 or -EINVAL.
 */
int telemetryd_check_client(json_t *client, struct telemetryd_client *ret, json_t *fields);
/*
 * telemetryd_check_event - one element of "events". 0 and *ret (attrs on
 * the heap) when it is acceptable, else -EINVAL and why (a short
 * "field: problem" text).
 */
int telemetryd_check_event(json_t *ev, const struct telemetryd_window *w,
			   struct telemetryd_event *ret, char *why, size_t why_size);
/*
 * telemetryd_validate - a whole ingest body. 0: *ret holds the good events
 * and the rejected list (n_events may be 0). -EINVAL: the body as a whole
 * is unacceptable, *ret_fields says why (422). -ENOMEM.
 */
int telemetryd_validate(const char *body, size_t len, const struct telemetryd_window *w,
			struct telemetryd_input *ret, json_t **ret_fields);
/* telemetryd_input_done - free what telemetryd_validate allocated */
void telemetryd_input_done(struct telemetryd_input *in);

/* ---- ingest.c: group commit --------------------------------------------- */

struct telemetryd_pending;

struct telemetryd_queue {
	struct telemetryd_pending *head, *tail;
	size_t n_events;       /* events waiting */
	struct event *timer;   /* batch_delay_ms after the first arrival */
	bool armed;
	bool failing;          /* the last commit failed (logged once) */
	int inflight;          /* batches on their way (<= TELEMETRYD_INFLIGHT) */
	uint64_t committed;    /* events stored */
	uint64_t batches;      /* transactions committed */
	uint64_t failed;       /* batches answered 503 */
	struct metrics_hist batch_events;   /* events per committed batch */
	struct metrics_hist commit_seconds; /* a batch from made to committed */
};

struct telemetryd {
	struct backend b; /* first: handlers get &telemetryd.b; b.pgq runs every statement */
	int stmt[_TELEMETRYD_STMT_MAX];
	struct telemetryd_queue q;
	struct event *upkeep_timer, *purge_timer;
	bool need_upkeep;    /* partitions/retention not yet done since the last failure */
	bool upkeep_running; /* a run is on its way */
};

/* telemetryd_ingest_prepare - declare the batch statement on the pool */
int telemetryd_ingest_prepare(struct telemetryd *x);

/* telemetryd_ingest_start - the group commit timer */
int telemetryd_ingest_start(struct telemetryd *x);
/* telemetryd_ingest_stop - what never went out is answered 503; free the timer */
void telemetryd_ingest_stop(struct telemetryd *x);
/* telemetryd_op_ingest - op "telemetry.ingest": validate, queue; replies after commit */
void telemetryd_op_ingest(struct backend *b, struct rpc_request *req,
			  const struct ipc_api_call *call);
/* telemetryd_ingest_signal - queue a server sign_in/sign_out; "ack" after commit */
int telemetryd_ingest_signal(struct telemetryd *x, struct rpc_request *req,
			     enum telemetryd_type type, int64_t time_us, const char *user_id,
			     const char *team_id);
/* telemetryd_ingest_flush_now - commit what is queued at the next loop turn */
void telemetryd_ingest_flush_now(struct telemetryd *x);

/* ---- reply.c: api.reply frames ------------------------------------------ */

/* telemetryd_reply_json - api.reply {status, body = JSON text of body}; frees req */
void telemetryd_reply_json(struct rpc_request *req, int status, json_t *body);
/* telemetryd_reply_error - api.reply {status, {"error","message"}}; frees req */
void telemetryd_reply_error(struct rpc_request *req, int status, const char *code,
			    const char *message);
/* telemetryd_reply_unavailable - api.reply 503 service_unavailable; frees req */
void telemetryd_reply_unavailable(struct rpc_request *req);

/* ---- partitions.c: daily partitions, retention, dedupe memory ----------- */

/* telemetryd_partitions_prepare - declare this file's statements on the pool */
int telemetryd_partitions_prepare(struct telemetryd *x);
/* telemetryd_partitions_ensure - partitions for every day of [from_us, to_us]; then done(r) */
void telemetryd_partitions_ensure(struct telemetryd *x, int64_t from_us, int64_t to_us,
				  telemetryd_done_fn done, void *userdata);
/* telemetryd_upkeep - start a run unless one is on its way: retention, partitions, seen purge */
void telemetryd_upkeep(struct telemetryd *x);
/* telemetryd_upkeep_start - run upkeep now and every hour */
int telemetryd_upkeep_start(struct telemetryd *x);
/* telemetryd_upkeep_stop - free the timers */
void telemetryd_upkeep_stop(struct telemetryd *x);

/* ---- summary.c ----------------------------------------------------------- */

/* telemetryd_summary_prepare - declare the summary's statements on the pool */
int telemetryd_summary_prepare(struct telemetryd *x);
/* telemetryd_summary_days - "days=N" in a query string: 0 and N, or -EINVAL */
int telemetryd_summary_days(const char *query, int *ret_days);
/* telemetryd_op_summary - op "telemetry.summary" (owners, admins): this team's aggregates */
void telemetryd_op_summary(struct backend *b, struct rpc_request *req,
			   const struct ipc_api_call *call);

/* ---- signal.c ------------------------------------------------------------ */

/* telemetryd_handle_signal - telemetry.signal from authd */
void telemetryd_handle_signal(struct backend *b, struct rpc_request *req, const void *buf,
			      size_t len);

/* ---- ipc.c --------------------------------------------------------------- */

extern const backend_handler_fn telemetryd_handlers[_IPC_MSG_MAX];
/* telemetryd_ops - the handler of each of its rows of ipc/operations.def (api.call) */
extern const backend_op_fn telemetryd_ops[_IPC_OP_MAX];

#endif
