/*
 * log.c - structured logging for every sembark program.
 *
 * Owns the logfmt renderer (the one place that escapes client-supplied
 * strings for a log line), the level filter, the stderr writer and the
 * forwarding of records to sembark-logd: through a sink (runtime/log_sink.c
 * makes each record a log.record frame on a ZeroMQ PUSH socket, never
 * blocking; a record it refuses is counted as dropped) or, inside logd,
 * through a hook. Knows no message format. Any thread may log; only the
 * thread that called log_open() forwards, so the sink and the hook are
 * used from one thread only. Logging never recurses: a record emitted
 * while forwarding goes to stderr only.
 *
 * Bounds: a message keeps at most LOG_MSG_MAX bytes and a value at most
 * LOG_VALUE_MAX (cut at a character boundary, ending in "..."), at most
 * LOG_FIELDS_MAX fields are kept, and a line never exceeds LOG_LINE_MAX
 * bytes: fields that do not fit are left out and "truncated=true" ends it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define TRUNC_MARK " truncated=true"
#define DOTS "..."
#define SERVICE_MAX 32 /* as the service field of log.record */

static char s_service[SERVICE_MAX + 1];
static atomic_int s_level = LOG_LEVEL_INFO;
static atomic_bool s_owner_set;
static pthread_t s_owner;
static atomic_uint_fast64_t s_dropped;
static pthread_mutex_t s_write_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool s_forwarding;

/* Owner thread only. */
static log_sink_fn s_sink;
static void *s_sink_userdata;
static void (*s_hook)(const struct log_record *rec, void *userdata);
static void *s_hook_userdata;

static const char *const s_level_names[_LOG_LEVEL_MAX] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_ERROR] = "error",
};

/* ---- levels and set-up -------------------------------------------------- */

/* log_level_to_string - "debug" ... "error"; NULL for an invalid level */
const char *log_level_to_string(enum log_level level)
{
	if ((int)level < 0 || level >= _LOG_LEVEL_MAX)
		return NULL;
	return s_level_names[level];
}

/* log_level_from_string - the reverse; _LOG_LEVEL_INVALID if unknown */
enum log_level log_level_from_string(const char *s)
{
	for (int i = 0; s && i < _LOG_LEVEL_MAX; i++)
		if (strcmp(s, s_level_names[i]) == 0)
			return (enum log_level)i;
	return _LOG_LEVEL_INVALID;
}

/* log_set_level - records below level are dropped; invalid is ignored */
void log_set_level(enum log_level level)
{
	if ((int)level >= 0 && level < _LOG_LEVEL_MAX)
		atomic_store(&s_level, (int)level);
}

/* log_get_level - the current threshold */
enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&s_level);
}

/* log_open - name this process's records and make this the forwarding thread */
void log_open(const char *service)
{
	snprintf(s_service, sizeof(s_service), "%s", service ? service : "");
	s_owner = pthread_self();
	atomic_store(&s_owner_set, true);
}

/* log_attach_sink - hand every record to fn as well (logd's frame: runtime/log_sink.c) */
void log_attach_sink(log_sink_fn fn, void *userdata)
{
	s_sink = fn;
	s_sink_userdata = userdata;
}

/* log_detach_sink - stop handing records to the sink */
void log_detach_sink(void)
{
	s_sink = NULL;
	s_sink_userdata = NULL;
}

/* log_set_hook - hand records to hook instead of the sink (logd) */
void log_set_hook(void (*hook)(const struct log_record *rec, void *userdata), void *userdata)
{
	s_hook = hook;
	s_hook_userdata = userdata;
}

/* log_dropped - records the sink refused */
uint64_t log_dropped(void)
{
	return atomic_load(&s_dropped);
}

/* ---- UTF-8 -------------------------------------------------------------- */

static bool s_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* s_cut - how many bytes of s to keep under max, and whether it was cut */
static size_t s_cut(const char *s, size_t max, bool *ret_cut)
{
	size_t n = strnlen(s, max + 1);

	*ret_cut = n > max;
	if (!*ret_cut)
		return n;
	n = max > strlen(DOTS) ? max - strlen(DOTS) : 0;
	for (int i = 0; i < 3 && n > 0 && s_cont((unsigned char)s[n]); i++)
		n--;
	return n;
}

/* ---- logfmt ------------------------------------------------------------- */

/* A bounded line writer: past limit it only sets `over`. */
struct lw {
	char *buf;
	size_t len;
	size_t limit;
	bool over;
};

static void lw_put(struct lw *w, const char *s, size_t n)
{
	if (w->over || n > w->limit - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void lw_puts(struct lw *w, const char *s)
{
	lw_put(w, s, strlen(s));
}

static bool s_needs_quotes(const char *s, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '=' || c == '"' || c == '\\')
			return true;
	}
	return false;
}

/* s_put_escaped_byte - one byte of a quoted value, escaped if it must be */
static void s_put_escaped_byte(struct lw *w, unsigned char c)
{
	char hex[5];

	switch (c) {
	case '"':
		lw_put(w, "\\\"", 2);
		return;
	case '\\':
		lw_put(w, "\\\\", 2);
		return;
	case '\n':
		lw_put(w, "\\n", 2);
		return;
	case '\r':
		lw_put(w, "\\r", 2);
		return;
	case '\t':
		lw_put(w, "\\t", 2);
		return;
	}
	if (c < 0x20 || c >= 0x7f) {
		snprintf(hex, sizeof(hex), "\\x%02x", c);
		lw_put(w, hex, 4);
	} else {
		lw_put(w, (const char *)&c, 1);
	}
}

/* s_put_quoted - "..." with well-formed UTF-8 kept, C1 controls escaped */
static void s_put_quoted(struct lw *w, const char *s, size_t n, bool cut)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	lw_put(w, "\"", 1);
	while (i < n && !w->over) {
		size_t k = u[i] >= 0x80 ? util_utf8_len(u + i, n - i) : 0;

		if (k > 1 && !(u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			lw_put(w, s + i, k);
			i += k;
		} else {
			s_put_escaped_byte(w, u[i++]);
		}
	}
	if (cut)
		lw_puts(w, DOTS);
	lw_put(w, "\"", 1);
}

/* s_put_value - a value, quoted only when needed; cut to max bytes */
static void s_put_value(struct lw *w, const char *s, size_t max, bool force_quotes)
{
	bool cut;
	size_t n = s_cut(s, max, &cut);

	if (force_quotes || s_needs_quotes(s, n)) {
		s_put_quoted(w, s, n, cut);
		return;
	}
	lw_put(w, s, n);
	if (cut)
		lw_puts(w, DOTS);
}

/* log_key_ok - a field key records may carry: [a-z0-9_], 1..LOG_KEY_MAX bytes */
bool log_key_ok(const char *k)
{
	size_t n = k ? strnlen(k, LOG_KEY_MAX + 1) : 0;

	if (n == 0 || n > LOG_KEY_MAX)
		return false;
	return strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void s_put_field(struct lw *w, const struct log_field *f)
{
	char num[24];

	lw_puts(w, " ");
	lw_puts(w, log_key_ok(f->key) ? f->key : "bad_key");
	lw_puts(w, "=");
	if (f->type == LOG_FIELD_INT) {
		snprintf(num, sizeof(num), "%lld", f->i);
		lw_puts(w, num);
	} else {
		s_put_value(w, f->s ? f->s : "", LOG_VALUE_MAX, false);
	}
}

/* s_put_head - time, service, level and msg */
static void s_put_head(struct lw *w, const struct log_record *rec)
{
	const char *level = log_level_to_string(rec->level);
	char t[32];

	log_format_time(rec->time_us, t);
	lw_puts(w, "time=");
	lw_puts(w, t);
	lw_puts(w, " service=");
	s_put_value(w, rec->service ? rec->service : "", SERVICE_MAX, false);
	lw_puts(w, " level=");
	lw_puts(w, level ? level : "invalid");
	lw_puts(w, " msg=");
	s_put_value(w, rec->msg ? rec->msg : "", LOG_MSG_MAX, true);
}

/* s_put_fields - each field whole or not at all; stops at the first misfit */
static void s_put_fields(struct lw *w, const struct log_field *fields)
{
	for (size_t i = 0; fields && i < LOG_FIELDS_MAX; i++) {
		size_t saved = w->len;

		if (fields[i].type == LOG_FIELD_END)
			break;
		s_put_field(w, &fields[i]);
		if (w->over) {
			w->len = saved;
			return;
		}
	}
}

/* logfmt_format - render one record as a logfmt line ending in '\n' */
size_t logfmt_format(char *buf, size_t size, const struct log_record *rec)
{
	size_t reserve = strlen(TRUNC_MARK) + 2; /* mark, '\n', NUL */
	size_t cap = MIN(size, (size_t)LOG_LINE_MAX);
	struct lw w = { .buf = buf };

	if (cap == 0)
		return 0;
	if (cap < reserve + 1) {
		buf[0] = '\0';
		return 0;
	}
	w.limit = cap - reserve;
	s_put_head(&w, rec);
	if (w.over)
		w.len = 0; /* not even the head fits: only the mark */
	else
		s_put_fields(&w, rec->fields);
	if (w.over) {
		const char *mark = TRUNC_MARK + (w.len == 0);

		memcpy(buf + w.len, mark, strlen(mark));
		w.len += strlen(mark);
	}
	buf[w.len++] = '\n';
	buf[w.len] = '\0';
	return w.len;
}

/* log_format_time - RFC 3339 UTC with milliseconds */
void log_format_time(int64_t time_us, char buf[static 32])
{
	int64_t sec = time_us / 1000000, us = time_us % 1000000;
	struct tm tm;
	time_t t;

	if (us < 0) {
		us += 1000000;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		snprintf(buf, 32, "0000-00-00T00:00:00.000Z");
		return;
	}
	/* the % only tell the compiler each part's width; the values fit */
	snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
		 (unsigned)(us / 1000) % 1000u);
}

/* ---- forwarding --------------------------------------------------------- */

/* s_copy_utf8 - bounded copy for the wire: bad bytes become '?', cut ends in "..." */
/* log_copy_text - src into dst as at most max bytes of well-formed UTF-8 ('?' for a bad byte, "..." when cut) */
void log_copy_text(char *dst, size_t size, const char *src, size_t max)
{
	const unsigned char *u = (const unsigned char *)src;
	bool cut;
	size_t n = s_cut(src, MIN(max, size - 1), &cut), i = 0, o = 0;

	while (i < n) {
		size_t k = util_utf8_len(u + i, n - i);

		if (k == 0) {
			dst[o++] = '?';
			i++;
			continue;
		}
		memcpy(dst + o, src + i, k);
		o += k;
		i += k;
	}
	if (cut) {
		memcpy(dst + o, DOTS, strlen(DOTS));
		o += strlen(DOTS);
	}
	dst[o] = '\0';
}

static bool s_on_owner_thread(void)
{
	return atomic_load(&s_owner_set) && pthread_equal(s_owner, pthread_self());
}

static void s_forward(const struct log_record *rec)
{
	if (s_forwarding || !s_on_owner_thread())
		return;
	s_forwarding = true;
	if (s_hook)
		s_hook(rec, s_hook_userdata);
	else if (s_sink && !s_sink(rec, s_sink_userdata))
		atomic_fetch_add(&s_dropped, 1);
	s_forwarding = false;
}

/* s_write_stderr - the whole line, lines of concurrent threads never mixed */
static void s_write_stderr(const char *p, size_t n)
{
	pthread_mutex_lock(&s_write_lock);
	while (n > 0) {
		ssize_t k = write(STDERR_FILENO, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		p += k;
		n -= (size_t)k;
	}
	pthread_mutex_unlock(&s_write_lock);
}

static int64_t s_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *s_service_name(void)
{
	return s_service[0] ? s_service : program_invocation_short_name;
}

/* log_emit - filter, write to stderr, forward (owner thread); keeps errno */
void log_emit(enum log_level level, const char *msg, const struct log_field *fields)
{
	static const struct log_field no_fields[] = { LOG_END };
	char line[LOG_LINE_MAX];
	struct log_record rec;
	int saved = errno;

	if ((int)level < 0 || level >= _LOG_LEVEL_MAX)
		level = LOG_LEVEL_ERROR;
	if ((int)level < atomic_load(&s_level))
		return;
	rec = (struct log_record){
		.time_us = s_now_us(),
		.service = s_service_name(),
		.level = level,
		.msg = msg ? msg : "",
		.fields = fields ? fields : no_fields,
	};
	s_write_stderr(line, logfmt_format(line, sizeof(line), &rec));
	s_forward(&rec);
	errno = saved;
}

/* log_emit_errno - log_emit plus error=strerror(-r); returns r */
int log_emit_errno(enum log_level level, int r, const char *msg, const struct log_field *fields)
{
	struct log_field f[LOG_FIELDS_MAX + 1];
	int e = r == INT_MIN ? EINVAL : (r < 0 ? -r : r);
	char ebuf[128];
	size_t n = 0;

	for (; fields && n < LOG_FIELDS_MAX - 1 && fields[n].type != LOG_FIELD_END; n++)
		f[n] = fields[n];
	f[n++] = LOG_S("error", strerror_r(e, ebuf, sizeof(ebuf)));
	f[n] = LOG_END;
	log_emit(level, msg, f);
	return r;
}
