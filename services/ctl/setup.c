/*
 * setup.c - `sembarkctl setup [--admin-user NAME] [--migrations DIR]`: make
 * a PostgreSQL server ready for sembark, then migrate.
 *
 * As a PostgreSQL superuser (--admin-user, default "postgres", connected to
 * the database "postgres" at [database] host and port): create the schema
 * owner role ([database] owner_user, LOGIN CREATEROLE, which migration 0001
 * needs to create the daemon roles), or set its password when it exists;
 * create the database ([database] name, owned by that role) unless it
 * exists. Then `migrate` runs as the owner: the daemon roles, the schema,
 * their passwords. Every step that is already done is skipped, so setup
 * may run again.
 *
 * The owner's password comes from the credential "db-owner-password" or
 * [database] owner_password_file and reaches the server only as a SCRAM
 * verifier made here; the statements are built by the server from bind
 * parameters (format() with %I and %L). The admin authenticates as libpq
 * lets it: peer, or PGPASSWORD / PGPASSFILE / ~/.pgpass. Run as root while
 * an OS account of the admin's name exists (Debian's "postgres", whose
 * local login is peer), the admin part runs in a child process with that
 * account's uid and groups; the owner's password is read before, as root.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ctl.h"
#include "db.h"
#include "secret.h"

#define SETUP_ADMIN_DEFAULT "postgres"
#define SETUP_ADMIN_DATABASE "postgres"

struct setup_opts {
	const char *admin_user;
	const char *dir;
};

static int s_parse_args(int argc, char **argv, struct setup_opts *ret)
{
	static const struct option options[] = {
		{ "admin-user", required_argument, NULL, 'a' },
		{ "migrations", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	ret->admin_user = SETUP_ADMIN_DEFAULT;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+a:m:h", options, NULL)) >= 0) {
		switch (c) {
		case 'a':
			ret->admin_user = optarg;
			break;
		case 'm':
			ret->dir = optarg;
			break;
		case 'h':
			printf("Usage: sembarkctl [--config PATH] setup [--admin-user NAME] "
			       "[--migrations DIR]\n");
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sembarkctl: setup: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!*ret->admin_user) {
		fprintf(stderr, "sembarkctl: setup: --admin-user is empty\n");
		return -EINVAL;
	}
	return 0;
}

/* Run the one statement that format_sql (a SELECT format(...)) builds. */
static int s_exec_built(struct db *db, const char *what, const char *format_sql, int n,
			const char *const *params)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	r = db_query(db, &res, format_sql, n, params);
	if (r >= 0 && (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)))
		r = -EIO;
	if (r >= 0)
		r = db_exec(db, PQgetvalue(res, 0, 0), 0, NULL);
	if (r < 0)
		fprintf(stderr, "sembarkctl: %s: %s\n", what, db_last_error(db));
	return r;
}

static int s_exists(struct db *db, const char *what, const char *sql, const char *name,
		    bool *ret)
{
	int r = ctl_db_has(db, sql, name, ret);

	if (r < 0)
		fprintf(stderr, "sembarkctl: looking for %s %s: %s\n", what, name, db_last_error(db));
	return r;
}

/* The owner role: created LOGIN CREATEROLE, or its password set. */
static int s_ensure_owner(struct db *db, const char *owner, const struct secret *pw)
{
	char *verifier = NULL;
	bool exists;
	int r;

	r = s_exists(db, "role", "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles "
		     "WHERE rolname = $1)", owner, &exists);
	if (r < 0)
		return r;
	if (pw) {
		verifier = PQencryptPasswordConn(db_conn(db), (const char *)pw->data, owner,
						 "scram-sha-256");
		if (!verifier) {
			fprintf(stderr, "sembarkctl: cannot hash the password of %s\n", owner);
			return -EIO;
		}
	}
	if (!exists && verifier)
		r = s_exec_built(db, "creating the owner role",
				 "SELECT pg_catalog.format('CREATE ROLE %I LOGIN CREATEROLE PASSWORD %L', "
				 "$1::text, $2::text)", 2, (const char *const[]){ owner, verifier });
	else if (!exists)
		r = s_exec_built(db, "creating the owner role",
				 "SELECT pg_catalog.format('CREATE ROLE %I LOGIN CREATEROLE', $1::text)",
				 1, (const char *const[]){ owner });
	else if (verifier)
		r = s_exec_built(db, "setting the owner's password",
				 "SELECT pg_catalog.format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
				 2, (const char *const[]){ owner, verifier });
	PQfreemem(verifier);
	if (r >= 0)
		printf("role %s %s\n", owner, !exists ? "created" :
		       pw ? "exists, password set" : "exists");
	return r;
}

/* The database, owned by the owner role, unless it exists. */
static int s_ensure_database(struct db *db, const char *name, const char *owner)
{
	bool exists;
	int r;

	r = s_exists(db, "database", "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database "
		     "WHERE datname = $1)", name, &exists);
	if (r < 0 || exists) {
		if (r >= 0)
			printf("database %s exists\n", name);
		return r;
	}
	r = s_exec_built(db, "creating the database",
			 "SELECT pg_catalog.format('CREATE DATABASE %I OWNER %I ENCODING %L "
			 "TEMPLATE template0', $1::text, $2::text, 'UTF8')",
			 2, (const char *const[]){ name, owner });
	if (r >= 0)
		printf("database %s created, owner %s\n", name, owner);
	return r;
}

/* Connect as the admin to the maintenance database; owner role, database. */
static int s_admin_part(const struct sembark_config *cfg, const char *admin,
			const struct secret *pw)
{
	_cleanup_free_ struct sembark_config *acfg = malloc(sizeof(*acfg));
	_cleanup_(db_freep) struct db *db = NULL;
	int r;

	if (!acfg)
		return -ENOMEM;
	*acfg = *cfg;
	snprintf(acfg->database.name, sizeof(acfg->database.name), "%s", SETUP_ADMIN_DATABASE);
	r = db_new(acfg, "ctl", admin, NULL, &db);
	if (r >= 0)
		r = db_ensure(db);
	if (r < 0) {
		fprintf(stderr, "sembarkctl: cannot connect to database '%s' as %s (host %s, port %d): %s\n",
			SETUP_ADMIN_DATABASE, admin, cfg->database.host, cfg->database.port,
			db ? db_last_error(db) : strerror(-r));
		return r;
	}
	r = s_ensure_owner(db, cfg->database.owner_user, pw);
	if (r >= 0)
		r = s_ensure_database(db, cfg->database.name, cfg->database.owner_user);
	return r;
}

static int s_become(const struct passwd *acct)
{
	if (initgroups(acct->pw_name, acct->pw_gid) < 0 ||
	    setresgid(acct->pw_gid, acct->pw_gid, acct->pw_gid) < 0 ||
	    setresuid(acct->pw_uid, acct->pw_uid, acct->pw_uid) < 0) {
		fprintf(stderr, "sembarkctl: cannot become the OS user %s: %s\n", acct->pw_name,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* The admin part in a child running as the OS account acct. */
static int s_admin_part_as(const struct passwd *acct, const struct sembark_config *cfg,
			   const char *admin, const struct secret *pw)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int r = s_become(acct);

		if (r >= 0)
			r = s_admin_part(cfg, admin, pw);
		fflush(stdout);
		_exit(r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int s_setup(const struct ctl_context *ctx, const struct setup_opts *o)
{
	_cleanup_free_ struct sembark_config *cfg = malloc(sizeof(*cfg));
	_cleanup_(secret_freep) struct secret *pw = NULL;
	const struct passwd *acct = NULL;
	int r;

	if (!cfg)
		return -ENOMEM;
	r = ctl_load_config(ctx, cfg);
	if (r >= 0)
		r = ctl_load_password("db-owner-password", cfg->database.owner_password_file, &pw);
	if (r < 0)
		return r;
	if (!pw) { /* a role without a password could not run migrate: say so before making it */
		fprintf(stderr, "sembarkctl: setup: no owner password: set [database] "
				"owner_password_file, or hand over the credential db-owner-password "
				"(systemd-run -p LoadCredential=db-owner-password:sembark-db-owner-password "
				"..., see docs/deploy-systemd.md)\n");
		return -EINVAL;
	}
	if (geteuid() == 0)
		acct = getpwnam(o->admin_user);
	if (acct)
		return s_admin_part_as(acct, cfg, o->admin_user, pw);
	return s_admin_part(cfg, o->admin_user, pw);
}

/* ctl_setup - `sembarkctl setup [--admin-user NAME] [--migrations DIR]` */
int ctl_setup(const struct ctl_context *ctx, int argc, char **argv)
{
	struct setup_opts o = { 0 };
	int r;

	r = s_parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	if (s_setup(ctx, &o) < 0)
		return CTL_EXIT_FAILURE;
	/* then migrate as the owner, with the same --migrations */
	char *margv[] = { "migrate", "--migrations", (char *)o.dir, NULL };
	return ctl_migrate(ctx, o.dir ? 3 : 1, margv);
}
