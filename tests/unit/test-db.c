/*
 * test-db.c - shared/db.c against a real PostgreSQL that the test makes
 * itself (lib/pgtest.c: a fresh temporary directory, a Unix socket in it,
 * no TCP, scram passwords). Covers parameterised queries, the
 * bounds-checked getters, SQL errors and their SQLSTATE, the
 * partition-function calls (and the names they refuse), the statement
 * timeout, a wrong password (never echoed), the reconnect throttle, and
 * riding out a restart. Without the server binaries every test is skipped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "lib/pgtest.h"

static struct sembark_config cfg;

static int group_setup(void **state)
{
	int r = pgtest_start("test-db");

	if (r > 0)
		pgtest_config(&cfg);
	return r < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	pgtest_stop();
	return 0;
}

static struct db *s_connect(const char *password)
{
	struct db *db = NULL;

	if (!pgtest_have())
		skip();
	assert_int_equal(db_new(&cfg, "test", PGTEST_SUPER, password, &db), 0);
	assert_non_null(db);
	return db;
}

static void s_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_new_rejects_bad_args(void **state)
{
	struct db *db = NULL;
	char longuser[CONFIG_STR_MAX + 10];

	memset(longuser, 'u', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = '\0';
	assert_int_equal(db_new(&cfg, "test", "", NULL, &db), -EINVAL);
	assert_int_equal(db_new(&cfg, "test", longuser, NULL, &db), -EINVAL);
	assert_int_equal(db_new(NULL, "test", "x", NULL, &db), -EINVAL);
	assert_null(db);
	assert_null(db_free(NULL));
}

static void test_query_and_getters(void **state)
{
	_cleanup_(db_freep) struct db *db = s_connect(PGTEST_SUPER_PW);
	_cleanup_pgresult_ PGresult *res = NULL;
	const char *params[] = { "41", "'; DROP TABLE pg_class; --", "t" };
	char buf[64], tiny[4];
	int64_t i;
	bool b;

	assert_int_equal(db_ping(db), 0);
	assert_true(db_is_up(db));
	assert_non_null(db_conn(db));
	assert_int_equal(db_query(db, &res,
				  "SELECT $1::int + 1, $2::text, NULL::text, $3::bool, 'x'::text, "
				  "9223372036854775807::bigint, current_setting('application_name')",
				  3, params),
			 0);
	assert_int_equal(db_get_i64(res, 0, 0, &i), 0);
	assert_int_equal(i, 42);
	assert_int_equal(db_get_text(res, 0, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, params[1]);
	assert_int_equal(db_get_text(res, 0, 2, buf, sizeof(buf)), -ENODATA);
	assert_int_equal(db_get_bool(res, 0, 3, &b), 0);
	assert_true(b);
	assert_int_equal(db_get_bool(res, 0, 4, &b), -EBADMSG);
	assert_int_equal(db_get_i64(res, 0, 4, &i), -EBADMSG);
	assert_int_equal(db_get_i64(res, 0, 5, &i), 0);
	assert_true(i == INT64_MAX);
	assert_int_equal(db_get_text(res, 0, 1, tiny, sizeof(tiny)), -E2BIG);
	assert_int_equal(db_get_text(res, 0, 6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sembark-test");
}

static void test_getter_bounds(void **state)
{
	_cleanup_(db_freep) struct db *db = s_connect(PGTEST_SUPER_PW);
	_cleanup_pgresult_ PGresult *res = NULL;
	static const struct {
		int row, col;
	} bad[] = { { -1, 0 }, { 0, -1 }, { 1, 0 }, { 0, 1 }, { 100000, 0 }, { 0, 100000 } };
	char buf[16];
	int64_t i;
	bool b;

	assert_int_equal(db_query(db, &res, "SELECT 1", 0, NULL), 0);
	for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
		assert_int_equal(db_get_text(res, bad[k].row, bad[k].col, buf, sizeof(buf)), -ERANGE);
		assert_int_equal(db_get_i64(res, bad[k].row, bad[k].col, &i), -ERANGE);
		assert_int_equal(db_get_bool(res, bad[k].row, bad[k].col, &b), -ERANGE);
	}
	assert_int_equal(db_get_text(NULL, 0, 0, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(db_get_text(res, 0, 0, buf, 0), -E2BIG);
}

static void test_sql_errors(void **state)
{
	_cleanup_(db_freep) struct db *db = s_connect(PGTEST_SUPER_PW);
	static const struct {
		const char *sql;
		const char *sqlstate;
	} cases[] = {
		{ "SELECT 1/0", "22012" },
		{ "SELECT no_such_column", "42703" },
		{ "SELECT * FROM no_such_table", "42P01" },
		{ "SELEC 1", "42601" },
		{ "SELECT 'x'::int", "22P02" },
		{ "SELECT pg_sleep(3)", "57014" }, /* statement_timeout = 1000 ms */
	};

	for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
		assert_int_equal(db_exec(db, cases[k].sql, 0, NULL), -EIO);
		assert_string_equal(db_last_sqlstate(db), cases[k].sqlstate);
		assert_true(db_last_error(db)[0] != '\0');
		assert_null(strchr(db_last_error(db), '\n'));
		/* an SQL error leaves the connection usable */
		assert_true(db_is_up(db));
		assert_int_equal(db_exec(db, "SELECT 1", 0, NULL), 0);
		assert_string_equal(db_last_sqlstate(db), "");
	}
	assert_int_equal(db_exec(db, "SELECT 1", -1, NULL), -EINVAL);
	assert_int_equal(db_exec(db, "SELECT $1", 1, NULL), -EINVAL);
}

/* db_partitions_ensure/_drop against stand-ins for the SECURITY DEFINER functions */
static void test_partitions(void **state)
{
	_cleanup_(db_freep) struct db *db = s_connect(PGTEST_SUPER_PW);
	_cleanup_pgresult_ PGresult *res = NULL, *now = NULL;
	static const char *const bad_fn[] = { "", "1fn", "fn(1)", "fn; DROP TABLE x", "f n", "fn--" };
	char buf[64];
	int64_t created = -1;

	assert_int_equal(db_exec(db, "SET TimeZone = 'UTC'", 0, NULL), 0);
	assert_int_equal(db_exec(db, "CREATE FUNCTION pg_temp.it_ensure(from_day date, days int) "
				 "RETURNS int LANGUAGE sql AS "
				 "$$ SELECT days * 100 + extract(day FROM from_day)::int $$", 0, NULL), 0);
	assert_int_equal(db_exec(db, "CREATE FUNCTION pg_temp.it_drop(cutoff timestamptz) "
				 "RETURNS SETOF text LANGUAGE sql AS $$ SELECT to_char(cutoff, "
				 "'YYYY-MM-DD HH24:MI:SS.US') UNION ALL SELECT 'second' $$", 0, NULL), 0);
	assert_int_equal(db_partitions_ensure(db, "pg_temp.it_ensure", "2026-11-29", 4, &created), 0);
	assert_int_equal(created, 429);
	assert_int_equal(db_partitions_drop(db, "pg_temp.it_drop", "2026-11-29T05:00:00.5+01:00", 2,
					    &res), 0);
	assert_int_equal(PQntuples(res), 2);
	assert_int_equal(db_get_text(res, 0, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-27 04:00:00.500000");
	assert_int_equal(db_get_text(res, 1, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "second");
	assert_int_equal(db_partitions_drop(db, "pg_temp.it_drop", NULL, 0, &now), 0);
	assert_int_equal(PQntuples(now), 2);
	assert_int_equal(db_partitions_ensure(db, "pg_temp.it_ensure", "not a day", 1, &created), -EIO);
	assert_string_equal(db_last_sqlstate(db), "22007");
	for (size_t k = 0; k < ELEMENTSOF(bad_fn); k++) {
		assert_int_equal(db_partitions_ensure(db, bad_fn[k], "2026-11-29", 1, &created), -EINVAL);
		assert_int_equal(db_partitions_drop(db, bad_fn[k], NULL, 0, NULL), -EINVAL);
	}
	assert_int_equal(db_partitions_drop(db, NULL, NULL, 0, NULL), -EINVAL);
}

static void test_wrong_password_and_throttle(void **state)
{
	_cleanup_(db_freep) struct db *db = s_connect("wrong-password-7731");
	struct timespec a, b;

	assert_int_equal(db_ping(db), -ENOTCONN);
	assert_false(db_is_up(db));
	assert_null(db_conn(db));
	assert_non_null(strstr(db_last_error(db), "password authentication failed"));
	assert_null(strstr(db_last_error(db), "wrong-password-7731"));
	assert_null(strstr(db_last_error(db), pgtest_dir())); /* no "connection to ... at" part */

	/* within a second no new attempt is made: an immediate answer */
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int k = 0; k < 50; k++)
		assert_int_equal(db_exec(db, "SELECT 1", 0, NULL), -ENOTCONN);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 500);
}

static void test_no_password_refused(void **state)
{
	_cleanup_(db_freep) struct db *db = s_connect(NULL);

	assert_int_equal(db_ensure(db), -ENOTCONN);
	assert_true(db_last_error(db)[0] != '\0');
}

static int s_ping_until(struct db *db, int want, int timeout_ms)
{
	int r = 0;

	for (int t = 0; t < timeout_ms; t += 100) {
		r = db_ping(db);
		if (r == want)
			return r;
		s_sleep_ms(100);
	}
	return r;
}

static void test_restart_while_idle(void **state)
{
	_cleanup_(db_freep) struct db *db = s_connect(PGTEST_SUPER_PW);

	assert_int_equal(db_ping(db), 0);
	assert_int_equal(pgtest_ctl("restart"), 0);
	/* the dead connection is noticed and replaced within the same ping */
	assert_int_equal(db_ping(db), 0);
	assert_true(db_is_up(db));
}

static void test_outage_and_recovery(void **state)
{
	_cleanup_(db_freep) struct db *db = s_connect(PGTEST_SUPER_PW);

	assert_int_equal(db_ping(db), 0);
	assert_int_equal(pgtest_ctl("stop"), 0);
	assert_int_equal(db_ping(db), -ENOTCONN);
	assert_false(db_is_up(db));
	assert_int_equal(db_exec(db, "SELECT 1", 0, NULL), -ENOTCONN);
	assert_int_equal(pgtest_ctl("start"), 0);
	/* reconnects by itself, at most one attempt a second */
	assert_int_equal(s_ping_until(db, 0, 5000), 0);
	assert_true(db_is_up(db));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_rejects_bad_args),
		cmocka_unit_test(test_query_and_getters),
		cmocka_unit_test(test_getter_bounds),
		cmocka_unit_test(test_sql_errors),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_wrong_password_and_throttle),
		cmocka_unit_test(test_no_password_refused),
		cmocka_unit_test(test_restart_while_idle),
		cmocka_unit_test(test_outage_and_recovery),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
