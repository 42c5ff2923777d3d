/*
 * logd.h - sembark-logd's private state and prototypes, grouped by the
 * file that defines them. logd receives every daemon's log records and
 * authd's audit events on a PULL socket, redacts them, buffers them
 * (bounded) and stores them in batches into the day-partitioned `logs`
 * and `audit_events` tables as the role sembark_logd; it drops partitions
 * older than [logs] retention_days; on a ROUTER it answers ping and the
 * api.call "audit.list". Its own records enter the buffer through
 * log_set_hook.
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
#define LOGD_FLUSH_MAX_BATCHES 20       /* per flush, so one flush cannot hog the loop */
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

/* One buffered audit event; "" for an absent actor or subject. */
struct logd_audit {
	int64_t time_us;
	char at[32];                         /* RFC 3339 UTC with microseconds */
	char event[33];
	char team_id[UTIL_UUID_LEN + 1];
	char actor_id[UTIL_UUID_LEN + 1];
	char actor_email[LOGD_EMAIL_MAX + 1];   /* redacted (addresses, tokens) */
	char subject_id[UTIL_UUID_LEN + 1];
	char subject_email[LOGD_EMAIL_MAX + 1];
};

/* How one stream of items is stored (batch.c): log records or audit events. */
struct logd_stream_type {
	const struct logd_item_type *item;
	const char *ensure_fn;   /* SELECT ensure_fn(from_day, days) creates daily partitions */
	const char *table;       /* the table, in messages */
	const char *created;     /* "log partitions created" */
	const char *refused;     /* "log record refused by the database" (stderr only) */
	const char *failed;      /* "log flush failed, records kept" (stderr only) */
	const char *recovered;   /* "log flush recovered" */
	const char *insert_head; /* "INSERT INTO logs (at, ...) VALUES " */
	const char *insert_row;  /* one row, "($::timestamptz,$,...)": each '$' the next parameter */
	/* row - one item's parameters, as many as insert_row has '$' (strings the item holds) */
	void (*row)(const void *item, const char **params);
};

/* A buffered stream on its way into PostgreSQL (batch.c). */
struct logd_stream {
	const struct logd_stream_type *type;
	struct logd_buffer buf;
	bool need_partitions;   /* ensure partitions before the next insert */
	bool failing;           /* a failure streak was noted on stderr */
	uint64_t stored;        /* rows inserted */
	uint64_t refused;       /* rows PostgreSQL refused as data errors */
};

/* What GET /api/audit asked for (audit_list.c). */
struct logd_audit_query {
	int limit;              /* 1..LOGD_AUDIT_LIMIT_MAX */
	bool has_before;
	int64_t before_at_us;   /* the cursor: strictly older than (at, id) */
	int64_t before_id;
};

struct logd {
	struct backend b;               /* role sembark_logd; ROUTER on [ipc] logd: ping */
	void *pull;                     /* PULL on [ipc] log_sink: records */
	struct zev *pull_ev;
	struct ipc_log_record *scratch; /* decode target (large: reused) */
	struct logd_stream logs;        /* log records waiting for PostgreSQL */
	struct logd_stream audit;       /* audit events waiting for PostgreSQL */
	struct event *flush_timer, *flush_now, *partition_timer;
	int64_t retention_next_us;      /* monotonic time of the next retention run */
	bool in_hook;
	int64_t stop_deadline_us;
	int64_t garbage_noted_us, dropped_noted_us;
	uint64_t garbage;               /* undecodable or refused records */
	uint64_t dropped_noted, garbage_noted, audit_dropped_noted;
	uint64_t redactions_noted;
	int64_t redactions_noted_us;
};

/* record.c */
int logd_record_from_ipc(const struct ipc_log_record *in, int64_t now, struct logd_rec *ret);
int logd_record_from_log(const struct log_record *in, struct logd_rec *ret);
void logd_record_done(struct logd_rec *rec);
extern const struct logd_item_type logd_rec_type;
void logd_utf8_sanitize(char *s);
void logd_utf8_cut(char *s, size_t max);
char *logd_dup_clean(const char *src, size_t max);

/* redact.c */
char *logd_redact(const char *s, size_t *ret_n);
bool logd_redact_key(const char *key);
void logd_redactions_add(uint64_t n);
uint64_t logd_redactions(void);

/* audit.c */
bool logd_audit_event_known(const char *event);
int logd_audit_from_ipc(const struct ipc_audit_event *in, int64_t now, struct logd_audit *ret);
extern const struct logd_item_type logd_audit_type;

/* audit_store.c */
extern const struct logd_stream_type logd_audit_stream;
void logd_audit_add(struct logd *l, struct logd_audit *ev);

/* audit_list.c */
int logd_cursor_encode(int64_t at_us, int64_t id, char out[static LOGD_CURSOR_MAX + 1]);
int logd_cursor_decode(const char *s, int64_t *ret_at_us, int64_t *ret_id);
int logd_audit_query_parse(const char *query, struct logd_audit_query *ret,
			   const char **ret_field, const char **ret_why);
/* logd_op_audit_list - op "audit.list" (owners, admins): one page of the caller's team's trail */
void logd_op_audit_list(struct backend *b, struct rpc_request *req, const struct ipc_api_call *call);

/* retention.c */
int logd_retention_run(struct logd *l);
void logd_retention_tick(struct logd *l);

/* buffer.c */
int logd_buffer_init(struct logd_buffer *b, const struct logd_item_type *type, size_t cap);
void logd_buffer_done(struct logd_buffer *b);
void logd_buffer_push(struct logd_buffer *b, void *item);
void *logd_buffer_peek(const struct logd_buffer *b, size_t i);
int64_t logd_buffer_time(const struct logd_buffer *b, size_t i);
void logd_buffer_pop(struct logd_buffer *b, size_t n);

/* batch.c */
int logd_stream_init(struct logd_stream *s, const struct logd_stream_type *type, size_t cap);
void logd_stream_done(struct logd_stream *s);
int logd_stream_partitions(struct db *db, struct logd_stream *s);
int logd_stream_flush(struct db *db, struct logd_stream *s);

/* store.c */
extern const struct logd_stream_type logd_log_stream;
int logd_store_start(struct logd *l);
int logd_store_partitions(struct logd *l);
void logd_store_add(struct logd *l, struct logd_rec *rec);
int logd_store_flush(struct logd *l);
int logd_store_drain(struct logd *l);
void logd_store_stop(struct logd *l, bool flush);
void logd_note(enum log_level level, const char *msg, const struct log_field *fields);
#define NOTE(level, msg, ...) logd_note((level), (msg), LOG_FIELDS_(__VA_ARGS__))

/* ipc.c */
int logd_ipc_open(struct logd *l);
void logd_ipc_stop(struct logd *l);
void logd_ipc_close(struct logd *l);

#endif
