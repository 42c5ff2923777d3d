/*
 * validate.c - sembark-telemetryd's reading of a client's telemetry batch,
 * exactly as API.md "Telemetry" says, and nothing looser:
 *
 *   body    {"client": {...}, "events": [...]}, no other key
 *   client  app_version, os_version: strings of 1-64 characters without
 *           control characters; display {width, height}: integers 1-20000;
 *           no other key
 *   events  an array of 1-500; each {"id", "type", "occurred_at", "attrs"}
 *           with attrs optional (missing = {}), no other key:
 *           id a UUID (8-4-4-4-12 hex, any case, stored lower-case);
 *           type feature_interaction (attrs.feature a non-empty string),
 *           crash, error, network_status (attrs.online a boolean),
 *           connectivity (attrs.state connected|disconnected|reconnecting);
 *           sign_in/sign_out are the server's own and refused here;
 *           occurred_at RFC 3339 (util_parse_time, no flags), not older
 *           than 7 days (or the retention period when shorter) and at
 *           most 5 minutes ahead;
 *           attrs an object of at most 16 keys of 1-64 characters, values
 *           string (<= 256 characters), number or boolean.
 *
 * A problem with the body, the client or the events array as a whole is a
 * 422 with "fields"; a problem with one event rejects that event alone.
 * Pure functions on jansson values: no I/O, no clock (the caller passes
 * the window), so tests/unit/test-telemetryd-validate.c covers every
 * rule at its bounds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "telemetryd.h"
#include "util.h"

static const char *const s_type_names[_TELEMETRYD_TYPE_MAX] = {
	[TELEMETRYD_SIGN_IN] = "sign_in",
	[TELEMETRYD_SIGN_OUT] = "sign_out",
	[TELEMETRYD_FEATURE_INTERACTION] = "feature_interaction",
	[TELEMETRYD_CRASH] = "crash",
	[TELEMETRYD_ERROR] = "error",
	[TELEMETRYD_NETWORK_STATUS] = "network_status",
	[TELEMETRYD_CONNECTIVITY] = "connectivity",
};

/* telemetryd_type_from_str - "crash" -> TELEMETRYD_CRASH; _INVALID when unknown */
enum telemetryd_type telemetryd_type_from_str(const char *s)
{
	for (int t = 0; t < _TELEMETRYD_TYPE_MAX; t++)
		if (strcmp(s_type_names[t], s) == 0)
			return (enum telemetryd_type)t;
	return _TELEMETRYD_TYPE_INVALID;
}

/* telemetryd_type_to_str - the wire name of a type */
const char *telemetryd_type_to_str(enum telemetryd_type t)
{
	if ((int)t < 0 || t >= _TELEMETRYD_TYPE_MAX)
		return "invalid";
	return s_type_names[t];
}

/* telemetryd_window_init - the occurred_at range for now_us and retention_days */
void telemetryd_window_init(struct telemetryd_window *w, int64_t now_us, int retention_days)
{
	int days = TELEMETRYD_PAST_DAYS;

	if (retention_days > 0 && retention_days < days)
		days = retention_days;
	w->now_us = now_us;
	w->past_days = days;
	w->oldest_us = now_us - days * TELEMETRYD_DAY_US;
	w->newest_us = now_us + TELEMETRYD_FUTURE_US;
}

static bool s_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* ---- client ---------------------------------------------------------------- */

static void s_field(json_t *fields, const char *key, const char *why)
{
	if (!json_object_get(fields, key))
		json_object_set_new(fields, key, json_string(why));
}

/* s_join - prefix + key, or just the prefix (less its dot) when that is too long */
static void s_join(char *out, size_t size, const char *prefix, const char *key)
{
	size_t np = strlen(prefix), nk = strlen(key);

	if (np + nk < size) {
		memcpy(out, prefix, np);
		memcpy(out + np, key, nk + 1);
	} else if (np > 0 && np <= size) {
		memcpy(out, prefix, np - 1);
		out[np - 1] = '\0';
	} else {
		snprintf(out, size, "body");
	}
}

/* s_unknown_keys - name every key of obj not in allowed as "<prefix><key>" */
static int s_unknown_keys(json_t *obj, const char *const *allowed, const char *prefix,
			  json_t *fields)
{
	const char *key;
	json_t *v;
	int r = 0;

	json_object_foreach(obj, key, v) {
		char name[96];
		bool known = false;

		for (size_t i = 0; allowed[i]; i++)
			known = known || strcmp(allowed[i], key) == 0;
		if (known)
			continue;
		s_join(name, sizeof(name), prefix, key);
		s_field(fields, name, "unknown field");
		r = -EINVAL;
	}
	return r;
}

static int s_client_string(json_t *client, const char *key, char *out, json_t *fields)
{
	static const char why[] = "must be a string of 1 to 64 characters without control characters";
	json_t *v = json_object_get(client, key);
	char name[32];
	size_t len, chars;

	snprintf(name, sizeof(name), "client.%s", key);
	if (!json_is_string(v)) {
		s_field(fields, name, v ? why : "required");
		return -EINVAL;
	}
	len = json_string_length(v);
	chars = util_utf8_chars(json_string_value(v), len);
	if (chars < 1 || chars > TELEMETRYD_CLIENT_CHARS_MAX || len > TELEMETRYD_CLIENT_BYTES_MAX ||
	    s_has_control(json_string_value(v), len)) {
		s_field(fields, name, why);
		return -EINVAL;
	}
	memcpy(out, json_string_value(v), len + 1);
	return 0;
}

static int s_display_side(json_t *display, const char *key, int *out, json_t *fields)
{
	json_t *v = json_object_get(display, key);
	char name[32];

	snprintf(name, sizeof(name), "client.display.%s", key);
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > TELEMETRYD_DISPLAY_MAX) {
		s_field(fields, name, v ? "must be an integer from 1 to 20000" : "required");
		return -EINVAL;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static int s_display(json_t *client, struct telemetryd_client *ret, json_t *fields)
{
	static const char *const keys[] = { "width", "height", NULL };
	json_t *d = json_object_get(client, "display");
	int r = 0;

	if (!json_is_object(d)) {
		s_field(fields, "client.display", d ? "must be an object with width and height"
						    : "required");
		return -EINVAL;
	}
	r |= s_display_side(d, "width", &ret->display_width, fields);
	r |= s_display_side(d, "height", &ret->display_height, fields);
	r |= s_unknown_keys(d, keys, "client.display.", fields);
	return r ? -EINVAL : 0;
}

/* telemetryd_check_client - the "client" object; problems go into fields */
int telemetryd_check_client(json_t *client, struct telemetryd_client *ret, json_t *fields)
{
	static const char *const keys[] = { "app_version", "os_version", "display", NULL };
	struct telemetryd_client c = { 0 };
	int r = 0;

	if (!json_is_object(client)) {
		s_field(fields, "client", client ? "must be an object" : "required");
		return -EINVAL;
	}
	r |= s_client_string(client, "app_version", c.app_version, fields);
	r |= s_client_string(client, "os_version", c.os_version, fields);
	r |= s_display(client, &c, fields);
	r |= s_unknown_keys(client, keys, "client.", fields);
	if (r)
		return -EINVAL;
	*ret = c;
	return 0;
}

/* ---- one event ----------------------------------------------------------------- */

_printf_(3, 4) static int s_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* s_why_key - "<head><key><tail>", or fallback when the key is long */
static int s_why_key(char *why, size_t size, const char *head, const char *key, const char *tail,
		     const char *fallback)
{
	if (strlen(key) > TELEMETRYD_ATTR_KEY_CHARS_MAX)
		return s_why(why, size, "%s", fallback);
	return s_why(why, size, "%s%s%s", head, key, tail);
}

static int s_event_keys(json_t *ev, char *why, size_t size)
{
	static const char *const keys[] = { "id", "type", "occurred_at", "attrs" };
	const char *key;
	json_t *v;

	json_object_foreach(ev, key, v) {
		bool known = false;

		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			known = known || strcmp(keys[i], key) == 0;
		if (!known)
			return s_why_key(why, size, "unknown field ", key, "", "unknown field");
	}
	return 0;
}

static int s_event_id(json_t *ev, struct telemetryd_event *ret, char *why, size_t size)
{
	json_t *v = json_object_get(ev, "id");

	if (!v)
		return s_why(why, size, "%s", "id: required");
	if (!json_is_string(v) || util_uuid_normalize(json_string_value(v), ret->id) < 0)
		return s_why(why, size, "%s", "id: must be a UUID");
	return 0;
}

static int s_event_type(json_t *ev, struct telemetryd_event *ret, char *why, size_t size)
{
	json_t *v = json_object_get(ev, "type");
	enum telemetryd_type t;

	if (!v)
		return s_why(why, size, "%s", "type: required");
	t = json_is_string(v) ? telemetryd_type_from_str(json_string_value(v))
			      : _TELEMETRYD_TYPE_INVALID;
	if (t == TELEMETRYD_SIGN_IN || t == TELEMETRYD_SIGN_OUT)
		return s_why(why, size, "type: %s is recorded by the server, not sent by clients",
			     telemetryd_type_to_str(t));
	if (t == _TELEMETRYD_TYPE_INVALID)
		return s_why(why, size, "%s",
			     "type: must be feature_interaction, crash, error, network_status or "
			     "connectivity");
	ret->type = t;
	return 0;
}

static int s_event_time(json_t *ev, const struct telemetryd_window *w,
			struct telemetryd_event *ret, char *why, size_t size)
{
	json_t *v = json_object_get(ev, "occurred_at");
	int64_t us;

	if (!v)
		return s_why(why, size, "%s", "occurred_at: required");
	if (!json_is_string(v) || util_parse_time(json_string_value(v), 0, &us) < 0)
		return s_why(why, size, "%s", "occurred_at: must be an RFC 3339 date-time");
	if (us < w->oldest_us) {
		snprintf(why, size, "occurred_at: more than %d days ago", w->past_days);
		return -EINVAL;
	}
	if (us > w->newest_us)
		return s_why(why, size, "%s", "occurred_at: more than 5 minutes ahead");
	ret->occurred_us = us;
	return 0;
}

static int s_attr_value(const char *key, json_t *v, char *why, size_t size)
{
	const char *fallback = "attrs: values must be strings, numbers or booleans";

	if (json_is_string(v)) {
		if (util_utf8_chars(json_string_value(v), json_string_length(v)) >
		    TELEMETRYD_ATTR_CHARS_MAX)
			return s_why_key(why, size, "attrs.", key, ": at most 256 characters",
					 "attrs: strings must be at most 256 characters");
		return 0;
	}
	if (json_is_number(v) || json_is_boolean(v))
		return 0;
	return s_why_key(why, size, "attrs.", key, ": must be a string, number or boolean",
			 fallback);
}

static int s_attrs_shape(json_t *attrs, char *why, size_t size)
{
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(attrs))
		return s_why(why, size, "%s", "attrs: must be an object");
	if (json_object_size(attrs) > TELEMETRYD_ATTRS_MAX)
		return s_why(why, size, "%s", "attrs: at most 16 keys");
	json_object_foreach(attrs, key, v) {
		size_t chars = util_utf8_chars(key, strlen(key));

		if (chars < 1 || chars > TELEMETRYD_ATTR_KEY_CHARS_MAX)
			return s_why(why, size, "%s", "attrs: keys must be 1 to 64 characters");
		r = s_attr_value(key, v, why, size);
		if (r < 0)
			return r;
	}
	return 0;
}

/* s_attrs_for_type - what each type requires of attrs */
static int s_attrs_for_type(json_t *attrs, enum telemetryd_type t, char *why, size_t size)
{
	json_t *v;
	const char *s;

	switch (t) {
	case TELEMETRYD_FEATURE_INTERACTION:
		v = json_object_get(attrs, "feature");
		if (!json_is_string(v) || json_string_length(v) == 0)
			return s_why(why, size, "%s", "attrs.feature: required, a non-empty string");
		return 0;
	case TELEMETRYD_NETWORK_STATUS:
		if (!json_is_boolean(json_object_get(attrs, "online")))
			return s_why(why, size, "%s", "attrs.online: required, a boolean");
		return 0;
	case TELEMETRYD_CONNECTIVITY:
		v = json_object_get(attrs, "state");
		s = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(s, "connected") && strcmp(s, "disconnected") && strcmp(s, "reconnecting"))
			return s_why(why, size, "%s",
				     "attrs.state: required, connected, disconnected or reconnecting");
		return 0;
	default:
		return 0;
	}
}

static int s_event_attrs(json_t *ev, struct telemetryd_event *ret, char *why, size_t size)
{
	json_t *attrs = json_object_get(ev, "attrs");
	_cleanup_(json_decrefp) json_t *empty = NULL;
	int r;

	if (!attrs)
		attrs = empty = json_object();
	if (!attrs)
		return s_why(why, size, "%s", "attrs: out of memory");
	r = s_attrs_shape(attrs, why, size);
	if (r >= 0)
		r = s_attrs_for_type(attrs, ret->type, why, size);
	if (r < 0)
		return r;
	ret->attrs = json_dumps(attrs, JSON_COMPACT);
	if (!ret->attrs)
		return s_why(why, size, "%s", "attrs: out of memory");
	return 0;
}

/* telemetryd_check_event - one element of "events" */
int telemetryd_check_event(json_t *ev, const struct telemetryd_window *w,
			   struct telemetryd_event *ret, char *why, size_t why_size)
{
	struct telemetryd_event e = { 0 };
	int r;

	if (!json_is_object(ev))
		return s_why(why, why_size, "%s", "event: must be an object");
	r = s_event_keys(ev, why, why_size);
	if (r >= 0)
		r = s_event_id(ev, &e, why, why_size);
	if (r >= 0)
		r = s_event_type(ev, &e, why, why_size);
	if (r >= 0)
		r = s_event_time(ev, w, &e, why, why_size);
	if (r >= 0)
		r = s_event_attrs(ev, &e, why, why_size);
	if (r < 0)
		return r;
	*ret = e;
	return 0;
}

/* ---- the whole body ------------------------------------------------------------- */

static int s_reject(json_t *rejected, size_t index, const char *why)
{
	json_t *o = json_pack("{s:I, s:s}", "index", (json_int_t)index, "error", why);

	if (!o || json_array_append_new(rejected, o) < 0)
		return -ENOMEM;
	return 0;
}

static int s_check_events(json_t *events, const struct telemetryd_window *w,
			  struct telemetryd_input *in)
{
	size_t n = json_array_size(events);
	char why[TELEMETRYD_WHY_MAX];
	int r;

	in->n_total = n;
	in->events = calloc(n, sizeof(*in->events));
	in->rejected = json_array();
	if (!in->events || !in->rejected)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct telemetryd_event *e = &in->events[in->n_events];

		if (telemetryd_check_event(json_array_get(events, i), w, e, why, sizeof(why)) < 0) {
			r = s_reject(in->rejected, i, why);
			if (r < 0)
				return r;
			continue;
		}
		e->index = i;
		in->n_events++;
	}
	return 0;
}

static int s_check_shape(json_t *root, struct telemetryd_input *in, json_t *fields)
{
	static const char *const keys[] = { "client", "events", NULL };
	json_t *events = json_object_get(root, "events");
	int r = 0;

	r |= telemetryd_check_client(json_object_get(root, "client"), &in->client, fields);
	if (!json_is_array(events) || json_array_size(events) < 1 ||
	    json_array_size(events) > TELEMETRYD_EVENTS_MAX) {
		s_field(fields, "events", events ? "must be an array of 1 to 500 events"
						 : "required");
		r = -EINVAL;
	}
	r |= s_unknown_keys(root, keys, "", fields);
	return r ? -EINVAL : 0;
}

/* telemetryd_validate - a whole ingest body into good events and rejections */
int telemetryd_validate(const char *body, size_t len, const struct telemetryd_window *w,
			struct telemetryd_input *ret, json_t **ret_fields)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	_cleanup_(json_decrefp) json_t *fields = json_object();
	struct telemetryd_input in = { 0 };
	json_error_t err;
	int r;

	if (!fields)
		return -ENOMEM;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(root)) {
		s_field(fields, "body", "must be one JSON object");
		*ret_fields = TAKE_PTR(fields);
		return -EINVAL;
	}
	if (s_check_shape(root, &in, fields) < 0) {
		*ret_fields = TAKE_PTR(fields);
		return -EINVAL;
	}
	r = s_check_events(json_object_get(root, "events"), w, &in);
	if (r < 0) {
		telemetryd_input_done(&in);
		return r;
	}
	*ret = in;
	return 0;
}

/* telemetryd_input_done - free what telemetryd_validate allocated */
void telemetryd_input_done(struct telemetryd_input *in)
{
	for (size_t i = 0; i < in->n_events; i++)
		free(in->events[i].attrs);
	free(in->events);
	json_decref(in->rejected);
	*in = (struct telemetryd_input){ 0 };
}
