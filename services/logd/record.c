/*
 * record.c - turning a log record into what logd buffers and stores: a
 * struct logd_rec with the time as RFC 3339 text, valid UTF-8 strings
 * (invalid bytes become '?', so one bad record cannot fail a whole
 * INSERT), anything that looks like an IP address, a token or a
 * credential redacted (redact.c), and the fields as a JSON object built
 * with jansson. Records arrive from other daemons (decoded
 * ipc_log_record, less trusted: level, service [a-z0-9_-] and clock
 * checked) or from logd itself (log_record, hook).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "logd.h"
#include "util.h"

/* logd_utf8_sanitize - replace every byte that is not valid UTF-8 by '?' */
void logd_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		size_t n = util_utf8_len(p + i, len - i);

		if (n == 0) {
			p[i] = '?';
			n = 1;
		}
		i += n;
	}
}

/* s_copy_cut - copy at most size - 1 bytes of src, then make it UTF-8 */
static void s_copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src ? src : "", size - 1);

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	logd_utf8_sanitize(dst);
}

/* logd_utf8_cut - cut valid UTF-8 s to at most max bytes, at a character boundary */
void logd_utf8_cut(char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	s[n] = '\0';
}

/* logd_dup_clean - at most max bytes of src, valid UTF-8, redacted (redact.c) */
char *logd_dup_clean(const char *src, size_t max)
{
	size_t n = strnlen(src ? src : "", max);
	_cleanup_free_ char *s = malloc(n + 1);
	char *out;

	if (!s)
		return NULL;
	memcpy(s, src ? src : "", n);
	s[n] = '\0';
	logd_utf8_sanitize(s);
	out = logd_redact(s, NULL);
	if (out)
		logd_utf8_cut(out, max); /* a marker may be longer than what it hides */
	return out;
}

static bool s_key_ok(const char *k)
{
	if (!k[0])
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* s_json_set - obj[key] = value as a string; odd keys become "bad_key";
 * the value of a key that names a secret becomes "[redacted]" */
static int s_json_set(json_t *obj, const char *key, const char *value)
{
	_cleanup_free_ char *v = NULL;
	char k[LOG_KEY_MAX + 1];

	s_copy_cut(k, sizeof(k), key);
	if (logd_redact_key(k) && value && value[0]) {
		logd_redactions_add(1);
		value = LOGD_REDACTED;
	}
	v = logd_dup_clean(value, LOG_VALUE_MAX);
	if (!v)
		return -ENOMEM;
	return json_object_set_new(obj, s_key_ok(k) ? k : "bad_key", json_string(v));
}

/* s_record_init - fill *ret; consumes obj */
static int s_record_init(struct logd_rec *ret, int64_t time_us, const char *service,
			 const char *level, const char *msg, json_t *obj)
{
	struct logd_rec rec = { .time_us = time_us };

	util_format_time(time_us, rec.at);
	s_copy_cut(rec.service, sizeof(rec.service), service);
	s_copy_cut(rec.level, sizeof(rec.level), level);
	rec.msg = logd_dup_clean(msg, LOG_MSG_MAX);
	rec.fields = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!rec.msg || !rec.fields) {
		logd_record_done(&rec);
		return -ENOMEM;
	}
	rec.bytes = sizeof(rec) + strlen(rec.msg) + strlen(rec.fields);
	*ret = rec;
	return 0;
}

static bool s_service_ok(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool s_level_ok(const char *level)
{
	return strcmp(level, "debug") == 0 || strcmp(level, "info") == 0 ||
	       strcmp(level, "warning") == 0 || strcmp(level, "error") == 0;
}

/* logd_record_from_ipc - a record another daemon sent; -EBADMSG, -ERANGE
 * (clock too far off) or -ENOMEM when refused */
int logd_record_from_ipc(const struct ipc_log_record *in, int64_t now, struct logd_rec *ret)
{
	size_t n = MIN(in->fields_n, ELEMENTSOF(in->fields));
	json_t *obj;

	if (!s_service_ok(in->service) || !s_level_ok(in->level))
		return -EBADMSG;
	if (in->time_us < now - LOGD_CLOCK_SKEW_US || in->time_us > now + LOGD_CLOCK_SKEW_US)
		return -ERANGE;
	obj = json_object();
	if (!obj)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (s_json_set(obj, in->fields[i].key, in->fields[i].value) < 0) {
			json_decref(obj);
			return -ENOMEM;
		}
	return s_record_init(ret, in->time_us, in->service, in->level, in->msg, obj);
}

/* logd_record_from_log - one of logd's own records (from the log hook) */
int logd_record_from_log(const struct log_record *in, struct logd_rec *ret)
{
	const char *level = log_level_to_string(in->level);
	json_t *obj = json_object();
	char num[32];
	int r = 0;

	if (!obj)
		return -ENOMEM;
	for (size_t i = 0; in->fields && i < LOG_FIELDS_MAX; i++) {
		const struct log_field *f = &in->fields[i];

		if (f->type == LOG_FIELD_END || !f->key)
			break;
		if (f->type == LOG_FIELD_INT)
			snprintf(num, sizeof(num), "%lld", f->i);
		r = s_json_set(obj, f->key, f->type == LOG_FIELD_INT ? num : f->s);
		if (r < 0) {
			json_decref(obj);
			return -ENOMEM;
		}
	}
	return s_record_init(ret, in->time_us, in->service ? in->service : "logd",
			     level ? level : "info", in->msg, obj);
}

/* logd_record_done - free a record's strings */
void logd_record_done(struct logd_rec *rec)
{
	free(rec->msg);
	free(rec->fields);
	rec->msg = NULL;
	rec->fields = NULL;
}

static int64_t s_time_us(const void *item)
{
	return ((const struct logd_rec *)item)->time_us;
}

static size_t s_bytes(const void *item)
{
	return ((const struct logd_rec *)item)->bytes;
}

static void s_done(void *item)
{
	logd_record_done(item);
}

/* Records in a logd_buffer: they own their strings and are charged their size. */
const struct logd_item_type logd_rec_type = {
	.size = sizeof(struct logd_rec),
	.time_us = s_time_us,
	.bytes = s_bytes,
	.done = s_done,
};
