/*
 * db.c - one PostgreSQL connection of a daemon, through its own role
 * (see db.h). libpq, blocking calls bounded by connect_timeout and a
 * server-side statement_timeout. A lost connection is closed and reported
 * as -ENOTCONN; the next call re-opens it, at most once a second, so a
 * daemon rides out a PostgreSQL restart without hammering it.
 *
 * The password lives only in this struct's sodium_malloc'ed copy (and in
 * libpq's connection while it connects). It is never logged: connection
 * errors are cut to libpq's reason ("failed: <reason>"), which also keeps
 * host addresses out of the log. An outage is logged once at warning,
 * its end once at info; everything else is left to the caller.
 *
 * Partition upkeep (db_partitions_ensure/_drop) is here too: every daemon
 * and sembarkctl call their SECURITY DEFINER ensure/drop functions through
 * these two, and log or print what came back themselves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "db.h"
#include "log.h"
#include "util.h"

#define DB_RETRY_US (1000 * 1000) /* at most one connect attempt a second */
#define DB_ERROR_MAX 256
#define DB_NUM_MAX 32
#define DB_FN_MAX 128 /* a partition function's [schema.]name, NUL included */

struct db {
	PGconn *conn;
	char *password; /* sodium_malloc'ed, read-only; NULL: no password */
	int64_t next_try_us;
	bool outage_logged;
	char sqlstate[6];
	char error[DB_ERROR_MAX];

	char host[CONFIG_STR_MAX];
	char port[16];
	char dbname[CONFIG_STR_MAX];
	char user[CONFIG_STR_MAX];
	char sslmode[CONFIG_STR_MAX];
	char sslrootcert[CONFIG_STR_MAX];
	char connect_timeout[16];
	char tcp_user_timeout[16];
	char options[64];
	char appname[64];
};

static int s_copy(char *dst, size_t size, const char *src)
{
	int n = snprintf(dst, size, "%s", src ? src : "");

	return n < 0 || (size_t)n >= size ? -EINVAL : 0;
}

static int s_store_password(struct db *db, const char *password)
{
	size_t len;

	if (!password)
		return 0;
	len = strlen(password);
	db->password = sodium_malloc(len + 1);
	if (!db->password)
		return -ENOMEM;
	memcpy(db->password, password, len + 1);
	sodium_mprotect_readonly(db->password);
	return 0;
}

static int s_fill_params(struct db *db, const struct sembark_config *cfg, const char *service,
			 const char *user)
{
	int r = 0, n;

	r |= s_copy(db->host, sizeof(db->host), cfg->database.host);
	r |= s_copy(db->dbname, sizeof(db->dbname), cfg->database.name);
	r |= s_copy(db->user, sizeof(db->user), user);
	r |= s_copy(db->sslmode, sizeof(db->sslmode), cfg->database.sslmode);
	r |= s_copy(db->sslrootcert, sizeof(db->sslrootcert), cfg->database.sslrootcert);
	if (r)
		return -EINVAL;
	snprintf(db->port, sizeof(db->port), "%d", cfg->database.port);
	snprintf(db->connect_timeout, sizeof(db->connect_timeout), "%d",
		 cfg->database.connect_timeout);
	/* a dead TCP peer must not block a call much longer than a statement */
	snprintf(db->tcp_user_timeout, sizeof(db->tcp_user_timeout), "%d",
		 cfg->database.statement_timeout_ms + 5000);
	snprintf(db->options, sizeof(db->options), "-c statement_timeout=%d",
		 cfg->database.statement_timeout_ms);
	n = snprintf(db->appname, sizeof(db->appname), "sembark-%s", service);
	return n < 0 || (size_t)n >= sizeof(db->appname) ? -EINVAL : 0;
}

/* db_new - prepare (not yet open) a connection as user */
int db_new(const struct sembark_config *cfg, const char *service, const char *user,
	   const char *password, struct db **ret)
{
	_cleanup_(db_freep) struct db *db = NULL;
	int r;

	if (!cfg || !service || !user || !user[0] || !ret)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	r = s_fill_params(db, cfg, service, user);
	if (r < 0)
		return r;
	r = s_store_password(db, password);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(db);
	return 0;
}

static void s_close(struct db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
}

/* db_free - close and wipe; accepts NULL; returns NULL */
struct db *db_free(struct db *db)
{
	if (!db)
		return NULL;
	s_close(db);
	if (db->password)
		sodium_free(db->password);
	free(db);
	return NULL;
}

static void s_clear_error(struct db *db)
{
	db->sqlstate[0] = '\0';
	db->error[0] = '\0';
}

/* db_error_line - one line of a libpq message; of a connection error only
 * the reason after "failed: " (the part before may name a host address) */
void db_error_line(const char *msg, char *out, size_t size)
{
	const char *p = msg ? strstr(msg, "failed: ") : NULL;
	size_t n;

	if (!msg)
		msg = "unknown error";
	if (p)
		msg = p + strlen("failed: ");
	n = strcspn(msg, "\r\n");
	while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\t'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(out, msg, n);
	out[n] = '\0';
}

static void s_set_error(struct db *db, const char *msg)
{
	db_error_line(msg, db->error, sizeof(db->error));
}

static void s_outage(struct db *db, const char *what)
{
	if (db->outage_logged)
		return;
	db->outage_logged = true;
	log_warning(what, LOG_S("user", db->user), LOG_S("error", db->error));
}

/* db_on_notice - libpq's notice receiver for every sembark connection: debug only */
void db_on_notice(void *userdata, const PGresult *res)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	log_debug("database notice", LOG_S("notice", msg ? msg : ""));
}

/* db_conn_params - the connection's libpq keywords and values, NULL-terminated */
void db_conn_params(const struct db *db, const char *keys[static DB_PARAMS_MAX],
		    const char *vals[static DB_PARAMS_MAX])
{
	size_t n = 0;

#define KV(k, v)                            \
	do {                                \
		if ((v) && (v)[0]) {        \
			keys[n] = (k);      \
			vals[n] = (v);      \
			n++;                \
		}                           \
	} while (0)
	KV("host", db->host);
	KV("port", db->port);
	KV("dbname", db->dbname);
	KV("user", db->user);
	KV("password", db->password);
	KV("connect_timeout", db->connect_timeout);
	KV("tcp_user_timeout", db->tcp_user_timeout);
	KV("sslmode", db->sslmode);
	KV("sslrootcert", db->sslrootcert);
	KV("application_name", db->appname);
	KV("options", db->options);
	KV("client_encoding", "UTF8");
#undef KV
	keys[n] = NULL;
	vals[n] = NULL;
}

static PGconn *s_connectdb(struct db *db)
{
	const char *keys[DB_PARAMS_MAX], *vals[DB_PARAMS_MAX];

	db_conn_params(db, keys, vals);
	return PQconnectdbParams(keys, vals, 0);
}

static int s_connect(struct db *db)
{
	PGconn *conn = s_connectdb(db);

	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		s_set_error(db, conn ? PQerrorMessage(conn) : "out of memory");
		if (conn)
			PQfinish(conn);
		s_outage(db, "database connection failed");
		return -ENOTCONN;
	}
	PQsetNoticeReceiver(conn, db_on_notice, NULL);
	db->conn = conn;
	log_info(db->outage_logged ? "database connection restored" : "database connected",
		 LOG_S("user", db->user));
	db->outage_logged = false;
	return 0;
}

/* db_ensure - connect when not connected; 0 or -ENOTCONN */
int db_ensure(struct db *db)
{
	int64_t now;

	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	s_close(db);
	now = util_mono_us();
	if (now < db->next_try_us)
		return -ENOTCONN;
	db->next_try_us = now + DB_RETRY_US;
	s_clear_error(db);
	return s_connect(db);
}

/* db_is_up - connected, as far as libpq knows */
bool db_is_up(const struct db *db)
{
	return db && db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

static void s_set_sql_error(struct db *db, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	s_set_error(db, msg ? msg : PQerrorMessage(db->conn));
}

static int s_check_result(struct db *db, const PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		s_set_error(db, PQerrorMessage(db->conn));
		s_outage(db, "database connection lost");
		s_close(db);
		return -ENOTCONN;
	}
	if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
		/* not ours to finish: drop the connection, it is mid-COPY */
		s_set_error(db, "COPY is not supported by db_query");
		s_close(db);
		return -EIO;
	}
	s_set_sql_error(db, res);
	return -EIO;
}

/* db_query - run one parameterised statement */
int db_query(struct db *db, PGresult **ret, const char *sql, int nparams,
	     const char *const *params)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	if (!db || !sql || nparams < 0 || (nparams > 0 && !params))
		return -EINVAL;
	r = db_ensure(db);
	if (r < 0)
		return r;
	s_clear_error(db);
	res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	r = s_check_result(db, res);
	if (r < 0)
		return r;
	if (ret)
		*ret = TAKE_PTR(res);
	return 0;
}

/* db_exec - db_query without a result */
int db_exec(struct db *db, const char *sql, int nparams, const char *const *params)
{
	return db_query(db, NULL, sql, nparams, params);
}

/* db_ping - SELECT 1; a connection found dead is re-opened once at once */
int db_ping(struct db *db)
{
	bool was_up = db_is_up(db);
	int r;

	r = db_exec(db, "SELECT 1", 0, NULL);
	if (r == -ENOTCONN && was_up) {
		db->next_try_us = 0;
		r = db_exec(db, "SELECT 1", 0, NULL);
	}
	return r == -EIO ? -ENOTCONN : r;
}

/* db_last_sqlstate - SQLSTATE of the last SQL error, "" when none */
/* db_user - the role the connection is for (for logs) */
const char *db_user(const struct db *db)
{
	return db->user;
}

const char *db_last_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

/* db_last_error - one line about the last failure, "" when none */
const char *db_last_error(const struct db *db)
{
	return db->error;
}

/* s_sql_name - fn is [schema.]name of letters, digits and '_': safe to splice into SQL */
static bool s_sql_name(const char *fn)
{
	size_t n = fn ? strspn(fn, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") : 0;

	return n > 0 && n < DB_FN_MAX && fn[n] == '\0' && !(fn[0] >= '0' && fn[0] <= '9');
}

/* db_partitions_ensure - SELECT fn(from_day, days): how many daily partitions it made */
int db_partitions_ensure(struct db *db, const char *fn, const char *from_day, int days,
			 int64_t *ret_created)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	char sql[DB_FN_MAX + 64], ndays[DB_NUM_MAX];
	const char *params[2] = { from_day, ndays };
	int r;

	if (!s_sql_name(fn) || !from_day)
		return -EINVAL;
	snprintf(sql, sizeof(sql), DB_PARTITIONS_ENSURE_SQL("%s"), fn);
	snprintf(ndays, sizeof(ndays), "%d", days);
	r = db_query(db, &res, sql, 2, params);
	if (r < 0)
		return r;
	*ret_created = 0;
	(void)db_get_i64(res, 0, 0, ret_created);
	return 0;
}

/* db_partitions_drop - SELECT * FROM fn(cutoff - days days): the names dropped in *ret */
int db_partitions_drop(struct db *db, const char *fn, const char *cutoff, int days,
		       PGresult **ret)
{
	char sql[DB_FN_MAX + 96], ndays[DB_NUM_MAX];
	const char *params[2] = { cutoff, ndays };

	if (!s_sql_name(fn))
		return -EINVAL;
	snprintf(sql, sizeof(sql), DB_PARTITIONS_DROP_SQL("%s"), fn);
	snprintf(ndays, sizeof(ndays), "%d", days);
	return db_query(db, ret, sql, 2, params);
}

/* db_conn - the open connection (for COPY), NULL when down */
PGconn *db_conn(struct db *db)
{
	return db_is_up(db) ? db->conn : NULL;
}

static int s_cell(const PGresult *r, int row, int col, const char **ret, size_t *ret_len)
{
	if (!r || row < 0 || col < 0 || row >= PQntuples(r) || col >= PQnfields(r))
		return -ERANGE;
	if (PQgetisnull(r, row, col))
		return -ENODATA;
	*ret = PQgetvalue(r, row, col);
	*ret_len = (size_t)PQgetlength(r, row, col);
	return 0;
}

/* db_get_text - copy one text cell into buf */
int db_get_text(const PGresult *r, int row, int col, char *buf, size_t size)
{
	const char *v;
	size_t len;
	int k;

	k = s_cell(r, row, col, &v, &len);
	if (k < 0)
		return k;
	if (!buf || size == 0 || len > size - 1)
		return -E2BIG;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return 0;
}

/* s_get_word - a cell that must fit buf (a number, a boolean): longer is -EBADMSG */
static int s_get_word(const PGresult *r, int row, int col, char *buf, size_t size)
{
	int k = db_get_text(r, row, col, buf, size);

	return k == -E2BIG ? -EBADMSG : k;
}

/* db_get_i64 - one integer cell */
int db_get_i64(const PGresult *r, int row, int col, int64_t *ret)
{
	char buf[DB_NUM_MAX], *end;
	long long v;
	int k;

	k = s_get_word(r, row, col, buf, sizeof(buf));
	if (k < 0)
		return k;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\0')
		return -EBADMSG;
	*ret = (int64_t)v;
	return 0;
}

/* db_get_bool - one boolean cell ("t" / "f") */
int db_get_bool(const PGresult *r, int row, int col, bool *ret)
{
	char buf[4];
	int k;

	k = s_get_word(r, row, col, buf, sizeof(buf));
	if (k < 0)
		return k;
	if (strcmp(buf, "t") != 0 && strcmp(buf, "f") != 0)
		return -EBADMSG;
	*ret = buf[0] == 't';
	return 0;
}
