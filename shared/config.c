/*
 * config.c - sembark's one configuration file, for every program.
 *
 * Owns the schema table (section, key, type, allowed range or values,
 * default, place in struct sembark_config), the INI reader on top of
 * libinih, the SEMBARK_<SECTION>_<KEY> environment overrides and the
 * per-key format checks (listen address, public origin, IPC endpoints).
 * Touches only the config file and the environment; never logs (callers
 * print the one-line error it returns).
 *
 * File rules: keys live in a [section]; leading blanks are ignored (no
 * continuation lines); ';' or '#' starts a comment line, " ;" an inline
 * comment; a key given twice in the file is an error, so that a forgotten
 * earlier line can never silently win or lose. An unknown key or section
 * is named with the nearest valid one when one is close (edit distance).
 *
 * Environment: SEMBARK_<SECTION>_<KEY>. A variable whose name starts with
 * a section (SEMBARK_AUTH_...) must be a key of it, so a typo in a unit
 * file is caught at start-up with "did you mean ...?"; one that names no
 * section (SEMBARK_URL, a client script's) is not ours: it is ignored and
 * listed in cfg->env_ignored for the caller to warn about. The tools'
 * own variables (tool_variables) pass silently.
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "util.h"

#define CONFIG_LINE_MAX 1024 /* longest line in the file, newline included */
#define ENV_PREFIX "SEMBARK_"
#define ENV_NAME_MAX CONFIG_ENV_NAME_MAX
#define ECHO_MAX 64 /* bytes of a bad value repeated in an error */
#define MSG_MAX 512

_Static_assert(ECHO_MAX + 4 <= CONFIG_ENV_NAME_MAX, "an echoed name fits env_ignored");

enum cfg_type {
	CFG_STR,
	CFG_INT,
	CFG_BOOL,
	CFG_ENUM,
};

struct cfg_key {
	const char *section;
	const char *key;
	enum cfg_type type;
	size_t offset;
	int min, max;                       /* CFG_INT */
	int def;                            /* CFG_INT, CFG_BOOL */
	const char *def_str;                /* CFG_STR, CFG_ENUM */
	const char *const *allowed;         /* CFG_ENUM, NULL-terminated */
	bool (*valid)(const char *s);       /* CFG_STR: extra format check */
	const char *valid_what;             /* ... and what it wants */
};

static bool s_valid_listen(const char *s);
static bool s_valid_listen_or_off(const char *s);
static bool s_valid_relay(const char *s);
static bool s_valid_from(const char *s);
static bool s_valid_origin(const char *s);
static bool s_valid_endpoint(const char *s);
static bool s_valid_z85_key(const char *s);
static bool s_valid_issuer(const char *s);

static const char *const s_hash_names[] = { "bcrypt", "argon2id", NULL };
static const char *const s_level_names[] = { "debug", "info", "warning", "error", NULL };
static const char *const s_sslmode_names[] = {
	"disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL,
};

#define LISTEN_WHAT "must be host:port with a port from 1 to 65535"
#define RELAY_WHAT "must be smtp://host[:port] or smtps://host[:port], or empty (off)"
#define FROM_WHAT "must be one address local@domain, without blanks, quotes or angle brackets"
#define LISTEN_OFF_WHAT "must be host:port with a port from 1 to 65535, or empty (off)"
#define ORIGIN_WHAT "must be http:// or https:// and a host[:port], with no path or trailing slash"
#define Z85_WHAT "must be empty or a 40-character Z85 key (sembarkctl keygen)"
#define ENDPOINT_WHAT "must start with ipc://, tcp:// or inproc://"
#define ISSUER_WHAT "must be 1 to 64 printable ASCII characters, without ':'"

#define OFF_(sec, k) offsetof(struct sembark_config, sec.k)
#define K_STR(sec, k, d) \
	{ #sec, #k, CFG_STR, OFF_(sec, k), 0, 0, 0, (d), NULL, NULL, NULL }
#define K_CHK(sec, k, d, fn, what) \
	{ #sec, #k, CFG_STR, OFF_(sec, k), 0, 0, 0, (d), NULL, (fn), (what) }
#define K_INT(sec, k, lo, hi, d) \
	{ #sec, #k, CFG_INT, OFF_(sec, k), (lo), (hi), (d), NULL, NULL, NULL, NULL }
#define K_BOOL(sec, k, d) \
	{ #sec, #k, CFG_BOOL, OFF_(sec, k), 0, 1, (d), NULL, NULL, NULL, NULL }
#define K_ENUM(sec, k, list, d) \
	{ #sec, #k, CFG_ENUM, OFF_(sec, k), 0, 0, 0, (d), (list), NULL, NULL }

/* The schema: every key, once. Defaults and ranges as in config.h. */
static const struct cfg_key s_schema[] = {
	K_CHK(ingress, listen, "127.0.0.1:8080", s_valid_listen, LISTEN_WHAT),
	K_CHK(ingress, public_origin, "http://127.0.0.1:8080", s_valid_origin, ORIGIN_WHAT),
	K_STR(ingress, security_contact, "mailto:security@example.com"),
	K_INT(ingress, security_txt_days, 1, 365, 180),
	K_INT(ingress, max_body, 1024, 16777216, 65536),
	K_INT(ingress, max_telemetry_body, 1024, 67108864, 1048576),
	K_INT(ingress, max_header_bytes, 1024, 65536, 16384),
	K_INT(ingress, max_headers, 8, 256, 64),
	K_INT(ingress, max_connections, 16, 1000000, 4096),
	K_INT(ingress, max_connections_per_address, 0, 1000000, 256),
	K_INT(ingress, idle_timeout, 1, 3600, 60),
	K_INT(ingress, request_timeout, 1, 600, 10),
	K_INT(ingress, rpc_timeout_ms, 50, 60000, 3000),
	K_INT(ingress, health_timeout_ms, 50, 10000, 1000),
	K_INT(ingress, client_rate_limit, 0, 1000000, 120),
	K_BOOL(ingress, reuse_port, true),
	K_STR(ingress, csrf_key_file, ""),
	K_STR(ingress, tls_cert_file, ""),
	K_STR(ingress, tls_key_file, ""),
	K_STR(ingress, static_dir, ""),
	K_STR(ingress, user, ""),
	K_CHK(ingress, metrics_listen, "127.0.0.1:9464", s_valid_listen_or_off, LISTEN_OFF_WHAT),

	K_INT(auth, session_lifetime, 1, 31536000, 86400),
	K_INT(auth, session_idle_timeout, 0, 31536000, 0),
	K_INT(auth, session_cache_max, 0, 10000000, 100000),
	K_INT(auth, session_cache_ttl, 1, 3600, 60),
	K_INT(auth, bcrypt_cost, 4, 31, 12),
	K_ENUM(auth, password_hash, s_hash_names, "bcrypt"),
	K_INT(auth, hash_threads, 1, 64, 2),
	K_STR(auth, totp_key_file, ""),
	K_CHK(auth, totp_issuer, "sembark", s_valid_issuer, ISSUER_WHAT),
	K_BOOL(auth, require_verified_email, false),
	K_STR(auth, user, ""),

	K_INT(telemetry, retention_days, 1, 3650, 30),
	K_INT(telemetry, batch_max_events, 1, 100000, 5000),
	K_INT(telemetry, batch_delay_ms, 0, 1000, 5),
	K_STR(telemetry, user, ""),

	K_INT(logs, retention_days, 1, 3650, 30),
	K_ENUM(logs, level, s_level_names, "info"),
	K_INT(logs, buffer_records, 100, 1000000, 10000),
	K_INT(logs, flush_ms, 10, 10000, 200),
	K_STR(logs, user, ""),

	K_STR(database, host, "/run/postgresql"),
	K_INT(database, port, 1, 65535, 5432),
	K_STR(database, name, "sembark"),
	K_ENUM(database, sslmode, s_sslmode_names, "prefer"),
	K_STR(database, sslrootcert, ""),
	K_INT(database, connect_timeout, 1, 300, 5),
	K_INT(database, statement_timeout_ms, 100, 600000, 5000),
	K_STR(database, owner_user, "sembark_owner"),
	K_STR(database, owner_password_file, ""),
	K_STR(database, authd_password_file, ""),
	K_STR(database, telemetryd_password_file, ""),
	K_STR(database, logd_password_file, ""),
	K_STR(database, maild_password_file, ""),

	K_CHK(mail, relay, "", s_valid_relay, RELAY_WHAT),
	K_CHK(mail, from, "sembark@localhost", s_valid_from, FROM_WHAT),
	K_BOOL(mail, require_tls, true),
	K_STR(mail, ca_file, ""),
	K_STR(mail, username, ""),
	K_STR(mail, password_file, ""),
	K_INT(mail, max_attempts, 1, 100, 8),
	K_STR(mail, user, ""),

	K_CHK(ipc, authd, "ipc:///run/sembark/authd/authd.sock", s_valid_endpoint, ENDPOINT_WHAT),
	K_CHK(ipc, telemetryd, "ipc:///run/sembark/telemetryd/telemetryd.sock", s_valid_endpoint, ENDPOINT_WHAT),
	K_CHK(ipc, logd, "ipc:///run/sembark/logd/logd.sock", s_valid_endpoint, ENDPOINT_WHAT),
	K_CHK(ipc, log_sink, "ipc:///run/sembark/logd/log.sock", s_valid_endpoint, ENDPOINT_WHAT),
	K_INT(ipc, max_msg_bytes, 4096, 67108864, 2097152),
	K_INT(ipc, hwm, 10, 1000000, 10000),
	K_CHK(ipc, curve_server_public_key, "", s_valid_z85_key, Z85_WHAT),
	K_STR(ipc, curve_server_secret_file, ""),
	K_CHK(ipc, curve_client_public_key, "", s_valid_z85_key, Z85_WHAT),
	K_STR(ipc, curve_client_secret_file, ""),
	K_STR(ipc, curve_allowed_clients_file, ""),
};

#define N_KEYS ELEMENTSOF(s_schema)

/* State of one file parse, shared by the line reader and the handler. */
struct parse_state {
	struct sembark_config *cfg;
	FILE *f;
	const char *path;
	char *line;          /* getline buffer */
	size_t line_size;
	unsigned lineno;     /* line last handed to inih */
	unsigned err_line;   /* line of the first error we found, 0 = none */
	int read_errno;
	bool seen[N_KEYS];
	char msg[MSG_MAX];
};

_printf_(3, 4)
static void s_msg(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!buf || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* s_echo - a bad value made safe and short for an error message */
static const char *s_echo(const char *s, char buf[static ECHO_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] && i < ECHO_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

/* s_printable - the message in buf with every control character made '?' */
static void s_printable(char *buf, size_t size)
{
	for (size_t i = 0; buf && i < size && buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
}

static bool s_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool s_known_section(const char *s, size_t len)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strlen(s_schema[i].section) == len && strncmp(s_schema[i].section, s, len) == 0)
			return true;
	return false;
}

static const struct cfg_key *s_find(const char *section, const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(s_schema[i].section, section) == 0 && strcmp(s_schema[i].key, key) == 0)
			return &s_schema[i];
	return NULL;
}

#define NEAR_MAX 3 /* the farthest a suggested name may be */

/* s_near - is an edit distance d from a name of len bytes close enough to suggest? */
static bool s_near(size_t d, size_t len)
{
	return d <= MIN((size_t)NEAR_MAX, MAX((size_t)1, len / 3));
}

/* s_distance - the edit distance when it is at most NEAR_MAX, else more (and quickly) */
static size_t s_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if ((la > lb ? la - lb : lb - la) > NEAR_MAX)
		return SIZE_MAX;
	return util_edit_distance_within(a, b, NEAR_MAX);
}

/* s_nearest_section - the section nearest to name (case-blind), NULL when none is near */
static const char *s_nearest_section(const char *name)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < N_KEYS; i++) {
		size_t d;

		if (i > 0 && strcmp(s_schema[i].section, s_schema[i - 1].section) == 0)
			continue; /* the schema lists a section's keys together */
		d = s_distance(name, s_schema[i].section);
		if (d < best_d) {
			best = s_schema[i].section;
			best_d = d;
		}
	}
	return s_near(best_d, strlen(name)) ? best : NULL;
}

/* s_nearest_key - the key of section nearest to key (case-blind), NULL when none is near */
static const struct cfg_key *s_nearest_key(const char *section, const char *key)
{
	const struct cfg_key *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < N_KEYS; i++) {
		size_t d;

		if (strcmp(s_schema[i].section, section) != 0)
			continue;
		d = s_distance(key, s_schema[i].key);
		if (d < best_d) {
			best = &s_schema[i];
			best_d = d;
		}
	}
	return s_near(best_d, strlen(key)) ? best : NULL;
}

/* ---- value parsers ---------------------------------------------------- */

/* s_parse_int - a whole decimal number, optional '-', nothing else */
static bool s_parse_int(const char *s, long long *ret)
{
	const char *p = s + (*s == '-');
	char *end;
	long long v;

	if (*p < '0' || *p > '9' || strspn(p, "0123456789") != strlen(p))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*ret = v;
	return true;
}

static int s_parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

static bool s_enum_has(const char *const *allowed, const char *s)
{
	for (; *allowed; allowed++)
		if (strcmp(*allowed, s) == 0)
			return true;
	return false;
}

static void s_enum_list(const char *const *allowed, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *allowed && n < size; allowed++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", *allowed);
}

static bool s_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* ---- per-key format checks ---------------------------------------------- */

static bool s_valid_port(const char *s)
{
	long long v;

	return *s != '-' && s_parse_int(s, &v) && v >= 1 && v <= 65535;
}

/* s_valid_relay - "", or smtp(s)://host[:port] with nothing after */
static bool s_valid_relay(const char *s)
{
	const char *host;

	if (!*s)
		return true;
	if (strncmp(s, "smtp://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "smtps://", 8) == 0)
		host = s + 8;
	else
		return false;
	return *host && strcspn(host, "/?#@ \t") == strlen(host);
}

/* s_valid_from - local@domain, printable ASCII, no blank, quote, bracket, comma or ';' */
static bool s_valid_from(const char *s)
{
	const char *at = strchr(s, '@');

	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"<>(),;:[]\\", *p))
			return false;
	return at && at > s && at[1] && !strchr(at + 1, '@');
}

/* s_valid_listen_or_off - "" or s_valid_listen */
static bool s_valid_listen_or_off(const char *s)
{
	return !*s || s_valid_listen(s);
}

/* s_valid_listen - host:port, host a name, IPv4 or [IPv6] */
static bool s_valid_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t hlen;

	if (!colon || colon == s || strpbrk(s, " \t/"))
		return false;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']' || memchr(s + 1, ']', hlen - 2))
			return false;
	} else if (memchr(s, ':', hlen) || memchr(s, ']', hlen)) {
		return false;
	}
	return s_valid_port(colon + 1);
}

/* s_valid_origin - scheme://host[:port] as ingressd's Origin check reads it, nothing after */
static bool s_valid_origin(const char *s)
{
	struct util_origin o;
	const char *end;

	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return false;
	end = util_origin_parse(s, &o);
	return end && *end == '\0';
}

/* s_valid_issuer - an otpauth:// label's issuer: 1..64 printable ASCII, no ':' (its separator) */
static bool s_valid_issuer(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == ':')
			return false;
	return true;
}

/* empty, or 40 characters of the Z85 alphabet (ZeroMQ RFC 32) */
static bool s_valid_z85_key(const char *s)
{
	static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

	return *s == '\0' || (strlen(s) == 40 && strspn(s, z85) == 40);
}

static bool s_valid_endpoint(const char *s)
{
	static const char *const prefixes[] = { "ipc://", "tcp://", "inproc://" };

	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(s, prefixes[i], n) == 0)
			return s[n] != '\0' && !strpbrk(s, " \t");
	}
	return false;
}

/* ---- setting one key ---------------------------------------------------- */

static int s_set_int(struct sembark_config *cfg, const struct cfg_key *k, const char *value,
		     char *msg, size_t msglen)
{
	char echo[ECHO_MAX + 4];
	long long v;

	if (!s_parse_int(value, &v) || v < k->min || v > k->max) {
		s_msg(msg, msglen, "[%s] %s = %s: must be an integer from %d to %d",
		      k->section, k->key, s_echo(value, echo), k->min, k->max);
		return -EINVAL;
	}
	*(int *)((char *)cfg + k->offset) = (int)v;
	return 0;
}

static int s_set_bool(struct sembark_config *cfg, const struct cfg_key *k, const char *value,
		      char *msg, size_t msglen)
{
	char echo[ECHO_MAX + 4];
	int b = s_parse_bool(value);

	if (b < 0) {
		s_msg(msg, msglen,
		      "[%s] %s = %s: must be a boolean (true, false, yes, no, on, off, 1, 0)",
		      k->section, k->key, s_echo(value, echo));
		return -EINVAL;
	}
	*(bool *)((char *)cfg + k->offset) = b;
	return 0;
}

static int s_set_str(struct sembark_config *cfg, const struct cfg_key *k, const char *value,
		     char *msg, size_t msglen)
{
	char *dst = (char *)cfg + k->offset;
	char echo[ECHO_MAX + 4], list[128];
	size_t len = strlen(value);

	if (len > CONFIG_STR_MAX - 1) {
		s_msg(msg, msglen, "[%s] %s: value is %zu bytes long, at most %d are allowed",
		      k->section, k->key, len, CONFIG_STR_MAX - 1);
		return -EINVAL;
	}
	if (s_has_control(value)) {
		s_msg(msg, msglen, "[%s] %s: value must not contain control characters",
		      k->section, k->key);
		return -EINVAL;
	}
	if (k->type == CFG_ENUM && !s_enum_has(k->allowed, value)) {
		s_enum_list(k->allowed, list, sizeof(list));
		s_msg(msg, msglen, "[%s] %s = %s: must be one of: %s",
		      k->section, k->key, s_echo(value, echo), list);
		return -EINVAL;
	}
	if (k->valid && !k->valid(value)) {
		s_msg(msg, msglen, "[%s] %s = %s: %s",
		      k->section, k->key, s_echo(value, echo), k->valid_what);
		return -EINVAL;
	}
	memset(dst, 0, CONFIG_STR_MAX);
	memcpy(dst, value, len);
	return 0;
}

static int s_set_key(struct sembark_config *cfg, const struct cfg_key *k, const char *value,
		     char *msg, size_t msglen)
{
	switch (k->type) {
	case CFG_INT:
		return s_set_int(cfg, k, value, msg, msglen);
	case CFG_BOOL:
		return s_set_bool(cfg, k, value, msg, msglen);
	case CFG_STR:
	case CFG_ENUM:
		return s_set_str(cfg, k, value, msg, msglen);
	}
	abort();
}

/* s_unknown_section - "unknown section [x]", with the nearest one if close */
static void s_unknown_section(const char *section, char *msg, size_t msglen)
{
	char echo[ECHO_MAX + 4];
	const char *near = s_nearest_section(section);

	s_msg(msg, msglen, "unknown section [%s]%s%s%s", s_echo(section, echo),
	      near ? " (did you mean [" : "", near ? near : "", near ? "]?)" : "");
}

/* s_set - look the key up and set it; seen (may be NULL) catches duplicates */
static int s_set(struct sembark_config *cfg, const char *section, const char *key,
		 const char *value, bool *seen, char *msg, size_t msglen)
{
	char echo[ECHO_MAX + 4];
	const struct cfg_key *k;

	if (!s_known_section(section, strlen(section))) {
		s_unknown_section(section, msg, msglen);
		return -EINVAL;
	}
	k = s_find(section, key);
	if (!k) {
		const struct cfg_key *near = s_nearest_key(section, key);

		s_msg(msg, msglen, "unknown key [%s] %s%s%s%s", section, s_echo(key, echo),
		      near ? " (did you mean " : "", near ? near->key : "", near ? "?)" : "");
		return -EINVAL;
	}
	if (seen && seen[k - s_schema]) {
		s_msg(msg, msglen, "[%s] %s: given twice", section, key);
		return -EINVAL;
	}
	if (seen)
		seen[k - s_schema] = true;
	return s_set_key(cfg, k, value, msg, msglen);
}

/* config_set - set one key from text, as the file would; for tests */
int config_set(struct sembark_config *cfg, const char *section, const char *key,
	       const char *value, char *err, size_t errlen)
{
	if (!cfg || !section || !key || !value) {
		s_msg(err, errlen, "config_set: missing argument");
		return -EINVAL;
	}
	return s_set(cfg, section, key, value, NULL, err, errlen);
}

/* config_defaults - fill *cfg with the built-in defaults only */
void config_defaults(struct sembark_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &s_schema[i];
		char *p = (char *)cfg + k->offset;

		if (k->type == CFG_INT)
			*(int *)p = k->def;
		else if (k->type == CFG_BOOL)
			*(bool *)p = k->def;
		else
			memcpy(p, k->def_str, strlen(k->def_str));
	}
}

/* config_default_path - $SEMBARK_CONFIG, else CONFIG_DEFAULT_PATH */
const char *config_default_path(void)
{
	const char *e = getenv("SEMBARK_CONFIG");

	return e && *e ? e : CONFIG_DEFAULT_PATH;
}

/* ---- the file ----------------------------------------------------------- */

_printf_(2, 3)
static void s_file_error(struct parse_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->err_line)
		return;
	st->err_line = st->lineno ? st->lineno : 1;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
}

/* s_check_section_line - refuse an unknown [section], even an empty one */
static void s_check_section_line(struct parse_state *st, const char *p)
{
	const char *end = strchr(p + 1, ']');
	char name[ECHO_MAX + 1], msg[MSG_MAX];

	if (!end || s_known_section(p + 1, (size_t)(end - p - 1)))
		return; /* a missing ']' is inih's syntax error */
	snprintf(name, sizeof(name), "%.*s", (int)MIN(end - p - 1, ECHO_MAX), p + 1);
	s_unknown_section(name, msg, sizeof(msg));
	s_file_error(st, "%s", msg);
}

/*
 * s_read_line - inih's fgets: one whole line per call, leading blanks
 * dropped (so no continuation lines), refusing NUL bytes and lines that
 * do not fit; returns NULL (end of input) after the first error.
 */
static char *s_read_line(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	ssize_t n;
	char *p;
	size_t len;

	if (st->err_line)
		return NULL;
	errno = 0;
	n = getline(&st->line, &st->line_size, st->f);
	if (n < 0) {
		if (ferror(st->f))
			st->read_errno = errno > 0 ? errno : EIO;
		return NULL;
	}
	st->lineno++;
	if ((size_t)n != strlen(st->line)) {
		s_file_error(st, "NUL byte in line");
		return NULL;
	}
	for (p = st->line; s_is_blank(*p); p++)
		;
	len = strlen(p);
	if (num < 2 || len + 2 > (size_t)num) {
		s_file_error(st, "line too long (at most %d bytes)", num - 2);
		return NULL;
	}
	if (*p == '[')
		s_check_section_line(st, p);
	memcpy(str, p, len + 1);
	return st->err_line ? NULL : str;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	char msg[MSG_MAX];

	if (st->err_line)
		return 0;
	if (*section == '\0') {
		s_file_error(st, "key %s is outside any [section]", name);
		return 0;
	}
	if (s_set(st->cfg, section, name, value, st->seen, msg, sizeof(msg)) < 0) {
		s_file_error(st, "%s", msg);
		return 0;
	}
	return 1;
}

static int s_parse_file(struct parse_state *st, char *err, size_t errlen)
{
	int line;

	/* Debian's libinih reads lines into a buffer of ini_max_line bytes. */
	ini_max_line = CONFIG_LINE_MAX;
	line = ini_parse_stream(s_read_line, st, s_handler, st);
	free(st->line);
	st->line = NULL;
	if (st->read_errno) {
		s_msg(err, errlen, "%s: %s", st->path, strerror(st->read_errno));
		return -st->read_errno;
	}
	if (line > 0 && (unsigned)line != st->err_line) {
		s_msg(err, errlen, "%s:%d: expected [section] or key = value", st->path, line);
		return -EINVAL;
	}
	if (st->err_line) {
		s_msg(err, errlen, "%s:%u: %s", st->path, st->err_line, st->msg);
		return -EINVAL;
	}
	return line < 0 ? -ENOMEM : 0;
}

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* s_load_file - read path into cfg; a missing file is fine if !must_exist */
static int s_load_file(struct sembark_config *cfg, const char *path, bool must_exist,
		       char *err, size_t errlen)
{
	_cleanup_free_ struct parse_state *st = NULL;
	_cleanup_(fclosep) FILE *f = NULL;

	if (strlen(path) >= sizeof(cfg->path)) {
		s_msg(err, errlen, "config file name too long");
		return -ENAMETOOLONG;
	}
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		s_msg(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	*st = (struct parse_state){ .cfg = cfg, .f = f, .path = path };
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	return s_parse_file(st, err, errlen);
}

/* ---- the environment ---------------------------------------------------- */

static void s_env_name(const struct cfg_key *k, char buf[static ENV_NAME_MAX])
{
	char *p;

	snprintf(buf, ENV_NAME_MAX, ENV_PREFIX "%s_%s", k->section, k->key);
	for (p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

static const struct cfg_key *s_find_env(const char *name, size_t len)
{
	char buf[ENV_NAME_MAX];

	for (size_t i = 0; i < N_KEYS; i++) {
		s_env_name(&s_schema[i], buf);
		if (strlen(buf) == len && memcmp(buf, name, len) == 0)
			return &s_schema[i];
	}
	return NULL;
}

/* Variables of the tools around the daemons, not config keys: passed silently. */
static const char *const tool_variables[] = {
	"SEMBARK_CONFIG",         /* the config file's path */
	"SEMBARK_VAR",            /* scripts/pg.sh, scripts/run.sh: the var/ dir */
	"SEMBARK_MIGRATIONS_DIR", /* sembarkctl migrate */
	"SEMBARK_BUILD",          /* the test suite: which build/ to run */
	"SEMBARK_ASAN",           /* the test suite: a sanitizer build */
	"SEMBARK_VALGRIND",       /* the test suite: run every program under valgrind */
	"SEMBARK_IT_TIMEOUT",     /* the test suite: seconds per integration test */
	"SEMBARK_TEST_DEB",       /* the test suite: build and install the .deb (test_deb.py) */
	"SEMBARK_IT_KEEP",        /* the test suite: keep its temporary directory */
	"SEMBARK_SCREENSHOTS",    /* the browser suite: where screenshots go */
};

/* s_is_tool_variable - is name (len bytes) one of tool_variables? */
static bool s_is_tool_variable(const char *name, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(tool_variables); i++)
		if (strlen(tool_variables[i]) == len && memcmp(name, tool_variables[i], len) == 0)
			return true;
	return false;
}

/*
 * s_env_section - the section a variable's name (len bytes, after
 * SEMBARK_) starts with, case-blind, followed by '_' or its end; NULL when
 * it names none. *ret_key: what follows the section and its '_'.
 */
static const char *s_env_section(const char *name, size_t len, const char **ret_key)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *sec = s_schema[i].section;
		size_t n = strlen(sec);

		if (len >= n && strncasecmp(name, sec, n) == 0 && (len == n || name[n] == '_')) {
			*ret_key = name + MIN(n + 1, len);
			return sec;
		}
	}
	return NULL;
}

/* s_env_unknown_key - the error for a variable (len bytes) in section that is no key */
static void s_env_unknown_key(const char *var, size_t len, const char *section,
			      const char *key, char *err, size_t errlen)
{
	char name[ECHO_MAX + 2], echo[ECHO_MAX + 4], keytext[ECHO_MAX + 1], want[ENV_NAME_MAX];
	const struct cfg_key *near;

	/* one byte more than s_echo keeps, so that it marks a cut name */
	snprintf(name, sizeof(name), "%.*s", (int)MIN(len, (size_t)ECHO_MAX + 1), var);
	snprintf(keytext, sizeof(keytext), "%.*s", (int)MIN((size_t)(var + len - key),
							    (size_t)ECHO_MAX), key);
	near = s_nearest_key(section, keytext);
	if (!near) {
		s_msg(err, errlen, "unknown setting %s: [%s] has no such key",
		      s_echo(name, echo), section);
		return;
	}
	s_env_name(near, want);
	s_msg(err, errlen, "unknown setting %s: did you mean %s?", s_echo(name, echo), want);
}

/* s_nearest_env - the variable of the key nearest to name, "" when none is near */
static void s_nearest_env(const char *name, char ret[static CONFIG_ENV_NAME_MAX])
{
	char buf[ENV_NAME_MAX];
	size_t best_d = SIZE_MAX;

	ret[0] = '\0';
	for (size_t i = 0; i < N_KEYS; i++) {
		size_t d;

		s_env_name(&s_schema[i], buf);
		d = s_distance(name, buf);
		if (d < best_d && s_near(d, strlen(name))) {
			snprintf(ret, CONFIG_ENV_NAME_MAX, "%s", buf);
			best_d = d;
		}
	}
}

/* s_env_ignore - note a variable (len bytes) that names no section */
static void s_env_ignore(struct sembark_config *cfg, const char *var, size_t len)
{
	struct config_ignored_var *v = &cfg->env_ignored[MIN(cfg->env_ignored_count,
							      CONFIG_ENV_IGNORED_MAX - 1)];
	char name[ECHO_MAX + 2];

	if (cfg->env_ignored_count++ >= CONFIG_ENV_IGNORED_MAX)
		return;
	/* one byte more than s_echo keeps, so that it marks a cut name */
	snprintf(name, sizeof(name), "%.*s", (int)MIN(len, (size_t)ECHO_MAX + 1), var);
	s_echo(name, v->name);
	s_nearest_env(v->name, v->nearest);
}

/* s_apply_env_var - one SEMBARK_* variable, its name len bytes, value after '=' */
static int s_apply_env_var(struct sembark_config *cfg, const char *var, size_t len,
			   char *err, size_t errlen)
{
	const struct cfg_key *k = s_find_env(var, len);
	const char *section, *key;
	char msg[MSG_MAX];

	if (k) {
		if (s_set_key(cfg, k, var + len + 1, msg, sizeof(msg)) < 0) {
			s_msg(err, errlen, "environment %.*s: %s", (int)MIN(len, (size_t)ENV_NAME_MAX),
			      var, msg);
			return -EINVAL;
		}
		return 0;
	}
	if (s_is_tool_variable(var, len))
		return 0;
	section = s_env_section(var + strlen(ENV_PREFIX), len - strlen(ENV_PREFIX), &key);
	if (section) {
		s_env_unknown_key(var, len, section, key, err, errlen);
		return -EINVAL;
	}
	s_env_ignore(cfg, var, len);
	return 0;
}

/* s_apply_env - apply each SEMBARK_* variable that is a key (see the top) */
static int s_apply_env(struct sembark_config *cfg, char *err, size_t errlen)
{
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		int r;

		if (strncmp(*e, ENV_PREFIX, strlen(ENV_PREFIX)) != 0 || !eq)
			continue;
		r = s_apply_env_var(cfg, *e, (size_t)(eq - *e), err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* config_env_ignored - the i-th ignored variable, NULL past the last kept */
const struct config_ignored_var *config_env_ignored(const struct sembark_config *cfg, unsigned i)
{
	return i < MIN(cfg->env_ignored_count, (unsigned)CONFIG_ENV_IGNORED_MAX) ?
		       &cfg->env_ignored[i] : NULL;
}

/* config_load - defaults, then the file, then SEMBARK_* environment */
int config_load(struct sembark_config *cfg, const char *path, char *err, size_t errlen)
{
	_cleanup_free_ struct sembark_config *c = NULL;
	const char *env = getenv("SEMBARK_CONFIG");
	bool must_exist = path || (env && *env); /* only /etc/... may be missing */
	int r;

	s_msg(err, errlen, "%s", "");
	c = malloc(sizeof(*c));
	if (!c) {
		s_msg(err, errlen, "out of memory");
		return -ENOMEM;
	}
	config_defaults(c);
	r = s_load_file(c, path ? path : config_default_path(), must_exist, err, errlen);
	if (r == 0)
		r = s_apply_env(c, err, errlen);
	if (r < 0) {
		s_printable(err, errlen); /* names from the file or the environment, as they came */
		return r;
	}
	memcpy(cfg, c, sizeof(*c));
	return 0;
}

/* ---- dump --------------------------------------------------------------- */

static void s_dump_key(const struct sembark_config *cfg, const struct cfg_key *k, FILE *f)
{
	const char *p = (const char *)cfg + k->offset;

	switch (k->type) {
	case CFG_INT:
		fprintf(f, "%s = %d\n", k->key, *(const int *)p);
		break;
	case CFG_BOOL:
		fprintf(f, "%s = %s\n", k->key, *(const bool *)p ? "true" : "false");
		break;
	case CFG_STR:
	case CFG_ENUM:
		fprintf(f, "%s = %.*s\n", k->key, CONFIG_STR_MAX - 1, p);
		break;
	}
}

/* config_dump - write every key = value as an INI file (for --check-config -v) */
void config_dump(const struct sembark_config *cfg, FILE *f)
{
	const char *section = NULL;

	fprintf(f, "# sembark configuration in effect (file: %s)\n",
		cfg->path[0] ? cfg->path : "none");
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct cfg_key *k = &s_schema[i];

		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(f, "\n[%s]\n", section);
		}
		s_dump_key(cfg, k, f);
	}
}
