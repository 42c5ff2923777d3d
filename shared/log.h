/*
 * log.h - structured logging for every sembark program.
 *
 * A record is: time (UTC, RFC 3339 with ms), service, level, message and
 * typed fields. It is written to stderr as one logfmt line (values escaped
 * so that no client-supplied string can start a new line or forge a field)
 * and, when a sink is attached, handed to it: runtime/log_sink.c pushes
 * it to sembark-logd over ZeroMQ PUSH without ever blocking (a full queue
 * drops and counts).
 *
 * By design there is no field type for a network address: callers cannot
 * log a client's IP. Field keys are static identifiers ([a-z0-9_]).
 * Only the thread that called log_open() pushes to the sink; other
 * threads (authd's hash pool) write to stderr only.
 */
#ifndef SEMBARK_LOG_H
#define SEMBARK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	_LOG_LEVEL_MAX,
	_LOG_LEVEL_INVALID = -1,
};

enum log_field_type {
	LOG_FIELD_END,
	LOG_FIELD_STR,
	LOG_FIELD_INT,
};

struct log_field {
	const char *key;
	enum log_field_type type;
	const char *s;
	long long i;
};

#define LOG_S(k, v) ((struct log_field){ .key = (k), .type = LOG_FIELD_STR, .s = (v) })
#define LOG_I(k, v) ((struct log_field){ .key = (k), .type = LOG_FIELD_INT, .i = (long long)(v) })
#define LOG_END ((struct log_field){ .key = NULL, .type = LOG_FIELD_END })

#define LOG_MSG_MAX 1024      /* longer messages are cut, marked with "..." */
#define LOG_FIELDS_MAX 32     /* more are dropped */
#define LOG_VALUE_MAX 1024    /* longer values are cut */
#define LOG_KEY_MAX 32
#define LOG_LINE_MAX 16384

/* One record as handed to hooks and to logfmt_format. */
struct log_record {
	int64_t time_us;          /* UTC microseconds since the epoch */
	const char *service;
	enum log_level level;
	const char *msg;
	const struct log_field *fields; /* ends with LOG_FIELD_END */
};

/* log_open - name this process's records; call once, first thing in main */
void log_open(const char *service);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
const char *log_level_to_string(enum log_level level);
enum log_level log_level_from_string(const char *s);

/* A sink: takes each record on the log_open() thread, never waits; false: dropped (counted). */
typedef bool (*log_sink_fn)(const struct log_record *rec, void *userdata);
/* log_attach_sink - hand every record to fn as well (runtime/log_sink.c: to logd) */
void log_attach_sink(log_sink_fn fn, void *userdata);
/* log_detach_sink - stop handing records to the sink */
void log_detach_sink(void);
/* log_copy_text - src into dst (size bytes) as at most max bytes of UTF-8: '?' for a bad byte, "..." when cut */
void log_copy_text(char *dst, size_t size, const char *src, size_t max);
/* log_key_ok - a field key a record may carry: [a-z0-9_], 1..LOG_KEY_MAX bytes */
bool log_key_ok(const char *k);
/* log_set_hook - logd stores its own records through this instead */
void log_set_hook(void (*hook)(const struct log_record *rec, void *userdata), void *userdata);
/* log_dropped - records the sink refused (queue full, logd away) */
uint64_t log_dropped(void);

void log_emit(enum log_level level, const char *msg, const struct log_field *fields);

#define LOG_FIELDS_(...) ((const struct log_field[]){ __VA_ARGS__ __VA_OPT__(, ) LOG_END })
#define log_debug(msg, ...) log_emit(LOG_LEVEL_DEBUG, (msg), LOG_FIELDS_(__VA_ARGS__))
#define log_info(msg, ...) log_emit(LOG_LEVEL_INFO, (msg), LOG_FIELDS_(__VA_ARGS__))
#define log_warning(msg, ...) log_emit(LOG_LEVEL_WARNING, (msg), LOG_FIELDS_(__VA_ARGS__))
#define log_error(msg, ...) log_emit(LOG_LEVEL_ERROR, (msg), LOG_FIELDS_(__VA_ARGS__))

/* log_errno - log with field error=strerror(-r); returns r (negative errno) */
int log_emit_errno(enum log_level level, int r, const char *msg, const struct log_field *fields);
#define log_error_errno(r, msg, ...) log_emit_errno(LOG_LEVEL_ERROR, (r), (msg), LOG_FIELDS_(__VA_ARGS__))
#define log_warning_errno(r, msg, ...) log_emit_errno(LOG_LEVEL_WARNING, (r), (msg), LOG_FIELDS_(__VA_ARGS__))

/*
 * logfmt_format - render one record as a logfmt line ending in '\n' into
 * buf (always NUL-terminated). Returns the length written. Values are
 * quoted when they contain space, '=', '"' or anything outside printable
 * ASCII+UTF-8; '"', '\\' are backslash-escaped; control bytes become
 * \n \r \t or \xHH. Keys that are not [a-z0-9_] are replaced by "bad_key".
 */
size_t logfmt_format(char *buf, size_t size, const struct log_record *rec);

/* log_format_time - RFC 3339 UTC with milliseconds: 2026-11-29T05:00:00.123Z */
void log_format_time(int64_t time_us, char buf[static 32]);

#endif
