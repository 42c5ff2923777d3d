/*
 * test-config.c - unit tests of shared/config.c: the defaults written in
 * config.h, file parsing, one error per kind naming the key (with the
 * file's line), range bounds of every integer key, boolean and enum
 * spellings, per-key format checks, the nearest valid section or key
 * named for a misspelt one, SEMBARK_* environment overrides, the refusal
 * of unknown keys in a known section (SEMBARK_AUTH_...) and variables that
 * name no section passed and listed for a warning. Files are real temporary
 * files (mkstemp in a mkdtemp directory under $TMPDIR).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"

#define ERR_MAX 512

#define assert_contains(hay, needle)                                                \
	do {                                                                        \
		if (!strstr((hay), (needle)))                                       \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
	} while (0)

static char s_dir[PATH_MAX];

/* ---- helpers ------------------------------------------------------------ */

static void s_clear_sembark_env(void)
{
	bool again = true;

	while (again) {
		again = false;
		for (char **e = environ; *e; e++) {
			char name[256];
			const char *eq = strchr(*e, '=');

			if (strncmp(*e, "SEMBARK_", 8) != 0 || !eq)
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
			unsetenv(name);
			again = true;
			break;
		}
	}
}

/* s_write_conf - a new temporary config file holding text; returns its path */
static char *s_write_conf(const char *text, size_t len)
{
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s/sembark.conf.XXXXXX", s_dir) > 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static int s_load_text(const char *text, struct sembark_config *cfg, char *err,
		       char **ret_path)
{
	char *path = s_write_conf(text, strlen(text));
	int r = config_load(cfg, path, err, ERR_MAX);

	if (ret_path)
		*ret_path = path;
	else {
		unlink(path);
		free(path);
	}
	return r;
}

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(s_dir, sizeof(s_dir), "%s/test-config.XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	if (!mkdtemp(s_dir))
		return -1;
	s_clear_sembark_env();
	return 0;
}

static int group_teardown(void **state)
{
	return rmdir(s_dir);
}

static int test_teardown(void **state)
{
	s_clear_sembark_env();
	return 0;
}

/* ---- the schema as config.h documents it ------------------------------- */

enum kind { T_INT, T_BOOL, T_STR };

struct key_case {
	const char *section, *key;
	enum kind kind;
	size_t off;
	int min, max, def;
	const char *def_s;
};

#define OFF(sec, k) offsetof(struct sembark_config, sec.k)
#define I(sec, k, lo, hi, d) { #sec, #k, T_INT, OFF(sec, k), lo, hi, d, NULL }
#define B(sec, k, d) { #sec, #k, T_BOOL, OFF(sec, k), 0, 1, d, NULL }
#define S(sec, k, d) { #sec, #k, T_STR, OFF(sec, k), 0, 0, 0, d }

static const struct key_case s_keys[] = {
	S(ingress, listen, "127.0.0.1:8080"),
	S(ingress, public_origin, "http://127.0.0.1:8080"),
	S(ingress, security_contact, "mailto:security@example.com"),
	I(ingress, security_txt_days, 1, 365, 180),
	I(ingress, max_body, 1024, 16777216, 65536),
	I(ingress, max_telemetry_body, 1024, 67108864, 1048576),
	I(ingress, max_header_bytes, 1024, 65536, 16384),
	I(ingress, max_headers, 8, 256, 64),
	I(ingress, max_connections, 16, 1000000, 4096),
	I(ingress, max_connections_per_address, 0, 1000000, 256),
	I(ingress, idle_timeout, 1, 3600, 60),
	I(ingress, request_timeout, 1, 600, 10),
	I(ingress, rpc_timeout_ms, 50, 60000, 3000),
	I(ingress, health_timeout_ms, 50, 10000, 1000),
	I(ingress, client_rate_limit, 0, 1000000, 120),
	B(ingress, reuse_port, true),
	S(ingress, csrf_key_file, ""),
	S(ingress, tls_cert_file, ""),
	S(ingress, tls_key_file, ""),
	S(ingress, static_dir, ""),
	S(ingress, user, ""),
	S(ingress, metrics_listen, "127.0.0.1:9464"),
	I(auth, session_lifetime, 1, 31536000, 86400),
	I(auth, session_idle_timeout, 0, 31536000, 0),
	I(auth, bcrypt_cost, 4, 31, 12),
	S(auth, password_hash, "bcrypt"),
	I(auth, hash_threads, 1, 64, 2),
	S(auth, totp_key_file, ""),
	S(auth, totp_issuer, "sembark"),
	B(auth, require_verified_email, false),
	I(auth, session_cache_max, 0, 10000000, 100000),
	I(auth, session_cache_ttl, 1, 3600, 60),
	S(auth, user, ""),
	I(telemetry, retention_days, 1, 3650, 30),
	I(telemetry, batch_max_events, 1, 100000, 5000),
	I(telemetry, batch_delay_ms, 0, 1000, 5),
	S(telemetry, user, ""),
	I(logs, retention_days, 1, 3650, 30),
	S(logs, level, "info"),
	I(logs, buffer_records, 100, 1000000, 10000),
	I(logs, flush_ms, 10, 10000, 200),
	S(logs, user, ""),
	S(database, host, "/run/postgresql"),
	I(database, port, 1, 65535, 5432),
	S(database, name, "sembark"),
	S(database, sslmode, "prefer"),
	S(database, sslrootcert, ""),
	I(database, connect_timeout, 1, 300, 5),
	I(database, statement_timeout_ms, 100, 600000, 5000),
	S(database, owner_user, "sembark_owner"),
	S(database, owner_password_file, ""),
	S(database, authd_password_file, ""),
	S(database, telemetryd_password_file, ""),
	S(database, logd_password_file, ""),
	S(database, maild_password_file, ""),
	S(mail, relay, ""),
	S(mail, from, "sembark@localhost"),
	B(mail, require_tls, true),
	S(mail, ca_file, ""),
	S(mail, username, ""),
	S(mail, password_file, ""),
	I(mail, max_attempts, 1, 100, 8),
	S(mail, user, ""),
	S(ipc, authd, "ipc:///run/sembark/authd/authd.sock"),
	S(ipc, telemetryd, "ipc:///run/sembark/telemetryd/telemetryd.sock"),
	S(ipc, logd, "ipc:///run/sembark/logd/logd.sock"),
	S(ipc, log_sink, "ipc:///run/sembark/logd/log.sock"),
	I(ipc, max_msg_bytes, 4096, 67108864, 2097152),
	I(ipc, hwm, 10, 1000000, 10000),
	S(ipc, curve_server_public_key, ""),
	S(ipc, curve_server_secret_file, ""),
	S(ipc, curve_client_public_key, ""),
	S(ipc, curve_client_secret_file, ""),
	S(ipc, curve_allowed_clients_file, ""),
};

static int s_int(const struct sembark_config *cfg, const struct key_case *k)
{
	return *(const int *)((const char *)cfg + k->off);
}

static const char *s_str(const struct sembark_config *cfg, const struct key_case *k)
{
	return (const char *)cfg + k->off;
}

static bool s_bool(const struct sembark_config *cfg, const struct key_case *k)
{
	return *(const bool *)((const char *)cfg + k->off);
}

static const struct key_case *s_key(const char *section, const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(s_keys); i++)
		if (!strcmp(s_keys[i].section, section) && !strcmp(s_keys[i].key, key))
			return &s_keys[i];
	fail_msg("no key [%s] %s in the test table", section, key);
	return NULL;
}

static void s_assert_default(const struct sembark_config *cfg, const struct key_case *k)
{
	switch (k->kind) {
	case T_INT:
		if (s_int(cfg, k) != k->def)
			fail_msg("[%s] %s = %d, want %d", k->section, k->key, s_int(cfg, k), k->def);
		break;
	case T_BOOL:
		assert_int_equal(s_bool(cfg, k), k->def);
		break;
	case T_STR:
		if (strcmp(s_str(cfg, k), k->def_s) != 0)
			fail_msg("[%s] %s = \"%s\", want \"%s\"", k->section, k->key, s_str(cfg, k),
				 k->def_s);
		break;
	}
}

/* ---- tests -------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	config_defaults(cfg);
	for (size_t i = 0; i < ELEMENTSOF(s_keys); i++)
		s_assert_default(cfg, &s_keys[i]);
	assert_string_equal(cfg->path, "");
	free(cfg);
}

/* Every key the dump writes is in the table above, and the other way round. */
static void test_dump_lists_every_key(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char *text = NULL, line[512], section[64] = "";
	size_t size = 0, n = 0;
	FILE *f = open_memstream(&text, &size);

	config_defaults(cfg);
	config_dump(cfg, f);
	fclose(f);
	f = fmemopen(text, size, "r");
	while (fgets(line, sizeof(line), f)) {
		char key[64];

		if (sscanf(line, "[%63[^]]]", section) == 1)
			continue;
		if (sscanf(line, "%63s =", key) == 1 && key[0] != '#') {
			s_key(section, key);
			n++;
		}
	}
	fclose(f);
	assert_int_equal(n, ELEMENTSOF(s_keys));
	free(text);
	free(cfg);
}

/* Dump -> file -> load gives back the same configuration. */
static void test_dump_round_trip(void **state)
{
	struct sembark_config *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	char err[ERR_MAX], *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	char *path;

	config_defaults(a);
	assert_int_equal(config_set(a, "auth", "bcrypt_cost", "10", err, sizeof(err)), 0);
	assert_int_equal(config_set(a, "ingress", "reuse_port", "no", err, sizeof(err)), 0);
	assert_int_equal(config_set(a, "ingress", "static_dir", "web", err, sizeof(err)), 0);
	config_dump(a, f);
	fclose(f);
	path = s_write_conf(text, size);
	assert_int_equal(config_load(b, path, err, sizeof(err)), 0);
	assert_string_equal(b->path, path);
	memset(b->path, 0, sizeof(b->path));
	assert_memory_equal(a, b, sizeof(*a));
	unlink(path);
	free(path);
	free(text);
	free(a);
	free(b);
}

static void test_file_parsing(void **state)
{
	static const char text[] =
		"\xef\xbb\xbf# sembark test configuration\n"
		"; another comment\n"
		"\n"
		"[ingress]\n"
		"listen = 0.0.0.0:9090\n"
		"  public_origin=https://example.com   ; inline comment\n"
		"reuse_port = off\n"
		"static_dir = web\n"
		"[auth]\n"
		"\tbcrypt_cost = 13\n"
		"password_hash = argon2id\n"
		"session_idle_timeout = 0\n"
		"[logs]\n"
		"level = debug\n"
		"[database]\n"
		"owner_password_file =\n"
		"[ipc]\n"
		"authd = tcp://10.0.0.1:7000\n"
		"telemetryd = inproc://telemetryd\n";
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char err[ERR_MAX], *path;

	assert_int_equal(s_load_text(text, cfg, err, &path), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->ingress.listen, "0.0.0.0:9090");
	assert_string_equal(cfg->ingress.public_origin, "https://example.com");
	assert_false(cfg->ingress.reuse_port);
	assert_string_equal(cfg->ingress.static_dir, "web");
	assert_int_equal(cfg->auth.bcrypt_cost, 13);
	assert_string_equal(cfg->auth.password_hash, "argon2id");
	assert_string_equal(cfg->logs.level, "debug");
	assert_string_equal(cfg->database.owner_password_file, "");
	assert_string_equal(cfg->ipc.authd, "tcp://10.0.0.1:7000");
	assert_string_equal(cfg->ipc.telemetryd, "inproc://telemetryd");
	/* untouched keys keep their defaults */
	s_assert_default(cfg, s_key("ingress", "max_body"));
	s_assert_default(cfg, s_key("ipc", "logd"));
	unlink(path);
	free(path);
	free(cfg);
}

struct file_error_case {
	const char *text;
	int line;
	const char *want[3]; /* substrings of the message */
};

static const struct file_error_case s_file_errors[] = {
	{ "[nope]\nkey = 1\n", 1, { "unknown section [nope]" } },
	{ "[auth]\nbcrypt_cost = 12\n[empty]\n", 3, { "unknown section [empty]" } },
	{ "[auth]\n\nfoo = 1\n", 3, { "unknown key [auth] foo" } },
	{ "[auth]\nbcrypt_cost = 99\n", 2,
	  { "[auth] bcrypt_cost = 99: must be an integer from 4 to 31" } },
	{ "[auth]\nbcrypt_cost = 12x\n", 2, { "[auth] bcrypt_cost = 12x", "integer" } },
	{ "[auth]\nbcrypt_cost = \n", 2, { "[auth] bcrypt_cost", "integer from 4 to 31" } },
	{ "[ingress]\nreuse_port = maybe\n", 2, { "[ingress] reuse_port = maybe", "boolean" } },
	{ "[auth]\npassword_hash = md5\n", 2,
	  { "[auth] password_hash = md5: must be one of: bcrypt, argon2id" } },
	{ "[logs]\nlevel = trace\n", 2, { "[logs] level", "debug, info, warning, error" } },
	{ "[database]\nsslmode = on\n", 2,
	  { "[database] sslmode", "disable, allow, prefer, require, verify-ca, verify-full" } },
	{ "[auth]\nbcrypt_cost = 10\nbcrypt_cost = 11\n", 3, { "[auth] bcrypt_cost", "twice" } },
	{ "bcrypt_cost = 10\n", 1, { "bcrypt_cost", "outside any [section]" } },
	{ "[auth]\nbcrypt_cost\n", 2, { "expected [section] or key = value" } },
	{ "[auth\nbcrypt_cost = 10\n", 1, { "expected [section] or key = value" } },
	{ "[ingress]\nlisten = 8080\n", 2, { "[ingress] listen = 8080", "host:port" } },
	{ "[ingress]\nlisten = 127.0.0.1:0\n", 2, { "[ingress] listen", "1 to 65535" } },
	{ "[ingress]\npublic_origin = https://example.com/\n", 2,
	  { "[ingress] public_origin", "trailing slash" } },
	{ "[ipc]\nlogd = udp://x\n", 2, { "[ipc] logd", "ipc://, tcp:// or inproc://" } },
	{ "[auth]\ntotp_issuer = Acme:Corp\n", 2, { "[auth] totp_issuer", "without ':'" } },
	{ "[mail]\nrelay = http://x\n", 2, { "[mail] relay", "smtp://host[:port]" } },
	{ "[mail]\nrelay = smtp://a/b\n", 2, { "[mail] relay", "smtps://" } },
	{ "[mail]\nfrom = Sembark <a@b>\n", 2, { "[mail] from", "one address" } },
	{ "[mail]\nfrom = nobody\n", 2, { "[mail] from", "local@domain" } },
	{ "[ingress]\nmetrics_listen = 9464\n", 2, { "[ingress] metrics_listen", "or empty (off)" } },
	{ "[auth]\ntotp_issuer =\n", 2, { "[auth] totp_issuer", "1 to 64 printable" } },
	/* the first error wins even when a later line is also wrong */
	{ "[auth]\nbcrypt_cost\nfoo = 1\n", 2, { "expected [section] or key = value" } },
	{ "[auth]\nfoo = 1\nbcrypt_cost\n", 2, { "unknown key [auth] foo" } },
	/* the nearest valid name, when one is close */
	{ "[auht]\n", 1, { "unknown section [auht] (did you mean [auth]?)" } },
	{ "[Logs]\n", 1, { "unknown section [Logs] (did you mean [logs]?)" } },
	{ "[auth]\nsesion_lifetime = 60\n", 2,
	  { "unknown key [auth] sesion_lifetime (did you mean session_lifetime?)" } },
	{ "[ingress]\nmax_conections = 100\n", 2,
	  { "unknown key [ingress] max_conections (did you mean max_connections?)" } },
	{ "[ipc]\nlogsink = ipc:///x\n", 2, { "unknown key [ipc] logsink (did you mean log_sink?)" } },
	/* a file's control characters never reach the message (a terminal would obey them) */
	{ "k\x1b[2J = 1\n", 1, { "key k?[2J is outside any [section]" } },
	{ "[x\x1b[2J]\n", 1, { "unknown section [x?[2J]" } },
};

/* no suggestion when nothing is close */
static void test_file_errors_no_guess(void **state)
{
	static const char *const texts[] = {
		"[nope]\n", "[empty]\n", "[auth]\nfoo = 1\n", "[ipc]\nhost = x\n",
		"[database]\nsession_lifetime = 1\n",
	};
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		char err[ERR_MAX];

		assert_int_equal(s_load_text(texts[i], cfg, err, NULL), -EINVAL);
		assert_contains(err, "unknown");
		if (strstr(err, "did you mean"))
			fail_msg("%s: a guess too far: %s", texts[i], err);
	}
	free(cfg);
}

static void test_file_errors(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	for (size_t i = 0; i < ELEMENTSOF(s_file_errors); i++) {
		const struct file_error_case *c = &s_file_errors[i];
		char err[ERR_MAX], *path, prefix[PATH_MAX + 32];

		memset(cfg, 0x5a, sizeof(*cfg));
		assert_int_equal(s_load_text(c->text, cfg, err, &path), -EINVAL);
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, c->line);
		assert_contains(err, prefix);
		for (size_t j = 0; j < ELEMENTSOF(c->want) && c->want[j]; j++)
			assert_contains(err, c->want[j]);
		assert_int_equal(((unsigned char *)cfg)[0], 0x5a); /* untouched on error */
		unlink(path);
		free(path);
	}
	free(cfg);
}

static void test_long_lines(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char text[2048], err[ERR_MAX], *path;
	char val[CONFIG_STR_MAX + 1];

	memset(val, 'd', sizeof(val));
	val[CONFIG_STR_MAX - 1] = '\0'; /* 255 bytes: the longest allowed */
	snprintf(text, sizeof(text), "[ingress]\nstatic_dir = %s\n", val);
	assert_int_equal(s_load_text(text, cfg, err, NULL), 0);
	assert_int_equal(strlen(cfg->ingress.static_dir), CONFIG_STR_MAX - 1);

	val[CONFIG_STR_MAX - 1] = 'd';
	val[CONFIG_STR_MAX] = '\0'; /* 256 bytes */
	snprintf(text, sizeof(text), "[ingress]\nstatic_dir = %s\n", val);
	assert_int_equal(s_load_text(text, cfg, err, &path), -EINVAL);
	assert_contains(err, ":2: [ingress] static_dir: value is 256 bytes long, at most 255");
	unlink(path);
	free(path);

	memset(text, ' ', sizeof(text));
	memcpy(text, "[auth]\n#", 8);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(s_load_text(text, cfg, err, NULL), -EINVAL);
	assert_contains(err, ":2: line too long");
	free(cfg);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[auth]\nbcrypt_cost = 1\0002\n";
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char err[ERR_MAX], *path = s_write_conf(text, sizeof(text) - 1);

	assert_int_equal(config_load(cfg, path, err, sizeof(err)), -EINVAL);
	assert_contains(err, ":2: NUL byte");
	unlink(path);
	free(path);
	free(cfg);
}

struct set_case {
	const char *section, *key, *value;
	const char *want; /* NULL: must succeed; else a substring of the error */
};

static const struct set_case s_set_cases[] = {
	{ "auth", "bcrypt_cost", "99", "[auth] bcrypt_cost = 99: must be an integer from 4 to 31" },
	{ "auth", "bcrypt_cost", "+5", "[auth] bcrypt_cost = +5: must be an integer" },
	{ "auth", "bcrypt_cost", " 5", "must be an integer" },
	{ "auth", "bcrypt_cost", "0x10", "must be an integer" },
	{ "auth", "bcrypt_cost", "99999999999999999999999", "must be an integer from 4 to 31" },
	{ "auth", "bcrypt_cost", "-", "must be an integer" },
	{ "auth", "bcrypt_cost", "10", NULL },
	{ "auth", "password_hash", "argon2id", NULL },
	{ "auth", "password_hash", "Argon2id", "must be one of: bcrypt, argon2id" },
	{ "auth", "password_hash", "", "must be one of: bcrypt, argon2id" },
	{ "auth", "nope", "1", "unknown key [auth] nope" },
	{ "auth", "bcrypt_cots", "1", "unknown key [auth] bcrypt_cots (did you mean bcrypt_cost?)" },
	{ "nope", "bcrypt_cost", "1", "unknown section [nope]" },
	{ "ingress", "static_dir", "a\nb", "[ingress] static_dir: value must not contain control" },
	{ "ingress", "security_contact", "https://example.com/security", NULL },
};

static void test_set(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	config_defaults(cfg);
	for (size_t i = 0; i < ELEMENTSOF(s_set_cases); i++) {
		const struct set_case *c = &s_set_cases[i];
		char err[ERR_MAX] = "";
		int r = config_set(cfg, c->section, c->key, c->value, err, sizeof(err));

		if (!c->want) {
			if (r != 0)
				fail_msg("[%s] %s = %s: %s", c->section, c->key, c->value, err);
			continue;
		}
		assert_int_equal(r, -EINVAL);
		assert_contains(err, c->want);
	}
	free(cfg);
}

/* min-1, min, max, max+1 of every integer key */
static void test_int_bounds(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	config_defaults(cfg);
	for (size_t i = 0; i < ELEMENTSOF(s_keys); i++) {
		const struct key_case *k = &s_keys[i];
		const long long probe[4] = { (long long)k->min - 1, k->min, k->max,
					     (long long)k->max + 1 };

		if (k->kind != T_INT)
			continue;
		for (int j = 0; j < 4; j++) {
			char v[32], err[ERR_MAX], want[128];
			int r;

			snprintf(v, sizeof(v), "%lld", probe[j]);
			r = config_set(cfg, k->section, k->key, v, err, sizeof(err));
			if (j == 1 || j == 2) {
				assert_int_equal(r, 0);
				assert_int_equal(s_int(cfg, k), (int)probe[j]);
				continue;
			}
			assert_int_equal(r, -EINVAL);
			snprintf(want, sizeof(want), "[%s] %s = %s: must be an integer from %d to %d",
				 k->section, k->key, v, k->min, k->max);
			assert_string_equal(err, want);
		}
	}
	free(cfg);
}

static void test_bool_spellings(void **state)
{
	static const struct {
		const char *s;
		int want; /* -1: refused */
	} cases[] = {
		{ "true", 1 }, { "yes", 1 }, { "on", 1 }, { "1", 1 }, { "TRUE", 1 }, { "Yes", 1 },
		{ "false", 0 }, { "no", 0 }, { "off", 0 }, { "0", 0 }, { "Off", 0 },
		{ "", -1 }, { "2", -1 }, { "y", -1 }, { "enable", -1 }, { "true ", -1 },
	};
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	config_defaults(cfg);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char err[ERR_MAX];
		int r;

		cfg->ingress.reuse_port = !cases[i].want;
		r = config_set(cfg, "ingress", "reuse_port", cases[i].s, err, sizeof(err));
		if (cases[i].want < 0) {
			assert_int_equal(r, -EINVAL);
			assert_contains(err, "[ingress] reuse_port");
			assert_contains(err, "must be a boolean");
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(cfg->ingress.reuse_port, cases[i].want);
		}
	}
	free(cfg);
}

static void test_enum_values(void **state)
{
	static const struct {
		const char *section, *key, *value;
		bool ok;
	} cases[] = {
		{ "auth", "password_hash", "bcrypt", true },
		{ "auth", "password_hash", "argon2id", true },
		{ "auth", "password_hash", "argon2", false },
		{ "auth", "password_hash", "BCRYPT", false },
		{ "logs", "level", "debug", true },
		{ "logs", "level", "info", true },
		{ "logs", "level", "warning", true },
		{ "logs", "level", "error", true },
		{ "logs", "level", "warn", false },
		{ "database", "sslmode", "disable", true },
		{ "database", "sslmode", "allow", true },
		{ "database", "sslmode", "prefer", true },
		{ "database", "sslmode", "require", true },
		{ "database", "sslmode", "verify-ca", true },
		{ "database", "sslmode", "verify-full", true },
		{ "database", "sslmode", "verify", false },
	};
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	config_defaults(cfg);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct key_case *k = s_key(cases[i].section, cases[i].key);
		char err[ERR_MAX];
		int r = config_set(cfg, k->section, k->key, cases[i].value, err, sizeof(err));

		if (cases[i].ok) {
			assert_int_equal(r, 0);
			assert_string_equal(s_str(cfg, k), cases[i].value);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_contains(err, "must be one of: ");
			assert_contains(err, k->key);
		}
	}
	free(cfg);
}

static void test_formats(void **state)
{
	static const struct set_case cases[] = {
		{ "ingress", "listen", "127.0.0.1:1", NULL },
		{ "ingress", "listen", "localhost:65535", NULL },
		{ "ingress", "listen", "[::1]:8080", NULL },
		{ "ingress", "listen", "0.0.0.0:65536", "host:port" },
		{ "ingress", "listen", ":8080", "host:port" },
		{ "ingress", "listen", "::1:8080", "host:port" },
		{ "ingress", "listen", "[]:8080", "host:port" },
		{ "ingress", "listen", "host:-1", "host:port" },
		{ "ingress", "listen", "host:80x", "host:port" },
		{ "ingress", "listen", "host:", "host:port" },
		{ "ingress", "public_origin", "http://127.0.0.1:8080", NULL },
		{ "ingress", "public_origin", "https://accounts.example.com", NULL },
		{ "ingress", "public_origin", "https://[::1]:8443", NULL },
		{ "ingress", "public_origin", "ftp://example.com", "http:// or https://" },
		{ "ingress", "public_origin", "example.com", "http:// or https://" },
		{ "ingress", "public_origin", "https://", "http:// or https://" },
		{ "ingress", "public_origin", "https://example.com/app", "no path" },
		{ "ingress", "public_origin", "https://example.com?x", "no path" },
		{ "ingress", "public_origin", "https://user@example.com", "no path" },
		/* what ingressd's Origin check could never match (fuzz-origin) */
		{ "ingress", "public_origin", "https://b\xc3\xbc" "cher.example", "no path" },
		{ "ingress", "public_origin", "https://a%2eexample", "no path" },
		{ "ingress", "public_origin", "https://example.com:99999", "no path" },
		{ "ingress", "public_origin", "https://example.com:0", "no path" },
		{ "ingress", "public_origin", "https://example.com:", "no path" },
		{ "ingress", "public_origin", "https://[::1", "no path" },
		{ "ingress", "public_origin", "https://example.com:8443", NULL },
		{ "ipc", "authd", "ipc:///run/x.sock", NULL },
		{ "ipc", "telemetryd", "tcp://127.0.0.1:5555", NULL },
		{ "ipc", "log_sink", "inproc://log", NULL },
		{ "ipc", "logd", "ipc://", "must start with ipc://" },
		{ "ipc", "logd", "/run/sembark/logd.sock", "must start with ipc://" },
		{ "ipc", "curve_server_public_key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", NULL },
		{ "ipc", "curve_client_public_key", "", NULL },
		{ "ipc", "curve_client_public_key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf", "40-character Z85" },
		{ "ipc", "curve_server_public_key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\\", "40-character Z85" },
	};
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	config_defaults(cfg);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char err[ERR_MAX] = "";
		int r = config_set(cfg, cases[i].section, cases[i].key, cases[i].value, err,
				   sizeof(err));

		if (!cases[i].want) {
			if (r != 0)
				fail_msg("%s refused: %s", cases[i].value, err);
			continue;
		}
		if (r != -EINVAL)
			fail_msg("[%s] %s = %s accepted", cases[i].section, cases[i].key,
				 cases[i].value);
		assert_contains(err, cases[i].want);
		assert_contains(err, cases[i].key);
	}
	free(cfg);
}

static void test_env_overrides_file(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char err[ERR_MAX];

	setenv("SEMBARK_AUTH_BCRYPT_COST", "11", 1);
	setenv("SEMBARK_INGRESS_REUSE_PORT", "false", 1);
	setenv("SEMBARK_IPC_LOG_SINK", "inproc://sink", 1);
	setenv("SEMBARK_INGRESS_STATIC_DIR", "", 1);
	assert_int_equal(s_load_text("[auth]\nbcrypt_cost = 10\nhash_threads = 4\n"
				     "[ingress]\nstatic_dir = web\n", cfg, err, NULL), 0);
	assert_int_equal(cfg->auth.bcrypt_cost, 11);
	assert_int_equal(cfg->auth.hash_threads, 4);
	assert_false(cfg->ingress.reuse_port);
	assert_string_equal(cfg->ipc.log_sink, "inproc://sink");
	assert_string_equal(cfg->ingress.static_dir, "");
	free(cfg);
}

static void test_env_errors(void **state)
{
	static const struct {
		const char *name, *value, *want;
	} cases[] = {
		{ "SEMBARK_AUTH_FOO", "1", "unknown setting SEMBARK_AUTH_FOO: [auth] has no such key" },
		{ "SEMBARK_AUTH", "1", "unknown setting SEMBARK_AUTH: [auth] has no such key" },
		{ "SEMBARK_DATABASE_", "1", "unknown setting SEMBARK_DATABASE_: [database] has no such key" },
		{ "SEMBARK_auth_bcrypt_cost", "12",
		  "unknown setting SEMBARK_auth_bcrypt_cost: did you mean SEMBARK_AUTH_BCRYPT_COST?" },
		{ "SEMBARK_AUTH_SESION_LIFETIME", "60",
		  "unknown setting SEMBARK_AUTH_SESION_LIFETIME: did you mean SEMBARK_AUTH_SESSION_LIFETIME?" },
		{ "SEMBARK_INGRESS_MAX_CONECTIONS", "100",
		  "unknown setting SEMBARK_INGRESS_MAX_CONECTIONS: did you mean SEMBARK_INGRESS_MAX_CONNECTIONS?" },
		{ "SEMBARK_IPC_LOGSINK", "ipc:///x", "did you mean SEMBARK_IPC_LOG_SINK?" },
		{ "SEMBARK_Telemetry_RETENTION_DAY", "1", "did you mean SEMBARK_TELEMETRY_RETENTION_DAYS?" },
		{ "SEMBARK_AUTH_BCRYPT_COST", "3",
		  "SEMBARK_AUTH_BCRYPT_COST: [auth] bcrypt_cost = 3: must be an integer from 4 to 31" },
		{ "SEMBARK_LOGS_LEVEL", "loud", "SEMBARK_LOGS_LEVEL: [logs] level = loud: must be one of" },
		{ "SEMBARK_INGRESS_LISTEN", "nowhere", "SEMBARK_INGRESS_LISTEN: [ingress] listen" },
		{ "SEMBARK_INGRESS_USER", "a\nb", "SEMBARK_INGRESS_USER: [ingress] user" },
	};
	struct sembark_config *cfg = malloc(sizeof(*cfg));

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char err[ERR_MAX];

		setenv(cases[i].name, cases[i].value, 1);
		assert_int_equal(s_load_text("[auth]\n", cfg, err, NULL), -EINVAL);
		assert_contains(err, cases[i].want);
		unsetenv(cases[i].name);
	}
	free(cfg);
}

/* s_ignored_has - is name among cfg's ignored variables? its entry, or NULL */
static const struct config_ignored_var *s_ignored_has(const struct sembark_config *cfg,
						      const char *name)
{
	const struct config_ignored_var *v;

	for (unsigned i = 0; (v = config_env_ignored(cfg, i)); i++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* a variable that names no section is not ours: passed, and listed */
static void test_env_of_no_section_ignored(void **state)
{
	static const char *const ignored[] = {
		"SEMBARK_URL", "SEMBARK_FOO_BAR", "SEMBARK_AUTHD_TOKEN", "SEMBARK_INGRES_LISTEN",
		"SEMBARK_",
	};
	static const char *const tools[] = {
		"SEMBARK_CONFIG", "SEMBARK_VAR", "SEMBARK_MIGRATIONS_DIR", "SEMBARK_BUILD",
		"SEMBARK_ASAN", "SEMBARK_VALGRIND", "SEMBARK_IT_TIMEOUT", "SEMBARK_TEST_DEB", "SEMBARK_IT_KEEP",
		"SEMBARK_SCREENSHOTS",
	};
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char *path = s_write_conf("[auth]\n", 7);
	char err[ERR_MAX];

	for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
		setenv(ignored[i], "x", 1);
	for (size_t i = 0; i < ELEMENTSOF(tools); i++)
		setenv(tools[i], path, 1); /* SEMBARK_CONFIG must name a file */
	setenv("SEMBARK_AUTH_BCRYPT_COST", "11", 1);
	assert_int_equal(config_load(cfg, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg->auth.bcrypt_cost, 11);
	assert_int_equal(cfg->env_ignored_count, ELEMENTSOF(ignored));
	assert_null(config_env_ignored(cfg, ELEMENTSOF(ignored)));
	for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
		if (!s_ignored_has(cfg, ignored[i]))
			fail_msg("%s not listed as ignored", ignored[i]);
	assert_string_equal(s_ignored_has(cfg, "SEMBARK_INGRES_LISTEN")->nearest,
			    "SEMBARK_INGRESS_LISTEN");
	assert_string_equal(s_ignored_has(cfg, "SEMBARK_URL")->nearest, "");
	assert_string_equal(s_ignored_has(cfg, "SEMBARK_FOO_BAR")->nearest, "");
	unlink(path);
	free(path);
	free(cfg);
}

/* ignored names are made printable, cut, and kept up to CONFIG_ENV_IGNORED_MAX */
static void test_env_ignored_bounds(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char err[ERR_MAX], name[160], want[CONFIG_ENV_NAME_MAX];
	const unsigned n = CONFIG_ENV_IGNORED_MAX + 4;

	memset(name, 'X', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "SEMBARK_", 8);
	setenv(name, "1", 1);
	setenv("SEMBARK_A\x01" "B", "1", 1);
	assert_int_equal(s_load_text("[auth]\n", cfg, err, NULL), 0);
	assert_int_equal(cfg->env_ignored_count, 2);
	assert_non_null(s_ignored_has(cfg, "SEMBARK_A?B"));
	snprintf(want, sizeof(want), "%.64s...", name);
	assert_non_null(s_ignored_has(cfg, want));
	s_clear_sembark_env();

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "SEMBARK_OTHER%u", i);
		setenv(name, "1", 1);
	}
	assert_int_equal(s_load_text("[auth]\n", cfg, err, NULL), 0);
	assert_int_equal(cfg->env_ignored_count, n);
	assert_non_null(config_env_ignored(cfg, CONFIG_ENV_IGNORED_MAX - 1));
	assert_null(config_env_ignored(cfg, CONFIG_ENV_IGNORED_MAX));
	free(cfg);
}

static void test_missing_files(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char err[ERR_MAX], missing[PATH_MAX + 16];

	snprintf(missing, sizeof(missing), "%s/missing.conf", s_dir);
	assert_int_equal(config_load(cfg, missing, err, sizeof(err)), -ENOENT);
	assert_contains(err, missing);

	/* $SEMBARK_CONFIG names the file explicitly: it must exist */
	setenv("SEMBARK_CONFIG", missing, 1);
	assert_string_equal(config_default_path(), missing);
	assert_int_equal(config_load(cfg, NULL, err, sizeof(err)), -ENOENT);

	/* a directory is not a config file */
	assert_int_equal(config_load(cfg, s_dir, err, sizeof(err)), -EISDIR);

	unsetenv("SEMBARK_CONFIG");
	assert_string_equal(config_default_path(), CONFIG_DEFAULT_PATH);
	if (access(CONFIG_DEFAULT_PATH, F_OK) < 0) {
		/* the default file may be missing: defaults + environment */
		setenv("SEMBARK_AUTH_HASH_THREADS", "3", 1);
		assert_int_equal(config_load(cfg, NULL, err, sizeof(err)), 0);
		assert_string_equal(cfg->path, "");
		assert_int_equal(cfg->auth.hash_threads, 3);
	}
	free(cfg);
}

/* SEMBARK_CONFIG is the one SEMBARK_* variable that is not a key. */
static void test_env_config_var_allowed(void **state)
{
	struct sembark_config *cfg = malloc(sizeof(*cfg));
	char err[ERR_MAX], *path = s_write_conf("[auth]\nbcrypt_cost = 14\n", 24);

	setenv("SEMBARK_CONFIG", path, 1);
	assert_int_equal(config_load(cfg, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg->auth.bcrypt_cost, 14);
	assert_string_equal(cfg->path, path);
	unlink(path);
	free(path);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_defaults, test_teardown),
		cmocka_unit_test_teardown(test_dump_lists_every_key, test_teardown),
		cmocka_unit_test_teardown(test_dump_round_trip, test_teardown),
		cmocka_unit_test_teardown(test_file_parsing, test_teardown),
		cmocka_unit_test_teardown(test_file_errors, test_teardown),
		cmocka_unit_test_teardown(test_file_errors_no_guess, test_teardown),
		cmocka_unit_test_teardown(test_long_lines, test_teardown),
		cmocka_unit_test_teardown(test_nul_byte, test_teardown),
		cmocka_unit_test_teardown(test_set, test_teardown),
		cmocka_unit_test_teardown(test_int_bounds, test_teardown),
		cmocka_unit_test_teardown(test_bool_spellings, test_teardown),
		cmocka_unit_test_teardown(test_enum_values, test_teardown),
		cmocka_unit_test_teardown(test_formats, test_teardown),
		cmocka_unit_test_teardown(test_env_overrides_file, test_teardown),
		cmocka_unit_test_teardown(test_env_errors, test_teardown),
		cmocka_unit_test_teardown(test_env_of_no_section_ignored, test_teardown),
		cmocka_unit_test_teardown(test_env_ignored_bounds, test_teardown),
		cmocka_unit_test_teardown(test_missing_files, test_teardown),
		cmocka_unit_test_teardown(test_env_config_var_allowed, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
