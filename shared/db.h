/*
 * db.h - one PostgreSQL connection of a daemon, through its own role.
 *
 * Every statement is parameterised (PQexecParams); there is no call that
 * takes SQL with values spliced in. A statement_timeout and a connect
 * timeout bound every call. A broken connection is noticed, reported as
 * -ENOTCONN, and re-opened on the next call, so a daemon rides out a
 * PostgreSQL restart: its requests fail (HTTP 503) meanwhile, then work.
 * Result getters are the one place SQL results are bounds-checked.
 */
#ifndef SEMBARK_DB_H
#define SEMBARK_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "config.h"
#include "macro.h"

struct db;

/*
 * db_new - prepare (not yet open) a connection as `user` with `password`
 * (may be NULL: peer/trust auth) to the database of cfg->database.
 * application_name is "sembark-<service>". Does not keep the password
 * beyond the struct's (sodium-locked) copy.
 */
int db_new(const struct sembark_config *cfg, const char *service, const char *user,
	   const char *password, struct db **ret);
struct db *db_free(struct db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct db *, db_free)

/* db_ensure - connect when not connected; 0 or -ENOTCONN */
int db_ensure(struct db *db);
/* db_ping - SELECT 1 (reconnecting first when needed); 0 or -ENOTCONN */
int db_ping(struct db *db);
bool db_is_up(const struct db *db);

/*
 * db_query - run one parameterised statement (text params, text results).
 * Returns 0 with *ret (PQclear it) for COMMAND_OK / TUPLES_OK; -ENOTCONN
 * when the connection is gone (it will be re-opened next time); -EIO for
 * an SQL error, whose SQLSTATE is in db_last_sqlstate(). ret may be NULL.
 */
int db_query(struct db *db, PGresult **ret, const char *sql, int nparams,
	     const char *const *params);
/* db_exec - db_query without a result */
int db_exec(struct db *db, const char *sql, int nparams, const char *const *params);
const char *db_last_sqlstate(const struct db *db); /* "" when none */
const char *db_last_error(const struct db *db);    /* one line, for logs */
PGconn *db_conn(struct db *db); /* for COPY; NULL when down */

#define DB_PARAMS_MAX 16
/* db_conn_params - the libpq keywords and values of db's connection, NULL-terminated (for pgq.c) */
void db_conn_params(const struct db *db, const char *keys[static DB_PARAMS_MAX],
		    const char *vals[static DB_PARAMS_MAX]);
/* db_error_line - one line of a libpq message, without host addresses; for logs */
void db_error_line(const char *msg, char *out, size_t size);
/* db_on_notice - libpq's notice receiver for every sembark connection: debug only */
void db_on_notice(void *userdata, const PGresult *res);
/* db_user - the role the connection is for (for logs) */
const char *db_user(const struct db *db);

static inline void pqclearp(PGresult **r)
{
	if (*r)
		PQclear(*r);
}
#define _cleanup_pgresult_ _cleanup_(pqclearp)

/*
 * The statements of partition upkeep, fn a string literal: the daemons
 * declare them on their asynchronous pool (pgq.h) with the same two
 * parameters as below; the functions below expand them with "%s".
 */
#define DB_PARTITIONS_ENSURE_SQL(fn) "SELECT " fn "($1::date, $2::int)"
#define DB_PARTITIONS_DROP_SQL(fn) \
	"SELECT * FROM " fn "(coalesce($1::timestamptz, now()) - make_interval(days => $2::int))"

/*
 * Partition upkeep through SECURITY DEFINER functions (migrations/): fn
 * names such a function ([schema.]name: letters, digits, '_'), a
 * constant of the caller, never input; anything else is -EINVAL.
 *
 * db_partitions_ensure - SELECT fn(from_day::date, days::int), which
 * makes the daily partitions of from_day ("2026-11-29") and the days - 1
 * after it: *ret_created how many it made. 0 or db_query's errors.
 */
int db_partitions_ensure(struct db *db, const char *fn, const char *from_day, int days,
			 int64_t *ret_created);
/*
 * db_partitions_drop - SELECT * FROM fn(cutoff - days days), which drops
 * the partitions whose range ends at or before that and returns their
 * names: one a row, in column 0 of *ret (PQclear it). cutoff is RFC 3339
 * text, or NULL for the database's now(). 0 or db_query's errors.
 */
int db_partitions_drop(struct db *db, const char *fn, const char *cutoff, int days,
		       PGresult **ret);

/* Bounds-checked result access. Each returns 0, -ERANGE for a bad
 * row/column, -ENODATA for NULL, -E2BIG when text exceeds size - 1,
 * -EBADMSG when the text does not parse. */
int db_get_text(const PGresult *r, int row, int col, char *buf, size_t size);
int db_get_i64(const PGresult *r, int row, int col, int64_t *ret);
int db_get_bool(const PGresult *r, int row, int col, bool *ret);

#endif
