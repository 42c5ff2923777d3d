/*
 * backend.h - what the three database daemons (authd, telemetryd, logd)
 * share: opening their own role's connection with its password from a
 * credential or file, and answering "ping" with a "pong".
 */
#ifndef SEMBARK_BACKEND_H
#define SEMBARK_BACKEND_H

#include <stdint.h>

#include "daemon.h"
#include "db.h"
#include "rpc.h"

/* Fixed database role names (migrations create them). */
#define BACKEND_ROLE_AUTHD "sembark_authd"
#define BACKEND_ROLE_TELEMETRYD "sembark_telemetryd"
#define BACKEND_ROLE_LOGD "sembark_logd"

/*
 * backend_open_db - load the password (credential `credential`, else the
 * file `password_file`; none at all is fine only when password_file is
 * "") and prepare the connection as role_user. Tries to connect once, but
 * a database that is down is not an error: db_query/db_ping reconnect.
 * Logs its own failure; returns 0 or negative errno.
 */
int backend_open_db(struct daemon *d, const char *role_user, const char *credential,
		    const char *password_file, struct db **ret);

/*
 * backend_answer_ping - reply pong{service, database = db_ping() == 0,
 * pid, uptime_s} (started_us from mono_us()); frees req.
 */
void backend_answer_ping(struct rpc_request *req, const char *service, struct db *db,
			 int64_t started_us);

/*
 * backend_handle_ping - decode a ping frame (strict) and answer it, or
 * answer "bad_message"; frees req.
 */
void backend_handle_ping(struct rpc_request *req, const void *buf, size_t len,
			 const char *service, struct db *db, int64_t started_us);

#endif
