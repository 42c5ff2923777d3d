/*
 * migrate.c - `sembarkctl migrate [--status] [--migrations DIR]`: bring the
 * database schema up to the newest migrations/NNNN_name.sql file.
 *
 * Runs as the schema owner ([database] owner_user, password from the
 * credential "db-owner-password" or [database] owner_password_file). Under
 * a session advisory lock (a second migrate waits), it records applied
 * versions in schema_migrations with the SHA-256 of each file, refuses to
 * do anything when an applied file changed, was renamed or went missing,
 * then applies each pending file in its own transaction: all of the file
 * and its schema_migrations row, or nothing. Last it sets the password of
 * each daemon role whose password file/credential is configured, sending
 * a SCRAM verifier computed here so the clear text never reaches the server.
 *
 * This is the one place where whole SQL text is executed (PQexec): the
 * migration files are ours, not input. Everything else is parameterised.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "ctl.h"
#include "db.h"
#include "secret.h"

/* 'sembark' 0x01; 0x02 is sembark_ensure_log_partitions' transaction lock */
#define MIGRATE_LOCK_KEY "8315172556318599937"

struct migrate_opts {
	bool status;
	const char *dir;
};

struct migrate_run {
	struct sembark_config cfg;
	char dir[PATH_MAX];
	struct migration *files;
	size_t n_files;
	struct migration_applied *applied;
	size_t n_applied;
	struct migration_plan plan;
	struct db *db;
	bool progress; /* "applying X ... " printed, its outcome not yet */
};

static void s_run_done(struct migrate_run *m)
{
	migration_plan_done(&m->plan);
	m->files = migrations_free(m->files, m->n_files);
	free(m->applied);
	m->applied = NULL;
	m->db = db_free(m->db);
}

static int s_parse_args(int argc, char **argv, struct migrate_opts *ret)
{
	static const struct option options[] = {
		{ "status", no_argument, NULL, 's' },
		{ "migrations", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+sm:h", options, NULL)) >= 0) {
		switch (c) {
		case 's':
			ret->status = true;
			break;
		case 'm':
			ret->dir = optarg;
			break;
		case 'h':
			printf("Usage: sembarkctl [--config PATH] migrate [--status] [--migrations DIR]\n");
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sembarkctl: migrate: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int64_t s_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int s_connect(struct migrate_run *m)
{
	_cleanup_(secret_freep) struct secret *pw = NULL;
	const char *user = m->cfg.database.owner_user;
	int r;

	r = ctl_load_password("db-owner-password", m->cfg.database.owner_password_file, &pw);
	if (r < 0)
		return r;
	r = db_new(&m->cfg, "ctl", user, pw ? (const char *)pw->data : NULL, &m->db);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: cannot set up the database connection: %s\n",
			strerror(-r));
		return r;
	}
	r = db_ensure(m->db);
	if (r < 0)
		fprintf(stderr, "sembarkctl: cannot connect to database '%s' as %s "
			"(host %s, port %d): %s\n", m->cfg.database.name, user,
			m->cfg.database.host, m->cfg.database.port, db_last_error(m->db));
	return r;
}

/* End a progress line with "failed" before an error message. */
static void s_progress_failed(struct migrate_run *m)
{
	if (!m->progress)
		return;
	printf("failed\n");
	fflush(stdout);
	m->progress = false;
}

/* Run one parameterised statement; print what failed. */
static int s_exec(struct migrate_run *m, const char *what, const char *sql, int n,
		  const char *const *params)
{
	int r = db_exec(m->db, sql, n, params);

	if (r < 0) {
		s_progress_failed(m);
		fprintf(stderr, "sembarkctl: %s: %s\n", what, db_last_error(m->db));
	}
	return r;
}

/* No statement timeout (DDL and the lock may take long), no NOTICE noise. */
static int s_session_setup(struct migrate_run *m)
{
	static const char *const params[] = { MIGRATE_LOCK_KEY };
	int r;

	r = s_exec(m, "session setup",
		   "SELECT pg_catalog.set_config('statement_timeout', '0', false), "
		   "pg_catalog.set_config('client_min_messages', 'warning', false)", 0, NULL);
	if (r < 0)
		return r;
	return s_exec(m, "taking the migration lock",
		      "SELECT pg_catalog.pg_advisory_lock($1::bigint)", 1, params);
}

static int s_table_exists(struct migrate_run *m, bool *ret)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	r = db_query(m->db, &res,
		     "SELECT pg_catalog.to_regclass('public.schema_migrations') IS NOT NULL", 0, NULL);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: looking for schema_migrations: %s\n", db_last_error(m->db));
		return r;
	}
	r = db_get_bool(res, 0, 0, ret);
	if (r < 0)
		fprintf(stderr, "sembarkctl: unexpected answer looking for schema_migrations\n");
	return r;
}

static int s_create_table(struct migrate_run *m)
{
	return s_exec(m, "creating schema_migrations",
		      "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
		      "version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
		      "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL);
}

static int s_get_row(const PGresult *res, int row, struct migration_applied *a)
{
	int64_t v;
	int r;

	r = db_get_i64(res, row, 0, &v);
	if (r >= 0 && (v < 1 || v > MIGRATION_VERSION_MAX))
		r = -ERANGE;
	if (r >= 0)
		r = db_get_text(res, row, 1, a->name, sizeof(a->name));
	if (r >= 0)
		r = db_get_text(res, row, 2, a->checksum, sizeof(a->checksum));
	if (r >= 0)
		r = db_get_text(res, row, 3, a->applied_at, sizeof(a->applied_at));
	a->version = (int)v;
	return r;
}

static int s_read_rows(struct migrate_run *m, const PGresult *res)
{
	int n = PQntuples(res), r;

	if (n > MIGRATION_VERSION_MAX)
		return -E2BIG;
	m->applied = calloc((size_t)n + 1, sizeof(m->applied[0]));
	if (!m->applied)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		r = s_get_row(res, i, &m->applied[i]);
		if (r < 0)
			return r;
	}
	m->n_applied = (size_t)n;
	return 0;
}

/* The applied versions, ascending; none when the table does not exist. */
static int s_read_applied(struct migrate_run *m)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	bool exists = false;
	int r;

	r = s_table_exists(m, &exists);
	if (r < 0 || !exists)
		return r;
	r = db_query(m->db, &res,
		     "SELECT version, name, checksum, "
		     "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"') "
		     "FROM public.schema_migrations ORDER BY version", 0, NULL);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: reading schema_migrations: %s\n", db_last_error(m->db));
		return r;
	}
	r = s_read_rows(m, res);
	if (r < 0)
		fprintf(stderr, "sembarkctl: schema_migrations holds a row sembarkctl cannot read: %s\n",
			strerror(-r));
	return r;
}

/* Finish a COPY a migration file started: not supported, fail it. */
static void s_abort_copy(PGconn *conn, PGresult *res)
{
	PGresult *more;
	char *buf;

	if (PQresultStatus(res) == PGRES_COPY_IN)
		PQputCopyEnd(conn, "COPY is not supported in migrations");
	else if (PQresultStatus(res) == PGRES_COPY_OUT)
		while (PQgetCopyData(conn, &buf, 0) > 0)
			PQfreemem(buf);
	while ((more = PQgetResult(conn)))
		PQclear(more);
}

/* The file's whole SQL in the open transaction; prints the server's error. */
static int s_exec_file(struct migrate_run *m, const struct migration *f)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	PGconn *conn = db_conn(m->db);
	ExecStatusType st;

	if (!conn) {
		s_progress_failed(m);
		fprintf(stderr, "sembarkctl: %s: the database connection is gone\n", f->file);
		return -ENOTCONN;
	}
	res = PQexec(conn, f->sql);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
		return 0;
	if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT)
		s_abort_copy(conn, res);
	s_progress_failed(m);
	fprintf(stderr, "sembarkctl: %s/%s: %s", m->dir, f->file,
		res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	return -EIO;
}

static int s_apply_one(struct migrate_run *m, const struct migration *f)
{
	char version[16];
	const char *params[] = { version, f->name, f->checksum };
	int64_t t0 = s_mono_ms();
	int r;

	snprintf(version, sizeof(version), "%d", f->version);
	printf("applying %s ... ", f->file);
	fflush(stdout);
	m->progress = true;
	r = s_exec(m, "BEGIN", "BEGIN", 0, NULL);
	if (r < 0)
		return r;
	r = s_exec_file(m, f);
	if (r >= 0)
		r = s_exec(m, f->file,
			   "INSERT INTO public.schema_migrations (version, name, checksum) "
			   "VALUES ($1::int, $2, $3)", 3, params);
	if (r >= 0)
		r = s_exec(m, f->file, "COMMIT", 0, NULL);
	if (r < 0) {
		(void)db_exec(m->db, "ROLLBACK", 0, NULL);
		fprintf(stderr, "sembarkctl: %s rolled back, nothing of it applied\n", f->file);
		return r;
	}
	printf("ok (%lld ms)\n", (long long)(s_mono_ms() - t0));
	m->progress = false;
	return 0;
}

static int s_apply_pending(struct migrate_run *m)
{
	const struct migration_plan *p = &m->plan;
	int r;

	for (size_t i = 0; i < p->n_steps; i++) {
		if (p->steps[i].state != MIGRATION_PENDING)
			continue;
		r = s_apply_one(m, p->steps[i].file);
		if (r < 0)
			return r;
	}
	if (p->n_pending > 0)
		printf("%zu migration%s applied, schema at version %d\n", p->n_pending,
		       p->n_pending == 1 ? "" : "s", p->target_version);
	else
		printf("schema up to date at version %d\n", p->current_version);
	return 0;
}

/* Set one daemon role's password (as a SCRAM verifier), if configured. */
static int s_set_password(struct migrate_run *m, const char *role, const char *credential,
			  const char *path)
{
	_cleanup_(secret_freep) struct secret *pw = NULL;
	char *verifier;
	int r;

	r = ctl_load_password(credential, path, &pw);
	if (r < 0 || !pw)
		return r;
	verifier = PQencryptPasswordConn(db_conn(m->db), (const char *)pw->data, role,
					 "scram-sha-256");
	if (!verifier) {
		fprintf(stderr, "sembarkctl: cannot hash the password of %s\n", role);
		return -EIO;
	}
	r = s_exec(m, role, "SELECT public.sembark_set_role_password($1, $2)", 2,
		   (const char *const[]){ role, verifier });
	PQfreemem(verifier);
	if (r >= 0)
		printf("password of %s set\n", role);
	return r;
}

static int s_set_passwords(struct migrate_run *m)
{
	const struct sembark_config *c = &m->cfg;
	int r;

	r = s_set_password(m, "sembark_authd", "db-authd-password",
			   c->database.authd_password_file);
	if (r >= 0)
		r = s_set_password(m, "sembark_telemetryd", "db-telemetryd-password",
				   c->database.telemetryd_password_file);
	if (r >= 0)
		r = s_set_password(m, "sembark_logd", "db-logd-password",
				   c->database.logd_password_file);
	if (r >= 0)
		r = s_set_password(m, "sembark_maild", "db-maild-password",
				   c->database.maild_password_file);
	return r;
}

static void s_print_step(const struct migration_step *s)
{
	char file[MIGRATION_FILENAME_MAX + 16];

	if (s->file)
		snprintf(file, sizeof(file), "%s", s->file->file);
	else
		snprintf(file, sizeof(file), "%04d_%s.sql", s->version, s->applied->name);
	printf("%-40s %-12s %s\n", file, migration_state_to_string(s->state),
	       s->applied ? s->applied->applied_at : "");
}

static int s_print_status(struct migrate_run *m)
{
	const struct migration_plan *p = &m->plan;
	char err[CTL_ERR_MAX];

	printf("migrations in %s\n", m->dir);
	for (size_t i = 0; i < p->n_steps; i++)
		s_print_step(&p->steps[i]);
	printf("schema at version %d, %zu pending\n", p->current_version, p->n_pending);
	if (migration_plan_check(p, m->dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "sembarkctl: %s\n", err);
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}

/* Read files and rows and build the plan; refuse on any inconsistency. */
static int s_plan(struct migrate_run *m, bool check)
{
	char err[CTL_ERR_MAX];
	int r;

	r = s_read_applied(m);
	if (r < 0)
		return r;
	r = migration_plan_build(m->files, m->n_files, m->applied, m->n_applied, &m->plan);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: %s\n", strerror(-r));
		return r;
	}
	if (check && migration_plan_check(&m->plan, m->dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "sembarkctl: %s\nsembarkctl: refusing to migrate\n", err);
		return -EINVAL;
	}
	return 0;
}

static int s_files(struct migrate_run *m)
{
	char err[CTL_ERR_MAX];
	int r;

	r = migrations_scan(m->dir, &m->files, &m->n_files, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "sembarkctl: %s\n", err);
	return r;
}

static int s_migrate(struct migrate_run *m, const struct migrate_opts *o)
{
	int r;

	r = s_files(m);
	if (r >= 0)
		r = s_connect(m);
	if (r >= 0 && o->status) {
		r = s_plan(m, false);
		return r < 0 ? CTL_EXIT_FAILURE : s_print_status(m);
	}
	if (r >= 0)
		r = s_session_setup(m);
	if (r >= 0)
		r = s_create_table(m);
	if (r >= 0)
		r = s_plan(m, true);
	if (r >= 0)
		r = s_apply_pending(m);
	if (r >= 0)
		r = s_set_passwords(m);
	return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

/* ctl_migrate - `sembarkctl migrate [--status] [--migrations DIR]` */
int ctl_migrate(const struct ctl_context *ctx, int argc, char **argv)
{
	struct migrate_opts o = { 0 };
	struct migrate_run m = { 0 };
	int r;

	r = s_parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	r = migrations_dir(o.dir, m.dir, sizeof(m.dir));
	if (r < 0) {
		fprintf(stderr, "sembarkctl: migrations directory: %s\n", strerror(-r));
		return CTL_EXIT_FAILURE;
	}
	if (ctl_load_config(ctx, &m.cfg) < 0)
		return CTL_EXIT_FAILURE;
	r = s_migrate(&m, &o);
	s_run_done(&m);
	return r;
}
