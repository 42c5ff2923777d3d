/*
 * telemetryd.h - sembark-telemetryd's private state and prototypes, grouped by the
 * file that defines them. telemetryd owns telemetry events; it answers ingressd over
 * a ROUTER (shared/backend.c) and talks to PostgreSQL as the role
 * sembark_telemetryd.
 */
#ifndef SEMBARK_TELEMETRYD_H
#define SEMBARK_TELEMETRYD_H

#include "backend.h"

struct telemetryd {
	struct backend b; /* first: handlers get &telemetryd.b */
};

/* ipc.c */
extern const backend_handler_fn telemetryd_handlers[_IPC_MSG_MAX];

#endif
