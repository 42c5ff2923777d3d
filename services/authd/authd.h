/*
 * authd.h - sembark-authd's private state and prototypes, grouped by the
 * file that defines them. authd owns teams, users, invites and sessions;
 * it answers ingressd over a ROUTER and talks to PostgreSQL as the role
 * sembark_authd.
 */
#ifndef SEMBARK_AUTHD_H
#define SEMBARK_AUTHD_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"
#include "db.h"
#include "rpc.h"

struct authd {
	struct daemon d;
	struct db *db;          /* role sembark_authd, opened lazily */
	struct rpc_server *rpc; /* ROUTER on [ipc] authd */
	bool accepting;         /* false once stopping: new requests are refused */
};

/* ipc.c */
int authd_ipc_open(struct authd *a);
void authd_ipc_stop(struct authd *a);
size_t authd_ipc_inflight(const struct authd *a);
void authd_ipc_close(struct authd *a);

#endif
