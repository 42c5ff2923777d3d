/*
 * ctl.h - private types and prototypes of sembarkctl, the operator CLI.
 *
 * sembarkctl runs by hand or from an install script, as the schema owner:
 * it is the only program that holds the owner's database credentials and
 * the only one that runs DDL. Grouped by file:
 *   main.c           argv, the command table, help, version
 *   common.c         helpers of every command (config loading)
 *   migrate.c        `migrate`: lock, apply, record, set daemon passwords
 *   setup.c          `setup`: the owner role and the database, then migrate
 *   migrate_files.c  the migrations directory: where it is, what it holds
 *   migrate_plan.c   pure logic: file names, order, checksums, the plan
 *   owner_db.c       what retention/logs/audit share: owner connection, times
 *   retention.c      `retention`: apply every retention rule (as of --now)
 *   logs.c           `logs`: print stored log records (--follow)
 *   audit.c          `audit`: print a team's audit trail
 *   status.c         `status`: ping every daemon, print health and queues
 *   status_ingress.c `status`: GET /healthz of ingressd
 */
#ifndef SEMBARK_CTL_H
#define SEMBARK_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "macro.h"
#include "util.h"

#ifndef SEMBARK_VERSION
#define SEMBARK_VERSION "0.1.0"
#endif

/* exit codes */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAILURE 1
#define CTL_EXIT_USAGE 2

#define CTL_ERR_MAX 1024

/* What every command gets from main. */
struct ctl_context {
	const char *config_path; /* --config, NULL = config_default_path() */
};

/* --- common.c ------------------------------------------------------- */

/* ctl_load_config - config_load with a message to stderr; 0 or -errno */
int ctl_load_config(const struct ctl_context *ctx, struct sembark_config *ret);
struct secret;
/* ctl_load_password - credential, else file; *ret NULL when neither is configured */
int ctl_load_password(const char *credential, const char *path, struct secret **ret);

/* --- owner_db.c ----------------------------------------------------- */

#define CTL_TIME_MAX UTIL_TIME_MAX /* "2026-12-30T05:00:00.123456Z" and its NUL */

/* ctl_owner_connect - load the config into *cfg and connect as the owner (UTC session) */
int ctl_owner_connect(const struct ctl_context *ctx, const char *cmd, struct sembark_config *cfg,
		      struct db **ret);
/* ctl_db_has - run a query of one boolean with one text parameter */
int ctl_db_has(struct db *db, const char *sql, const char *arg, bool *ret);
/* ctl_table_column - does public.<table> exist, and does it have column col? */
int ctl_table_column(struct db *db, const char *table, const char *col, bool *ret_table,
		     bool *ret_col);
/* ctl_parse_rfc3339 - an RFC 3339 timestamp as UTC microseconds; -EINVAL */
int ctl_parse_rfc3339(const char *s, int64_t *ret_us);
/* ctl_parse_since - RFC 3339, or "<n>s|m|h|d" meaning that long before now_us */
int ctl_parse_since(const char *s, int64_t now_us, int64_t *ret_us);
/* ctl_format_time - RFC 3339 UTC ("Z"), microseconds only when not zero */
void ctl_format_time(int64_t us, char buf[static CTL_TIME_MAX]);
/* ctl_now_us - the real clock, UTC microseconds */
int64_t ctl_now_us(void);
/* ctl_parse_count - a decimal integer in lo..hi, all of s; -EINVAL */
int ctl_parse_count(const char *s, long lo, long hi, long *ret);

/* --- retention.c, logs.c, audit.c ----------------------------------- */

/* ctl_retention - `sembarkctl retention [--now TIMESTAMP] [--dry-run]` */
int ctl_retention(const struct ctl_context *ctx, int argc, char **argv);
/* ctl_logs - `sembarkctl logs [--service S] [--level L] [--since T] [--limit N] [--follow]` */
int ctl_logs(const struct ctl_context *ctx, int argc, char **argv);
/* ctl_audit - `sembarkctl audit --team ID [--limit N]` */
int ctl_audit(const struct ctl_context *ctx, int argc, char **argv);

/* --- status.c, status_ingress.c ------------------------------------- */

struct event_base;
struct evhttp_connection;
struct ssl_ctx_st;

/* status's probe of ingressd: GET /healthz at [ingress] listen */
struct status_ingress {
	struct event_base *base;
	struct evhttp_connection *conn;
	struct ssl_ctx_st *ssl_ctx;   /* with TLS */
	size_t *waiting;              /* probes not yet done; the last ends the loop */
	bool tls;
	bool done;
	int http_status;              /* 0: no answer */
	char where[CONFIG_STR_MAX + 8]; /* "http://<listen>" */
};

/* status_ingress_start - GET /healthz within deadline_ms, counted done (*waiting) once,
 * also when it cannot be sent (then -errno) */
int status_ingress_start(struct status_ingress *p, struct event_base *base,
			 const struct sembark_config *cfg, int deadline_ms, size_t *waiting);
/* status_ingress_free - close the connection; accepts one never started */
void status_ingress_free(struct status_ingress *p);

/* ctl_status - `sembarkctl status`: every daemon's pong, 0 when all are healthy */
int ctl_status(const struct ctl_context *ctx, int argc, char **argv);

/* --- migrate.c ------------------------------------------------------ */

/* ctl_migrate - `sembarkctl migrate [--status] [--migrations DIR]` */
int ctl_migrate(const struct ctl_context *ctx, int argc, char **argv);

/* --- setup.c -------------------------------------------------------- */

/* ctl_setup - `sembarkctl setup [--admin-user NAME] [--migrations DIR]` */
int ctl_setup(const struct ctl_context *ctx, int argc, char **argv);

/* --- migrate_plan.c ------------------------------------------------- */

#define MIGRATION_VERSION_MAX 9999
#define MIGRATION_FILENAME_MAX 128     /* "NNNN_name.sql", NUL included */
#define MIGRATION_FILE_MAX (4 << 20)   /* bytes of SQL in one file */
#define MIGRATION_CHECKSUM_HEX 65      /* SHA-256 in hex, NUL included */

/* One NNNN_name.sql file of the migrations directory. */
struct migration {
	int version;
	char file[MIGRATION_FILENAME_MAX];  /* "0002_logs.sql" */
	char name[MIGRATION_FILENAME_MAX];  /* "logs" */
	char checksum[MIGRATION_CHECKSUM_HEX];
	char *sql;                          /* file content, NUL-terminated */
	size_t sql_len;
};

/* One row of schema_migrations. */
struct migration_applied {
	int version;
	char name[MIGRATION_FILENAME_MAX];
	char checksum[MIGRATION_CHECKSUM_HEX];
	char applied_at[64];
};

enum migration_state {
	MIGRATION_APPLIED,      /* file and row agree */
	MIGRATION_PENDING,      /* file, no row: will be applied */
	MIGRATION_CHANGED,      /* checksum differs from the applied one */
	MIGRATION_RENAMED,      /* same version applied under another name */
	MIGRATION_MISSING,      /* row, but no file */
	MIGRATION_OUT_OF_ORDER, /* file, no row, older than the schema version */
	_MIGRATION_STATE_MAX,
	_MIGRATION_STATE_INVALID = -1,
};

/* One version in the plan, from the file list and the applied rows. */
struct migration_step {
	int version;
	enum migration_state state;
	const struct migration *file;            /* NULL when MISSING */
	const struct migration_applied *applied; /* NULL unless applied */
};

struct migration_plan {
	struct migration_step *steps; /* by version, ascending */
	size_t n_steps;
	size_t n_pending;
	size_t n_bad;                 /* CHANGED, RENAMED, MISSING, OUT_OF_ORDER */
	int current_version;          /* highest applied, 0 = none */
	int target_version;           /* after applying the pending ones */
};

/* migration_parse_filename - "NNNN_name.sql" -> version and name; -EINVAL */
int migration_parse_filename(const char *file, int *ret_version, char *ret_name, size_t namelen);
/* migration_checksum - SHA-256 of buf in lower-case hex */
void migration_checksum(const void *buf, size_t len, char ret[static MIGRATION_CHECKSUM_HEX]);
/* migration_checksum_valid - 64 lower-case hex digits */
bool migration_checksum_valid(const char *s);
/* migrations_sort - order by version; -EINVAL naming two files of one version */
int migrations_sort(struct migration *v, size_t n, char *err, size_t errlen);
/* migration_plan_build - merge sorted files and sorted rows into *ret */
int migration_plan_build(const struct migration *files, size_t n_files,
			 const struct migration_applied *applied, size_t n_applied,
			 struct migration_plan *ret);
/* migration_plan_check - 0, or -EINVAL describing the first bad step */
int migration_plan_check(const struct migration_plan *plan, const char *dir, char *err,
			 size_t errlen);
void migration_plan_done(struct migration_plan *plan);
const char *migration_state_to_string(enum migration_state s);

/* --- migrate_files.c ------------------------------------------------ */

/* migrations_dir - --migrations, $SEMBARK_MIGRATIONS_DIR, next to the binary, or installed */
int migrations_dir(const char *option, char *ret, size_t size);
/* migrations_scan - read every NNNN_name.sql of dir, sorted; others are skipped */
int migrations_scan(const char *dir, struct migration **ret, size_t *ret_n, char *err,
		    size_t errlen);
/* migrations_free - free what migrations_scan returned; returns NULL */
struct migration *migrations_free(struct migration *v, size_t n);

#endif
