/*
 * test-pgq.c - shared/pgq.c, the asynchronous PostgreSQL pool, against a
 * real PostgreSQL that the test makes itself (lib/pgtest.c). The test
 * drives the libevent loop by hand, one event_base_loop(EVLOOP_ONCE) at
 * a time, with a 50 ms tick so that every turn ends; every wait is
 * bounded in turns and in time. Covers prepared statements with text
 * parameters (and SQL NULL), SQL errors and their SQLSTATE, callbacks
 * only from the loop (also from a callback that runs the next query),
 * deadlines (running and queued), queueing beyond the connections,
 * pgq_cancel (queued and running), pgq_ping, an outage (-ENOTCONN at once)
 * and the reconnection after it, pgq_free with queries in flight, a full
 * queue, pgq_listen (notifications, a lost listener that comes back), and
 * the arguments pgq refuses. The tests that need the server
 * are skipped without its binaries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <event2/event.h>

#include "config.h"
#include "db.h"
#include "lib/pgtest.h"
#include "macro.h"
#include "pgq.h"

#define TICK_MS 50         /* the loop wakes at least this often */
#define TURNS_MAX 100000   /* no wait takes more loop turns than this */
#define WAIT_MS 8000       /* nor more time than this, unless it says */
#define CELLS_MAX 4        /* rows and columns of a result kept by a callback */
#define ANSWERS_MAX 64
#define UUID_OK "6f1c8f2e-4b7a-4c3d-9e21-0a5b6c7d8e9f"

/* the statements every pool of the test declares, in this order (the first is 1) */
enum {
	STMT_ROWS = 1, /* rows 1..$3, "$1" || row, $2 */
	STMT_UUID,     /* $1::uuid */
	STMT_DIV,      /* 10 / $1 */
	STMT_INSERT,   /* into a table with a primary key */
	STMT_SLEEP,    /* pg_sleep($1) */
	STMT_SEQ,      /* $1, nextval, the backend's pid */
	STMT_NOTIFY,   /* pg_notify($1, $2) */
	STMT_KILL_LISTENER, /* ends the backends whose last query was LISTEN pgq_test */
	STMT_MAX
};

static const struct {
	const char *sql;
	int nparams;
} stmts[STMT_MAX] = {
	[STMT_ROWS] = { "SELECT g, $1::text || g, $2::text FROM generate_series(1, $3::int) g "
			"ORDER BY g", 3 },
	[STMT_UUID] = { "SELECT $1::uuid", 1 },
	[STMT_DIV] = { "SELECT 10 / $1::int", 1 },
	[STMT_INSERT] = { "INSERT INTO pgq_test_keys (k) VALUES ($1)", 1 },
	[STMT_SLEEP] = { "SELECT pg_sleep($1::float8)", 1 },
	[STMT_SEQ] = { "SELECT $1::int, nextval('pgq_test_seq'), pg_backend_pid()", 1 },
	[STMT_NOTIFY] = { "SELECT pg_notify($1, $2)", 2 },
	[STMT_KILL_LISTENER] = { "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
				 "WHERE query = 'LISTEN pgq_test' AND pid <> pg_backend_pid() "
				 "AND $1::int > 0", 1 },
};

/* What one callback saw, copied out of the result (which is gone after the call). */
struct answer {
	int calls;
	int r;
	int order;     /* 1 + the answers of the fixture before this one */
	bool had_res;
	bool in_run;   /* it ran inside pgq_run */
	char sqlstate[8];
	int rows;
	bool null[CELLS_MAX][CELLS_MAX];
	char cell[CELLS_MAX][CELLS_MAX][64];
	int64_t at_ms;
	struct fixture *f;
	int chain;     /* queries the callback still runs, one after the other */
};

/* One pool on its own loop; the answers live here so pgq_free in the teardown may still write them. */
struct fixture {
	struct event_base *base;
	struct event *tick;
	struct db *db;
	struct pgq *q;
	bool in_run;
	int answered;
	bool pg_stopped; /* the test stopped the server: the teardown starts it again */
	struct answer a[ANSWERS_MAX];
	struct {         /* what pgq_listen's callback heard */
		int ups, downs, notifies;
		bool listening_at_up; /* pgq_listening() said so during PGQ_LISTEN_UP */
		char last[64];
	} heard;
};

static struct sembark_config cfg;

static int64_t s_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_tick_cb(evutil_socket_t fd, short what, void *userdata)
{
}

static int s_run(struct fixture *f, int stmt, const char *const *params, int deadline_ms,
		 struct answer *a, uint64_t *ret_id);

/* s_on_answer - pgq's callback: copy what it was given into the answer */
static void s_on_answer(int r, const PGresult *res, const char *sqlstate, void *userdata)
{
	struct answer *a = userdata;

	a->calls++;
	a->r = r;
	a->order = ++a->f->answered;
	a->in_run = a->f->in_run;
	a->had_res = res != NULL;
	a->at_ms = s_now_ms();
	snprintf(a->sqlstate, sizeof(a->sqlstate), "%s", sqlstate ? sqlstate : "(null)");
	a->rows = res ? PQntuples(res) : -1;
	for (int i = 0; res && i < MIN(a->rows, CELLS_MAX); i++)
		for (int k = 0; k < MIN(PQnfields(res), CELLS_MAX); k++) {
			a->null[i][k] = PQgetisnull(res, i, k);
			snprintf(a->cell[i][k], sizeof(a->cell[i][k]), "%s", PQgetvalue(res, i, k));
		}
	if (a->chain > 0 && a < a->f->a + ANSWERS_MAX - 1) {
		a[1].chain = a->chain - 1;
		(void)s_run(a->f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[1], NULL);
	}
}

/* s_run - pgq_run with s_on_answer into a, noting that the call is under way */
static int s_run(struct fixture *f, int stmt, const char *const *params, int deadline_ms,
		 struct answer *a, uint64_t *ret_id)
{
	int r;

	a->f = f;
	f->in_run = true;
	r = pgq_run(f->q, stmt, stmts[stmt].nparams, params, deadline_ms, s_on_answer, a, ret_id);
	f->in_run = false;
	return r;
}

/* ---- waiting on the loop --------------------------------------------------------- */

typedef bool (*cond_fn)(const struct fixture *f, const void *arg);

/* s_loop_until - turn the loop until done(f, arg), at most guard_ms and TURNS_MAX turns */
static bool s_loop_until(struct fixture *f, cond_fn done, const void *arg, int guard_ms)
{
	int64_t end = s_now_ms() + guard_ms;

	for (int turn = 0; turn < TURNS_MAX && !done(f, arg); turn++) {
		if (s_now_ms() >= end)
			break;
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	return done(f, arg);
}

static bool s_called(const struct fixture *f, const void *arg)
{
	return ((const struct answer *)arg)->calls > 0;
}

static bool s_answered_n(const struct fixture *f, const void *arg)
{
	return f->answered >= *(const int *)arg;
}

static bool s_queued_le(const struct fixture *f, const void *arg)
{
	return pgq_queued(f->q) <= *(const size_t *)arg;
}

static bool s_down(const struct fixture *f, const void *arg)
{
	return !pgq_is_up(f->q);
}

static bool s_never(const struct fixture *f, const void *arg)
{
	return false;
}

/* s_wait - until a has been answered */
static void s_wait(struct fixture *f, struct answer *a, int guard_ms)
{
	assert_true(s_loop_until(f, s_called, a, guard_ms));
}

/* s_spin - turn the loop for ms, whatever happens */
static void s_spin(struct fixture *f, int ms)
{
	(void)s_loop_until(f, s_never, NULL, ms);
}

/* s_ready - a ping answered: a connection is open and takes queries */
static void s_ready(struct fixture *f, struct answer *a)
{
	a->f = f;
	assert_int_equal(pgq_ping(f->q, WAIT_MS, s_on_answer, a), 0);
	s_wait(f, a, WAIT_MS);
	assert_int_equal(a->r, 0);
}

/* ---- fixtures -------------------------------------------------------------------- */

/* s_pool - a pool of conns on f->base with the test's statements (not started) */
static void s_pool(struct fixture *f, int conns)
{
	assert_int_equal(pgq_new(f->base, f->db, conns, &f->q), 0);
	for (int i = 1; i < STMT_MAX; i++)
		assert_int_equal(pgq_statement(f->q, stmts[i].sql, stmts[i].nparams), i);
}

static int s_setup(void **state, int conns, bool start)
{
	const struct timeval tick = { 0, TICK_MS * 1000 };
	struct fixture *f;

	*state = NULL;
	if (!pgtest_have())
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	f->base = event_base_new();
	f->tick = f->base ? event_new(f->base, -1, EV_PERSIST, s_tick_cb, NULL) : NULL;
	if (!f->tick || event_add(f->tick, &tick) < 0)
		return -1;
	if (db_new(&cfg, "test", PGTEST_SUPER, PGTEST_SUPER_PW, &f->db) < 0)
		return -1;
	s_pool(f, conns);
	return start ? pgq_start(f->q) : 0;
}

static int setup_1(void **state)
{
	return s_setup(state, 1, true);
}

static int setup_2(void **state)
{
	return s_setup(state, 2, true);
}

static int setup_3(void **state)
{
	return s_setup(state, 3, true);
}

static int setup_unstarted(void **state)
{
	return s_setup(state, 1, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	if (f->pg_stopped)
		(void)pgtest_ctl("start");
	pgq_free(f->q); /* before the loop: its events are on it */
	if (f->tick)
		event_free(f->tick);
	if (f->base)
		event_base_free(f->base);
	db_free(f->db);
	free(f);
	return 0;
}

static struct fixture *s_fixture(void **state)
{
	if (!*state)
		skip();
	return *state;
}

/* the group: the server, and the table and sequence the statements use */
static int group_setup(void **state)
{
	struct db *db = NULL;
	int r = pgtest_start("test-pgq");

	if (r <= 0)
		return r < 0 ? -1 : 0;
	pgtest_config(&cfg);
	if (db_new(&cfg, "test", PGTEST_SUPER, PGTEST_SUPER_PW, &db) < 0)
		return -1;
	r = db_exec(db, "CREATE TABLE pgq_test_keys (k text PRIMARY KEY)", 0, NULL);
	if (r == 0)
		r = db_exec(db, "CREATE SEQUENCE pgq_test_seq", 0, NULL);
	db_free(db);
	return r < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	pgtest_stop();
	return 0;
}

/* ---- tests ----------------------------------------------------------------------- */

/* text parameters in, the right rows out; NULL is SQL NULL; the parameters are copied */
static void test_params_and_rows(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;
	char prefix[16] = "row-";
	static const char *const tricky[] = { "x'); DROP TABLE pgq_test_keys; --", "given", "1" };

	assert_int_equal(s_run(f, STMT_ROWS, (const char *const[]){ prefix, NULL, "3" }, WAIT_MS,
			       &a[0], NULL), 0);
	snprintf(prefix, sizeof(prefix), "changed"); /* pgq_run copied it */
	assert_int_equal(s_run(f, STMT_ROWS, tricky, WAIT_MS, &a[1], NULL), 0);
	assert_int_equal(s_run(f, STMT_ROWS, (const char *const[]){ "a", "b", "0" }, WAIT_MS, &a[2],
			       NULL), 0);
	assert_true(s_loop_until(f, s_answered_n, &(int){ 3 }, WAIT_MS));

	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].r, 0);
		assert_true(a[i].had_res);
		assert_string_equal(a[i].sqlstate, "");
	}
	assert_int_equal(a[0].rows, 3);
	for (int i = 0; i < 3; i++) {
		char want[16];

		snprintf(want, sizeof(want), "row-%d", i + 1);
		assert_false(a[0].null[i][0]);
		assert_int_equal(atoi(a[0].cell[i][0]), i + 1);
		assert_string_equal(a[0].cell[i][1], want);
		assert_true(a[0].null[i][2]); /* the NULL parameter */
	}
	assert_int_equal(a[1].rows, 1);
	assert_string_equal(a[1].cell[0][1], "x'); DROP TABLE pgq_test_keys; --1");
	assert_false(a[1].null[0][2]);
	assert_string_equal(a[1].cell[0][2], "given");
	assert_int_equal(a[2].rows, 0);
}

/* an SQL error is -EIO, no result, its SQLSTATE; the connection goes on working */
static void test_sql_errors(void **state)
{
	struct fixture *f = s_fixture(state);
	static const struct {
		int stmt;
		const char *param;
		int r;
		const char *sqlstate;
	} cases[] = {
		{ STMT_UUID, "not-a-uuid", -EIO, "22P02" },
		{ STMT_DIV, "0", -EIO, "22012" },
		{ STMT_DIV, "x", -EIO, "22P02" },
		{ STMT_INSERT, "dup", 0, "" },
		{ STMT_INSERT, "dup", -EIO, "23505" },
		{ STMT_SLEEP, "3", -EIO, "57014" }, /* statement_timeout = 1000 ms */
		{ STMT_DIV, "5", 0, "" },
	};

	assert_true(ELEMENTSOF(cases) * 2 <= ANSWERS_MAX);
	for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
		struct answer *a = &f->a[2 * k], *after = &f->a[2 * k + 1];

		assert_int_equal(s_run(f, cases[k].stmt, (const char *const[]){ cases[k].param },
				       WAIT_MS, a, NULL), 0);
		s_wait(f, a, WAIT_MS);
		assert_int_equal(a->calls, 1);
		assert_int_equal(a->r, cases[k].r);
		assert_int_equal(a->had_res, cases[k].r == 0);
		assert_string_equal(a->sqlstate, cases[k].sqlstate);
		/* one connection: the same one answers the next query */
		assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, after,
				       NULL), 0);
		s_wait(f, after, WAIT_MS);
		assert_int_equal(after->r, 0);
		assert_string_equal(after->sqlstate, "");
		assert_string_equal(after->cell[0][0], UUID_OK);
	}
	assert_string_equal(f->a[2].cell[0][0], "");  /* untouched: no result on an error */
	assert_string_equal(f->a[12].cell[0][0], "2"); /* 10 / 5 */
	assert_true(pgq_is_up(f->q));
}

/* a callback runs later, from the loop: never inside pgq_run, also when a callback runs a query */
static void test_callback_from_loop(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;

	/* before the pool is up, and once it is */
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[0], NULL),
			 0);
	assert_int_equal(a[0].calls, 0);
	s_wait(f, &a[0], WAIT_MS);
	for (int i = 1; i < 6; i++) {
		assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[i],
				       NULL), 0);
		assert_int_equal(a[i].calls, 0);
	}
	/* a fire-and-forget query between them */
	assert_int_equal(pgq_run(f->q, STMT_DIV, 1, (const char *const[]){ "0" }, WAIT_MS, NULL,
				 NULL, NULL), 0);
	/* a[10]'s callback runs a[11], whose callback runs a[12] */
	a[10].chain = 2;
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[10],
			       NULL), 0);
	/* two connections: a[12] may come before a[5]; wait for all nine */
	assert_true(s_loop_until(f, s_answered_n, &(int){ 9 }, WAIT_MS));

	for (int i = 0; i < 13; i++) {
		if (i >= 6 && i < 10)
			continue;
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].r, 0);
		assert_false(a[i].in_run);
		assert_string_equal(a[i].cell[0][0], UUID_OK);
	}
	assert_int_equal(f->answered, 9);
}

/* a deadline ends a running query and a queued one, well before the server would */
static void test_deadline(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;
	int64_t t0;

	s_ready(f, &a[0]);
	t0 = s_now_ms();
	assert_int_equal(s_run(f, STMT_SLEEP, (const char *const[]){ "5" }, 200, &a[1], NULL), 0);
	assert_true(s_loop_until(f, s_queued_le, &(size_t){ 0 }, WAIT_MS)); /* it runs */
	/* one connection, which a[1] holds: a[2] waits in the queue */
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, 300, &a[2], NULL), 0);
	assert_true(s_loop_until(f, s_answered_n, &(int){ 3 }, 4000));

	assert_int_equal(a[1].r, -ETIMEDOUT);
	assert_false(a[1].had_res);
	assert_true(a[1].at_ms - t0 >= 150);
	assert_true(a[1].at_ms - t0 < 4000);
	assert_int_equal(a[2].r, -ETIMEDOUT);
	assert_true(a[2].at_ms - t0 < 4000);
	assert_true(pgq_is_up(f->q));

	/* the connection comes back once the server gives up (statement_timeout) */
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[3], NULL),
			 0);
	s_wait(f, &a[3], WAIT_MS);
	assert_int_equal(a[3].r, 0);
	assert_string_equal(a[3].cell[0][0], UUID_OK);
	s_spin(f, 200);
	assert_int_equal(a[1].calls, 1);
	assert_int_equal(a[2].calls, 1);
	assert_int_equal(f->answered, 4);
}

/* s_run_seq_all - queue STMT_SEQ 0..n-1 into f->a[0..n-1] at once, then wait for every answer */
static void s_run_seq_all(struct fixture *f, int n)
{
	for (int i = 0; i < n; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(s_run(f, STMT_SEQ, (const char *const[]){ v }, WAIT_MS, &f->a[i], NULL),
				 0);
	}
	assert_int_equal(pgq_queued(f->q), (size_t)n);
	assert_true(s_loop_until(f, s_answered_n, &n, WAIT_MS));
	assert_int_equal(pgq_queued(f->q), 0);
}

/* more queries than connections: all answered once; with one connection, in order */
static void test_queue_one_conn(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;
	const int n = 12;

	s_run_seq_all(f, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].r, 0);
		assert_int_equal(a[i].order, i + 1);
		assert_int_equal(atoi(a[i].cell[0][0]), i);
		if (i > 0) /* ran in the order they were queued */
			assert_true(atoll(a[i].cell[0][1]) > atoll(a[i - 1].cell[0][1]));
	}
}

static void test_queue_three_conns(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;
	const int n = 40;
	long pids[3] = { 0 };
	int npids = 0;

	s_ready(f, &a[n]);
	s_spin(f, 500); /* the other connections are open too */
	f->answered = 0;
	s_run_seq_all(f, n);
	for (int i = 0; i < n; i++) {
		long pid = atol(a[i].cell[0][2]);
		int k = 0;

		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].r, 0);
		assert_int_equal(atoi(a[i].cell[0][0]), i);
		while (k < npids && pids[k] != pid)
			k++;
		if (k == npids) {
			assert_true(npids < 3); /* never more backends than connections */
			pids[npids++] = pid;
		}
	}
	assert_true(npids >= 2); /* the queue was shared out */
	assert_int_equal(f->answered, n);
}

/* pgq_cancel: a cancelled query's callback never runs, queued or running */
static void test_cancel(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;
	uint64_t id_a = 0, id_b = 0, id_d = 0;

	s_ready(f, &a[9]);
	assert_int_equal(s_run(f, STMT_SLEEP, (const char *const[]){ "0.3" }, WAIT_MS, &a[0], &id_a),
			 0);
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[1], &id_b),
			 0);
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[2], NULL),
			 0);
	assert_true(id_a != id_b);
	assert_int_equal(pgq_queued(f->q), 3);
	pgq_cancel(f->q, id_b); /* queued */
	assert_int_equal(pgq_queued(f->q), 2);
	assert_true(s_loop_until(f, s_called, &a[2], WAIT_MS));
	assert_int_equal(a[0].r, 0);
	assert_int_equal(a[2].r, 0);

	/* running: the connection takes the next query once the server has answered */
	assert_int_equal(s_run(f, STMT_SLEEP, (const char *const[]){ "0.3" }, 600, &a[3], &id_d), 0);
	assert_true(s_loop_until(f, s_queued_le, &(size_t){ 0 }, WAIT_MS));
	pgq_cancel(f->q, id_d);
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[4], NULL),
			 0);
	s_wait(f, &a[4], WAIT_MS);
	assert_int_equal(a[4].r, 0);
	s_spin(f, 800); /* past a[3]'s deadline */

	/* ids that match nothing (answered, cancelled, never given) change nothing */
	pgq_cancel(f->q, id_a);
	pgq_cancel(f->q, id_b);
	pgq_cancel(f->q, 0);
	pgq_cancel(f->q, UINT64_MAX);
	pgq_cancel(NULL, id_a);
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[5], NULL),
			 0);
	s_wait(f, &a[5], WAIT_MS);
	assert_int_equal(a[5].r, 0);

	assert_int_equal(a[1].calls, 0);
	assert_int_equal(a[3].calls, 0);
	assert_int_equal(a[0].calls + a[2].calls + a[4].calls + a[5].calls, 4);
	assert_int_equal(f->answered, 5); /* with the ping */
}

/* pgq_ping: r == 0 and SELECT 1's row when up; fire and forget allowed */
static void test_ping(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;

	assert_int_equal(pgq_ping(f->q, WAIT_MS, NULL, NULL), 0);
	a[0].f = f;
	assert_int_equal(pgq_ping(f->q, WAIT_MS, s_on_answer, &a[0]), 0);
	assert_int_equal(a[0].calls, 0);
	s_wait(f, &a[0], WAIT_MS);
	assert_int_equal(a[0].calls, 1);
	assert_int_equal(a[0].r, 0);
	assert_true(a[0].had_res);
	assert_int_equal(a[0].rows, 1);
	assert_string_equal(a[0].cell[0][0], "1");
	assert_string_equal(a[0].sqlstate, "");
	assert_true(pgq_is_up(f->q));
}

/* s_ping_until_up - ping until one answers 0, each -ENOTCONN at once meanwhile; the last r */
static int s_ping_until_up(struct fixture *f, struct answer *a, int n, int guard_ms)
{
	int64_t end = s_now_ms() + guard_ms;
	int i;

	for (i = 0; i < n && s_now_ms() < end; i++) {
		a[i].f = f;
		assert_int_equal(pgq_ping(f->q, 1000, s_on_answer, &a[i]), 0);
		s_wait(f, &a[i], 2000);
		if (a[i].r == 0)
			return 0;
		assert_true(a[i].r == -ENOTCONN || a[i].r == -ETIMEDOUT); /* -ETIMEDOUT: connecting */
		s_spin(f, 250);
	}
	return i > 0 ? a[i - 1].r : -ETIME;
}

/* PostgreSQL away: -ENOTCONN at once, not at the deadline; back: the pool reconnects by itself */
static void test_outage_and_recovery(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;
	int64_t t0;

	s_ready(f, &a[0]);
	assert_true(pgq_is_up(f->q));
	/*
	 * when the server goes: two queries running (one a connection), one
	 * waiting; each answered once, not at its deadline
	 */
	assert_int_equal(s_run(f, STMT_SLEEP, (const char *const[]){ "0.8" }, WAIT_MS, &a[1], NULL),
			 0);
	assert_int_equal(s_run(f, STMT_SLEEP, (const char *const[]){ "0.8" }, WAIT_MS, &a[7], NULL),
			 0);
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[8], NULL),
			 0);
	assert_true(s_loop_until(f, s_queued_le, &(size_t){ 1 }, WAIT_MS));
	f->pg_stopped = true;
	t0 = s_now_ms();
	assert_int_equal(pgtest_ctl("stop"), 0);
	assert_true(s_loop_until(f, s_down, NULL, 5000));
	assert_true(s_loop_until(f, s_answered_n, &(int){ 4 }, 5000));
	for (int i = 1; i < 9; i += 6) { /* -EIO: the server said 57P01 first */
		assert_true(a[i].r == -ENOTCONN || a[i].r == -EIO);
		assert_true(a[i].at_ms - t0 < 5000);
	}
	assert_int_equal(a[8].r, -ENOTCONN);
	assert_true(a[8].at_ms - t0 < 5000);

	/* queries now: -ENOTCONN from the loop, long before their deadline */
	for (int i = 2; i < 6; i++) {
		t0 = s_now_ms();
		assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[i],
				       NULL), 0);
		assert_int_equal(a[i].calls, 0);
		s_wait(f, &a[i], WAIT_MS);
		assert_int_equal(a[i].r, -ENOTCONN);
		assert_false(a[i].had_res);
		assert_false(a[i].in_run);
		assert_true(a[i].at_ms - t0 < 1000); /* "at once": not after a back-off */
		assert_false(pgq_is_up(f->q));
		s_spin(f, 150);
	}

	assert_int_equal(pgtest_ctl("start"), 0);
	f->pg_stopped = false;
	/* back-off is at most 1 s (PGQ_RETRY_MAX_MS): within 20 s a ping answers */
	assert_int_equal(s_ping_until_up(f, &a[10], 40, 20000), 0);
	assert_true(pgq_is_up(f->q));
	assert_int_equal(s_run(f, STMT_ROWS, (const char *const[]){ "r", NULL, "2" }, WAIT_MS, &a[6],
			       NULL), 0);
	s_wait(f, &a[6], WAIT_MS);
	assert_int_equal(a[6].r, 0);
	assert_int_equal(a[6].rows, 2);
	assert_string_equal(a[6].cell[1][1], "r2");
	for (int i = 0; i < 9; i++)
		assert_int_equal(a[i].calls, 1);
}

/* pgq_free: each query not yet answered, running or queued, gets -ECANCELED once */
static void test_free_in_flight(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;

	s_ready(f, &a[0]);
	s_spin(f, 300); /* the second connection is open too */
	/* a[1] given up on: its connection stays busy with it (1 s: statement_timeout) */
	assert_int_equal(s_run(f, STMT_SLEEP, (const char *const[]){ "5" }, 100, &a[1], NULL), 0);
	s_wait(f, &a[1], WAIT_MS);
	assert_int_equal(a[1].r, -ETIMEDOUT);
	assert_int_equal(s_run(f, STMT_SLEEP, (const char *const[]){ "5" }, WAIT_MS, &a[2], NULL), 0);
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[3], NULL),
			 0);
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, WAIT_MS, &a[4], NULL),
			 0);
	/* a[2] runs on the other connection; a[3] and a[4] wait (or run: none is answered) */
	assert_true(s_loop_until(f, s_queued_le, &(size_t){ 2 }, WAIT_MS));
	assert_int_equal(a[2].calls + a[3].calls + a[4].calls, 0);

	f->q = pgq_free(f->q);
	assert_null(f->q);
	for (int i = 2; i < 5; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].r, -ECANCELED);
		assert_false(a[i].had_res);
	}
	/* nothing of the pool is left on the loop to answer again */
	s_spin(f, 300);
	assert_int_equal(a[1].calls, 1);
	for (int i = 2; i < 5; i++)
		assert_int_equal(a[i].calls, 1);
	assert_int_equal(f->answered, 5);
}

/* a full queue refuses with -EAGAIN; pgq_free answers all that waited */
static void test_queue_full(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;

	for (int i = 0; i < PGQ_QUEUE_MAX; i++)
		assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, 60000,
				       &a[i % 2], NULL), 0);
	assert_int_equal(pgq_queued(f->q), PGQ_QUEUE_MAX);
	assert_int_equal(s_run(f, STMT_UUID, (const char *const[]){ UUID_OK }, 60000, &a[2], NULL),
			 -EAGAIN);
	assert_int_equal(pgq_queued(f->q), PGQ_QUEUE_MAX);
	assert_int_equal(f->answered, 0);
	f->q = pgq_free(f->q);
	assert_int_equal(f->answered, PGQ_QUEUE_MAX);
	assert_int_equal(a[0].calls + a[1].calls, PGQ_QUEUE_MAX);
	assert_int_equal(a[0].r, -ECANCELED);
	assert_int_equal(a[1].r, -ECANCELED);
	assert_int_equal(a[2].calls, 0);
}

/* s_on_notify - pgq_listen's callback: count what was heard */
static void s_on_notify(enum pgq_listen_event ev, const char *payload, void *userdata)
{
	struct fixture *f = userdata;

	if (ev == PGQ_LISTEN_UP) {
		f->heard.ups++;
		f->heard.listening_at_up = pgq_listening(f->q);
	} else if (ev == PGQ_LISTEN_DOWN) {
		f->heard.downs++;
	} else {
		f->heard.notifies++;
		snprintf(f->heard.last, sizeof(f->heard.last), "%s", payload);
	}
}

static bool s_ups_ge(const struct fixture *f, const void *arg)
{
	return f->heard.ups >= *(const int *)arg;
}

static bool s_notifies_ge(const struct fixture *f, const void *arg)
{
	return f->heard.notifies >= *(const int *)arg;
}

static bool s_downs_ge(const struct fixture *f, const void *arg)
{
	return f->heard.downs >= *(const int *)arg;
}

/* s_notify - pg_notify(channel, payload) through the pool, answered */
static void s_notify(struct fixture *f, struct answer *a, const char *channel, const char *payload)
{
	assert_int_equal(s_run(f, STMT_NOTIFY, (const char *const[]){ channel, payload }, WAIT_MS, a,
			       NULL), 0);
	s_wait(f, a, WAIT_MS);
	assert_int_equal(a->r, 0);
}

/*
 * pgq_listen: UP once the LISTEN is in force, every notification of its
 * channel (and none of another), DOWN when the connection is lost, and UP
 * again by itself; the arguments it refuses
 */
static void test_listen(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;
	char long_name[PGQ_CHANNEL_MAX + 2];

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(pgq_listen(f->q, "Bad", s_on_notify, f), -EINVAL);
	assert_int_equal(pgq_listen(f->q, "a;b", s_on_notify, f), -EINVAL);
	assert_int_equal(pgq_listen(f->q, "", s_on_notify, f), -EINVAL);
	assert_int_equal(pgq_listen(f->q, NULL, s_on_notify, f), -EINVAL);
	assert_int_equal(pgq_listen(f->q, long_name, s_on_notify, f), -EINVAL);
	assert_int_equal(pgq_listen(f->q, "pgq_test", NULL, f), -EINVAL);
	assert_int_equal(pgq_listen(f->q, "pgq_test", s_on_notify, f), 0);
	assert_int_equal(pgq_listen(f->q, "pgq_test", s_on_notify, f), -EINVAL); /* one only */
	assert_false(pgq_listening(f->q));
	assert_int_equal(pgq_start(f->q), 0);

	assert_true(s_loop_until(f, s_ups_ge, &(int){ 1 }, WAIT_MS));
	assert_true(f->heard.listening_at_up);
	assert_true(pgq_listening(f->q));
	s_notify(f, &a[0], "pgq_test", "one");
	s_notify(f, &a[1], "pgq_other", "not ours");
	s_notify(f, &a[2], "pgq_test", "two");
	assert_true(s_loop_until(f, s_notifies_ge, &(int){ 2 }, WAIT_MS));
	s_spin(f, 300);
	assert_int_equal(f->heard.notifies, 2);
	assert_string_equal(f->heard.last, "two");
	pgq_listen_poll(f->q); /* nothing waiting: nothing heard */
	assert_int_equal(f->heard.notifies, 2);

	/* the listening connection is ended by the server: DOWN, then UP again */
	assert_int_equal(s_run(f, STMT_KILL_LISTENER, (const char *const[]){ "1" }, WAIT_MS, &a[3],
			       NULL), 0);
	s_wait(f, &a[3], WAIT_MS);
	assert_int_equal(a[3].r, 0);
	assert_string_equal(a[3].cell[0][0], "1");
	assert_true(s_loop_until(f, s_downs_ge, &(int){ 1 }, WAIT_MS));
	assert_true(s_loop_until(f, s_ups_ge, &(int){ 2 }, WAIT_MS));
	assert_int_equal(f->heard.downs, 1);
	assert_true(pgq_listening(f->q));
	s_notify(f, &a[4], "pgq_test", "three");
	assert_true(s_loop_until(f, s_notifies_ge, &(int){ 3 }, WAIT_MS));
	assert_string_equal(f->heard.last, "three");
}

/* the arguments pgq refuses; the refused query's callback never runs */
static void test_bad_args(void **state)
{
	struct fixture *f = s_fixture(state);
	struct answer *a = f->a;
	struct pgq *q = NULL;
	const char *one[] = { "1" };

	assert_int_equal(pgq_new(NULL, f->db, 1, &q), -EINVAL);
	assert_int_equal(pgq_new(f->base, NULL, 1, &q), -EINVAL);
	assert_int_equal(pgq_new(f->base, f->db, 0, &q), -EINVAL);
	assert_int_equal(pgq_new(f->base, f->db, PGQ_CONNS_MAX + 1, &q), -EINVAL);
	assert_null(q);
	assert_null(pgq_free(NULL));
	assert_false(pgq_is_up(NULL));
	assert_int_equal(pgq_queued(NULL), 0);

	a[0].f = f;
	assert_int_equal(pgq_run(NULL, STMT_DIV, 1, one, WAIT_MS, s_on_answer, &a[0], NULL), -EINVAL);
	assert_int_equal(pgq_run(f->q, STMT_DIV, 0, NULL, WAIT_MS, s_on_answer, &a[0], NULL), -EINVAL);
	assert_int_equal(pgq_run(f->q, STMT_DIV, 2, (const char *const[]){ "1", "2" }, WAIT_MS,
				 s_on_answer, &a[0], NULL), -EINVAL);
	assert_int_equal(pgq_run(f->q, STMT_MAX, 1, one, WAIT_MS, s_on_answer, &a[0], NULL), -EINVAL);
	assert_int_equal(pgq_run(f->q, -1, 1, one, WAIT_MS, s_on_answer, &a[0], NULL), -EINVAL);
	assert_int_equal(pgq_run(f->q, STMT_DIV, 1, one, 0, s_on_answer, &a[0], NULL), -EINVAL);
	assert_int_equal(pgq_run(f->q, STMT_DIV, 1, one, -5, s_on_answer, &a[0], NULL), -EINVAL);
	assert_int_equal(pgq_queued(f->q), 0);

	/* statements: PGQ_STMTS_MAX in all, PGQ_PARAMS_MAX parameters each */
	assert_int_equal(pgq_new(f->base, f->db, 1, &q), 0);
	assert_int_equal(pgq_statement(q, "SELECT 1", -1), -E2BIG);
	assert_int_equal(pgq_statement(q, "SELECT 1", PGQ_PARAMS_MAX + 1), -E2BIG);
	for (int i = 1; i < PGQ_STMTS_MAX; i++)
		assert_int_equal(pgq_statement(q, "SELECT 1", 0), i);
	assert_int_equal(pgq_statement(q, "SELECT 1", 0), -E2BIG);
	assert_null(pgq_free(q));

	s_ready(f, &a[1]); /* the pool of the fixture works, and only the ping answered */
	assert_int_equal(a[0].calls, 0);
	assert_int_equal(f->answered, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_params_and_rows, setup_2, teardown),
		cmocka_unit_test_setup_teardown(test_sql_errors, setup_1, teardown),
		cmocka_unit_test_setup_teardown(test_callback_from_loop, setup_2, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup_1, teardown),
		cmocka_unit_test_setup_teardown(test_queue_one_conn, setup_1, teardown),
		cmocka_unit_test_setup_teardown(test_queue_three_conns, setup_3, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup_1, teardown),
		cmocka_unit_test_setup_teardown(test_ping, setup_2, teardown),
		cmocka_unit_test_setup_teardown(test_outage_and_recovery, setup_2, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup_2, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full, setup_unstarted, teardown),
		cmocka_unit_test_setup_teardown(test_listen, setup_unstarted, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup_1, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
