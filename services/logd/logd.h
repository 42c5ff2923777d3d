/*
 * logd.h - sembark-logd's private state and prototypes, grouped by the
 * file that defines them. logd receives every daemon's log records on a
 * PULL socket and reads authd's audit events from its outbox table
 * (audit_outbox.c), redacts them, buffers them
 * (bounded) and stores them in batches into the day-partitioned `logs`
 * and `audit_events` tables as the role sembark_logd; it drops partitions
 * older than [logs] retention_days; on a ROUTER it answers ping and the
 * api.call "audit.list". Every statement runs on the asynchronous pool
 * b.pgq (shared/pgq.c): the loop never waits for PostgreSQL. Its own
 * records enter the buffer through log_set_hook.
 */
#ifndef SEMBARK_LOGD_H
#define SEMBARK_LOGD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "ipc.h"
#include "log.h"
#include "rpc.h"
#include "util.h"
#include "zmq_ev.h"

#define LOGD_BATCH 500                  /* rows per INSERT; a full batch flushes at once */
#define LOGD_FLUSH_MAX_BATCHES 20       /* batches per flush round, one after the other */
/*
 * Two connections: the two streams' writes (at most one batch of each in
 * flight), partition upkeep, retention and audit.list share them, so one
 * statement held up by a lock or a long DROP leaves the other connection
 * for the rest (and for ping); more would only queue more work behind the
 * same locks.
 */
#define LOGD_DB_CONNS 2
#define LOGD_DB_GRACE_MS 5000           /* a write's deadline beyond 2 statement timeouts */
#define LOGD_FINAL_FLUSH_US (1000 * 1000) /* after the loop, when no stop deadline was set */
#define LOGD_BUFFER_BYTES_MAX (64u << 20) /* memory cap besides [logs] buffer_records */
#define LOGD_STOP_FLUSH_US (3 * 1000 * 1000) /* flush time allowed at stop */
#define LOGD_CLOCK_SKEW_US (86400LL * 1000000) /* records further off are refused */
#define LOGD_PARTITION_EVERY_S 3600
#define LOGD_RETENTION_EVERY_US (3600LL * 1000000) /* retention run after a success */
#define LOGD_RETENTION_RETRY_US (60LL * 1000000)   /* ... and after a failure */
#define LOGD_REDACTED "[redacted]"
#define LOGD_EMAIL_MAX 254
#define LOGD_CURSOR_MAX 64          /* bytes of an audit cursor, NUL excluded */
#define LOGD_AUDIT_LIMIT_DEFAULT 50
#define LOGD_AUDIT_LIMIT_MAX 100

/* What a ring holds (buffer.c): its slot size and what it needs to know of an item. */
struct logd_item_type {
	size_t size;                          /* bytes of one slot */
	int64_t (*time_us)(const void *item); /* when it happened (its partition's day) */
	size_t (*bytes)(const void *item);    /* memory charged; NULL: none besides the slot */
	void (*done)(void *item);             /* free what it owns; NULL: nothing */
};

/* A ring of items, oldest first. */
struct logd_buffer {
	const struct logd_item_type *type;
	unsigned char *slots;
	size_t cap, head, count, bytes;
	bool busy;        /* a flush is sending the oldest: evict the newcomer instead */
	uint64_t dropped; /* items evicted because the buffer was full */
};

/* One buffered record, owning its strings. */
struct logd_rec {
	int64_t time_us;
	char at[32];     /* RFC 3339 UTC with microseconds */
	char service[33];
	char level[9];
	char *msg;       /* heap, valid UTF-8 */
	char *fields;    /* heap, JSON object text */
	size_t bytes;    /* memory charged to the buffer */
};

/* One buffered audit event, a row of authd's outbox; "" for an absent actor or subject. */
struct logd_audit {
	int64_t outbox_id;                   /* its row in audit_outbox, deleted when stored */
	char outbox_id_text[24];
	int64_t time_us;
	char at[32];                         /* RFC 3339 UTC with microseconds */
	char event[33];
	char team_id[UTIL_UUID_LEN + 1];
	char actor_id[UTIL_UUID_LEN + 1];
	char actor_email[LOGD_EMAIL_MAX + 1];   /* redacted (addresses, tokens) */
	char subject_id[UTIL_UUID_LEN + 1];
	char subject_email[LOGD_EMAIL_MAX + 1];
};

#define LOGD_STREAM_COLS_MAX 8

/* How one stream of items is stored (batch.c): log records or audit events. */
struct logd_stream_type {
	const struct logd_item_type *item;
	const char *ensure_sql;  /* DB_PARTITIONS_ENSURE_SQL(the table's ensure function) */
	const char *table;       /* the table, in messages */
	const char *created;     /* "log partitions created" */
	const char *refused;     /* "log record refused by the database" (stderr only) */
	const char *failed;      /* "log flush failed, records kept" (stderr only) */
	const char *recovered;   /* "log flush recovered" */
	const char *insert_sql;  /* one INSERT of any number of rows: $1..$ncols, an array a column */
	int ncols;               /* <= LOGD_STREAM_COLS_MAX */
	/* row - one item's column values, ncols of them (strings the item holds) */
	void (*row)(const void *item, const char **params);
};

/* What a stream's statement in flight is doing (batch.c). */
enum logd_step {
	LOGD_STEP_IDLE,         /* nothing in flight */
	LOGD_STEP_ENSURE,       /* partitions from yesterday, before the batch */
	LOGD_STEP_INSERT,       /* the batch */
	LOGD_STEP_ENSURE_BATCH, /* the batch found no partition (23514): its days */
	LOGD_STEP_RETRY,        /* the batch again, once, after that */
	LOGD_STEP_EACH,         /* a refused batch, one row at a time */
};

/* A buffered stream on its way into PostgreSQL (batch.c). */
struct logd_stream {
	const struct logd_stream_type *type;
	struct logd_buffer buf;
	struct pgq *pgq;        /* NULL until logd_stream_prepare */
	int insert_stmt, ensure_stmt, deadline_ms;
	enum logd_step step;
	size_t inflight;        /* the oldest items the statement in flight carries */
	size_t each_left;       /* rows of a refused batch still to try alone */
	int batches;            /* batches ended in this flush round */
	int last_r;             /* how the last round ended */
	char sqlstate[6];       /* of the last failed statement */
	bool need_partitions;   /* ensure partitions before the next insert */
	bool failing;           /* a failure streak was noted on stderr */
	uint64_t stored;        /* rows inserted */
	uint64_t refused;       /* rows PostgreSQL refused as data errors */
};

/* logd's statements on the pool besides the streams' (their indexes in struct logd). */
enum logd_stmt {
	LOGD_STMT_LIST,         /* audit.list, first page */
	LOGD_STMT_LIST_BEFORE,  /* audit.list, the page before a cursor */
	LOGD_STMT_DROP_LOGS,    /* retention of logs */
	LOGD_STMT_DROP_AUDIT,   /* retention of audit_events */
	LOGD_STMT_OUTBOX_READ,  /* audit events authd wrote (audit_outbox.c) */
	_LOGD_STMT_MAX,
};

/* A retention run under way (retention.c): its rules one after the other. */
struct logd_retention {
	bool running;
	bool failed;            /* a rule of this run failed: retry sooner */
	size_t rule;            /* the rule in flight */
	char cutoff[32];        /* RFC 3339 */
	int64_t next_us;        /* monotonic time of the next run */
	uint64_t runs_ok, runs_failed; /* runs ended, for metrics */
	uint64_t dropped;       /* partitions dropped by all runs */
	int64_t last_ok_us;     /* wall clock of the last run without a failure; 0: none */
};

/* What GET /api/audit asked for (audit_list.c). */
struct logd_audit_query {
	int limit;              /* 1..LOGD_AUDIT_LIMIT_MAX */
	bool has_before;
	int64_t before_at_us;   /* the cursor: strictly older than (at, id) */
	int64_t before_id;
};

/* Reading authd's audit outbox (audit_outbox.c). */
struct logd_outbox {
	bool reading;           /* a read is in flight */
	bool again;             /* asked for while one was: read once more after it */
	bool failing;           /* the last read failed (said once on stderr) */
	int64_t last_id;        /* the newest row read: the next read starts after it */
	struct event *poll;     /* a look every LOGD_OUTBOX_POLL_MS, whatever was heard */
	uint64_t read, bad;     /* rows read; rows not as the outbox's types promise */
};

struct logd {
	struct backend b;               /* role sembark_logd; ROUTER on [ipc] logd: ping */
	void *pull;                     /* PULL on [ipc] log_sink: records */
	struct zev *pull_ev;
	struct ipc_log_record *scratch; /* decode target (large: reused) */
	struct logd_stream logs;        /* log records waiting for PostgreSQL */
	struct logd_stream audit;       /* audit events waiting for PostgreSQL */
	struct logd_outbox outbox;      /* where they come from */
	struct event *flush_timer, *flush_now, *partition_timer;
	int stmt[_LOGD_STMT_MAX];       /* pool indexes of enum logd_stmt */
	struct logd_retention retention;
	bool in_hook;
	int64_t stop_deadline_us;
	int64_t garbage_noted_us, dropped_noted_us;
	uint64_t garbage;               /* undecodable or refused records */
	uint64_t dropped_noted, garbage_noted, audit_dropped_noted;
	uint64_t redactions_noted;
	int64_t redactions_noted_us;
};

/* record.c */
/* logd_record_from_ipc - a checked, cleaned, redacted copy of another daemon's record */
int logd_record_from_ipc(const struct ipc_log_record *in, int64_t now, struct logd_rec *ret);
/* logd_record_from_log - the same for one of logd's own records (the hook) */
int logd_record_from_log(const struct log_record *in, struct logd_rec *ret);
/* logd_record_done - free what a record owns */
void logd_record_done(struct logd_rec *rec);
extern const struct logd_item_type logd_rec_type; /* records in a ring */
/* logd_utf8_sanitize - every byte that is not valid UTF-8 becomes '?' */
void logd_utf8_sanitize(char *s);
/* logd_utf8_cut - cut valid UTF-8 to at most max bytes, at a character boundary */
void logd_utf8_cut(char *s, size_t max);
/* logd_dup_clean - at most max bytes of src, valid UTF-8, redacted */
char *logd_dup_clean(const char *src, size_t max);

/* redact.c */
/* logd_redact - a redacted copy of s; *ret_n (may be NULL) how many redactions */
char *logd_redact(const char *s, size_t *ret_n);
/* logd_redact_key - does a field key name a secret? */
bool logd_redact_key(const char *key);
/* logd_redactions_add - count n more redactions */
void logd_redactions_add(uint64_t n);
/* logd_redactions - redactions so far */
uint64_t logd_redactions(void);

/* audit.c */
/* logd_audit_from_row - a row of the outbox read (LOGD_OUTBOX_COLS), emails redacted */
int logd_audit_from_row(const PGresult *res, int row, struct logd_audit *ret);
extern const struct logd_item_type logd_audit_type; /* events in a ring */

/* audit_store.c */
extern const struct logd_stream_type logd_audit_stream; /* how events are stored */
/* logd_audit_add - buffer an event (copied; *ev is zeroed) */
void logd_audit_add(struct logd *l, struct logd_audit *ev);

/* audit_outbox.c */
#define LOGD_OUTBOX_CHANNEL "sembark_audit" /* migrations/0008_audit_outbox.sql */
#define LOGD_OUTBOX_POLL_MS 5000
/* logd_outbox_prepare - the read statement and the LISTEN (before pgq_start) */
int logd_outbox_prepare(struct logd *l);
/* logd_outbox_start - the poll timer, and a first read */
int logd_outbox_start(struct logd *l);
/* logd_outbox_read - read what waits, as far as the audit buffer has room (one read at a time) */
void logd_outbox_read(struct logd *l);
/* logd_outbox_stop - free the timer */
void logd_outbox_stop(struct logd *l);

/* audit_list.c */
/* logd_cursor_encode - the opaque cursor of the event (at_us, id) */
int logd_cursor_encode(int64_t at_us, int64_t id, char out[static LOGD_CURSOR_MAX + 1]);
/* logd_cursor_decode - the (at_us, id) of a cursor, or -EINVAL */
int logd_cursor_decode(const char *s, int64_t *ret_at_us, int64_t *ret_id);
/* logd_audit_query_parse - "limit=N&before=CURSOR", or -EINVAL naming the field and why */
int logd_audit_query_parse(const char *query, struct logd_audit_query *ret,
			   const char **ret_field, const char **ret_why);
/* logd_audit_list_prepare - declare audit.list's statements on the pool (at start) */
int logd_audit_list_prepare(struct logd *l);
/* logd_op_audit_list - op "audit.list" (owners, admins): one page of the caller's team's trail */
void logd_op_audit_list(struct backend *b, struct rpc_request *req, const struct ipc_api_call *call);

/* retention.c */
/* logd_retention_prepare - declare the two drop statements on the pool (at start) */
int logd_retention_prepare(struct logd *l);
/* logd_retention_run - start a run (unless one is under way); -ENOTCONN without a pool */
int logd_retention_run(struct logd *l);
/* logd_retention_tick - start a run when one is due (not while stopping) */
void logd_retention_tick(struct logd *l);

/* buffer.c */
/* logd_buffer_init - an empty ring of cap items of this type */
int logd_buffer_init(struct logd_buffer *b, const struct logd_item_type *type, size_t cap);
/* logd_buffer_done - free every item and the ring */
void logd_buffer_done(struct logd_buffer *b);
/* logd_buffer_push - append *item (taking what it owns), evicting when full */
void logd_buffer_push(struct logd_buffer *b, void *item);
/* logd_buffer_peek - the i-th oldest item, NULL past the end */
void *logd_buffer_peek(const struct logd_buffer *b, size_t i);
/* logd_buffer_time - when the i-th oldest item happened (i < count) */
int64_t logd_buffer_time(const struct logd_buffer *b, size_t i);
/* logd_buffer_pop - free the n oldest items */
void logd_buffer_pop(struct logd_buffer *b, size_t n);

/* batch.c */
/* logd_stream_init - an empty stream of this type, at most cap items buffered */
int logd_stream_init(struct logd_stream *s, const struct logd_stream_type *type, size_t cap);
/* logd_stream_prepare - declare the stream's statements on pgq (before pgq_start) */
int logd_stream_prepare(struct logd_stream *s, struct pgq *pgq, int deadline_ms);
/* logd_stream_kick - start a flush round (partitions when needed, then batches) unless one runs */
void logd_stream_kick(struct logd_stream *s);
/* logd_stream_busy - is a statement of the stream in flight? */
bool logd_stream_busy(const struct logd_stream *s);
/* logd_stream_done - free what is still buffered (no statement may be in flight) */
void logd_stream_done(struct logd_stream *s);

/* store.c */
extern const struct logd_stream_type logd_log_stream; /* how records are stored */
/* logd_store_start - the buffers, the log hook and the flush timers */
int logd_store_start(struct logd *l);
/* logd_store_prepare - declare both streams' statements on the pool (at start) */
int logd_store_prepare(struct logd *l);
/* logd_db_deadline_ms - a write's deadline: past the server's own statement_timeout */
int logd_db_deadline_ms(const struct logd *l);
/* logd_store_partitions - ensure both streams' partitions before their next insert, soon */
void logd_store_partitions(struct logd *l);
/* logd_store_add - buffer a record (taking its strings) */
void logd_store_add(struct logd *l, struct logd_rec *rec);
/* logd_store_flush - start a flush round of each stream that has none under way */
void logd_store_flush(struct logd *l);
/* logd_store_drain - at stop: flush; >0 while something waits and the stop deadline allows */
int logd_store_drain(struct logd *l);
/* logd_store_stop - last flush (unless forced), free the pool, unhook, say what was lost */
void logd_store_stop(struct logd *l, bool flush);
/* logd_note - one record to stderr only (logfmt), never into the buffer */
void logd_note(enum log_level level, const char *msg, const struct log_field *fields);
#define NOTE(level, msg, ...) logd_note((level), (msg), LOG_FIELDS_(__VA_ARGS__))

/* ipc.c */
/* logd_ipc_open - bind the log sink PULL and the ROUTER (ping, api.call) */
int logd_ipc_open(struct logd *l);
/* logd_ipc_stop - refuse requests; records are still received while draining */
void logd_ipc_stop(struct logd *l);
/* logd_ipc_close - close both sockets (before the ZeroMQ context goes) */
void logd_ipc_close(struct logd *l);

#endif
