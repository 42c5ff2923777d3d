/*
 * test-ctl-migrate.c - unit tests of sembarkctl's migration planning
 * (services/ctl/migrate_plan.c) and migrations directory reading
 * (services/ctl/migrate_files.c), without a database: file name rules,
 * ordering and duplicate numbers, SHA-256 checksums, and the plan for
 * every mix of files and applied rows (pending, applied, changed,
 * renamed, missing, out of order), table-driven. Directory scans use a
 * real temporary directory (mkdtemp under $TMPDIR).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "services/ctl/ctl.h"

#define assert_contains(hay, needle)                                                \
	do {                                                                        \
		if (!strstr((hay), (needle)))                                       \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
	} while (0)

/* ---- file names ---------------------------------------------------------- */

struct name_case {
	const char *file;
	int r;
	int version;
	const char *name;
};

#define BAD(f) { .file = (f), .r = -EINVAL }

static void test_parse_filename(void **state)
{
	static char long_name[200];
	static const struct name_case cases[] = {
		{ "0001_roles.sql", 0, 1, "roles" },
		{ "0002_logs.sql", 0, 2, "logs" },
		{ "0042_add_users_2.sql", 0, 42, "add_users_2" },
		{ "9999_z.sql", 0, 9999, "z" },
		{ "1000_0.sql", 0, 1000, "0" },
		{ "0001__.sql", 0, 1, "_" },
		BAD("0000_zero.sql"),
		BAD("001_short.sql"),
		BAD("00001_long.sql"),
		BAD("0001_.sql"),
		BAD("0001_Roles.sql"),
		BAD("0001_a-b.sql"),
		BAD("0001_a b.sql"),
		BAD("0001_a.b.sql"),
		BAD("0001_a.SQL"),
		BAD("0001_a.sql.bak"),
		BAD("0001_a.sq"),
		BAD("0001-a.sql"),
		BAD("+001_a.sql"),
		BAD("a001_a.sql"),
		BAD("0001_a\n.sql"),
		BAD(""),
		BAD(".sql"),
		BAD(long_name),
	};

	memset(long_name, 'a', sizeof(long_name) - 1);
	memcpy(long_name, "0001_", 5);
	memcpy(long_name + sizeof(long_name) - 5, ".sql", 5);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char name[MIGRATION_FILENAME_MAX] = "";
		int version = -1;
		int r = migration_parse_filename(cases[i].file, &version, name, sizeof(name));

		if (r != cases[i].r)
			fail_msg("case %zu \"%s\": got %d, want %d", i, cases[i].file, r, cases[i].r);
		if (r == 0) {
			assert_int_equal(version, cases[i].version);
			assert_string_equal(name, cases[i].name);
		} else {
			assert_int_equal(version, -1); /* ret_* untouched on failure */
		}
	}
	assert_int_equal(migration_parse_filename(NULL, &(int){ 0 }, (char[8]){ 0 }, 8), -EINVAL);
}

/* ---- checksums ----------------------------------------------------------- */

static void test_checksum(void **state)
{
	static const struct {
		const char *in;
		const char *hex;
	} cases[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char hex[MIGRATION_CHECKSUM_HEX];

		migration_checksum(cases[i].in, strlen(cases[i].in), hex);
		assert_string_equal(hex, cases[i].hex);
		assert_true(migration_checksum_valid(hex));
	}
}

static void test_checksum_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true },
		{ "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false },
		{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", false },
		{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550", false },
		{ "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false },
		{ "", false },
		{ NULL, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (migration_checksum_valid(cases[i].s) != cases[i].ok)
			fail_msg("case %zu: want %d", i, cases[i].ok);
}

/* ---- order and duplicates ------------------------------------------------ */

#define FILES_MAX 8

struct sort_case {
	const char *files[FILES_MAX];  /* NULL-terminated, as listed */
	int r;
	const char *order[FILES_MAX];  /* expected after sorting */
	const char *err;               /* substring of the message */
};

static size_t s_fill(struct migration *v, const char *const *files)
{
	size_t n = 0;

	for (; n < FILES_MAX && files[n]; n++) {
		v[n] = (struct migration){ 0 };
		assert_int_equal(migration_parse_filename(files[n], &v[n].version, v[n].name,
							  sizeof(v[n].name)), 0);
		snprintf(v[n].file, sizeof(v[n].file), "%s", files[n]);
	}
	return n;
}

static void test_sort(void **state)
{
	static const struct sort_case cases[] = {
		{ .files = { NULL } },
		{ .files = { "0001_a.sql" }, .order = { "0001_a.sql" } },
		{ .files = { "0010_c.sql", "0002_b.sql", "0001_a.sql" },
		  .order = { "0001_a.sql", "0002_b.sql", "0010_c.sql" } },
		/* numeric, gaps allowed */
		{ .files = { "1000_z.sql", "0999_y.sql", "0007_x.sql" },
		  .order = { "0007_x.sql", "0999_y.sql", "1000_z.sql" } },
		{ .files = { "0002_b.sql", "0001_a.sql", "0002_a.sql" }, .r = -EINVAL,
		  .err = "two migrations have number 0002: 0002_a.sql and 0002_b.sql" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct migration v[FILES_MAX];
		char err[CTL_ERR_MAX] = "";
		size_t n = s_fill(v, cases[i].files);
		int r = migrations_sort(v, n, err, sizeof(err));

		if (r != cases[i].r)
			fail_msg("case %zu: got %d, want %d (%s)", i, r, cases[i].r, err);
		if (r < 0) {
			assert_contains(err, cases[i].err);
			continue;
		}
		for (size_t j = 0; j < n; j++)
			assert_string_equal(v[j].file, cases[i].order[j]);
	}
}

/* ---- the plan ------------------------------------------------------------ */

/* a file: "NNNN_name.sql" with content; a row: version, name, content hashed */
struct file_spec {
	const char *file;
	const char *sql;
};

struct row_spec {
	int version;
	const char *name;
	const char *sql;
};

struct plan_case {
	const char *what;
	struct file_spec files[FILES_MAX];
	struct row_spec rows[FILES_MAX];
	enum migration_state states[FILES_MAX]; /* one per step, by version */
	size_t n_steps, n_pending, n_bad;
	int current, target;
	const char *err;                        /* NULL: check passes */
};

static const struct plan_case s_plan_cases[] = {
	{ "fresh database", { { "0001_roles.sql", "a" }, { "0002_logs.sql", "b" } }, { { 0 } },
	  { MIGRATION_PENDING, MIGRATION_PENDING }, 2, 2, 0, 0, 2, NULL },
	{ "up to date", { { "0001_roles.sql", "a" }, { "0002_logs.sql", "b" } },
	  { { 1, "roles", "a" }, { 2, "logs", "b" } },
	  { MIGRATION_APPLIED, MIGRATION_APPLIED }, 2, 0, 0, 2, 2, NULL },
	{ "one pending after a gap", { { "0001_roles.sql", "a" }, { "0005_users.sql", "c" } },
	  { { 1, "roles", "a" } },
	  { MIGRATION_APPLIED, MIGRATION_PENDING }, 2, 1, 0, 1, 5, NULL },
	{ "no files, no rows", { { 0 } }, { { 0 } }, { 0 }, 0, 0, 0, 0, 0, NULL },
	{ "changed file", { { "0001_roles.sql", "a" }, { "0002_logs.sql", "b2" } },
	  { { 1, "roles", "a" }, { 2, "logs", "b" } },
	  { MIGRATION_APPLIED, MIGRATION_CHANGED }, 2, 0, 1, 2, 2,
	  "0002_logs.sql has changed since it was applied (checksum mismatch)" },
	{ "changed file before a pending one",
	  { { "0001_roles.sql", "a " }, { "0002_logs.sql", "b" } }, { { 1, "roles", "a" } },
	  { MIGRATION_CHANGED, MIGRATION_PENDING }, 2, 1, 1, 1, 2, "0001_roles.sql has changed" },
	{ "missing file", { { "0001_roles.sql", "a" } },
	  { { 1, "roles", "a" }, { 2, "logs", "b" } },
	  { MIGRATION_APPLIED, MIGRATION_MISSING }, 2, 0, 1, 2, 2,
	  "migration 0002_logs.sql was applied but is missing from /m" },
	{ "missing file in the middle", { { "0001_roles.sql", "a" }, { "0003_x.sql", "c" } },
	  { { 1, "roles", "a" }, { 2, "logs", "b" }, { 3, "x", "c" } },
	  { MIGRATION_APPLIED, MIGRATION_MISSING, MIGRATION_APPLIED }, 3, 0, 1, 3, 3,
	  "0002_logs.sql was applied but is missing" },
	{ "renamed file", { { "0001_roles.sql", "a" }, { "0002_log.sql", "b" } },
	  { { 1, "roles", "a" }, { 2, "logs", "b" } },
	  { MIGRATION_APPLIED, MIGRATION_RENAMED }, 2, 0, 1, 2, 2,
	  "0002_log.sql: version 0002 was applied as 0002_logs.sql" },
	{ "pending older than the schema",
	  { { "0001_roles.sql", "a" }, { "0002_logs.sql", "b" }, { "0003_x.sql", "c" } },
	  { { 1, "roles", "a" }, { 3, "x", "c" } },
	  { MIGRATION_APPLIED, MIGRATION_OUT_OF_ORDER, MIGRATION_APPLIED }, 3, 0, 1, 3, 3,
	  "0002_logs.sql is older than schema version 3" },
	{ "only rows", { { 0 } }, { { 1, "roles", "a" } },
	  { MIGRATION_MISSING }, 1, 0, 1, 1, 1, "0001_roles.sql was applied but is missing" },
};

static void s_make_files(const struct file_spec *spec, struct migration *v, size_t *n)
{
	for (*n = 0; *n < FILES_MAX && spec[*n].file; (*n)++) {
		struct migration *m = &v[*n];

		*m = (struct migration){ 0 };
		assert_int_equal(migration_parse_filename(spec[*n].file, &m->version, m->name,
							  sizeof(m->name)), 0);
		snprintf(m->file, sizeof(m->file), "%s", spec[*n].file);
		migration_checksum(spec[*n].sql, strlen(spec[*n].sql), m->checksum);
	}
}

static void s_make_rows(const struct row_spec *spec, struct migration_applied *v, size_t *n)
{
	for (*n = 0; *n < FILES_MAX && spec[*n].version; (*n)++) {
		struct migration_applied *a = &v[*n];

		*a = (struct migration_applied){ .version = spec[*n].version };
		snprintf(a->name, sizeof(a->name), "%s", spec[*n].name);
		snprintf(a->applied_at, sizeof(a->applied_at), "2026-01-01 00:00:00Z");
		migration_checksum(spec[*n].sql, strlen(spec[*n].sql), a->checksum);
	}
}

static void s_check_plan_case(const struct plan_case *c)
{
	struct migration files[FILES_MAX];
	struct migration_applied rows[FILES_MAX];
	struct migration_plan p;
	char err[CTL_ERR_MAX] = "";
	size_t nf, nr;
	int r;

	s_make_files(c->files, files, &nf);
	s_make_rows(c->rows, rows, &nr);
	assert_int_equal(migration_plan_build(files, nf, rows, nr, &p), 0);
	assert_int_equal(p.n_steps, c->n_steps);
	for (size_t i = 0; i < p.n_steps; i++) {
		if (p.steps[i].state != c->states[i])
			fail_msg("%s: step %zu is %s, want %s", c->what, i,
				 migration_state_to_string(p.steps[i].state),
				 migration_state_to_string(c->states[i]));
		if (i > 0)
			assert_true(p.steps[i - 1].version < p.steps[i].version);
	}
	assert_int_equal(p.n_pending, c->n_pending);
	assert_int_equal(p.n_bad, c->n_bad);
	assert_int_equal(p.current_version, c->current);
	assert_int_equal(p.target_version, c->target);
	r = migration_plan_check(&p, "/m", err, sizeof(err));
	if (c->err) {
		assert_int_equal(r, -EINVAL);
		assert_contains(err, c->err);
	} else {
		assert_int_equal(r, 0);
	}
	migration_plan_done(&p);
	assert_null(p.steps);
}

static void test_plan(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(s_plan_cases); i++)
		s_check_plan_case(&s_plan_cases[i]);
}

static void test_state_names(void **state)
{
	for (int s = 0; s < _MIGRATION_STATE_MAX; s++)
		assert_non_null(migration_state_to_string((enum migration_state)s));
	assert_null(migration_state_to_string(_MIGRATION_STATE_MAX));
	assert_null(migration_state_to_string(_MIGRATION_STATE_INVALID));
}

/* ---- the directory ------------------------------------------------------- */

static char s_tmp[PATH_MAX];

static void s_put(const char *name, const char *content, size_t len)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", s_tmp, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void s_rm(const char *name)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", s_tmp, name);
	unlink(path);
}

static int s_setup_dir(void **state)
{
	const char *t = getenv("TMPDIR");

	snprintf(s_tmp, sizeof(s_tmp), "%s/test-ctl-migrate.XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(s_tmp) ? 0 : -1;
}

static int s_teardown_dir(void **state)
{
	static const char *const names[] = { "0001_roles.sql", "0002_logs.sql", "README",
					     ".0003_x.sql.swp", "0003_Bad.sql", "0003_nul.sql",
					     "0002_again.sql" };

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		s_rm(names[i]);
	return rmdir(s_tmp);
}

static void test_scan(void **state)
{
	struct migration *v = NULL;
	char err[CTL_ERR_MAX] = "";
	char hex[MIGRATION_CHECKSUM_HEX];
	size_t n = 99;

	/* empty directory: no migrations, not an error */
	assert_int_equal(migrations_scan(s_tmp, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	v = migrations_free(v, n);

	s_put("0002_logs.sql", "SELECT 2;\n", 10);
	s_put("0001_roles.sql", "SELECT 1;\n", 10);
	s_put("README", "not a migration", 15);
	s_put(".0003_x.sql.swp", "editor junk", 11);
	assert_int_equal(migrations_scan(s_tmp, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].file, "0001_roles.sql");
	assert_string_equal(v[1].file, "0002_logs.sql");
	assert_string_equal(v[1].sql, "SELECT 2;\n");
	assert_int_equal(v[1].sql_len, 10);
	migration_checksum("SELECT 2;\n", 10, hex);
	assert_string_equal(v[1].checksum, hex);
	v = migrations_free(v, n);

	s_put("0003_Bad.sql", "x", 1);
	assert_int_equal(migrations_scan(s_tmp, &v, &n, err, sizeof(err)), -EINVAL);
	assert_contains(err, "0003_Bad.sql: bad migration file name");
	s_rm("0003_Bad.sql");

	s_put("0003_nul.sql", "SELECT\0 1;", 10);
	assert_int_equal(migrations_scan(s_tmp, &v, &n, err, sizeof(err)), -EBADMSG);
	assert_contains(err, "0003_nul.sql: contains a NUL byte");
	s_rm("0003_nul.sql");

	s_put("0002_again.sql", "x", 1);
	assert_int_equal(migrations_scan(s_tmp, &v, &n, err, sizeof(err)), -EINVAL);
	assert_contains(err, "two migrations have number 0002");
	s_rm("0002_again.sql");

	assert_int_equal(migrations_scan("/nonexistent-sembark-dir", &v, &n, err, sizeof(err)),
			 -ENOENT);
	assert_contains(err, "cannot open migrations directory /nonexistent-sembark-dir");
}

static void test_dir_choice(void **state)
{
	char dir[PATH_MAX];

	setenv("SEMBARK_MIGRATIONS_DIR", "/from/env", 1);
	assert_int_equal(migrations_dir("/from/option", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/from/option");
	assert_int_equal(migrations_dir(NULL, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/from/env");
	assert_int_equal(migrations_dir("", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/from/env");
	assert_int_equal(migrations_dir("/too/long/for/it", dir, 8), -ENAMETOOLONG);
	unsetenv("SEMBARK_MIGRATIONS_DIR");
	/* else next to the binary (build/tests/ -> ../../migrations) or installed */
	assert_int_equal(migrations_dir(NULL, dir, sizeof(dir)), 0);
	assert_true(strcmp(dir, "/usr/share/sembark/migrations") == 0 ||
		    strstr(dir, "/migrations") != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_filename),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_checksum_valid),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test_setup_teardown(test_scan, s_setup_dir, s_teardown_dir),
		cmocka_unit_test(test_dir_choice),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
