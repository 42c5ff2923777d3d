/*
 * logd.h - sembark-logd's private state and prototypes, grouped by the
 * file that defines them. logd receives every daemon's log records on a
 * PULL socket, buffers them (bounded) and stores them in batches into the
 * day-partitioned `logs` table as the role sembark_logd; it answers ping
 * on a ROUTER. Its own records enter the same buffer through log_set_hook.
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
#include "zmq_ev.h"

#define LOGD_BATCH 500                  /* rows per INSERT; a full batch flushes at once */
#define LOGD_FLUSH_MAX_BATCHES 20       /* per flush, so one flush cannot hog the loop */
#define LOGD_BUFFER_BYTES_MAX (64u << 20) /* memory cap besides [logs] buffer_records */
#define LOGD_STOP_FLUSH_US (3 * 1000 * 1000) /* flush time allowed at stop */
#define LOGD_CLOCK_SKEW_US (86400LL * 1000000) /* records further off are refused */
#define LOGD_PARTITION_EVERY_S 3600

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

/* A ring of records, oldest first. */
struct logd_buffer {
	struct logd_rec *slots;
	size_t cap, head, count, bytes;
	bool busy;        /* a flush is sending the oldest: evict the newcomer instead */
	uint64_t dropped; /* records evicted because the buffer was full */
};

struct logd {
	struct backend b;               /* role sembark_logd; ROUTER on [ipc] logd: ping */
	void *pull;                     /* PULL on [ipc] log_sink: records */
	struct zev *pull_ev;
	struct ipc_log_record *scratch; /* decode target (large: reused) */
	struct logd_buffer buf;
	struct event *flush_timer, *flush_now, *partition_timer;
	bool need_partitions;           /* ensure partitions before the next insert */
	bool flush_failing;             /* a failure streak was noted on stderr */
	bool in_hook;
	int64_t stop_deadline_us;
	int64_t garbage_noted_us, dropped_noted_us;
	uint64_t garbage;               /* undecodable or refused records */
	uint64_t stored;                /* rows inserted */
	uint64_t discarded;             /* rows PostgreSQL refused as data errors */
	uint64_t dropped_noted, garbage_noted;
};

/* record.c */
int logd_record_from_ipc(const struct ipc_log_record *in, int64_t now, struct logd_rec *ret);
int logd_record_from_log(const struct log_record *in, struct logd_rec *ret);
void logd_record_done(struct logd_rec *rec);
void logd_utf8_sanitize(char *s);
void logd_format_day(int64_t time_us, char buf[static 11]);

/* redact.c */
char *logd_redact_ip(const char *s);

/* buffer.c */
int logd_buffer_init(struct logd_buffer *b, size_t cap);
void logd_buffer_done(struct logd_buffer *b);
void logd_buffer_push(struct logd_buffer *b, struct logd_rec *rec);
struct logd_rec *logd_buffer_peek(struct logd_buffer *b, size_t i);
void logd_buffer_pop(struct logd_buffer *b, size_t n);

/* store.c */
int logd_store_start(struct logd *l);
int logd_store_partitions(struct logd *l);
void logd_store_add(struct logd *l, struct logd_rec *rec);
int logd_store_flush(struct logd *l);
int logd_store_drain(struct logd *l);
void logd_store_stop(struct logd *l, bool flush);
void logd_note(enum log_level level, const char *msg, const struct log_field *fields);

/* ipc.c */
int logd_ipc_open(struct logd *l);
void logd_ipc_stop(struct logd *l);
void logd_ipc_close(struct logd *l);

#endif
