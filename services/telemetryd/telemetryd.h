/*
 * telemetryd.h - sembark-telemetryd's private state and prototypes,
 * grouped by the file that defines them. telemetryd validates telemetry
 * batches from ingressd (ROUTER) and stores them in PostgreSQL as the
 * role sembark_telemetryd; a batch is acknowledged only after its commit.
 */
#ifndef SEMBARK_TELEMETRYD_H
#define SEMBARK_TELEMETRYD_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"
#include "db.h"
#include "rpc.h"

struct telemetryd {
	struct daemon d;
	struct db *db;          /* role sembark_telemetryd, opened lazily */
	struct rpc_server *rpc; /* ROUTER on [ipc] telemetryd */
	bool accepting;         /* false once stopping: new requests are refused */
};

/* ipc.c */
int telemetryd_ipc_open(struct telemetryd *a);
void telemetryd_ipc_stop(struct telemetryd *a);
size_t telemetryd_ipc_inflight(const struct telemetryd *a);
void telemetryd_ipc_close(struct telemetryd *a);

#endif
