/*
 * test-logfmt.c - unit tests of shared/log.c: the logfmt escaping table
 * (no client string can add a line or forge a key=value token), bounds
 * (message, value, field count, line length, small buffers), bad keys,
 * the time format, levels, the hook, the stderr line, threads, and the
 * real ZeroMQ sink (PUSH -> PULL, decoded with ipc_decode_log_record).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ipc.h"
#include "log.h"
#include "log_sink.h"

#define T0 1795928400123000LL /* 2026-11-29T05:00:00.123Z */
#define HEAD "time=2026-11-29T05:00:00.123Z service=test level=info msg=\"m\""
#define KEYS_MAX (4 + LOG_FIELDS_MAX + 1)

#define assert_contains(hay, needle)                                                \
	do {                                                                        \
		if (!strstr((hay), (needle)))                                       \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
	} while (0)

static char s_line[LOG_LINE_MAX];

/* ---- helpers ------------------------------------------------------------ */

static size_t s_format(const char *msg, const struct log_field *fields)
{
	struct log_record rec = {
		.time_us = T0,
		.service = "test",
		.level = LOG_LEVEL_INFO,
		.msg = msg,
		.fields = fields,
	};

	return logfmt_format(s_line, sizeof(s_line), &rec);
}

/*
 * s_parse_keys - a strict logfmt reader: returns the keys of line in order,
 * failing the test on anything a consumer could misread (a byte below
 * 0x20 or DEL, a newline before the end, an unterminated quote, a bare
 * token). This is what "cannot forge a field" means.
 */
static size_t s_parse_keys(const char *line, char keys[][LOG_KEY_MAX + 8], size_t max)
{
	const char *p = line;
	size_t n = 0;

	while (*p && *p != '\n') {
		const char *eq = strchr(p, '=');

		if (!eq || eq == p || n == max || (size_t)(eq - p) > LOG_KEY_MAX + 1)
			fail_msg("bad key at \"%s\"", p);
		snprintf(keys[n++], LOG_KEY_MAX + 8, "%.*s", (int)(eq - p), p);
		p = eq + 1;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p != '"')
				fail_msg("unterminated quote in \"%s\"", line);
			p++;
		} else {
			p += strcspn(p, " \n");
		}
		if (*p == ' ')
			p++;
		else if (*p != '\n')
			fail_msg("junk after value at \"%s\"", p);
	}
	if (p[0] != '\n' || p[1] != '\0')
		fail_msg("line does not end in one newline: \"%s\"", line);
	for (p = line; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f)
			fail_msg("raw control byte 0x%02x in line", (unsigned char)*p);
	return n;
}

static void s_assert_keys(const char *line, const char *const *want, size_t nwant)
{
	char keys[KEYS_MAX][LOG_KEY_MAX + 8];
	size_t n = s_parse_keys(line, keys, KEYS_MAX);

	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(keys[i], want[i]);
}

static char *s_repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- formatting --------------------------------------------------------- */

static void test_time_format(void **state)
{
	static const struct {
		int64_t us;
		const char *want;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 1500, "1970-01-01T00:00:00.001Z" },
		{ T0, "2026-11-29T05:00:00.123Z" },
		{ 951868799999999LL, "2000-02-29T23:59:59.999Z" },
		{ -1, "1969-12-31T23:59:59.999Z" },
		{ -1000000, "1969-12-31T23:59:59.000Z" },
		{ INT64_MAX, "0000-00-00T00:00:00.000Z" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];

		log_format_time(cases[i].us, buf);
		assert_string_equal(buf, cases[i].want);
	}
}

static const struct {
	const char *value;
	const char *want; /* what follows " k=" */
} s_escapes[] = {
	{ "plain", "plain" },
	{ "/api/login", "/api/login" },
	{ "-12.5", "-12.5" },
	{ "", "\"\"" },
	{ "a b", "\"a b\"" },
	{ "a=b", "\"a=b\"" },
	{ "key=value", "\"key=value\"" },
	{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
	{ "x\"", "\"x\\\"\"" },
	{ "back\\slash", "\"back\\\\slash\"" },
	{ "a\nlevel=error msg=x", "\"a\\nlevel=error msg=x\"" },
	{ "\" injected=1", "\"\\\" injected=1\"" },
	{ "\\\" injected=1", "\"\\\\\\\" injected=1\"" },
	{ "\r\t", "\"\\r\\t\"" },
	{ "\x01\x1f", "\"\\x01\\x1f\"" },
	{ "\x1b[31m", "\"\\x1b[31m\"" },
	{ "del\x7f", "\"del\\x7f\"" },
	{ "h\xc3\xa9llo", "\"h\xc3\xa9llo\"" },
	{ "\xe2\x82\xac", "\"\xe2\x82\xac\"" },
	{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
	{ "\xc2\xa0", "\"\xc2\xa0\"" },
	{ "\xff", "\"\\xff\"" },
	{ "a\xc3", "\"a\\xc3\"" },
	{ "\xc3(", "\"\\xc3(\"" },
	{ "\xc0\xaf", "\"\\xc0\\xaf\"" },
	{ "\xe0\x80\xaf", "\"\\xe0\\x80\\xaf\"" },
	{ "\xed\xa0\x80", "\"\\xed\\xa0\\x80\"" },
	{ "\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\"" },
	{ "\xc2\x85", "\"\\xc2\\x85\"" },
};

static void test_escaping(void **state)
{
	static const char *const keys[] = { "time", "service", "level", "msg", "k" };

	for (size_t i = 0; i < sizeof(s_escapes) / sizeof(s_escapes[0]); i++) {
		char want[256];
		size_t n = s_format("m", LOG_FIELDS_(LOG_S("k", s_escapes[i].value)));

		snprintf(want, sizeof(want), HEAD " k=%s\n", s_escapes[i].want);
		assert_string_equal(s_line, want);
		assert_int_equal(n, strlen(want));
		s_assert_keys(s_line, keys, 5);
	}
}

static void test_message_escaping(void **state)
{
	static const char *const keys[] = { "time", "service", "level", "msg" };

	s_format("user \"x\"\nlevel=error msg=forged", NULL);
	assert_string_equal(s_line, "time=2026-11-29T05:00:00.123Z service=test level=info "
				    "msg=\"user \\\"x\\\"\\nlevel=error msg=forged\"\n");
	s_assert_keys(s_line, keys, 4);

	s_format(NULL, NULL);
	assert_string_equal(s_line, "time=2026-11-29T05:00:00.123Z service=test level=info msg=\"\"\n");
}

static void test_service_and_level(void **state)
{
	struct log_record rec = { .time_us = 0, .service = "my svc", .level = _LOG_LEVEL_MAX,
				  .msg = "m" };

	logfmt_format(s_line, sizeof(s_line), &rec);
	assert_string_equal(s_line, "time=1970-01-01T00:00:00.000Z service=\"my svc\" "
				    "level=invalid msg=\"m\"\n");
}

static void test_keys(void **state)
{
	static const struct {
		const char *key, *want;
	} cases[] = {
		{ "user_id", "user_id" },
		{ "a1_", "a1_" },
		{ "abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345" },
		{ "abcdefghijklmnopqrstuvwxyz0123456", "bad_key" },
		{ "Bad", "bad_key" },
		{ "a-b", "bad_key" },
		{ "a b", "bad_key" },
		{ "a=b", "bad_key" },
		{ "k\n", "bad_key" },
		{ "", "bad_key" },
		{ NULL, "bad_key" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[256];

		s_format("m", LOG_FIELDS_(LOG_S(cases[i].key, "v")));
		snprintf(want, sizeof(want), HEAD " %s=v\n", cases[i].want);
		assert_string_equal(s_line, want);
	}
}

static void test_int_fields(void **state)
{
	s_format("m", LOG_FIELDS_(LOG_I("a", 0), LOG_I("b", -42), LOG_I("c", LLONG_MIN),
				  LOG_I("d", LLONG_MAX), LOG_S("e", NULL)));
	assert_string_equal(s_line, HEAD " a=0 b=-42 c=-9223372036854775808 "
					 "d=9223372036854775807 e=\"\"\n");
}

/* ---- bounds ------------------------------------------------------------- */

static void test_message_cut(void **state)
{
	char *exact = s_repeat('a', LOG_MSG_MAX), *longer = s_repeat('a', 2000);
	char *utf = s_repeat('a', 2000), want[LOG_MSG_MAX + 64];

	s_format(exact, NULL);
	assert_int_equal(strlen(s_line), strlen(HEAD) - 3 + LOG_MSG_MAX + 3);
	assert_non_null(strstr(s_line, "aaa\"\n"));

	s_format(longer, NULL);
	snprintf(want, sizeof(want), "msg=\"%.*s...\"\n", LOG_MSG_MAX - 3, longer);
	assert_contains(s_line, want);

	/* a 2-byte character across the cut is dropped whole */
	memcpy(utf + LOG_MSG_MAX - 4, "\xc3\xa9", 2);
	s_format(utf, NULL);
	snprintf(want, sizeof(want), "msg=\"%.*s...\"\n", LOG_MSG_MAX - 4, utf);
	assert_contains(s_line, want);
	free(exact);
	free(longer);
	free(utf);
}

static void test_value_cut(void **state)
{
	char *exact = s_repeat('b', LOG_VALUE_MAX), *longer = s_repeat('b', LOG_VALUE_MAX + 1);
	char *euro = malloc(LOG_VALUE_MAX + 8), want[LOG_VALUE_MAX + 64];

	s_format("m", LOG_FIELDS_(LOG_S("k", exact)));
	snprintf(want, sizeof(want), " k=%s\n", exact);
	assert_contains(s_line, want);

	s_format("m", LOG_FIELDS_(LOG_S("k", longer)));
	snprintf(want, sizeof(want), " k=%.*s...\n", LOG_VALUE_MAX - 3, longer);
	assert_contains(s_line, want);

	/* 3-byte characters: the cut falls inside one, which is dropped */
	for (size_t i = 0; i + 3 <= LOG_VALUE_MAX + 6; i += 3)
		memcpy(euro + i, "\xe2\x82\xac", 3);
	euro[LOG_VALUE_MAX + 6] = '\0';
	s_format("m", LOG_FIELDS_(LOG_S("k", euro)));
	snprintf(want, sizeof(want), " k=\"%.*s...\"\n", (LOG_VALUE_MAX - 3) / 3 * 3, euro);
	assert_contains(s_line, want);
	free(exact);
	free(longer);
	free(euro);
}

static void test_field_count(void **state)
{
	struct log_field f[LOG_FIELDS_MAX + 9];
	char names[LOG_FIELDS_MAX + 8][16];
	const char *want[KEYS_MAX] = { "time", "service", "level", "msg" };

	for (int i = 0; i < LOG_FIELDS_MAX + 8; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		f[i] = LOG_I(names[i], i);
		if (i < LOG_FIELDS_MAX)
			want[4 + i] = names[i];
	}
	f[LOG_FIELDS_MAX + 8] = LOG_END;
	s_format("m", f);
	s_assert_keys(s_line, want, 4 + LOG_FIELDS_MAX);
}

/* Fields of 1024 control bytes (4 output bytes each) overflow the line. */
static void test_line_max(void **state)
{
	struct log_field f[LOG_FIELDS_MAX + 1];
	char *v = s_repeat('\x01', LOG_VALUE_MAX), keys[KEYS_MAX][LOG_KEY_MAX + 8];
	size_t len, n;

	for (int i = 0; i < LOG_FIELDS_MAX; i++)
		f[i] = LOG_S("k", v);
	f[LOG_FIELDS_MAX] = LOG_END;
	len = s_format(v, f);
	assert_true(len < LOG_LINE_MAX);
	assert_int_equal(len, strlen(s_line));
	n = s_parse_keys(s_line, keys, KEYS_MAX);
	assert_string_equal(keys[n - 1], "truncated");
	assert_true(n > 5 && n < 4 + LOG_FIELDS_MAX);
	assert_contains(s_line, " truncated=true\n");
	free(v);
}

/* Every buffer size gives a NUL-terminated, well-formed (or empty) line. */
static void test_small_buffers(void **state)
{
	struct log_record rec = { .time_us = T0, .service = "test", .level = LOG_LEVEL_INFO,
				  .msg = "m", .fields = LOG_FIELDS_(LOG_S("k", "a b\n")) };
	char buf[160], keys[KEYS_MAX][LOG_KEY_MAX + 8];

	buf[0] = 'X';
	assert_int_equal(logfmt_format(buf, 0, &rec), 0);
	assert_int_equal(buf[0], 'X');
	for (size_t size = 1; size <= sizeof(buf); size++) {
		size_t len;

		memset(buf, 'X', sizeof(buf));
		len = logfmt_format(buf, size, &rec);
		assert_true(len < size);
		assert_int_equal(strlen(buf), len);
		if (len > 0)
			s_parse_keys(buf, keys, KEYS_MAX);
		if (size >= 18)
			assert_true(len > 0);
	}
	logfmt_format(buf, 40, &rec);
	assert_string_equal(buf, "truncated=true\n");
	logfmt_format(buf, sizeof(buf), &rec);
	assert_string_equal(buf, HEAD " k=\"a b\\n\"\n");
}

/* ---- levels ------------------------------------------------------------- */

static void test_levels(void **state)
{
	static const char *const names[] = { "debug", "info", "warning", "error" };

	for (int i = 0; i < _LOG_LEVEL_MAX; i++) {
		assert_string_equal(log_level_to_string((enum log_level)i), names[i]);
		assert_int_equal(log_level_from_string(names[i]), i);
	}
	assert_null(log_level_to_string(_LOG_LEVEL_MAX));
	assert_null(log_level_to_string(_LOG_LEVEL_INVALID));
	assert_int_equal(log_level_from_string("warn"), _LOG_LEVEL_INVALID);
	assert_int_equal(log_level_from_string("INFO"), _LOG_LEVEL_INVALID);
	assert_int_equal(log_level_from_string(NULL), _LOG_LEVEL_INVALID);

	log_set_level(LOG_LEVEL_ERROR);
	assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
	log_set_level(_LOG_LEVEL_MAX);
	assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
	log_set_level(LOG_LEVEL_INFO);
}

/* ---- emitting: stderr, hook, threads ------------------------------------ */

static int s_saved_stderr = -1;
static char s_capture_path[PATH_MAX];

static void s_capture_begin(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(s_capture_path, sizeof(s_capture_path), "%s/test-logfmt.XXXXXX",
		 tmp && *tmp ? tmp : P_tmpdir);
	fd = mkstemp(s_capture_path);
	assert_true(fd >= 0);
	fflush(stderr);
	s_saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* s_capture_end - restore stderr; returns (malloc'ed) what was written to it */
static char *s_capture_end(void)
{
	FILE *f = fopen(s_capture_path, "r");
	char *text = NULL;
	size_t size = 0;
	ssize_t n;

	fflush(stderr);
	dup2(s_saved_stderr, STDERR_FILENO);
	close(s_saved_stderr);
	assert_non_null(f);
	n = getdelim(&text, &size, '\0', f);
	fclose(f);
	unlink(s_capture_path);
	if (n < 0) {
		free(text);
		text = strdup("");
	}
	return text;
}

static struct {
	int calls;
	enum log_level level;
	char msg[64];
	char keys[LOG_FIELDS_MAX + 1][LOG_KEY_MAX + 1];
	char values[LOG_FIELDS_MAX + 1][128];
	size_t nfields;
	bool log_inside;
} s_hooked;

static void s_hook(const struct log_record *rec, void *userdata)
{
	size_t n = 0;

	assert_ptr_equal(userdata, &s_hooked);
	s_hooked.calls++;
	s_hooked.level = rec->level;
	snprintf(s_hooked.msg, sizeof(s_hooked.msg), "%s", rec->msg);
	for (; rec->fields[n].type != LOG_FIELD_END && n <= LOG_FIELDS_MAX; n++) {
		snprintf(s_hooked.keys[n], sizeof(s_hooked.keys[n]), "%s", rec->fields[n].key);
		if (rec->fields[n].type == LOG_FIELD_STR)
			snprintf(s_hooked.values[n], sizeof(s_hooked.values[n]), "%s",
				 rec->fields[n].s);
		else
			snprintf(s_hooked.values[n], sizeof(s_hooked.values[n]), "%lld",
				 rec->fields[n].i);
	}
	s_hooked.nfields = n;
	if (s_hooked.log_inside)
		log_error("logged from inside the hook");
}

static int hook_setup(void **state)
{
	memset(&s_hooked, 0, sizeof(s_hooked));
	log_set_level(LOG_LEVEL_INFO);
	log_set_hook(s_hook, &s_hooked);
	s_capture_begin();
	return 0;
}

static int hook_teardown(void **state)
{
	log_set_hook(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	free(s_capture_end());
	return 0;
}

static void test_stderr_line(void **state)
{
	static const char *const keys[] = { "time", "service", "level", "msg", "path", "n" };
	char *text;

	log_warning("disk \"full\"", LOG_S("path", "a\nlevel=error"), LOG_I("n", 7));
	text = s_capture_end();
	s_capture_begin(); /* for the teardown */
	assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text)); /* one line */
	assert_true(strncmp(text, "time=", 5) == 0);
	assert_contains(text, "Z service=test level=warning msg=\"disk \\\"full\\\"\" "
			      "path=\"a\\nlevel=error\" n=7\n");
	s_assert_keys(text, keys, 6);
	free(text);
}

static void test_hook_and_filter(void **state)
{
	int saved;

	log_debug("below the level");
	assert_int_equal(s_hooked.calls, 0);
	log_info("hello", LOG_S("user", "u1"), LOG_I("count", 3));
	assert_int_equal(s_hooked.calls, 1);
	assert_int_equal(s_hooked.level, LOG_LEVEL_INFO);
	assert_string_equal(s_hooked.msg, "hello");
	assert_int_equal(s_hooked.nfields, 2);
	assert_string_equal(s_hooked.keys[1], "count");
	assert_string_equal(s_hooked.values[1], "3");

	log_set_level(LOG_LEVEL_WARNING);
	log_info("filtered");
	assert_int_equal(s_hooked.calls, 1);
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("now shown");
	assert_int_equal(s_hooked.calls, 2);

	errno = EAGAIN;
	saved = errno;
	log_error("keeps errno");
	assert_int_equal(errno, saved);
}

static void test_errno(void **state)
{
	struct log_field many[LOG_FIELDS_MAX + 3];

	assert_int_equal(log_error_errno(-ENOENT, "open failed", LOG_S("path", "x")), -ENOENT);
	assert_int_equal(s_hooked.level, LOG_LEVEL_ERROR);
	assert_int_equal(s_hooked.nfields, 2);
	assert_string_equal(s_hooked.keys[0], "path");
	assert_string_equal(s_hooked.keys[1], "error");
	assert_string_equal(s_hooked.values[1], "No such file or directory");

	assert_int_equal(log_warning_errno(-EPIPE, "no fields"), -EPIPE);
	assert_int_equal(s_hooked.level, LOG_LEVEL_WARNING);
	assert_int_equal(s_hooked.nfields, 1);
	assert_string_equal(s_hooked.values[0], "Broken pipe");

	/* a full field list still gets its error field */
	for (int i = 0; i < LOG_FIELDS_MAX + 2; i++)
		many[i] = LOG_I("f", i);
	many[LOG_FIELDS_MAX + 2] = LOG_END;
	assert_int_equal(log_emit_errno(LOG_LEVEL_ERROR, -EIO, "many", many), -EIO);
	assert_int_equal(s_hooked.nfields, LOG_FIELDS_MAX);
	assert_string_equal(s_hooked.keys[LOG_FIELDS_MAX - 1], "error");
	assert_string_equal(s_hooked.values[LOG_FIELDS_MAX - 1], "Input/output error");
	assert_int_equal(log_error_errno(INT_MIN, "odd"), INT_MIN);
}

static void test_hook_no_recursion(void **state)
{
	char *text;

	s_hooked.log_inside = true;
	log_info("outer");
	assert_int_equal(s_hooked.calls, 1);
	assert_string_equal(s_hooked.msg, "outer");
	text = s_capture_end();
	s_capture_begin();
	assert_contains(text, "msg=\"outer\"\n");
	assert_contains(text, "msg=\"logged from inside the hook\"\n");
	free(text);
}

static void *s_thread_main(void *arg)
{
	for (int i = 0; i < 100; i++)
		log_info("from a thread", LOG_I("i", i), LOG_S("pad", arg));
	return NULL;
}

/* Other threads write whole lines to stderr and never reach the hook. */
static void test_threads(void **state)
{
	static const char *const keys[] = { "time", "service", "level", "msg", "i", "pad" };
	char *pad = s_repeat('p', 900), *text, *line;
	pthread_t t[4];
	size_t lines = 0;

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, s_thread_main, pad), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(s_hooked.calls, 0);
	text = s_capture_end();
	s_capture_begin();
	for (line = text; *line; lines++) {
		char *nl = strchr(line, '\n'), save;

		assert_non_null(nl);
		save = nl[1];
		nl[1] = '\0';
		s_assert_keys(line, keys, 6);
		nl[1] = save;
		line = nl + 1;
	}
	assert_int_equal(lines, 400); /* every line whole, none mixed with another */
	free(text);
	free(pad);
}

/* ---- the ZeroMQ sink ---------------------------------------------------- */

struct zmq_fixture {
	void *ctx, *pull, *push, *lonely;
};

static void *s_socket(void *ctx, int type)
{
	void *s = zmq_socket(ctx, type);
	int zero = 0, timeout = 2000;

	assert_non_null(s);
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	return s;
}

static int zmq_setup(void **state)
{
	struct zmq_fixture *z = calloc(1, sizeof(*z));

	z->ctx = zmq_ctx_new();
	z->pull = s_socket(z->ctx, ZMQ_PULL);
	z->push = s_socket(z->ctx, ZMQ_PUSH);
	z->lonely = s_socket(z->ctx, ZMQ_PUSH); /* no peer: every send would block */
	assert_int_equal(zmq_bind(z->pull, "inproc://test-logfmt"), 0);
	assert_int_equal(zmq_connect(z->push, "inproc://test-logfmt"), 0);
	log_set_hook(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	s_capture_begin();
	*state = z;
	return 0;
}

static int zmq_teardown(void **state)
{
	struct zmq_fixture *z = *state;

	log_sink_detach();
	free(s_capture_end());
	zmq_close(z->pull);
	zmq_close(z->push);
	zmq_close(z->lonely);
	zmq_ctx_term(z->ctx);
	free(z);
	return 0;
}

static struct ipc_log_record *s_recv_record(void *pull)
{
	struct ipc_log_record *rec = calloc(1, sizeof(*rec));
	char buf[IPC_FRAME_MAX / 16];
	uint64_t id;
	int n = zmq_recv(pull, buf, sizeof(buf), 0);

	assert_true(n > 0 && (size_t)n <= sizeof(buf));
	assert_int_equal(ipc_peek(buf, (size_t)n, &(enum ipc_msg_type){ 0 }, &id), 0);
	assert_int_equal(ipc_decode_log_record(buf, (size_t)n, &id, rec), 0);
	return rec;
}

static void test_sink(void **state)
{
	struct zmq_fixture *z = *state;
	char *longmsg = s_repeat('m', 2000), *longval = s_repeat('v', 3000);
	struct ipc_log_record *rec;
	uint64_t dropped = log_dropped();

	log_sink_attach(z->push);
	log_debug("below the level: not sent");
	log_info("hello", LOG_S("user", "a\xff" "b\nc"), LOG_I("n", -42), LOG_S("Bad", "x"));
	rec = s_recv_record(z->pull);
	assert_string_equal(rec->service, "test");
	assert_string_equal(rec->level, "info");
	assert_string_equal(rec->msg, "hello");
	assert_true(rec->time_us > 1600000000LL * 1000000); /* after 2020 */
	assert_int_equal(rec->fields_n, 3);
	assert_string_equal(rec->fields[0].key, "user");
	assert_string_equal(rec->fields[0].value, "a?b\nc"); /* stays UTF-8; logd escapes */
	assert_string_equal(rec->fields[1].value, "-42");
	assert_string_equal(rec->fields[2].key, "bad_key");
	ipc_free_log_record(rec);
	free(rec);

	log_error(longmsg, LOG_S("v", longval));
	rec = s_recv_record(z->pull);
	assert_string_equal(rec->level, "error");
	assert_int_equal(strlen(rec->msg), LOG_MSG_MAX);
	assert_string_equal(rec->msg + LOG_MSG_MAX - 3, "...");
	assert_int_equal(strlen(rec->fields[0].value), LOG_VALUE_MAX);
	ipc_free_log_record(rec);
	free(rec);
	assert_int_equal(log_dropped(), dropped);
	free(longmsg);
	free(longval);
}

static void test_sink_full_drops(void **state)
{
	struct zmq_fixture *z = *state;
	uint64_t dropped = log_dropped();

	log_sink_attach(z->lonely);
	log_info("nobody listens");
	log_info("nobody listens either");
	assert_int_equal(log_dropped(), dropped + 2);
	log_sink_detach();
	log_info("no sink: not counted");
	assert_int_equal(log_dropped(), dropped + 2);
}

static void test_sink_only_from_owner_thread(void **state)
{
	struct zmq_fixture *z = *state;
	char buf[64];
	pthread_t t;

	log_sink_attach(z->push);
	assert_int_equal(pthread_create(&t, NULL, s_thread_main, "x"), 0);
	pthread_join(t, NULL);
	assert_int_equal(zmq_recv(z->pull, buf, sizeof(buf), ZMQ_DONTWAIT), -1);
	assert_int_equal(zmq_errno(), EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_message_escaping),
		cmocka_unit_test(test_service_and_level),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_int_fields),
		cmocka_unit_test(test_message_cut),
		cmocka_unit_test(test_value_cut),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_line_max),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_levels),
		cmocka_unit_test_setup_teardown(test_stderr_line, hook_setup, hook_teardown),
		cmocka_unit_test_setup_teardown(test_hook_and_filter, hook_setup, hook_teardown),
		cmocka_unit_test_setup_teardown(test_errno, hook_setup, hook_teardown),
		cmocka_unit_test_setup_teardown(test_hook_no_recursion, hook_setup, hook_teardown),
		cmocka_unit_test_setup_teardown(test_threads, hook_setup, hook_teardown),
		cmocka_unit_test_setup_teardown(test_sink, zmq_setup, zmq_teardown),
		cmocka_unit_test_setup_teardown(test_sink_full_drops, zmq_setup, zmq_teardown),
		cmocka_unit_test_setup_teardown(test_sink_only_from_owner_thread, zmq_setup,
						zmq_teardown),
	};

	log_open("test");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
